/* migrate-transport.c: one migration's transport (see migrate-transport.h). */
#include "migrate-transport.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "migaddr.h"
#include "rundir.h"

/* migrate or migrate-incoming with the case's address syntax; the
 * destination always gets a well-formed one (only migrate is tested
 * for refusing both or neither). */
gboolean transport_send_address(MigrateTransport *t, Vm *vm, const char *command, const char *uri,
                             GError **error)
{
    gboolean incoming = g_str_equal(command, "migrate-incoming");
    MigrateAddr how = t->cfg->addr;
    g_autoptr(JsonObject) args = NULL;

    if (incoming && (how == MIGRATE_ADDR_BOTH || how == MIGRATE_ADDR_NEITHER))
        how = MIGRATE_ADDR_URI;
    if (!(args = migaddr_args(uri, how, error)))
        return FALSE;
    if (incoming && t->cfg->dst_no_exit)
        json_object_set_boolean_member(args, "exit-on-error", FALSE);
    if (!qmp_execute_simple(vm_qmp(vm), command, args, t->deadline, error))
        return FALSE;
    if (how == MIGRATE_ADDR_CHANNELS)
        t->stats->channels_accepted++;
    return TRUE;
}

/* The port QEMU bound for "tcp:127.0.0.1:0", from the incoming side's
 * query-migrate: letting QEMU choose avoids racing other cases for ports. */
static char *incoming_tcp_uri(Vm *dst, Deadline deadline, GError **error)
{
    g_autoptr(JsonNode) info = qmp_execute(vm_qmp(dst), "query-migrate", NULL,
                                           deadline, error);
    JsonObject *o = info && JSON_NODE_HOLDS_OBJECT(info) ? json_node_get_object(info) : NULL;
    JsonNode *addrs = o ? json_object_get_member(o, "socket-address") : NULL;
    JsonObject *a;

    if (!o)
        return NULL;
    if (!addrs || !JSON_NODE_HOLDS_ARRAY(addrs) ||
        json_array_get_length(json_node_get_array(addrs)) < 1 ||
        !(a = json_array_get_object_element(json_node_get_array(addrs), 0))) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "dst query-migrate shows no listening socket-address");
        return NULL;
    }
    return g_strdup_printf("tcp:%s:%s", qmp_get_string(a, "host") ? qmp_get_string(a, "host") : "?",
                           qmp_get_string(a, "port") ? qmp_get_string(a, "port") : "?");
}

/* Hand one end of a socketpair to each QEMU under the name "mt-mig". */
static gboolean pass_fd(Vm *vm, int fd, Deadline deadline, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    JsonNode *ret;

    json_object_set_string_member(args, "fdname", "mt-mig");
    ret = qmp_execute_with_fd(vm_qmp(vm), "getfd", args, fd, deadline, error);
    if (ret)
        json_node_unref(ret);
    return ret != NULL;
}

static gboolean setup_fd_transport(MigrateTransport *t, GError **error)
{
    int sv[2];
    gboolean ok;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "socketpair: %s", g_strerror(errno));
        return FALSE;
    }
    ok = pass_fd(t->dst, sv[1], t->deadline, error) &&
         pass_fd(t->src, sv[0], t->deadline, error);
    close(sv[0]);
    close(sv[1]);
    return ok;
}

/* A tcp port nobody listens on, for as long as the fd stays open: bound
 * but not listening, so a connect is refused at once and no other
 * process can take the port meanwhile. */
static char *reserve_dead_tcp_port(MigrateTransport *t, GError **error)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);

    t->reserved_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t->reserved_fd < 0 || bind(t->reserved_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(t->reserved_fd, (struct sockaddr *)&a, &len) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot reserve a tcp port: %s",
                    g_strerror(errno));
        return NULL;
    }
    return g_strdup_printf("tcp:127.0.0.1:%u", ntohs(a.sin_port));
}

static gboolean open_bad_destination(MigrateTransport *t, char **src_uri, char **dst_uri,
                                     GError **error)
{
    if (t->cfg->transport == TRANSPORT_TCP)
        *src_uri = reserve_dead_tcp_port(t, error);
    else    /* a socket path nobody listens on: connecting fails at once */
        *src_uri = g_strdup_printf("unix:%s/nobody-listens.sock", t->run_dir);
    *dst_uri = g_strdup(*src_uri);
    return *src_uri != NULL;
}

/* fd: on a regular file: the source writes it, the destination reads
 * it once the source is done (QEMU's precopy/fd/file). */
static gboolean open_file_as_fd(MigrateTransport *t, char **src_uri, char **dst_uri, GError **error)
{
    int wfd = open(t->stream, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    int rfd = wfd >= 0 ? open(t->stream, O_RDONLY | O_CLOEXEC) : -1;
    gboolean ok;

    if (rfd < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot open '%s': %s", t->stream,
                    g_strerror(errno));
        if (wfd >= 0)
            close(wfd);
        return FALSE;
    }
    ok = pass_fd(t->src, wfd, t->deadline, error) && pass_fd(t->dst, rfd, t->deadline, error);
    close(wfd);
    close(rfd);
    *src_uri = g_strdup("fd:mt-mig");
    *dst_uri = g_strdup("fd:mt-mig");
    return ok;
}

/* The file in each side's fdset, one open file per side so the two
 * never share a file offset.  QEMU 10.0 picks the fd whose access mode
 * is the one it asks for (write-only on the source, read-only on the
 * destination) and, for direct-io, whose O_DIRECT matches. */
static gboolean add_fdsets(MigrateTransport *t, GError **error)
{
    static const int direct[] = { 0, O_DIRECT };

    for (guint i = 0; i < (t->cfg->file_direct_io ? 2u : 1u); i++)
        if (!migaddr_add_fd(t->src, t->stream, O_CREAT | O_WRONLY | direct[i], t->deadline,
                            error) ||
            !migaddr_add_fd(t->dst, t->stream, O_CREAT | O_RDONLY | direct[i], t->deadline,
                            error))
            return FALSE;
    return TRUE;
}

/* file: the stream's path and URI, with the case's offset, fdset and
 * direct-io options applied. */
static gboolean open_file_transport(MigrateTransport *t, char **src_uri, char **dst_uri,
                                    GError **error)
{
    const MigrateConfig *cfg = t->cfg;
    /* 0x20M: QEMU's own bad-offset test; not a number its parser takes. */
    g_autofree char *opt = cfg->file_bad_offset ? g_strdup(",offset=0x20M")
                           : cfg->file_offset ? g_strdup_printf(",offset=%" G_GUINT64_FORMAT,
                                                                cfg->file_offset)
                           : g_strdup("");

    if (cfg->file_direct_io) {
        if (!(t->dio_dir = migaddr_dio_dir_new(error)))
            return FALSE;
        g_free(t->stream);
        t->stream = g_build_filename(t->dio_dir, "migration.stream", NULL);
    }
    if (cfg->file_offset && !migaddr_file_prefill(t->stream, cfg->file_offset, error))
        return FALSE;
    if (cfg->file_getfd)
        return open_file_as_fd(t, src_uri, dst_uri, error);
    if (cfg->file_fdset && !add_fdsets(t, error))
        return FALSE;
    *src_uri = cfg->file_fdset ? g_strdup_printf("file:/dev/fdset/%d%s", MIGADDR_FDSET_ID, opt)
                               : g_strdup_printf("file:%s%s", t->stream, opt);
    *dst_uri = g_strdup(*src_uri);
    return TRUE;
}

/* The source connects to a wiretap that relays to the destination. */
static gboolean tap_between(MigrateTransport *t, char **src_uri, GError **error)
{
    g_autofree char *path = g_build_filename(t->run_dir, "wiretap.sock", NULL);

    if (!(t->tap = wiretap_start(*src_uri, path, error)))
        return FALSE;
    g_free(*src_uri);
    *src_uri = g_strdup(wiretap_uri(t->tap));
    return TRUE;
}

/* The URIs for each side; the destination listens before the source
 * connects, except for the sequential transports. */
gboolean transport_open(MigrateTransport *t, char **src_uri, char **dst_uri, GError **error)
{
    t->stream = g_build_filename(t->run_dir, "migration.stream", NULL);
    if (t->cfg->bad_destination)
        return open_bad_destination(t, src_uri, dst_uri, error);
    switch (t->cfg->transport) {
    case TRANSPORT_TCP:
        *dst_uri = g_strdup_printf("tcp:%s:0", t->cfg->tcp_host ? t->cfg->tcp_host
                                                               : "127.0.0.1");
        if (!transport_send_address(t, t->dst, "migrate-incoming", *dst_uri, error))
            return FALSE;
        *src_uri = incoming_tcp_uri(t->dst, t->deadline, error);
        return *src_uri != NULL && (!t->cfg->wiretap || tap_between(t, src_uri, error));
    case TRANSPORT_UNIX:
        *src_uri = g_strdup_printf("unix:%s/migration.sock", t->run_dir);
        *dst_uri = g_strdup(*src_uri);
        return transport_send_address(t, t->dst, "migrate-incoming", *dst_uri, error) &&
               (!t->cfg->wiretap || tap_between(t, src_uri, error));
    case TRANSPORT_FD:
        *src_uri = g_strdup("fd:mt-mig");
        *dst_uri = g_strdup("fd:mt-mig");
        return setup_fd_transport(t, error) &&
               transport_send_address(t, t->dst, "migrate-incoming", *dst_uri, error);
    case TRANSPORT_EXEC:
        /* QEMU's exec: runs /bin/sh -c; the path is ours and has no quotes. */
        *src_uri = g_strdup_printf("exec:cat > '%s'", t->stream);
        *dst_uri = g_strdup_printf("exec:cat '%s'", t->stream);
        return TRUE;
    case TRANSPORT_FILE:
        return open_file_transport(t, src_uri, dst_uri, error);
    }
    g_assert_not_reached();
}

/* What the wiretap saw, into @stats. */
static void tap_report(MigrateTransport *t)
{
    WiretapReport r;
    MigrateStats *st = t->stats;

    wiretap_stop(t->tap, &r);
    t->tap = NULL;
    st->wire_ran = TRUE;
    st->wire_bytes = r.bytes_up;
    st->wire_connections = r.connections;
    st->wire_bytes_down = r.bytes_down;
    st->wire_all_tls = r.connections > 0 && r.tls_connections == r.connections &&
                       r.plain_qevm == 0;
    st->wire_summary = g_strdup_printf("%u connection%s, %u all TLS records, %"
                                       G_GUINT64_FORMAT " bytes up, %" G_GUINT64_FORMAT
                                       " down%s%s", r.connections,
                                       r.connections == 1 ? "" : "s", r.tls_connections,
                                       r.bytes_up, r.bytes_down,
                                       r.first_bad ? "; " : "",
                                       r.first_bad ? r.first_bad : "");
    wiretap_report_clear(&r);
}

void transport_clear(MigrateTransport *t)
{
    if (t->tap)
        tap_report(t);
    if (t->reserved_fd >= 0)
        close(t->reserved_fd);
    if (t->dio_dir)
        rundir_remove(t->dio_dir);
    g_free(t->dio_dir);
    g_free(t->stream);
}

