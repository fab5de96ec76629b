/*
 * test-linux-workload.c (unit): the linux payload's workload and
 * self-check (guest/linux/workload.c, the same code /init runs), on the
 * host, on anonymous memory of this process.  Clean runs report nothing
 * and leave the memory in the state the rule says; injected faults (a
 * page that should be zero holding its old pattern, a refilled page with
 * a stale or lost value, a hot word behind under plain and atomic
 * updates) are each reported once, at the right address, with the
 * expected and found values, and repaired.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib.h>
#include "workload.h"
#include "watchdog.h"

#define BUF_PAGES   64
#define HOT_PAGES   4
#define ZERO_PAGES  MT_ZERO_MIN_PAGES
#define ZERO_SLOTS  2

typedef struct {
    guint64 va, expected, found;
} Report;

typedef struct {
    Worker w;
    GArray *reports;            /* Report */
    guint ticks;
    void *mem;
    gsize mem_bytes;
} Fixture;

static void on_report(Worker *w, uint64_t va, uint64_t expected, uint64_t found)
{
    Fixture *f = w->opaque;
    Report r = { va, expected, found };

    g_array_append_val(f->reports, r);
}

static void on_tick(Worker *w)
{
    ((Fixture *)w->opaque)->ticks++;
}

static void on_fatal(Worker *w, const char *why, int err)
{
    (void)w;
    g_error("worker fatal: %s: %s", why, g_strerror(err));
}

static const WorkerOps test_ops = { on_report, on_tick, on_fatal };

static void fixture_setup(Fixture *f, guint zero_method, guint hot_op)
{
    gsize pages = BUF_PAGES + HOT_PAGES + ZERO_SLOTS * ZERO_PAGES;
    guint8 *m;

    memset(f, 0, sizeof(*f));
    f->mem_bytes = pages * MT_PAGE_SIZE;
    f->mem = mmap(NULL, f->mem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                  -1, 0);
    g_assert_true(f->mem != MAP_FAILED);
    m = f->mem;
    f->reports = g_array_new(FALSE, FALSE, sizeof(Report));
    f->w = (Worker){
        .buf = (volatile uint64_t *)m, .npages = BUF_PAGES,
        .hot = (volatile uint64_t *)(m + BUF_PAGES * MT_PAGE_SIZE), .nhot = HOT_PAGES,
        .zero = (volatile uint64_t *)(m + (BUF_PAGES + HOT_PAGES) * MT_PAGE_SIZE),
        .zero_every = 2, .zero_pages = ZERO_PAGES, .zero_slots = ZERO_SLOTS,
        .zero_method = zero_method, .hot_op = hot_op, .step = 16,
        .gen = 1, .hot_gen = 1, .ops = &test_ops, .opaque = f,
    };
}

static void fixture_teardown(Fixture *f)
{
    munmap(f->mem, f->mem_bytes);
    g_array_unref(f->reports);
}

static volatile uint64_t *zero_page(Fixture *f, guint slot, guint page)
{
    return f->w.zero + ((guint64)slot * ZERO_PAGES + page) * WL_PAGE_WORDS;
}

static guint64 va_of(volatile uint64_t *p)
{
    return (guint64)(uintptr_t)p;
}

static void run_passes(Fixture *f, guint n)
{
    for (guint i = 0; i < n; i++)
        wl_pass(&f->w);
}

static void assert_one_report(Fixture *f, volatile uint64_t *word, guint64 expected,
                              guint64 found)
{
    const Report *r;

    g_assert_cmpuint(f->reports->len, ==, 1);
    r = &g_array_index(f->reports, Report, 0);
    g_assert_cmphex(r->va, ==, va_of(word));
    g_assert_cmphex(r->expected, ==, expected);
    g_assert_cmphex(r->found, ==, found);
    g_array_set_size(f->reports, 0);
}

/* Every word of the page is zero. */
static gboolean page_is_zero(volatile uint64_t *p)
{
    for (guint i = 0; i < WL_PAGE_WORDS; i++)
        if (p[i])
            return FALSE;
    return TRUE;
}

/* The schedule: with E = 2 and S = 2, slot 0 is zero after passes 2-3,
 * 6-7, ..., slot 1 after passes 4-5, 8-9, ... */
static void test_zero_schedule(void)
{
    Worker w = { .zero_every = 2, .zero_slots = 2 };

    g_assert_false(wl_zero_holds(&w, 0, 0));
    g_assert_false(wl_zero_holds(&w, 0, 1));
    g_assert_true(wl_zero_holds(&w, 0, 2) && wl_zero_holds(&w, 0, 3));
    g_assert_false(wl_zero_holds(&w, 1, 3));
    g_assert_true(wl_zero_holds(&w, 1, 4) && wl_zero_holds(&w, 1, 5));
    g_assert_false(wl_zero_holds(&w, 0, 4));
    g_assert_true(wl_zero_holds(&w, 0, 6));
    w.zero_every = 0;
    g_assert_false(wl_zero_holds(&w, 0, 2));
}

/* Clean: 12 passes with every method and either hot op report nothing;
 * afterwards the memory is what the rule says; madvise left the zeroed
 * slot's pages unmapped (the kernel freed them), stores did not. */
static void check_clean(guint zero_method, guint hot_op)
{
    Fixture f;
    guchar vec[ZERO_PAGES];

    fixture_setup(&f, zero_method, hot_op);
    run_passes(&f, 12);                 /* passes 1..12: slot 1 zero after 12 */
    g_assert_cmpuint(f.reports->len, ==, 0);
    g_assert_cmpuint(f.w.gen, ==, 13);
    g_assert_cmpuint(f.w.zero_runs, ==, 6);     /* passes 2, 4, ..., 12 */
    g_assert_cmpuint(f.ticks, >=, (BUF_PAGES + ZERO_SLOTS * ZERO_PAGES) / 16 * 12);
    /* Slot 1 was zeroed by pass 12, run 6: madvise (alternate: even runs)
     * leaves it unmapped until read (then the zero page) or written. */
    g_assert_cmpint(mincore((void *)zero_page(&f, 1, 0), ZERO_PAGES * MT_PAGE_SIZE, vec), ==, 0);
    if (zero_method == WL_ZERO_STORES)
        g_assert_true(vec[0] & 1);
    else
        g_assert_false(vec[0] & 1);
    for (guint i = 0; i < ZERO_PAGES; i++) {
        volatile uint64_t *p0 = zero_page(&f, 0, i), *p1 = zero_page(&f, 1, i);
        g_assert_cmpuint(p0[0], ==, 12);
        g_assert_cmphex(p0[WL_TAIL_WORD], ==, WL_TAIL(12, va_of(p0)));
        g_assert_true(page_is_zero(p1));
    }
    for (guint i = 0; i < BUF_PAGES; i++)
        g_assert_cmpuint(f.w.buf[i * WL_PAGE_WORDS], ==, 12);
    g_assert_cmpuint(f.w.hot[0], ==, f.w.hot_gen - 1);
    fixture_teardown(&f);
}

static void test_clean_madvise(void)
{
    check_clean(WL_ZERO_MADVISE, WL_HOT_PLAIN);
}

static void test_clean_stores(void)
{
    check_clean(WL_ZERO_STORES, WL_HOT_PLAIN);
}

static void test_clean_alternate_atomic(void)
{
    check_clean(WL_ZERO_ALTERNATE, WL_HOT_ATOMIC);
}

/* A page that should be zero but holds its old pattern (a zero run the
 * migration lost): reported at its head with expected 0 and the old
 * generation, once; a page whose only non-zero word is its tail is
 * reported at the tail. */
static void check_should_be_zero(guint zero_method)
{
    Fixture f;
    volatile uint64_t *p, *q;

    fixture_setup(&f, zero_method, WL_HOT_PLAIN);
    run_passes(&f, 2);                  /* pass 2 zeroed slot 0 (held 1) */
    p = zero_page(&f, 0, 5);
    q = zero_page(&f, 0, 100);
    g_assert_true(page_is_zero(p));
    p[WL_TAIL_WORD] = WL_TAIL(1, va_of(p));
    p[0] = 1;
    q[WL_TAIL_WORD] = WL_TAIL(1, va_of(q));
    run_passes(&f, 1);                  /* pass 3 checks zero(slot 0, 2) */
    g_assert_cmpuint(f.reports->len, ==, 2);
    g_assert_cmphex(g_array_index(f.reports, Report, 0).va, ==, va_of(p));
    g_assert_cmphex(g_array_index(f.reports, Report, 0).expected, ==, 0);
    g_assert_cmphex(g_array_index(f.reports, Report, 0).found, ==, 1);
    g_assert_cmphex(g_array_index(f.reports, Report, 1).va, ==, va_of(q + WL_TAIL_WORD));
    g_assert_cmphex(g_array_index(f.reports, Report, 1).found, ==, WL_TAIL(1, va_of(q)));
    g_assert_cmpuint(f.w.pass_bad, ==, 2);
    /* Repaired (slot 0 stays zero after pass 3), so pass 4 finds it zero. */
    g_assert_true(page_is_zero(p) && page_is_zero(q));
    g_array_set_size(f.reports, 0);
    run_passes(&f, 1);
    g_assert_cmpuint(f.reports->len, ==, 0);
    fixture_teardown(&f);
}

static void test_should_be_zero_madvise(void)
{
    check_should_be_zero(WL_ZERO_MADVISE);
}

static void test_should_be_zero_stores(void)
{
    check_should_be_zero(WL_ZERO_STORES);
}

/* A refilled page with a stale head (a generation behind), and one whose
 * refill was lost (still zero): each reported once against the pattern,
 * then repaired (the next pass is clean). */
static void test_refill_stale(void)
{
    Fixture f;
    volatile uint64_t *p, *q;

    fixture_setup(&f, WL_ZERO_ALTERNATE, WL_HOT_PLAIN);
    run_passes(&f, 4);                  /* pass 4 refilled slot 0 with 4 */
    p = zero_page(&f, 0, 7);
    q = zero_page(&f, 0, 8);
    g_assert_cmpuint(p[0], ==, 4);
    p[0] = 3;
    run_passes(&f, 1);                  /* pass 5 checks slot 0 against 4 */
    assert_one_report(&f, p, 4, 3);
    f.w.pass_bad = 0;
    q[WL_TAIL_WORD] = 0;
    q[0] = 0;
    run_passes(&f, 1);                  /* pass 6 checks against 5 */
    g_assert_cmpuint(f.reports->len, ==, 2);
    g_assert_cmphex(g_array_index(f.reports, Report, 0).va, ==, va_of(q));
    g_assert_cmphex(g_array_index(f.reports, Report, 0).expected, ==, 5);
    g_assert_cmphex(g_array_index(f.reports, Report, 0).found, ==, 0);
    g_assert_cmphex(g_array_index(f.reports, Report, 1).va, ==, va_of(q + WL_TAIL_WORD));
    g_array_set_size(f.reports, 0);
    run_passes(&f, 4);
    g_assert_cmpuint(f.reports->len, ==, 0);
    fixture_teardown(&f);
}

/* A hot word a generation behind, on an even and an odd page (fetch-add
 * and compare-exchange under WL_HOT_ATOMIC), and a torn hot tail: one
 * report each at the word, expected h - 1, and repaired. */
static void check_hot_stale(guint hot_op)
{
    Fixture f;
    volatile uint64_t *even, *odd;
    guint64 h;

    fixture_setup(&f, WL_ZERO_MADVISE, hot_op);
    run_passes(&f, 3);
    g_assert_cmpuint(f.reports->len, ==, 0);
    h = f.w.hot_gen;                    /* the next round writes h */
    even = f.w.hot + ((va_of(f.w.hot) >> MT_PAGE_SHIFT) % 2) * WL_PAGE_WORDS;
    odd = f.w.hot + (1 - (va_of(f.w.hot) >> MT_PAGE_SHIFT) % 2) * WL_PAGE_WORDS;
    g_assert_cmpuint(even[0], ==, h - 1);
    even[0] = h - 2;
    wl_hot_round(&f.w);
    assert_one_report(&f, even, h - 1, h - 2);
    g_assert_cmpuint(even[0], ==, h);
    odd[0] = h - 5;
    wl_hot_round(&f.w);
    assert_one_report(&f, odd, h, h - 5);
    g_assert_cmpuint(odd[0], ==, h + 1);
    odd[WL_TAIL_WORD] ^= 1;
    wl_hot_round(&f.w);
    assert_one_report(&f, odd + WL_TAIL_WORD, WL_TAIL(h + 1, va_of(odd)),
                      WL_TAIL(h + 1, va_of(odd)) ^ 1);
    wl_hot_round(&f.w);
    g_assert_cmpuint(f.reports->len, ==, 0);
    fixture_teardown(&f);
}

static void test_hot_stale_plain(void)
{
    check_hot_stale(WL_HOT_PLAIN);
}

static void test_hot_stale_atomic(void)
{
    check_hot_stale(WL_HOT_ATOMIC);
}

/* A swept page left a generation behind (the classic lost page). */
static void test_buf_stale(void)
{
    Fixture f;
    volatile uint64_t *p;

    fixture_setup(&f, WL_ZERO_MADVISE, WL_HOT_PLAIN);
    run_passes(&f, 3);
    p = f.w.buf + 9 * WL_PAGE_WORDS;
    p[0] = 2;
    run_passes(&f, 1);
    assert_one_report(&f, p, 3, 2);
    fixture_teardown(&f);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *path;
        GTestFunc func;
    } tests[] = {
        { "/linux-workload/zero-schedule", test_zero_schedule },
        { "/linux-workload/clean/madvise", test_clean_madvise },
        { "/linux-workload/clean/stores", test_clean_stores },
        { "/linux-workload/clean/alternate-atomic", test_clean_alternate_atomic },
        { "/linux-workload/should-be-zero/madvise", test_should_be_zero_madvise },
        { "/linux-workload/should-be-zero/stores", test_should_be_zero_stores },
        { "/linux-workload/refill-stale", test_refill_stale },
        { "/linux-workload/hot-stale/plain", test_hot_stale_plain },
        { "/linux-workload/hot-stale/atomic", test_hot_stale_atomic },
        { "/linux-workload/buf-stale", test_buf_stale },
    };

    g_test_init(&argc, &argv, NULL);
    watchdog_install();
    for (guint i = 0; i < G_N_ELEMENTS(tests); i++)
        g_test_add_data_func(tests[i].path, &tests[i].func, watchdog_run);
    return g_test_run();
}
