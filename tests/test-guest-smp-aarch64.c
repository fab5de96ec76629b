/*
 * test-guest-smp-aarch64.c: the aarch64 payload with several vCPUs
 * (migtest-abi.h, "Several vCPUs"; guest/aarch64/smp.S: PSCI CPU_ON), one
 * QEMU each, TCG, no migration (x86_64: test-guest-smp.c).
 *   boot     2 and 4 vCPUs: one 'A', first, then every vCPU beats ('B',
 *            '1' .. '3'), no 'E', no junk, and a paused snapshot
 *            satisfies the invariant slice by slice;
 *   options  4 vCPUs with hot set (atomic), zero runs, fill=full and
 *            canaries: clean, invariant per slice;
 *   corrupt  a page of slice 3 (4 vCPUs) made stale behind the paused
 *            guest's back is reported by the vCPU that owns it, at the
 *            page's head and tail, with the exact expected and found
 *            values, and the guest runs on clean;
 *   corrupt-all  page 100 of every slice at once: 2N records race for
 *            the shared UART and each arrives whole, once (the lock);
 *   missing-vcpu  MT_P_VCPUS 4 with -smp 2: one record, found = 2 up;
 *   refused  N > 1 on an mmu-off variant, N > MT_MAX_VCPUS, N > 1 with two
 *            ranges (set past the host's checks): one record naming the
 *            field, no 'A', no beat;
 *   cost     (slow: -m slow) ms per pass of vCPU 0 with 1, 2 and 4
 *            vCPUs sharing the default window (logged for the issue note).
 */
#include <string.h>
#include "guest-harness.h"

#define BOOT_MS 60000           /* launch to the beats we wait for */
#define BEATS 3                 /* beats asked of every vCPU */
#define RECORD_MS 30000
#define QUIET_MS 1000           /* a refused block: nothing after the record */

typedef HarnessFixture Fixture;

typedef struct {
    const char *arch;
    const char *accel;
    guint vcpus;
} SmpCase;

static const SmpCase smp_cases[] = {
    { "aarch64", "tcg", 2 },
    { "aarch64", "tcg", 4 },
};

/* Wait until every vCPU has beaten @beats times; FALSE on the deadline. */
static gboolean wait_all_beats(Guest *g, guint n, guint beats, gint64 timeout_ms)
{
    guint target[MT_MAX_VCPUS];

    for (guint i = 0; i < n; i++)
        target[i] = beats;
    return serial_wait_vcpu_beats(vm_serial(g->vm), n, target, deadline_in_ms(timeout_ms));
}

/* One 'A', first; then only beats of vCPUs 0 .. n - 1. */
static void assert_clean_smp(Guest *g, guint n)
{
    SerialCounts c = guest_counts(g);
    gsize len;
    g_autofree char *text = guest_serial_text(g, &len);

    g_assert_cmpuint(c.errors, ==, 0);
    g_assert_cmpuint(c.junk, ==, 0);
    g_assert_cmpuint(c.a, ==, 1);
    g_assert_cmpint(text[0], ==, MT_SERIAL_START);
    for (gsize i = 1; i < len; i++) {
        guint ch = (guint8)text[i];
        gboolean beat = ch == MT_SERIAL_PASS ||
                        (ch > MT_SERIAL_VCPU_BEAT(0) && ch < MT_SERIAL_VCPU_BEAT(n));
        if (!beat)
            g_error("%s: serial byte %zu is 0x%02x, not a beat of %u vCPUs", g->label, i,
                    (guint8)ch, n);
    }
}

/* Boot and wait for BEATS beats of every vCPU. */
static Guest *boot_smp(const SmpCase *sc, GuestSpec *spec)
{
    Guest *g;

    spec->arch = sc->arch;
    spec->accel = sc->accel;
    spec->vcpus = sc->vcpus;
    g = guest_start(spec, BOOT_MS);
    if (!wait_all_beats(g, sc->vcpus, BEATS, BOOT_MS)) {
        SerialCounts c = guest_counts(g);

        g_error("%s: vCPU beats %u %u %u %u after %d ms ('A' %u, 'E' %u)", g->label,
                c.vcpu_b[0], c.vcpu_b[1], c.vcpu_b[2], c.vcpu_b[3], BOOT_MS, c.a, c.errors);
    }
    return g;
}

static void test_boot(Fixture *f, gconstpointer data)
{
    const SmpCase *sc = data;
    GuestSpec spec = { 0 };
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    Guest *g;

    (void)f;
    g = boot_smp(sc, &spec);
    assert_clean_smp(g, sc->vcpus);
    guest_stop(g);
    guest_settle(g, 200, BOOT_MS);
    img = guest_ram(g, FALSE);
    guest_assert_invariant(g, img, &inv);
    g_assert_cmpuint(inv.nslices, ==, sc->vcpus);
    for (guint i = 0; i < sc->vcpus; i++)
        g_assert_cmpuint(inv.slice_generation[i], >=, BEATS);
    g_clear_pointer(&img, ram_image_free);
    assert_clean_smp(g, sc->vcpus);
    guest_free(g);
}

/* 4 vCPUs with every option vCPU 0 keeps (hot set, atomic, zero runs in
 * slice 0, fill=full, canaries) and the others share (fill, hot op,
 * canaries): all beat, no record (a hot set or zero run counted outside
 * slice 0 would report), and the snapshot holds slice by slice, slice 0
 * with its hot words and zero pages.  (Device probes: the host refuses
 * them with several vCPUs.) */
static void test_options(Fixture *f, gconstpointer data)
{
    const SmpCase *sc = data;
    GuestSpec spec = { .hot_pages = 64, .hot_op = MT_HOT_ATOMIC, .zero_every = 2,
                       .zero_pages = 1024, .zero_method = MT_ZERO_ALTERNATE,
                       .fill = MT_FILL_FULL, .canaries = 1 };
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    Guest *g;

    (void)f;
    g = boot_smp(sc, &spec);
    g_assert_true(wait_all_beats(g, sc->vcpus, 2 * BEATS + 2, BOOT_MS));
    assert_clean_smp(g, sc->vcpus);
    guest_stop(g);
    guest_settle(g, 200, BOOT_MS);
    img = guest_ram(g, FALSE);
    guest_assert_invariant(g, img, &inv);
    g_assert_cmpuint(inv.nslices, ==, sc->vcpus);
    g_assert_cmpuint(inv.zero_pages, >, 0);
    g_clear_pointer(&img, ram_image_free);
    assert_clean_smp(g, sc->vcpus);
    guest_free(g);
}

/* Slice 3's page 100 rolled back one generation while paused: its owner
 * reports head and tail at the next visit.  A page before the boundary
 * (newer) would hold G and read G - 1; one after it would hold G - 1 and
 * read G - 2: either way "found" is one generation behind "expected". */
static void test_corrupt(Fixture *f, gconstpointer data)
{
    const SmpCase *sc = data;
    GuestSpec spec = { 0 };
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    PayloadParams s3;
    SerialCounts before;
    guint64 p, head;
    Guest *g;

    (void)f;
    g = boot_smp(sc, &spec);
    g_assert_true(payload_params_slice(&g->params, 3, &s3));
    p = s3.ranges[0].start + 100 * MT_PAGE_SIZE;
    guest_stop(g);
    before = guest_settle(g, 200, BOOT_MS);
    img = guest_ram(g, TRUE);
    head = ram_get64(img, p);
    g_assert_cmpuint(head, >=, 2);
    ram_put64(img, p, head - 1);
    ram_put64(img, p + MT_PAGE_SIZE - 8, verify_tail(head - 1, p));
    /* The invariant finds it too, in slice 3, at the page. */
    {
        InvariantResult r;
        g_assert_false(verify_invariant(img, &g->params, &r, NULL));
        g_assert_cmphex(r.reported[0].gpa, ==, p);
        invariant_result_clear(&r);
    }
    g_clear_pointer(&img, ram_image_free);
    guest_cont(g);
    {
        SerialError want[2] = {
            { p, head, head - 1, 0 },
            { p + MT_PAGE_SIZE - 8, verify_tail(head, p), verify_tail(head - 1, p), 0 },
        };
        guest_expect_records(g, before.errors, want, 2, RECORD_MS);
    }
    guest_stop(g);
    guest_settle(g, 200, BOOT_MS);
    img = guest_ram(g, FALSE);
    guest_assert_invariant(g, img, &inv);
    g_clear_pointer(&img, ram_image_free);
    guest_free(g);
}

/* CORRUPT_PAGES pages of every slice rolled back at once: each vCPU
 * reports its own (head and tail) while the others report theirs, so the
 * records race for the UART; every one must arrive whole (the lock), none
 * twice, no junk.  (With the lock made a no-op this fails: records torn
 * into junk.) */
#define CORRUPT_PAGES 64
#define CORRUPT_STRIDE 10
static void test_corrupt_all(Fixture *f, gconstpointer data)
{
    const SmpCase *sc = data;
    GuestSpec spec = { 0 };
    g_autoptr(RamImage) img = NULL;
    g_autoptr(GArray) errs = NULL;
    g_autofree SerialError *want = g_new(SerialError, 2 * CORRUPT_PAGES * sc->vcpus);
    guint nwant = 0;
    SerialCounts before, c;
    Guest *g;

    (void)f;
    g = boot_smp(sc, &spec);
    guest_stop(g);
    before = guest_settle(g, 200, BOOT_MS);
    img = guest_ram(g, TRUE);
    for (guint i = 0; i < sc->vcpus; i++) {
        PayloadParams s;

        g_assert_true(payload_params_slice(&g->params, i, &s));
        for (guint j = 1; j <= CORRUPT_PAGES; j++) {
            guint64 p = s.ranges[0].start + j * CORRUPT_STRIDE * MT_PAGE_SIZE;
            guint64 head = ram_get64(img, p);

            g_assert_cmpuint(head, >=, 2);
            ram_put64(img, p, head - 1);
            ram_put64(img, p + MT_PAGE_SIZE - 8, verify_tail(head - 1, p));
            want[nwant++] = (SerialError){ p, head, head - 1, 0 };
            want[nwant++] = (SerialError){ p + MT_PAGE_SIZE - 8, verify_tail(head, p),
                                           verify_tail(head - 1, p), 0 };
        }
    }
    g_clear_pointer(&img, ram_image_free);
    guest_cont(g);
    /* Every vCPU two more passes: each page found once, repaired after. */
    {
        guint target[MT_MAX_VCPUS];
        for (guint i = 0; i < sc->vcpus; i++)
            target[i] = before.vcpu_b[i] + 2;
        g_assert_true(serial_wait_vcpu_beats(vm_serial(g->vm), sc->vcpus, target,
                                             deadline_in_ms(RECORD_MS)));
    }
    c = guest_counts(g);
    g_test_message("%s: %u records from %u vCPUs, %u junk bytes", g->label,
                   c.errors - before.errors, sc->vcpus, c.junk);
    g_assert_cmpuint(c.junk, ==, 0);    /* a torn record would be junk */
    g_assert_cmpuint(c.errors, ==, before.errors + nwant);
    errs = serial_errors_dup(vm_serial(g->vm));
    for (guint w = 0; w < nwant; w++) {
        guint seen = 0;

        for (guint i = before.errors; i < errs->len; i++) {
            const SerialError *e = &g_array_index(errs, SerialError, i);
            seen += e->gpa == want[w].gpa && e->expected == want[w].expected &&
                    e->found == want[w].found;
        }
        g_assert_cmpuint(seen, ==, 1);
    }
    guest_free(g);
}

/* The block asks for more vCPUs than QEMU has (-smp 2, MT_P_VCPUS 4):
 * PSCI CPU_ON fails for vCPUs 2 and 3, and after MT_SMP_UP_WAIT_MS vCPU 0
 * reports E<vcpus field> <4> <2 up>, sends no 'A', and nothing runs. */
static void test_missing_vcpu(Fixture *f, gconstpointer data)
{
    GuestSpec spec = { .arch = "aarch64", .vcpus = 2, .raw_field = MT_P_VCPUS,
                       .raw_value = 4 };
    g_autoptr(GArray) errs = NULL;
    const SerialError *e;
    SerialCounts c;
    Guest *g;

    (void)f;
    (void)data;
    g = guest_start(&spec, BOOT_MS);
    guest_wait_errors(g, 1, MT_SMP_UP_WAIT_MS + BOOT_MS);
    g_usleep(QUIET_MS * 1000);
    c = guest_counts(g);
    errs = serial_errors_dup(vm_serial(g->vm));
    e = &g_array_index(errs, SerialError, 0);
    g_assert_cmpuint(c.a, ==, 0);
    g_assert_cmpuint(c.b + c.vcpu_b[1], ==, 0);
    g_assert_cmpuint(c.errors, ==, 1);
    g_assert_cmphex(e->gpa, ==, MT_ARM_LOAD_ADDR + MT_PARAM_OFFSET + MT_P_VCPUS);
    g_assert_cmpuint(e->expected, ==, 4);
    g_assert_cmpuint(e->found, ==, 2);
    guest_free(g);
}

typedef struct {
    const char *arch;
    const char *variant;
    guint field;
    guint32 vcpus;
    guint64 expected;
    guint64 found;
    gboolean two_ranges;
} SmpRefusal;

static const SmpRefusal refusals[] = {
    { "aarch64", "mmu-off", MT_P_VCPUS, 2, 1, 2, FALSE },
    { "aarch64", "mmu-off-late", MT_P_VCPUS, 4, 1, 4, FALSE },
    { "aarch64", "mmu-on", MT_P_VCPUS, MT_MAX_VCPUS + 1, MT_MAX_VCPUS, MT_MAX_VCPUS + 1, FALSE },
    { "aarch64", "mmu-on", MT_P_NRANGES, 2, 1, 2, TRUE },
};

static void test_refused(Fixture *f, gconstpointer data)
{
    const SmpRefusal *sr = data;
    GuestSpec spec = { .arch = sr->arch, .variant = sr->variant,
                       .raw_field = MT_P_VCPUS, .raw_value = sr->vcpus };
    guint64 block = MT_ARM_LOAD_ADDR + MT_PARAM_OFFSET;
    g_autoptr(GArray) errs = NULL;
    const SerialError *e;
    SerialCounts c;
    Guest *g;

    (void)f;
    if (sr->two_ranges) {
        spec.nranges = 2;
        spec.ranges[0] = (PayloadRange){ MT_ARM_RAM_BASE + 4 * GH_MIB, MT_ARM_RAM_BASE + 8 * GH_MIB };
        spec.ranges[1] = (PayloadRange){ MT_ARM_RAM_BASE + 16 * GH_MIB,
                                         MT_ARM_RAM_BASE + 20 * GH_MIB };
    }
    g = guest_start(&spec, BOOT_MS);
    guest_wait_errors(g, 1, BOOT_MS);
    g_usleep(QUIET_MS * 1000);
    c = guest_counts(g);
    errs = serial_errors_dup(vm_serial(g->vm));
    e = &g_array_index(errs, SerialError, 0);
    g_assert_cmpuint(c.a, ==, 0);       /* several vCPUs: 'A' only once all run */
    g_assert_cmpuint(c.b, ==, 0);
    g_assert_cmpuint(c.errors, ==, 1);
    g_assert_cmphex(e->gpa, ==, block + sr->field);
    g_assert_cmphex(e->expected, ==, sr->expected);
    g_assert_cmphex(e->found, ==, sr->found);
    guest_free(g);
}

/* ms per pass per vCPU: the whole default window, with 1, 2 and 4 vCPUs
 * (vCPU i's slice is 1/N of it): each vCPU's beats counted over
 * COST_WINDOW_MS of wall time once all run (counts, not arrival gaps, so
 * a burst of buffered beats does not skew it). */
#define COST_WINDOW_MS 4000
static void test_cost(Fixture *f, gconstpointer data)
{
    const char *arch = data;
    static const guint ns[] = { 1, 2, 4 };

    (void)f;
    for (guint k = 0; k < G_N_ELEMENTS(ns); k++) {
        SmpCase sc = { arch, "tcg", ns[k] };
        GuestSpec spec = { 0 };
        SerialCounts c0, c1;
        GString *per = g_string_new(NULL);
        double sum = 0;
        Guest *g;

        g = boot_smp(&sc, &spec);
        c0 = guest_counts(g);
        g_usleep(COST_WINDOW_MS * 1000);
        c1 = guest_counts(g);
        for (guint i = 0; i < ns[k]; i++) {
            guint passes = c1.vcpu_b[i] - c0.vcpu_b[i];
            double ms = passes ? (double)COST_WINDOW_MS / passes : 0;

            g_assert_cmpuint(passes, >, 0);
            sum += ms;
            g_string_append_printf(per, " %.1f", ms);
        }
        g_test_message("%s: %u vCPU(s), slices of %" G_GUINT64_FORMAT " pages: ms per pass "
                       "per vCPU%s (mean %.1f); window pages per second %.0f", g->label,
                       ns[k], payload_params_pages(&g->params) / ns[k], per->str,
                       sum / ns[k], payload_params_pages(&g->params) / ns[k] * ns[k] /
                       (sum / ns[k]) * 1000);
        g_string_free(per, TRUE);
        guest_free(g);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_init();
    for (guint i = 0; i < G_N_ELEMENTS(smp_cases); i++) {
        const SmpCase *sc = &smp_cases[i];
        g_autofree char *path = g_strdup_printf("/guest-smp-aarch64/boot/%s/%s/%u", sc->arch,
                                                sc->accel, sc->vcpus);
        g_test_add(path, Fixture, sc, harness_fixture_check, test_boot, harness_fixture_check);
    }
    g_test_add("/guest-smp-aarch64/options/aarch64/tcg/4", Fixture, &smp_cases[1],
               harness_fixture_check, test_options, harness_fixture_check);
    g_test_add("/guest-smp-aarch64/corrupt/aarch64/tcg/4", Fixture, &smp_cases[1],
               harness_fixture_check, test_corrupt, harness_fixture_check);
    g_test_add("/guest-smp-aarch64/corrupt-all/aarch64/tcg/4", Fixture, &smp_cases[1],
               harness_fixture_check, test_corrupt_all, harness_fixture_check);
    g_test_add("/guest-smp-aarch64/missing-vcpu/aarch64", Fixture, NULL, harness_fixture_check,
               test_missing_vcpu, harness_fixture_check);
    for (guint i = 0; i < G_N_ELEMENTS(refusals); i++) {
        const SmpRefusal *sr = &refusals[i];
        g_autofree char *path = g_strdup_printf("/guest-smp-aarch64/refused/%s/%s/vcpus-%u%s",
                                                sr->arch, sr->variant, sr->vcpus,
                                                sr->two_ranges ? "-two-ranges" : "");
        g_test_add(path, Fixture, sr, harness_fixture_check, test_refused,
                   harness_fixture_check);
    }
    if (g_test_slow())
        g_test_add("/guest-smp-aarch64/cost/aarch64", Fixture, "aarch64", harness_fixture_check,
                   test_cost, harness_fixture_check);
    return g_test_run();
}
