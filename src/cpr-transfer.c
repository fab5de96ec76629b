/* cpr-transfer.c: a cpr-transfer migration (see cpr-transfer.h). */
#include "cpr-transfer.h"

#include <string.h>
#include "migaddr.h"

/* The target's cpr socket and its end of the migration send nothing we
 * could wait on (no monitor yet; events before our QMP connected are
 * lost): they are looked at this often, each wait with the case's
 * deadline. */
#define CPR_POLL_MS 10
#define CPR_TARGET_TICK_MS 100
/* __SO_ACCEPTCON in /proc/net/unix's Flags: the socket listens. */
#define UNIX_FLAG_LISTENING 0x10000

GStrv cpr_transfer_target_args(const char *cpr_path, const char *main_path, gboolean defer)
{
    GStrv a = g_new0(char *, 7);

    a[0] = g_strdup("-global");
    a[1] = g_strdup("migration.x-events=on");   /* no monitor to set "events" in time */
    a[2] = g_strdup("-incoming");
    a[3] = g_strdup_printf("cpr,addr.transport=socket,addr.type=unix,addr.path=%s", cpr_path);
    a[4] = g_strdup("-incoming");
    a[5] = defer ? g_strdup("defer") : g_strdup_printf("unix:%s", main_path);
    return a;
}

/* Does a unix socket listen on @path?  The target binds and listens on
 * its own; the source must not connect before it listens. */
static gboolean listening(const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents("/proc/net/unix", &text, NULL, NULL))
        return FALSE;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 1; lines[i]; i++) {      /* line 0: the header */
        unsigned flags = 0;
        int at = 0;

        if (sscanf(lines[i], "%*s %*x %*x %x %*x %*x %*u %n", &flags, &at) >= 1 && at &&
            g_str_equal(lines[i] + at, path) && (flags & UNIX_FLAG_LISTENING))
            return TRUE;
    }
    return FALSE;
}

static gboolean wait_listening(const char *path, Vm *target, Deadline deadline,
                               GError **error)
{
    while (!listening(path)) {
        if (!vm_check_alive(target, error)) {
            g_prefix_error(error, "before its cpr channel listened: ");
            return FALSE;
        }
        if (deadline_expired(deadline)) {
            g_set_error(error, MT_ERROR, MT_ERROR_TIMEOUT, "the target's cpr channel '%s' "
                        "never listened", path);
            return FALSE;
        }
        g_usleep(CPR_POLL_MS * 1000);
    }
    return TRUE;
}

static JsonObject *channel(const char *type, const char *uri, GError **error)
{
    JsonObject *addr = migaddr_channel_from_uri(uri, error);
    JsonObject *ch;

    if (!addr)
        return NULL;
    ch = json_object_new();
    json_object_set_string_member(ch, "channel-type", type);
    json_object_set_object_member(ch, "addr", addr);
    return ch;
}

/* migrate with channels [main, cpr].  A refusal (a cpr blocker, say an
 * accelerator it does not support) is a skip naming QEMU's reason. */
static gboolean start(Vm *src, const char *main_uri, const char *cpr_uri, Deadline deadline,
                      GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(GError) local = NULL;
    JsonObject *main_ch = channel("main", main_uri, error);
    JsonObject *cpr_ch = main_ch ? channel("cpr", cpr_uri, error) : NULL;
    JsonArray *list;

    if (!cpr_ch) {
        if (main_ch)
            json_object_unref(main_ch);
        return FALSE;
    }
    list = json_array_new();
    json_array_add_object_element(list, main_ch);
    json_array_add_object_element(list, cpr_ch);
    json_object_set_array_member(args, "channels", list);
    if (qmp_execute_simple(vm_qmp(src), "migrate", args, deadline, &local))
        return TRUE;
    if (g_error_matches(local, MT_ERROR, MT_ERROR_QMP)) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "QEMU %s refuses cpr-transfer "
                    "here: %s", qmp_version(vm_qmp(src)), local->message);
        return FALSE;
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

/* With the source's vCPUs stopped: the case's hook, then go on (or
 * cancel, if the hook refuses the switchover). */
static gboolean at_pre_switchover(Vm *src, const MigrateConfig *cfg, Deadline deadline,
                                  GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    gboolean refuse = FALSE;

    if (cfg->at_pre_switchover && !cfg->at_pre_switchover(cfg->hook_opaque, &refuse, error))
        return FALSE;
    if (refuse)
        return qmp_execute_simple(vm_qmp(src), "migrate_cancel", NULL, deadline, error);
    json_object_set_string_member(args, "state", "pre-switchover");
    return qmp_execute_simple(vm_qmp(src), "migrate-continue", args, deadline, error);
}

static gboolean is_final(const char *status)
{
    return g_str_equal(status, "completed") || g_str_equal(status, "failed") ||
           g_str_equal(status, "cancelled");
}

/* The source's MIGRATION events to a final status. */
static gboolean follow_source(Vm *src, const MigrateConfig *cfg, Deadline deadline,
                              MigrateStats *st, GError **error)
{
    for (;;) {
        g_autoptr(JsonObject) ev = qmp_wait_event(vm_qmp(src), "MIGRATION", NULL, NULL,
                                                  deadline, error);
        const char *status;

        if (!ev) {
            g_prefix_error(error, "src: waiting for its cpr-transfer migration to end "
                           "(last status '%s'): ", st->statuses->len
                           ? (char *)st->statuses->pdata[st->statuses->len - 1] : "none");
            return FALSE;
        }
        status = qmp_get_string(qmp_get_object(ev, "data"), "status");
        status = status ? status : "?";
        g_ptr_array_add(st->statuses, g_strdup(status));
        if (cfg->status_changed)
            cfg->status_changed(cfg->hook_opaque, status);
        if (is_final(status)) {
            st->final_status = g_strdup(status);
            return TRUE;
        }
        if (g_str_equal(status, "pre-switchover") &&
            !at_pre_switchover(src, cfg, deadline, error))
            return FALSE;
    }
}

/* The target's own end.  Its "completed" event may have gone out before
 * our QMP connected, so its status is asked, between event waits. */
static gboolean target_completes(Vm *target, Deadline deadline, MigrateStats *st,
                                 GError **error)
{
    for (;;) {
        g_autoptr(JsonNode) info = qmp_execute(vm_qmp(target), "query-migrate", NULL,
                                               deadline, error);
        g_autoptr(JsonObject) ev = NULL;
        g_autoptr(GError) quiet = NULL;
        const char *status;

        if (!info)
            return FALSE;
        status = qmp_get_string(json_node_get_object(info), "status");
        if (g_strcmp0(status, "completed") == 0) {
            st->dst_completed_us = g_get_monotonic_time();
            return TRUE;
        }
        if (status && is_final(status)) {
            g_autofree char *why = vm_stderr_tail(target);
            g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "the source completed but the "
                        "target's incoming cpr-transfer migration %s: %s", status,
                        why ? why : "(see its .stderr)");
            return FALSE;
        }
        if (deadline_expired(deadline)) {
            g_set_error(error, MT_ERROR, MT_ERROR_TIMEOUT, "the target's incoming "
                        "migration never completed (last status '%s')",
                        status ? status : "none");
            return FALSE;
        }
        ev = qmp_wait_event(vm_qmp(target), "MIGRATION", NULL, NULL,
                            deadline_min(deadline, deadline_in_ms(CPR_TARGET_TICK_MS)), &quiet);
        if (!ev && !g_error_matches(quiet, MT_ERROR, MT_ERROR_TIMEOUT)) {
            g_propagate_error(error, g_steal_pointer(&quiet));
            return FALSE;
        }
    }
}

/* Once the source's migrate sent the cpr state the target serves its
 * monitor; with defer it is then told where the main channel is. */
static gboolean target_ready(Vm *target, const MigrateConfig *cfg, gboolean defer,
                             const char *main_uri, Deadline deadline, GError **error)
{
    g_autoptr(JsonObject) args = NULL;

    if (!vm_connect(target, deadline, error)) {
        g_autoptr(GError) dead = NULL;
        if (!vm_check_alive_within(target, 200, &dead)) {
            g_clear_error(error);
            g_propagate_error(error, g_steal_pointer(&dead));
        }
        return FALSE;
    }
    if (!defer)
        return TRUE;
    args = migaddr_args(main_uri, MIGRATE_ADDR_CHANNELS, error);
    return args && migrate_prepare_side(target, cfg, TRUE, deadline, error) &&
           qmp_execute_simple(vm_qmp(target), "migrate-incoming", args, deadline, error);
}

gboolean cpr_transfer_run(Vm *src, const MigrateConfig *cfg, gboolean defer,
                          CprLaunchTarget launch, gpointer launch_opaque,
                          const char *run_dir, Deadline deadline, MigrateStats *stats,
                          GError **error)
{
    g_autofree char *cpr_path = g_build_filename(run_dir, "cpr.sock", NULL);
    g_autofree char *main_path = g_build_filename(run_dir, "main.sock", NULL);
    g_autofree char *cpr_uri = g_strconcat("unix:", cpr_path, NULL);
    g_autofree char *main_uri = g_strconcat("unix:", main_path, NULL);
    g_auto(GStrv) args = cpr_transfer_target_args(cpr_path, main_path, defer);
    Vm *target;

    stats->statuses = g_ptr_array_new_with_free_func(g_free);
    stats->samples = g_array_new(FALSE, FALSE, sizeof(MigrateSample));
    stats->events = g_array_new(FALSE, FALSE, sizeof(MigrateEvent));
    stats->dst_blocktime_ms = -1;
    qmp_discard_events(vm_qmp(src), "MIGRATION");
    if (!migrate_prepare_side(src, cfg, FALSE, deadline, error) ||
        !(target = launch(launch_opaque, (const char *const *)args, error)) ||
        !wait_listening(cpr_path, target, deadline, error))
        return FALSE;
    stats->start_us = g_get_monotonic_time();
    if (!start(src, main_uri, cpr_uri, deadline, error) ||
        !target_ready(target, cfg, defer, main_uri, deadline, error) ||
        !follow_source(src, cfg, deadline, stats, error) || !migrate_stats_collect(src, deadline, stats, error))
        return FALSE;
    if (!g_str_equal(stats->final_status, "completed"))
        return TRUE;
    return target_completes(target, deadline, stats, error);
}
