/*
 * report.h: case results as a text table, JSON (--json) and JUnit XML
 * (--junit).  The same case names and figures appear in all three.
 */
#ifndef MIGTEST_REPORT_H
#define MIGTEST_REPORT_H

#include <stdio.h>
#include <json-glib/json-glib.h>
#include "runner.h"

void report_table_header(FILE *out);
/* @verbose: also say what each case observed of its feature. */
void report_table_row(FILE *out, const CaseResult *r, gboolean verbose);
void report_summary(FILE *out, GPtrArray *results);

/* Host facts that go into the JSON report. */
typedef struct {
    const char *host_arch;
    const char *kernel;
    const char *midr;           /* aarch64 hosts: MIDR_EL1 of CPU 0, else NULL */
} ReportHost;

/* The JSON report as a new tree (json_node_unref): what --json writes
 * and what --html embeds.  @results holds CaseResult; @pending holds the
 * names (char *) of cases not run because the run was interrupted: they
 * are reported as errors.
 * @repeat (RepeatSummary *, or NULL) summarizes repeated runs: JSON adds
 * it as "repeat", JUnit then has one testcase per case instead of per run. */
JsonNode *report_json_new(GPtrArray *results, GPtrArray *pending, const ReportHost *host,
                          GPtrArray *repeat);
/* @path "-" is standard output. */
gboolean report_write_json(const char *path, JsonNode *root, GError **error);
gboolean report_write_junit(const char *path, GPtrArray *results,
                            GPtrArray *pending, GPtrArray *repeat, GError **error);

#endif
