/* wiretap.c: a relay that proves the stream was TLS (see wiretap.h). */
#include "wiretap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "mt-error.h"

/* QEMU_VM_FILE_MAGIC, big-endian on the wire (migration/savevm.c). */
static const guint8 qevm_magic[4] = { 0x51, 0x45, 0x56, 0x4d };
/* Big enough to keep up with loopback migration in one read. */
#define RELAY_BUF (256 * 1024)

void tls_record_parser_feed(TlsRecordParser *p, const guint8 *buf, gsize len)
{
    for (gsize i = 0; i < len && !p->bad;) {
        if (p->body_left) {
            gsize n = MIN((gsize)p->body_left, len - i);
            p->body_left -= n;
            i += n;
            continue;
        }
        p->header[p->header_len++] = buf[i++];
        if (p->offset + i == 4 && memcmp(p->header, qevm_magic, 4) == 0)
            p->qevm = TRUE;
        if (p->header_len < 5)
            continue;
        /* ContentType change_cipher_spec(20) .. application_data(23),
         * ProtocolVersion 3.x, a length no record may exceed (2^14 plus
         * the expansion TLS 1.2 allows). */
        if (p->header[0] < 20 || p->header[0] > 23 || p->header[1] != 3 ||
            p->header[2] > 4 || ((p->header[3] << 8) | p->header[4]) > 16384 + 2048) {
            p->bad = TRUE;
            p->bad_offset = p->offset + i - 5;
            break;
        }
        p->body_left = (p->header[3] << 8) | p->header[4];
        p->header_len = 0;
        p->records++;
    }
    p->offset += len;
}

typedef struct {
    int from, to;
    TlsRecordParser parser;
    guint64 bytes;
    GThread *thread;
} Pump;

typedef struct {
    int src_fd, dst_fd;
    Pump up, down;
} Conn;

struct Wiretap {
    int listen_fd;
    int stop_pipe[2];
    char *uri;
    char *listen_path;
    struct sockaddr_storage target;
    socklen_t target_len;
    GThread *acceptor;
    GMutex lock;
    GPtrArray *conns;           /* Conn *, guarded by lock */
    gboolean stopping;
};

/* The reader of what @fd's peer sends is gone: reset the connection, so
 * the peer's writes fail as they would have without the relay, instead
 * of filling a buffer nobody drains.  The fd number stays valid (on
 * /dev/null) for the other thread until conn_finish() closes it. */
static void reset_writer(int fd)
{
    struct linger l = { .l_onoff = 1, .l_linger = 0 };
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    if (null >= 0) {
        dup3(null, fd, O_CLOEXEC);      /* closes the socket: RST */
        close(null);
    }
}

static gpointer pump_main(gpointer data)
{
    Pump *p = data;
    g_autofree guint8 *buf = g_malloc(RELAY_BUF);

    for (;;) {
        ssize_t n = read(p->from, buf, RELAY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        tls_record_parser_feed(&p->parser, buf, n);
        p->bytes += n;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = send(p->to, buf + off, n - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                reset_writer(p->from);
                return NULL;
            }
            off += w;
        }
    }
    /* Pass the end on: the peer sees EOF as it would without us. */
    shutdown(p->to, SHUT_WR);
    return NULL;
}

static gboolean connect_target(Wiretap *w, int *fd_out)
{
    int fd = socket(w->target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return FALSE;
    if (connect(fd, (struct sockaddr *)&w->target, w->target_len) < 0) {
        close(fd);
        return FALSE;
    }
    *fd_out = fd;
    return TRUE;
}

static void conn_start(Wiretap *w, int src_fd)
{
    Conn *c = g_new0(Conn, 1);

    c->src_fd = src_fd;
    if (!connect_target(w, &c->dst_fd)) {
        /* The source sees the refusal it would have seen directly. */
        close(src_fd);
        g_free(c);
        return;
    }
    c->up = (Pump){ .from = c->src_fd, .to = c->dst_fd };
    c->down = (Pump){ .from = c->dst_fd, .to = c->src_fd };
    c->up.thread = g_thread_new("wiretap-up", pump_main, &c->up);
    c->down.thread = g_thread_new("wiretap-down", pump_main, &c->down);
    g_mutex_lock(&w->lock);
    g_ptr_array_add(w->conns, c);
    g_mutex_unlock(&w->lock);
}

static gpointer acceptor_main(gpointer data)
{
    Wiretap *w = data;

    for (;;) {
        struct pollfd pfd[2] = {
            { .fd = w->listen_fd, .events = POLLIN },
            { .fd = w->stop_pipe[0], .events = POLLIN },
        };
        int fd;

        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents)
            break;
        fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            conn_start(w, fd);
    }
    return NULL;
}

/* Parse "tcp:HOST:PORT" or "unix:PATH" into w->target. */
static gboolean parse_target(Wiretap *w, const char *uri, GError **error)
{
    if (g_str_has_prefix(uri, "unix:")) {
        struct sockaddr_un *un = (struct sockaddr_un *)&w->target;
        const char *path = uri + 5;

        if (strlen(path) >= sizeof(un->sun_path))
            goto bad;
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, path);
        w->target_len = sizeof(*un);
        return TRUE;
    }
    if (g_str_has_prefix(uri, "tcp:")) {
        struct sockaddr_in *in = (struct sockaddr_in *)&w->target;
        g_autofree char *host = g_strdup(uri + 4);
        char *colon = strrchr(host, ':');

        if (!colon)
            goto bad;
        *colon = '\0';
        in->sin_family = AF_INET;
        in->sin_port = htons((guint16)atoi(colon + 1));
        if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
            goto bad;
        w->target_len = sizeof(*in);
        return TRUE;
    }
bad:
    g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "wiretap: cannot relay to '%s' (tcp:IPv4:PORT "
                "or unix:PATH)", uri);
    return FALSE;
}

static gboolean listen_tcp(Wiretap *w, GError **error)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);

    w->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (w->listen_fd < 0 || bind(w->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(w->listen_fd, 16) < 0 ||
        getsockname(w->listen_fd, (struct sockaddr *)&a, &len) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "wiretap: cannot listen on 127.0.0.1: %s",
                    g_strerror(errno));
        return FALSE;
    }
    w->uri = g_strdup_printf("tcp:127.0.0.1:%u", ntohs(a.sin_port));
    return TRUE;
}

static gboolean listen_unix(Wiretap *w, const char *path, GError **error)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };

    if (!path || strlen(path) >= sizeof(a.sun_path)) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "wiretap: bad listen path '%s'",
                    path ? path : "(none)");
        return FALSE;
    }
    strcpy(a.sun_path, path);
    w->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (w->listen_fd < 0 || bind(w->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(w->listen_fd, 16) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "wiretap: cannot listen on '%s': %s",
                    path, g_strerror(errno));
        return FALSE;
    }
    w->listen_path = g_strdup(path);
    w->uri = g_strdup_printf("unix:%s", path);
    return TRUE;
}

Wiretap *wiretap_start(const char *target_uri, const char *listen_path, GError **error)
{
    Wiretap *w = g_new0(Wiretap, 1);

    w->listen_fd = -1;
    w->stop_pipe[0] = w->stop_pipe[1] = -1;
    g_mutex_init(&w->lock);
    w->conns = g_ptr_array_new();
    if (!parse_target(w, target_uri, error) ||
        !(w->target.ss_family == AF_UNIX ? listen_unix(w, listen_path, error)
                                         : listen_tcp(w, error))) {
        wiretap_stop(w, NULL);
        return NULL;
    }
    if (pipe2(w->stop_pipe, O_CLOEXEC) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "wiretap: pipe: %s", g_strerror(errno));
        wiretap_stop(w, NULL);
        return NULL;
    }
    w->acceptor = g_thread_new("wiretap-accept", acceptor_main, w);
    return w;
}

const char *wiretap_uri(Wiretap *w)
{
    return w->uri;
}

void wiretap_report_clear(WiretapReport *r)
{
    g_clear_pointer(&r->first_bad, g_free);
}

static void conn_finish(Conn *c, guint index, WiretapReport *out)
{
    shutdown(c->src_fd, SHUT_RDWR);
    shutdown(c->dst_fd, SHUT_RDWR);
    g_thread_join(c->up.thread);
    g_thread_join(c->down.thread);
    close(c->src_fd);
    close(c->dst_fd);
    if (out) {
        const TlsRecordParser *p = &c->up.parser;
        out->connections++;
        out->bytes_up += c->up.bytes;
        out->bytes_down += c->down.bytes;
        if (p->qevm)
            out->plain_qevm++;
        if (!p->bad && p->records > 0 && !c->down.parser.bad)
            out->tls_connections++;
        else if (!out->first_bad)
            out->first_bad = g_strdup_printf(
                "connection %u: %s after %" G_GUINT64_FORMAT " TLS records (%"
                G_GUINT64_FORMAT " bytes up)%s", index,
                p->bad ? "not a TLS record" : c->down.parser.bad ? "reply not TLS"
                : "no TLS record", p->records, c->up.bytes,
                p->qevm ? "; it began with QEMU_VM_FILE_MAGIC 'QEVM': plain stream" : "");
    }
    g_free(c);
}

void wiretap_stop(Wiretap *w, WiretapReport *out)
{
    if (!w)
        return;
    if (out)
        memset(out, 0, sizeof(*out));
    if (w->acceptor) {
        if (write(w->stop_pipe[1], "x", 1) < 0)
            g_warning("wiretap: cannot wake the acceptor: %s", g_strerror(errno));
        g_thread_join(w->acceptor);
    }
    /* The acceptor is gone: nobody else touches conns now. */
    for (guint i = 0; i < w->conns->len; i++)
        conn_finish(w->conns->pdata[i], i, out);
    g_ptr_array_unref(w->conns);
    g_mutex_clear(&w->lock);
    if (w->listen_fd >= 0)
        close(w->listen_fd);
    for (int i = 0; i < 2; i++)
        if (w->stop_pipe[i] >= 0)
            close(w->stop_pipe[i]);
    if (w->listen_path)
        unlink(w->listen_path);
    g_free(w->listen_path);
    g_free(w->uri);
    g_free(w);
}
