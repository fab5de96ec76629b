/* qmp.c: the QMP client (see qmp.h). */
#include "qmp.h"
#include "unix-socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A QMP line larger than this is garbage, not a reply: query-qmp-schema,
 * the largest legitimate reply, is a few hundred KiB. */
#define QMP_MAX_LINE (16 * 1024 * 1024)
/* Processes a client can watch besides its own peer: the other QEMU of a
 * migration is the only one today. */
#define QMP_MAX_WATCH 4

typedef struct {
    int fd;
    char *what;
} QmpWatch;

struct QmpClient {
    int fd;
    GString *inbuf;
    GQueue events;              /* JsonObject *, oldest first */
    guint next_id;
    FILE *log;                  /* borrowed */
    QmpTap tap;
    gpointer tap_opaque;
    char *tag;
    char *version;
    int version_code;
    QmpWatch watch[QMP_MAX_WATCH];
    guint nwatch;
};

void qmp_free(QmpClient *qmp)
{
    if (!qmp)
        return;
    if (qmp->fd >= 0)
        close(qmp->fd);
    g_string_free(qmp->inbuf, TRUE);
    g_queue_clear_full(&qmp->events, (GDestroyNotify)json_object_unref);
    g_free(qmp->tag);
    g_free(qmp->version);
    for (guint i = 0; i < qmp->nwatch; i++)
        g_free(qmp->watch[i].what);
    g_free(qmp);
}

void qmp_watch(QmpClient *qmp, int fd, const char *what)
{
    if (fd < 0)
        return;
    g_return_if_fail(qmp->nwatch < QMP_MAX_WATCH);
    qmp->watch[qmp->nwatch++] = (QmpWatch){ .fd = fd, .what = g_strdup(what) };
}

void qmp_unwatch(QmpClient *qmp, int fd)
{
    for (guint i = 0; i < qmp->nwatch; i++)
        if (qmp->watch[i].fd == fd) {
            g_free(qmp->watch[i].what);
            qmp->watch[i] = qmp->watch[--qmp->nwatch];
            return;
        }
}

void qmp_set_log(QmpClient *qmp, FILE *log, const char *tag)
{
    qmp->log = log;
    g_free(qmp->tag);
    qmp->tag = g_strdup(tag);
}

void qmp_set_tap(QmpClient *qmp, QmpTap tap, gpointer opaque)
{
    qmp->tap = tap;
    qmp->tap_opaque = opaque;
}

const char *qmp_version(QmpClient *qmp)
{
    return qmp->version;
}

int qmp_version_code(QmpClient *qmp)
{
    return qmp->version_code;
}

static void qmp_log(QmpClient *qmp, const char *dir, const char *text, gsize len)
{
    if (qmp->tap)
        qmp->tap(qmp->tap_opaque, qmp->tag, dir, text, len);
    if (!qmp->log)
        return;
    fprintf(qmp->log, "%.6f %s %s %.*s\n", g_get_monotonic_time() / 1e6,
            qmp->tag ? qmp->tag : "qmp", dir, (int)len, text);
    fflush(qmp->log);
}

/* Wait until @fd is ready for @events or @deadline passes. */
static gboolean qmp_poll(QmpClient *qmp, short events, Deadline deadline,
                         const char *what, GError **error)
{
    for (;;) {
        struct pollfd pfd[1 + QMP_MAX_WATCH] = { { .fd = qmp->fd, .events = events } };
        int n;

        for (guint i = 0; i < qmp->nwatch; i++)
            pfd[1 + i] = (struct pollfd){ .fd = qmp->watch[i].fd, .events = POLLIN };
        n = poll(pfd, 1 + qmp->nwatch, deadline_remaining_ms(deadline));
        /* What the peer said comes first: it may explain the watched exit. */
        if (n > 0 && pfd[0].revents)
            return TRUE;
        for (guint i = 0; n > 0 && i < qmp->nwatch; i++)
            if (pfd[1 + i].revents) {
                g_set_error(error, MT_ERROR, MT_ERROR_PEER_DIED, "%s exited while "
                            "waiting for %s on QMP", qmp->watch[i].what, what);
                return FALSE;
            }
        if (n == 0) {
            g_set_error(error, MT_ERROR, MT_ERROR_TIMEOUT,
                        "timed out waiting for %s on QMP", what);
            return FALSE;
        }
        if (errno != EINTR) {
            g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED,
                        "poll on QMP socket failed: %s", g_strerror(errno));
            return FALSE;
        }
    }
}

/* Read once from the socket into inbuf.  @block: wait up to @deadline. */
static gboolean qmp_fill(QmpClient *qmp, gboolean block, Deadline deadline,
                         const char *what, GError **error)
{
    char buf[65536];
    ssize_t n;

    if (block && !qmp_poll(qmp, POLLIN, deadline, what, error))
        return FALSE;
    n = read(qmp->fd, buf, sizeof(buf));
    if (n > 0) {
        g_string_append_len(qmp->inbuf, buf, n);
        return TRUE;
    }
    if (n == 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED,
                    "QMP connection closed by QEMU while waiting for %s", what);
        return FALSE;
    }
    if (errno == EAGAIN || errno == EINTR)
        return TRUE;
    g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED,
                "cannot read QMP socket while waiting for %s: %s", what,
                g_strerror(errno));
    return FALSE;
}

/* Take one complete line from inbuf, or NULL if there is none yet. */
static char *qmp_take_line(QmpClient *qmp)
{
    char *nl = memchr(qmp->inbuf->str, '\n', qmp->inbuf->len);
    char *line;

    if (!nl)
        return NULL;
    line = g_strndup(qmp->inbuf->str, nl - qmp->inbuf->str);
    g_string_erase(qmp->inbuf, 0, nl - qmp->inbuf->str + 1);
    g_strchomp(line);
    return line;
}

/* QEMU sends strict JSON: one object per line, nested at most 1024 deep
 * (its own parser's limit).  json-glib is laxer, and that hurts: it
 * recurses once per nesting level, so a line of some 75000 '[' overflows
 * an 8 MiB stack; it takes several values on one line, keeps the first and
 * leaks the others; and it takes 'single-quoted' strings and comments, in
 * which a '"' would fool a scan like this one.  So check the line's shape
 * before json-glib sees it: it must open with '{', nest at most
 * QMP_MAX_NESTING deep, have nothing after the object's closing brace, and
 * hold no ' or / outside strings.  Whatever passes, json-glib judges. */
#define QMP_MAX_NESTING 1024

static gboolean qmp_check_shape(const char *line, GError **error)
{
    const char *p = line + strspn(line, " \t\r");
    const char *why = NULL;
    gboolean in_string = FALSE;
    int depth = 0;

    if (*p != '{') {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "QMP line is not a JSON object: '%.80s'", line);
        return FALSE;
    }
    for (; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_string = FALSE;
        } else if (*p == '"') {
            in_string = TRUE;
        } else if (*p == '{' || *p == '[') {
            if (++depth > QMP_MAX_NESTING) {
                why = "nests deeper than " G_STRINGIFY(QMP_MAX_NESTING) " levels";
                break;
            }
        } else if (*p == '}' || *p == ']') {
            if (--depth == 0) {
                if (p[1 + strspn(p + 1, " \t\r")])
                    why = "has data after its JSON object";
                break;
            }
        } else if (*p == '\'' || *p == '/') {
            why = "is not strict JSON (a quote or comment outside a string)";
            break;
        }
    }
    if (why) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "QMP line %s: '%.80s'",
                    why, line);
        return FALSE;
    }
    return TRUE;                /* unterminated: json-glib says what is wrong */
}

static JsonObject *qmp_parse(const char *line, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;
    JsonNode *root;

    if (!qmp_check_shape(line, error))
        return NULL;
    if (!json_parser_load_from_data(parser, line, -1, &local)) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "malformed QMP line '%.80s': %s", line, local->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "QMP line is not a JSON object: '%.80s'", line);
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

/* Read the next message, event or reply.  With @block FALSE, returns
 * NULL without error when no complete message has arrived. */
static JsonObject *qmp_read_message(QmpClient *qmp, gboolean block,
                                    Deadline deadline, const char *what,
                                    GError **error)
{
    for (;;) {
        g_autofree char *line = qmp_take_line(qmp);

        if (!line) {
            if (qmp->inbuf->len > QMP_MAX_LINE) {
                g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                            "QMP line longer than %d bytes", QMP_MAX_LINE);
                return NULL;
            }
            if (!block) {
                struct pollfd pfd = { .fd = qmp->fd, .events = POLLIN };
                if (poll(&pfd, 1, 0) <= 0)
                    return NULL;
            }
            if (!qmp_fill(qmp, block, deadline, what, error))
                return NULL;
            continue;
        }
        if (!*line)
            continue;
        qmp_log(qmp, "<", line, strlen(line));
        return qmp_parse(line, error);
    }
}

/* Typed members of a peer's message.  json-glib's own getters treat a
 * member of the wrong type as a programming error (a g_critical, fatal
 * under G_DEBUG=fatal-criticals and in GTest); for us it is just a
 * malformed message: treat it as absent. */
JsonObject *qmp_get_object(JsonObject *obj, const char *name)
{
    JsonNode *n = obj ? json_object_get_member(obj, name) : NULL;

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

const char *qmp_get_string(JsonObject *obj, const char *name)
{
    JsonNode *n = obj ? json_object_get_member(obj, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
           ? json_node_get_string(n) : NULL;
}

gint64 qmp_get_int(JsonObject *obj, const char *name)
{
    JsonNode *n = obj ? json_object_get_member(obj, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : 0;
}

static gboolean qmp_is_event(JsonObject *msg)
{
    return json_object_has_member(msg, "event");
}

/* Read the next message that is not an event; events go to the queue. */
static JsonObject *qmp_next_message(QmpClient *qmp, gboolean block,
                                    Deadline deadline, const char *what,
                                    GError **error)
{
    for (;;) {
        JsonObject *msg = qmp_read_message(qmp, block, deadline, what, error);

        if (!msg || !qmp_is_event(msg))
            return msg;
        g_queue_push_tail(&qmp->events, msg);
    }
}

gboolean qmp_pump(QmpClient *qmp, GError **error)
{
    for (;;) {
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonObject) msg = qmp_next_message(qmp, FALSE, 0, "events",
                                                     &local);
        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (!msg)
            return TRUE;
        /* A reply nobody asked for: only possible from a broken peer. */
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "unexpected QMP reply outside a command");
        return FALSE;
    }
}

static gboolean qmp_send(QmpClient *qmp, const char *text, int fd,
                         Deadline deadline, GError **error)
{
    gsize len = strlen(text), done = 0;

    qmp_log(qmp, ">", text, len - (len && text[len - 1] == '\n'));
    while (done < len) {
        struct iovec iov = { .iov_base = (char *)text + done, .iov_len = len - done };
        union { struct cmsghdr hdr; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (fd >= 0 && done == 0) {
            memset(&ctl, 0, sizeof(ctl));
            msg.msg_control = ctl.buf;
            msg.msg_controllen = sizeof(ctl.buf);
            CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
            CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
            CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &fd, sizeof(int));
        }
        n = sendmsg(qmp->fd, &msg, MSG_NOSIGNAL);
        if (n > 0) {
            done += n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!qmp_poll(qmp, POLLOUT, deadline, "room to send a command", error))
                return FALSE;
            continue;
        }
        g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED,
                    "cannot send to QMP socket: %s", g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

static char *qmp_encode(const char *command, JsonObject *args, const char *id)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, command);
    if (args) {
        JsonNode *n = json_node_new(JSON_NODE_OBJECT);
        json_node_set_object(n, args);
        json_builder_set_member_name(b, "arguments");
        json_builder_add_value(b, n);
    }
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    text = json_generator_to_data(gen, NULL);
    return g_strconcat(text, "\n", NULL);
}

/* Turn a reply into the "return" node or a GError naming @command. */
static JsonNode *qmp_reply_result(JsonObject *reply, const char *command,
                                  GError **error)
{
    if (json_object_has_member(reply, "return"))
        return json_node_copy(json_object_get_member(reply, "return"));
    if (qmp_get_object(reply, "error")) {
        JsonObject *e = qmp_get_object(reply, "error");
        const char *cls = qmp_get_string(e, "class");
        const char *desc = qmp_get_string(e, "desc");

        g_set_error(error, MT_ERROR, MT_ERROR_QMP, "QMP '%s' failed: %s: %s",
                    command, cls ? cls : "?", desc ? desc : "?");
        return NULL;
    }
    g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                "QMP reply to '%s' has neither return nor error", command);
    return NULL;
}

JsonNode *qmp_execute_with_fd(QmpClient *qmp, const char *command,
                              JsonObject *args, int fd, Deadline deadline,
                              GError **error)
{
    g_autofree char *id = g_strdup_printf("mt-%u", ++qmp->next_id);
    g_autofree char *text = qmp_encode(command, args, id);
    g_autofree char *what = g_strdup_printf("the reply to '%s'", command);

    if (!qmp_send(qmp, text, fd, deadline, error))
        return NULL;
    for (;;) {
        g_autoptr(JsonObject) reply = qmp_next_message(qmp, TRUE, deadline,
                                                       what, error);
        if (!reply)
            return NULL;
        /* QEMU answers a line it could not parse with an id-less error;
         * since we send one command at a time, it is ours.  Any other id
         * (we only send strings) belongs to an earlier, abandoned command. */
        if (!json_object_has_member(reply, "id") ||
            g_strcmp0(qmp_get_string(reply, "id"), id) == 0)
            return qmp_reply_result(reply, command, error);
    }
}

JsonNode *qmp_execute(QmpClient *qmp, const char *command, JsonObject *args,
                      Deadline deadline, GError **error)
{
    return qmp_execute_with_fd(qmp, command, args, -1, deadline, error);
}

gboolean qmp_execute_simple(QmpClient *qmp, const char *command,
                            JsonObject *args, Deadline deadline, GError **error)
{
    JsonNode *ret = qmp_execute(qmp, command, args, deadline, error);

    if (!ret)
        return FALSE;
    json_node_unref(ret);
    return TRUE;
}

/* Find, unlink and return the first queued event that matches. */
static JsonObject *qmp_take_event(QmpClient *qmp, const char *name,
                                  QmpEventMatch match, gpointer opaque)
{
    for (GList *l = qmp->events.head; l; l = l->next) {
        JsonObject *ev = l->data;
        JsonObject *data;

        if (g_strcmp0(qmp_get_string(ev, "event"), name) != 0)
            continue;
        data = qmp_get_object(ev, "data");
        if (match && (!data || !match(data, opaque)))
            continue;
        g_queue_delete_link(&qmp->events, l);
        return ev;
    }
    return NULL;
}

JsonObject *qmp_take_queued_event(QmpClient *qmp, const char *name)
{
    return qmp_take_event(qmp, name, NULL, NULL);
}

JsonObject *qmp_wait_event(QmpClient *qmp, const char *name,
                           QmpEventMatch match, gpointer opaque,
                           Deadline deadline, GError **error)
{
    g_autofree char *what = g_strdup_printf("event %s", name);

    for (;;) {
        JsonObject *ev = qmp_take_event(qmp, name, match, opaque);
        JsonObject *msg;

        if (ev)
            return ev;
        msg = qmp_read_message(qmp, TRUE, deadline, what, error);
        if (!msg)
            return NULL;
        if (!qmp_is_event(msg)) {
            json_object_unref(msg);
            g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                        "unexpected QMP reply while waiting for %s", what);
            return NULL;
        }
        g_queue_push_tail(&qmp->events, msg);
    }
}

void qmp_discard_events(QmpClient *qmp, const char *name)
{
    GList *l = qmp->events.head;

    while (l) {
        GList *next = l->next;
        JsonObject *ev = l->data;

        if (!name || g_strcmp0(qmp_get_string(ev, "event"), name) == 0) {
            json_object_unref(ev);
            g_queue_delete_link(&qmp->events, l);
        }
        l = next;
    }
}

gboolean qmp_match_status(JsonObject *data, gpointer status)
{
    const char *s = qmp_get_string(data, "status");

    return g_strcmp0(s ? s : "", status) == 0;
}

/* Parse the greeting's version and send qmp_capabilities. */
static gboolean qmp_handshake(QmpClient *qmp, Deadline deadline, GError **error)
{
    g_autoptr(JsonObject) greeting = qmp_next_message(qmp, TRUE, deadline,
                                                      "the QMP greeting", error);
    JsonObject *ver;
    gint64 ma, mi, mc;

    if (!greeting)
        return FALSE;
    if (!json_object_has_member(greeting, "QMP") ||
        !JSON_NODE_HOLDS_OBJECT(json_object_get_member(greeting, "QMP"))) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "first QMP message is not a greeting");
        return FALSE;
    }
    ver = qmp_get_object(qmp_get_object(qmp_get_object(greeting, "QMP"), "version"), "qemu");
    ma = qmp_get_int(ver, "major");
    mi = qmp_get_int(ver, "minor");
    mc = qmp_get_int(ver, "micro");
    /* Numbers out of this range are no QEMU's and would overflow the code. */
    if (ver && ma >= 0 && ma <= 9999 && mi >= 0 && mi <= 99 && mc >= 0 && mc <= 99) {
        qmp->version = g_strdup_printf("%d.%d.%d", (int)ma, (int)mi, (int)mc);
        qmp->version_code = (int)(ma * 10000 + mi * 100 + mc);
    } else {
        qmp->version = g_strdup("unknown");
    }
    return qmp_execute_simple(qmp, "qmp_capabilities", NULL, deadline, error);
}

QmpClient *qmp_new_from_fd(int fd, Deadline deadline, GError **error)
{
    g_autoptr(QmpClient) qmp = g_new0(QmpClient, 1);

    qmp->fd = fd;
    qmp->inbuf = g_string_new(NULL);
    g_queue_init(&qmp->events);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (!qmp_handshake(qmp, deadline, error))
        return NULL;
    return g_steal_pointer(&qmp);
}

QmpClient *qmp_connect(const char *path, Deadline deadline, GError **error)
{
    return qmp_connect_watching(path, -1, deadline, error);
}

QmpClient *qmp_connect_watching(const char *path, int pidfd, Deadline deadline,
                                GError **error)
{
    int fd = unix_socket_connect(path, "QMP socket", pidfd, deadline, error);

    if (fd < 0)
        return NULL;
    return qmp_new_from_fd(fd, deadline, error);
}
