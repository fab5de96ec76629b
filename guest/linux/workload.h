/*
 * workload.h: the linux payload's memory workload and self-check, apart
 * from the console and the kernel, so that the same code runs in /init
 * (guest/linux/init.c) and in a host unit test that injects faults
 * (tests/test-linux-workload.c).  Plain C11 and libc (madvise only).
 *
 * One Worker owns a slice of the swept buffer, a slice of the hot set and
 * its own zero area, each with its own generations; /init runs one per
 * vCPU.  The pattern is guest/migtest-abi.h's with the page's virtual
 * address in place of its physical one (docs/linux-guest.md):
 *
 *   pass g visits the buffer pages in ascending order, then the zero
 *   area's; for a page at VA p it checks (g > 1) head [p] == g - 1 and
 *   tail [p + 4088] == MT_TAIL(g - 1, p), then writes the tail, then the
 *   head.  After every `step` pages and at the end of a pass comes a hot
 *   round over the worker's hot pages (own generation h, same rule) and a
 *   tick (the caller's heartbeat).
 *
 * Zero runs (zero_every = E > 0): the zero area is zero_slots = S slots of
 * zero_pages = R pages.  zero(s, g), "slot s is all zero once pass g has
 * visited it", holds for s = ((g / E) - 1) mod S when g >= E (as in
 * migtest-abi.h's "Zero runs").  In pass g a page of slot s is checked
 * against zero(s, g - 1) (every word 0; one report for the first non-zero
 * word) or else against the pattern g - 1; then the slot is zeroed if
 * zero(s, g) and it was not zero already, or written with the pattern g
 * otherwise.  Zeroing is WL_ZERO_STORES (every word but the head, then
 * the head, with plain stores), WL_ZERO_MADVISE (madvise(MADV_DONTNEED) of
 * the slot: the kernel frees the pages, they read as zero, and the next
 * write faults in a fresh page the kernel clears) or WL_ZERO_ALTERNATE
 * (run number g / E odd: stores, even: madvise).
 *
 * Atomic hot set (hot_op = WL_HOT_ATOMIC): in rounds h > 1 each hot word
 * is updated by one atomic read-modify-write whose old value is checked:
 * the tail by compare-exchange (MT_TAIL(h - 1) -> MT_TAIL(h)); the head
 * of a page with an even page number (VA >> 12) by fetch-add of 1 (x86
 * lock xadd; aarch64 LSE ldadd where the CPU has LSE, else an
 * ldxr/stxr loop), of an odd one by compare-exchange (x86 lock cmpxchg;
 * aarch64 always an ldxr/stxr loop).  A mismatch is reported and a plain
 * store repairs the word.  Memory states are those of the plain rule.
 */
#ifndef MIGTEST_LINUX_WORKLOAD_H
#define MIGTEST_LINUX_WORKLOAD_H

#include <stdint.h>
#include "migtest-abi.h"

#define WL_PAGE_WORDS   (MT_PAGE_SIZE / 8)
#define WL_TAIL_WORD    (WL_PAGE_WORDS - 1)
#define WL_TAIL(g, p)   ((uint64_t)(p) ^ ((uint64_t)(g) * (uint64_t)MT_TAIL_MUL))

/* migtest.zero_method */
#define WL_ZERO_STORES      0
#define WL_ZERO_MADVISE     1
#define WL_ZERO_ALTERNATE   2
/* migtest.hot_op */
#define WL_HOT_PLAIN        0
#define WL_HOT_ATOMIC       1

typedef struct Worker Worker;

/* What a worker tells its owner: a word that failed its check (va of the
 * word, what it should have held, what it held), a tick after every
 * `step` pages (heartbeats), and a failure it cannot go on from. */
typedef struct {
    void (*report)(Worker *w, uint64_t va, uint64_t expected, uint64_t found);
    void (*tick)(Worker *w);
    void (*fatal)(Worker *w, const char *why, int err);
} WorkerOps;

struct Worker {
    unsigned id;
    volatile uint64_t *buf;         /* npages pages */
    uint64_t npages;
    volatile uint64_t *hot;         /* nhot pages */
    uint64_t nhot;
    volatile uint64_t *zero;        /* zero_slots * zero_pages pages, not mlocked */
    uint32_t zero_every, zero_pages, zero_slots, zero_method;
    uint32_t hot_op;
    int lse;                        /* aarch64: LSE atomics usable */
    uint32_t step;                  /* pages between two hot rounds / ticks */
    uint64_t gen;                   /* sweep generation being written, from 1 */
    uint64_t hot_gen;               /* hot generation of the next round, from 1 */
    uint64_t pass_bad;              /* reports in the current pass */
    uint64_t zero_runs;             /* slots zeroed so far */
    const WorkerOps *ops;
    void *opaque;                   /* the owner's */
};

/* Does slot @slot hold zeros once pass @g has visited it? */
int wl_zero_holds(const Worker *w, uint32_t slot, uint64_t g);
/* One hot round over the worker's hot pages (generation hot_gen, then +1). */
void wl_hot_round(Worker *w);
/* One whole pass (generation gen, then +1), checking as it goes; returns
 * the generation it wrote.  pass_bad counts its reports (the caller
 * resets it). */
uint64_t wl_pass(Worker *w);
/* The atomics this build uses for WL_HOT_ATOMIC: "lock", "lse", "llsc". */
const char *wl_atomics_name(const Worker *w);

#endif
