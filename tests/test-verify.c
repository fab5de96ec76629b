/*
 * test-verify.c: the verifiers on synthetic RAM.  Each fault a verifier
 * exists to catch is injected into an otherwise clean image and must be
 * found at its exact address; the clean image must pass.
 */
#include <string.h>
#include "arch.h"
#include "mt-error.h"
#include "verify.h"

#define RAM_SIZE (8u << 20)
#define WIN_START (1u << 20)
#define WIN_END (4u << 20)
#define NPAGES ((WIN_END - WIN_START) / MT_PAGE_SIZE)
#define GEN 7
#define BOUNDARY 300            /* pages [0, 300) hold GEN, the rest GEN-1 */

typedef struct {
    RamImage src;
    RamImage dst;
    PayloadParams params;
} Fixture;

static guint64 page_gpa(guint i)
{
    return MT_ARM_RAM_BASE + WIN_START + (guint64)i * MT_PAGE_SIZE;
}

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

/* What the guest leaves in page @i at generation @g. */
static void write_page(RamImage *img, guint i, guint64 g)
{
    put64(img, page_gpa(i), g);
    put64(img, page_gpa(i) + MT_PAGE_SIZE - 8, verify_tail(g, page_gpa(i)));
}

static void fixture_setup(Fixture *f, gconstpointer unused)
{
    (void)unused;
    for (RamImage *img = &f->src; img <= &f->dst; img++) {
        arch_lookup("aarch64")->ram_layout("virt", RAM_SIZE, &img->layout);
        img->data = g_malloc0(RAM_SIZE);
        img->map_len = 0;
        /* Some non-window content, so a flipped byte there is visible. */
        for (guint i = 0; i < WIN_START; i++)
            img->data[i] = (guint8)(i * 31);
        for (guint i = 0; i < NPAGES; i++)
            write_page(img, i, i < BOUNDARY ? GEN : GEN - 1);
    }
    memset(&f->params, 0, sizeof(f->params));
    f->params.b_every = 1;
    f->params.nranges = 1;
    f->params.ranges[0].start = page_gpa(0);
    f->params.ranges[0].end = page_gpa(NPAGES);
}

static void fixture_teardown(Fixture *f, gconstpointer unused)
{
    (void)unused;
    g_free(f->src.data);
    g_free(f->dst.data);
}

/* ---- exact ------------------------------------------------------------ */

/* The first byte at or after @gpa where src and dst disagree. */
static guint64 first_mismatch(Fixture *f, guint64 gpa)
{
    while (*at(&f->src, gpa) == *at(&f->dst, gpa))
        gpa++;
    return gpa;
}

static void test_exact_clean(Fixture *f, gconstpointer u)
{
    ExactResult r;
    g_autoptr(GError) error = NULL;

    (void)u;
    g_assert_true(verify_exact(&f->src, &f->dst, &r, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(r.pages_compared, ==, RAM_SIZE / MT_PAGE_SIZE);
    g_assert_cmpuint(r.pages_differing, ==, 0);
}

static void expect_exact_diff(Fixture *f, guint64 gpa, guint8 src_byte, guint8 dst_byte)
{
    ExactResult r;
    g_autoptr(GError) error = NULL;
    g_autofree char *addr = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", gpa);

    g_assert_false(verify_exact(&f->src, &f->dst, &r, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_VERIFY);
    g_assert_cmpuint(r.pages_differing, ==, 1);
    g_assert_cmpuint(r.ndiffs, ==, 1);
    g_assert_cmphex(r.diffs[0].gpa, ==, gpa);
    g_assert_cmphex(r.diffs[0].src[0], ==, src_byte);
    g_assert_cmphex(r.diffs[0].dst[0], ==, dst_byte);
    g_assert_nonnull(strstr(error->message, addr));
}

static void test_exact_flipped_byte(Fixture *f, gconstpointer u)
{
    /* Outside the test window, in the middle of a page, last byte of RAM. */
    const guint64 spots[] = { MT_ARM_RAM_BASE + 0x1234,
                              page_gpa(17) + 2000,
                              MT_ARM_RAM_BASE + RAM_SIZE - 1 };

    (void)u;
    for (gsize i = 0; i < G_N_ELEMENTS(spots); i++) {
        guint8 *b = at(&f->dst, spots[i]);
        guint8 old = *b;
        *b ^= 0x01;
        expect_exact_diff(f, spots[i], old, old ^ 0x01);
        *b = old;
    }
}

static void test_exact_stale_page(Fixture *f, gconstpointer u)
{
    (void)u;
    write_page(&f->dst, 5, GEN - 1);    /* lost update: older generation */
    expect_exact_diff(f, page_gpa(5), GEN, GEN - 1);
}

static void test_exact_zeroed_page(Fixture *f, gconstpointer u)
{
    (void)u;
    memset(at(&f->dst, page_gpa(9)), 0, MT_PAGE_SIZE);
    expect_exact_diff(f, page_gpa(9), GEN, 0);
}

static void test_exact_misplaced_page(Fixture *f, gconstpointer u)
{
    guint64 tail = page_gpa(11) + MT_PAGE_SIZE - 8;

    (void)u;
    memcpy(at(&f->dst, page_gpa(11)), at(&f->dst, page_gpa(12)), MT_PAGE_SIZE);
    /* Heads agree (same generation): the first difference is in the tail. */
    tail = first_mismatch(f, page_gpa(11));
    g_assert_cmphex(tail & ~7ull, ==, page_gpa(11) + MT_PAGE_SIZE - 8);
    expect_exact_diff(f, tail, *at(&f->src, tail), *at(&f->dst, tail));
}

static void test_exact_torn_page(Fixture *f, gconstpointer u)
{
    guint64 tail = page_gpa(20) + MT_PAGE_SIZE - 8;

    (void)u;
    put64(&f->dst, tail, verify_tail(GEN - 1, page_gpa(20)));
    tail = first_mismatch(f, page_gpa(20));
    g_assert_cmphex(tail & ~7ull, ==, page_gpa(20) + MT_PAGE_SIZE - 8);
    expect_exact_diff(f, tail, *at(&f->src, tail), *at(&f->dst, tail));
}

static void test_exact_counts_many(Fixture *f, gconstpointer u)
{
    ExactResult r;
    g_autoptr(GError) error = NULL;

    (void)u;
    for (guint i = 0; i < 40; i++)
        at(&f->dst, page_gpa(i))[100] ^= 0xff;
    g_assert_false(verify_exact(&f->src, &f->dst, &r, &error));
    g_assert_cmpuint(r.pages_differing, ==, 40);
    g_assert_cmpuint(r.ndiffs, ==, VERIFY_MAX_REPORTED);
    g_assert_cmphex(r.diffs[15].gpa, ==, page_gpa(15) + 100);
}

/* ---- invariant -------------------------------------------------------- */

static void expect_invariant_ok(Fixture *f)
{
    InvariantResult r;
    g_autoptr(GError) error = NULL;
    gboolean ok = verify_invariant(&f->dst, &f->params, &r, &error);

    if (!ok)
        g_printerr("unexpected: %s\n", error->message);
    g_assert_true(ok);
    g_assert_no_error(error);
    g_assert_cmpuint(r.pages_checked, ==, NPAGES);
    g_assert_cmpuint(r.generation, ==, GEN);
    invariant_result_clear(&r);
}

static void expect_invariant_violation(Fixture *f, guint64 gpa, guint64 expected,
                                       guint64 found)
{
    InvariantResult r;
    g_autoptr(GError) error = NULL;

    g_assert_false(verify_invariant(&f->dst, &f->params, &r, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_VERIFY);
    g_assert_false(r.ok);
    g_assert_cmpuint(r.nreported, >=, 1);
    g_assert_cmphex(r.reported[0].gpa, ==, gpa);
    g_assert_cmphex(r.reported[0].expected, ==, expected);
    g_assert_cmphex(r.reported[0].found, ==, found);
    invariant_result_clear(&r);
}

static void test_invariant_clean(Fixture *f, gconstpointer u)
{
    (void)u;
    expect_invariant_ok(f);
    /* The guest stopped between the tail and the head of page BOUNDARY. */
    put64(&f->dst, page_gpa(BOUNDARY) + MT_PAGE_SIZE - 8,
          verify_tail(GEN, page_gpa(BOUNDARY)));
    expect_invariant_ok(f);
}

static void test_invariant_no_boundary(Fixture *f, gconstpointer u)
{
    (void)u;
    for (guint i = 0; i < NPAGES; i++)
        write_page(&f->dst, i, GEN);
    expect_invariant_ok(f);
    /* Stopped between tail and head of the first page of pass GEN + 1. */
    put64(&f->dst, page_gpa(0) + MT_PAGE_SIZE - 8, verify_tail(GEN + 1, page_gpa(0)));
    expect_invariant_ok(f);
}

static void test_invariant_first_tail_ahead_with_boundary(Fixture *f, gconstpointer u)
{
    guint64 tail = page_gpa(0) + MT_PAGE_SIZE - 8;

    (void)u;
    /* With a boundary, page 0 cannot be half-way into the next pass. */
    put64(&f->dst, tail, verify_tail(GEN + 1, page_gpa(0)));
    expect_invariant_violation(f, tail, verify_tail(GEN, page_gpa(0)),
                               verify_tail(GEN + 1, page_gpa(0)));
}

static void test_invariant_stale_page(Fixture *f, gconstpointer u)
{
    (void)u;
    write_page(&f->dst, 50, GEN - 1);   /* before the boundary: must be GEN */
    expect_invariant_violation(f, page_gpa(50), GEN, GEN - 1);
}

static void test_invariant_stale_page_after_boundary(Fixture *f, gconstpointer u)
{
    (void)u;
    write_page(&f->dst, BOUNDARY + 10, GEN - 2);
    expect_invariant_violation(f, page_gpa(BOUNDARY + 10), GEN - 1, GEN - 2);
}

static void test_invariant_second_boundary(Fixture *f, gconstpointer u)
{
    (void)u;
    write_page(&f->dst, BOUNDARY + 20, GEN);    /* a newer page past the sweep */
    expect_invariant_violation(f, page_gpa(BOUNDARY + 20), GEN - 1, GEN);
}

static void test_invariant_zeroed_page(Fixture *f, gconstpointer u)
{
    (void)u;
    memset(at(&f->dst, page_gpa(70)), 0, MT_PAGE_SIZE);
    expect_invariant_violation(f, page_gpa(70), GEN, 0);
}

static void test_invariant_misplaced_page(Fixture *f, gconstpointer u)
{
    guint64 tail = page_gpa(71) + MT_PAGE_SIZE - 8;

    (void)u;
    memcpy(at(&f->dst, page_gpa(71)), at(&f->dst, page_gpa(72)), MT_PAGE_SIZE);
    expect_invariant_violation(f, tail, verify_tail(GEN, page_gpa(71)),
                               verify_tail(GEN, page_gpa(72)));
}

static void test_invariant_torn_page(Fixture *f, gconstpointer u)
{
    guint64 tail = page_gpa(80) + MT_PAGE_SIZE - 8;

    (void)u;
    put64(&f->dst, tail, verify_tail(GEN - 1, page_gpa(80)));
    expect_invariant_violation(f, tail, verify_tail(GEN, page_gpa(80)),
                               verify_tail(GEN - 1, page_gpa(80)));
}

static void test_invariant_flipped_head_byte(Fixture *f, gconstpointer u)
{
    (void)u;
    at(&f->dst, page_gpa(90))[3] ^= 0x80;
    expect_invariant_violation(f, page_gpa(90), GEN, GEN ^ (0x80ull << 24));
}

static void test_invariant_two_ranges(Fixture *f, gconstpointer u)
{
    (void)u;
    /* Split the window; the sweep order continues across the ranges. */
    f->params.nranges = 2;
    f->params.ranges[0].end = page_gpa(BOUNDARY + 5);
    f->params.ranges[1].start = page_gpa(BOUNDARY + 5);
    f->params.ranges[1].end = page_gpa(NPAGES);
    expect_invariant_ok(f);
    write_page(&f->dst, BOUNDARY + 6, GEN);
    expect_invariant_violation(f, page_gpa(BOUNDARY + 6), GEN - 1, GEN);
}

/* ---- selfcheck -------------------------------------------------------- */

static void test_selfcheck(void)
{
    SelfcheckSide sides[2] = {
        { .side = "src", .expect_a = 1, .counts = { .a = 1, .b = 5 } },
        { .side = "dst", .expect_a = 0, .counts = { .a = 0, .b = 3 } },
    };
    SerialError e = { .gpa = 0x40101000, .expected = 7, .found = 6 };
    SelfcheckResult r = { 0 };
    g_autoptr(GError) error = NULL;

    g_assert_true(verify_selfcheck(sides, 2, &r, &error));
    g_assert_no_error(error);
    selfcheck_result_clear(&r);

    sides[1].errors = g_array_new(FALSE, FALSE, sizeof(SerialError));
    g_array_append_val(sides[1].errors, e);
    g_assert_false(verify_selfcheck(sides, 2, &r, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_VERIFY);
    g_assert_nonnull(strstr(error->message, "dst"));
    g_assert_nonnull(strstr(error->message, "0x40101000"));
    selfcheck_result_clear(&r);
    g_clear_error(&error);
    g_array_unref(sides[1].errors);
    sides[1].errors = NULL;

    sides[1].counts.a = 1;              /* the guest restarted on dst */
    g_assert_false(verify_selfcheck(sides, 2, &r, &error));
    g_assert_nonnull(strstr(error->message, "'A'"));
    selfcheck_result_clear(&r);
    g_clear_error(&error);

    sides[1].counts.a = 0;
    sides[0].counts.junk = 3;
    g_assert_false(verify_selfcheck(sides, 2, &r, &error));
    g_assert_nonnull(strstr(error->message, "outside the serial protocol"));
    selfcheck_result_clear(&r);
}

/* ---- RAM layout ------------------------------------------------------- */

static void test_layout_x86_split(void)
{
    const ArchDesc *x86 = arch_lookup("x86_64");
    RamLayout l;
    guint64 off;

    x86->ram_layout("pc", 5ull << 30, &l);
    g_assert_cmpuint(l.nsegs, ==, 2);
    g_assert_cmphex(l.seg[0].size, ==, 3ull << 30);
    g_assert_cmphex(l.seg[1].gpa, ==, 4ull << 30);
    g_assert_true(ram_layout_gpa_to_offset(&l, (4ull << 30) + 0x1000, &off));
    g_assert_cmphex(off, ==, (3ull << 30) + 0x1000);
    g_assert_false(ram_layout_gpa_to_offset(&l, 3ull << 30, &off));
    g_assert_cmphex(ram_layout_offset_to_gpa(&l, (3ull << 30) + 8), ==, (4ull << 30) + 8);

    x86->ram_layout("q35", 3ull << 30, &l);
    g_assert_cmphex(l.seg[0].size, ==, 2ull << 30);
    x86->ram_layout("pc-i440fx-7.2", 150ull << 20, &l);
    g_assert_cmpuint(l.nsegs, ==, 1);
    g_assert_cmphex(l.seg[0].size, ==, 150ull << 20);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/verify/exact/clean", test_exact_clean);
    ADD("/verify/exact/flipped-byte", test_exact_flipped_byte);
    ADD("/verify/exact/stale-page", test_exact_stale_page);
    ADD("/verify/exact/zeroed-page", test_exact_zeroed_page);
    ADD("/verify/exact/misplaced-page", test_exact_misplaced_page);
    ADD("/verify/exact/torn-page", test_exact_torn_page);
    ADD("/verify/exact/counts-many", test_exact_counts_many);
    ADD("/verify/invariant/clean", test_invariant_clean);
    ADD("/verify/invariant/no-boundary", test_invariant_no_boundary);
    ADD("/verify/invariant/first-tail-ahead", test_invariant_first_tail_ahead_with_boundary);
    ADD("/verify/invariant/stale-page", test_invariant_stale_page);
    ADD("/verify/invariant/stale-page-after-boundary", test_invariant_stale_page_after_boundary);
    ADD("/verify/invariant/second-boundary", test_invariant_second_boundary);
    ADD("/verify/invariant/zeroed-page", test_invariant_zeroed_page);
    ADD("/verify/invariant/misplaced-page", test_invariant_misplaced_page);
    ADD("/verify/invariant/torn-page", test_invariant_torn_page);
    ADD("/verify/invariant/flipped-head-byte", test_invariant_flipped_head_byte);
    ADD("/verify/invariant/two-ranges", test_invariant_two_ranges);
#undef ADD
    g_test_add_func("/verify/selfcheck", test_selfcheck);
    g_test_add_func("/verify/layout/x86-split", test_layout_x86_split);
    return g_test_run();
}
