/*
 * report-repeat.h: the summaries of repeated runs (src/repeat.h) in the
 * text table, the JSON report ("repeat" array) and JUnit (one testcase
 * per case, its properties the summary, a failure if any run failed).
 */
#ifndef MIGTEST_REPORT_REPEAT_H
#define MIGTEST_REPORT_REPEAT_H

#include <stdio.h>
#include <json-glib/json-glib.h>
#include "repeat.h"

/* @summaries: RepeatSummary *. */
void report_repeat_table(FILE *out, GPtrArray *summaries);
/* Adds the member "repeat": [ {...}, ... ] to the object being built. */
void report_repeat_json(JsonBuilder *b, GPtrArray *summaries);
/* Appends one <testcase> per summary. */
void report_repeat_junit(GString *x, GPtrArray *summaries);

/* --ping-pong: one line for the table ("ping-pong: 200 of 200 hops
 * verified, downtime p50/p95/max ..."), and the member "ping_pong" of a
 * case's JSON object (null without --ping-pong). */
void report_ping_pong_line(FILE *out, const CaseResult *r);
void report_ping_pong_json(JsonBuilder *b, const CaseResult *r);

#endif
