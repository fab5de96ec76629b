/*
 * leftovers.h: what a test run can leave behind, counted so tests can
 * assert there is nothing: child processes of a given parent, and
 * entries in a directory (a private MIGTEST_RUN_BASE).
 */
#ifndef MIGTEST_TEST_LEFTOVERS_H
#define MIGTEST_TEST_LEFTOVERS_H

#include <glib.h>

/* Live children of @parent whose command line contains @needle (NULL:
 * any); *@first (may be NULL) gets one of their pids, or 0. */
guint leftovers_children(GPid parent, const char *needle, GPid *first);

/* Entries in @dir (0 if it does not exist). */
guint leftovers_entries(const char *dir);

#endif
