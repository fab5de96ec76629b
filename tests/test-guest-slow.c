/*
 * test-guest-slow.c: the payloads on big windows, under TCG, no
 * migration (suite slow: meson test -C build --suite slow).
 *   2g-window   a 2 GiB window in a 2560 MiB guest, on each architecture;
 *   cross-4g    x86_64 pc, 5 GiB guest (3 GiB low, 2 GiB at 4 GiB): one
 *               window of two ranges, [1 MiB, 3 GiB) and [4 GiB, 6 GiB);
 *               a page zeroed above 4 GiB is reported by the guest at its
 *               exact head and tail addresses.
 * Each: one 'A', at least two 'B', no 'E'; then, paused, the invariant
 * holds on a snapshot.  Launch-to-first-'B' and per-pass times are
 * printed (TAP comments) for the report.
 */
#include <string.h>
#include "guest-harness.h"

#define SLOW_LAUNCH_MS 60000
/* The first pass faults every page of the RAM file in; a loaded 2-core
 * host can be slow.  Generous: the numbers are printed, not asserted. */
#define SLOW_B_MS 600000
#define SLOW_B 4                /* the ask is 2; 4 gives a better per-pass mean */

typedef HarnessFixture Fixture;

/* Boot, two clean 'B', timing, then pause and check the invariant. */
static Guest *boot_big(const GuestSpec *spec, InvariantResult *inv)
{
    g_autoptr(RamImage) img = NULL;
    double first_s, pass_ms;
    SerialCounts c;
    Guest *g = guest_start(spec, SLOW_LAUNCH_MS);
    gint64 t0;

    guest_wait_b(g, SLOW_B, SLOW_B_MS);
    guest_timing(g, &first_s, &pass_ms);
    guest_assert_clean(g, SLOW_B);
    guest_stop(g);
    c = guest_settle(g, 200, 10000);
    t0 = g_get_monotonic_time();
    img = guest_ram(g, FALSE);
    g_test_message("%s: RAM mapped in %.0f ms", g->label,
                   (g_get_monotonic_time() - t0) / 1e3);
    guest_assert_invariant(g, img, inv);
    guest_assert_b_count(g, inv, c.b);
    guest_assert_clean(g, SLOW_B);
    return g;
}

static void test_2g_window(Fixture *f, gconstpointer data)
{
    const char *arch_name = data;
    const ArchDesc *arch = arch_lookup(arch_name);
    GuestSpec spec = {
        .arch = arch_name, .accel = "tcg", .mem_bytes = 2560 * GH_MIB, .nranges = 1,
        .ranges = { { arch->ram_base + GH_MIB, arch->ram_base + 2 * GH_GIB + GH_MIB } },
    };
    g_auto(InvariantResult) inv = { 0 };
    Guest *g;

    (void)f;
    g = boot_big(&spec, &inv);
    g_assert_cmpuint(inv.pages_checked, ==, 2 * GH_GIB / MT_PAGE_SIZE);
    guest_free(g);
}

/* The page of range 1 (above 4 GiB) farthest, in sweep order, from the
 * sweep position @k: the guest cannot be halfway through it. */
static guint64 far_page_above_4g(Guest *g, guint64 k)
{
    const PayloadRange *r1 = &g->params.ranges[1];
    guint64 n = guest_window_pages(g);
    guint64 cand[] = { r1->start + 16 * MT_PAGE_SIZE, (r1->start + r1->end) / 2,
                       r1->end - 16 * MT_PAGE_SIZE };
    guint64 best = 0, best_dist = 0;

    for (guint c = 0; c < G_N_ELEMENTS(cand); c++) {
        guint64 i = guest_page_index(g, cand[c]);
        guint64 d = (i + n - k) % n;
        d = MIN(d, n - d);
        if (d > best_dist) {
            best_dist = d;
            best = cand[c];
        }
    }
    g_assert_cmpuint(best_dist, >, n / 8);
    return best;
}

static void test_cross_4g(Fixture *f, gconstpointer u)
{
    GuestSpec spec = {
        .arch = "x86_64", .machine = "pc", .accel = "tcg", .mem_bytes = 5 * GH_GIB,
        .nranges = 2,
        .ranges = { { GH_MIB, 3 * GH_GIB }, { 4 * GH_GIB, 6 * GH_GIB } },
    };
    g_auto(InvariantResult) inv = { 0 };
    g_auto(InvariantResult) inv2 = { 0 };
    g_autoptr(RamImage) img = NULL;
    SerialError want[2];
    SerialCounts before;
    guint64 k, p, G;
    Guest *g;

    (void)f; (void)u;
    g = boot_big(&spec, &inv);
    g_assert_cmpuint(inv.pages_checked, ==, (3 * GH_GIB - GH_MIB + 2 * GH_GIB) / MT_PAGE_SIZE);
    /* The RAM layout migtest assumes: 3 GiB low, the rest at 4 GiB. */
    g_assert_cmpuint(vm_ram_layout(g->vm)->nsegs, ==, 2);
    g_assert_cmphex(vm_ram_layout(g->vm)->seg[1].gpa, ==, 4 * GH_GIB);
    g_assert_cmphex(vm_ram_layout(g->vm)->seg[1].offset, ==, 3 * GH_GIB);

    /* Zero one page above 4 GiB while paused (the guest stopped in
     * boot_big), then let it find it. */
    before = guest_counts(g);
    k = inv.boundary_gpa ? guest_page_index(g, inv.boundary_gpa) : 0;
    img = guest_ram(g, TRUE);
    p = far_page_above_4g(g, k);
    G = ram_get64(img, p);
    g_assert_cmpuint(G, >=, 1);
    g_assert_cmphex(ram_get64(img, p + MT_PAGE_SIZE - 8), ==, verify_tail(G, p));
    g_test_message("%s: zeroing page 0x%" G_GINT64_MODIFIER "x (generation %" G_GUINT64_FORMAT
                   "; sweep boundary 0x%" G_GINT64_MODIFIER "x)", g->label, p, G,
                   inv.boundary_gpa);
    memset(ram_at(img, p, MT_PAGE_SIZE), 0, MT_PAGE_SIZE);
    g_clear_pointer(&img, ram_image_free);
    want[0] = (SerialError){ p, G, 0, 0 };
    want[1] = (SerialError){ p + MT_PAGE_SIZE - 8, verify_tail(G, p), 0, 0 };
    guest_cont(g);
    guest_expect_records(g, before.errors, want, G_N_ELEMENTS(want), SLOW_B_MS);

    /* Repaired: consistent again. */
    guest_stop(g);
    img = guest_ram(g, FALSE);
    guest_assert_invariant(g, img, &inv2);
    g_clear_pointer(&img, ram_image_free);
    guest_free(g);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_init();
    g_test_add("/guest-slow/x86_64/pc/2g-window", Fixture, "x86_64", harness_fixture_check,
               test_2g_window, harness_fixture_check);
    g_test_add("/guest-slow/aarch64/mmu-on/2g-window", Fixture, "aarch64", harness_fixture_check,
               test_2g_window, harness_fixture_check);
    g_test_add("/guest-slow/x86_64/pc/cross-4g", Fixture, NULL, harness_fixture_check,
               test_cross_4g, harness_fixture_check);
    return g_test_run();
}
