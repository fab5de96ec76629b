/* verify.c: RAM verifiers (see verify.h). */
#include "verify.h"

#include <string.h>
#include "mt-error.h"

/* Compare in chunks: memcmp on 1 MiB is memory-bandwidth bound, and only
 * a chunk that differs is walked page by page. */
#define EXACT_CHUNK (1024 * 1024)

static void exact_record(ExactResult *out, const RamImage *src,
                         const RamImage *dst, guint64 off)
{
    ExactDiff *d;
    guint64 page_end = (off / MT_PAGE_SIZE + 1) * MT_PAGE_SIZE;

    out->pages_differing++;
    if (out->ndiffs >= VERIFY_MAX_REPORTED)
        return;
    while (src->data[off] == dst->data[off])
        off++;
    d = &out->diffs[out->ndiffs++];
    d->gpa = ram_layout_offset_to_gpa(&src->layout, off);
    d->shown = (guint)MIN((guint64)VERIFY_BYTES_SHOWN, page_end - off);
    memcpy(d->src, src->data + off, d->shown);
    memcpy(d->dst, dst->data + off, d->shown);
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

static char *hex_bytes(const guint8 *b, guint n)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < n; i++)
        g_string_append_printf(s, "%02x", b[i]);
    return g_string_free(s, FALSE);
}

gboolean verify_exact(const RamImage *src, const RamImage *dst,
                      ExactResult *out, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    guint64 total = src->layout.total;

    memset(out, 0, sizeof(*out));
    if (src->layout.total != dst->layout.total) {
        g_set_error(error, MT_ERROR, MT_ERROR_VERIFY,
                    "exact: source RAM is %" G_GUINT64_FORMAT " bytes, destination %"
                    G_GUINT64_FORMAT, src->layout.total, dst->layout.total);
        return FALSE;
    }
    for (guint64 off = 0; off < total; off += EXACT_CHUNK) {
        guint64 len = MIN((guint64)EXACT_CHUNK, total - off);
        if (memcmp(src->data + off, dst->data + off, len) != 0)
            exact_compare_chunk(out, src, dst, off, len);
    }
    out->pages_compared = (total + MT_PAGE_SIZE - 1) / MT_PAGE_SIZE;
    out->elapsed_us = g_get_monotonic_time() - t0;
    if (out->pages_differing) {
        const ExactDiff *d = &out->diffs[0];
        g_autofree char *s = hex_bytes(d->src, d->shown);
        g_autofree char *t = hex_bytes(d->dst, d->shown);
        g_set_error(error, MT_ERROR, MT_ERROR_VERIFY,
                    "exact: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                    " pages differ; first at gpa 0x%" G_GINT64_MODIFIER
                    "x: src %s dst %s", out->pages_differing, out->pages_compared,
                    d->gpa, s, t);
        return FALSE;
    }
    return TRUE;
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

typedef struct {
    guint64 index;              /* position of the page in the sweep */
    guint64 gpa;
} SweepPage;

/* Call @fn for every page of the window, in the guest's sweep order. */
#define FOR_EACH_SWEEP_PAGE(params, pg)                                       \
    for (guint _r = 0; _r < (params)->nranges; _r++)                          \
        for (pg.gpa = (params)->ranges[_r].start;                             \
             pg.gpa < (params)->ranges[_r].end;                               \
             pg.gpa += MT_PAGE_SIZE, pg.index++)

/*
 * The guest writes tail, then head, page by page.  A snapshot taken with
 * the vCPUs stopped therefore shows heads H on pages [0, k) and H - 1 on
 * pages [k, n), every tail matching its own head, with two allowances
 * for the one page the guest may be halfway through:
 *   (1) page k itself may already carry the tail of generation H;
 *   (2) with no boundary (k == n), page 0 may carry the tail of H + 1.
 * Generation 0 means "not yet written": head and tail both zero.
 */
static void invariant_check_page(InvariantResult *r, const RamImage *ram,
                                 const SweepPage *pg, guint64 H, guint64 *k,
                                 gboolean *ok)
{
    guint64 head = ram_word(ram, pg->gpa, ok);
    guint64 tail_gpa = pg->gpa + MT_PAGE_SIZE - 8;
    guint64 tail = ram_word(ram, tail_gpa, ok);
    guint64 want = *k == G_MAXUINT64 ? H : H - 1;
    gboolean in_progress;

    if (head != want && *k == G_MAXUINT64 && head == H - 1) {
        *k = pg->index;
        r->boundary_gpa = pg->gpa;
        want = H - 1;
    }
    if (head != want) {
        invariant_violation(r, pg->gpa, want, head);
        return;
    }
    in_progress = (pg->index == *k && tail == verify_tail(H, pg->gpa)) ||
                  (pg->index == 0 && tail == verify_tail(H + 1, pg->gpa));
    if (tail != (want ? verify_tail(want, pg->gpa) : 0) && !in_progress)
        invariant_violation(r, tail_gpa, want ? verify_tail(want, pg->gpa) : 0, tail);
}

gboolean verify_invariant(const RamImage *ram, const PayloadParams *params,
                          InvariantResult *out, GError **error)
{
    SweepPage pg = { 0 };
    guint64 k = G_MAXUINT64;
    gboolean ok = TRUE;

    memset(out, 0, sizeof(*out));
    out->generation = ram_word(ram, params->ranges[0].start, &ok);
    if (out->generation == 0)
        invariant_violation(out, params->ranges[0].start, 1, 0);
    FOR_EACH_SWEEP_PAGE(params, pg) {
        invariant_check_page(out, ram, &pg, out->generation, &k, &ok);
        out->pages_checked++;
    }
    /* (2) only holds when there is no boundary: recheck page 0 if there is. */
    if (k != G_MAXUINT64 && k > 0) {
        guint64 tail_gpa = params->ranges[0].start + MT_PAGE_SIZE - 8;
        guint64 tail = ram_word(ram, tail_gpa, &ok);
        guint64 want = verify_tail(out->generation, params->ranges[0].start);
        if (tail == verify_tail(out->generation + 1, params->ranges[0].start))
            invariant_violation(out, tail_gpa, want, tail);
    }
    if (!ok) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE,
                    "invariant: the test window lies outside guest RAM");
        return FALSE;
    }
    out->ok = out->violations == 0;
    if (out->ok) {
        out->detail = g_strdup_printf("%" G_GUINT64_FORMAT " pages consistent, "
                                      "generation %" G_GUINT64_FORMAT ", boundary at "
                                      "0x%" G_GINT64_MODIFIER "x", out->pages_checked,
                                      out->generation, out->boundary_gpa);
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

void invariant_result_clear(InvariantResult *r)
{
    g_clear_pointer(&r->detail, g_free);
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
    if (s->counts.junk)
        g_ptr_array_add(out, g_strdup_printf("%s: %u bytes outside the serial "
                                             "protocol", s->side, s->counts.junk));
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
