/*
 * logwait.h: wait, with a deadline, until a log file migtest writes (a QMP
 * transcript, a serial stream) contains a string: how the CLI tests know
 * a run has reached the point where they act on it (send a signal, kill a
 * QEMU).  A file gives no event, so it is polled.
 */
#ifndef MIGTEST_TEST_LOGWAIT_H
#define MIGTEST_TEST_LOGWAIT_H

#include <glib.h>

/* TRUE once @path contains @needle; FALSE after @timeout_ms. */
gboolean logwait_for_text(const char *path, const char *needle, gint64 timeout_ms);

#endif
