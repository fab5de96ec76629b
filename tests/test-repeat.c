/*
 * test-repeat.c: the arithmetic of repeated runs against values worked
 * out independently (Wilson intervals as tabulated in Newcombe 1998 and
 * recomputed with Python's math module; quantiles as numpy.percentile
 * gives them), the grouping of runs into per-case summaries, and the
 * exit status --bisect hands to `git bisect run`.
 */
#include <math.h>
#include "repeat.h"

#define EPS 1e-4

static void check_wilson(guint k, guint n, double low, double high)
{
    double lo, hi;

    repeat_wilson95(k, n, &lo, &hi);
    g_test_message("%u/%u: [%.6f, %.6f]", k, n, lo, hi);
    g_assert_cmpfloat_with_epsilon(lo, low, EPS);
    g_assert_cmpfloat_with_epsilon(hi, high, EPS);
}

static void test_wilson(void)
{
    check_wilson(0, 20, 0.0, 0.161125);        /* no failure in 20: up to 16% */
    check_wilson(3, 20, 0.052369, 0.360419);
    check_wilson(10, 20, 0.299298, 0.700702);
    check_wilson(20, 20, 0.838875, 1.0);
    check_wilson(1, 5, 0.036224, 0.624465);
    check_wilson(1, 1, 0.206549, 1.0);
    check_wilson(0, 0, 0.0, 1.0);              /* nothing known */
}

static void test_quantile(void)
{
    const double a[] = { 1, 2, 3, 4 };
    const double b[] = { 15, 20, 35, 40, 50 };
    const double one[] = { 7 };

    g_assert_cmpfloat_with_epsilon(repeat_quantile(a, 4, 0.5), 2.5, EPS);
    g_assert_cmpfloat_with_epsilon(repeat_quantile(a, 4, 0.95), 3.85, EPS);
    g_assert_cmpfloat_with_epsilon(repeat_quantile(b, 5, 0.5), 35, EPS);
    g_assert_cmpfloat_with_epsilon(repeat_quantile(b, 5, 0.95), 48, EPS);
    g_assert_cmpfloat_with_epsilon(repeat_quantile(b, 5, 1.0), 50, EPS);
    g_assert_cmpfloat_with_epsilon(repeat_quantile(b, 5, 0.0), 15, EPS);
    g_assert_cmpfloat_with_epsilon(repeat_quantile(one, 1, 0.95), 7, EPS);
}

static void test_dist_unsorted(void)
{
    const gint64 v[] = { 50, 15, 40, 20, 35 };
    RepeatDist d;

    repeat_dist(v, 5, &d);
    g_assert_cmpuint(d.n, ==, 5);
    g_assert_cmpfloat_with_epsilon(d.p50, 35, EPS);
    g_assert_cmpfloat_with_epsilon(d.p95, 48, EPS);
    g_assert_cmpfloat_with_epsilon(d.max, 50, EPS);
    repeat_dist(v, 0, &d);
    g_assert_cmpuint(d.n, ==, 0);
    g_assert_cmpfloat(d.max, ==, 0);
}

static CaseResult *fake_result(const char *name, Outcome o, gint64 down, gint64 obs)
{
    CaseResult *r = g_new0(CaseResult, 1);

    r->name = g_strdup(name);
    r->outcome = o;
    r->wall_ms = 1000;
    r->mig.downtime_ms = down;
    r->mig.final_status = g_strdup(down >= 0 ? "completed" : "failed");
    r->observed_downtime_ms = obs;
    return r;
}

static void test_summarize(void)
{
    g_autoptr(GPtrArray) rs = g_ptr_array_new_with_free_func((GDestroyNotify)case_result_free);
    g_autoptr(GPtrArray) sums = NULL;
    const RepeatSummary *a, *b;

    /* Interleaved as --repeat runs them: every case, then again. */
    for (int k = 0; k < 4; k++) {
        g_ptr_array_add(rs, fake_result("/a", k == 2 ? OUTCOME_FAIL : OUTCOME_PASS,
                                        10 * (k + 1), k == 3 ? -1 : 100 + k));
        g_ptr_array_add(rs, fake_result("/b", k == 0 ? OUTCOME_SKIP : OUTCOME_ERROR, -1, -1));
    }
    sums = repeat_summarize(rs);
    g_assert_cmpuint(sums->len, ==, 2);
    a = sums->pdata[0];
    b = sums->pdata[1];
    g_assert_cmpstr(a->name, ==, "/a");
    g_assert_cmpuint(a->runs, ==, 4);
    g_assert_cmpuint(a->pass, ==, 3);
    g_assert_cmpuint(a->fail, ==, 1);
    g_assert_cmpint(a->first_fail_run, ==, 3);
    g_assert_cmpfloat_with_epsilon(a->fail_rate, 0.25, EPS);
    g_assert_cmpfloat_with_epsilon(a->fail_high, 0.699358, EPS);    /* 1/4, Wilson */
    g_assert_cmpuint(a->downtime.n, ==, 4);             /* 10 20 30 40 */
    g_assert_cmpfloat_with_epsilon(a->downtime.p50, 25, EPS);
    g_assert_cmpfloat_with_epsilon(a->downtime.p95, 38.5, EPS);
    g_assert_cmpuint(a->observed.n, ==, 3);             /* 100 101 102 */
    g_assert_cmpfloat_with_epsilon(a->observed.max, 102, EPS);
    g_assert_cmpint(a->wall_ms, ==, 4000);
    g_assert_cmpstr(b->name, ==, "/b");
    g_assert_cmpuint(b->skip, ==, 1);
    g_assert_cmpuint(b->error, ==, 3);
    g_assert_cmpuint(b->downtime.n, ==, 0);
    g_assert_cmpfloat(b->fail_rate, ==, 0.0);
    g_assert_cmpfloat(b->fail_high, ==, 1.0);           /* no verdict: [0, 1] */
}

static int bisect_of(const Outcome *o, guint n)
{
    g_autoptr(GPtrArray) rs = g_ptr_array_new_with_free_func((GDestroyNotify)case_result_free);

    for (guint i = 0; i < n; i++)
        g_ptr_array_add(rs, fake_result("/c", o[i], 1, 1));
    return repeat_bisect_status(rs);
}

static void test_bisect_status(void)
{
    const Outcome pass[] = { OUTCOME_PASS, OUTCOME_SKIP };
    const Outcome fail[] = { OUTCOME_PASS, OUTCOME_FAIL, OUTCOME_ERROR };
    const Outcome skipped[] = { OUTCOME_SKIP, OUTCOME_SKIP };
    const Outcome errored[] = { OUTCOME_SKIP, OUTCOME_ERROR };
    const Outcome pass_error[] = { OUTCOME_PASS, OUTCOME_ERROR };

    g_assert_cmpint(bisect_of(pass, 2), ==, 0);
    g_assert_cmpint(bisect_of(fail, 3), ==, 1);
    g_assert_cmpint(bisect_of(skipped, 2), ==, 125);
    g_assert_cmpint(bisect_of(errored, 2), ==, 125);
    g_assert_cmpint(bisect_of(pass_error, 2), ==, 125);
    g_assert_cmpint(bisect_of(NULL, 0), ==, 125);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/repeat/wilson95", test_wilson);
    g_test_add_func("/repeat/quantile", test_quantile);
    g_test_add_func("/repeat/dist-unsorted", test_dist_unsorted);
    g_test_add_func("/repeat/summarize", test_summarize);
    g_test_add_func("/repeat/bisect-status", test_bisect_status);
    return g_test_run();
}
