/* verify.c: RAM verifiers (see verify.h). */
#include "verify.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mt-error.h"

/* Compare in chunks: memcmp on 1 MiB is memory-bandwidth bound, and only
 * a chunk that differs is walked page by page. */
#define EXACT_CHUNK (1024 * 1024)

/* @off starts a page (or the tail of RAM) known to differ. */
static void exact_record(ExactResult *out, const RamImage *src,
                         const RamImage *dst, guint64 off)
{
    ExactDiff d = { 0 };
    guint64 page_end = MIN((off / MT_PAGE_SIZE + 1) * MT_PAGE_SIZE, src->layout.total);

    out->pages_differing++;
    if (out->ndiffs >= VERIFY_MAX_REPORTED && out->pages->len >= VERIFY_MAX_PAGES)
        return;
    while (src->data[off] == dst->data[off])
        off++;
    d.gpa = ram_layout_offset_to_gpa(&src->layout, off);
    d.shown = (guint)MIN((guint64)VERIFY_BYTES_SHOWN, page_end - off);
    memcpy(d.src, src->data + off, d.shown);
    memcpy(d.dst, dst->data + off, d.shown);
    for (guint64 p = off; p < page_end; p++)
        d.bytes_differing += src->data[p] != dst->data[p];
    if (out->ndiffs < VERIFY_MAX_REPORTED)
        out->diffs[out->ndiffs++] = d;
    if (out->pages->len < VERIFY_MAX_PAGES)
        g_array_append_val(out->pages, d);
}

void exact_result_clear(ExactResult *r)
{
    g_clear_pointer(&r->pages, g_array_unref);
}

static void exact_compare_chunk(ExactResult *out, const RamImage *src,
                                const RamImage *dst, guint64 off, guint64 len)
{
    for (guint64 p = off; p < off + len; p += MT_PAGE_SIZE) {
        guint64 n = MIN((guint64)MT_PAGE_SIZE, off + len - p);
        if (memcmp(src->data + p, dst->data + p, n) != 0)
            exact_record(out, src, dst, p);
    }
}

/*
 * The exact compare at memory bandwidth on large guests: RAM is split into
 * one contiguous share per host CPU (at most EXACT_MAX_THREADS), and each
 * thread walks its share in EXACT_BLOCK blocks: a block that is a hole in
 * both RAM files (never written on either side: zeros on both) is
 * skipped; the others are populated in bulk (MADV_POPULATE_READ: one call
 * instead of a fault per 64 KiB) and compared in EXACT_CHUNKs.  Threads
 * only note which chunks differ; the pages are then walked in address
 * order on one thread, so the report is the same as a serial compare's.
 */
#define EXACT_BLOCK (2 * 1024 * 1024)
#define EXACT_MAX_THREADS 16

typedef struct {
    const RamImage *src, *dst;
    guint64 start, end;         /* this thread's share */
    GArray *differing;          /* guint64 chunk offsets */
} ExactShare;

/* TRUE if @img's file has no data in [@off, @off + @len): a hole. */
static gboolean file_hole(const RamImage *img, guint64 off, guint64 len)
{
    off_t data;

    if (!img->fd_owned)
        return FALSE;
    data = lseek(img->fd, (off_t)off, SEEK_DATA);
    /* ENXIO: no data after @off.  Any other error: assume data. */
    return data < 0 ? errno == ENXIO : (guint64)data >= off + len;
}

static void populate(const RamImage *img, guint64 off, guint64 len)
{
#ifdef MADV_POPULATE_READ
    guint8 *a = img->data + (off & ~(guint64)(sysconf(_SC_PAGESIZE) - 1));

    if (img->map_len)
        (void)madvise(a, len + (img->data + off - a), MADV_POPULATE_READ);
#else
    (void)img; (void)off; (void)len;       /* faults do it, page by page */
#endif
}

static gpointer exact_share_run(gpointer opaque)
{
    ExactShare *sh = opaque;

    for (guint64 b = sh->start; b < sh->end; b += EXACT_BLOCK) {
        guint64 blen = MIN((guint64)EXACT_BLOCK, sh->end - b);

        if (file_hole(sh->src, b, blen) && file_hole(sh->dst, b, blen))
            continue;
        populate(sh->src, b, blen);
        populate(sh->dst, b, blen);
        for (guint64 off = b; off < b + blen; off += EXACT_CHUNK) {
            guint64 len = MIN((guint64)EXACT_CHUNK, b + blen - off);
            if (memcmp(sh->src->data + off, sh->dst->data + off, len) != 0)
                g_array_append_val(sh->differing, off);
        }
    }
    return NULL;
}

static void exact_compare_parallel(ExactResult *out, const RamImage *src, const RamImage *dst)
{
    guint64 total = src->layout.total;
    guint n = CLAMP(g_get_num_processors(), 1, EXACT_MAX_THREADS);
    guint64 share = (total / n + EXACT_BLOCK - 1) / EXACT_BLOCK * EXACT_BLOCK;
    ExactShare sh[EXACT_MAX_THREADS];
    GThread *th[EXACT_MAX_THREADS] = { NULL };

    for (guint i = 0; i < n; i++) {
        sh[i] = (ExactShare){ .src = src, .dst = dst, .start = MIN(i * share, total),
                              .end = MIN((i + 1) * share, total),
                              .differing = g_array_new(FALSE, FALSE, sizeof(guint64)) };
        /* The first share runs here: one thread fewer to start. */
        if (i > 0 && sh[i].start < sh[i].end)
            th[i] = g_thread_new("exact", exact_share_run, &sh[i]);
    }
    exact_share_run(&sh[0]);
    for (guint i = 0; i < n; i++) {
        if (th[i])
            g_thread_join(th[i]);
        for (guint j = 0; j < sh[i].differing->len; j++) {
            guint64 off = g_array_index(sh[i].differing, guint64, j);
            exact_compare_chunk(out, src, dst, off, MIN((guint64)EXACT_CHUNK, total - off));
        }
        g_array_unref(sh[i].differing);
    }
}

static char *hex_bytes(const guint8 *b, guint n)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < n; i++)
        g_string_append_printf(s, "%02x", b[i]);
    return g_string_free(s, FALSE);
}

gboolean exact_result_verdict(const ExactResult *r, GError **error)
{
    const ExactDiff *d = &r->diffs[0];
    g_autofree char *s = NULL;
    g_autofree char *t = NULL;

    if (!r->pages_differing)
        return TRUE;
    s = hex_bytes(d->src, d->shown);
    t = hex_bytes(d->dst, d->shown);
    g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "exact: %" G_GUINT64_FORMAT " of %"
                G_GUINT64_FORMAT " pages differ; first at gpa 0x%" G_GINT64_MODIFIER
                "x: src %s dst %s", r->pages_differing, r->pages_compared, d->gpa, s, t);
    return FALSE;
}

gboolean verify_exact(const RamImage *src, const RamImage *dst,
                      ExactResult *out, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    guint64 total = src->layout.total;

    exact_result_clear(out);
    memset(out, 0, sizeof(*out));
    out->pages = g_array_new(FALSE, FALSE, sizeof(ExactDiff));
    out->layout = src->layout;
    if (src->layout.total != dst->layout.total) {
        g_set_error(error, MT_ERROR, MT_ERROR_VERIFY,
                    "exact: source RAM is %" G_GUINT64_FORMAT " bytes, destination %"
                    G_GUINT64_FORMAT, src->layout.total, dst->layout.total);
        return FALSE;
    }
    exact_compare_parallel(out, src, dst);
    out->pages_compared = (total + MT_PAGE_SIZE - 1) / MT_PAGE_SIZE;
    out->elapsed_us = g_get_monotonic_time() - t0;
    return exact_result_verdict(out, error);
}

static guint64 ram_word(const RamImage *ram, guint64 gpa, gboolean *ok)
{
    guint64 off, v = 0;

    if (!ram_layout_gpa_to_offset(&ram->layout, gpa, &off) ||
        off + sizeof(v) > ram->layout.total) {
        *ok = FALSE;
        return 0;
    }
    memcpy(&v, ram->data + off, sizeof(v));
    return GUINT64_FROM_LE(v);
}

static void invariant_violation(InvariantResult *r, guint64 gpa,
                                guint64 expected, guint64 found)
{
    r->violations++;
    if (r->nreported < VERIFY_MAX_REPORTED)
        r->reported[r->nreported++] = (InvariantViolation){ gpa, expected, found };
}

/* The window's pages in the guest's sweep order, with their head words.
 * The hot set reuses it for its hot words (gpa = the word, head = its
 * value): both are "newer value on a prefix, one older on the rest". */
typedef struct {
    guint64 n;
    guint64 *gpa;
    guint64 *head;
    const PayloadParams *zero;  /* pages: zero runs as these say; hot words: NULL */
} Sweep;

/* The pages of zero(p, g) (migtest-abi.h, "Zero runs"), [start, end). */
typedef struct {
    guint64 start;
    guint64 end;
} ZeroSpan;

static ZeroSpan zero_span(const Sweep *sw, guint64 g)
{
    ZeroSpan z = { 0, 0 };

    if (sw->zero && g)
        payload_zero_run(sw->zero, g, &z.start, &z.end);
    return z;
}

static gboolean zero_has(const ZeroSpan *z, guint64 gpa)
{
    return gpa >= z->start && gpa < z->end;
}

/* The head entry @i holds at generation @G (@z = zero_span(sw, G)). */
static guint64 sweep_expect(const Sweep *sw, const ZeroSpan *z, guint64 i, guint64 G)
{
    return zero_has(z, sw->gpa[i]) ? 0 : G;
}

static gboolean sweep_load(Sweep *sw, const RamImage *ram, const PayloadParams *p)
{
    gboolean ok = TRUE;
    guint64 i = 0;

    sw->n = payload_params_pages(p);
    sw->zero = p;
    sw->gpa = g_new(guint64, sw->n);
    sw->head = g_new(guint64, sw->n);
    for (guint r = 0; r < p->nranges; r++)
        for (guint64 a = p->ranges[r].start; a < p->ranges[r].end; a += MT_PAGE_SIZE, i++) {
            sw->gpa[i] = a;
            sw->head[i] = ram_word(ram, a, &ok);
        }
    return ok;
}

static void sweep_clear(Sweep *sw)
{
    g_free(sw->gpa);
    g_free(sw->head);
}

/* Entries that disagree with "H on [0, k), H - 1 on [k, n)", minimised
 * over k: the boundary that explains the most pages (or hot words). */
static guint64 sweep_best_boundary(const Sweep *sw, guint64 H, guint64 *best_k)
{
    ZeroSpan zn = zero_span(sw, H), zo = zero_span(sw, H - 1);
    guint64 older = 0, newer = 0, best;

    for (guint64 i = 0; i < sw->n; i++)
        older += sw->head[i] == sweep_expect(sw, &zo, i, H - 1);
    best = sw->n - older;               /* k = 0 */
    *best_k = 0;
    for (guint64 k = 1; k <= sw->n; k++) {
        guint64 cost;

        newer += sw->head[k - 1] == sweep_expect(sw, &zn, k - 1, H);
        older -= sw->head[k - 1] == sweep_expect(sw, &zo, k - 1, H - 1);
        cost = (k - newer) + (sw->n - k - older);
        if (cost < best) {
            best = cost;
            *best_k = k;
        }
    }
    return best;
}

/* H is the newest generation in the window.  Page 0 normally holds it,
 * but page 0 may be the corrupted one (or in a zero run), so the last
 * page's view (H or H - 1) and the highest head (H or H - 1) are tried; the
 * candidate that explains most pages wins. */
static void sweep_choose(const Sweep *sw, guint64 *H, guint64 *k)
{
    guint64 top = 0, best = G_MAXUINT64;
    guint64 cand[5] = { sw->head[0], sw->head[sw->n - 1], sw->head[sw->n - 1] + 1, 0, 0 };

    for (guint64 i = 0; i < sw->n; i++)
        top = MAX(top, sw->head[i]);
    cand[3] = top;
    cand[4] = top + 1;          /* every page of pass H so far is a zero page */

    for (guint c = 0; c < G_N_ELEMENTS(cand); c++) {
        guint64 ck, cost = sweep_best_boundary(sw, cand[c], &ck);
        if (cost < best) {
            best = cost;
            *H = cand[c];
            *k = ck;
        }
    }
}

/*
 * The guest writes (with fill=full) the middle, then the tail, then the
 * head, page by page.  A snapshot taken with the vCPUs stopped therefore
 * shows heads H on pages [0, k) and H - 1 on pages [k, n), every other
 * word matching its own head, with two allowances for the one page the
 * guest may be halfway through:
 *   (1) page k itself may already carry the words of generation H;
 *   (2) with no boundary (k == n), page 0 may carry those of H + 1;
 * but never the head, which is written last.
 * Generation 0 means "not yet written": the page is still all zero.
 * With zero runs a page of zero(p, G) at its generation G must be zero in
 * every byte; a page being zeroed or written back may hold, past its head,
 * the words it is going to get (0, or the pattern).  Each page yields at
 * most one violation: its first word that is wrong.
 */
#define TAIL_OFF (MT_PAGE_SIZE - 8)

typedef struct {
    guint64 g;                  /* generation; 0: never written */
    gboolean zero;              /* every word 0: a zero-run page, or g == 0 */
} PageState;

typedef struct {
    const PayloadParams *p;
    guint64 H, k;
    ZeroSpan newer, older, next;        /* zero(p, H), (H - 1), (H + 1) */
} SweepState;

static PageState page_state(const ZeroSpan *z, guint64 gpa, guint64 g)
{
    return (PageState){ g, g == 0 || zero_has(z, gpa) };
}

/* Whether state @s fixes the word at @off of page @gpa, and to what. */
static gboolean word_want(const SweepState *st, PageState s, guint64 gpa, guint64 off,
                          gboolean hot, guint64 *want)
{
    if (hot && off == MT_HOT_WORD_OFFSET)
        return FALSE;                   /* the hot set's word */
    if (s.zero)
        *want = 0;
    else if (off == 0)
        *want = s.g;
    else if (off == TAIL_OFF)
        *want = verify_tail(s.g, gpa);
    else if (st->p->fill == MT_FILL_FULL)
        *want = verify_fill(s.g, gpa + off);
    else
        return FALSE;                   /* head/tail fill: not the guest's */
    return TRUE;
}

static gboolean state_fixes_middle(const SweepState *st, PageState s)
{
    return s.zero || st->p->fill == MT_FILL_FULL;
}

/* The state page @i is going to, if the guest may be halfway through it. */
static gboolean page_moving(const Sweep *sw, const SweepState *st, guint64 i, PageState *to)
{
    if (i == st->k)
        *to = page_state(&st->newer, sw->gpa[i], st->H);
    else if (st->k == sw->n && i == 0)
        *to = page_state(&st->next, sw->gpa[i], st->H + 1);
    else
        return FALSE;
    return TRUE;
}

static void invariant_check_page(InvariantResult *r, const RamImage *ram,
                                 const Sweep *sw, const SweepState *st, guint64 i)
{
    gboolean ok = TRUE, hot = i < st->p->hot_pages;     /* range 0 comes first */
    guint64 gpa = sw->gpa[i], g = i < st->k ? st->H : st->H - 1, step;
    PageState was = page_state(i < st->k ? &st->newer : &st->older, gpa, g), to = { 0 };
    gboolean moving = page_moving(sw, st, i, &to);

    step = state_fixes_middle(st, was) || (moving && state_fixes_middle(st, to)) ? 8 : TAIL_OFF;
    if (was.zero && g)
        r->zero_pages++;
    for (guint64 off = 0; off < MT_PAGE_SIZE; off += step) {
        guint64 w = ram_word(ram, gpa + off, &ok), want = 0, next = 0;

        if (!word_want(st, was, gpa, off, hot, &want) || w == want)
            continue;
        if (moving && off != 0 && (!word_want(st, to, gpa, off, hot, &next) || w == next))
            continue;
        invariant_violation(r, gpa + off, want, w);
        return;
    }
}

/* ---- hot set (migtest-abi.h, "Hot set") ---- */

/* The payload refuses such a block and halts; say so rather than report
 * every hot word of a guest that never ran. */
static gboolean hot_params_ok(const PayloadParams *p, GError **error)
{
    guint64 range0 = p->nranges ? (p->ranges[0].end - p->ranges[0].start) / MT_PAGE_SIZE : 0;

    if (p->hot_pages <= MT_MAX_HOT_PAGES && p->hot_pages <= range0)
        return TRUE;
    g_set_error(error, MT_ERROR, MT_ERROR_USAGE,
                "invariant: a hot set of %u pages does not fit (at most %d, and at "
                "most the %" G_GUINT64_FORMAT " pages of range 0)", p->hot_pages,
                MT_MAX_HOT_PAGES, range0);
    return FALSE;
}

static gboolean hot_load(Sweep *hw, const RamImage *ram, const PayloadParams *p)
{
    gboolean ok = TRUE;

    hw->n = p->hot_pages;
    hw->gpa = g_new(guint64, hw->n);
    hw->head = g_new(guint64, hw->n);
    for (guint64 i = 0; i < hw->n; i++) {
        hw->gpa[i] = p->ranges[0].start + i * MT_PAGE_SIZE + MT_HOT_WORD_OFFSET;
        hw->head[i] = ram_word(ram, hw->gpa[i], &ok);
    }
    return ok;
}

/* The guest bumps h once per head store, so the sweep fixes h: (H - 1)
 * whole passes of n pages, then k pages of pass H (mod 2^64, which also
 * makes "nothing written yet", H = 0 and k = n, come out as h = 0).
 * Taking h from the sweep rather than from the hot words themselves is
 * what catches a hot set that is stale as a whole, e.g. all K words left
 * at an older round because their final dirty bits were lost. */
static guint64 hot_counter(guint64 H, guint64 k, guint64 n)
{
    return (H - 1) * n + k;
}

/* Hot words read h on [0, j) and h - 1 on [j, K) for the j that explains
 * most of them; every other word is a violation at its own address. */
static void invariant_check_hot(InvariantResult *r, const Sweep *hw, guint64 h)
{
    guint64 j = 0;

    sweep_best_boundary(hw, h, &j);
    r->hot_counter = h;
    r->hot_boundary_gpa = j < hw->n ? hw->gpa[j] : 0;
    for (guint64 i = 0; i < hw->n; i++) {
        guint64 want = i < j ? h : h - 1;

        if (hw->head[i] != want)
            invariant_violation(r, hw->gpa[i], want, hw->head[i]);
    }
}

/* The single-vCPU invariant on one window (with several vCPUs: one slice). */
static gboolean invariant_single(const RamImage *ram, const PayloadParams *params,
                                 InvariantResult *out, GError **error)
{
    Sweep sw = { 0 }, hw = { 0 };
    guint64 H = 0, k = 0;

    memset(out, 0, sizeof(*out));
    if (!hot_params_ok(params, error))
        return FALSE;
    if (!sweep_load(&sw, ram, params) || sw.n == 0 || !hot_load(&hw, ram, params)) {
        sweep_clear(&sw);
        sweep_clear(&hw);
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE,
                    "invariant: the test window lies outside guest RAM");
        return FALSE;
    }
    sweep_choose(&sw, &H, &k);
    out->generation = H;
    out->boundary_gpa = k < sw.n ? sw.gpa[k] : 0;
    if (H == 0)
        invariant_violation(out, sw.gpa[0], 1, 0);
    SweepState st = { .p = params, .H = H, .k = k, .newer = zero_span(&sw, H),
                      .older = zero_span(&sw, H - 1), .next = zero_span(&sw, H + 1) };
    for (guint64 i = 0; i < sw.n; i++)
        invariant_check_page(out, ram, &sw, &st, i);
    out->pages_checked = sw.n;
    if (hw.n)
        invariant_check_hot(out, &hw, hot_counter(H, k, sw.n));
    sweep_clear(&sw);
    sweep_clear(&hw);
    out->ok = out->violations == 0;
    if (out->ok) {
        out->detail = g_strdup_printf("%" G_GUINT64_FORMAT " pages consistent, "
                                      "generation %" G_GUINT64_FORMAT ", boundary at "
                                      "0x%" G_GINT64_MODIFIER "x", out->pages_checked,
                                      out->generation, out->boundary_gpa);
        if (out->zero_pages) {
            char *d = g_strdup_printf("%s; %" G_GUINT64_FORMAT " pages of zero runs zero",
                                      out->detail, out->zero_pages);
            g_free(out->detail);
            out->detail = d;
        }
        if (params->hot_pages) {
            char *d = g_strdup_printf("%s; %u hot words at h %" G_GUINT64_FORMAT
                                      ", boundary at 0x%" G_GINT64_MODIFIER "x",
                                      out->detail, params->hot_pages, out->hot_counter,
                                      out->hot_boundary_gpa);
            g_free(out->detail);
            out->detail = d;
        }
        return TRUE;
    }
    out->detail = g_strdup_printf("%" G_GUINT64_FORMAT " violations; first at gpa 0x%"
                                  G_GINT64_MODIFIER "x: expected 0x%016"
                                  G_GINT64_MODIFIER "x found 0x%016" G_GINT64_MODIFIER
                                  "x", out->violations, out->reported[0].gpa,
                                  out->reported[0].expected, out->reported[0].found);
    g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "invariant: %s", out->detail);
    return FALSE;
}

/* Fold slice @i's result into @out (the first slice's sweep and hot-set
 * figures stand for the block's; each slice's generation is kept). */
static void invariant_merge(InvariantResult *out, guint i, InvariantResult *r,
                            GString *detail)
{
    if (i == 0) {
        out->generation = r->generation;
        out->boundary_gpa = r->boundary_gpa;
        out->hot_counter = r->hot_counter;
        out->hot_boundary_gpa = r->hot_boundary_gpa;
    }
    out->slice_generation[i] = r->generation;
    out->slice_boundary_gpa[i] = r->boundary_gpa;
    out->pages_checked += r->pages_checked;
    out->zero_pages += r->zero_pages;
    out->violations += r->violations;
    for (guint j = 0; j < r->nreported && out->nreported < VERIFY_MAX_REPORTED; j++)
        out->reported[out->nreported++] = r->reported[j];
    if (r->ok)
        g_string_append_printf(detail, "; vCPU %u: %s", i, r->detail);
    else if (r->violations)
        g_string_append_printf(detail, "; vCPU %u's slice: %" G_GUINT64_FORMAT
                               " violations", i, r->violations);
}

/* Several vCPUs (migtest-abi.h, "Several vCPUs"): each vCPU's slice is an
 * independent single-vCPU window, checked with its own parameters. */
static gboolean invariant_slices(const RamImage *ram, const PayloadParams *params,
                                 InvariantResult *out, GError **error)
{
    guint n = payload_params_vcpus(params);
    g_autoptr(GString) detail = g_string_new(NULL);

    memset(out, 0, sizeof(*out));
    out->nslices = n;
    for (guint i = 0; i < n; i++) {
        PayloadParams slice;
        InvariantResult r;
        g_autoptr(GError) local = NULL;

        if (!payload_params_slice(params, i, &slice)) {
            g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "invariant: %u vCPUs cannot share "
                        "this window (one range of at least one page per vCPU)", n);
            return FALSE;
        }
        if (!invariant_single(ram, &slice, &r, &local) &&
            !g_error_matches(local, MT_ERROR, MT_ERROR_VERIFY)) {
            invariant_result_clear(&r);
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        invariant_merge(out, i, &r, detail);
        invariant_result_clear(&r);
    }
    out->ok = out->violations == 0;
    if (out->ok) {
        out->detail = g_strdup_printf("%u vCPU slices, %" G_GUINT64_FORMAT " pages "
                                      "consistent%s", n, out->pages_checked, detail->str);
        return TRUE;
    }
    out->detail = g_strdup_printf("%" G_GUINT64_FORMAT " violations in %u vCPU slices; first "
                                  "at gpa 0x%" G_GINT64_MODIFIER "x: expected 0x%016"
                                  G_GINT64_MODIFIER "x found 0x%016" G_GINT64_MODIFIER "x%s",
                                  out->violations, n, out->reported[0].gpa,
                                  out->reported[0].expected, out->reported[0].found,
                                  detail->str);
    g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "invariant: %s", out->detail);
    return FALSE;
}

gboolean verify_invariant(const RamImage *ram, const PayloadParams *params,
                          InvariantResult *out, GError **error)
{
    if (payload_params_vcpus(params) > 1)
        return invariant_slices(ram, params, out, error);
    return invariant_single(ram, params, out, error);
}

void invariant_result_clear(InvariantResult *r)
{
    g_clear_pointer(&r->detail, g_free);
}

/* Several vCPUs: each must have beaten since the side was resumed (a
 * silent one is named); no beat may come from a vCPU the guest lacks. */
static void selfcheck_beats(GPtrArray *out, const SelfcheckSide *s)
{
    guint n = MAX(s->vcpus, 1);

    for (guint i = 0; i < MT_MAX_VCPUS; i++) {
        char beat = i ? (char)MT_SERIAL_VCPU_BEAT(i) : (char)MT_SERIAL_PASS;

        if (i >= n && s->counts.vcpu_b[i])
            g_ptr_array_add(out, g_strdup_printf("%s: %u beats ('%c') from vCPU %u, but the "
                                                 "guest runs %u vCPU(s)", s->side,
                                                 s->counts.vcpu_b[i], beat, i, n));
        else if (i < n && n > 1 && s->counts.vcpu_b[i] <= s->beats_since[i])
            g_ptr_array_add(out, g_strdup_printf("%s: vCPU %u of %u is silent: no heartbeat "
                                                 "('%c') since it was resumed (%u before)",
                                                 s->side, i, n, beat, s->beats_since[i]));
    }
}

static void selfcheck_side(GPtrArray *out, const SelfcheckSide *s)
{
    for (guint i = 0; s->errors && i < s->errors->len; i++) {
        g_autofree char *d = serial_error_describe(&g_array_index(s->errors, SerialError, i));
        g_ptr_array_add(out, g_strdup_printf("%s: %s", s->side, d));
    }
    if (s->counts.a != s->expect_a)
        g_ptr_array_add(out, g_strdup_printf("%s: guest printed 'A' %u times, "
                                             "expected %u", s->side, s->counts.a,
                                             s->expect_a));
    if (s->counts.junk && s->first_junk)
        g_ptr_array_add(out, g_strdup_printf("%s: the console printed '%s' (%u bytes "
                                             "outside the protocol)", s->side,
                                             s->first_junk, s->counts.junk));
    else if (s->counts.junk)
        g_ptr_array_add(out, g_strdup_printf("%s: %u bytes outside the serial "
                                             "protocol", s->side, s->counts.junk));
    selfcheck_beats(out, s);
}

gboolean verify_selfcheck(const SelfcheckSide *sides, guint nsides,
                          SelfcheckResult *out, GError **error)
{
    out->errors = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < nsides; i++)
        selfcheck_side(out->errors, &sides[i]);
    out->ok = out->errors->len == 0;
    if (!out->ok)
        g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "selfcheck: %u problem(s); "
                    "first: %s", out->errors->len, (char *)out->errors->pdata[0]);
    return out->ok;
}

void selfcheck_result_clear(SelfcheckResult *r)
{
    g_clear_pointer(&r->errors, g_ptr_array_unref);
}
