/* migrate.c: driving a migration (see migrate.h). */
#include "migrate.h"

#include <string.h>

const char *transport_name(Transport t)
{
    static const char *const names[] = {
        [TRANSPORT_TCP] = "tcp",
        [TRANSPORT_UNIX] = "unix",
    };
    return names[t];
}

void migrate_stats_clear(MigrateStats *s)
{
    g_clear_pointer(&s->final_status, g_free);
    g_clear_pointer(&s->statuses, g_ptr_array_unref);
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
     * waits below are driven by. */
    for (int i = -1; i < 0 || (cfg->capabilities && cfg->capabilities[i]); i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "capability");
        json_builder_add_string_value(b, i < 0 ? "events" : cfg->capabilities[i]);
        json_builder_set_member_name(b, "state");
        json_builder_add_boolean_value(b, TRUE);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    return qmp_execute_simple(vm_qmp(vm), "migrate-set-capabilities",
                              json_node_get_object(root), deadline, error);
}

static gboolean set_parameters(Vm *src, const MigrateConfig *cfg,
                               Deadline deadline, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();

    json_object_set_int_member(args, "max-bandwidth", (gint64)cfg->max_bandwidth);
    json_object_set_int_member(args, "downtime-limit", (gint64)cfg->downtime_limit_ms);
    return qmp_execute_simple(vm_qmp(src), "migrate-set-parameters", args,
                              deadline, error);
}

/* The port QEMU bound for "tcp:127.0.0.1:0", from the incoming side's
 * query-migrate: letting QEMU choose avoids racing other cases for ports. */
static char *incoming_tcp_uri(Vm *dst, Deadline deadline, GError **error)
{
    g_autoptr(JsonNode) info = qmp_execute(vm_qmp(dst), "query-migrate", NULL,
                                           deadline, error);
    JsonObject *o = info && JSON_NODE_HOLDS_OBJECT(info) ? json_node_get_object(info) : NULL;
    JsonArray *addrs;

    if (!o)
        return NULL;
    addrs = json_object_has_member(o, "socket-address")
            ? json_object_get_array_member(o, "socket-address") : NULL;
    if (!addrs || json_array_get_length(addrs) < 1) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "dst query-migrate shows no listening socket-address");
        return NULL;
    }
    o = json_array_get_object_element(addrs, 0);
    return g_strdup_printf("tcp:%s:%s",
                           json_object_get_string_member_with_default(o, "host", "?"),
                           json_object_get_string_member_with_default(o, "port", "?"));
}

static char *start_incoming(Vm *dst, const MigrateConfig *cfg,
                            const char *run_dir, Deadline deadline, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autofree char *uri = cfg->transport == TRANSPORT_TCP
                           ? g_strdup("tcp:127.0.0.1:0")
                           : g_strdup_printf("unix:%s/migration.sock", run_dir);

    json_object_set_string_member(args, "uri", uri);
    if (!qmp_execute_simple(vm_qmp(dst), "migrate-incoming", args, deadline, error))
        return NULL;
    if (cfg->transport == TRANSPORT_TCP)
        return incoming_tcp_uri(dst, deadline, error);
    return g_steal_pointer(&uri);
}

static const char *event_status(JsonObject *ev)
{
    JsonObject *data = json_object_get_object_member(ev, "data");

    return data ? json_object_get_string_member_with_default(data, "status", "?") : "?";
}

static gboolean is_final(const char *status)
{
    return g_str_equal(status, "completed") || g_str_equal(status, "failed") ||
           g_str_equal(status, "cancelled");
}

/* Follow @vm's MIGRATION events to a final status. */
static char *wait_final(Vm *vm, GPtrArray *seen, Deadline deadline, GError **error)
{
    for (;;) {
        g_autoptr(JsonObject) ev = qmp_wait_event(vm_qmp(vm), "MIGRATION", NULL,
                                                  NULL, deadline, error);
        const char *status;

        if (!ev) {
            g_prefix_error(error, "%s: last migration status '%s': ", vm_name(vm),
                           seen && seen->len ? (char *)seen->pdata[seen->len - 1] : "none");
            return NULL;
        }
        status = event_status(ev);
        if (seen)
            g_ptr_array_add(seen, g_strdup(status));
        if (is_final(status))
            return g_strdup(status);
    }
}

static gint64 member_int(JsonObject *o, const char *name)
{
    return o && json_object_has_member(o, name) ? json_object_get_int_member(o, name) : 0;
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
        JsonNode *info = qmp_execute(vm_qmp(src), "query-migrate", NULL,
                                     deadline, error);
        JsonObject *o = info ? json_node_get_object(info) : NULL;

        if (!info || !g_str_equal(status, "completed") ||
            json_object_get_int_member_with_default(o, "total-time", 0) > 0 ||
            deadline_expired(settle))
            return info;
        json_node_unref(info);
        g_usleep(STATS_RETRY_US);
    }
}

static gboolean collect_stats(Vm *src, Deadline deadline, MigrateStats *stats,
                              GError **error)
{
    g_autoptr(JsonNode) info = query_settled(src, stats->final_status, deadline,
                                             error);
    JsonObject *o, *ram;

    if (!info)
        return FALSE;
    o = json_node_get_object(info);
    ram = json_object_has_member(o, "ram") ? json_object_get_object_member(o, "ram") : NULL;
    stats->total_ms = member_int(o, "total-time");
    stats->downtime_ms = member_int(o, "downtime");
    stats->setup_ms = member_int(o, "setup-time");
    stats->transferred_bytes = member_int(ram, "transferred");
    stats->dirty_sync_count = member_int(ram, "dirty-sync-count");
    if (ram && json_object_has_member(ram, "mbps"))
        stats->throughput_mbps = json_object_get_double_member(ram, "mbps");
    /* Cross-check the event stream against QEMU's own view. */
    if (g_strcmp0(json_object_get_string_member_with_default(o, "status", ""),
                  stats->final_status) != 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "src query-migrate says '%s' but events said '%s'",
                    json_object_get_string_member_with_default(o, "status", "?"),
                    stats->final_status);
        return FALSE;
    }
    return TRUE;
}

/* A failed migration: name the side that died, if one did. */
static void explain_failure(Vm *src, Vm *dst, GError **error)
{
    g_autoptr(GError) dead = NULL;

    if (!vm_check_alive(dst, &dead) || !vm_check_alive(src, &dead)) {
        g_clear_error(error);
        g_propagate_error(error, g_steal_pointer(&dead));
    }
}

gboolean migrate_run(Vm *src, Vm *dst, const MigrateConfig *cfg,
                     const char *run_dir, Deadline deadline,
                     MigrateStats *stats, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autofree char *uri = NULL;
    g_autofree char *dst_status = NULL;

    stats->statuses = g_ptr_array_new_with_free_func(g_free);
    if (!set_capabilities(src, cfg, deadline, error) ||
        !set_capabilities(dst, cfg, deadline, error) ||
        !set_parameters(src, cfg, deadline, error))
        return FALSE;
    uri = start_incoming(dst, cfg, run_dir, deadline, error);
    if (!uri)
        return FALSE;
    json_object_set_string_member(args, "uri", uri);
    if (!qmp_execute_simple(vm_qmp(src), "migrate", args, deadline, error))
        return FALSE;
    stats->final_status = wait_final(src, stats->statuses, deadline, error);
    if (!stats->final_status) {
        explain_failure(src, dst, error);
        return FALSE;
    }
    if (!collect_stats(src, deadline, stats, error))
        return FALSE;
    if (!g_str_equal(stats->final_status, "completed")) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "migration ended '%s' on src",
                    stats->final_status);
        explain_failure(src, dst, error);
        return FALSE;
    }
    dst_status = wait_final(dst, NULL, deadline, error);
    if (!dst_status) {
        explain_failure(src, dst, error);
        return FALSE;
    }
    if (!g_str_equal(dst_status, "completed")) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION,
                    "incoming migration ended '%s' on dst", dst_status);
        return FALSE;
    }
    return TRUE;
}
