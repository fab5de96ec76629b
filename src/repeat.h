/*
 * repeat.h: the arithmetic of repeated runs (--repeat, --until-fail).
 * A case run N times becomes one summary: how many runs passed, failed,
 * errored or were skipped; the failure rate with its 95% Wilson score
 * interval (an honest interval for small N and for 0 or N failures,
 * where the normal approximation gives nonsense); the 50th and 95th
 * percentiles and the maximum of QEMU's downtime and of the downtime the
 * guest observed; and the wall time of all runs together.
 */
#ifndef MIGTEST_REPEAT_H
#define MIGTEST_REPEAT_H

#include <glib.h>
#include "runner.h"

/* The 95% Wilson score interval of @k successes in @n trials, as
 * fractions in [0, 1]; n == 0 gives [0, 1] (nothing is known). */
void repeat_wilson95(guint k, guint n, double *low, double *high);

/* The @p-th quantile (0..1) of @n values sorted ascending, interpolated
 * linearly between the two nearest ranks (Hyndman & Fan type 7, the
 * default of R and numpy).  n must be > 0. */
double repeat_quantile(const double *sorted, guint n, double p);

/* A distribution of one figure over the runs that measured it. */
typedef struct {
    guint n;                    /* runs that measured it (0: the rest is 0) */
    double p50, p95, max;
} RepeatDist;

/* Summary statistics of @n values (any order; not modified). */
void repeat_dist(const gint64 *values, guint n, RepeatDist *out);

typedef struct {
    char *name;
    guint runs, pass, fail, skip, error;
    /* fail / (pass + fail): skips and errors say nothing about QEMU. */
    double fail_rate, fail_low, fail_high;
    RepeatDist downtime;        /* QEMU's, over completed migrations */
    RepeatDist observed;        /* the guest's, where measured */
    gint64 wall_ms;             /* all runs of the case together */
    int first_fail_run;         /* 1-based index of the first failing run, or 0 */
} RepeatSummary;

void repeat_summary_free(RepeatSummary *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RepeatSummary, repeat_summary_free)

/* One summary per case name in @results (CaseResult *, runs of a case in
 * the order they ran), in order of the cases' first appearance.  Returns
 * a new array of RepeatSummary *, freeing them with it. */
GPtrArray *repeat_summarize(GPtrArray *results);

/* Exit status for `git bisect run` (docs/bisect.md): 1 if any run failed
 * (QEMU is bad here), 0 if runs passed and none failed or errored, and
 * 125 (cannot tell: skip this revision) otherwise, that is when every
 * case was skipped or migtest itself errored. */
int repeat_bisect_status(GPtrArray *results);

#endif
