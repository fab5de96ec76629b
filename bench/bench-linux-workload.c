/*
 * bench-linux-workload: the linux payload's workload (guest/linux/
 * workload.c) run natively on this host, no VM: what a pass costs in CPU
 * and kernel work (madvise, page faults) with each option, the floor a
 * KVM guest approaches.  Method: 64 MiB buffer, 16 hot pages, step 64 as
 * /init's defaults; per configuration 5 runs of 200 passes after 20 of
 * warm-up, configurations alternating; prints median (min-max) ms per
 * pass and the ratio to the baseline.
 *
 *   ninja -C build bench-linux-workload
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <glib.h>
#include "workload.h"

#define BUF_PAGES   (64 * 256)
#define HOT_PAGES   16
#define RUNS        5
#define PASSES      200
#define WARMUP      20

typedef struct {
    const char *name;
    guint zero_every, zero_pages, zero_method, hot_op;
} Config;

static void on_report(Worker *w, uint64_t va, uint64_t expected, uint64_t found)
{
    (void)w;
    g_error("unexpected report at 0x%" G_GINT64_MODIFIER "x: expected 0x%" G_GINT64_MODIFIER
            "x found 0x%" G_GINT64_MODIFIER "x", va, expected, found);
}

static void on_tick(Worker *w)
{
    (void)w;
}

static void on_fatal(Worker *w, const char *why, int err)
{
    (void)w;
    g_error("%s: %s", why, g_strerror(err));
}

static const WorkerOps ops = { on_report, on_tick, on_fatal };

static double run_config(const Config *c)
{
    gsize zero = c->zero_every ? 2 * (gsize)c->zero_pages : 0;
    gsize bytes = (BUF_PAGES + HOT_PAGES + zero) * MT_PAGE_SIZE;
    guint8 *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    Worker w;
    gint64 t0;

    g_assert_true(m != MAP_FAILED);
    w = (Worker){
        .buf = (volatile uint64_t *)m, .npages = BUF_PAGES,
        .hot = (volatile uint64_t *)(m + BUF_PAGES * MT_PAGE_SIZE), .nhot = HOT_PAGES,
        .zero = (volatile uint64_t *)(m + (BUF_PAGES + HOT_PAGES) * MT_PAGE_SIZE),
        .zero_every = c->zero_every, .zero_pages = c->zero_pages, .zero_slots = 2,
        .zero_method = c->zero_method, .hot_op = c->hot_op, .step = 64,
        .gen = 1, .hot_gen = 1, .ops = &ops,
    };
    for (guint i = 0; i < WARMUP; i++)
        wl_pass(&w);
    t0 = g_get_monotonic_time();
    for (guint i = 0; i < PASSES; i++)
        wl_pass(&w);
    t0 = g_get_monotonic_time() - t0;
    munmap(m, bytes);
    return t0 / 1000.0 / PASSES;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int main(void)
{
    static const Config configs[] = {
        { "baseline", 0, 0, 0, WL_HOT_PLAIN },
        { "zero runs E=2 R=1024 alternate", 2, 1024, WL_ZERO_ALTERNATE, WL_HOT_PLAIN },
        { "zero runs E=2 R=1024 madvise", 2, 1024, WL_ZERO_MADVISE, WL_HOT_PLAIN },
        { "zero runs E=2 R=1024 stores", 2, 1024, WL_ZERO_STORES, WL_HOT_PLAIN },
        { "atomic hot set (16 pages)", 0, 0, 0, WL_HOT_ATOMIC },
    };
    double ms[G_N_ELEMENTS(configs)][RUNS], base = 0;

    for (guint r = 0; r < RUNS; r++)
        for (guint c = 0; c < G_N_ELEMENTS(configs); c++)
            ms[c][r] = run_config(&configs[c]);
    printf("| option | host-native ms per pass, median (min-max) of %d x %d passes | x baseline |\n",
           RUNS, PASSES);
    printf("| --- | --- | --- |\n");
    for (guint c = 0; c < G_N_ELEMENTS(configs); c++) {
        qsort(ms[c], RUNS, sizeof(double), cmp_double);
        if (c == 0)
            base = ms[c][RUNS / 2];
        printf("| %s | %.3f (%.3f-%.3f) | %.2f |\n", configs[c].name, ms[c][RUNS / 2], ms[c][0],
               ms[c][RUNS - 1], ms[c][RUNS / 2] / base);
    }
    return 0;
}
