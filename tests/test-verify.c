/*
 * test-verify.c: the verifiers on synthetic RAM.  Each fault a verifier
 * exists to catch is injected into an otherwise clean image and must be
 * found at its exact address; the clean image must pass.
 */
#include <glib/gstdio.h>
#include <unistd.h>
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
    g_auto(ExactResult) r = { 0 };
    g_autoptr(GError) error = NULL;

    (void)u;
    g_assert_true(verify_exact(&f->src, &f->dst, &r, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(r.pages_compared, ==, RAM_SIZE / MT_PAGE_SIZE);
    g_assert_cmpuint(r.pages_differing, ==, 0);
}

static void expect_exact_diff(Fixture *f, guint64 gpa, guint8 src_byte, guint8 dst_byte)
{
    g_auto(ExactResult) r = { 0 };
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
    g_auto(ExactResult) r = { 0 };
    g_autoptr(GError) error = NULL;

    (void)u;
    for (guint i = 0; i < 40; i++)
        at(&f->dst, page_gpa(i))[100] ^= 0xff;
    g_assert_false(verify_exact(&f->src, &f->dst, &r, &error));
    g_assert_cmpuint(r.pages_differing, ==, 40);
    g_assert_cmpuint(r.ndiffs, ==, VERIFY_MAX_REPORTED);
    g_assert_cmphex(r.diffs[15].gpa, ==, page_gpa(15) + 100);
}

/* Every differing page is listed with its address, both sides' bytes
 * from the first difference, and how many of its bytes differ. */
static void test_exact_lists_every_page(Fixture *f, gconstpointer u)
{
    g_auto(ExactResult) r = { 0 };
    g_autoptr(GError) error = NULL;

    (void)u;
    for (guint i = 0; i < 40; i++) {
        at(&f->dst, page_gpa(i * 7))[100] ^= 0xff;
        if (i % 2)
            at(&f->dst, page_gpa(i * 7))[200] ^= 0x01;
    }
    g_assert_false(verify_exact(&f->src, &f->dst, &r, &error));
    g_assert_cmpuint(r.pages->len, ==, 40);
    g_assert_cmpuint(r.layout.total, ==, RAM_SIZE);
    for (guint i = 0; i < 40; i++) {
        const ExactDiff *d = &g_array_index(r.pages, ExactDiff, i);
        g_assert_cmphex(d->gpa, ==, page_gpa(i * 7) + 100);
        g_assert_cmpuint(d->bytes_differing, ==, i % 2 ? 2 : 1);
        g_assert_cmphex(d->src[0], ==, d->dst[0] ^ 0xff);
    }
}

/* Past VERIFY_MAX_PAGES the list stops but the count goes on. */
static void test_exact_page_list_capped(void)
{
    guint64 size = (VERIFY_MAX_PAGES + 1024) * (guint64)MT_PAGE_SIZE;
    RamImage src = { 0 }, dst = { 0 };
    g_auto(ExactResult) r = { 0 };
    g_autoptr(GError) error = NULL;
    const ExactDiff *last;

    arch_lookup("x86_64")->ram_layout("pc", size, &src.layout);
    dst.layout = src.layout;
    src.data = g_malloc0(size);
    dst.data = g_malloc0(size);
    for (guint i = 0; i < VERIFY_MAX_PAGES + 5; i++)
        dst.data[(guint64)i * MT_PAGE_SIZE + 8] = 1;
    g_assert_false(verify_exact(&src, &dst, &r, &error));
    g_assert_cmpuint(r.pages_differing, ==, VERIFY_MAX_PAGES + 5);
    g_assert_cmpuint(r.pages->len, ==, VERIFY_MAX_PAGES);
    last = &g_array_index(r.pages, ExactDiff, VERIFY_MAX_PAGES - 1);
    g_assert_cmphex(last->gpa, ==, ram_layout_offset_to_gpa(&src.layout,
                    (guint64)(VERIFY_MAX_PAGES - 1) * MT_PAGE_SIZE + 8));
    g_free(src.data);
    g_free(dst.data);
}

/* ---- invariant -------------------------------------------------------- */

static void expect_invariant_ok_gen(Fixture *f, guint64 gen)
{
    InvariantResult r;
    g_autoptr(GError) error = NULL;
    gboolean ok = verify_invariant(&f->dst, &f->params, &r, &error);

    if (!ok)
        g_printerr("unexpected: %s\n", error->message);
    g_assert_true(ok);
    g_assert_no_error(error);
    g_assert_cmpuint(r.pages_checked, ==, NPAGES);
    g_assert_cmpuint(r.generation, ==, gen);
    invariant_result_clear(&r);
}

static void expect_invariant_ok(Fixture *f)
{
    expect_invariant_ok_gen(f, GEN);
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

/* ---- invariant: hot set ---------------------------------------------- */

#define HOT_K 64
#define HOT_J 40                /* hot words [0, 40) hold h, the rest h - 1 */
/* h for the fixture's sweep: GEN - 1 whole passes, then BOUNDARY pages. */
#define HOT_H ((guint64)(GEN - 1) * NPAGES + BOUNDARY)

static guint64 hot_gpa(guint i)
{
    return page_gpa(i) + MT_HOT_WORD_OFFSET;
}

/* What the guest leaves in the hot words @j words into the round that
 * set them to @h. */
static void write_hot(RamImage *img, guint64 h, guint j)
{
    for (guint i = 0; i < HOT_K; i++)
        put64(img, hot_gpa(i), i < j ? h : h - 1);
}

static void hot_setup(Fixture *f, gconstpointer u)
{
    fixture_setup(f, u);
    f->params.hot_pages = HOT_K;
    write_hot(&f->dst, HOT_H, HOT_J);
}

static void test_hot_clean(Fixture *f, gconstpointer u)
{
    InvariantResult r;
    g_autoptr(GError) error = NULL;

    (void)u;
    g_assert_true(verify_invariant(&f->dst, &f->params, &r, &error));
    g_assert_cmpuint(r.hot_counter, ==, HOT_H);
    g_assert_cmphex(r.hot_boundary_gpa, ==, hot_gpa(HOT_J));
    g_assert_nonnull(strstr(r.detail, "64 hot words"));
    invariant_result_clear(&r);
    /* The guest stopped between the tail and the head of page BOUNDARY:
     * that head store has not happened, so h is unchanged. */
    put64(&f->dst, page_gpa(BOUNDARY) + MT_PAGE_SIZE - 8,
          verify_tail(GEN, page_gpa(BOUNDARY)));
    expect_invariant_ok(f);
}

static void test_hot_all_equal(Fixture *f, gconstpointer u)
{
    (void)u;
    write_hot(&f->dst, HOT_H, HOT_K);   /* round h complete */
    expect_invariant_ok(f);
    write_hot(&f->dst, HOT_H, 0);       /* head stored, round h not begun */
    expect_invariant_ok(f);
}

static void test_hot_no_sweep_boundary(Fixture *f, gconstpointer u)
{
    (void)u;
    /* Pass GEN complete: h = GEN * NPAGES (the "GEN + 1, k = 0" reading
     * of the sweep gives the same h). */
    for (guint i = 0; i < NPAGES; i++)
        write_page(&f->dst, i, GEN);
    write_hot(&f->dst, (guint64)GEN * NPAGES, 7);
    expect_invariant_ok(f);
}

static void test_hot_first_round(Fixture *f, gconstpointer u)
{
    (void)u;
    /* Pass 1, one page visited: h = 1, and words the first round has not
     * reached are still fresh RAM's zeros. */
    memset(at(&f->dst, page_gpa(0)), 0, (gsize)NPAGES * MT_PAGE_SIZE);
    write_page(&f->dst, 0, 1);
    write_hot(&f->dst, 1, 10);
    expect_invariant_ok_gen(f, 1);
    /* Two pages visited: h = 2, so a zero is no longer allowed. */
    write_page(&f->dst, 1, 1);
    write_hot(&f->dst, 2, 10);
    put64(&f->dst, hot_gpa(20), 0);
    expect_invariant_violation(f, hot_gpa(20), 1, 0);
}

static void test_hot_stale_word(Fixture *f, gconstpointer u)
{
    (void)u;
    put64(&f->dst, hot_gpa(10), HOT_H - 2);     /* before the boundary */
    expect_invariant_violation(f, hot_gpa(10), HOT_H, HOT_H - 2);
    put64(&f->dst, hot_gpa(10), HOT_H);
    put64(&f->dst, hot_gpa(50), HOT_H - 2);     /* after it */
    expect_invariant_violation(f, hot_gpa(50), HOT_H - 1, HOT_H - 2);
}

static void test_hot_stale_before_boundary(Fixture *f, gconstpointer u)
{
    (void)u;
    /* One round behind, but before j: a lost write of round h. */
    put64(&f->dst, hot_gpa(10), HOT_H - 1);
    expect_invariant_violation(f, hot_gpa(10), HOT_H, HOT_H - 1);
}

static void test_hot_second_boundary(Fixture *f, gconstpointer u)
{
    InvariantResult r;
    g_autoptr(GError) error = NULL;

    (void)u;
    /* Words 50..54 already at h past the first boundary at 40. */
    for (guint i = 50; i < 55; i++)
        put64(&f->dst, hot_gpa(i), HOT_H);
    g_assert_false(verify_invariant(&f->dst, &f->params, &r, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_VERIFY);
    g_assert_cmpuint(r.violations, ==, 5);
    for (guint i = 0; i < 5; i++) {
        g_assert_cmphex(r.reported[i].gpa, ==, hot_gpa(50 + i));
        g_assert_cmphex(r.reported[i].expected, ==, HOT_H - 1);
        g_assert_cmphex(r.reported[i].found, ==, HOT_H);
    }
    invariant_result_clear(&r);
}

static void test_hot_garbage(Fixture *f, gconstpointer u)
{
    (void)u;
    put64(&f->dst, hot_gpa(30), 0xdeadbeefcafef00dull);
    expect_invariant_violation(f, hot_gpa(30), HOT_H, 0xdeadbeefcafef00dull);
    put64(&f->dst, hot_gpa(30), HOT_H);
    put64(&f->dst, hot_gpa(HOT_K - 1), 0);      /* the last word zeroed */
    expect_invariant_violation(f, hot_gpa(HOT_K - 1), HOT_H - 1, 0);
}

static void test_hot_whole_set_stale(Fixture *f, gconstpointer u)
{
    InvariantResult r;
    g_autoptr(GError) error = NULL;

    (void)u;
    /* Self-consistent but rounds old (all K final writes lost): only the
     * sweep's h can tell. */
    write_hot(&f->dst, HOT_H - 5, HOT_J);
    g_assert_false(verify_invariant(&f->dst, &f->params, &r, &error));
    g_assert_cmpuint(r.violations, ==, HOT_K);
    g_assert_cmphex(r.reported[0].gpa, ==, hot_gpa(0));
    g_assert_cmphex(r.reported[0].found, ==, HOT_H - 5);
    invariant_result_clear(&r);
}

static void test_hot_two_ranges(Fixture *f, gconstpointer u)
{
    (void)u;
    /* h counts the pages of every range, not just range 0's. */
    f->params.nranges = 2;
    f->params.ranges[0].end = page_gpa(HOT_K + 3);
    f->params.ranges[1].start = page_gpa(HOT_K + 3);
    f->params.ranges[1].end = page_gpa(NPAGES);
    expect_invariant_ok(f);
}

/* A hot set the payload would refuse is a usage error, not K violations. */
static void test_hot_does_not_fit(Fixture *f, gconstpointer u)
{
    const guint32 bad[] = { MT_MAX_HOT_PAGES + 1, HOT_K + 4 };

    (void)u;
    f->params.nranges = 2;              /* range 0: HOT_K + 3 pages */
    f->params.ranges[0].end = page_gpa(HOT_K + 3);
    f->params.ranges[1].start = page_gpa(HOT_K + 3);
    f->params.ranges[1].end = page_gpa(NPAGES);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        InvariantResult r;
        g_autoptr(GError) error = NULL;

        f->params.hot_pages = bad[i];
        g_assert_false(verify_invariant(&f->dst, &f->params, &r, &error));
        g_assert_error(error, MT_ERROR, MT_ERROR_USAGE);
        g_assert_nonnull(strstr(error->message, "hot set"));
    }
    f->params.hot_pages = HOT_K + 3;    /* exactly range 0: fine */
    write_hot(&f->dst, HOT_H, HOT_J);
    put64(&f->dst, hot_gpa(HOT_K), HOT_H - 1);
    put64(&f->dst, hot_gpa(HOT_K + 1), HOT_H - 1);
    put64(&f->dst, hot_gpa(HOT_K + 2), HOT_H - 1);
    expect_invariant_ok(f);
}

static void test_hot_off_ignores_words(Fixture *f, gconstpointer u)
{
    (void)u;
    /* With no hot set the word at MT_HOT_WORD_OFFSET is not the guest's. */
    f->params.hot_pages = 0;
    put64(&f->dst, hot_gpa(3), 0xdeadbeefcafef00dull);
    expect_invariant_ok(f);
}

static void test_hot_and_page_violation(Fixture *f, gconstpointer u)
{
    InvariantResult r;
    g_autoptr(GError) error = NULL;

    (void)u;
    /* A stale hot page's head and its hot word: both reported. */
    write_page(&f->dst, 5, GEN - 1);
    put64(&f->dst, hot_gpa(5), HOT_H - 3);
    g_assert_false(verify_invariant(&f->dst, &f->params, &r, &error));
    g_assert_cmpuint(r.violations, ==, 2);
    g_assert_cmphex(r.reported[0].gpa, ==, page_gpa(5));
    g_assert_cmphex(r.reported[1].gpa, ==, hot_gpa(5));
    g_assert_cmphex(r.reported[1].expected, ==, HOT_H);
    invariant_result_clear(&r);
}

/* ---- invariant and exact: zero runs ------------------------------------ */

/* A run of ZR pages every pass: with NPAGES = 768 there are 6 slots, so
 * zero(p, GEN = 7) is slot 0 (pages 0..127) and zero(p, GEN - 1) slot 5
 * (pages 640..767); the boundary at 300 leaves both in the window. */
#define ZR 128
#define ZR_CUR_FIRST 0
#define ZR_PREV_FIRST 640

static gboolean zero_at(const Fixture *f, guint i, guint64 g)
{
    guint64 start, end;

    return payload_zero_run(&f->params, g, &start, &end) && page_gpa(i) >= start &&
           page_gpa(i) < end;
}

/* What the guest leaves with the sweep boundary at page @k. */
static void write_zero_state(Fixture *f, RamImage *img, guint k, guint64 H)
{
    for (guint i = 0; i < NPAGES; i++) {
        guint64 g = i < k ? H : H - 1;

        if (zero_at(f, i, g))
            memset(at(img, page_gpa(i)), 0, MT_PAGE_SIZE);
        else
            write_page(img, i, g);
    }
}

static void zero_setup(Fixture *f, gconstpointer u)
{
    fixture_setup(f, u);
    f->params.zero_every = 1;
    f->params.zero_pages = ZR;
    f->params.zero_method = MT_ZERO_ALTERNATE;
    g_assert_cmpuint(payload_zero_slots(&f->params), ==, NPAGES / ZR);
    g_assert_true(zero_at(f, ZR_CUR_FIRST, GEN));
    g_assert_true(zero_at(f, ZR_PREV_FIRST, GEN - 1));
    write_zero_state(f, &f->src, BOUNDARY, GEN);
    write_zero_state(f, &f->dst, BOUNDARY, GEN);
}

static void test_zero_clean(Fixture *f, gconstpointer u)
{
    InvariantResult r;
    g_auto(ExactResult) e = { 0 };
    g_autoptr(GError) error = NULL;

    (void)u;
    g_assert_true(verify_invariant(&f->dst, &f->params, &r, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(r.generation, ==, GEN);
    g_assert_cmphex(r.boundary_gpa, ==, page_gpa(BOUNDARY));
    g_assert_cmpuint(r.zero_pages, ==, 2 * ZR);
    g_assert_nonnull(strstr(r.detail, "256 pages of zero runs zero"));
    invariant_result_clear(&r);
    g_assert_true(verify_exact(&f->src, &f->dst, &e, &error));
    /* Without zero runs the same RAM is 256 zeroed pages. */
    f->params.zero_every = 0;
    expect_invariant_violation(f, page_gpa(ZR_CUR_FIRST), GEN, 0);
}

/* The page the guest is halfway through may already carry the tail it is
 * going to: 0 when it is being zeroed, MT_TAIL when written back. */
static void test_zero_in_progress(Fixture *f, gconstpointer u)
{
    (void)u;
    write_zero_state(f, &f->dst, 64, GEN);      /* page 64: being zeroed */
    put64(&f->dst, page_gpa(64) + MT_PAGE_SIZE - 8, 0);
    expect_invariant_ok(f);
    write_zero_state(f, &f->dst, 700, GEN);     /* page 700: written back */
    put64(&f->dst, page_gpa(700) + MT_PAGE_SIZE - 8, verify_tail(GEN, page_gpa(700)));
    expect_invariant_ok(f);
    /* No boundary: page 0 leaves the run for pass GEN + 1 (slot 1). */
    write_zero_state(f, &f->dst, NPAGES, GEN);
    put64(&f->dst, page_gpa(0) + MT_PAGE_SIZE - 8, verify_tail(GEN + 1, page_gpa(0)));
    expect_invariant_ok(f);
    /* ... but only the page in progress: page 701 may not. */
    write_zero_state(f, &f->dst, 700, GEN);
    put64(&f->dst, page_gpa(701) + MT_PAGE_SIZE - 8, verify_tail(GEN, page_gpa(701)));
    expect_invariant_violation(f, page_gpa(701) + MT_PAGE_SIZE - 8, 0,
                               verify_tail(GEN, page_gpa(701)));
}

/* The bug zero runs exist for: the zeroing was lost and the page still
 * holds the pattern it had before.  Reported at the page's own GPA. */
static void test_zero_old_pattern(Fixture *f, gconstpointer u)
{
    g_auto(ExactResult) e = { 0 };
    g_autoptr(GError) error = NULL;

    (void)u;
    write_page(&f->dst, 10, GEN - 1);           /* zeroed in pass GEN */
    expect_invariant_violation(f, page_gpa(10), 0, GEN - 1);
    g_assert_false(verify_exact(&f->src, &f->dst, &e, &error));
    g_assert_cmpuint(e.pages_differing, ==, 1);
    g_assert_cmphex(e.diffs[0].gpa, ==, page_gpa(10));
    g_assert_cmphex(e.diffs[0].src[0], ==, 0);
    g_assert_cmphex(e.diffs[0].dst[0], ==, GEN - 1);
    memset(at(&f->dst, page_gpa(10)), 0, MT_PAGE_SIZE);
    write_page(&f->dst, ZR_PREV_FIRST + 3, GEN - 2);    /* zeroed in pass GEN - 1 */
    expect_invariant_violation(f, page_gpa(ZR_PREV_FIRST + 3), 0, GEN - 2);
}

static void test_zero_middle_word(Fixture *f, gconstpointer u)
{
    (void)u;
    /* Head and tail zero, one word in the middle not: a torn zeroing. */
    put64(&f->dst, page_gpa(20) + 2000, 0x5a5a);
    expect_invariant_violation(f, page_gpa(20) + 2000, 0, 0x5a5a);
}

static void test_zero_written_back_lost(Fixture *f, gconstpointer u)
{
    (void)u;
    /* Slot 5 was written back in pass GEN before the boundary ...: with
     * BOUNDARY at 300 it is still pass GEN - 1's run, so move the
     * boundary past it; a page left zero there is a lost write. */
    write_zero_state(f, &f->dst, NPAGES, GEN);
    memset(at(&f->dst, page_gpa(ZR_PREV_FIRST + 5)), 0, MT_PAGE_SIZE);
    expect_invariant_violation(f, page_gpa(ZR_PREV_FIRST + 5), GEN, 0);
}

/* ---- invariant: whole-page fill --------------------------------------- */

/* fill=full: what the guest leaves in page @i at generation @g, middle
 * words [8, @upto) only (a page it is halfway through). */
static void write_full_upto(RamImage *img, guint i, guint64 g, guint64 upto)
{
    for (guint64 off = 8; off < upto; off += 8)
        put64(img, page_gpa(i) + off, verify_fill(g, page_gpa(i) + off));
}

static void write_full(RamImage *img, guint i, guint64 g)
{
    write_full_upto(img, i, g, MT_PAGE_SIZE - 8);
    write_page(img, i, g);
}

static void full_setup(Fixture *f, gconstpointer u)
{
    fixture_setup(f, u);
    f->params.fill = MT_FILL_FULL;
    for (guint i = 0; i < NPAGES; i++) {
        write_full(&f->src, i, i < BOUNDARY ? GEN : GEN - 1);
        write_full(&f->dst, i, i < BOUNDARY ? GEN : GEN - 1);
    }
}

static void test_full_clean(Fixture *f, gconstpointer u)
{
    (void)u;
    expect_invariant_ok(f);
    /* Page BOUNDARY half written for GEN: middle prefix new, rest old. */
    write_full_upto(&f->dst, BOUNDARY, GEN, 1000);
    expect_invariant_ok(f);
    /* ... then its tail too; the head comes last. */
    write_full_upto(&f->dst, BOUNDARY, GEN, MT_PAGE_SIZE - 8);
    put64(&f->dst, page_gpa(BOUNDARY) + MT_PAGE_SIZE - 8, verify_tail(GEN, page_gpa(BOUNDARY)));
    expect_invariant_ok(f);
    /* Without fill=full the middle is not the guest's. */
    f->params.fill = MT_FILL_HEAD_TAIL;
    put64(&f->dst, page_gpa(40) + 800, 0xdeadbeef);
    expect_invariant_ok(f);
}

/* A middle word one generation behind: head and tail agree, only the
 * middle shows the loss (what head/tail fill cannot see). */
static void test_full_stale_word(Fixture *f, gconstpointer u)
{
    guint64 a = page_gpa(50) + 1024;

    (void)u;
    put64(&f->dst, a, verify_fill(GEN - 1, a));
    expect_invariant_violation(f, a, verify_fill(GEN, a), verify_fill(GEN - 1, a));
}

static void test_full_torn_middle(Fixture *f, gconstpointer u)
{
    guint64 a = page_gpa(BOUNDARY + 40) + 2048;

    (void)u;
    /* Second half of the page from pass GEN - 2: a torn copy. */
    for (guint64 off = 2048; off < MT_PAGE_SIZE - 8; off += 8)
        put64(&f->dst, page_gpa(BOUNDARY + 40) + off,
              verify_fill(GEN - 2, page_gpa(BOUNDARY + 40) + off));
    expect_invariant_violation(f, a, verify_fill(GEN - 1, a), verify_fill(GEN - 2, a));
}

static void test_full_neighbour(Fixture *f, gconstpointer u)
{
    guint64 a = page_gpa(71) + 8;

    (void)u;
    memcpy(at(&f->dst, page_gpa(71)), at(&f->dst, page_gpa(72)), MT_PAGE_SIZE);
    expect_invariant_violation(f, a, verify_fill(GEN, a), verify_fill(GEN, a + MT_PAGE_SIZE));
}

static void test_full_only_page_in_progress(Fixture *f, gconstpointer u)
{
    guint64 a = page_gpa(BOUNDARY + 1) + 8;

    (void)u;
    /* Page BOUNDARY + 1 is not the one the guest is in. */
    write_full_upto(&f->dst, BOUNDARY + 1, GEN, 16);
    expect_invariant_violation(f, a, verify_fill(GEN - 1, a), verify_fill(GEN, a));
}

static void test_full_hot_words_apart(Fixture *f, gconstpointer u)
{
    (void)u;
    /* The hot word of a hot page belongs to the hot set, not the fill;
     * a non-hot page's word at the same offset is the fill's. */
    f->params.hot_pages = HOT_K;
    write_hot(&f->dst, HOT_H, HOT_J);
    expect_invariant_ok(f);
    put64(&f->dst, hot_gpa(HOT_K), 0);
    expect_invariant_violation(f, hot_gpa(HOT_K), verify_fill(GEN, hot_gpa(HOT_K)), 0);
}

static void test_full_with_zero_runs(Fixture *f, gconstpointer u)
{
    (void)u;
    f->params.zero_every = 1;
    f->params.zero_pages = ZR;
    /* Rebuild: pages of the runs zero, the rest filled. */
    for (guint i = 0; i < NPAGES; i++) {
        guint64 g = i < 64 ? GEN : GEN - 1;
        if (zero_at(f, i, g))
            memset(at(&f->dst, page_gpa(i)), 0, MT_PAGE_SIZE);
        else
            write_full(&f->dst, i, g);
    }
    /* Page 64 (zero(p, GEN)) being zeroed: words 8 .. 1000 zero already. */
    memset(at(&f->dst, page_gpa(64) + 8), 0, 1000 - 8);
    f->params.zero_method = MT_ZERO_PLAIN;
    {
        InvariantResult r;
        g_autoptr(GError) error = NULL;

        g_assert_true(verify_invariant(&f->dst, &f->params, &r, &error));
        invariant_result_clear(&r);
    }
    /* A filled page of the run left as it was is found at its head. */
    write_full(&f->dst, 10, GEN - 1);
    expect_invariant_violation(f, page_gpa(10), 0, GEN - 1);
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

/* ---- exact over RAM files: holes, threads -------------------------------- */

/* A sparse file of @size bytes on /dev/shm (tmpfs, like QEMU's shared RAM)
 * with @data_at bytes of data at each offset listed (-1 ends), the byte
 * there set to @val; returns the path (new string). */
static char *sparse_file(guint64 size, const gint64 *data_at, guint8 val)
{
    char *path = g_strdup("/dev/shm/migtest-test-verify-XXXXXX");
    int fd = g_mkstemp(path);
    guint8 page[MT_PAGE_SIZE];

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    memset(page, 0, sizeof(page));
    page[17] = val;
    for (guint i = 0; data_at[i] >= 0; i++)
        g_assert_cmpint(pwrite(fd, page, sizeof(page), data_at[i]), ==, sizeof(page));
    close(fd);
    return path;
}

/*
 * 64 MiB split over the host's CPUs: the differences sit where a thread's
 * share begins and ends, in a block where only one side has data (the
 * other a hole: zeros), and at the very last page; a block that is a hole
 * on both sides is equal.  Every difference is found, in address order.
 */
static void test_exact_files_holes_threads(void)
{
    const guint64 size = 64ull << 20;
    const gint64 src_at[] = { 0, 32ll << 20, (40ll << 20) + 8192, size - MT_PAGE_SIZE, -1 };
    const gint64 dst_at[] = { 0, 32ll << 20, size - MT_PAGE_SIZE, -1 };
    g_autofree char *sp = sparse_file(size, src_at, 0xaa);
    g_autofree char *dp = sparse_file(size, dst_at, 0xab);
    g_autoptr(RamImage) s = NULL;
    g_autoptr(RamImage) d = NULL;
    g_autoptr(GError) error = NULL;
    ExactResult r = { 0 };
    RamLayout l;

    arch_lookup("x86_64")->ram_layout("pc", size, &l);
    s = ram_image_map_file(sp, size, &l, FALSE, &error);
    g_assert_no_error(error);
    d = ram_image_map_file(dp, size, &l, FALSE, &error);
    g_assert_no_error(error);
    g_assert_false(verify_exact(s, d, &r, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_VERIFY);
    /* 0, 32 MiB and the last page differ (0xaa against 0xab); at 40 MiB
     * only the source has data. */
    g_assert_cmpuint(r.pages_differing, ==, 4);
    g_assert_cmpuint(r.pages_compared, ==, size / MT_PAGE_SIZE);
    g_assert_cmphex(r.diffs[0].gpa, ==, ram_layout_offset_to_gpa(&l, 17));
    g_assert_cmphex(r.diffs[1].gpa, ==, ram_layout_offset_to_gpa(&l, (32ull << 20) + 17));
    g_assert_cmphex(r.diffs[2].gpa, ==, ram_layout_offset_to_gpa(&l, (40ull << 20) + 8192 + 17));
    g_assert_cmphex(r.diffs[3].gpa, ==, ram_layout_offset_to_gpa(&l, size - MT_PAGE_SIZE + 17));
    exact_result_clear(&r);
    g_clear_error(&error);
    /* The same files against themselves: holes on both sides, no alarm. */
    g_assert_true(verify_exact(s, s, &r, &error));
    g_assert_no_error(error);
    exact_result_clear(&r);
    g_unlink(sp);
    g_unlink(dp);
}

/* The copy of the source's RAM at stop (x-ignore-shared, cpr): a file on
 * tmpfs, unlinked at once, holes where the RAM was zero; it keeps the RAM
 * of its moment, so a page changed afterwards in the (shared) RAM is
 * reported at its address. */
static void test_exact_copy_at_stop(void)
{
    const guint64 size = 8ull << 20, changed = (5ull << 20) + 100;
    g_autofree char *dir = g_dir_make_tmp("migtest-copy-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "copy.ram", NULL);
    RamImage ram = { 0 };
    g_autoptr(RamImage) copy = NULL;
    g_autoptr(GError) error = NULL;
    ExactResult r = { 0 };

    arch_lookup("x86_64")->ram_layout("pc", size, &ram.layout);
    ram.data = g_malloc0(size);
    memset(ram.data + (1ull << 20), 0x5a, 3 << 20);        /* data from 1 to 4 MiB */
    ram.data[changed] = 0x11;
    copy = ram_image_copy_to_file(&ram, path, &error);
    g_assert_no_error(error);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_cmpint(lseek(copy->fd, 0, SEEK_DATA), ==, 1 << 20);   /* 0-1 MiB: a hole */
    g_assert_true(verify_exact(copy, &ram, &r, &error));
    exact_result_clear(&r);
    ram.data[changed] = 0x22;                   /* after the stop, in the shared RAM */
    g_assert_false(verify_exact(copy, &ram, &r, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_VERIFY);
    g_assert_cmpuint(r.pages_differing, ==, 1);
    g_assert_cmphex(r.diffs[0].gpa, ==, ram_layout_offset_to_gpa(&ram.layout, changed));
    g_assert_cmphex(r.diffs[0].src[0], ==, 0x11);
    exact_result_clear(&r);
    g_free(ram.data);
    g_rmdir(dir);
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
    ADD("/verify/exact/lists-every-page", test_exact_lists_every_page);
    g_test_add_func("/verify/exact/page-list-capped", test_exact_page_list_capped);
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
#define HOT(path, fn) g_test_add(path, Fixture, NULL, hot_setup, fn, fixture_teardown)
    HOT("/verify/invariant/hot/clean", test_hot_clean);
    HOT("/verify/invariant/hot/all-equal", test_hot_all_equal);
    HOT("/verify/invariant/hot/no-sweep-boundary", test_hot_no_sweep_boundary);
    HOT("/verify/invariant/hot/first-round", test_hot_first_round);
    HOT("/verify/invariant/hot/stale-word", test_hot_stale_word);
    HOT("/verify/invariant/hot/stale-before-boundary", test_hot_stale_before_boundary);
    HOT("/verify/invariant/hot/second-boundary", test_hot_second_boundary);
    HOT("/verify/invariant/hot/garbage", test_hot_garbage);
    HOT("/verify/invariant/hot/whole-set-stale", test_hot_whole_set_stale);
    HOT("/verify/invariant/hot/two-ranges", test_hot_two_ranges);
    HOT("/verify/invariant/hot/does-not-fit", test_hot_does_not_fit);
    HOT("/verify/invariant/hot/off-ignores-words", test_hot_off_ignores_words);
    HOT("/verify/invariant/hot/with-page-violation", test_hot_and_page_violation);
#undef HOT
#define ZERO(path, fn) g_test_add(path, Fixture, NULL, zero_setup, fn, fixture_teardown)
    ZERO("/verify/zero-run/clean", test_zero_clean);
    ZERO("/verify/zero-run/in-progress", test_zero_in_progress);
    ZERO("/verify/zero-run/old-pattern", test_zero_old_pattern);
    ZERO("/verify/zero-run/middle-word", test_zero_middle_word);
    ZERO("/verify/zero-run/written-back-lost", test_zero_written_back_lost);
#undef ZERO
#define FULL(path, fn) g_test_add(path, Fixture, NULL, full_setup, fn, fixture_teardown)
    FULL("/verify/fill-full/clean", test_full_clean);
    FULL("/verify/fill-full/stale-word", test_full_stale_word);
    FULL("/verify/fill-full/torn-middle", test_full_torn_middle);
    FULL("/verify/fill-full/neighbour", test_full_neighbour);
    FULL("/verify/fill-full/only-page-in-progress", test_full_only_page_in_progress);
    FULL("/verify/fill-full/hot-words-apart", test_full_hot_words_apart);
    FULL("/verify/fill-full/with-zero-runs", test_full_with_zero_runs);
#undef FULL
#undef ADD
    g_test_add_func("/verify/selfcheck", test_selfcheck);
    g_test_add_func("/verify/exact/files-holes-threads", test_exact_files_holes_threads);
    g_test_add_func("/verify/exact/copy-at-stop", test_exact_copy_at_stop);
    g_test_add_func("/verify/layout/x86-split", test_layout_x86_split);
    return g_test_run();
}
