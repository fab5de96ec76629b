/*
 * test-guest.c: payload acceptance tests, one QEMU each, no migration.
 *   boot        every payload (x86_64 pc and q35 under TCG, pc under KVM
 *               when usable, the four aarch64 variants under TCG) prints
 *               exactly one 'A', then 'B' after 'B', nothing else, and a
 *               paused snapshot satisfies the invariant;
 *   corrupt     pages changed behind the paused guest's back (stale,
 *               zeroed, a neighbour's copy, a changed tail) are reported
 *               by the guest at the exact word, with the exact expected
 *               and found values, once, and the guest runs on;
 *   b-every     a patched B cadence and a smaller window are honoured:
 *               'B' count = completed passes / b_every, nothing written
 *               outside the window.
 *   zero-run    with zero runs on (plain stores, rep stosq, dc zva) the
 *               guest runs clean and a paused snapshot has its zero pages
 *               zero; a zero page given back its old pattern, or one
 *               non-zero word, is reported by the guest at that word;
 *   fill-full   with fill=full (and a hot set) the guest runs clean, a
 *               snapshot passes the whole-page invariant, and a middle
 *               word changed behind its back is reported at that word;
 *   hot-atomic  with the atomic hot set (lock xadd / lock cmpxchg, LSE
 *               ldadd / ldxr-stxr) the guest runs clean, the invariant
 *               holds, and hot words changed behind its back (one on an
 *               even page, one on an odd one: both atomic paths) are
 *               reported with the exact expected and found values (the
 *               plain hot set, hot-plain, likewise).
 *   canary      with CPU-state canaries the guest runs clean (also across a
 *               pause), and a SIMD or FP-control register changed through
 *               the gdbstub is named in exactly one record.
 *   param-fault a new parameter field set past the host's checks is refused
 *               by the guest with one record naming the field, and no 'B'.
 * Suite integration: 52 tests, about a minute on the shared 2-core machine
 * under load (each boots one small guest; no migration).
 */
#include <string.h>
#include "gdbstub.h"
#include "guest-harness.h"

#define BOOT_MS 30000           /* launch to QMP; to the 'B' we wait for */
#define BOOT_B 3                /* 'B' the acceptance criteria ask for */
#define TIMING_B 10             /* boot tests wait for more: better pass times */
#define RECORD_MS 30000         /* cont to the expected 'E' records */
#define TAIL_FLIP 0x100         /* bits changed in "tail only" */

typedef HarnessFixture Fixture;

/* ---- boot ------------------------------------------------------------- */

typedef struct {
    const char *arch;
    const char *variant;
    const char *machine;
    const char *accel;
} BootCase;

static const BootCase boot_cases[] = {
    { "x86_64", "default", "pc", "tcg" },
    { "x86_64", "default", "q35", "tcg" },
    { "x86_64", "default", "pc", "kvm" },
    { "aarch64", "mmu-on", "virt", "tcg" },
    { "aarch64", "mmu-off-dc-civac", "virt", "tcg" },
    { "aarch64", "mmu-off", "virt", "tcg" },
    { "aarch64", "mmu-off-late", "virt", "tcg" },
};

static void test_boot(Fixture *f, gconstpointer data)
{
    const BootCase *bc = data;
    GuestSpec spec = {
        .arch = bc->arch, .variant = bc->variant, .machine = bc->machine,
        .accel = bc->accel,
        /* mmu-off-late: MMU and D-cache off after pass 1, so pass 2
         * checks pages written cacheable, and later passes pages written
         * uncached. */
        .set_mmu_off_after = g_str_equal(bc->variant, "mmu-off-late"),
        .mmu_off_after = 1,
    };
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    double first_s, pass_ms;
    SerialCounts c;
    Guest *g;

    (void)f;
    if (g_str_equal(bc->accel, "kvm") && !vm_kvm_usable(arch_lookup(bc->arch))) {
        g_test_skip("KVM is not usable on this host");
        return;
    }
    g = guest_start(&spec, BOOT_MS);
    guest_wait_b(g, TIMING_B, BOOT_MS);
    guest_timing(g, &first_s, &pass_ms);
    guest_assert_clean(g, MAX(BOOT_B, TIMING_B));
    /* A paused snapshot is one consistent state of the sweep. */
    guest_stop(g);
    c = guest_settle(g, 100, 5000);
    img = guest_ram(g, FALSE);
    guest_assert_invariant(g, img, &inv);
    guest_assert_b_count(g, &inv, c.b);
    g_clear_pointer(&img, ram_image_free);
    guest_cont(g);
    guest_wait_b(g, c.b + 1, BOOT_MS);
    guest_assert_clean(g, c.b + 1);
    guest_free(g);
}

/* ---- corruption --------------------------------------------------------- */

typedef enum {
    CORRUPT_STALE,              /* consistent page of the generation before */
    CORRUPT_ZERO,               /* whole page zero */
    CORRUPT_NEIGHBOUR,          /* copy of the next page (same generation) */
    CORRUPT_TAIL,               /* tail word alone changed */
} Corruption;

static const char *const corruption_names[] = {
    "stale generation", "zeroed page", "neighbour's copy", "tail word changed",
};

/*
 * Pause; pick two adjacent pages half a window away from the sweep
 * position (the guest will not be in the middle of them), both of the
 * same generation G; corrupt the first; resume; the guest must report
 * exactly the records predicted here, in this order, and no other, and
 * keep passing.
 */
static void corrupt_once(Guest *g, Corruption kind)
{
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    SerialError want[2];
    guint nwant = 0;
    guint64 n = guest_window_pages(g), k, i, p, q, G;
    SerialCounts before;

    /* Vary where the pause lands (a pass takes ~10-20 ms): just after
     * a 'B', or some way into the next pass. */
    g_usleep(kind * 4000);
    guest_stop(g);
    before = guest_settle(g, 100, 5000);
    img = guest_ram(g, TRUE);
    guest_assert_invariant(g, img, &inv);
    k = inv.boundary_gpa ? guest_page_index(g, inv.boundary_gpa) : 0;
    i = (k + n / 2) % n;
    if (i + 1 >= n)
        i = n / 2;
    p = guest_page_gpa(g, i);
    q = guest_page_gpa(g, i + 1);
    g_assert_cmphex(q, ==, p + MT_PAGE_SIZE);
    G = ram_get64(img, p);
    g_assert_cmpuint(G, >=, 2);
    g_assert_cmpuint(ram_get64(img, q), ==, G);
    g_assert_cmphex(ram_get64(img, p + MT_PAGE_SIZE - 8), ==, verify_tail(G, p));
    g_assert_cmphex(ram_get64(img, q + MT_PAGE_SIZE - 8), ==, verify_tail(G, q));
    g_test_message("%s: %s at page 0x%" G_GINT64_MODIFIER "x (generation %" G_GUINT64_FORMAT
                   ", sweep boundary at 0x%" G_GINT64_MODIFIER "x, generation %"
                   G_GUINT64_FORMAT ")", g->label, corruption_names[kind], p, G,
                   inv.boundary_gpa, inv.generation);

    /* The guest's next visit checks head == G, tail == MT_TAIL(G, p);
     * a wrong head is reported, then the tail is checked as well. */
    switch (kind) {
    case CORRUPT_STALE:
        ram_put64(img, p, G - 1);
        ram_put64(img, p + MT_PAGE_SIZE - 8, verify_tail(G - 1, p));
        want[nwant++] = (SerialError){ p, G, G - 1, 0 };
        want[nwant++] = (SerialError){ p + MT_PAGE_SIZE - 8, verify_tail(G, p),
                                       verify_tail(G - 1, p), 0 };
        break;
    case CORRUPT_ZERO:
        memset(ram_at(img, p, MT_PAGE_SIZE), 0, MT_PAGE_SIZE);
        want[nwant++] = (SerialError){ p, G, 0, 0 };
        want[nwant++] = (SerialError){ p + MT_PAGE_SIZE - 8, verify_tail(G, p), 0, 0 };
        break;
    case CORRUPT_NEIGHBOUR:
        memcpy(ram_at(img, p, MT_PAGE_SIZE), ram_at(img, q, MT_PAGE_SIZE), MT_PAGE_SIZE);
        want[nwant++] = (SerialError){ p + MT_PAGE_SIZE - 8, verify_tail(G, p),
                                       verify_tail(G, q), 0 };
        break;
    case CORRUPT_TAIL:
        ram_put64(img, p + MT_PAGE_SIZE - 8, verify_tail(G, p) ^ TAIL_FLIP);
        want[nwant++] = (SerialError){ p + MT_PAGE_SIZE - 8, verify_tail(G, p),
                                       verify_tail(G, p) ^ TAIL_FLIP, 0 };
        break;
    }
    g_clear_pointer(&img, ram_image_free);

    guest_cont(g);
    guest_expect_records(g, before.errors, want, nwant, RECORD_MS);
}

static void test_corrupt(Fixture *f, gconstpointer data)
{
    const BootCase *bc = data;
    GuestSpec spec = { .arch = bc->arch, .variant = bc->variant, .machine = bc->machine,
                       .accel = bc->accel };
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    Guest *g;

    (void)f;
    g = guest_start(&spec, BOOT_MS);
    guest_wait_b(g, BOOT_B, BOOT_MS);
    guest_assert_clean(g, BOOT_B);
    corrupt_once(g, CORRUPT_STALE);
    corrupt_once(g, CORRUPT_ZERO);
    corrupt_once(g, CORRUPT_NEIGHBOUR);
    corrupt_once(g, CORRUPT_TAIL);
    /* Every page repaired: the window is consistent again. */
    guest_stop(g);
    img = guest_ram(g, FALSE);
    guest_assert_invariant(g, img, &inv);
    g_clear_pointer(&img, ram_image_free);
    guest_free(g);
}

/* ---- b_every and a smaller window -------------------------------------- */

#define CADENCE 4
#define SMALL_START (4 * GH_MIB)        /* from the RAM base */
#define SMALL_END (12 * GH_MIB)
#define CADENCE_ROUNDS 4

static void test_b_every(Fixture *f, gconstpointer data)
{
    const BootCase *bc = data;
    const ArchDesc *arch = arch_lookup(bc->arch);
    GuestSpec spec = {
        .arch = bc->arch, .variant = bc->variant, .machine = bc->machine,
        .accel = bc->accel, .b_every = CADENCE, .nranges = 1,
        .ranges = { { arch->ram_base + SMALL_START, arch->ram_base + SMALL_END } },
    };
    guint64 start = spec.ranges[0].start, end = spec.ranges[0].end;
    guint boundary_seen = 0;
    Guest *g;

    (void)f;
    g = guest_start(&spec, BOOT_MS);
    guest_wait_b(g, BOOT_B, BOOT_MS);
    guest_assert_clean(g, BOOT_B);
    for (guint round = 0; round < CADENCE_ROUNDS; round++) {
        g_auto(InvariantResult) inv = { 0 };
        g_autoptr(RamImage) img = NULL;
        SerialCounts c;
        guint64 H;

        guest_stop(g);
        /* The last 'B' written before the pause may still be in the socket. */
        c = guest_settle(g, 200, 5000);
        img = guest_ram(g, FALSE);
        guest_assert_invariant(g, img, &inv);
        H = inv.generation;
        boundary_seen += inv.boundary_gpa != 0;
        g_test_message("%s: round %u", g->label, round);
        guest_assert_b_count(g, &inv, c.b);
        g_assert_cmpuint(H, >=, (guint64)BOOT_B * CADENCE);
        /* The pages next to the window were never written; the first and
         * last page of the window carry H or H - 1. */
        g_assert_true(ram_page_is_zero(img, start - MT_PAGE_SIZE));
        g_assert_true(ram_page_is_zero(img, end));
        g_assert_cmpuint(ram_get64(img, start), >=, H - 1);
        g_assert_cmpuint(ram_get64(img, end - MT_PAGE_SIZE), >=, H - 1);
        g_assert_cmpuint(ram_get64(img, start), <=, H);
        g_assert_cmpuint(ram_get64(img, end - MT_PAGE_SIZE), <=, H);
        g_clear_pointer(&img, ram_image_free);
        guest_cont(g);
        guest_wait_b(g, c.b + 1 + round, BOOT_MS);
        g_usleep(round * 3000);     /* vary where the next pause lands */
    }
    g_test_message("%s: %u of %u pauses landed inside a pass", g->label, boundary_seen,
                   CADENCE_ROUNDS);
    guest_assert_clean(g, BOOT_B);
    guest_free(g);
}

/* ---- zero runs --------------------------------------------------------- */

/* One run of ZERO_PAGES pages every pass: the zero run moves by a slot a
 * pass, so every pass zeroes, checks and writes back ZERO_PAGES pages. */
#define ZERO_EVERY 1
#define ZERO_PAGES 256
#define ZERO_TRIES 20           /* pauses until one lands clear of the runs */
#define ZERO_MARGIN 3           /* pages kept between a corruption and the sweep */
#define ZERO_WORD 0x5a5a5a5a5a5a5a5aull

typedef struct {
    BootCase boot;
    guint32 method;
    const char *method_name;
} ZeroCase;

static const ZeroCase zero_cases[] = {
    { { "x86_64", "default", "pc", "tcg" }, MT_ZERO_ALTERNATE, "alternate" },
    { { "x86_64", "default", "pc", "kvm" }, MT_ZERO_ALTERNATE, "alternate" },
    { { "aarch64", "mmu-on", "virt", "tcg" }, MT_ZERO_ALTERNATE, "alternate" },
    { { "aarch64", "mmu-off-dc-civac", "virt", "tcg" }, MT_ZERO_STRING, "string" },
};

static Guest *zero_start(const ZeroCase *zc)
{
    GuestSpec spec = {
        .arch = zc->boot.arch, .variant = zc->boot.variant, .machine = zc->boot.machine,
        .accel = zc->boot.accel, .zero_every = ZERO_EVERY, .zero_pages = ZERO_PAGES,
        .zero_method = zc->method,
    };

    return guest_start(&spec, BOOT_MS);
}

static void test_zero_boot(Fixture *f, gconstpointer data)
{
    const ZeroCase *zc = data;
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    double first_s, pass_ms;
    guint64 start, end;
    Guest *g;

    (void)f;
    if (g_str_equal(zc->boot.accel, "kvm") && !vm_kvm_usable(arch_lookup(zc->boot.arch))) {
        g_test_skip("KVM is not usable on this host");
        return;
    }
    g = zero_start(zc);
    guest_wait_b(g, TIMING_B, BOOT_MS);
    guest_timing(g, &first_s, &pass_ms);
    guest_assert_clean(g, TIMING_B);
    guest_stop(g);
    guest_settle(g, 100, 5000);
    img = guest_ram(g, FALSE);
    guest_assert_invariant(g, img, &inv);
    /* The run of pass H covers pages the sweep has passed, pass H - 1's
     * the ones it has not: some are zero unless the boundary sits exactly
     * where the two meet. */
    payload_zero_run(&g->params, inv.generation, &start, &end);
    g_test_message("%s: %" G_GUINT64_FORMAT " zero pages checked", g->label, inv.zero_pages);
    g_assert_true(inv.zero_pages > 0 || inv.boundary_gpa == start);
    g_assert_cmpuint(inv.zero_pages, <=, ZERO_PAGES);
    g_clear_pointer(&img, ram_image_free);
    guest_cont(g);
    guest_wait_b(g, TIMING_B + 2, BOOT_MS);
    guest_assert_clean(g, TIMING_B + 2);
    guest_free(g);
}

/* Pages [*first, *last) that are zero now and that the sweep will check
 * before it changes them, at least ZERO_MARGIN pages clear of it. */
static gboolean zero_pick(Guest *g, const InvariantResult *inv, guint64 *first, guint64 *last)
{
    guint64 n = guest_window_pages(g), H = inv->generation;
    guint64 k = inv->boundary_gpa ? guest_page_index(g, inv->boundary_gpa) : n;
    guint64 s, e, a, b, best = 0;

    /* zero(p, H) on pages already visited in pass H ... */
    if (payload_zero_run(&g->params, H, &s, &e)) {
        a = guest_page_index(g, s);
        b = MIN(guest_page_index(g, e - MT_PAGE_SIZE) + 1, k > ZERO_MARGIN ? k - ZERO_MARGIN : 0);
        if (b > a + 1)
            *first = a, *last = b, best = b - a;
    }
    /* ... or zero(p, H - 1) on pages pass H has not reached. */
    if (payload_zero_run(&g->params, H - 1, &s, &e)) {
        a = MAX(guest_page_index(g, s), k + ZERO_MARGIN);
        b = guest_page_index(g, e - MT_PAGE_SIZE) + 1;
        if (b > a + 1 && b - a > best)
            *first = a, *last = b, best = b - a;
    }
    return best >= 2;
}

static void test_zero_corrupt(Fixture *f, gconstpointer data)
{
    const ZeroCase *zc = data;
    guint64 first = 0, last = 0, p, q, G;
    SerialError want[2];
    SerialCounts before = { 0 };
    guint tries;
    Guest *g;

    (void)f;
    g = zero_start(zc);
    guest_wait_b(g, BOOT_B, BOOT_MS);
    for (tries = 0; tries < ZERO_TRIES; tries++) {
        g_auto(InvariantResult) inv = { 0 };
        g_autoptr(RamImage) img = NULL;

        guest_stop(g);
        before = guest_settle(g, 100, 5000);
        img = guest_ram(g, TRUE);
        guest_assert_invariant(g, img, &inv);
        if (zero_pick(g, &inv, &first, &last)) {
            p = guest_page_gpa(g, first);
            q = guest_page_gpa(g, last - 1);
            G = guest_page_index(g, p) < (inv.boundary_gpa ? guest_page_index(g,
                inv.boundary_gpa) : guest_window_pages(g)) ? inv.generation : inv.generation - 1;
            g_assert_true(ram_page_is_zero(img, p));
            g_assert_true(ram_page_is_zero(img, q));
            /* p gets back the pattern it held before pass G zeroed it; q
             * one stray word in its middle. */
            ram_put64(img, p, G - 1);
            ram_put64(img, p + MT_PAGE_SIZE - 8, verify_tail(G - 1, p));
            ram_put64(img, q + MT_HOT_WORD_OFFSET + 8, ZERO_WORD);
            want[0] = (SerialError){ p, 0, G - 1, 0 };
            want[1] = (SerialError){ q + MT_HOT_WORD_OFFSET + 8, 0, ZERO_WORD, 0 };
            g_test_message("%s: old pattern %" G_GUINT64_FORMAT " into zero page 0x%"
                           G_GINT64_MODIFIER "x, a word into 0x%" G_GINT64_MODIFIER "x "
                           "(generation %" G_GUINT64_FORMAT ", pause %u)", g->label, G - 1,
                           p, q, G, tries);
            break;
        }
        guest_cont(g);
        g_usleep(3000 + tries * 1000);
    }
    g_assert_cmpuint(tries, <, ZERO_TRIES);
    guest_cont(g);
    guest_expect_records(g, before.errors, want, 2, RECORD_MS);
    guest_free(g);
}

/* ---- whole-page fill ------------------------------------------------------ */

#define FULL_HOT 64             /* hot words sit inside filled pages */
#define FULL_WORD_OFF 1024      /* the middle word the corruption changes */
#define FULL_FLIP 0x8000

static const BootCase full_cases[] = {
    { "x86_64", "default", "pc", "tcg" },
    { "x86_64", "default", "pc", "kvm" },
    { "aarch64", "mmu-on", "virt", "tcg" },
    { "aarch64", "mmu-off-dc-civac", "virt", "tcg" },
};

static Guest *full_start(const BootCase *bc)
{
    GuestSpec spec = { .arch = bc->arch, .variant = bc->variant, .machine = bc->machine,
                       .accel = bc->accel, .fill = MT_FILL_FULL, .hot_pages = FULL_HOT };

    return guest_start(&spec, BOOT_MS);
}

static void test_full_boot(Fixture *f, gconstpointer data)
{
    const BootCase *bc = data;
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    double first_s, pass_ms;
    guint64 p;
    Guest *g;

    (void)f;
    if (g_str_equal(bc->accel, "kvm") && !vm_kvm_usable(arch_lookup(bc->arch))) {
        g_test_skip("KVM is not usable on this host");
        return;
    }
    g = full_start(bc);
    guest_wait_b(g, BOOT_B, BOOT_MS);
    guest_timing(g, &first_s, &pass_ms);
    guest_assert_clean(g, BOOT_B);
    guest_stop(g);
    guest_settle(g, 100, 5000);
    img = guest_ram(g, FALSE);
    guest_assert_invariant(g, img, &inv);
    /* The middle really is filled: a word of the last page. */
    p = guest_page_gpa(g, guest_window_pages(g) - 1);
    g_assert_cmphex(ram_get64(img, p + FULL_WORD_OFF), ==,
                    verify_fill(ram_get64(img, p), p + FULL_WORD_OFF));
    g_clear_pointer(&img, ram_image_free);
    guest_cont(g);
    guest_wait_b(g, BOOT_B + 2, BOOT_MS);
    guest_assert_clean(g, BOOT_B + 2);
    guest_free(g);
}

static void test_full_corrupt(Fixture *f, gconstpointer data)
{
    const BootCase *bc = data;
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    guint64 n, k, p, a, G;
    SerialCounts before;
    SerialError want;
    Guest *g;

    (void)f;
    g = full_start(bc);
    guest_wait_b(g, BOOT_B, BOOT_MS);
    guest_stop(g);
    before = guest_settle(g, 100, 5000);
    img = guest_ram(g, TRUE);
    guest_assert_invariant(g, img, &inv);
    /* Half a window from the sweep: the guest is nowhere near it. */
    n = guest_window_pages(g);
    k = inv.boundary_gpa ? guest_page_index(g, inv.boundary_gpa) : 0;
    p = guest_page_gpa(g, MAX((k + n / 2) % n, (guint64)FULL_HOT));
    a = p + FULL_WORD_OFF;
    G = ram_get64(img, p);
    g_assert_cmphex(ram_get64(img, a), ==, verify_fill(G, a));
    ram_put64(img, a, verify_fill(G, a) ^ FULL_FLIP);
    want = (SerialError){ a, verify_fill(G, a), verify_fill(G, a) ^ FULL_FLIP, 0 };
    g_test_message("%s: middle word 0x%" G_GINT64_MODIFIER "x of a generation-%"
                   G_GUINT64_FORMAT " page flipped", g->label, a, G);
    g_clear_pointer(&img, ram_image_free);
    guest_cont(g);
    guest_expect_records(g, before.errors, &want, 1, RECORD_MS);
    guest_free(g);
}

/* ---- atomic hot set ------------------------------------------------------- */

#define ATOMIC_HOT 64
#define ATOMIC_GARBAGE 0x0bad0bad0bad0badull

/* The plain hot set too: the baseline the atomic one's cost is taken
 * against, and the plain path's own fault-injection test. */
typedef struct {
    BootCase boot;
    guint32 hot_op;
    const char *op_name;
} HotCase;

static const HotCase atomic_cases[] = {
    { { "x86_64", "default", "pc", "tcg" }, MT_HOT_ATOMIC, "atomic" },
    { { "x86_64", "default", "pc", "kvm" }, MT_HOT_ATOMIC, "atomic" },
    { { "aarch64", "mmu-on", "virt", "tcg" }, MT_HOT_ATOMIC, "atomic" },
    { { "x86_64", "default", "pc", "tcg" }, MT_HOT_PLAIN, "plain" },
    { { "x86_64", "default", "pc", "kvm" }, MT_HOT_PLAIN, "plain" },
    { { "aarch64", "mmu-on", "virt", "tcg" }, MT_HOT_PLAIN, "plain" },
};

static Guest *atomic_start(const HotCase *hc)
{
    const BootCase *bc = &hc->boot;
    GuestSpec spec = { .arch = bc->arch, .variant = bc->variant, .machine = bc->machine,
                       .accel = bc->accel, .hot_pages = ATOMIC_HOT, .hot_op = hc->hot_op };

    return guest_start(&spec, BOOT_MS);
}

static void test_atomic_boot(Fixture *f, gconstpointer data)
{
    const HotCase *hc = data;
    const BootCase *bc = &hc->boot;
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    double first_s, pass_ms;
    Guest *g;

    (void)f;
    if (g_str_equal(bc->accel, "kvm") && !vm_kvm_usable(arch_lookup(bc->arch))) {
        g_test_skip("KVM is not usable on this host");
        return;
    }
    g = atomic_start(hc);
    guest_wait_b(g, BOOT_B, BOOT_MS);
    guest_timing(g, &first_s, &pass_ms);
    guest_assert_clean(g, BOOT_B);
    guest_stop(g);
    guest_settle(g, 100, 5000);
    img = guest_ram(g, FALSE);
    guest_assert_invariant(g, img, &inv);
    g_assert_cmpuint(inv.hot_counter, >, (guint64)BOOT_B * guest_window_pages(g) - 1);
    g_clear_pointer(&img, ram_image_free);
    guest_cont(g);
    guest_wait_b(g, BOOT_B + 2, BOOT_MS);
    guest_assert_clean(g, BOOT_B + 2);
    guest_free(g);
}

static void test_atomic_corrupt(Fixture *f, gconstpointer data)
{
    const HotCase *hc = data;
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    SerialError want[2];
    SerialCounts before;
    guint64 h, j, start;
    Guest *g;

    (void)f;
    g = atomic_start(hc);
    guest_wait_b(g, BOOT_B, BOOT_MS);
    guest_stop(g);
    before = guest_settle(g, 100, 5000);
    img = guest_ram(g, TRUE);
    guest_assert_invariant(g, img, &inv);
    h = inv.hot_counter;
    start = g->params.ranges[0].start;
    j = inv.hot_boundary_gpa ? (inv.hot_boundary_gpa - start) / MT_PAGE_SIZE : ATOMIC_HOT;
    /* Words 10 and 11: one on an even page, one on an odd one.  Their next
     * check expects what they hold now (h before the round's boundary j,
     * h - 1 after it). */
    for (guint i = 0; i < 2; i++) {
        guint64 w = start + (10 + i) * MT_PAGE_SIZE + MT_HOT_WORD_OFFSET;
        guint64 now = 10 + i < j ? h : h - 1;

        g_assert_cmphex(ram_get64(img, w), ==, now);
        ram_put64(img, w, ATOMIC_GARBAGE + i);
        want[i] = (SerialError){ w, now, ATOMIC_GARBAGE + i, 0 };
    }
    g_test_message("%s: hot words 10 and 11 overwritten at h %" G_GUINT64_FORMAT
                   " (round boundary at word %" G_GUINT64_FORMAT ")", g->label, h, j);
    g_clear_pointer(&img, ram_image_free);
    guest_cont(g);
    guest_expect_records(g, before.errors, want, 2, RECORD_MS);
    /* Repaired: the hot set is consistent again. */
    guest_stop(g);
    guest_settle(g, 100, 5000);
    img = guest_ram(g, FALSE);
    invariant_result_clear(&inv);
    guest_assert_invariant(g, img, &inv);
    guest_free(g);
}

/* ---- CPU-state canaries ------------------------------------------------ */

static const BootCase canary_cases[] = {
    { "x86_64", "default", "pc", "tcg" },
    { "x86_64", "default", "pc", "kvm" },
    { "aarch64", "mmu-on", "virt", "tcg" },
    { "aarch64", "mmu-off", "virt", "tcg" },
};

static Guest *canary_start(const BootCase *bc)
{
    GuestSpec spec = { .arch = bc->arch, .variant = bc->variant, .machine = bc->machine,
                       .accel = bc->accel, .canaries = 1, .gdbstub = TRUE };

    return guest_start(&spec, BOOT_MS);
}

static void test_canary_boot(Fixture *f, gconstpointer data)
{
    const BootCase *bc = data;
    double first_s, pass_ms;
    Guest *g;

    (void)f;
    if (g_str_equal(bc->accel, "kvm") && !vm_kvm_usable(arch_lookup(bc->arch))) {
        g_test_skip("KVM is not usable on this host");
        return;
    }
    g = canary_start(bc);
    guest_wait_b(g, TIMING_B, BOOT_MS);
    guest_timing(g, &first_s, &pass_ms);
    guest_assert_clean(g, TIMING_B);
    /* Paused and resumed: the registers come back as they were. */
    guest_stop(g);
    guest_settle(g, 100, 5000);
    guest_cont(g);
    guest_wait_b(g, TIMING_B + 2, BOOT_MS);
    guest_assert_clean(g, TIMING_B + 2);
    guest_free(g);
}

/* Pause, change one canary register through the gdbstub (what a migration
 * that lost it would leave), resume: the guest must name that register,
 * with its canary and the value written, once (it reloads its canaries),
 * and run on. */
typedef struct {
    const BootCase *boot;
    const char *reg;            /* gdb's name */
    guint vec;                  /* the SIMD register number */
    guint half;                 /* the 64-bit half changed */
} CanaryFault;

#define CANARY_FLIP G_GUINT64_CONSTANT(0x0000100000000001)

static guint64 canary_value(guint64 id)
{
    return (guint64)MT_CANARY_SEED ^ (id * (guint64)MT_TAIL_MUL);
}

static void test_canary_corrupt(Fixture *f, gconstpointer data)
{
    const CanaryFault *cf = data;
    guint64 id = MT_REG_VEC + 2 * cf->vec + cf->half, v[2];
    g_autoptr(GError) error = NULL;
    SerialCounts before;
    SerialError want;
    Guest *g;

    (void)f;
    g = canary_start(cf->boot);
    guest_wait_b(g, BOOT_B, BOOT_MS);
    guest_assert_clean(g, BOOT_B);
    guest_stop(g);
    before = guest_settle(g, 100, 5000);
    v[0] = GUINT64_TO_LE(canary_value(MT_REG_VEC + 2 * cf->vec));
    v[1] = GUINT64_TO_LE(canary_value(MT_REG_VEC + 2 * cf->vec + 1));
    v[cf->half] ^= GUINT64_TO_LE(CANARY_FLIP);
    /* aarch64 -cpu max has SVE: gdb sees z n (v n is its low 128 bits). */
    if (!gdbstub_write_reg(vm_gdb_path(g->vm), cf->reg, (const guint8 *)v, sizeof(v),
                           deadline_in_ms(10000), &error) && cf->reg[0] == 'v') {
        g_autofree char *z = g_strdup_printf("z%u", cf->vec);

        g_test_message("%s: %s", g->label, error->message);
        g_clear_error(&error);
        gdbstub_write_reg(vm_gdb_path(g->vm), z, (const guint8 *)v, sizeof(v),
                          deadline_in_ms(10000), &error);
    }
    g_assert_no_error(error);
    want = (SerialError){ MT_REG_RECORD + id, canary_value(id), canary_value(id) ^ CANARY_FLIP,
                          0 };
    g_test_message("%s: %s bits %u..%u flipped by 0x%" G_GINT64_MODIFIER "x", g->label,
                   cf->reg, cf->half * 64, cf->half * 64 + 63, CANARY_FLIP);
    guest_cont(g);
    guest_expect_records(g, before.errors, &want, 1, RECORD_MS);
    guest_free(g);
}

/* A control register the guest set, changed the same way. */
typedef struct {
    const BootCase *boot;
    const char *reg;            /* gdb's name; 32 bits */
    guint sys;                  /* MT_SYS_* */
    guint32 expected, written;
} SysFault;

static void test_canary_sys(Fixture *f, gconstpointer data)
{
    const SysFault *sf = data;
    guint32 v = GUINT32_TO_LE(sf->written);
    g_autoptr(GError) error = NULL;
    SerialCounts before;
    SerialError want;
    Guest *g;

    (void)f;
    g = canary_start(sf->boot);
    guest_wait_b(g, BOOT_B, BOOT_MS);
    guest_stop(g);
    before = guest_settle(g, 100, 5000);
    gdbstub_write_reg(vm_gdb_path(g->vm), sf->reg, (const guint8 *)&v, sizeof(v),
                      deadline_in_ms(10000), &error);
    g_assert_no_error(error);
    want = (SerialError){ MT_REG_RECORD + MT_REG_SYS + sf->sys, sf->expected, sf->written, 0 };
    guest_cont(g);
    guest_expect_records(g, before.errors, &want, 1, RECORD_MS);
    guest_free(g);
}

/* Round to nearest instead of toward zero. */
static const SysFault sys_faults[] = {
    { &canary_cases[0], "mxcsr", MT_SYS_X86_MXCSR, MT_SYS_X86_MXCSR_VALUE, 0x1f80 },
    { &canary_cases[2], "fpcr", MT_SYS_ARM_FPCR, MT_SYS_ARM_FPCR_VALUE, 0 },
};

static const CanaryFault canary_faults[] = {
    { &canary_cases[0], "xmm12", 12, 0 },
    { &canary_cases[0], "xmm15", 15, 1 },
    { &canary_cases[2], "v5", 5, 1 },
    { &canary_cases[3], "v31", 31, 0 },
};

/* ---- the guest's own checks of the new parameter fields ----------------- */

/* A field past the host's checks: the guest must refuse the block with one
 * record naming the field (its guest physical address), the bound and the
 * value, and halt (no 'B'). */
typedef struct {
    const char *arch;
    guint32 field, value, bound;
    guint32 zero_every;         /* zero_pages is only checked with runs on */
} ParamFault;

#define PARAM_QUIET_MS 500      /* no 'B' in ~20 passes' time: it halted */

static const ParamFault param_faults[] = {
    { "x86_64", MT_P_FILL, MT_FILL_MAX + 1, MT_FILL_MAX, 0 },
    { "x86_64", MT_P_HOT_OP, 7, MT_HOT_OP_MAX, 0 },
    { "x86_64", MT_P_CANARIES, 2, MT_CANARIES_MAX, 0 },
    { "x86_64", MT_P_ZERO_PAGES, MT_ZERO_MIN_PAGES - 1, MT_ZERO_MIN_PAGES, 1 },
    { "x86_64", MT_P_ZERO_METHOD, MT_ZERO_METHOD_MAX + 1, MT_ZERO_METHOD_MAX, 1 },
    { "aarch64", MT_P_FILL, MT_FILL_MAX + 1, MT_FILL_MAX, 0 },
    { "aarch64", MT_P_HOT_OP, 7, MT_HOT_OP_MAX, 0 },
    { "aarch64", MT_P_CANARIES, 2, MT_CANARIES_MAX, 0 },
    { "aarch64", MT_P_ZERO_PAGES, MT_ZERO_MIN_PAGES - 1, MT_ZERO_MIN_PAGES, 1 },
    { "aarch64", MT_P_ZERO_METHOD, MT_ZERO_METHOD_MAX + 1, MT_ZERO_METHOD_MAX, 1 },
};

static void test_param_fault(Fixture *f, gconstpointer data)
{
    const ParamFault *pf = data;
    guint64 block = g_str_equal(pf->arch, "x86_64") ? MT_X86_PARAM_GPA
                                                    : MT_ARM_LOAD_ADDR + MT_PARAM_OFFSET;
    GuestSpec spec = { .arch = pf->arch, .zero_every = pf->zero_every,
                       .zero_pages = pf->zero_every ? MT_ZERO_MIN_PAGES : 0,
                       .raw_field = pf->field, .raw_value = pf->value };
    SerialError want = { block + pf->field, pf->bound, pf->value, 0 };
    g_autoptr(GArray) errs = NULL;
    SerialCounts c;
    Guest *g;

    (void)f;
    g = guest_start(&spec, BOOT_MS);
    guest_wait_errors(g, 1, BOOT_MS);
    g_usleep(PARAM_QUIET_MS * 1000);
    c = guest_counts(g);
    errs = serial_errors_dup(vm_serial(g->vm));
    g_assert_cmpuint(c.a, ==, 1);
    g_assert_cmpuint(c.b, ==, 0);
    g_assert_cmpuint(c.errors, ==, 1);
    g_assert_cmphex(g_array_index(errs, SerialError, 0).gpa, ==, want.gpa);
    g_assert_cmphex(g_array_index(errs, SerialError, 0).expected, ==, want.expected);
    g_assert_cmphex(g_array_index(errs, SerialError, 0).found, ==, want.found);
    guest_free(g);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_init();
    for (guint i = 0; i < G_N_ELEMENTS(boot_cases); i++) {
        const BootCase *bc = &boot_cases[i];
        g_autofree char *path = g_strdup_printf("/guest/boot/%s/%s/%s/%s", bc->arch,
                                                bc->variant, bc->machine, bc->accel);
        g_test_add(path, Fixture, bc, harness_fixture_check, test_boot, harness_fixture_check);
    }
    g_test_add("/guest/corrupt/x86_64", Fixture, &boot_cases[0], harness_fixture_check,
               test_corrupt, harness_fixture_check);
    g_test_add("/guest/corrupt/aarch64-mmu-on", Fixture, &boot_cases[3], harness_fixture_check,
               test_corrupt, harness_fixture_check);
    g_test_add("/guest/b-every/x86_64", Fixture, &boot_cases[0], harness_fixture_check,
               test_b_every, harness_fixture_check);
    g_test_add("/guest/b-every/aarch64-mmu-on", Fixture, &boot_cases[3], harness_fixture_check,
               test_b_every, harness_fixture_check);
    for (guint i = 0; i < G_N_ELEMENTS(zero_cases); i++) {
        const ZeroCase *zc = &zero_cases[i];
        g_autofree char *path = g_strdup_printf("/guest/zero-run/boot/%s/%s/%s/%s",
                                                zc->boot.arch, zc->boot.variant,
                                                zc->boot.accel, zc->method_name);
        g_test_add(path, Fixture, zc, harness_fixture_check, test_zero_boot,
                   harness_fixture_check);
    }
    g_test_add("/guest/zero-run/corrupt/x86_64", Fixture, &zero_cases[0],
               harness_fixture_check, test_zero_corrupt, harness_fixture_check);
    g_test_add("/guest/zero-run/corrupt/aarch64-mmu-on", Fixture, &zero_cases[2],
               harness_fixture_check, test_zero_corrupt, harness_fixture_check);
    for (guint i = 0; i < G_N_ELEMENTS(full_cases); i++) {
        const BootCase *bc = &full_cases[i];
        g_autofree char *path = g_strdup_printf("/guest/fill-full/boot/%s/%s/%s", bc->arch,
                                                bc->variant, bc->accel);
        g_test_add(path, Fixture, bc, harness_fixture_check, test_full_boot,
                   harness_fixture_check);
    }
    g_test_add("/guest/fill-full/corrupt/x86_64", Fixture, &full_cases[0],
               harness_fixture_check, test_full_corrupt, harness_fixture_check);
    g_test_add("/guest/fill-full/corrupt/aarch64-mmu-on", Fixture, &full_cases[2],
               harness_fixture_check, test_full_corrupt, harness_fixture_check);
    for (guint i = 0; i < G_N_ELEMENTS(atomic_cases); i++) {
        const BootCase *bc = &atomic_cases[i].boot;
        g_autofree char *path = g_strdup_printf("/guest/hot-%s/boot/%s/%s/%s",
                                                atomic_cases[i].op_name, bc->arch,
                                                bc->variant, bc->accel);
        g_test_add(path, Fixture, bc, harness_fixture_check, test_atomic_boot,
                   harness_fixture_check);
    }
    g_test_add("/guest/hot-atomic/corrupt/x86_64", Fixture, &atomic_cases[0],
               harness_fixture_check, test_atomic_corrupt, harness_fixture_check);
    g_test_add("/guest/hot-atomic/corrupt/aarch64-mmu-on", Fixture, &atomic_cases[2],
               harness_fixture_check, test_atomic_corrupt, harness_fixture_check);
    g_test_add("/guest/hot-plain/corrupt/x86_64", Fixture, &atomic_cases[3],
               harness_fixture_check, test_atomic_corrupt, harness_fixture_check);
    for (guint i = 0; i < G_N_ELEMENTS(canary_cases); i++) {
        const BootCase *bc = &canary_cases[i];
        g_autofree char *path = g_strdup_printf("/guest/canary/boot/%s/%s/%s", bc->arch,
                                                bc->variant, bc->accel);
        g_test_add(path, Fixture, bc, harness_fixture_check, test_canary_boot,
                   harness_fixture_check);
    }
    for (guint i = 0; i < G_N_ELEMENTS(canary_faults); i++) {
        const CanaryFault *cf = &canary_faults[i];
        g_autofree char *path = g_strdup_printf("/guest/canary/corrupt/%s/%s/%s",
                                                cf->boot->arch, cf->boot->variant, cf->reg);
        g_test_add(path, Fixture, cf, harness_fixture_check, test_canary_corrupt,
                   harness_fixture_check);
    }
    for (guint i = 0; i < G_N_ELEMENTS(sys_faults); i++) {
        const SysFault *sf = &sys_faults[i];
        g_autofree char *path = g_strdup_printf("/guest/canary/corrupt/%s/%s/%s",
                                                sf->boot->arch, sf->boot->variant, sf->reg);
        g_test_add(path, Fixture, sf, harness_fixture_check, test_canary_sys,
                   harness_fixture_check);
    }
    for (guint i = 0; i < G_N_ELEMENTS(param_faults); i++) {
        const ParamFault *pf = &param_faults[i];
        g_autofree char *path = g_strdup_printf("/guest/param-fault/%s/offset-%u", pf->arch,
                                                pf->field);
        g_test_add(path, Fixture, pf, harness_fixture_check, test_param_fault,
                   harness_fixture_check);
    }
    return g_test_run();
}
