/* migrate.c: driving a migration (see migrate.h). */
#include "migrate.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "migaddr.h"
#include "migrate-transport.h"

/* How often to sample query-migrate while waiting for the next event:
 * fast enough to catch a 100 ms-long state, cheap for QEMU. */
#define SAMPLE_MS 50
/* A source notices a dead destination's stream within milliseconds; a
 * source that has not ended its migration 300 ms after the destination
 * exited never will (postcopy waits for a recovery), and the death is
 * still named within a second. */
#define PEER_DEATH_GRACE_MS 300
/* Raised limits once a case has seen its feature act (release_when). */
#define RELEASE_BANDWIDTH (10ull << 30)
#define RELEASE_DOWNTIME_MS 500

const char *transport_name(Transport t)
{
    static const char *const names[] = {
        [TRANSPORT_TCP] = "tcp", [TRANSPORT_UNIX] = "unix", [TRANSPORT_FD] = "fd",
        [TRANSPORT_EXEC] = "exec", [TRANSPORT_FILE] = "file",
    };
    return names[t];
}

/* exec and file: the stream is written in full, then read back. */
static gboolean transport_is_sequential(Transport t)
{
    return t == TRANSPORT_EXEC || t == TRANSPORT_FILE;
}

void migrate_stats_clear(MigrateStats *s)
{
    g_clear_pointer(&s->final_status, g_free);
    g_clear_pointer(&s->statuses, g_ptr_array_unref);
    g_clear_pointer(&s->dst_statuses, g_ptr_array_unref);
    g_clear_pointer(&s->cancelled_in, g_free);
    g_clear_pointer(&s->link_log, g_free);
    g_clear_pointer(&s->samples, g_array_unref);
    g_clear_pointer(&s->events, g_array_unref);
    g_clear_pointer(&s->cancelled_again_in, g_free);
    g_clear_pointer(&s->cancel_refused, g_free);
    g_clear_pointer(&s->error_desc, g_free);
    g_clear_pointer(&s->dst_status, g_free);
    g_clear_pointer(&s->dst_error_desc, g_free);
    g_clear_pointer(&s->wire_summary, g_free);
    g_clear_pointer(&s->libvirt, json_object_unref);
}

gboolean migrate_stats_saw(const MigrateStats *s, const char *status)
{
    for (guint i = 0; s->statuses && i < s->statuses->len; i++)
        if (g_str_equal(s->statuses->pdata[i], status))
            return TRUE;
    return FALSE;
}

/* Where a link-cut script is (LinkCut, on_cut_sample()). */
enum { CUT_IDLE, CUT_DOWN, CUT_DOWN_IN_RECOVERY, CUT_DONE };

/* State of one migration while it is being driven. */
typedef struct {
    Vm *src;
    Vm *dst;
    const MigrateConfig *cfg;
    const char *run_dir;
    Deadline deadline;
    MigrateStats *stats;
    const char *status;         /* last src status (owned by stats->statuses) */
    gboolean switched_postcopy;
    gboolean recovered;
    gboolean released;
    gint64 active_since;
    gint64 expected_downtime_ms;    /* last sample, for timeout messages */
    gint64 remaining;
    gint64 peer_died_at;        /* when dst's pidfd said it exited, or 0 */
    /* Link cuts (LinkCut): where the fault script is, and since when. */
    int cut_stage;
    gint64 cut_us;
    gboolean link_down;
    gboolean saw_recover;       /* postcopy-recover seen after the second cut */
    gboolean src_unstuck;       /* migrate-pause sent to a source stuck recovering */
    guint recoveries;
    char *recover_uri;
    MigrateTransport tr;        /* migrate-transport.h */
    gboolean restarted;         /* restart_dst: the source quit, dst is new */
    gboolean dst_stopped;       /* cancel_stalled: dst is SIGSTOPped */
    gint64 xfer, xfer_still_us; /* ... the source's transferred, and since when */
} Session;

/* cancel_stalled: how long the source's writes must stand still. */
#define STALL_MS 1000

static void add_capability(JsonBuilder *b, const char *name)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "capability");
    json_builder_add_string_value(b, name);
    json_builder_set_member_name(b, "state");
    json_builder_add_boolean_value(b, TRUE);
    json_builder_end_object(b);
}

static gboolean has_capability(const MigrateConfig *cfg, const char *name)
{
    for (guint i = 0; cfg->capabilities && cfg->capabilities[i]; i++)
        if (g_str_equal(cfg->capabilities[i], name))
            return TRUE;
    return FALSE;
}

static gboolean set_capabilities(Vm *vm, const MigrateConfig *cfg,
                                 Deadline deadline, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "capabilities");
    json_builder_begin_array(b);
    /* "events" makes QEMU emit MIGRATION and MIGRATION_PASS, which the
     * waits below are driven by; a pre-switchover hook needs the pause. */
    add_capability(b, "events");
    if (cfg->at_pre_switchover && !has_capability(cfg, "pause-before-switchover"))
        add_capability(b, "pause-before-switchover");
    for (guint i = 0; cfg->capabilities && cfg->capabilities[i]; i++)
        add_capability(b, cfg->capabilities[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    return qmp_execute_simple(vm_qmp(vm), "migrate-set-capabilities",
                              json_node_get_object(root), deadline, error);
}

static gboolean set_limits(Vm *src, guint64 bandwidth, guint64 downtime_ms,
                           Deadline deadline, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_int_member(args, "max-bandwidth", (gint64)bandwidth);
    json_object_set_int_member(args, "downtime-limit", (gint64)downtime_ms);
    return qmp_execute_simple(vm_qmp(src), "migrate-set-parameters", args,
                              deadline, error);
}

static gboolean set_case_params(Vm *vm, const MigrateParam *params, gboolean is_dst,
                                Deadline deadline, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();

    for (const MigrateParam *p = params; p && p->name; p++) {
        if (is_dst ? !(p->both_sides || p->dst_only) : p->dst_only)
            continue;
        if (p->flag)
            json_object_set_boolean_member(args, p->name, p->num != 0);
        else if (p->str)
            json_object_set_string_member(args, p->name, p->str);
        else
            json_object_set_int_member(args, p->name, p->num);
    }
    if (json_object_get_size(args) == 0)
        return TRUE;
    return qmp_execute_simple(vm_qmp(vm), "migrate-set-parameters", args,
                              deadline, error);
}

gboolean migrate_prepare_side(Vm *vm, const MigrateConfig *cfg, gboolean is_dst,
                              Deadline deadline, GError **error)
{
    return set_capabilities(vm, cfg, deadline, error) &&
           (is_dst || set_limits(vm, cfg->max_bandwidth, cfg->downtime_limit_ms, deadline,
                                 error)) &&
           set_case_params(vm, cfg->params, is_dst, deadline, error);
}

static gboolean prepare(Session *s, GError **error)
{
    return migrate_prepare_side(s->src, s->cfg, FALSE, s->deadline, error) &&
           migrate_prepare_side(s->dst, s->cfg, TRUE, s->deadline, error);
}

static gboolean simple_uri(Vm *vm, const char *command, const char *uri,
                           gboolean resume, Deadline deadline, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_string_member(args, "uri", uri);
    if (resume)
        json_object_set_boolean_member(args, "resume", TRUE);
    return qmp_execute_simple(vm_qmp(vm), command, args, deadline, error);
}

static const char *event_status(JsonObject *ev)
{
    const char *st = qmp_get_string(qmp_get_object(ev, "data"), "status");

    return st ? st : "?";
}

static gboolean is_final(const char *status)
{
    return g_str_equal(status, "completed") || g_str_equal(status, "failed") ||
           g_str_equal(status, "cancelled");
}

static gboolean cancel(Session *s, GError **error)
{
    g_autoptr(GError) local = NULL;

    g_free(s->stats->cancelled_in);
    s->stats->cancelled_in = g_strdup(s->status);
    if (qmp_execute_simple(vm_qmp(s->src), "migrate_cancel", NULL, s->deadline, &local))
        return TRUE;
    /* A cancel QEMU may refuse (in postcopy): the refusal is an outcome. */
    if (s->cfg->cancel_refusable && g_error_matches(local, MT_ERROR, MT_ERROR_QMP)) {
        s->stats->cancel_refused = g_strdup(local->message);
        return TRUE;
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

/* When QEMU emitted @ev, on our monotonic clock: its timestamp is wall
 * clock time, and serial bytes are stamped with the monotonic one. */
static gint64 event_monotonic_us(JsonObject *ev)
{
    JsonObject *ts = qmp_get_object(ev, "timestamp");
    gint64 wall = qmp_get_int(ts, "seconds") * G_USEC_PER_SEC + qmp_get_int(ts, "microseconds");

    return wall - (g_get_real_time() - g_get_monotonic_time());
}

/* Wait for @vm to report @status (a MIGRATION event). */
static gboolean wait_status(Vm *vm, const char *status, Deadline deadline, GError **error)
{
    g_autoptr(JsonObject) ev = qmp_wait_event(vm_qmp(vm), "MIGRATION", qmp_match_status,
                                              (gpointer)status, deadline, error);

    if (!ev)
        g_prefix_error(error, "%s: waiting for migration status '%s': ", vm_name(vm), status);
    return ev != NULL;
}

/* Follow the source's MIGRATION events to @status, recording each. */
static gboolean src_reaches(Session *s, const char *status, GError **error)
{
    for (;;) {
        g_autoptr(JsonObject) ev = qmp_wait_event(vm_qmp(s->src), "MIGRATION", NULL, NULL,
                                                  s->deadline, error);
        const char *st;

        if (!ev) {
            g_prefix_error(error, "src: waiting for '%s' in a failing recovery: ", status);
            return FALSE;
        }
        st = event_status(ev);
        g_ptr_array_add(s->stats->statuses, g_strdup(st));
        if (g_str_equal(st, status))
            return TRUE;
        if (is_final(st)) {
            g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "a failing recovery ended the "
                        "migration '%s' (expected '%s')", st, status);
            return FALSE;
        }
    }
}

/* A unix socket that accepts (into its backlog) and never answers. */
static int listen_silent(const char *path, GError **error)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(a.sun_path, path, sizeof(a.sun_path));
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot listen on '%s': %s", path,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Follow the destination's MIGRATION events to @status, recording each
 * in dst_statuses. */
static gboolean dst_reaches(Session *s, const char *status, GError **error)
{
    for (;;) {
        g_autoptr(JsonObject) ev = qmp_wait_event(vm_qmp(s->dst), "MIGRATION", NULL, NULL,
                                                  s->deadline, error);

        if (!ev) {
            g_prefix_error(error, "dst: waiting for '%s' in a failing recovery: ", status);
            return FALSE;
        }
        g_ptr_array_add(s->stats->dst_statuses, g_strdup(event_status(ev)));
        if (g_str_equal(event_status(ev), status))
            return TRUE;
        if (is_final(event_status(ev))) {
            g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "a failing recovery ended the "
                        "incoming migration '%s' (expected '%s')", event_status(ev), status);
            return FALSE;
        }
    }
}

/* A client connection to @path that never sends a byte (-1 on error). */
static int connect_silent(const char *path, GError **error)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(a.sun_path, path, sizeof(a.sun_path));
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot connect to '%s': %s", path,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* The destination's half of QEMU's double-failure tests: its first
 * migrate-recover gets a peer that is not the source.  At connect the
 * peer hangs up at once (the load fails, back to postcopy-paused); in the
 * handshake it stays silent until migrate-pause on the destination. */
static gboolean dst_recover_fails_once(Session *s, GError **error)
{
    g_autofree char *path = g_build_filename(s->run_dir, "dst-unpaired.sock", NULL);
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    int peer;
    gboolean ok;

    s->stats->dst_statuses = g_ptr_array_new_with_free_func(g_free);
    if (!simple_uri(s->dst, "migrate-recover", uri, FALSE, s->deadline, error) ||
        (peer = connect_silent(path, error)) < 0)
        return FALSE;
    if (s->cfg->recover_fault == RECOVER_FAIL_CONNECT) {
        close(peer);
        peer = -1;
    }
    ok = dst_reaches(s, "postcopy-recover", error) &&
         (s->cfg->recover_fault == RECOVER_FAIL_CONNECT ||
          qmp_execute_simple(vm_qmp(s->dst), "migrate-pause", NULL, s->deadline, error)) &&
         dst_reaches(s, "postcopy-paused", error);
    if (peer >= 0)
        close(peer);
    unlink(path);
    return ok;
}

/* The source's half: its first resume fails, at connect (nothing
 * listens: postcopy-recover-setup, back to postcopy-paused) or in the
 * handshake (a socket that accepts and never answers: the source waits in
 * postcopy-recover until migrate-pause sends it back to postcopy-paused). */
static gboolean src_recover_fails_once(Session *s, GError **error)
{
    g_autofree char *path = g_build_filename(s->run_dir, s->cfg->recover_fault ==
                                             RECOVER_FAIL_CONNECT ? "nobody-listens.sock"
                                             : "silent.sock", NULL);
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    int silent = -1;
    gboolean ok;

    if (s->cfg->recover_fault == RECOVER_FAIL_HANDSHAKE &&
        (silent = listen_silent(path, error)) < 0)
        return FALSE;
    ok = simple_uri(s->src, "migrate", uri, TRUE, s->deadline, error) &&
         (s->cfg->recover_fault == RECOVER_FAIL_CONNECT
          ? src_reaches(s, "postcopy-paused", error)
          : src_reaches(s, "postcopy-recover", error) &&
            qmp_execute_simple(vm_qmp(s->src), "migrate-pause", NULL, s->deadline, error) &&
            src_reaches(s, "postcopy-paused", error));
    if (silent >= 0) {
        close(silent);
        unlink(path);
    }
    return ok;
}

/* Postcopy recovery: cut the stream, then resume over a new socket. */
static gboolean pause_and_recover(Session *s, GError **error)
{
    g_autofree char *uri = g_strdup_printf("unix:%s/recover.sock", s->run_dir);
    g_autoptr(JsonObject) resumed = NULL;

    s->recovered = TRUE;
    /* Only a destination already running in postcopy can be paused and
     * recovered; before that, cutting the stream just fails it. */
    resumed = qmp_wait_event(vm_qmp(s->dst), "RESUME", NULL, NULL, s->deadline, error);
    if (!resumed) {
        g_prefix_error(error, "dst: waiting to run in postcopy: ");
        return FALSE;
    }
    /* Both sides must be paused before migrate resume: QEMU refuses a
     * resume while the source is still on its way to postcopy-paused. */
    return qmp_execute_simple(vm_qmp(s->src), "migrate-pause", NULL, s->deadline, error) &&
           wait_status(s->dst, "postcopy-paused", s->deadline, error) &&
           src_reaches(s, "postcopy-paused", error) &&
           (!s->cfg->recover_fault || dst_recover_fails_once(s, error)) &&
           simple_uri(s->dst, "migrate-recover", uri, FALSE, s->deadline, error) &&
           (!s->cfg->recover_fault || src_recover_fails_once(s, error)) &&
           simple_uri(s->src, "migrate", uri, TRUE, s->deadline, error);
}

/* React to a new source status, as the case asks. */
static gboolean on_status(Session *s, GError **error)
{
    const MigrateConfig *cfg = s->cfg;

    if (s->cut_stage == CUT_DOWN_IN_RECOVERY && g_str_equal(s->status, "postcopy-recover"))
        s->saw_recover = TRUE;

    if (g_str_equal(s->status, "active") && !s->active_since)
        s->active_since = g_get_monotonic_time();
    if (g_str_equal(s->status, "pre-switchover") && cfg->at_pre_switchover) {
        gboolean refuse = FALSE;
        if (!cfg->at_pre_switchover(cfg->hook_opaque, &refuse, error))
            return FALSE;
        if (refuse)
            return cancel(s, error);
    }
    if (cfg->cancel_at && g_str_equal(cfg->cancel_at, s->status))
        return cancel(s, error);
    if (cfg->cancel_again_at && g_str_equal(cfg->cancel_again_at, s->status) &&
        !s->stats->cancelled_again_in) {
        /* A second cancel while the first is still winding down. */
        s->stats->cancelled_again_in = g_strdup(s->status);
        return qmp_execute_simple(vm_qmp(s->src), "migrate_cancel", NULL, s->deadline, error);
    }
    if (g_str_equal(s->status, "pre-switchover") &&
        (cfg->continue_at_pre_switchover || cfg->at_pre_switchover)) {
        g_autoptr(JsonObject) args = json_object_new();
        json_object_set_string_member(args, "state", "pre-switchover");
        return qmp_execute_simple(vm_qmp(s->src), "migrate-continue", args, s->deadline, error);
    }
    if (g_str_equal(s->status, "postcopy-active") && cfg->postcopy_recover && !s->recovered)
        return pause_and_recover(s, error);
    return TRUE;
}

static double get_double(JsonObject *obj, const char *name)
{
    JsonNode *n = obj ? json_object_get_member(obj, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n))
        return 0;
    if (json_node_get_value_type(n) == G_TYPE_DOUBLE)
        return json_node_get_double(n);
    return json_node_get_value_type(n) == G_TYPE_INT64 ? (double)json_node_get_int(n) : 0;
}

void migrate_stats_record_sample(MigrateStats *st, JsonObject *o)
{
    JsonObject *ram = qmp_get_object(o, "ram");
    const char *status = qmp_get_string(o, "status");
    MigrateSample m = {
        .t_ms = (g_get_monotonic_time() - st->start_us) / 1000,
        .status = g_intern_string(status ? status : "?"),
        .transferred = qmp_get_int(ram, "transferred"),
        .remaining = qmp_get_int(ram, "remaining"),
        .total = qmp_get_int(ram, "total"),
        .dirty_pages_rate = qmp_get_int(ram, "dirty-pages-rate"),
        .mbps = get_double(ram, "mbps"),
        .throttle_pct = qmp_get_int(o, "cpu-throttle-percentage"),
        .dirty_sync_count = qmp_get_int(ram, "dirty-sync-count"),
        .postcopy_requests = ram && json_object_has_member(ram, "postcopy-requests")
                             ? qmp_get_int(ram, "postcopy-requests") : -1,
        .expected_downtime_ms = qmp_get_int(o, "expected-downtime"),
    };

    g_array_append_val(st->samples, m);
}

static void record_event(MigrateStats *st, JsonObject *ev, const char *status, gint64 pass)
{
    MigrateEvent e = {
        .t_ms = (event_monotonic_us(ev) - st->start_us) / 1000,
        .status = status ? g_intern_string(status) : NULL,
        .pass = pass,
    };

    g_array_append_val(st->events, e);
}

/* MIGRATION_PASS events queue up while we wait for MIGRATION: move them
 * into the timeline. */
static void record_passes(Session *s)
{
    JsonObject *ev;

    while ((ev = qmp_take_queued_event(vm_qmp(s->src), "MIGRATION_PASS"))) {
        record_event(s->stats, ev, NULL, qmp_get_int(qmp_get_object(ev, "data"), "pass"));
        json_object_unref(ev);
    }
}

/* ---- link cuts (cases over a real link, netns.h) ---------------------- */

/* A resume whose connection is dropped outright leaves the source in
 * postcopy-paused without an event; after this long without progress
 * the attempt counts as failed.  TCP gives up on the SYN in ~3 s
 * (netns.h), so 8 s is past it with margin. */
#define RESUME_GIVE_UP_MS 8000
/* Recovery listens on a new port each time: the namespace is private to
 * the case, so a fixed port cannot collide with anything. */
#define RECOVER_PORT_BASE 4445

G_GNUC_PRINTF(2, 3)
static void cut_log(Session *s, const char *fmt, ...)
{
    g_autofree char *line = NULL;
    char *all;
    va_list ap;

    va_start(ap, fmt);
    line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    all = g_strdup_printf("%s%s%.1f s: %s", s->stats->link_log ? s->stats->link_log : "",
                          s->stats->link_log ? "; " : "",
                          (g_get_monotonic_time() - s->stats->start_us) / 1e6, line);
    g_free(s->stats->link_log);
    s->stats->link_log = all;
}

static gboolean link_set(Session *s, gboolean up, const char *src_status, GError **error)
{
    if (!s->cfg->set_link(s->cfg->link_opaque, up, error))
        return FALSE;
    s->link_down = !up;
    s->cut_us = g_get_monotonic_time();
    if (!up)
        s->stats->link_cuts++;
    cut_log(s, "link %s (src %s)", up ? "restored" : "cut", src_status);
    return TRUE;
}

/* The destination's migration status, as a new string. */
static char *dst_status(Session *s, GError **error)
{
    g_autoptr(JsonNode) info = qmp_execute(vm_qmp(s->dst), "query-migrate", NULL,
                                           s->deadline, error);
    const char *st = info ? qmp_get_string(json_node_get_object(info), "status") : NULL;

    return info ? g_strdup(st ? st : "?") : NULL;
}

/* Resume the source towards the destination; @new_listener: first ask
 * the destination to listen on a new port (migrate-recover). */
static gboolean resume(Session *s, gboolean new_listener, GError **error)
{
    if (new_listener) {
        g_free(s->recover_uri);
        s->recover_uri = g_strdup_printf("tcp:%s:%u", s->cfg->tcp_host ? s->cfg->tcp_host
                                         : "127.0.0.1", RECOVER_PORT_BASE + s->recoveries++);
        if (!simple_uri(s->dst, "migrate-recover", s->recover_uri, FALSE, s->deadline, error))
            return FALSE;
    }
    cut_log(s, "migrate resume to %s", s->recover_uri);
    return simple_uri(s->src, "migrate", s->recover_uri, TRUE, s->deadline, error);
}

/*
 * The destination of a cut postcopy notices only if it has data in flight:
 * a vCPU waiting for a page it already asked for sends nothing, and QEMU
 * sets no keepalive on the migration socket, so its TCP never times out.
 * Give it DST_NOTICE_MS after the source paused, then do what an
 * operator must: migrate-pause on the destination.  The log says which.
 */
#define DST_NOTICE_MS 10000

static gboolean dst_paused(Session *s, GError **error)
{
    Deadline notice = deadline_min(s->deadline, deadline_in_ms(DST_NOTICE_MS));
    g_autoptr(GError) local = NULL;

    if (wait_status(s->dst, "postcopy-paused", notice, &local)) {
        cut_log(s, "dst postcopy-paused");
        return TRUE;
    }
    if (!g_error_matches(local, MT_ERROR, MT_ERROR_TIMEOUT) || deadline_expired(s->deadline)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    cut_log(s, "dst did not notice the cut in %d s (nothing in flight): migrate-pause on dst",
            DST_NOTICE_MS / 1000);
    if (!qmp_execute_simple(vm_qmp(s->dst), "migrate-pause", NULL, s->deadline, error) ||
        !wait_status(s->dst, "postcopy-paused", s->deadline, error))
        return FALSE;
    cut_log(s, "dst postcopy-paused");
    return TRUE;
}

/* Both sides paused on the first cut: restore and recover, and for a
 * double failure cut again as the source resumes. */
static gboolean recover_after_cut(Session *s, GError **error)
{
    if (!dst_paused(s, error))
        return FALSE;
    if (!link_set(s, TRUE, "postcopy-paused", error) || !resume(s, TRUE, error))
        return FALSE;
    if (s->cfg->link_cut != LINK_CUT_RECOVERY) {
        s->cut_stage = CUT_DONE;
        return TRUE;
    }
    s->cut_stage = CUT_DOWN_IN_RECOVERY;
    return link_set(s, FALSE, "resuming", error);
}

/* The recovery was cut: once the source has given up on it, restore and
 * resume, on a new port if the destination paused again, else towards
 * the listener it still has. */
/* The source's side of a cut recovery handshake: it waits for the
 * destination's answer with nothing in flight, so, like the destination
 * in dst_paused(), it may never notice; after DST_NOTICE_MS an operator
 * would pause it, and so does migtest.  A QEMU that refuses is wrong. */
static gboolean src_unstick(Session *s, const char *src_status, GError **error)
{
    if (!g_str_equal(src_status, "postcopy-recover") || s->src_unstuck ||
        g_get_monotonic_time() - s->cut_us < DST_NOTICE_MS * 1000)
        return TRUE;
    s->src_unstuck = TRUE;
    cut_log(s, "src still postcopy-recover %d s after the cut (nothing in flight): "
            "migrate-pause on src", DST_NOTICE_MS / 1000);
    if (qmp_execute_simple(vm_qmp(s->src), "migrate-pause", NULL, s->deadline, error))
        return TRUE;
    /* QEMU before 9.1 refuses migrate-pause outside postcopy-active: it
     * lacks the way out, which makes the row a skip there, not a pass. */
    g_prefix_error(error, "src stuck in postcopy-recover after the recovery handshake was "
                   "cut, and this QEMU cannot pause it out (migrate-pause there needs "
                   "QEMU 9.1): ");
    if (g_error_matches(*error, MT_ERROR, MT_ERROR_QMP))
        (*error)->code = MT_ERROR_UNSUPPORTED;
    return FALSE;
}

static gboolean recover_after_second_cut(Session *s, const char *src_status, GError **error)
{
    g_autofree char *dst = NULL;

    if (!src_unstick(s, src_status, error))
        return FALSE;
    if (!g_str_equal(src_status, "postcopy-paused") ||
        (!s->saw_recover && g_get_monotonic_time() - s->cut_us < RESUME_GIVE_UP_MS * 1000))
        return TRUE;
    if (!(dst = dst_status(s, error)))
        return FALSE;
    cut_log(s, "src gave up on the recovery (%s), dst %s",
            s->saw_recover ? "postcopy-paused again" : "no connection", dst);
    if (!g_str_equal(dst, "postcopy-recover") && !dst_paused(s, error))
        return FALSE;
    s->cut_stage = CUT_DONE;
    return link_set(s, TRUE, src_status, error) &&
           resume(s, !g_str_equal(dst, "postcopy-recover"), error);
}

/* One step of the fault script, on each query-migrate sample @o. */
static gboolean on_cut_sample(Session *s, JsonObject *o, GError **error)
{
    const char *st = qmp_get_string(o, "status") ? qmp_get_string(o, "status") : "?";
    JsonObject *ram = qmp_get_object(o, "ram");

    switch (s->cut_stage) {
    case CUT_IDLE:
        /* Precopy: once pages flow.  Postcopy: once the running
         * destination has asked for a page. */
        if ((s->cfg->link_cut == LINK_CUT_PRECOPY && g_str_equal(st, "active") &&
             qmp_get_int(ram, "transferred") > 0) ||
            (s->cfg->link_cut != LINK_CUT_PRECOPY && g_str_equal(st, "postcopy-active") &&
             qmp_get_int(ram, "postcopy-requests") > 0)) {
            s->cut_stage = CUT_DOWN;
            return link_set(s, FALSE, st, error);
        }
        return TRUE;
    case CUT_DOWN:
        if (s->cfg->link_cut == LINK_CUT_PRECOPY || !g_str_equal(st, "postcopy-paused"))
            return TRUE;
        cut_log(s, "src postcopy-paused");
        return recover_after_cut(s, error);
    case CUT_DOWN_IN_RECOVERY:
        return recover_after_second_cut(s, st, error);
    }
    return TRUE;
}

/* cancel_stalled: stop the destination (it no longer reads), wait for
 * the source's transferred figure to stand still (its migration thread
 * is blocked in a write), then cancel: only a cancel that shuts the
 * channel down can end that write (migrate_fd_cancel). */
static gboolean cancel_when_stalled(Session *s, JsonObject *ram, GError **error)
{
    gint64 now = g_get_monotonic_time(), xfer = qmp_get_int(ram, "transferred");

    if (!s->dst_stopped) {
        if (kill(vm_pid(s->dst), SIGSTOP) < 0) {
            g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot stop dst QEMU (pid %d): %s",
                        (int)vm_pid(s->dst), g_strerror(errno));
            return FALSE;
        }
        s->dst_stopped = TRUE;
    }
    if (xfer != s->xfer || !s->xfer_still_us) {
        s->xfer = xfer;
        s->xfer_still_us = now;
        return TRUE;
    }
    s->stats->stalled_ms = (now - s->xfer_still_us) / 1000;
    return s->stats->stalled_ms < STALL_MS || cancel(s, error);
}

/* Between events: record figures, and act on time or on counters. */
static gboolean on_sample(Session *s, GError **error)
{
    g_autoptr(JsonNode) info = qmp_execute(vm_qmp(s->src), "query-migrate", NULL,
                                           s->deadline, error);
    JsonObject *o = info ? json_node_get_object(info) : NULL;
    JsonObject *ram = qmp_get_object(o, "ram");
    MigrateStats *st = s->stats;

    if (!info)
        return FALSE;
    migrate_stats_record_sample(st, o);
    if (s->cfg->link_cut && !on_cut_sample(s, o, error))
        return FALSE;
    st->max_throttle_pct = MAX(st->max_throttle_pct, qmp_get_int(o, "cpu-throttle-percentage"));
    st->xbzrle_pages = MAX(st->xbzrle_pages, qmp_get_int(qmp_get_object(o, "xbzrle-cache"), "pages"));
    st->multifd_bytes = MAX(st->multifd_bytes, qmp_get_int(ram, "multifd-bytes"));
    st->postcopy_requests = MAX(st->postcopy_requests, qmp_get_int(ram, "postcopy-requests"));
    st->dirty_limit_us = MAX(st->dirty_limit_us,
                             qmp_get_int(o, "dirty-limit-throttle-time-per-round"));
    st->zero_pages = MAX(st->zero_pages, qmp_get_int(ram, "duplicate"));
    st->normal_pages = MAX(st->normal_pages, qmp_get_int(ram, "normal"));
    st->dirty_sync_count = qmp_get_int(ram, "dirty-sync-count");
    s->expected_downtime_ms = qmp_get_int(o, "expected-downtime");
    s->remaining = qmp_get_int(ram, "remaining");
    /* The feature has acted: lift the limits so it converges, and for
     * xbzrle (bound by encoding speed here) finish as stop-copy. */
    if (s->cfg->release_when && !s->released && s->cfg->release_when(st, s->cfg->hook_opaque)) {
        s->released = TRUE;
        if (!set_limits(s->src, RELEASE_BANDWIDTH, RELEASE_DOWNTIME_MS, s->deadline, error) ||
            (s->cfg->release_stops_source &&
             !qmp_execute_simple(vm_qmp(s->src), "stop", NULL, s->deadline, error)))
            return FALSE;
    }
    /* "After the first pass": dirty-sync-count 2 means pass 1 is done. */
    if (s->cfg->postcopy && !s->switched_postcopy && g_str_equal(s->status, "active") &&
        qmp_get_int(ram, "dirty-sync-count") >= (s->cfg->postcopy_at_once ? 1 : 2)) {
        s->switched_postcopy = TRUE;
        return qmp_execute_simple(vm_qmp(s->src), "migrate-start-postcopy", NULL,
                                  s->deadline, error);
    }
    if (s->cfg->hold_active_ms && s->active_since && g_str_equal(s->status, "active") &&
        !st->cancelled_in) {
        st->active_held_ms = (g_get_monotonic_time() - s->active_since) / 1000;
        if (st->active_held_ms >= s->cfg->hold_active_ms)
            return s->cfg->cancel_stalled ? cancel_when_stalled(s, ram, error) : cancel(s, error);
    }
    return TRUE;
}

/* A case that acts on sampled figures is always sampled. */
static gboolean needs_samples(const MigrateConfig *cfg)
{
    return !cfg->no_sampling || cfg->release_when || cfg->postcopy || cfg->hold_active_ms ||
           cfg->link_cut;
}

/* Follow the source's MIGRATION events to a final status. */
static gboolean follow(Session *s, GError **error)
{
    gboolean sampling = needs_samples(s->cfg);

    for (;;) {
        g_autoptr(GError) local = NULL;
        /* Unsampled, the tick still looks at the destination's pidfd. */
        Deadline tick = deadline_min(s->deadline, deadline_in_ms(SAMPLE_MS));
        g_autoptr(JsonObject) ev = qmp_wait_event(vm_qmp(s->src), "MIGRATION", NULL, NULL,
                                                  tick, &local);

        /* A destination whose incoming migration failed exits by design:
         * give the source a moment to report the end before naming it. */
        if (!ev && !s->peer_died_at && vm_has_exited(s->dst))
            s->peer_died_at = g_get_monotonic_time();
        if (!ev && s->peer_died_at &&
            g_get_monotonic_time() - s->peer_died_at >= PEER_DEATH_GRACE_MS * 1000) {
            g_set_error(error, MT_ERROR, MT_ERROR_PEER_DIED, "dst QEMU exited and src "
                        "stayed in '%s'", s->status);
            return FALSE;
        }
        record_passes(s);
        if (!ev) {
            if (!g_error_matches(local, MT_ERROR, MT_ERROR_TIMEOUT) ||
                deadline_expired(s->deadline)) {
                g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                           "src: last migration status '%s' (expected "
                                           "downtime %" G_GINT64_FORMAT " ms, limit %"
                                           G_GUINT64_FORMAT " ms, %" G_GINT64_FORMAT
                                           " bytes remaining): ", s->status,
                                           s->expected_downtime_ms,
                                           s->cfg->downtime_limit_ms, s->remaining);
                return FALSE;
            }
            if (sampling && !on_sample(s, error))
                return FALSE;
            continue;
        }
        /* A final status before this migration's first one ("setup") is
         * a late event of the previous migration (finding 011). */
        if (s->stats->statuses->len == 0 && is_final(event_status(ev)))
            continue;
        g_ptr_array_add(s->stats->statuses, g_strdup(event_status(ev)));
        s->status = s->stats->statuses->pdata[s->stats->statuses->len - 1];
        record_event(s->stats, ev, s->status, 0);
        if (s->cfg->status_changed)
            s->cfg->status_changed(s->cfg->hook_opaque, s->status);
        if (is_final(s->status))
            return TRUE;
        if (!on_status(s, error))
            return FALSE;
    }
}

/*
 * (1) QEMU 7.2 emits MIGRATION "completed" before it computes total-time
 * and downtime (migration_calculate_complete() runs afterwards), so a
 * query-migrate right after the event can report both as 0.  Ask again
 * until total-time is set, for at most STATS_SETTLE_MS; this only delays
 * reading figures, it changes no verdict.  See docs/findings/.
 */
#define STATS_SETTLE_MS 2000
#define STATS_RETRY_US (5 * 1000)

static JsonNode *query_settled(Vm *src, const char *status, Deadline deadline,
                               GError **error)
{
    Deadline settle = deadline_min(deadline, deadline_in_ms(STATS_SETTLE_MS));

    for (;;) {
        JsonNode *info = qmp_execute(vm_qmp(src), "query-migrate", NULL, deadline, error);

        if (!info || !g_str_equal(status, "completed") ||
            qmp_get_int(json_node_get_object(info), "total-time") > 0 ||
            deadline_expired(settle))
            return info;
        json_node_unref(info);
        g_usleep(STATS_RETRY_US);
    }
}

gboolean migrate_stats_collect(Vm *src, Deadline deadline, MigrateStats *stats,
                               GError **error)
{
    g_autoptr(JsonNode) info = query_settled(src, stats->final_status, deadline, error);
    JsonObject *o, *ram;
    JsonNode *mbps;

    if (!info)
        return FALSE;
    o = json_node_get_object(info);
    ram = qmp_get_object(o, "ram");
    migrate_stats_record_sample(stats, o);
    stats->total_ms = qmp_get_int(o, "total-time");
    stats->downtime_ms = qmp_get_int(o, "downtime");
    stats->setup_ms = qmp_get_int(o, "setup-time");
    stats->transferred_bytes = qmp_get_int(ram, "transferred");
    stats->dirty_sync_count = qmp_get_int(ram, "dirty-sync-count");
    stats->xbzrle_pages = MAX(stats->xbzrle_pages, qmp_get_int(qmp_get_object(o, "xbzrle-cache"), "pages"));
    stats->multifd_bytes = MAX(stats->multifd_bytes, qmp_get_int(ram, "multifd-bytes"));
    stats->postcopy_requests = MAX(stats->postcopy_requests, qmp_get_int(ram, "postcopy-requests"));
    stats->zero_pages = MAX(stats->zero_pages, qmp_get_int(ram, "duplicate"));
    stats->normal_pages = MAX(stats->normal_pages, qmp_get_int(ram, "normal"));
    if (qmp_get_string(o, "error-desc"))
        stats->error_desc = g_strdup(qmp_get_string(o, "error-desc"));
    mbps = ram ? json_object_get_member(ram, "mbps") : NULL;
    if (mbps && JSON_NODE_HOLDS_VALUE(mbps))
        stats->throughput_mbps = json_node_get_double(mbps);
    /* Cross-check the event stream against QEMU's own view. */
    if (g_strcmp0(qmp_get_string(o, "status"), stats->final_status) != 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "src query-migrate says '%s' but events said '%s'",
                    qmp_get_string(o, "status") ? qmp_get_string(o, "status") : "?",
                    stats->final_status);
        return FALSE;
    }
    return TRUE;
}

/* A QEMU that died explains more than the error that noticed it.  When
 * a QMP socket closed, its QEMU is exiting: give it a moment to be reaped. */
#define EXIT_GRACE_MS 2000

static void explain_failure(Vm *src, Vm *dst, GError **error)
{
    g_autoptr(GError) dead = NULL;
    gint64 grace = g_error_matches(*error, MT_ERROR, MT_ERROR_DISCONNECTED) ? EXIT_GRACE_MS : 0;

    /* src first: a destination exits by itself when its source dies. */
    if (!vm_check_pair_alive_within(src, dst, grace, &dead)) {
        g_clear_error(error);
        g_propagate_error(error, g_steal_pointer(&dead));
    }
}

/* fdset rows, as QEMU's own test: once both sides are done with the
 * file, removing the set must leave no fdset behind on either side. */
static gboolean release_fdsets(Session *s, GError **error)
{
    s->stats->fdset_checked = TRUE;
    return migaddr_fdset_release(s->src, s->deadline, &s->stats->fdset_left_src, error) &&
           migaddr_fdset_release(s->dst, s->deadline, &s->stats->fdset_left_dst, error);
}

/* cpr-reboot: the destination that loads the state is a QEMU started
 * after the source quit; it needs the case's capabilities and mode too. */
static gboolean restart_destination(Session *s, GError **error)
{
    Vm *fresh;

    vm_unwatch_peer(s->dst, s->src);
    fresh = s->cfg->restart_dst(s->cfg->restart_opaque, error);
    if (!fresh)
        return FALSE;
    s->dst = s->tr.dst = fresh;
    s->restarted = TRUE;
    return migrate_prepare_side(fresh, s->cfg, TRUE, s->deadline, error);
}

/* The destination's own view of the end: it must complete too. */
static gboolean finish_incoming(Session *s, const char *dst_uri, GError **error)
{
    if (s->cfg->transport == TRANSPORT_FILE &&
        !migaddr_file_inspect(s->tr.stream, s->cfg->file_offset, s->stats, error))
        return FALSE;
    if (s->cfg->restart_dst && !restart_destination(s, error))
        return FALSE;
    if (transport_is_sequential(s->cfg->transport) &&
        !transport_send_address(&s->tr, s->dst, "migrate-incoming", dst_uri, error))
        return FALSE;
    for (;;) {
        g_autoptr(JsonObject) ev = qmp_wait_event(vm_qmp(s->dst), "MIGRATION", NULL, NULL,
                                                  s->deadline, error);
        const char *status;

        if (!ev) {
            g_prefix_error(error, "dst: waiting for the incoming migration to end: ");
            return FALSE;
        }
        status = event_status(ev);
        if (g_str_equal(status, "completed")) {
            s->stats->dst_completed_us = event_monotonic_us(ev);
            return !s->cfg->file_fdset || release_fdsets(s, error);
        }
        if (is_final(status)) {
            g_autofree char *why = vm_stderr_tail(s->dst);
            g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "the source completed but the "
                        "destination's incoming migration %s: %s", status,
                        why ? why : "(see dst.stderr)");
            return FALSE;
        }
    }
}

/* The destination's own query-migrate: its status, error and, after
 * postcopy, the vCPU blocktime it measured. */
static gboolean query_dst(Session *s, GError **error)
{
    g_autoptr(JsonNode) info = qmp_execute(vm_qmp(s->dst), "query-migrate", NULL,
                                           s->deadline, error);
    JsonObject *o = info ? json_node_get_object(info) : NULL;
    JsonNode *bt = o ? json_object_get_member(o, "postcopy-blocktime") : NULL;

    if (!info)
        return FALSE;
    g_free(s->stats->dst_status);
    s->stats->dst_status = g_strdup(qmp_get_string(o, "status") ? qmp_get_string(o, "status")
                                                                  : "none");
    g_free(s->stats->dst_error_desc);
    s->stats->dst_error_desc = g_strdup(qmp_get_string(o, "error-desc"));
    s->stats->dst_blocktime_ms = bt && JSON_NODE_HOLDS_VALUE(bt) ? json_node_get_int(bt) : -1;
    return TRUE;
}

/* exit-on-error false: the destination must stay up and say it failed. */
static gboolean dst_failed_alive(Session *s, GError **error)
{
    g_autoptr(JsonObject) ev = qmp_wait_event(vm_qmp(s->dst), "MIGRATION", qmp_match_status,
                                              (gpointer)"failed", s->deadline, error);

    if (!ev) {
        g_prefix_error(error, "dst (exit-on-error false): waiting for 'failed': ");
        return FALSE;
    }
    return vm_check_alive(s->dst, error) && query_dst(s, error);
}

/* migrate itself: refused by QEMU is an outcome when the case expects it. */
static gboolean start_migration(Session *s, const char *src_uri, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (transport_send_address(&s->tr, s->src, "migrate", src_uri, &local))
        return TRUE;
    if (!s->cfg->expect_refused || !g_error_matches(local, MT_ERROR, MT_ERROR_QMP)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    s->stats->error_desc = g_strdup(local->message);
    s->status = "refused";
    return TRUE;
}

static gboolean drive(Session *s, GError **error)
{
    g_autofree char *src_uri = NULL;
    g_autofree char *dst_uri = NULL;

    if (!prepare(s, error) || !transport_open(&s->tr, &src_uri, &dst_uri, error))
        return FALSE;
    s->stats->start_us = g_get_monotonic_time();
    if (!start_migration(s, src_uri, error))
        return FALSE;
    if (g_str_equal(s->status, "refused")) {
        s->stats->final_status = g_strdup(s->status);
        return TRUE;
    }
    if (!follow(s, error))
        return FALSE;
    s->stats->final_status = g_strdup(s->status);
    if (!migrate_stats_collect(s->src, s->deadline, s->stats, error))
        return FALSE;
    if (!g_str_equal(s->status, "completed"))
        return !s->cfg->dst_no_exit || dst_failed_alive(s, error);
    return finish_incoming(s, dst_uri, error) &&
           (!s->cfg->postcopy || query_dst(s, error));
}

gboolean migrate_run(Vm *src, Vm *dst, const MigrateConfig *cfg,
                     const char *run_dir, Deadline deadline,
                     MigrateStats *stats, GError **error)
{
    Session s = {
        .src = src, .dst = dst, .cfg = cfg, .run_dir = run_dir,
        .deadline = deadline, .stats = stats, .status = "none",
        .tr = { .src = src, .dst = dst, .cfg = cfg, .run_dir = run_dir,
                .deadline = deadline, .stats = stats, .reserved_fd = -1 },
    };

    gboolean ok;

    stats->statuses = g_ptr_array_new_with_free_func(g_free);
    /* The destination's waits watch the source; the source's wait for
     * its next event ticks every SAMPLE_MS and looks at the destination
     * then (see follow()). */
    stats->samples = g_array_new(FALSE, FALSE, sizeof(MigrateSample));
    stats->events = g_array_new(FALSE, FALSE, sizeof(MigrateEvent));
    vm_watch_peer(dst, src);
    stats->dst_blocktime_ms = -1;
    /* Events left from an earlier migration on this source are not this
     * one's (QEMU 10.0 can report a multifd failure twice: see
     * docs/findings/011-duplicate-failed-event.md). */
    qmp_discard_events(vm_qmp(src), "MIGRATION");
    ok = drive(&s, error);
    transport_clear(&s.tr);
    if (!s.restarted)
        vm_unwatch_peer(dst, src);
    if (s.dst_stopped)
        kill(vm_pid(s.dst), SIGCONT);
    /* A cut link comes back when its migration ends, however it ended:
     * the case goes on over it (a second migration, a recovery). */
    if (s.link_down) {
        g_autoptr(GError) local = NULL;
        if (!link_set(&s, TRUE, s.status, &local) && ok) {
            g_propagate_error(error, g_steal_pointer(&local));
            ok = FALSE;
        }
    }
    g_free(s.recover_uri);
    /* After a restart the source quit on purpose: only dst can explain. */
    if (!ok)
        explain_failure(s.restarted ? s.dst : src, s.dst, error);
    return ok;
}
