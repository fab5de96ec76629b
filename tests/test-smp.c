/*
 * test-smp.c: several vCPUs (migtest-abi.h, "Several vCPUs") on the host
 * side, without QEMU: the slices payload_params_slice() cuts, the
 * parameter checks, the invariant applied per slice on synthetic RAM
 * (a clean snapshot whose slices sit at unrelated generations passes; a
 * page lost in one slice is reported at its address), the per-vCPU beats
 * the serial decoder counts, and the selfcheck naming a silent vCPU.
 */
#include <string.h>
#include "arch.h"
#include "libvirt-domain.h"
#include "mt-error.h"
#include "payload.h"
#include "serial.h"
#include "verify.h"

#define RAM_SIZE (8u << 20)
#define WIN_START (1u << 20)
#define NPAGES 1000u            /* 4 vCPUs: slices of 250 pages */
#define NV 4u
#define HOT 8u

static guint64 page_gpa(guint i)
{
    return MT_ARM_RAM_BASE + WIN_START + (guint64)i * MT_PAGE_SIZE;
}

static void window_params(PayloadParams *p, guint vcpus)
{
    memset(p, 0, sizeof(*p));
    p->b_every = 1;
    p->nranges = 1;
    p->ranges[0].start = page_gpa(0);
    p->ranges[0].end = page_gpa(NPAGES);
    p->vcpus = vcpus;
}

/* ---- payload_params_slice and the checks ------------------------------ */

static void test_slice_bounds(void)
{
    PayloadParams p, s;
    const guint n = 1000, nv = 3;

    window_params(&p, nv);
    p.hot_pages = 4;
    p.zero_every = 5;
    p.zero_pages = MT_ZERO_MIN_PAGES;
    p.fill = MT_FILL_FULL;
    p.canaries = 1;
    p.devprobe = 1;
    for (guint i = 0; i < nv; i++) {
        g_assert_true(payload_params_slice(&p, i, &s));
        /* pages [i * n / N, (i + 1) * n / N): 0..333, 333..666, 666..1000 */
        g_assert_cmphex(s.ranges[0].start, ==, page_gpa(i * n / nv));
        g_assert_cmphex(s.ranges[0].end, ==, page_gpa((i + 1) * n / nv));
        g_assert_cmpuint(s.nranges, ==, 1);
        g_assert_cmpuint(s.vcpus, ==, 1);
        g_assert_cmpuint(s.fill, ==, MT_FILL_FULL);
        g_assert_cmpuint(s.canaries, ==, 1);
        /* vCPU 0 keeps the hot set and the zero runs; the others none */
        g_assert_cmpuint(s.hot_pages, ==, i ? 0 : 4);
        g_assert_cmpuint(s.zero_every, ==, i ? 0 : 5);
        g_assert_cmpuint(s.devprobe, ==, i ? 0 : 1);
        g_assert_true(payload_params_validate(&s, NULL));
    }
    g_assert_false(payload_params_slice(&p, nv, &s));

    p.vcpus = 0;                        /* one vCPU: the block itself */
    g_assert_true(payload_params_slice(&p, 0, &s));
    g_assert_cmphex(s.ranges[0].end, ==, page_gpa(n));
    g_assert_cmpuint(s.hot_pages, ==, 4);
    g_assert_false(payload_params_slice(&p, 1, &s));
    g_assert_cmpuint(payload_params_vcpus(&p), ==, 1);
}

static void expect_bad(const PayloadParams *p, const char *needle)
{
    g_autoptr(GError) error = NULL;

    g_assert_false(payload_params_validate(p, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_USAGE);
    if (!strstr(error->message, needle))
        g_error("'%s' does not say '%s'", error->message, needle);
}

static void test_validate(void)
{
    PayloadParams p;

    window_params(&p, MT_MAX_VCPUS);
    g_assert_true(payload_params_validate(&p, NULL));
    p.vcpus = MT_MAX_VCPUS + 1;
    expect_bad(&p, "at most 8");

    window_params(&p, 2);               /* several vCPUs: one range only */
    p.ranges[0].end = page_gpa(10);
    p.ranges[1].start = page_gpa(20);
    p.ranges[1].end = page_gpa(30);
    p.nranges = 2;
    expect_bad(&p, "one range");

    window_params(&p, 4);               /* a page per vCPU at least */
    p.ranges[0].end = page_gpa(3);
    expect_bad(&p, "at least one page");

    /* 300 hot pages fit in range 0 but not in slice 0's 250 */
    window_params(&p, 1);
    p.hot_pages = 300;
    g_assert_true(payload_params_validate(&p, NULL));
    p.vcpus = NV;
    expect_bad(&p, "vCPU 0's slice");

    /* zero runs of 128 pages: 7 slots in range 0, but 1 in slice 0 */
    window_params(&p, 1);
    p.zero_every = 4;
    p.zero_pages = MT_ZERO_MIN_PAGES;
    g_assert_true(payload_params_validate(&p, NULL));
    g_assert_cmpuint(payload_zero_slots(&p), ==, NPAGES / MT_ZERO_MIN_PAGES);
    p.vcpus = NV;
    expect_bad(&p, "at least 2 runs");
    p.vcpus = 2;                        /* slice 0 of 500 pages: 3 slots */
    g_assert_true(payload_params_validate(&p, NULL));
    g_assert_cmpuint(payload_zero_slots(&p), ==, 3);
}

/* ---- the invariant per slice, on synthetic RAM ------------------------ */

typedef struct {
    RamImage ram;
    PayloadParams params;
    guint64 gen[NV];            /* slice i: heads gen on [0, k), gen - 1 after */
    guint k[NV];
} Snap;

static guint8 *at(RamImage *img, guint64 gpa)
{
    guint64 off;

    g_assert_true(ram_layout_gpa_to_offset(&img->layout, gpa, &off));
    return img->data + off;
}

static void put64(RamImage *img, guint64 gpa, guint64 v)
{
    memcpy(at(img, gpa), &v, 8);
}

/* Page @gpa at generation @g with fill=full; a hot page's hot word is
 * left alone (it belongs to the hot set). */
static void write_page(RamImage *img, guint64 gpa, guint64 g, gboolean hot)
{
    for (guint64 off = 8; off < MT_PAGE_SIZE - 8; off += 8)
        if (!hot || off != MT_HOT_WORD_OFFSET)
            put64(img, gpa + off, verify_fill(g, gpa + off));
    put64(img, gpa + MT_PAGE_SIZE - 8, verify_tail(g, gpa));
    put64(img, gpa, g);
}

/*
 * Four vCPUs that ran at different speeds: each slice at its own
 * generation with its own boundary; vCPU 0's hot words tied to its own
 * sweep, h = (G - 1) * n0 + k, with a hot boundary at word 3.
 */
static void snap_setup(Snap *s)
{
    const guint64 gens[NV] = { 9, 14, 3, 30 };
    const guint ks[NV] = { 100, 0, 249, 17 };
    guint64 h;

    arch_lookup("aarch64")->ram_layout("virt", RAM_SIZE, &s->ram.layout);
    s->ram.data = g_malloc0(RAM_SIZE);
    window_params(&s->params, NV);
    s->params.hot_pages = HOT;
    s->params.fill = MT_FILL_FULL;
    for (guint v = 0; v < NV; v++) {
        PayloadParams sl;
        guint first;

        g_assert_true(payload_params_slice(&s->params, v, &sl));
        first = (guint)((sl.ranges[0].start - page_gpa(0)) / MT_PAGE_SIZE);
        s->gen[v] = gens[v];
        s->k[v] = ks[v];
        for (guint i = 0; i < NPAGES / NV; i++)
            write_page(&s->ram, page_gpa(first + i), i < ks[v] ? gens[v] : gens[v] - 1,
                       v == 0 && i < HOT);
    }
    h = (gens[0] - 1) * (NPAGES / NV) + ks[0];
    for (guint j = 0; j < HOT; j++)
        put64(&s->ram, page_gpa(j) + MT_HOT_WORD_OFFSET, j < 3 ? h : h - 1);
}

static void snap_clear(Snap *s)
{
    g_free(s->ram.data);
}

static void test_invariant_clean(void)
{
    Snap s;
    InvariantResult r;
    g_autoptr(GError) error = NULL;

    snap_setup(&s);
    g_assert_true(verify_invariant(&s.ram, &s.params, &r, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(r.nslices, ==, NV);
    g_assert_cmpuint(r.pages_checked, ==, NPAGES);
    for (guint v = 0; v < NV; v++) {
        /* k = 0 reads as "all at gen - 1, no boundary" */
        g_assert_cmpuint(r.slice_generation[v], ==, s.k[v] ? s.gen[v] : s.gen[v] - 1);
        g_assert_cmphex(r.slice_boundary_gpa[v], ==,
                        s.k[v] ? page_gpa(v * NPAGES / NV + s.k[v]) : 0);
    }
    g_assert_cmpuint(r.hot_counter, ==, (s.gen[0] - 1) * (NPAGES / NV) + s.k[0]);
    g_assert_nonnull(strstr(r.detail, "4 vCPU slices"));
    invariant_result_clear(&r);

    /* The same RAM read as one vCPU's window is not one sweep: the
     * per-slice check is what makes it consistent. */
    s.params.vcpus = 1;
    g_assert_false(verify_invariant(&s.ram, &s.params, &r, NULL));
    invariant_result_clear(&r);
    snap_clear(&s);
}

static void expect_violation(Snap *s, guint64 gpa, guint64 expected, guint64 found)
{
    InvariantResult r;
    g_autoptr(GError) error = NULL;

    g_assert_false(verify_invariant(&s->ram, &s->params, &r, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_VERIFY);
    g_assert_cmpuint(r.violations, ==, 1);
    g_assert_cmphex(r.reported[0].gpa, ==, gpa);
    g_assert_cmphex(r.reported[0].expected, ==, expected);
    g_assert_cmphex(r.reported[0].found, ==, found);
    invariant_result_clear(&r);
}

/* A page of slice 2 that kept the older generation (its final dirty bit
 * lost) in the slice's newer prefix: reported at its own address. */
static void test_invariant_lost_page_slice2(void)
{
    Snap s;
    guint page = 2 * NPAGES / NV + 40;

    snap_setup(&s);
    write_page(&s.ram, page_gpa(page), s.gen[2] - 1, FALSE);
    expect_violation(&s, page_gpa(page), s.gen[2], s.gen[2] - 1);
    snap_clear(&s);
}

/* A middle word of a page in slice 3 (fill=full) torn to another slice's
 * generation, and a hot word of vCPU 0 left two rounds behind. */
static void test_invariant_word_faults(void)
{
    Snap s;
    guint page = 3 * NPAGES / NV + 200;
    guint64 a = page_gpa(page) + 512, h;

    snap_setup(&s);
    put64(&s.ram, a, verify_fill(s.gen[1], a));
    expect_violation(&s, a, verify_fill(s.gen[3] - 1, a), verify_fill(s.gen[1], a));
    snap_clear(&s);

    snap_setup(&s);
    h = (s.gen[0] - 1) * (NPAGES / NV) + s.k[0];
    put64(&s.ram, page_gpa(5) + MT_HOT_WORD_OFFSET, h - 2);
    expect_violation(&s, page_gpa(5) + MT_HOT_WORD_OFFSET, h - 1, h - 2);
    snap_clear(&s);
}

/* ---- beats: the decoder and the selfcheck ----------------------------- */

static void test_serial_beats(void)
{
    SerialParser p;
    const char *stream = "AB1B23B7" "0" "8";

    serial_parser_init(&p);
    serial_parser_feed(&p, (const guint8 *)stream, strlen(stream), 42);
    g_assert_cmpuint(p.a_count, ==, 1);
    g_assert_cmpuint(p.b_times->len, ==, 3);
    g_assert_cmpuint(p.vcpu_beats[0], ==, 3);
    g_assert_cmpuint(p.vcpu_beats[1], ==, 1);
    g_assert_cmpuint(p.vcpu_beats[2], ==, 1);
    g_assert_cmpuint(p.vcpu_beats[3], ==, 1);
    g_assert_cmpuint(p.vcpu_beats[7], ==, 1);
    g_assert_cmpuint(p.beat_times->len, ==, 7);
    g_assert_cmpuint(p.junk_bytes, ==, 2);  /* '0' and '8' are no vCPU's */
    serial_parser_clear(&p);
}

static gboolean selfcheck_one(const SelfcheckSide *side, char **message)
{
    SelfcheckResult r = { 0 };
    g_autoptr(GError) error = NULL;
    gboolean ok = verify_selfcheck(side, 1, &r, &error);

    *message = error ? g_strdup(error->message) : NULL;
    selfcheck_result_clear(&r);
    return ok;
}

static void test_selfcheck_silent_vcpu(void)
{
    SelfcheckSide dst = { .side = "dst", .vcpus = 4,
                          .counts = { .b = 3, .vcpu_b = { 3, 5, 4, 6 } } };
    g_autofree char *m1 = NULL;
    g_autofree char *m2 = NULL;
    g_autofree char *m3 = NULL;
    g_autofree char *m4 = NULL;

    g_assert_true(selfcheck_one(&dst, &m1));

    dst.counts.vcpu_b[2] = 0;           /* vCPU 2 never beat on dst */
    g_assert_false(selfcheck_one(&dst, &m2));
    g_assert_nonnull(strstr(m2, "dst: vCPU 2 of 4 is silent"));

    dst.counts.vcpu_b[2] = 4;           /* it beat, but only before the resume */
    dst.beats_since[2] = 4;
    g_assert_false(selfcheck_one(&dst, &m3));
    g_assert_nonnull(strstr(m3, "vCPU 2 of 4 is silent"));

    dst.beats_since[2] = 0;             /* a vCPU the guest does not have */
    dst.counts.vcpu_b[5] = 1;
    g_assert_false(selfcheck_one(&dst, &m4));
    g_assert_nonnull(strstr(m4, "from vCPU 5"));
}

/* One vCPU: nothing new is required of the stream, but a stray vCPU beat
 * is still outside the protocol. */
static void test_selfcheck_one_vcpu(void)
{
    SelfcheckSide src = { .side = "src", .expect_a = 1, .counts = { .a = 1 } };
    g_autofree char *m1 = NULL;
    g_autofree char *m2 = NULL;

    g_assert_true(selfcheck_one(&src, &m1));
    src.counts.vcpu_b[1] = 2;
    g_assert_false(selfcheck_one(&src, &m2));
    g_assert_nonnull(strstr(m2, "from vCPU 1"));
}

/* The libvirt backend's domain asks for the case's vCPUs. */
static void test_libvirt_vcpus(void)
{
    LibvirtDomainSpec d = { .arch = arch_lookup("aarch64"), .name = "migtest-t",
                            .uuid = "00000000-0000-0000-0000-000000000000",
                            .domain_type = "qemu", .machine = "virt", .mem_bytes = 150 << 20,
                            .image_path = "/x.bin", .serial_path = "/x.sock" };
    g_autofree char *one = libvirt_domain_xml(&d);
    g_autofree char *four = NULL;

    d.vcpus = 4;
    four = libvirt_domain_xml(&d);
    g_assert_nonnull(strstr(one, "<vcpu>1</vcpu>"));
    g_assert_nonnull(strstr(four, "<vcpu>4</vcpu>"));
}

/* Before migrating, the source waits for every vCPU's first beat (each
 * slice written once), not only vCPU 0's: with a '1' and a '2' missing it
 * waits until the deadline; once they are in, it returns at once. */
static void test_wait_every_vcpu_once(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(Serial) s = serial_new_relayed(NULL, FALSE, &error);
    const guint8 first[] = "ABBBB1", rest[] = "2";
    gint64 t0;

    g_assert_no_error(error);
    serial_relay_feed(s, first, sizeof(first) - 1, g_get_monotonic_time());
    t0 = g_get_monotonic_time();
    serial_wait_every_vcpu_once(s, 3, deadline_in_ms(200));
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, 190 * 1000);  /* vCPU 2 missing */
    serial_relay_feed(s, rest, sizeof(rest) - 1, g_get_monotonic_time());
    t0 = g_get_monotonic_time();
    serial_wait_every_vcpu_once(s, 3, deadline_in_ms(10000));
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5000 * 1000);
    t0 = g_get_monotonic_time();
    serial_wait_every_vcpu_once(s, 1, deadline_in_ms(10000));   /* one vCPU: no wait */
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5000 * 1000);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/smp/slice/bounds", test_slice_bounds);
    g_test_add_func("/smp/slice/validate", test_validate);
    g_test_add_func("/smp/invariant/clean", test_invariant_clean);
    g_test_add_func("/smp/invariant/lost-page-slice2", test_invariant_lost_page_slice2);
    g_test_add_func("/smp/invariant/word-faults", test_invariant_word_faults);
    g_test_add_func("/smp/serial/beats", test_serial_beats);
    g_test_add_func("/smp/selfcheck/silent-vcpu", test_selfcheck_silent_vcpu);
    g_test_add_func("/smp/selfcheck/one-vcpu", test_selfcheck_one_vcpu);
    g_test_add_func("/smp/libvirt/vcpus", test_libvirt_vcpus);
    g_test_add_func("/smp/serial/wait-every-vcpu-once", test_wait_every_vcpu_once);
    return g_test_run();
}
