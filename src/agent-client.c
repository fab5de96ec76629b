/* agent-client.c: start and talk to `migtest agent` (see agent-client.h). */
#include "agent-client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include "agent-proto.h"
#include "agent.h"
#include "mt-error.h"

/* The agent exits within this once its stdin closes: it only unmaps and
 * removes a few files. */
#define AGENT_EXIT_GRACE_MS 3000

struct AgentClient {
    char *side;
    char *command;              /* as given, for messages */
    char *log_path;
    GPid pid;
    int in_fd;                  /* agent's stdin */
    int out_fd;                 /* agent's stdout, read by the reader thread */
    GThread *reader;
    GAsyncQueue *replies;       /* JsonObject *, or the EOF marker */
    GMutex lock;
    GHashTable *sinks;          /* serial path -> Serial * (under lock) */
    gint64 next_id;
    gboolean broken;            /* a reply went missing: no more requests */
};

/* Pushed by the reader at EOF: a pointer no reply can be. */
static char reader_eof;
#define READER_EOF ((gpointer)&reader_eof)

const char *agent_client_side(AgentClient *a)
{
    return a->side;
}

GPid agent_client_pid(AgentClient *a)
{
    return a->pid;
}

/* The last lines of the agent's stderr: why it died, usually. */
static char *stderr_tail(AgentClient *a)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint n;

    if (!g_file_get_contents(a->log_path, &text, NULL, NULL))
        return g_strdup("");
    lines = g_strsplit(g_strstrip(text), "\n", -1);
    n = g_strv_length(lines);
    return g_strjoinv(" / ", lines + (n > 2 ? n - 2 : 0));
}

static void reader_event(AgentClient *a, JsonObject *ev, gint64 now)
{
    const char *kind = json_object_get_string_member_with_default(ev, "event", "");
    const char *path = json_object_get_string_member_with_default(ev, "path", "");
    Serial *sink;

    /* held while feeding: release may drop the sink at any time */
    g_mutex_lock(&a->lock);
    sink = g_hash_table_lookup(a->sinks, path);
    if (sink && g_str_equal(kind, "serial")) {
        g_autoptr(GBytes) data = agent_proto_get_bytes(ev, "data", NULL);
        gsize len = 0;
        const guint8 *buf = data ? g_bytes_get_data(data, &len) : NULL;

        if (buf)
            serial_relay_feed(sink, buf, len, now);
    } else if (sink && g_str_equal(kind, "serial-closed")) {
        serial_relay_close(sink);
    }
    g_mutex_unlock(&a->lock);
}

/* Every line the agent prints: events are dispatched here, on arrival,
 * so their timestamps do not wait for the main thread; anything else is
 * a reply (or the banner) for whoever waits. */
static gpointer reader_thread(gpointer opaque)
{
    AgentClient *a = opaque;
    g_autoptr(GInputStream) raw = g_unix_input_stream_new(a->out_fd, FALSE);
    g_autoptr(GDataInputStream) in = g_data_input_stream_new(raw);
    char *line;
    gsize len;

    g_buffered_input_stream_set_buffer_size(G_BUFFERED_INPUT_STREAM(in), 1 << 20);
    while ((line = g_data_input_stream_read_line(in, &len, NULL, NULL))) {
        gint64 now = g_get_monotonic_time();
        g_autoptr(GError) error = NULL;
        JsonObject *o = agent_proto_parse(line, len, &error);

        if (!o) {
            /* handed to whoever waits, whose error then quotes it */
            o = json_object_new();
            json_object_set_string_member(o, "garbage", line);
            g_async_queue_push(a->replies, o);
        } else if (json_object_has_member(o, "event")) {
            reader_event(a, o, now);
            json_object_unref(o);
        } else
            g_async_queue_push(a->replies, o);
        g_free(line);
    }
    g_async_queue_push(a->replies, READER_EOF);
    /* the stream ended: so did every serial relay */
    g_mutex_lock(&a->lock);
    {
        GHashTableIter it;
        gpointer sink;
        g_hash_table_iter_init(&it, a->sinks);
        while (g_hash_table_iter_next(&it, NULL, &sink))
            serial_relay_close(sink);
    }
    g_mutex_unlock(&a->lock);
    return NULL;
}

/* The next reply, or NULL with @error on EOF or deadline. */
static JsonObject *next_reply(AgentClient *a, const char *what, Deadline deadline,
                              GError **error)
{
    gint64 left = deadline - g_get_monotonic_time();
    gpointer r = g_async_queue_timeout_pop(a->replies, MAX(left, 0));

    if (r == READER_EOF) {
        g_autofree char *tail = stderr_tail(a);
        g_async_queue_push(a->replies, READER_EOF);     /* stays at EOF */
        a->broken = TRUE;
        g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED, "agent %s ('%s') exited while "
                    "waiting for %s: %s", a->side, a->command, what,
                    *tail ? tail : "no message");
        return NULL;
    }
    if (!r) {
        a->broken = TRUE;
        g_set_error(error, MT_ERROR, MT_ERROR_TIMEOUT, "agent %s ('%s'): no %s within "
                    "the deadline", a->side, a->command, what);
    }
    return r;
}

static gboolean write_all(int fd, const char *buf, gsize len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        buf += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* Start a request: {"id": N, "cmd": @cmd, ...}; add members, then call
 * request_run(). */
static JsonBuilder *request_begin(AgentClient *a, const char *cmd, gint64 *id)
{
    JsonBuilder *b = json_builder_new();

    *id = ++a->next_id;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, *id);
    json_builder_set_member_name(b, "cmd");
    json_builder_add_string_value(b, cmd);
    return b;
}

static gboolean request_send(AgentClient *a, JsonBuilder *b, const char *cmd, GError **error)
{
    g_autofree char *line = NULL;

    json_builder_end_object(b);
    line = agent_proto_line(b);
    if (a->broken) {
        g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED, "agent %s: cannot send '%s': "
                    "an earlier request went unanswered", a->side, cmd);
        return FALSE;
    }
    if (!write_all(a->in_fd, line, strlen(line))) {
        g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED, "agent %s: cannot send '%s': %s",
                    a->side, cmd, g_strerror(errno));
        a->broken = TRUE;
        return FALSE;
    }
    return TRUE;
}

/* The reply to request @id: new reference, or NULL with @error (the
 * agent's own error keeps its MtErrorCode). */
static JsonObject *request_wait(AgentClient *a, gint64 id, const char *cmd,
                                Deadline deadline, GError **error)
{
    g_autofree char *what = g_strdup_printf("the reply to '%s'", cmd);
    g_autoptr(JsonObject) r = next_reply(a, what, deadline, error);
    gint64 got = -2;

    if (!r)
        return NULL;
    if (!agent_proto_get_int(r, "id", &got, NULL) || got != id) {
        a->broken = TRUE;
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "agent %s: reply to request %"
                    G_GINT64_FORMAT " ('%s') carries id %" G_GINT64_FORMAT, a->side, id,
                    cmd, got);
        return NULL;
    }
    if (!json_object_get_boolean_member_with_default(r, "ok", FALSE)) {
        gint64 code = json_object_get_int_member_with_default(r, "code", MT_ERROR_PROTOCOL);
        g_set_error(error, MT_ERROR, (int)code, "agent %s: %s", a->side,
                    json_object_get_string_member_with_default(r, "error", "(no message)"));
        return NULL;
    }
    return g_steal_pointer(&r);
}

static JsonObject *request_run(AgentClient *a, JsonBuilder *b, gint64 id, const char *cmd,
                               Deadline deadline, GError **error)
{
    if (!request_send(a, b, cmd, error))
        return NULL;
    return request_wait(a, id, cmd, deadline, error);
}

static gboolean check_banner(AgentClient *a, Deadline deadline, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(JsonObject) banner = next_reply(a, "its banner", deadline, &local);
    const char *name, *version;
    gint64 proto = -1;

    if (!banner) {
        /* local's message names the agent, its command and its last words */
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "%s; install migtest %s on that host or "
                    "fix --%s-agent", local->message, PROJECT_VERSION, a->side);
        return FALSE;
    }
    if (json_object_has_member(banner, "garbage")) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "agent %s ('%s') is not migtest agent: it "
                    "printed '%.80s'; install migtest %s on that host or fix --%s-agent",
                    a->side, a->command, json_object_get_string_member(banner, "garbage"),
                    PROJECT_VERSION, a->side);
        return FALSE;
    }
    name = json_object_get_string_member_with_default(banner, "agent", "");
    version = json_object_get_string_member_with_default(banner, "version", "?");
    proto = json_object_get_int_member_with_default(banner, "protocol", -1);
    if (!g_str_equal(name, AGENT_BANNER_NAME) || !g_str_equal(version, PROJECT_VERSION) ||
        proto != AGENT_PROTOCOL_VERSION) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "agent %s ('%s') is %s %s protocol %"
                    G_GINT64_FORMAT ", this is migtest %s protocol %d; install the same "
                    "migtest on every host", a->side, a->command, *name ? name : "not migtest",
                    version, proto, PROJECT_VERSION, AGENT_PROTOCOL_VERSION);
        return FALSE;
    }
    return TRUE;
}

static gboolean say_hello(AgentClient *a, Deadline deadline, GError **error)
{
    gint64 id;
    g_autoptr(JsonBuilder) b = request_begin(a, "hello", &id);
    g_autoptr(JsonObject) r = NULL;

    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, PROJECT_VERSION);
    json_builder_set_member_name(b, "protocol");
    json_builder_add_int_value(b, AGENT_PROTOCOL_VERSION);
    r = request_run(a, b, id, "hello", deadline, error);
    return r != NULL;
}

/* The agent's own process group: a Ctrl-C at the terminal reaches the
 * controller, which then releases the agents in order. */
static void agent_child_setup(gpointer unused)
{
    (void)unused;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static char **agent_argv(const char *command, GError **error)
{
    char **argv = NULL;

    if (!command || !*command) {
        g_autofree char *self = g_file_read_link("/proc/self/exe", error);
        if (!self)
            return NULL;
        argv = g_new0(char *, 3);
        argv[0] = g_steal_pointer(&self);
        argv[1] = g_strdup("agent");
        return argv;
    }
    if (!g_shell_parse_argv(command, NULL, &argv, error))
        return NULL;
    return argv;
}

static gboolean agent_spawn(AgentClient *a, GError **error)
{
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) local = NULL;
    int err_fd;
    gboolean ok;

    if (!(argv = agent_argv(a->command, &local))) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "cannot parse --%s-agent '%s': %s",
                    a->side, a->command, local->message);
        return FALSE;
    }
    err_fd = open(a->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (err_fd < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create '%s': %s", a->log_path,
                    g_strerror(errno));
        return FALSE;
    }
    ok = g_spawn_async_with_pipes_and_fds(NULL, (const char *const *)argv, NULL,
                                          G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                          agent_child_setup, NULL, -1, -1, err_fd,
                                          NULL, NULL, 0, &a->pid, &a->in_fd, &a->out_fd,
                                          NULL, &local);
    close(err_fd);
    if (!ok) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot start agent %s '%s': %s; install "
                    "migtest on that host or fix --%s-agent", a->side, a->command,
                    local->message, a->side);
        return FALSE;
    }
    fcntl(a->in_fd, F_SETFD, FD_CLOEXEC);
    fcntl(a->out_fd, F_SETFD, FD_CLOEXEC);
    return TRUE;
}

/* A write to an agent that died (an interrupt stops the agents first)
 * must be an error on that write, not SIGPIPE killing the controller
 * before it destroys its domains.  Process-wide, once: nothing in migtest
 * wants SIGPIPE. */
static void ignore_sigpipe(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        signal(SIGPIPE, SIG_IGN);
        g_once_init_leave(&done, 1);
    }
}

AgentClient *agent_client_new(const char *command, const char *side,
                              const char *log_path, Deadline deadline, GError **error)
{
    g_autoptr(AgentClient) a = g_new0(AgentClient, 1);

    ignore_sigpipe();

    a->side = g_strdup(side);
    a->command = g_strdup(command ? command : "");
    a->log_path = g_strdup(log_path);
    a->in_fd = a->out_fd = -1;
    a->replies = g_async_queue_new();
    a->sinks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_mutex_init(&a->lock);
    if (!agent_spawn(a, error))
        return NULL;
    a->reader = g_thread_new("agent-reader", reader_thread, a);
    if (!check_banner(a, deadline, error) || !say_hello(a, deadline, error))
        return NULL;
    return g_steal_pointer(&a);
}

/* Reap @pid within @ms; FALSE if it still runs. */
static gboolean reap_within(GPid pid, gint64 ms)
{
    Deadline d = deadline_in_ms(ms);

    do {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return TRUE;
        g_usleep(10 * 1000);
    } while (!deadline_expired(d));
    return FALSE;
}

void agent_client_free(AgentClient *a)
{
    if (!a)
        return;
    if (a->in_fd >= 0)
        close(a->in_fd);
    if (a->pid > 0 && !reap_within(a->pid, AGENT_EXIT_GRACE_MS)) {
        kill(a->pid, SIGKILL);
        reap_within(a->pid, AGENT_EXIT_GRACE_MS);
    }
    if (a->reader)
        g_thread_join(a->reader);
    if (a->out_fd >= 0)
        close(a->out_fd);
    for (gpointer r; (r = g_async_queue_try_pop(a->replies)); )
        if (r != READER_EOF)
            json_object_unref(r);
    g_async_queue_unref(a->replies);
    g_hash_table_unref(a->sinks);
    g_mutex_clear(&a->lock);
    g_free(a->side);
    g_free(a->command);
    g_free(a->log_path);
    g_free(a);
}

static void add_string(JsonBuilder *b, const char *member, const char *value)
{
    json_builder_set_member_name(b, member);
    json_builder_add_string_value(b, value);
}

gboolean agent_client_put_file(AgentClient *a, const char *path, GBytes *data,
                               Deadline deadline, GError **error)
{
    gint64 id;
    g_autoptr(JsonBuilder) b = request_begin(a, "put-file", &id);
    g_autofree char *text = g_base64_encode(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
    g_autoptr(JsonObject) r = NULL;

    add_string(b, "path", path);
    add_string(b, "data", text);
    r = request_run(a, b, id, "put-file", deadline, error);
    return r != NULL;
}

gboolean agent_client_listen_serial(AgentClient *a, const char *path, Serial *sink,
                                    Deadline deadline, GError **error)
{
    gint64 id;
    g_autoptr(JsonBuilder) b = request_begin(a, "listen-serial", &id);
    g_autoptr(JsonObject) r = NULL;

    add_string(b, "path", path);
    g_mutex_lock(&a->lock);
    g_hash_table_replace(a->sinks, g_strdup(path), sink);
    g_mutex_unlock(&a->lock);
    r = request_run(a, b, id, "listen-serial", deadline, error);
    return r != NULL;
}

gboolean agent_client_map_ram(AgentClient *a, const RamLayout *layout, const char *name,
                              const char *uuid, int pid, Deadline deadline, GError **error)
{
    gint64 id;
    g_autoptr(JsonBuilder) b = request_begin(a, "map-ram", &id);
    g_autoptr(JsonObject) r = NULL;

    agent_proto_add_layout(b, "layout", layout);
    if (name)
        add_string(b, "name", name);
    if (uuid)
        add_string(b, "uuid", uuid);
    if (!name && !uuid) {
        json_builder_set_member_name(b, "pid");
        json_builder_add_int_value(b, pid);
    }
    r = request_run(a, b, id, "map-ram", deadline, error);
    return r != NULL;
}

static GArray *hashes_decode(AgentClient *a, JsonObject *r, GError **error)
{
    g_autoptr(GBytes) raw = agent_proto_get_bytes(r, "hashes", error);
    gint64 pages = 0;
    GArray *h;

    if (!raw || !agent_proto_get_int(r, "pages", &pages, error))
        return NULL;
    if (pages < 0 || g_bytes_get_size(raw) != (gsize)pages * sizeof(guint64)) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "agent %s: %zu bytes of hashes for "
                    "%" G_GINT64_FORMAT " pages", a->side, g_bytes_get_size(raw), pages);
        return NULL;
    }
    h = g_array_sized_new(FALSE, FALSE, sizeof(guint64), (guint)pages);
    g_array_append_vals(h, g_bytes_get_data(raw, NULL), (guint)pages);
    for (guint i = 0; i < h->len; i++)
        g_array_index(h, guint64, i) = GUINT64_FROM_LE(g_array_index(h, guint64, i));
    return h;
}

static gboolean hash_send(AgentClient *a, gint64 *id, GError **error)
{
    g_autoptr(JsonBuilder) b = request_begin(a, "hash-pages", id);

    return request_send(a, b, "hash-pages", error);
}

static GArray *hash_wait(AgentClient *a, gint64 id, Deadline deadline, GError **error)
{
    g_autoptr(JsonObject) r = request_wait(a, id, "hash-pages", deadline, error);

    return r ? hashes_decode(a, r, error) : NULL;
}

GArray *agent_client_hash_pages(AgentClient *a, Deadline deadline, GError **error)
{
    gint64 id;

    if (!hash_send(a, &id, error))
        return NULL;
    return hash_wait(a, id, deadline, error);
}

GPtrArray *agent_client_read_pages(AgentClient *a, const guint64 *pages, guint n,
                                   Deadline deadline, GError **error)
{
    gint64 id;
    g_autoptr(JsonBuilder) b = request_begin(a, "read-pages", &id);
    g_autoptr(JsonObject) r = NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    JsonArray *data;

    json_builder_set_member_name(b, "pages");
    json_builder_begin_array(b);
    for (guint i = 0; i < n; i++)
        json_builder_add_int_value(b, (gint64)pages[i]);
    json_builder_end_array(b);
    r = request_run(a, b, id, "read-pages", deadline, error);
    if (!r || !(data = agent_proto_get_array(r, "data", error)))
        return NULL;
    for (guint i = 0; i < json_array_get_length(data); i++) {
        gsize len = 0;
        guchar *bytes = g_base64_decode(json_array_get_string_element(data, i), &len);
        if (len != MT_PAGE_SIZE) {
            g_free(bytes);
            g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "agent %s: page %" G_GUINT64_FORMAT
                        " came back as %zu bytes", a->side, pages[i], len);
            return NULL;
        }
        g_ptr_array_add(out, g_bytes_new_take(bytes, len));
    }
    if (out->len != n) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "agent %s: %u pages asked, %u sent",
                    a->side, n, out->len);
        return NULL;
    }
    return g_steal_pointer(&out);
}

gboolean agent_client_invariant(AgentClient *a, const PayloadParams *params,
                                InvariantResult *out, Deadline deadline, GError **error)
{
    gint64 id;
    g_autoptr(JsonBuilder) b = request_begin(a, "invariant", &id);
    g_autoptr(JsonObject) r = NULL;

    memset(out, 0, sizeof(*out));
    agent_proto_add_params(b, "params", params);
    r = request_run(a, b, id, "invariant", deadline, error);
    return r && agent_proto_get_invariant(r, "invariant", out, error);
}

gboolean agent_client_poke(AgentClient *a, guint64 gpa, const void *buf, gsize len,
                           Deadline deadline, GError **error)
{
    gint64 id;
    g_autoptr(JsonBuilder) b = request_begin(a, "poke", &id);
    g_autofree char *text = g_base64_encode(buf, len);
    g_autoptr(JsonObject) r = NULL;

    json_builder_set_member_name(b, "gpa");
    json_builder_add_int_value(b, (gint64)gpa);
    add_string(b, "data", text);
    r = request_run(a, b, id, "poke", deadline, error);
    return r != NULL;
}

gboolean agent_client_release(AgentClient *a, Deadline deadline, GError **error)
{
    gint64 id;
    g_autoptr(JsonBuilder) b = request_begin(a, "release", &id);
    g_autoptr(JsonObject) r = request_run(a, b, id, "release", deadline, error);

    g_mutex_lock(&a->lock);
    g_hash_table_remove_all(a->sinks);
    g_mutex_unlock(&a->lock);
    return r != NULL;
}

/* ---- exact across two agents ---- */

/* Fill @d from the two copies of page @page; FALSE if they are equal
 * after all (the RAM changed between hashing and reading). */
static gboolean diff_from_pages(const RamLayout *layout, guint64 page, GBytes *src,
                                GBytes *dst, ExactDiff *d)
{
    const guint8 *s = g_bytes_get_data(src, NULL), *t = g_bytes_get_data(dst, NULL);
    guint i = 0;

    memset(d, 0, sizeof(*d));
    while (i < MT_PAGE_SIZE && s[i] == t[i])
        i++;
    if (i == MT_PAGE_SIZE)
        return FALSE;
    d->gpa = ram_layout_offset_to_gpa(layout, page * MT_PAGE_SIZE + i);
    d->shown = MIN((guint)VERIFY_BYTES_SHOWN, MT_PAGE_SIZE - i);
    memcpy(d->src, s + i, d->shown);
    memcpy(d->dst, t + i, d->shown);
    for (guint j = i; j < MT_PAGE_SIZE; j++)
        d->bytes_differing += s[j] != t[j];
    return TRUE;
}

/* Read @n pages (at most AGENT_MAX_READ_PAGES) from both sides and
 * record them as verify_exact() records its differing pages. */
static gboolean fetch_diffs(AgentClient *src, AgentClient *dst, const RamLayout *layout,
                            const guint64 *pages, guint n, ExactResult *out,
                            Deadline deadline, GError **error)
{
    g_autoptr(GPtrArray) s = agent_client_read_pages(src, pages, n, deadline, error);
    g_autoptr(GPtrArray) t = s ? agent_client_read_pages(dst, pages, n, deadline, error) : NULL;

    if (!t)
        return FALSE;
    for (guint i = 0; i < n; i++) {
        ExactDiff d;

        if (!diff_from_pages(layout, pages[i], s->pdata[i], t->pdata[i], &d)) {
            g_set_error(error, MT_ERROR, MT_ERROR_ENV, "exact: page at offset 0x%"
                        G_GINT64_MODIFIER "x hashed differently but reads equal: a side "
                        "was still running", pages[i] * MT_PAGE_SIZE);
            return FALSE;
        }
        if (out->ndiffs < VERIFY_MAX_REPORTED)
            out->diffs[out->ndiffs++] = d;
        g_array_append_val(out->pages, d);
    }
    return TRUE;
}

static gboolean both_hashes(AgentClient *src, AgentClient *dst, GArray **hs, GArray **hd,
                            Deadline deadline, GError **error)
{
    gint64 ids, idd;

    /* both agents hash at once, each on its own host */
    if (!hash_send(src, &ids, error) || !hash_send(dst, &idd, error))
        return FALSE;
    *hs = hash_wait(src, ids, deadline, error);
    *hd = *hs ? hash_wait(dst, idd, deadline, error) : NULL;
    return *hd != NULL;
}

gboolean agent_verify_exact(AgentClient *src, AgentClient *dst, const RamLayout *layout,
                            ExactResult *out, Deadline deadline, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GArray) hs = NULL;
    g_autoptr(GArray) hd = NULL;
    g_autoptr(GArray) differing = g_array_new(FALSE, FALSE, sizeof(guint64));

    exact_result_clear(out);
    memset(out, 0, sizeof(*out));
    out->pages = g_array_new(FALSE, FALSE, sizeof(ExactDiff));
    out->layout = *layout;
    if (!both_hashes(src, dst, &hs, &hd, deadline, error))
        return FALSE;
    if (hs->len != hd->len || (guint64)hs->len != layout->total / MT_PAGE_SIZE) {
        g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "exact: source RAM has %u pages, "
                    "destination %u, the layout %" G_GUINT64_FORMAT, hs->len, hd->len,
                    layout->total / MT_PAGE_SIZE);
        return FALSE;
    }
    for (guint64 i = 0; i < hs->len; i++) {
        if (g_array_index(hs, guint64, i) == g_array_index(hd, guint64, i))
            continue;
        out->pages_differing++;
        if (differing->len < VERIFY_MAX_PAGES)
            g_array_append_val(differing, i);
    }
    out->pages_compared = hs->len;
    for (guint i = 0; i < differing->len; i += AGENT_MAX_READ_PAGES)
        if (!fetch_diffs(src, dst, layout, &g_array_index(differing, guint64, i),
                         MIN(AGENT_MAX_READ_PAGES, differing->len - i), out, deadline, error))
            return FALSE;
    out->elapsed_us = g_get_monotonic_time() - t0;
    return exact_result_verdict(out, error);
}
