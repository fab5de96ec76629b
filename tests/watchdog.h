/*
 * watchdog.h: a per-test alarm for the unit tests, so a test that hangs
 * (a wait whose deadline is broken) bails out with a TAP "Bail out!"
 * instead of holding the whole suite until meson's timeout.
 */
#ifndef MIGTEST_TEST_WATCHDOG_H
#define MIGTEST_TEST_WATCHDOG_H

#include <glib.h>

/* Seconds one test may run: every wait in them is far shorter. */
#define WATCHDOG_S 20

/* Install the SIGALRM handler; call once from main(). */
void watchdog_install(void);

/* A GTestDataFunc: run the GTestFunc that @data points to under the alarm.
 * Register with g_test_add_data_func(path, &func, watchdog_run). */
void watchdog_run(gconstpointer data);

#endif
