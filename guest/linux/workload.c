/* workload.c: the linux payload's memory workload (see workload.h). */
#include "workload.h"

#include <errno.h>
#include <sys/mman.h>

#define barrier()   __asm__ __volatile__("" ::: "memory")

static void report(Worker *w, volatile uint64_t *word, uint64_t expected, uint64_t found)
{
    w->pass_bad++;
    w->ops->report(w, (uint64_t)(uintptr_t)word, expected, found);
}

/* ---- atomics: the instructions the hot set goes through ----------------- */

#if defined(__aarch64__)
/* ldxr/stxr compare-and-swap: stores @new only over @old; returns what it
 * read.  Written out so that it stays an exclusive pair with LSE too. */
static uint64_t cas_llsc(volatile uint64_t *p, uint64_t old, uint64_t new)
{
    uint64_t found;
    uint32_t fail;

    __asm__ __volatile__("1: ldxr  %0, [%2]\n"
                         "   cmp   %0, %3\n"
                         "   b.ne  2f\n"
                         "   stxr  %w1, %4, [%2]\n"
                         "   cbnz  %w1, 1b\n"
                         "   b     3f\n"
                         "2: clrex\n"
                         "3:"
                         : "=&r"(found), "=&r"(fail)
                         : "r"(p), "r"(old), "r"(new)
                         : "cc", "memory");
    return found;
}

static uint64_t fetch_inc(const Worker *w, volatile uint64_t *p)
{
    uint64_t old;
    uint32_t fail;

    if (w->lse) {
        __asm__ __volatile__(".arch_extension lse\n"
                             "ldadd %1, %0, [%2]"
                             : "=&r"(old) : "r"((uint64_t)1), "r"(p) : "memory");
        return old;
    }
    __asm__ __volatile__("1: ldxr  %0, [%2]\n"
                         "   add   %0, %0, #1\n"
                         "   stxr  %w1, %0, [%2]\n"
                         "   cbnz  %w1, 1b\n"
                         "   sub   %0, %0, #1"
                         : "=&r"(old), "=&r"(fail) : "r"(p) : "memory");
    return old;
}

static uint64_t cas(const Worker *w, volatile uint64_t *p, uint64_t old, uint64_t new)
{
    (void)w;
    return cas_llsc(p, old, new);
}

const char *wl_atomics_name(const Worker *w)
{
    return w->lse ? "lse" : "llsc";
}
#else
/* x86: lock xadd and lock cmpxchg (what GCC emits for these builtins). */
static uint64_t fetch_inc(const Worker *w, volatile uint64_t *p)
{
    (void)w;
    return __atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST);
}

static uint64_t cas(const Worker *w, volatile uint64_t *p, uint64_t old, uint64_t new)
{
    (void)w;
    __atomic_compare_exchange_n(p, &old, new, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return old;     /* on failure, what was there */
}

const char *wl_atomics_name(const Worker *w)
{
    (void)w;
    return "lock";
}
#endif

/* ---- pages -------------------------------------------------------------- */

static void check_pattern(Worker *w, volatile uint64_t *p, uint64_t g)
{
    uint64_t va = (uint64_t)(uintptr_t)p;
    uint64_t h = p[0], t = p[WL_TAIL_WORD];

    if (__builtin_expect(h != g, 0))
        report(w, p, g, h);
    if (__builtin_expect(t != WL_TAIL(g, va), 0))
        report(w, p + WL_TAIL_WORD, WL_TAIL(g, va), t);
}

static void write_pattern(volatile uint64_t *p, uint64_t g)
{
    p[WL_TAIL_WORD] = WL_TAIL(g, (uint64_t)(uintptr_t)p);
    barrier();                  /* tail before head */
    p[0] = g;
}

/* Check page p against generation g - 1 (when g > 1), then write g. */
static inline void visit(Worker *w, volatile uint64_t *p, uint64_t g)
{
    if (g > 1)
        check_pattern(w, p, g - 1);
    write_pattern(p, g);
}

/* Atomic check-and-store of one hot page from h - 1 to h (h > 1). */
static void visit_atomic(Worker *w, volatile uint64_t *p, uint64_t h)
{
    uint64_t va = (uint64_t)(uintptr_t)p;
    uint64_t want = WL_TAIL(h - 1, va), old;

    old = cas(w, p + WL_TAIL_WORD, want, WL_TAIL(h, va));
    if (__builtin_expect(old != want, 0)) {
        report(w, p + WL_TAIL_WORD, want, old);
        p[WL_TAIL_WORD] = WL_TAIL(h, va);
    }
    barrier();
    old = (va >> MT_PAGE_SHIFT) % 2 == 0 ? fetch_inc(w, p) : cas(w, p, h - 1, h);
    if (__builtin_expect(old != h - 1, 0)) {
        report(w, p, h - 1, old);
        p[0] = h;
    }
}

void wl_hot_round(Worker *w)
{
    uint64_t h = w->hot_gen;

    if (!w->nhot)
        return;
    for (uint64_t i = 0; i < w->nhot; i++) {
        volatile uint64_t *p = w->hot + i * WL_PAGE_WORDS;

        if (w->hot_op == WL_HOT_ATOMIC && h > 1)
            visit_atomic(w, p, h);
        else
            visit(w, p, h);
    }
    w->hot_gen++;
}

/* ---- zero runs ---------------------------------------------------------- */

int wl_zero_holds(const Worker *w, uint32_t slot, uint64_t g)
{
    uint64_t e = w->zero_every;

    if (!e || !w->zero_slots || g < e)
        return 0;
    return (g / e - 1) % w->zero_slots == slot;
}

/* Every word of the page reads 0: else one report, the first non-zero
 * word, and FALSE. */
static int check_zero(Worker *w, volatile uint64_t *p)
{
    for (unsigned i = 0; i < WL_PAGE_WORDS; i++) {
        uint64_t v = p[i];

        if (__builtin_expect(v != 0, 0)) {
            report(w, p + i, 0, v);
            return 0;
        }
    }
    return 1;
}

static void zero_by_stores(volatile uint64_t *p)
{
    for (unsigned i = 1; i < WL_PAGE_WORDS; i++)
        p[i] = 0;
    barrier();                  /* the head last: a zero head means a zero page */
    p[0] = 0;
}

static void zero_slot(Worker *w, volatile uint64_t *slot, uint64_t g)
{
    uint64_t run = g / w->zero_every;
    int by_madvise = w->zero_method == WL_ZERO_MADVISE ||
                     (w->zero_method == WL_ZERO_ALTERNATE && run % 2 == 0);

    w->zero_runs++;
    if (by_madvise) {
        barrier();
        if (madvise((void *)slot, (size_t)w->zero_pages * MT_PAGE_SIZE, MADV_DONTNEED) != 0)
            w->ops->fatal(w, "madvise MADV_DONTNEED of a zero run", errno);
        return;
    }
    for (uint32_t i = 0; i < w->zero_pages; i++)
        zero_by_stores(slot + (uint64_t)i * WL_PAGE_WORDS);
}

static void tick_every_step(Worker *w, uint64_t n)
{
    if (n % w->step == 0) {
        wl_hot_round(w);
        w->ops->tick(w);
    }
}

/* The zero area's part of pass g; @n counts the pass's pages so far. */
static void zero_area_pass(Worker *w, uint64_t g, uint64_t n)
{
    for (uint32_t s = 0; s < w->zero_slots; s++) {
        volatile uint64_t *slot = w->zero + (uint64_t)s * w->zero_pages * WL_PAGE_WORDS;
        int was = wl_zero_holds(w, s, g - 1), now = wl_zero_holds(w, s, g);

        for (uint32_t i = 0; i < w->zero_pages; i++) {
            volatile uint64_t *p = slot + (uint64_t)i * WL_PAGE_WORDS;

            if (was) {
                /* A page that should stay zero but is not: repair it. */
                if (!check_zero(w, p) && now)
                    zero_by_stores(p);
            } else if (g > 1) {
                check_pattern(w, p, g - 1);
            }
            if (!now)
                write_pattern(p, g);
            tick_every_step(w, ++n);
        }
        if (now && !was)
            zero_slot(w, slot, g);
    }
}

uint64_t wl_pass(Worker *w)
{
    uint64_t g = w->gen;
    volatile uint64_t *p = w->buf;

    for (uint64_t i = 0; i < w->npages; i++, p += WL_PAGE_WORDS) {
        visit(w, p, g);
        tick_every_step(w, i + 1);
    }
    if (w->zero_every)
        zero_area_pass(w, g, w->npages);
    wl_hot_round(w);
    w->gen++;
    return g;
}
