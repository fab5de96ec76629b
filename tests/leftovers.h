/*
 * leftovers.h: what a test run can leave behind, counted so tests can
 * assert there is nothing: child processes of a given parent, and
 * entries in a directory (a private MIGTEST_RUN_BASE); and the private
 * directories a test runs migtest in.
 */
#ifndef MIGTEST_TEST_LEFTOVERS_H
#define MIGTEST_TEST_LEFTOVERS_H

#include <glib.h>

/* Live children of @parent whose command line contains @needle (NULL:
 * any); *@first (may be NULL) gets one of their pids, or 0. */
guint leftovers_children(GPid parent, const char *needle, GPid *first);

/* Entries in @dir (0 if it does not exist). */
guint leftovers_entries(const char *dir);

/* A test's own results directory (under TMPDIR) and MIGTEST_RUN_BASE (on
 * tmpfs, as postcopy needs), set in the environment for the test and its
 * children, so that no other run on the machine can move its counts. */
typedef struct {
    char *results;
    char *run_base;
} PrivateRun;

/* @tag names both directories ("migtest-<tag>-XXXXXX"). */
void private_run_begin(PrivateRun *p, const char *tag);
/* Assert nothing was left behind (no child process of ours, no entry in
 * the run base), then remove both directories and unset the variable. */
void private_run_end(PrivateRun *p);

/* The two as GTest fixture functions, for tests whose fixture is a
 * PrivateRun: g_test_add(path, PrivateRun, data, private_run_setup, fn,
 * private_run_teardown).  The tag is the test program's name. */
void private_run_setup(PrivateRun *p, gconstpointer unused);
void private_run_teardown(PrivateRun *p, gconstpointer unused);

#endif
