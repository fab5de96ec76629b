/*
 * test-qmp.c: the QMP client against an in-process fake QMP server.
 *
 * The fake server runs in its own thread on one end of a socketpair (or
 * behind a unix listening socket, for qmp_connect) and plays back a
 * script: send a line, expect a command and reply to it (the request's id
 * substituted), pause, hang up, go silent.  Every deviation from the
 * script is recorded and asserted by the main thread after the join; every
 * wait on either side has a deadline, so nothing here can hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "qmp.h"
#include "watchdog.h"

/* Deadlines: generous where success is expected, short where a timeout is
 * the expected outcome; the server side gives up after SERVER_WAIT_MS. */
#define OK_MS           2000
#define SHORT_MS        200
#define SERVER_WAIT_MS  5000
/* A timeout must come no earlier than this before, and no later than this
 * after, the deadline. */
#define EARLY_SLACK_MS  20
#define LATE_SLACK_MS   1500

#define GREETING_7_2_22                                                     \
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, "      \
    "\"major\": 7}, \"package\": \"v7.2.22\"}, \"capabilities\": [\"oob\"]}}\n"
#define REPLY_EMPTY "{\"return\": {}, \"id\": \"@ID@\"}\n"

/* ---- the fake server --------------------------------------------------- */

typedef enum {
    STEP_END,           /* wait for the client to hang up, then close */
    STEP_SEND,          /* write text in one write() */
    STEP_SEND_BYTES,    /* write text one byte per write(), with pauses */
    STEP_EXPECT,        /* read a line: "execute" must be text; send reply */
    STEP_EXPECT_FD,     /* same, but an fd must come with it (SCM_RIGHTS);
                         * write marker through it before replying */
    STEP_SLEEP,         /* pause ms */
    STEP_HANGUP,        /* close the connection now */
    STEP_SILENT,        /* say nothing more; wait for the client to hang up */
} StepKind;

typedef struct {
    StepKind kind;
    const char *text;   /* SEND*: bytes; EXPECT*: the command name */
    const char *reply;  /* EXPECT*: reply template or NULL (no reply); "@ID@"
                         * becomes this request's id, "@PREV@" the previous
                         * request's id */
    const char *marker; /* EXPECT_FD: written through the received fd */
    guint ms;           /* SLEEP */
} Step;

#define SEND(t)             { STEP_SEND, (t), NULL, NULL, 0 }
#define SEND_BYTES(t)       { STEP_SEND_BYTES, (t), NULL, NULL, 0 }
#define EXPECT(c, r)        { STEP_EXPECT, (c), (r), NULL, 0 }
#define EXPECT_FD(c, r, m)  { STEP_EXPECT_FD, (c), (r), (m), 0 }
#define SLEEP(n)            { STEP_SLEEP, NULL, NULL, NULL, (n) }
#define HANGUP              { STEP_HANGUP, NULL, NULL, NULL, 0 }
#define SILENT              { STEP_SILENT, NULL, NULL, NULL, 0 }
#define END                 { STEP_END, NULL, NULL, NULL, 0 }
#define HANDSHAKE           SEND(GREETING_7_2_22), EXPECT("qmp_capabilities", REPLY_EMPTY)

typedef struct {
    const Step *script;
    int fd;                     /* server end of the connection, or -1 */
    char *listen_path;          /* listen here first (qmp_connect tests) */
    guint listen_delay_ms;      /* ... after this long */
    GThread *thread;
    GString *inbuf;
    GArray *pending_fds;        /* int: received, not yet claimed by a step */
    GPtrArray *received;        /* every line the client sent */
    char *prev_id;
    char *cur_id;
    char *failure;              /* first deviation from the script */
    gboolean saw_eof;
} FakeServer;

static void server_fail(FakeServer *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void server_fail(FakeServer *s, const char *fmt, ...)
{
    va_list ap;

    if (s->failure)
        return;
    va_start(ap, fmt);
    s->failure = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static void server_close_pending_fds(FakeServer *s)
{
    for (guint i = 0; i < s->pending_fds->len; i++)
        close(g_array_index(s->pending_fds, int, i));
    g_array_set_size(s->pending_fds, 0);
}

/* One recvmsg(), collecting any passed fds.  Returns bytes read, 0 on EOF,
 * -1 on timeout or error (recorded unless @eof_ok tolerates it). */
static gssize server_recv(FakeServer *s, gint64 deadline, const char *what)
{
    char buf[4096];
    union { struct cmsghdr hdr; char buf[CMSG_SPACE(4 * sizeof(int))]; } ctl;
    struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
    struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
    gssize n;

    for (;;) {
        int r = poll(&pfd, 1, deadline_remaining_ms(deadline));

        if (r > 0)
            break;
        if (r == 0) {
            server_fail(s, "server timed out waiting for %s", what);
            return -1;
        }
        if (errno != EINTR) {
            server_fail(s, "server poll: %s", g_strerror(errno));
            return -1;
        }
    }
    n = recvmsg(s->fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
        server_fail(s, "server recvmsg: %s", g_strerror(errno));
        return -1;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            gsize nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (gsize i = 0; i < nfds; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                g_array_append_val(s->pending_fds, fd);
            }
        }
    }
    if (msg.msg_flags & MSG_CTRUNC)
        server_fail(s, "server: control data truncated");
    g_string_append_len(s->inbuf, buf, n);
    return n;
}

/* Read one line sent by the client; NULL (failure recorded) otherwise. */
static char *server_read_line(FakeServer *s, const char *what)
{
    gint64 deadline = deadline_in_ms(SERVER_WAIT_MS);

    for (;;) {
        char *nl = memchr(s->inbuf->str, '\n', s->inbuf->len);
        gssize n;

        if (nl) {
            char *line = g_strndup(s->inbuf->str, nl - s->inbuf->str);
            g_string_erase(s->inbuf, 0, nl - s->inbuf->str + 1);
            return line;
        }
        n = server_recv(s, deadline, what);
        if (n == 0)
            server_fail(s, "client hung up while the server expected %s", what);
        if (n <= 0)
            return NULL;
    }
}

static gboolean server_write(FakeServer *s, const char *text, gsize len)
{
    while (len > 0) {
        gssize n = send(s->fd, text, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            server_fail(s, "server send: %s", g_strerror(errno));
            return FALSE;
        }
        text += n;
        len -= n;
    }
    return TRUE;
}

/* Wait (bounded) until the client closes its end. */
static void server_wait_eof(FakeServer *s)
{
    gint64 deadline = deadline_in_ms(SERVER_WAIT_MS);

    for (;;) {
        gssize n = server_recv(s, deadline, "the client to hang up");

        if (n < 0)
            return;
        if (n == 0) {
            s->saw_eof = TRUE;
            return;
        }
        /* Anything the client sends now is unexpected. */
        server_fail(s, "client sent unexpected data: '%.*s'", (int)s->inbuf->len,
                    s->inbuf->str);
        g_string_truncate(s->inbuf, 0);
    }
}

static gboolean server_expect(FakeServer *s, const Step *st)
{
    g_autofree char *what = g_strdup_printf("command '%s'", st->text);
    g_autofree char *line = server_read_line(s, what);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    JsonNode *root;
    JsonObject *obj;
    JsonNode *idn;
    const char *execute;

    if (!line)
        return FALSE;
    g_ptr_array_add(s->received, g_strdup(line));
    if (!json_parser_load_from_data(parser, line, -1, &error)) {
        server_fail(s, "client sent malformed JSON '%s': %s", line, error->message);
        return FALSE;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        server_fail(s, "client sent a non-object: '%s'", line);
        return FALSE;
    }
    obj = json_node_get_object(root);
    execute = json_object_has_member(obj, "execute")
              ? json_object_get_string_member(obj, "execute") : NULL;
    if (g_strcmp0(execute, st->text) != 0) {
        server_fail(s, "expected command '%s', client sent '%s'", st->text, line);
        return FALSE;
    }
    idn = json_object_get_member(obj, "id");
    if (!idn || json_node_get_value_type(idn) != G_TYPE_STRING) {
        server_fail(s, "command without a string id: '%s'", line);
        return FALSE;
    }
    g_free(s->prev_id);
    s->prev_id = s->cur_id;
    s->cur_id = g_strdup(json_node_get_string(idn));

    if (st->kind == STEP_EXPECT_FD) {
        int fd;

        if (s->pending_fds->len != 1) {
            server_fail(s, "'%s' came with %u fds, expected 1", st->text,
                        s->pending_fds->len);
            return FALSE;
        }
        fd = g_array_index(s->pending_fds, int, 0);
        g_array_set_size(s->pending_fds, 0);
        if (write(fd, st->marker, strlen(st->marker)) != (gssize)strlen(st->marker))
            server_fail(s, "cannot write through the received fd: %s", g_strerror(errno));
        close(fd);
    } else if (s->pending_fds->len) {
        server_fail(s, "'%s' came with %u unexpected fds", st->text, s->pending_fds->len);
        return FALSE;
    }

    if (st->reply) {
        g_autoptr(GString) reply = g_string_new(st->reply);

        g_string_replace(reply, "@ID@", s->cur_id, 0);
        g_string_replace(reply, "@PREV@", s->prev_id ? s->prev_id : "none", 0);
        return server_write(s, reply->str, reply->len);
    }
    return TRUE;
}

static gboolean server_accept(FakeServer *s)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct pollfd pfd;
    int lfd;

    g_usleep(s->listen_delay_ms * 1000);
    g_assert(strlen(s->listen_path) < sizeof(sa.sun_path));
    strcpy(sa.sun_path, s->listen_path);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
        server_fail(s, "cannot listen on '%s': %s", s->listen_path, g_strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return FALSE;
    }
    pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
    if (poll(&pfd, 1, SERVER_WAIT_MS) <= 0)
        server_fail(s, "no client connected to '%s'", s->listen_path);
    else
        s->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (s->fd < 0)
        server_fail(s, "accept: %s", g_strerror(errno));
    close(lfd);
    unlink(s->listen_path);
    return s->fd >= 0;
}

static gpointer server_thread(gpointer opaque)
{
    FakeServer *s = opaque;

    if (s->listen_path && !server_accept(s))
        return NULL;
    for (const Step *st = s->script; ; st++) {
        gboolean ok = TRUE;

        switch (st->kind) {
        case STEP_SEND:
            ok = server_write(s, st->text, strlen(st->text));
            break;
        case STEP_SEND_BYTES:
            for (const char *p = st->text; ok && *p; p++) {
                ok = server_write(s, p, 1);
                g_usleep(300);
            }
            break;
        case STEP_EXPECT:
        case STEP_EXPECT_FD:
            ok = server_expect(s, st);
            break;
        case STEP_SLEEP:
            g_usleep(st->ms * 1000);
            break;
        case STEP_HANGUP:
            close(s->fd);
            s->fd = -1;
            return NULL;
        case STEP_END:
        case STEP_SILENT:
            server_wait_eof(s);
            return NULL;
        }
        if (!ok)
            return NULL;
    }
}

static FakeServer *fake_server_new(const Step *script)
{
    FakeServer *s = g_new0(FakeServer, 1);

    s->script = script;
    s->fd = -1;
    s->inbuf = g_string_new(NULL);
    s->pending_fds = g_array_new(FALSE, FALSE, sizeof(int));
    s->received = g_ptr_array_new_with_free_func(g_free);
    return s;
}

/* Start @script on one end of a socketpair; the other end goes to *client_fd. */
static FakeServer *fake_server_start_pair(const Step *script, int *client_fd)
{
    FakeServer *s = fake_server_new(script);
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    s->fd = sv[1];
    *client_fd = sv[0];
    s->thread = g_thread_new("fake-qmp", server_thread, s);
    return s;
}

/* Start @script behind a unix socket at @path, created after @delay_ms. */
static FakeServer *fake_server_start_listen(const Step *script, const char *path,
                                            guint delay_ms)
{
    FakeServer *s = fake_server_new(script);

    s->listen_path = g_strdup(path);
    s->listen_delay_ms = delay_ms;
    s->thread = g_thread_new("fake-qmp", server_thread, s);
    return s;
}

/* Join the server (bounded by its own deadlines) and assert that the
 * client followed the script.  Close the client before calling this. */
static void fake_server_join(FakeServer *s)
{
    g_thread_join(s->thread);
    s->thread = NULL;
    g_assert_cmpstr(s->failure, ==, NULL);
}

static void fake_server_free(FakeServer *s)
{
    if (s->thread)
        g_thread_join(s->thread);
    if (s->fd >= 0)
        close(s->fd);
    server_close_pending_fds(s);
    g_array_unref(s->pending_fds);
    g_string_free(s->inbuf, TRUE);
    g_ptr_array_unref(s->received);
    g_free(s->listen_path);
    g_free(s->prev_id);
    g_free(s->cur_id);
    g_free(s->failure);
    g_free(s);
}

/* ---- helpers ------------------------------------------------------------ */

/* A client connected to a fake server playing @script; handshake done. */
static QmpClient *connect_pair(const Step *script, FakeServer **server)
{
    g_autoptr(GError) error = NULL;
    QmpClient *qmp;
    int fd;

    *server = fake_server_start_pair(script, &fd);
    qmp = qmp_new_from_fd(fd, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_nonnull(qmp);
    return qmp;
}

/* Run qmp_new_from_fd against @script and expect it to fail with @code;
 * returns the error message. */
static char *handshake_fails(const Step *script, gint64 ms, gint code,
                             gint64 *elapsed_ms)
{
    g_autoptr(GError) error = NULL;
    FakeServer *server;
    QmpClient *qmp;
    gint64 t0 = g_get_monotonic_time();
    int fd;

    server = fake_server_start_pair(script, &fd);
    qmp = qmp_new_from_fd(fd, deadline_in_ms(ms), &error);
    if (elapsed_ms)
        *elapsed_ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_null(qmp);
    g_assert_error(error, MT_ERROR, code);
    /* The client's fd was closed on failure, so the server sees EOF. */
    fake_server_join(server);
    fake_server_free(server);
    return g_strdup(error->message);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        g_error("'%s' does not contain '%s'", haystack, needle);
}

static const char *node_string_member(JsonNode *node, const char *member)
{
    g_assert_nonnull(node);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
    return json_object_get_string_member_with_default(json_node_get_object(node),
                                                      member, NULL);
}

static const char *event_name(JsonObject *ev)
{
    return json_object_get_string_member_with_default(ev, "event", NULL);
}

static const char *event_status(JsonObject *ev)
{
    JsonNode *data = json_object_get_member(ev, "data");

    g_assert_nonnull(data);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(data));
    return json_object_get_string_member_with_default(json_node_get_object(data),
                                                      "status", NULL);
}

static gint64 elapsed_ms_since(gint64 t0)
{
    return (g_get_monotonic_time() - t0) / 1000;
}

static void assert_timed_out_on_time(gint64 elapsed, gint64 deadline_ms)
{
    g_assert_cmpint(elapsed, >=, deadline_ms - EARLY_SLACK_MS);
    g_assert_cmpint(elapsed, <, deadline_ms + LATE_SLACK_MS);
}

#define MIGRATION_EV(st)                                                    \
    "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "                \
    "\"event\": \"MIGRATION\", \"data\": {\"status\": \"" st "\"}}\n"
#define SIMPLE_EV(name)                                                     \
    "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"" name "\"}\n"

/* ---- handshake ------------------------------------------------------------ */

static void test_handshake_connect(void)
{
    static const Step script[] = { HANDSHAKE, END };
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-qmp-XXXXXX", &error);
    g_autofree char *path = NULL;
    FakeServer *server;
    QmpClient *qmp;
    JsonObject *cmd;
    g_autoptr(JsonParser) parser = json_parser_new();

    g_assert_no_error(error);
    path = g_build_filename(dir, "qmp.sock", NULL);
    server = fake_server_start_listen(script, path, 0);
    qmp = qmp_connect(path, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_nonnull(qmp);
    g_assert_cmpstr(qmp_version(qmp), ==, "7.2.22");
    g_assert_cmpint(qmp_version_code(qmp), ==, 70222);
    qmp_free(qmp);
    fake_server_join(server);

    /* Exactly one command, qmp_capabilities, with an id and no arguments. */
    g_assert_cmpuint(server->received->len, ==, 1);
    g_assert_true(json_parser_load_from_data(parser, server->received->pdata[0], -1, &error));
    g_assert_no_error(error);
    cmd = json_node_get_object(json_parser_get_root(parser));
    g_assert_cmpstr(json_object_get_string_member(cmd, "execute"), ==, "qmp_capabilities");
    g_assert_false(json_object_has_member(cmd, "arguments"));
    g_assert_cmpstr(json_object_get_string_member(cmd, "id"), !=, "");
    g_assert_true(server->saw_eof);
    fake_server_free(server);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_handshake_version(void)
{
    static const Step script[] = {
        SEND("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 3, \"minor\": 1, "
             "\"major\": 10}, \"package\": \"\"}, \"capabilities\": []}}\n"),
        EXPECT("qmp_capabilities", REPLY_EMPTY),
        END,
    };
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    g_assert_cmpstr(qmp_version(qmp), ==, "10.1.3");
    g_assert_cmpint(qmp_version_code(qmp), ==, 100103);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_handshake_no_version(void)
{
    /* A greeting without a usable version still connects; the version is
     * "unknown" and compares lower than any real one.  A "version" of the
     * wrong JSON type must not trip json-glib's preconditions (criticals
     * are fatal in this test environment). */
    static const Step script_missing[] = {
        SEND("{\"QMP\": {\"capabilities\": []}}\n"),
        EXPECT("qmp_capabilities", REPLY_EMPTY),
        END,
    };
    static const Step script_string[] = {
        SEND("{\"QMP\": {\"version\": \"7.2.22\", \"capabilities\": []}}\n"),
        EXPECT("qmp_capabilities", REPLY_EMPTY),
        END,
    };
    static const Step script_bad_qemu[] = {
        SEND("{\"QMP\": {\"version\": {\"qemu\": [7, 2, 22]}, \"capabilities\": []}}\n"),
        EXPECT("qmp_capabilities", REPLY_EMPTY),
        END,
    };
    static const Step script_bad_fields[] = {
        SEND("{\"QMP\": {\"version\": {\"qemu\": {\"major\": {}, \"minor\": [1], "
             "\"micro\": 5}}, \"capabilities\": []}}\n"),
        EXPECT("qmp_capabilities", REPLY_EMPTY),
        END,
    };
    static const Step script_huge[] = {
        SEND("{\"QMP\": {\"version\": {\"qemu\": {\"major\": 9223372036854775807, "
             "\"minor\": 9223372036854775807, \"micro\": -9223372036854775807}}, "
             "\"capabilities\": []}}\n"),
        EXPECT("qmp_capabilities", REPLY_EMPTY),
        END,
    };
    static const Step script_negative[] = {
        SEND("{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": -1, "
             "\"micro\": 0}}, \"capabilities\": []}}\n"),
        EXPECT("qmp_capabilities", REPLY_EMPTY),
        END,
    };
    const Step *scripts[] = { script_missing, script_string, script_bad_qemu, script_huge,
                              script_negative };

    for (guint i = 0; i < G_N_ELEMENTS(scripts); i++) {
        FakeServer *server;
        QmpClient *qmp = connect_pair(scripts[i], &server);

        g_assert_cmpstr(qmp_version(qmp), ==, "unknown");
        g_assert_cmpint(qmp_version_code(qmp), ==, 0);
        qmp_free(qmp);
        fake_server_join(server);
        fake_server_free(server);
    }
    {
        /* Fields of the wrong type count as 0; the valid one is kept. */
        FakeServer *server;
        QmpClient *qmp = connect_pair(script_bad_fields, &server);

        g_assert_cmpstr(qmp_version(qmp), ==, "0.0.5");
        g_assert_cmpint(qmp_version_code(qmp), ==, 5);
        qmp_free(qmp);
        fake_server_join(server);
        fake_server_free(server);
    }
}

static void test_handshake_not_greeting(void)
{
    static const Step script[] = {
        SEND("{\"return\": {}}\n"),
        END,
    };
    g_autofree char *msg = handshake_fails(script, OK_MS, MT_ERROR_PROTOCOL, NULL);

    assert_contains(msg, "greeting");
}

static void test_handshake_capabilities_refused(void)
{
    static const Step script[] = {
        SEND(GREETING_7_2_22),
        EXPECT("qmp_capabilities",
               "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"nope\"}, "
               "\"id\": \"@ID@\"}\n"),
        END,
    };
    g_autofree char *msg = handshake_fails(script, OK_MS, MT_ERROR_QMP, NULL);

    assert_contains(msg, "qmp_capabilities");
    assert_contains(msg, "CommandNotFound");
}

/* ---- commands ------------------------------------------------------------- */

static void test_execute_return(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status",
               "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": \"@ID@\"}\n"),
        EXPECT("migrate-set-capabilities", REPLY_EMPTY),
        EXPECT("query-migrate", "{\"return\": {\"status\": \"completed\"}, \"id\": \"@ID@\"}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonParser) parser = json_parser_new();
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    g_autoptr(GHashTable) ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    JsonObject *cmd;

    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(node_string_member(ret, "status"), ==, "running");
    g_assert_true(json_object_get_boolean_member(json_node_get_object(ret), "running"));

    json_object_set_string_member(args, "capability", "events");
    json_object_set_int_member(args, "count", 42);
    g_assert_true(qmp_execute_simple(qmp, "migrate-set-capabilities", args,
                                     deadline_in_ms(OK_MS), &error));
    g_assert_no_error(error);
    g_clear_pointer(&ret, json_node_unref);
    ret = qmp_execute(qmp, "query-migrate", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(node_string_member(ret, "status"), ==, "completed");
    qmp_free(qmp);
    fake_server_join(server);

    /* The arguments went out unchanged, and every command had its own id. */
    g_assert_cmpuint(server->received->len, ==, 4);
    g_assert_true(json_parser_load_from_data(parser, server->received->pdata[2], -1, &error));
    g_assert_no_error(error);
    cmd = json_node_get_object(json_parser_get_root(parser));
    g_assert_true(json_object_has_member(cmd, "arguments"));
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(cmd, "arguments"),
                                                  "capability"), ==, "events");
    g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(cmd, "arguments"),
                                               "count"), ==, 42);
    for (guint i = 0; i < server->received->len; i++) {
        g_autoptr(JsonParser) p = json_parser_new();
        JsonObject *o;

        g_assert_true(json_parser_load_from_data(p, server->received->pdata[i], -1, &error));
        g_assert_no_error(error);
        o = json_node_get_object(json_parser_get_root(p));
        g_assert_true(g_hash_table_add(ids, g_strdup(json_object_get_string_member(o, "id"))));
    }
    g_assert_cmpuint(g_hash_table_size(ids), ==, 4);
    fake_server_free(server);
}

static void test_execute_stale_id(void)
{
    /* query-status times out; its late reply then arrives ahead of the
     * reply to query-migrate.  The client must skip it by id instead of
     * taking it as the answer to query-migrate. */
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status", NULL),
        EXPECT("query-migrate",
               "{\"return\": {\"status\": \"stale\"}, \"id\": \"@PREV@\"}\n"
               "{\"return\": {\"status\": \"foreign\"}, \"id\": \"someone-else\"}\n"
               "{\"return\": {\"status\": \"active\"}, \"id\": \"@ID@\"}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    gint64 t0 = g_get_monotonic_time();

    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(SHORT_MS), &error);
    g_assert_null(ret);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    assert_timed_out_on_time(elapsed_ms_since(t0), SHORT_MS);
    assert_contains(error->message, "query-status");
    g_clear_error(&error);

    ret = qmp_execute(qmp, "query-migrate", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(node_string_member(ret, "status"), ==, "active");
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_execute_odd_ids(void)
{
    /* Ids of the wrong JSON type are not ours (we only send strings) and
     * must not crash the client. */
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status",
               "{\"return\": {\"status\": \"object-id\"}, \"id\": {\"x\": 1}}\n"
               "{\"return\": {\"status\": \"array-id\"}, \"id\": [\"@ID@\"]}\n"
               "{\"return\": {\"status\": \"number-id\"}, \"id\": 1}\n"
               "{\"return\": {\"status\": \"ours\"}, \"id\": \"@ID@\"}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(node_string_member(ret, "status"), ==, "ours");
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_execute_idless_error(void)
{
    /* QEMU answers a line it cannot parse with an error without an id;
     * with one command in flight, the client takes it as the answer. */
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status",
               "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_null(ret);
    g_assert_error(error, MT_ERROR, MT_ERROR_QMP);
    assert_contains(error->message, "JSON parse error");
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_execute_error_reply(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("device_del",
               "{\"error\": {\"class\": \"DeviceNotFound\", "
               "\"desc\": \"Device 'nope' not found\"}, \"id\": \"@ID@\"}\n"),
        EXPECT("query-status", "{\"return\": {\"status\": \"paused\"}, \"id\": \"@ID@\"}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    json_object_set_string_member(args, "id", "nope");
    ret = qmp_execute(qmp, "device_del", args, deadline_in_ms(OK_MS), &error);
    g_assert_null(ret);
    g_assert_error(error, MT_ERROR, MT_ERROR_QMP);
    assert_contains(error->message, "device_del");
    assert_contains(error->message, "DeviceNotFound");
    assert_contains(error->message, "Device 'nope' not found");
    g_clear_error(&error);

    /* The connection is still usable afterwards. */
    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(node_string_member(ret, "status"), ==, "paused");
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_execute_simple_error(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("stop", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, "
                       "\"id\": \"@ID@\"}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    g_assert_false(qmp_execute_simple(qmp, "stop", NULL, deadline_in_ms(OK_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_QMP);
    assert_contains(error->message, "stop");
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_execute_malformed_replies(void)
{
    /* Replies with neither "return" nor an "error" object, or with an
     * error whose members have the wrong type. */
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("cont", "{\"id\": \"@ID@\"}\n"),
        EXPECT("stop", "{\"error\": \"boom\", \"id\": \"@ID@\"}\n"),
        EXPECT("quit", "{\"error\": {\"class\": 7, \"desc\": {\"x\": 1}}, \"id\": \"@ID@\"}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    g_assert_false(qmp_execute_simple(qmp, "cont", NULL, deadline_in_ms(OK_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
    assert_contains(error->message, "cont");
    g_clear_error(&error);
    g_assert_false(qmp_execute_simple(qmp, "stop", NULL, deadline_in_ms(OK_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
    assert_contains(error->message, "stop");
    g_clear_error(&error);
    g_assert_false(qmp_execute_simple(qmp, "quit", NULL, deadline_in_ms(OK_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_QMP);
    assert_contains(error->message, "quit");
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_execute_split_reply(void)
{
    /* Greeting and replies trickle in one byte per write. */
    static const Step script[] = {
        SEND_BYTES(GREETING_7_2_22),
        EXPECT("qmp_capabilities", NULL),
        SEND_BYTES("{\"return\": {}, \"id\": \"mt-1\"}\n"),
        EXPECT("query-status", NULL),
        SEND_BYTES(SIMPLE_EV("STOP")),
        SEND_BYTES("{\"return\": {\"status\": \"split-across-writes\"}, \"id\": \"mt-2\"}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(JsonObject) ev = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    g_assert_cmpstr(qmp_version(qmp), ==, "7.2.22");
    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(node_string_member(ret, "status"), ==, "split-across-writes");
    ev = qmp_wait_event(qmp, "STOP", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_name(ev), ==, "STOP");
    qmp_free(qmp);
    fake_server_join(server);
    g_assert_cmpuint(server->received->len, ==, 2);
    /* The server hardcodes the ids; make sure they are what the client sent. */
    assert_contains(server->received->pdata[0], "\"mt-1\"");
    assert_contains(server->received->pdata[1], "\"mt-2\"");
    fake_server_free(server);
}

static void test_execute_coalesced(void)
{
    /* Several messages in one write, CRLF line ends and blank lines. */
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status",
               "\r\n" SIMPLE_EV("STOP") "\n"
               "{\"return\": {\"status\": \"ok\"}, \"id\": \"@ID@\"}\r\n"
               SIMPLE_EV("RESUME")),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(JsonObject) ev1 = NULL;
    g_autoptr(JsonObject) ev2 = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(node_string_member(ret, "status"), ==, "ok");
    ev1 = qmp_wait_event(qmp, "RESUME", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_name(ev1), ==, "RESUME");
    ev2 = qmp_wait_event(qmp, "STOP", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_name(ev2), ==, "STOP");
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_execute_with_fd(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT_FD("getfd", REPLY_EMPTY, "written-through-scm-rights"),
        EXPECT("query-status", "{\"return\": {\"status\": \"running\"}, \"id\": \"@ID@\"}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    struct pollfd pfd;
    char buf[64] = "";
    gssize n;
    int p[2];

    g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
    json_object_set_string_member(args, "fdname", "migfd");
    ret = qmp_execute_with_fd(qmp, "getfd", args, p[1], deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_nonnull(ret);
    /* The client passes a duplicate; our end is still ours to close. */
    g_assert_cmpint(close(p[1]), ==, 0);

    pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
    g_assert_cmpint(poll(&pfd, 1, OK_MS), ==, 1);
    n = read(p[0], buf, sizeof(buf) - 1);
    g_assert_cmpint(n, ==, (gssize)strlen("written-through-scm-rights"));
    g_assert_cmpstr(buf, ==, "written-through-scm-rights");

    /* A plain command afterwards carries no fd (the server checks). */
    g_clear_pointer(&ret, json_node_unref);
    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    qmp_free(qmp);
    fake_server_join(server);
    assert_contains(server->received->pdata[1], "\"fdname\":\"migfd\"");
    fake_server_free(server);
    /* Every copy of the write end is closed now: EOF. */
    g_assert_cmpint(read(p[0], buf, sizeof(buf)), ==, 0);
    close(p[0]);
}

/* ---- events -------------------------------------------------------------- */

static void test_events_queued_in_order(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("migrate",
               MIGRATION_EV("setup") SIMPLE_EV("STOP") MIGRATION_EV("active")
               REPLY_EMPTY),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    JsonObject *ev;
    gint64 t0;

    ret = qmp_execute(qmp, "migrate", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_nonnull(ret);

    ev = qmp_wait_event(qmp, "MIGRATION", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_status(ev), ==, "setup");
    json_object_unref(ev);
    ev = qmp_wait_event(qmp, "MIGRATION", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_status(ev), ==, "active");
    json_object_unref(ev);
    ev = qmp_wait_event(qmp, "STOP", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_name(ev), ==, "STOP");
    json_object_unref(ev);

    /* Each was handed out once: the queue is empty now. */
    t0 = g_get_monotonic_time();
    ev = qmp_wait_event(qmp, "MIGRATION", NULL, NULL, deadline_in_ms(SHORT_MS), &error);
    g_assert_null(ev);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    assert_timed_out_on_time(elapsed_ms_since(t0), SHORT_MS);
    assert_contains(error->message, "MIGRATION");
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_events_match_status(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("migrate", MIGRATION_EV("setup") REPLY_EMPTY),
        SLEEP(50),
        SEND(MIGRATION_EV("active")),
        SEND("{\"event\": \"MIGRATION\"}\n"),           /* no data at all */
        SEND("{\"event\": \"MIGRATION\", \"data\": [1]}\n"),
        SEND("{\"event\": \"MIGRATION\", \"data\": {\"status\": {}}}\n"),
        SEND(SIMPLE_EV("STOP")),
        SEND(MIGRATION_EV("completed")),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    JsonObject *ev;

    ret = qmp_execute(qmp, "migrate", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);

    ev = qmp_wait_event(qmp, "MIGRATION", qmp_match_status, (gpointer)"completed",
                        deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_nonnull(ev);
    g_assert_cmpstr(event_status(ev), ==, "completed");
    json_object_unref(ev);

    /* The skipped ones stay queued, in order; the matched one is gone. */
    ev = qmp_wait_event(qmp, "MIGRATION", qmp_match_status, (gpointer)"active",
                        deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_status(ev), ==, "active");
    json_object_unref(ev);
    ev = qmp_wait_event(qmp, "MIGRATION", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_status(ev), ==, "setup");
    json_object_unref(ev);
    ev = qmp_wait_event(qmp, "MIGRATION", qmp_match_status, (gpointer)"completed",
                        deadline_in_ms(SHORT_MS), &error);
    g_assert_null(ev);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    g_clear_error(&error);
    ev = qmp_wait_event(qmp, "STOP", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_name(ev), ==, "STOP");
    json_object_unref(ev);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_events_after_wait_started(void)
{
    static const Step script[] = {
        HANDSHAKE,
        SLEEP(100),
        SEND(SIMPLE_EV("SHUTDOWN")),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ev = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    gint64 t0 = g_get_monotonic_time();
    gint64 elapsed;

    ev = qmp_wait_event(qmp, "SHUTDOWN", NULL, NULL, deadline_in_ms(OK_MS), &error);
    elapsed = elapsed_ms_since(t0);
    g_assert_no_error(error);
    g_assert_cmpstr(event_name(ev), ==, "SHUTDOWN");
    /* It really was waited for (the server held it back 100 ms). */
    g_assert_cmpint(elapsed, >=, 50);
    g_assert_cmpint(elapsed, <, OK_MS);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_events_discard(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("stop", SIMPLE_EV("STOP") SIMPLE_EV("RESUME") SIMPLE_EV("STOP")
                       SIMPLE_EV("SHUTDOWN") REPLY_EMPTY),
        END,
    };
    g_autoptr(GError) error = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    JsonObject *ev;

    g_assert_true(qmp_execute_simple(qmp, "stop", NULL, deadline_in_ms(OK_MS), &error));
    g_assert_no_error(error);
    qmp_discard_events(qmp, "STOP");
    ev = qmp_wait_event(qmp, "STOP", NULL, NULL, deadline_in_ms(SHORT_MS), &error);
    g_assert_null(ev);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    g_clear_error(&error);
    ev = qmp_wait_event(qmp, "RESUME", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_name(ev), ==, "RESUME");
    json_object_unref(ev);
    qmp_discard_events(qmp, NULL);
    ev = qmp_wait_event(qmp, "SHUTDOWN", NULL, NULL, deadline_in_ms(SHORT_MS), &error);
    g_assert_null(ev);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_events_reply_while_waiting(void)
{
    static const Step script[] = {
        HANDSHAKE,
        SEND("{\"return\": {}, \"id\": \"unsolicited\"}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    JsonObject *ev;

    ev = qmp_wait_event(qmp, "STOP", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_null(ev);
    g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
    assert_contains(error->message, "STOP");
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_events_wrong_name_type(void)
{
    /* An "event" member that is not a string matches no name. */
    static const Step script[] = {
        HANDSHAKE,
        SEND("{\"event\": {\"name\": \"STOP\"}}\n{\"event\": 5}\n" SIMPLE_EV("STOP")),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ev = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    ev = qmp_wait_event(qmp, "STOP", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_true(JSON_NODE_HOLDS_VALUE(json_object_get_member(ev, "event")));
    g_assert_cmpstr(event_name(ev), ==, "STOP");
    qmp_discard_events(qmp, "STOP");
    qmp_discard_events(qmp, NULL);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_pump(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status", REPLY_EMPTY SIMPLE_EV("STOP")),
        EXPECT("cont", REPLY_EMPTY "{\"return\": {}, \"id\": \"stray\"}\n"),
        EXPECT("quit", REPLY_EMPTY SIMPLE_EV("SHUTDOWN")),
        HANGUP,
    };
    g_autoptr(GError) error = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    JsonObject *ev;

    /* Nothing pending: returns at once. */
    g_assert_true(qmp_pump(qmp, &error));
    g_assert_no_error(error);

    /* The event behind the reply is queued by the pump. */
    g_assert_true(qmp_execute_simple(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error));
    g_assert_no_error(error);
    g_assert_true(qmp_pump(qmp, &error));
    g_assert_no_error(error);
    ev = qmp_wait_event(qmp, "STOP", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_name(ev), ==, "STOP");
    json_object_unref(ev);

    /* A reply nobody asked for. */
    g_assert_true(qmp_execute_simple(qmp, "cont", NULL, deadline_in_ms(OK_MS), &error));
    g_assert_no_error(error);
    g_assert_false(qmp_pump(qmp, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
    g_clear_error(&error);

    /* Hang-up: the event before it is kept, the pump reports it. */
    g_assert_true(qmp_execute_simple(qmp, "quit", NULL, deadline_in_ms(OK_MS), &error));
    g_assert_no_error(error);
    fake_server_join(server);           /* the server has hung up */
    g_assert_false(qmp_pump(qmp, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_DISCONNECTED);
    g_clear_error(&error);
    ev = qmp_wait_event(qmp, "SHUTDOWN", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_name(ev), ==, "SHUTDOWN");
    json_object_unref(ev);
    qmp_free(qmp);
    fake_server_free(server);
}

/* ---- malformed input ------------------------------------------------------ */

static void test_protocol_garbage(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status", "this is not json at all\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_null(ret);
    g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
    assert_contains(error->message, "this is not json");
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_protocol_binary_garbage(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status", "\x01\xff\xfe{{{\x7f\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);

    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_null(ret);
    g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_protocol_array(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status", "[{\"return\": {}, \"id\": \"@ID@\"}]\n"),
        END,
    };
    static const Step script_scalar[] = {
        HANDSHAKE,
        EXPECT("query-status", "\"@ID@\"\n"),
        END,
    };
    const Step *scripts[] = { script, script_scalar };

    for (guint i = 0; i < G_N_ELEMENTS(scripts); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = NULL;
        FakeServer *server;
        QmpClient *qmp = connect_pair(scripts[i], &server);

        ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
        g_assert_null(ret);
        g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
        assert_contains(error->message, "not a JSON object");
        qmp_free(qmp);
        fake_server_join(server);
        fake_server_free(server);
    }
}

static void test_protocol_array_greeting(void)
{
    static const Step script[] = {
        SEND("[\"QMP\"]\n"),
        END,
    };
    static const Step script_garbage[] = {
        SEND("QEMU says hello\n"),
        END,
    };
    g_autofree char *msg = handshake_fails(script, OK_MS, MT_ERROR_PROTOCOL, NULL);
    g_autofree char *msg2 = handshake_fails(script_garbage, OK_MS, MT_ERROR_PROTOCOL, NULL);

    assert_contains(msg, "not a JSON object");
    assert_contains(msg2, "QEMU says hello");
}

/* Run each of @n commands "query-status" against @replies[i] and expect
 * MT_ERROR_PROTOCOL with @needle in the message, or (needle NULL) success. */
static void expect_replies(const char *const *replies, const char *const *needles,
                           guint n)
{
    g_autofree Step *script = g_new0(Step, n + 3);
    FakeServer *server;
    QmpClient *qmp;

    script[0] = (Step)SEND(GREETING_7_2_22);
    script[1] = (Step)EXPECT("qmp_capabilities", REPLY_EMPTY);
    for (guint i = 0; i < n; i++)
        script[i + 2] = (Step)EXPECT("query-status", replies[i]);
    script[n + 2] = (Step)END;
    qmp = connect_pair(script, &server);
    for (guint i = 0; i < n; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ret = qmp_execute(qmp, "query-status", NULL,
                                              deadline_in_ms(OK_MS), &error);
        if (!needles[i]) {
            g_assert_no_error(error);
            g_assert_nonnull(ret);
            continue;
        }
        g_assert_null(ret);
        g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
        assert_contains(error->message, needles[i]);
    }
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_protocol_deep_nesting(void)
{
    /* json-glib recurses once per nesting level: a QMP line of some 75000
     * '[' used to overflow the stack and kill migtest (found while writing
     * fuzz/fuzz-qmp).  QEMU's own limit is 1024 levels; so is ours. */
    g_autoptr(GString) deep = g_string_new("{\"return\": ");
    g_autoptr(GString) at_limit = g_string_new("{\"return\": ");
    g_autoptr(GString) over = g_string_new("{\"return\": ");
    const char *replies[3], *needles[3] = { "nests deeper than 1024", NULL,
                                            "nests deeper than 1024" };

    for (guint i = 0; i < 1000 * 1000; i++)
        g_string_append_c(deep, '[');
    g_string_append_c(deep, '\n');
    for (guint i = 0; i < 1023; i++)        /* with the object: 1024 deep */
        g_string_append_c(at_limit, '[');
    for (guint i = 0; i < 1023; i++)
        g_string_append_c(at_limit, ']');
    g_string_append(at_limit, ", \"id\": \"@ID@\"}\n");
    for (guint i = 0; i < 1024; i++)
        g_string_append_c(over, '[');
    for (guint i = 0; i < 1024; i++)
        g_string_append_c(over, ']');
    g_string_append(over, ", \"id\": \"@ID@\"}\n");
    replies[0] = deep->str;
    replies[1] = at_limit->str;
    replies[2] = over->str;
    expect_replies(replies, needles, 3);
}

static void test_protocol_trailing_data(void)
{
    /* json-glib takes several values on a line, keeps the first and leaks
     * the rest (found by fuzz/fuzz-qmp under LeakSanitizer): refuse them. */
    static const char *const replies[] = {
        "{\"return\": {}, \"id\": \"@ID@\"} {\"return\": {}, \"id\": \"@ID@\"}\n",
        "{\"return\": {}, \"id\": \"@ID@\"}}\n",
        "{\"return\": {}, \"id\": \"@ID@\"}5\n",
        "5 {\"return\": {}, \"id\": \"@ID@\"}\n",
        "{\"return\": {}, \"id\": \"@ID@\"} \t \r\n",
    };
    static const char *const needles[] = {
        "data after its JSON object", "data after its JSON object",
        "data after its JSON object", "not a JSON object", NULL,
    };

    expect_replies(replies, needles, G_N_ELEMENTS(replies));
}

static void test_protocol_not_strict(void)
{
    /* json-glib also takes 'single-quoted' strings and comments, where a
     * '"' would hide brackets from the nesting check: refuse both.  The
     * same characters inside strings are data. */
    static const char *const replies[] = {
        "{'return': {}, 'id': '@ID@'}\n",
        "{\"return\": {} /* \" */, \"id\": \"@ID@\"}\n",
        "{\"return\": {\"desc\": \"' / /* [[[ {{ \\\" ]] \\\\\"}, \"id\": \"@ID@\"}\n",
    };
    static const char *const needles[] = {
        "not strict JSON", "not strict JSON", NULL,
    };

    expect_replies(replies, needles, G_N_ELEMENTS(replies));
}

/* ---- hang-ups and silence ------------------------------------------------- */

static void test_disconnect_before_greeting(void)
{
    static const Step script[] = { HANGUP };
    gint64 elapsed;
    g_autofree char *msg = handshake_fails(script, OK_MS, MT_ERROR_DISCONNECTED, &elapsed);

    assert_contains(msg, "greeting");
    g_assert_cmpint(elapsed, <, OK_MS / 2);
}

static void test_disconnect_mid_greeting(void)
{
    static const Step script[] = {
        SEND("{\"QMP\": {\"version\": "),
        HANGUP,
    };
    gint64 elapsed;
    g_autofree char *msg = handshake_fails(script, OK_MS, MT_ERROR_DISCONNECTED, &elapsed);

    assert_contains(msg, "greeting");
    g_assert_cmpint(elapsed, <, OK_MS / 2);
}

static void test_disconnect_before_reply(void)
{
    static const Step script[] = {
        SEND(GREETING_7_2_22),
        EXPECT("qmp_capabilities", NULL),
        HANGUP,
    };
    gint64 elapsed;
    g_autofree char *msg = handshake_fails(script, OK_MS, MT_ERROR_DISCONNECTED, &elapsed);

    assert_contains(msg, "qmp_capabilities");
    g_assert_cmpint(elapsed, <, OK_MS / 2);
}

static void test_disconnect_during_execute(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("migrate", MIGRATION_EV("setup") "{\"return\": {}, \"id\""),
        HANGUP,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    gint64 t0 = g_get_monotonic_time();
    JsonObject *ev;

    ret = qmp_execute(qmp, "migrate", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_null(ret);
    g_assert_error(error, MT_ERROR, MT_ERROR_DISCONNECTED);
    assert_contains(error->message, "migrate");
    g_assert_cmpint(elapsed_ms_since(t0), <, OK_MS / 2);
    g_clear_error(&error);
    fake_server_join(server);
    /* The event that came before the hang-up was still queued. */
    ev = qmp_wait_event(qmp, "MIGRATION", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_status(ev), ==, "setup");
    json_object_unref(ev);
    /* And every later call fails fast too. */
    t0 = g_get_monotonic_time();
    g_assert_false(qmp_execute_simple(qmp, "cont", NULL, deadline_in_ms(OK_MS), &error));
    g_assert_true(g_error_matches(error, MT_ERROR, MT_ERROR_DISCONNECTED));
    g_assert_cmpint(elapsed_ms_since(t0), <, OK_MS / 2);
    qmp_free(qmp);
    fake_server_free(server);
}

static void test_timeout_greeting(void)
{
    static const Step script[] = { SILENT };
    gint64 elapsed;
    g_autofree char *msg = handshake_fails(script, SHORT_MS, MT_ERROR_TIMEOUT, &elapsed);

    assert_contains(msg, "greeting");
    assert_timed_out_on_time(elapsed, SHORT_MS);
}

static void test_timeout_reply(void)
{
    static const Step script[] = {
        SEND(GREETING_7_2_22),
        EXPECT("qmp_capabilities", NULL),
        SILENT,
    };
    gint64 elapsed;
    g_autofree char *msg = handshake_fails(script, SHORT_MS, MT_ERROR_TIMEOUT, &elapsed);

    assert_contains(msg, "qmp_capabilities");
    assert_timed_out_on_time(elapsed, SHORT_MS);
}

static void test_timeout_partial_reply(void)
{
    /* Half a line and then silence: the deadline still holds. */
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status", "{\"return\": {\"status\": \"runn"),
        SILENT,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    gint64 t0 = g_get_monotonic_time();

    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(SHORT_MS), &error);
    g_assert_null(ret);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    assert_contains(error->message, "query-status");
    assert_timed_out_on_time(elapsed_ms_since(t0), SHORT_MS);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_timeout_event(void)
{
    static const Step script[] = {
        HANDSHAKE,
        SEND(SIMPLE_EV("RESUME")),
        SILENT,
    };
    g_autoptr(GError) error = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    gint64 t0 = g_get_monotonic_time();
    JsonObject *ev;

    ev = qmp_wait_event(qmp, "SHUTDOWN", NULL, NULL, deadline_in_ms(SHORT_MS), &error);
    g_assert_null(ev);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    assert_contains(error->message, "SHUTDOWN");
    assert_timed_out_on_time(elapsed_ms_since(t0), SHORT_MS);
    /* An already-expired deadline fails at once. */
    g_clear_error(&error);
    t0 = g_get_monotonic_time();
    ev = qmp_wait_event(qmp, "SHUTDOWN", NULL, NULL, deadline_in_ms(-1000), &error);
    g_assert_null(ev);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    g_assert_cmpint(elapsed_ms_since(t0), <, SHORT_MS);
    g_clear_error(&error);
    /* The RESUME that arrived meanwhile was queued, not lost. */
    ev = qmp_wait_event(qmp, "RESUME", NULL, NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(event_name(ev), ==, "RESUME");
    json_object_unref(ev);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

/* ---- qmp_connect ------------------------------------------------------------ */

static void test_connect_never_appears(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-qmp-XXXXXX", &error);
    g_autofree char *path = NULL;
    QmpClient *qmp;
    gint64 t0;

    g_assert_no_error(error);
    path = g_build_filename(dir, "never.sock", NULL);
    t0 = g_get_monotonic_time();
    qmp = qmp_connect(path, deadline_in_ms(SHORT_MS), &error);
    g_assert_null(qmp);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    assert_contains(error->message, path);
    assert_timed_out_on_time(elapsed_ms_since(t0), SHORT_MS);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_connect_appears_later(void)
{
    static const Step script[] = { HANDSHAKE, END };
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-qmp-XXXXXX", &error);
    g_autofree char *path = NULL;
    FakeServer *server;
    QmpClient *qmp;
    gint64 t0;

    g_assert_no_error(error);
    path = g_build_filename(dir, "late.sock", NULL);
    t0 = g_get_monotonic_time();
    server = fake_server_start_listen(script, path, 150);
    qmp = qmp_connect(path, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_nonnull(qmp);
    g_assert_cmpint(elapsed_ms_since(t0), >=, 150);
    g_assert_cmpint(elapsed_ms_since(t0), <, OK_MS);
    g_assert_cmpint(qmp_version_code(qmp), ==, 70222);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* A process that was to create the socket exits first (its pidfd, here a
 * pipe made readable): the connect ends at once, long before the deadline. */
static void test_connect_watched_exit(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-qmp-XXXXXX", &error);
    g_autofree char *path = NULL;
    QmpClient *qmp;
    int p[2];
    gint64 t0;

    g_assert_no_error(error);
    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_cmpint(write(p[1], "x", 1), ==, 1);
    path = g_build_filename(dir, "never.sock", NULL);
    t0 = g_get_monotonic_time();
    qmp = qmp_connect_watching(path, p[0], deadline_in_ms(OK_MS), &error);
    g_assert_null(qmp);
    g_assert_error(error, MT_ERROR, MT_ERROR_PEER_DIED);
    assert_contains(error->message, "exited before creating it");
    g_assert_cmpint(elapsed_ms_since(t0), <, OK_MS / 4);
    close(p[0]);
    close(p[1]);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* A silent QEMU whose peer exits: a watched fd ends the wait for a reply
 * with MT_ERROR_PEER_DIED naming the peer; unwatched, the same wait runs
 * to its deadline. */
static void test_execute_watched_peer_exits(void)
{
    static const Step script[] = { HANDSHAKE, EXPECT("query-status", NULL),
                                   EXPECT("query-status", NULL), SILENT };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    int p[2];
    gint64 t0;

    g_assert_cmpint(pipe(p), ==, 0);
    qmp_watch(qmp, p[0], "dst QEMU (pid 4242)");
    g_assert_cmpint(write(p[1], "x", 1), ==, 1);
    t0 = g_get_monotonic_time();
    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_null(ret);
    g_assert_error(error, MT_ERROR, MT_ERROR_PEER_DIED);
    assert_contains(error->message, "dst QEMU (pid 4242) exited");
    g_assert_cmpint(elapsed_ms_since(t0), <, OK_MS / 4);
    g_clear_error(&error);
    qmp_unwatch(qmp, p[0]);
    t0 = g_get_monotonic_time();
    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(SHORT_MS), &error);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    assert_timed_out_on_time(elapsed_ms_since(t0), SHORT_MS);
    close(p[0]);
    close(p[1]);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
}

static void test_connect_path_length(void)
{
    static const Step script[] = { HANDSHAKE, END };
    struct sockaddr_un sa;
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-qmp-XXXXXX", &error);
    g_autofree char *pad = NULL;
    g_autofree char *longest = NULL;
    g_autofree char *too_long = NULL;
    FakeServer *server;
    QmpClient *qmp;
    gint64 t0;
    gsize room;

    g_assert_no_error(error);
    /* sun_path holds 108 bytes including the NUL: 107 fit, 108 do not. */
    g_assert_cmpuint(sizeof(sa.sun_path), ==, 108);
    if (strlen(dir) + 3 > sizeof(sa.sun_path) - 1) {
        g_test_skip("temporary directory path too long");
        g_rmdir(dir);
        return;
    }
    room = sizeof(sa.sun_path) - 1 - strlen(dir) - 1;
    pad = g_strnfill(room, 's');
    longest = g_build_filename(dir, pad, NULL);
    g_assert_cmpuint(strlen(longest), ==, 107);
    too_long = g_strconcat(longest, "x", NULL);

    t0 = g_get_monotonic_time();
    qmp = qmp_connect(too_long, deadline_in_ms(OK_MS), &error);
    g_assert_null(qmp);
    g_assert_error(error, MT_ERROR, MT_ERROR_ENV);
    assert_contains(error->message, "107");
    g_assert_cmpint(elapsed_ms_since(t0), <, SHORT_MS);
    g_clear_error(&error);

    server = fake_server_start_listen(script, longest, 0);
    qmp = qmp_connect(longest, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    g_assert_nonnull(qmp);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* ---- logging ---------------------------------------------------------------- */

static void test_log(void)
{
    static const Step script[] = {
        HANDSHAKE,
        EXPECT("query-status", "{\"return\": {\"status\": \"logged\"}, \"id\": \"@ID@\"}\n"),
        END,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = NULL;
    FakeServer *server;
    QmpClient *qmp = connect_pair(script, &server);
    char *buf = NULL;
    size_t size = 0;
    FILE *log = open_memstream(&buf, &size);
    g_auto(GStrv) lines = NULL;

    g_assert_nonnull(log);
    qmp_set_log(qmp, log, "src");
    ret = qmp_execute(qmp, "query-status", NULL, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    qmp_set_log(qmp, NULL, NULL);
    qmp_free(qmp);
    fake_server_join(server);
    fake_server_free(server);
    g_assert_cmpint(fclose(log), ==, 0);

    lines = g_strsplit(buf, "\n", -1);
    free(buf);
    /* One line out, one line in, and the trailing empty split. */
    g_assert_cmpuint(g_strv_length(lines), ==, 3);
    assert_contains(lines[0], " src > {");
    assert_contains(lines[0], "\"query-status\"");
    assert_contains(lines[1], " src < {");
    assert_contains(lines[1], "\"logged\"");
    g_assert_cmpstr(lines[2], ==, "");
}

static const struct {
    const char *path;
    GTestFunc func;
} tests[] = {
    { "/qmp/handshake/connect", test_handshake_connect },
    { "/qmp/handshake/version", test_handshake_version },
    { "/qmp/handshake/no-version", test_handshake_no_version },
    { "/qmp/handshake/not-greeting", test_handshake_not_greeting },
    { "/qmp/handshake/capabilities-refused", test_handshake_capabilities_refused },
    { "/qmp/execute/return", test_execute_return },
    { "/qmp/execute/stale-id", test_execute_stale_id },
    { "/qmp/execute/odd-ids", test_execute_odd_ids },
    { "/qmp/execute/idless-error", test_execute_idless_error },
    { "/qmp/execute/error-reply", test_execute_error_reply },
    { "/qmp/execute/simple-error", test_execute_simple_error },
    { "/qmp/execute/malformed-replies", test_execute_malformed_replies },
    { "/qmp/execute/split-reply", test_execute_split_reply },
    { "/qmp/execute/coalesced", test_execute_coalesced },
    { "/qmp/execute/with-fd", test_execute_with_fd },
    { "/qmp/events/queued-in-order", test_events_queued_in_order },
    { "/qmp/events/match-status", test_events_match_status },
    { "/qmp/events/after-wait-started", test_events_after_wait_started },
    { "/qmp/events/discard", test_events_discard },
    { "/qmp/events/reply-while-waiting", test_events_reply_while_waiting },
    { "/qmp/events/wrong-name-type", test_events_wrong_name_type },
    { "/qmp/events/pump", test_pump },
    { "/qmp/protocol/garbage", test_protocol_garbage },
    { "/qmp/protocol/binary-garbage", test_protocol_binary_garbage },
    { "/qmp/protocol/array", test_protocol_array },
    { "/qmp/protocol/array-greeting", test_protocol_array_greeting },
    { "/qmp/protocol/deep-nesting", test_protocol_deep_nesting },
    { "/qmp/protocol/trailing-data", test_protocol_trailing_data },
    { "/qmp/protocol/not-strict", test_protocol_not_strict },
    { "/qmp/disconnect/before-greeting", test_disconnect_before_greeting },
    { "/qmp/disconnect/mid-greeting", test_disconnect_mid_greeting },
    { "/qmp/disconnect/before-reply", test_disconnect_before_reply },
    { "/qmp/disconnect/during-execute", test_disconnect_during_execute },
    { "/qmp/timeout/greeting", test_timeout_greeting },
    { "/qmp/timeout/reply", test_timeout_reply },
    { "/qmp/timeout/partial-reply", test_timeout_partial_reply },
    { "/qmp/timeout/event", test_timeout_event },
    { "/qmp/connect/never-appears", test_connect_never_appears },
    { "/qmp/connect/watched-exit", test_connect_watched_exit },
    { "/qmp/execute/watched-peer-exits", test_execute_watched_peer_exits },
    { "/qmp/connect/appears-later", test_connect_appears_later },
    { "/qmp/connect/path-length", test_connect_path_length },
    { "/qmp/log", test_log },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    watchdog_install();
    for (guint i = 0; i < G_N_ELEMENTS(tests); i++)
        g_test_add_data_func(tests[i].path, &tests[i].func, watchdog_run);
    return g_test_run();
}
