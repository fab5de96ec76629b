/*
 * bench-sampling.c: does sampling query-migrate every 50 ms (the series
 * the HTML report draws) slow the migration it watches?
 *
 * Method: the case /x86_64/precopy/tcp under TCG (150 MiB guest), run
 * RUNS times with sampling and RUNS times without (RunOptions.no_sampling:
 * only the MIGRATION events are waited for), interleaved on/off so that
 * host load drifts hit both alike.  For each mode: median, min and max of
 * QEMU's total-time and downtime and of the case's wall time, and the
 * samples kept; then the ratio of the medians (on/off).  Never a test.
 * Usage: bench-sampling [RUNS] (default 7).
 */
#include <stdio.h>
#include <stdlib.h>
#include <glib/gstdio.h>
#include "runner.h"

#define CASE "/x86_64/precopy/tcp"

static int cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return (x > y) - (x < y);
}

static gint64 summarize(const char *what, gint64 *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_i64);
    printf("  %-18s median %7" G_GINT64_FORMAT "  min %7" G_GINT64_FORMAT "  max %7"
           G_GINT64_FORMAT "\n", what, v[n / 2], v[0], v[n - 1]);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    const ArchDesc *archs[] = { arch_lookup("x86_64"), NULL };
    g_autoptr(GPtrArray) cases = cases_select(archs, CASE);
    g_autofree gint64 *total = g_new0(gint64, 2 * runs);
    g_autofree gint64 *down = g_new0(gint64, 2 * runs);
    g_autofree gint64 *wall = g_new0(gint64, 2 * runs);
    g_autofree gint64 *samples = g_new0(gint64, 2 * runs);
    g_autofree char *results = g_dir_make_tmp("migtest-bench-XXXXXX", NULL);
    gint64 med[2][3];

    g_assert(cases->len == 1 && runs > 0);
    for (int i = 0; i < 2 * runs; i++) {
        int off = i % 2;        /* on, off, on, off, ... */
        RunOptions opts = {
            .accel = "tcg", .mem_bytes = MT_DEFAULT_MEM_MIB << 20, .results_dir = results,
            .timeout_ms = 120000, .no_sampling = off,
        };
        g_autoptr(CaseResult) r = runner_run_case(cases->pdata[0], &opts);
        int k = off * runs + i / 2;

        if (r->outcome != OUTCOME_PASS) {
            fprintf(stderr, "bench-sampling: %s %s: %s\n", r->name, outcome_name(r->outcome),
                    r->reason);
            return 1;
        }
        total[k] = r->mig.total_ms;
        down[k] = r->mig.downtime_ms;
        wall[k] = r->wall_ms;
        samples[k] = r->mig.samples->len;
    }
    printf("%s under TCG, %d runs each, interleaved (ms; samples: query-migrate replies kept)\n",
           CASE, runs);
    for (int off = 0; off < 2; off++) {
        printf("%s\n", off ? "without sampling (events only)" : "with sampling every 50 ms");
        med[off][0] = summarize("QEMU total-time", total + off * runs, runs);
        med[off][1] = summarize("QEMU downtime", down + off * runs, runs);
        med[off][2] = summarize("case wall time", wall + off * runs, runs);
        summarize("samples", samples + off * runs, runs);
    }
    printf("ratio with/without (medians): total-time %.3f, downtime %.3f, wall %.3f\n",
           (double)med[0][0] / med[1][0], (double)med[0][1] / med[1][1],
           (double)med[0][2] / med[1][2]);
    g_rmdir(results);
    return 0;
}
