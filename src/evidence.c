/* evidence.c: did the feature act (see evidence.h). */
#include "evidence.h"
#include "migaddr.h"

#include <string.h>
#include "mt-error.h"

static char *fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static char *fail(GError **error, const char *fmt, ...)
{
    va_list ap;

    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, MT_ERROR, MT_ERROR_MIGRATION, msg);
    return NULL;
}

static gboolean has_capability(const CaseDesc *d, const char *name)
{
    for (guint i = 0; d->capabilities && d->capabilities[i]; i++)
        if (g_str_equal(d->capabilities[i], name))
            return TRUE;
    return FALSE;
}

static char *wire_tls(const CaseDesc *d, const MigrateStats *m, GError **error)
{
    if (!m->wire_ran)
        return fail(error, "the wiretap did not run");
    if (!m->wire_all_tls)
        return fail(error, "not encrypted on the wire: %s", m->wire_summary);
    /* Multifd: its channels went through the wiretap too, and carried RAM. */
    if (has_capability(d, "multifd") && (m->wire_connections < 2 || m->multifd_bytes <= 0))
        return fail(error, "multifd over TLS: %u connection(s), multifd-bytes %"
                    G_GINT64_FORMAT, m->wire_connections, m->multifd_bytes);
    if (d->postcopy && !migrate_stats_saw(m, "postcopy-active"))
        return fail(error, "TLS, but postcopy was never entered");
    if (d->postcopy_recover &&
        !(migrate_stats_saw(m, "postcopy-paused") && migrate_stats_saw(m, "postcopy-recover")))
        return fail(error, "TLS postcopy, but it was never paused and recovered");
    return g_strdup_printf("on the wire: %s%s", m->wire_summary,
                           d->postcopy_recover ? "; postcopy paused, then recovered"
                           : d->postcopy ? "; postcopy-active" : "");
}

static char *handshake_failed(const MigrateStats *m, GError **error)
{
    if (!m->wire_ran)
        return fail(error, "the wiretap did not run");
    if (!m->wire_all_tls)
        return fail(error, "the failed migration was not TLS on the wire: %s",
                    m->wire_summary);
    if (m->wire_bytes > EVIDENCE_HANDSHAKE_MAX_UP ||
        m->wire_bytes_down > EVIDENCE_HANDSHAKE_MAX_DOWN)
        return fail(error, "%" G_GUINT64_FORMAT " bytes up and %" G_GUINT64_FORMAT
                    " down crossed before the failure (a handshake: < %d down, < %d up): "
                    "it failed after the handshake; %s", m->wire_bytes, m->wire_bytes_down,
                    EVIDENCE_HANDSHAKE_MAX_DOWN, EVIDENCE_HANDSHAKE_MAX_UP, m->wire_summary);
    if (!m->error_desc)
        return fail(error, "failed without an error-desc");
    return g_strdup_printf("failed in the TLS handshake (%s): %s", m->wire_summary,
                           m->error_desc ? m->error_desc : "no error-desc");
}

static char *mapped_ram(const MigrateStats *m, guint64 mem_bytes, GError **error)
{
    if (m->file_size < mem_bytes)
        return fail(error, "the file is %" G_GUINT64_FORMAT " bytes, less than the %"
                    G_GUINT64_FORMAT " bytes of RAM: a sequential stream, not mapped-ram",
                    m->file_size, mem_bytes);
    if (m->file_allocated >= m->file_size)
        return fail(error, "the file is not sparse (%" G_GUINT64_FORMAT " of %"
                    G_GUINT64_FORMAT " bytes allocated): zero pages were written",
                    m->file_allocated, m->file_size);
    return g_strdup_printf("mapped-ram file spans %" G_GUINT64_FORMAT " MiB for %"
                           G_GUINT64_FORMAT " MiB of RAM, %" G_GUINT64_FORMAT
                           " MiB allocated", m->file_size >> 20, mem_bytes >> 20,
                           m->file_allocated >> 20);
}

static char *file_offset(const CaseDesc *d, const MigrateStats *m, GError **error)
{
    if (!m->file_prefix_kept)
        return fail(error, "the %" G_GUINT64_FORMAT " bytes before the offset were "
                    "overwritten", d->file_offset);
    if (!m->file_magic_at_offset)
        return fail(error, "no QEMU_VM_FILE_MAGIC at offset %" G_GUINT64_FORMAT,
                    d->file_offset);
    return g_strdup_printf("%" G_GUINT64_FORMAT " bytes before the stream kept, "
                           "QEVM at the offset", d->file_offset);
}

/* direct-io writes the RAM pages with O_DIRECT, around the page cache:
 * a file written through the cache has all of its pages resident just
 * after the source finished (nothing evicts them that fast here). */
#define EVIDENCE_DIO_MAX_CACHED_FRACTION 4  /* at most 1/4 of the allocated bytes */

static char *direct_io(const MigrateStats *m, GError **error)
{
    if (m->file_cached > m->file_allocated / EVIDENCE_DIO_MAX_CACHED_FRACTION)
        return fail(error, "direct-io: %" G_GUINT64_FORMAT " of the file's %" G_GUINT64_FORMAT
                    " allocated bytes are in the page cache: it was written through the "
                    "cache, not with O_DIRECT", m->file_cached, m->file_allocated);
    return g_strdup_printf("%" G_GUINT64_FORMAT " KiB of %" G_GUINT64_FORMAT
                           " MiB in the page cache (O_DIRECT)", m->file_cached >> 10,
                           m->file_allocated >> 20);
}

static char *fdsets_released(const MigrateStats *m, GError **error)
{
    if (!m->fdset_checked)
        return fail(error, "the fdsets were never checked after the migration");
    if (m->fdset_left_src || m->fdset_left_dst)
        return fail(error, "after remove-fd, query-fdsets still lists fdset %d on the %s: "
                    "QEMU kept a copy of the migration file open", MIGADDR_FDSET_ID,
                    m->fdset_left_src ? (m->fdset_left_dst ? "source and destination"
                                                           : "source") : "destination");
    return g_strdup("fdsets released on both sides");
}

/* A file: row: the layout it asked for, then direct-io and the fdsets. */
static char *file_stream(const CaseDesc *d, const MigrateStats *m, guint64 mem_bytes,
                         GError **error)
{
    g_autofree char *layout = d->file_offset ? file_offset(d, m, error)
                                             : mapped_ram(m, mem_bytes, error);
    g_autofree char *dio = NULL;
    g_autofree char *fdsets = NULL;

    if (!layout)
        return NULL;
    if (d->file_direct_io && !(dio = direct_io(m, error)))
        return NULL;
    if (d->file_fdset && !(fdsets = fdsets_released(m, error)))
        return NULL;
    return g_strjoin("; ", layout, dio ? dio : fdsets, dio ? fdsets : NULL, NULL);
}

static char *refused(const CaseDesc *d, const MigrateStats *m, GError **error)
{
    if (!m->error_desc || !strstr(m->error_desc, d->refused_with))
        return fail(error, "refused with '%s', expected '%s'",
                    m->error_desc ? m->error_desc : "(nothing)", d->refused_with);
    return g_strdup_printf("refused: %s", m->error_desc);
}

/* The zero-page-detection the row sets ("none", "legacy", "multifd"). */
static const char *zero_detection(const CaseDesc *d)
{
    for (const MigrateParam *p = d->params; p && p->name; p++)
        if (g_str_equal(p->name, "zero-page-detection"))
            return p->str;
    return "multifd";           /* QEMU >= 9.0's default with multifd */
}

static char *zero_pages(const CaseDesc *d, const MigrateStats *m, GError **error)
{
    const char *mode = zero_detection(d);

    if (m->normal_pages <= 0)
        return fail(error, "no page was sent in full (ram.normal 0)");
    if (g_str_equal(mode, "none") ? m->zero_pages != 0 : m->zero_pages <= 0)
        return fail(error, "zero-page-detection %s, but ram.duplicate is %" G_GINT64_FORMAT,
                    mode, m->zero_pages);
    return g_strdup_printf("zero-page-detection %s: %" G_GINT64_FORMAT " zero pages, %"
                           G_GINT64_FORMAT " sent in full", mode, m->zero_pages,
                           m->normal_pages);
}

/* Both sides fail once, as in QEMU's double-failure tests: the
 * destination went through postcopy-recover and back to paused. */
static gboolean dst_failed_once(const MigrateStats *m)
{
    gboolean recovering = FALSE;

    for (guint i = 0; m->dst_statuses && i < m->dst_statuses->len; i++) {
        const char *st = m->dst_statuses->pdata[i];
        if (g_str_equal(st, "postcopy-recover"))
            recovering = TRUE;
        else if (recovering && g_str_equal(st, "postcopy-paused"))
            return TRUE;
    }
    return FALSE;
}

static char *recovered_again(const MigrateStats *m, GError **error)
{
    g_autoptr(GString) seq = g_string_new(NULL);
    guint paused = 0;

    for (guint i = 0; m->statuses && i < m->statuses->len; i++) {
        const char *st = m->statuses->pdata[i];
        paused += g_str_equal(st, "postcopy-paused");
        if (g_str_has_prefix(st, "postcopy-"))
            g_string_append_printf(seq, "%s%s", seq->len ? " > " : "", st + 9);
    }
    if (paused < 2 || !migrate_stats_saw(m, "postcopy-recover"))
        return fail(error, "no failed resume before the recovery: %s", seq->str);
    if (!dst_failed_once(m))
        return fail(error, "the destination's first recovery did not fail back to "
                    "postcopy-paused through postcopy-recover");
    return g_strdup_printf("postcopy %s; dst recover > paused", seq->str);
}

static const char *case_ram_name(CaseRam r)
{
    static const char *const names[] = {
        [CASE_RAM_DEFAULT] = "--ram", [CASE_RAM_FILE_COMMON] = "one shared file",
        [CASE_RAM_MEMFD] = "a memfd each", [CASE_RAM_ANON_SHARED] = "memory-backend-ram share=on",
        [CASE_RAM_ANON_PRIVATE] = "private RAM",
    };
    return names[r];
}

/* RAM both QEMUs really share (one file; cpr-transfer's memfd passed
 * over the cpr channel) must not be sent: QEMU's own qtest asks for less
 * than 4 MiB.  RAM each QEMU has its own of must arrive some other way,
 * as a normal migration sends it: whether it did is exact's verdict
 * against the copy at stop, so here it is only described. */
static char *ignore_shared(const CaseDesc *d, const MigrateStats *m, guint64 mem_bytes,
                           GError **error)
{
    gboolean transfer = d->cpr == CPR_TRANSFER || d->cpr == CPR_TRANSFER_DEFER;
    gboolean shared = d->ram == CASE_RAM_FILE_COMMON || transfer;
    const char *what = transfer ? "the source's memfd, passed over the cpr channel"
                                : case_ram_name(d->ram);

    if (shared && m->transferred_bytes >= EVIDENCE_SHARED_MAX_SENT)
        return fail(error, "RAM on %s, but ram.transferred is %" G_GUINT64_FORMAT " bytes "
                    "(< %d expected for %" G_GUINT64_FORMAT " MiB of shared RAM): it was "
                    "copied, not shared", what, m->transferred_bytes,
                    EVIDENCE_SHARED_MAX_SENT, mem_bytes >> 20);
    if (shared)
        return g_strdup_printf("RAM not sent (on %s): ram.transferred %" G_GUINT64_FORMAT
                               " bytes for %" G_GUINT64_FORMAT " MiB of RAM",
                               what, m->transferred_bytes, mem_bytes >> 20);
    return g_strdup_printf("RAM on %s, not shared between the QEMUs: QEMU %s (ram.transferred %"
                           G_GUINT64_FORMAT " bytes for %" G_GUINT64_FORMAT " MiB)",
                           case_ram_name(d->ram), m->transferred_bytes >= mem_bytes / 2
                           ? "sent it" : "did not send it", m->transferred_bytes,
                           mem_bytes >> 20);
}

char *evidence_judge(const CaseDesc *d, const MigrateStats *m, guint64 mem_bytes,
                     GError **error)
{
    switch (d->observe) {
    case OBSERVE_IGNORE_SHARED:
        return ignore_shared(d, m, mem_bytes, error);
    case OBSERVE_WIRE_TLS:
        return wire_tls(d, m, error);
    case OBSERVE_HANDSHAKE_FAILED:
        return handshake_failed(m, error);
    case OBSERVE_MAPPED_RAM:
        return file_stream(d, m, mem_bytes, error);
    case OBSERVE_REFUSED:
        return refused(d, m, error);
    case OBSERVE_DIRTY_LIMIT:
        return m->dirty_limit_us > 0
               ? g_strdup_printf("dirty-limit throttled %" G_GINT64_FORMAT " us per round",
                                 m->dirty_limit_us)
               : fail(error, "dirty-limit-throttle-time-per-round stayed 0");
    case OBSERVE_BLOCKTIME:
        return m->dst_blocktime_ms >= 0
               ? g_strdup_printf("dst postcopy-blocktime %" G_GINT64_FORMAT " ms, %"
                                 G_GINT64_FORMAT " page requests", m->dst_blocktime_ms,
                                 m->postcopy_requests)
               : fail(error, "the destination reported no postcopy-blocktime");
    case OBSERVE_DST_NO_EXIT:
        return g_strcmp0(m->dst_status, "failed") == 0 && m->dst_error_desc
               ? g_strdup_printf("dst stayed up, failed: %s", m->dst_error_desc)
               : fail(error, "dst (exit-on-error false) says '%s'",
                      m->dst_status ? m->dst_status : "nothing");
    case OBSERVE_CANCELLED_TWICE:
        return g_strcmp0(m->cancelled_in, d->cancel_at) == 0 &&
               g_strcmp0(m->cancelled_again_in, d->cancel_again_at) == 0
               ? g_strdup_printf("cancelled in %s, again in %s", m->cancelled_in,
                                 m->cancelled_again_in)
               : fail(error, "cancels sent in '%s' and '%s', expected '%s' and '%s'",
                      m->cancelled_in ? m->cancelled_in : "-",
                      m->cancelled_again_in ? m->cancelled_again_in : "-",
                      d->cancel_at, d->cancel_again_at);
    case OBSERVE_THROTTLE_CAPPED:
        return m->max_throttle_pct == d->throttle_cap
               ? g_strdup_printf("cpu-throttle-percentage held at max-cpu-throttle %"
                                 G_GINT64_FORMAT " through %" G_GUINT64_FORMAT " syncs",
                                 m->max_throttle_pct, m->dirty_sync_count)
               : fail(error, "cpu-throttle-percentage peaked at %" G_GINT64_FORMAT
                      ", max-cpu-throttle is %" G_GINT64_FORMAT, m->max_throttle_pct,
                      d->throttle_cap);
    case OBSERVE_CANCEL_REFUSED:
        return m->cancel_refused && g_strcmp0(m->cancelled_in, d->cancel_at) == 0
               ? g_strdup_printf("migrate_cancel in %s refused: %s", m->cancelled_in,
                                 m->cancel_refused)
               : fail(error, "migrate_cancel in '%s' was %s", d->cancel_at,
                      m->cancelled_in ? "accepted" : "never sent");
    case OBSERVE_RECOVERED_AGAIN:
        return recovered_again(m, error);
    case OBSERVE_ZERO_PAGES:
        return zero_pages(d, m, error);
    case OBSERVE_CHANNELS:
        /* migrate-incoming and migrate: two calls that took channels. */
        return m->channels_accepted >= 2
               ? g_strdup_printf("migrate-incoming and migrate took 'channels'")
               : fail(error, "only %u of migrate-incoming/migrate took 'channels'",
                      m->channels_accepted);
    default:
        break;
    }
    g_assert_not_reached();
}

char *evidence_trace(const char *stderr_path, const char *event, GError **error)
{
    g_autofree char *text = NULL;
    const char *hit;

    if (!g_file_get_contents(stderr_path, &text, NULL, error))
        return NULL;
    hit = strstr(text, event);
    if (!hit)
        return fail(error, "trace event %s never fired on the source", event);
    return g_strndup(hit, strcspn(hit, "\n"));
}

guint evidence_passes_before(const MigrateStats *m, GArray *b_times, const char *status,
                             guint fallback)
{
    gint64 at = -1;
    guint n = 0;

    for (guint i = 0; m->events && i < m->events->len && at < 0; i++) {
        const MigrateEvent *e = &g_array_index(m->events, MigrateEvent, i);
        if (e->status && g_str_equal(e->status, status))
            at = m->start_us + e->t_ms * 1000;
    }
    if (at < 0)
        return fallback;
    while (n < b_times->len && g_array_index(b_times, gint64, n) <= at)
        n++;
    return n;
}

char *evidence_point_in_time(guint64 generation, guint at_active, guint at_migrate,
                             guint at_end, GError **error)
{
    if (generation > at_active + EVIDENCE_POINT_IN_TIME_SLACK) {
        g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "not a point-in-time snapshot: the "
                    "loaded RAM holds generation %" G_GUINT64_FORMAT ", but the snapshot "
                    "started ('active') after pass %u (migrate after pass %u; the source "
                    "reached pass %u)", generation, at_active, at_migrate, at_end);
        return NULL;
    }
    if (at_end < at_active + 2 * EVIDENCE_POINT_IN_TIME_SLACK + 1)
        return fail(error, "the source ran only %u passes while the snapshot was written: "
                    "too few to date it", at_end - at_active);
    return g_strdup_printf("snapshot holds generation %" G_GUINT64_FORMAT " ('active' after "
                           "pass %u); the source ran on to pass %u", generation, at_active,
                           at_end);
}
