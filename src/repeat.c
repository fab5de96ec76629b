/* repeat.c: summaries of repeated runs (see repeat.h). */
#include "repeat.h"

#include <math.h>
#include <stdlib.h>

/* The two-sided 95% point of the standard normal distribution. */
#define Z95 1.959963984540054

void repeat_wilson95(guint k, guint n, double *low, double *high)
{
    double p, z2n, denom, center, half;

    if (n == 0) {
        *low = 0.0;
        *high = 1.0;
        return;
    }
    p = (double)k / n;
    z2n = Z95 * Z95 / n;
    denom = 1.0 + z2n;
    center = (p + z2n / 2.0) / denom;
    half = Z95 / denom * sqrt(p * (1.0 - p) / n + z2n / (4.0 * n));
    /* At k == 0 or k == n the bound is exactly 0 or 1: no rounding off it. */
    *low = k == 0 ? 0.0 : MAX(0.0, center - half);
    *high = k == n ? 1.0 : MIN(1.0, center + half);
}

double repeat_quantile(const double *sorted, guint n, double p)
{
    double h = (n - 1) * p;
    guint lo = (guint)floor(h);

    g_return_val_if_fail(n > 0, 0.0);
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

void repeat_dist(const gint64 *values, guint n, RepeatDist *out)
{
    g_autofree double *v = g_new(double, MAX(n, 1));

    *out = (RepeatDist){ .n = n };
    if (n == 0)
        return;
    for (guint i = 0; i < n; i++)
        v[i] = (double)values[i];
    qsort(v, n, sizeof(*v), cmp_double);
    out->p50 = repeat_quantile(v, n, 0.50);
    out->p95 = repeat_quantile(v, n, 0.95);
    out->max = v[n - 1];
}

void repeat_summary_free(RepeatSummary *s)
{
    if (!s)
        return;
    g_free(s->name);
    g_free(s);
}

/* Fold the runs of one case (@runs: CaseResult *) into a summary. */
static RepeatSummary *summarize_case(const char *name, GPtrArray *runs)
{
    RepeatSummary *s = g_new0(RepeatSummary, 1);
    g_autoptr(GArray) down = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GArray) obs = g_array_new(FALSE, FALSE, sizeof(gint64));

    s->name = g_strdup(name);
    for (guint i = 0; i < runs->len; i++) {
        const CaseResult *r = runs->pdata[i];
        guint *count[] = {
            [OUTCOME_PASS] = &s->pass, [OUTCOME_FAIL] = &s->fail,
            [OUTCOME_SKIP] = &s->skip, [OUTCOME_ERROR] = &s->error,
        };

        s->runs++;
        (*count[r->outcome])++;
        if (r->outcome == OUTCOME_FAIL && !s->first_fail_run)
            s->first_fail_run = (int)s->runs;
        s->wall_ms += r->wall_ms;
        if (g_strcmp0(r->mig.final_status, "completed") == 0)
            g_array_append_val(down, r->mig.downtime_ms);
        if (r->observed_downtime_ms >= 0)
            g_array_append_val(obs, r->observed_downtime_ms);
    }
    s->fail_rate = s->pass + s->fail ? (double)s->fail / (s->pass + s->fail) : 0.0;
    repeat_wilson95(s->fail, s->pass + s->fail, &s->fail_low, &s->fail_high);
    repeat_dist((const gint64 *)down->data, down->len, &s->downtime);
    repeat_dist((const gint64 *)obs->data, obs->len, &s->observed);
    return s;
}

GPtrArray *repeat_summarize(GPtrArray *results)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)repeat_summary_free);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autoptr(GHashTable) by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                          (GDestroyNotify)g_ptr_array_unref);

    for (guint i = 0; i < results->len; i++) {
        CaseResult *r = results->pdata[i];
        GPtrArray *runs = g_hash_table_lookup(by_name, r->name);

        if (!runs) {
            runs = g_ptr_array_new();
            g_hash_table_insert(by_name, r->name, runs);
            g_ptr_array_add(names, r->name);
        }
        g_ptr_array_add(runs, r);
    }
    for (guint i = 0; i < names->len; i++)
        g_ptr_array_add(out, summarize_case(names->pdata[i],
                                            g_hash_table_lookup(by_name, names->pdata[i])));
    return out;
}

int repeat_bisect_status(GPtrArray *results)
{
    guint n[4] = { 0 };

    for (guint i = 0; i < results->len; i++)
        n[((CaseResult *)results->pdata[i])->outcome]++;
    if (n[OUTCOME_FAIL])
        return 1;
    /* An error means migtest could not tell for that case: a revision
     * with any is not known good. */
    if (n[OUTCOME_PASS] && !n[OUTCOME_ERROR])
        return 0;
    return 125;
}
