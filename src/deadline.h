/*
 * deadline.h: absolute deadlines on the monotonic clock.  Every wait in
 * migtest takes one, so nothing can block forever; a deadline is computed
 * once by whoever owns the overall budget and passed down unchanged.
 */
#ifndef MIGTEST_DEADLINE_H
#define MIGTEST_DEADLINE_H

#include <glib.h>

typedef gint64 Deadline;        /* g_get_monotonic_time() microseconds */

static inline Deadline deadline_in_ms(gint64 ms)
{
    return g_get_monotonic_time() + ms * 1000;
}

/* Milliseconds left, rounded up, never negative: fits poll()'s timeout. */
static inline int deadline_remaining_ms(Deadline d)
{
    gint64 left = d - g_get_monotonic_time();

    if (left <= 0)
        return 0;
    return (int)MIN((left + 999) / 1000, (gint64)G_MAXINT);
}

static inline gboolean deadline_expired(Deadline d)
{
    return g_get_monotonic_time() >= d;
}

static inline Deadline deadline_min(Deadline a, Deadline b)
{
    return a < b ? a : b;
}

#endif
