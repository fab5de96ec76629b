/* agent.c: `migtest agent`, next to the guest's RAM on one host (see agent.h). */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include "agent-proto.h"
#include "mt-error.h"
#include "page-hash.h"

typedef struct Agent Agent;

typedef struct {
    Agent *agent;
    char *path;
    int listen_fd;
    int wake[2];                /* written to stop the relay thread */
    GThread *thread;
} AgentSerial;

struct Agent {
    GMutex out_lock;            /* replies and serial events share stdout */
    int out_fd;
    GMutex fs_lock;             /* files and dirs: also the signal thread's */
    GPtrArray *files;           /* char *: files and sockets we made */
    GPtrArray *dirs;            /* char *: directories we made, parents first */
    GPtrArray *serials;         /* AgentSerial * */
    guint8 *ram;                /* MAP_SHARED view of the guest's memfd */
    RamLayout layout;
    int ram_pid;
    gboolean greeted;           /* the controller said hello with our version */
};

/* ---- output ---- */

static void agent_write_line(Agent *a, const char *line)
{
    gsize len = strlen(line), off = 0;

    g_mutex_lock(&a->out_lock);
    while (off < len) {
        ssize_t n = write(a->out_fd, line + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;              /* the controller is gone; EOF on stdin ends us */
        off += (gsize)n;
    }
    g_mutex_unlock(&a->out_lock);
}

static void agent_send(Agent *a, JsonBuilder *b)
{
    g_autofree char *line = agent_proto_line(b);

    agent_write_line(a, line);
}

/* A reply's envelope, left open for the command's members. */
static JsonBuilder *reply_begin(gint64 id, gboolean ok)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, id);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, ok);
    return b;
}

static void reply_error(Agent *a, gint64 id, const GError *error)
{
    g_autoptr(JsonBuilder) b = reply_begin(id, FALSE);

    json_builder_set_member_name(b, "code");
    json_builder_add_int_value(b, error->domain == MT_ERROR ? error->code : MT_ERROR_ENV);
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, error->message);
    json_builder_end_object(b);
    agent_send(a, b);
    g_printerr("migtest agent: request %" G_GINT64_FORMAT ": %s\n", id, error->message);
}

static void reply_end(Agent *a, JsonBuilder *b)
{
    json_builder_end_object(b);
    agent_send(a, b);
}

/* ---- files we make, and their removal ---- */

/* mkdir -p, remembering which directories did not exist yet. */
static gboolean make_parents(Agent *a, const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autoptr(GPtrArray) made = g_ptr_array_new_with_free_func(g_free);

    for (char *d = g_strdup(dir); ; ) {
        char *up;
        if (g_file_test(d, G_FILE_TEST_IS_DIR) || g_str_equal(d, "/")) {
            g_free(d);
            break;
        }
        g_ptr_array_insert(made, 0, d);
        up = g_path_get_dirname(d);
        d = up;
    }
    for (guint i = 0; i < made->len; i++) {
        if (mkdir(made->pdata[i], 0755) < 0 && errno != EEXIST) {
            g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create directory '%s': %s",
                        (char *)made->pdata[i], g_strerror(errno));
            return FALSE;
        }
        g_mutex_lock(&a->fs_lock);
        g_ptr_array_add(a->dirs, g_strdup(made->pdata[i]));
        g_mutex_unlock(&a->fs_lock);
    }
    return TRUE;
}

static void remember_file(Agent *a, const char *path)
{
    g_mutex_lock(&a->fs_lock);
    g_ptr_array_add(a->files, g_strdup(path));
    g_mutex_unlock(&a->fs_lock);
}

/* Files first, then directories deepest first; safe from the signal thread. */
static void remove_made(Agent *a)
{
    g_mutex_lock(&a->fs_lock);
    for (guint i = 0; i < a->files->len; i++)
        unlink(a->files->pdata[i]);
    for (guint i = a->dirs->len; i > 0; i--)
        rmdir(a->dirs->pdata[i - 1]);
    g_ptr_array_set_size(a->files, 0);
    g_ptr_array_set_size(a->dirs, 0);
    g_mutex_unlock(&a->fs_lock);
}

static gboolean cmd_put_file(Agent *a, JsonObject *req, JsonBuilder *b, GError **error)
{
    const char *path = agent_proto_get_string(req, "path", error);
    g_autoptr(GBytes) data = path ? agent_proto_get_bytes(req, "data", error) : NULL;
    gsize len = 0;
    const char *bytes;

    (void)b;
    if (!data)
        return FALSE;
    if (!g_path_is_absolute(path)) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "put-file: '%s' is not an absolute path", path);
        return FALSE;
    }
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "put-file: '%s' exists already; "
                    "another run uses it, or run 'migtest cleanup'", path);
        return FALSE;
    }
    bytes = g_bytes_get_data(data, &len);
    if (!make_parents(a, path, error))
        return FALSE;
    remember_file(a, path);
    return g_file_set_contents(path, bytes, (gssize)len, error);
}

/* ---- serial relay ---- */

static void serial_event(Agent *a, const char *path, const guint8 *buf, gsize len)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *data = buf ? g_base64_encode(buf, len) : NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, buf ? "serial" : "serial-closed");
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, path);
    if (data) {
        json_builder_set_member_name(b, "data");
        json_builder_add_string_value(b, data);
    }
    json_builder_end_object(b);
    agent_send(a, b);
}

/* Wait for @fd; FALSE when asked to stop. */
static gboolean relay_wait(AgentSerial *s, int fd)
{
    struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
                             { .fd = s->wake[0], .events = POLLIN } };

    while (poll(pfd, 2, -1) < 0)
        if (errno != EINTR)
            return FALSE;
    return !(pfd[1].revents & POLLIN);
}

/* One connection (QEMU's), relayed until EOF or a stop request. */
static gpointer relay_thread(gpointer opaque)
{
    AgentSerial *s = opaque;
    guint8 buf[4096];
    int fd = -1;

    if (relay_wait(s, s->listen_fd))
        fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    while (fd >= 0 && relay_wait(s, fd)) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        serial_event(s->agent, s->path, buf, (gsize)n);
    }
    if (fd >= 0)
        close(fd);
    serial_event(s->agent, s->path, NULL, 0);
    return NULL;
}

static void agent_serial_free(AgentSerial *s)
{
    if (s->thread) {
        (void)!write(s->wake[1], "x", 1);
        g_thread_join(s->thread);
    }
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0)
            close(s->wake[i]);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    g_free(s->path);
    g_free(s);
}

static int bind_unix(const char *path, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "listen-serial: path '%s' is longer "
                    "than a unix socket path may be (%zu)", path, sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "listen-serial: cannot listen on '%s': %s",
                    path, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static gboolean cmd_listen_serial(Agent *a, JsonObject *req, JsonBuilder *b, GError **error)
{
    const char *path = agent_proto_get_string(req, "path", error);
    AgentSerial *s;
    int fd;

    (void)b;
    if (!path || !make_parents(a, path, error))
        return FALSE;
    if ((fd = bind_unix(path, error)) < 0)
        return FALSE;
    remember_file(a, path);
    s = g_new0(AgentSerial, 1);
    s->agent = a;
    s->path = g_strdup(path);
    s->listen_fd = fd;
    if (pipe2(s->wake, O_CLOEXEC) < 0) {
        s->wake[0] = s->wake[1] = -1;
        agent_serial_free(s);
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "pipe: %s", g_strerror(errno));
        return FALSE;
    }
    s->thread = g_thread_new("relay", relay_thread, s);
    g_ptr_array_add(a->serials, s);
    return TRUE;
}

/* ---- guest RAM ---- */

static void ram_release(Agent *a)
{
    if (a->ram)
        munmap(a->ram, a->layout.total);
    a->ram = NULL;
    a->ram_pid = 0;
}

/* The argv of @pid as one buffer of NUL-separated words (new GBytes). */
static GBytes *proc_cmdline(int pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", pid);
    char *data = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &data, &len, NULL))
        return NULL;
    return g_bytes_new_take(data, len);
}

static gboolean cmdline_has_uuid(GBytes *cmdline, const char *uuid)
{
    gsize len;
    const char *p = g_bytes_get_data(cmdline, &len), *end = p + len;

    for (; p < end; p += strlen(p) + 1)
        if (g_str_equal(p, "-uuid") && p + strlen(p) + 1 < end &&
            g_ascii_strcasecmp(p + strlen(p) + 1, uuid) == 0)
            return TRUE;
    return FALSE;
}

static int pid_by_uuid(const char *uuid, GError **error)
{
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    const char *ent;
    int found = 0;

    while (proc && (ent = g_dir_read_name(proc))) {
        int pid = atoi(ent);
        g_autoptr(GBytes) cmd = pid > 0 ? proc_cmdline(pid) : NULL;

        if (!cmd || !cmdline_has_uuid(cmd, uuid))
            continue;
        if (found) {
            g_set_error(error, MT_ERROR, MT_ERROR_ENV, "map-ram: processes %d and %d both "
                        "run -uuid %s; name the domain so its pidfile decides", found, pid, uuid);
            return 0;
        }
        found = pid;
    }
    if (!found)
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "map-ram: no process runs -uuid %s", uuid);
    return found;
}

static int pid_by_name(const char *name, const char *uuid, GError **error)
{
    g_autofree char *pidfile = g_strdup_printf("/run/libvirt/qemu/%s.pid", name);
    g_autofree char *text = NULL;
    g_autoptr(GBytes) cmd = NULL;
    int pid;

    if (!g_file_get_contents(pidfile, &text, NULL, NULL)) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "map-ram: no pidfile '%s': domain '%s' "
                    "does not run on this host", pidfile, name);
        return 0;
    }
    pid = atoi(text);
    cmd = pid > 0 ? proc_cmdline(pid) : NULL;
    if (!cmd || (uuid && !cmdline_has_uuid(cmd, uuid))) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "map-ram: pid %d of '%s' is %s", pid,
                    pidfile, cmd ? "not the QEMU of that uuid" : "not running");
        return 0;
    }
    return pid;
}

/* The memfd (or, failing that, the regular file) among @pid's fds whose
 * size is @size, opened read-write; -1 with @error if there is none. */
static int open_ram_fd(int pid, guint64 size, char **target, GError **error)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", pid);
    g_autoptr(GDir) fds = g_dir_open(dir, 0, error);
    const char *ent;
    int best = -1;

    while (fds && (ent = g_dir_read_name(fds))) {
        g_autofree char *link = g_build_filename(dir, ent, NULL);
        g_autofree char *to = g_file_read_link(link, NULL);
        struct stat st;
        int fd;

        if (!to || (!g_str_has_prefix(to, "/memfd:") && to[0] != '/'))
            continue;
        fd = open(link, O_RDWR | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (guint64)st.st_size != size) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        if (best >= 0 && !g_str_has_prefix(to, "/memfd:")) {
            close(fd);
            continue;
        }
        if (best >= 0)
            close(best);
        best = fd;
        g_free(*target);
        *target = g_steal_pointer(&to);
    }
    if (best < 0 && fds)
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "map-ram: process %d has no memfd of "
                    "%" G_GUINT64_FORMAT " bytes; the domain needs <memoryBacking><source "
                    "type='memfd'/><access mode='shared'/>", pid, size);
    return best;
}

static int map_ram_pid(JsonObject *req, GError **error)
{
    const char *name = json_object_get_string_member_with_default(req, "name", NULL);
    const char *uuid = json_object_get_string_member_with_default(req, "uuid", NULL);

    if (name)
        return pid_by_name(name, uuid, error);
    if (uuid)
        return pid_by_uuid(uuid, error);
    if (json_object_has_member(req, "pid"))
        return (int)json_object_get_int_member(req, "pid");
    g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "map-ram: give name, uuid or pid");
    return 0;
}

static gboolean cmd_map_ram(Agent *a, JsonObject *req, JsonBuilder *b, GError **error)
{
    RamLayout layout;
    g_autofree char *target = NULL;
    int pid, fd;
    void *p;

    if (!agent_proto_get_layout(req, "layout", &layout, error) ||
        !(pid = map_ram_pid(req, error)) ||
        (fd = open_ram_fd(pid, layout.total, &target, error)) < 0)
        return FALSE;
    p = mmap(NULL, layout.total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);                  /* the mapping holds the memory */
    if (p == MAP_FAILED) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "map-ram: mmap of %" G_GUINT64_FORMAT
                    " bytes of '%s' failed: %s", layout.total, target, g_strerror(errno));
        return FALSE;
    }
    ram_release(a);
    a->ram = p;
    a->layout = layout;
    a->ram_pid = pid;
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, pid);
    json_builder_set_member_name(b, "fd_target");
    json_builder_add_string_value(b, target);
    return TRUE;
}

static gboolean need_ram(Agent *a, const char *cmd, GError **error)
{
    if (a->ram)
        return TRUE;
    g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "%s: no RAM mapped; send map-ram first", cmd);
    return FALSE;
}

static gboolean cmd_hash_pages(Agent *a, JsonObject *req, JsonBuilder *b, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    guint64 n = a->layout.total / MT_PAGE_SIZE;
    g_autofree guint64 *h = NULL;
    g_autofree char *text = NULL;

    (void)req;
    if (!need_ram(a, "hash-pages", error))
        return FALSE;
    h = g_new(guint64, n);
    page_hash(a->ram, n, h);
    for (guint64 i = 0; i < n; i++)
        h[i] = GUINT64_TO_LE(h[i]);
    text = g_base64_encode((const guchar *)h, n * sizeof(*h));
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, (gint64)n);
    json_builder_set_member_name(b, "elapsed_us");
    json_builder_add_int_value(b, g_get_monotonic_time() - t0);
    json_builder_set_member_name(b, "hashes");
    json_builder_add_string_value(b, text);
    return TRUE;
}

static gboolean cmd_read_pages(Agent *a, JsonObject *req, JsonBuilder *b, GError **error)
{
    JsonArray *pages = agent_proto_get_array(req, "pages", error);
    guint64 npages = a->layout.total / MT_PAGE_SIZE;

    if (!pages || !need_ram(a, "read-pages", error))
        return FALSE;
    if (json_array_get_length(pages) > AGENT_MAX_READ_PAGES) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "read-pages: %u pages asked; at most %d",
                    json_array_get_length(pages), AGENT_MAX_READ_PAGES);
        return FALSE;
    }
    json_builder_set_member_name(b, "data");
    json_builder_begin_array(b);
    for (guint i = 0; i < json_array_get_length(pages); i++) {
        gint64 p = json_array_get_int_element(pages, i);
        g_autofree char *text = NULL;

        if (p < 0 || (guint64)p >= npages) {
            g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "read-pages: page %" G_GINT64_FORMAT
                        " is outside the %" G_GUINT64_FORMAT " pages of RAM", p, npages);
            return FALSE;
        }
        text = g_base64_encode(a->ram + (guint64)p * MT_PAGE_SIZE, MT_PAGE_SIZE);
        json_builder_add_string_value(b, text);
    }
    json_builder_end_array(b);
    return TRUE;
}

static gboolean cmd_invariant(Agent *a, JsonObject *req, JsonBuilder *b, GError **error)
{
    PayloadParams params;
    InvariantResult r;
    RamImage img = { .data = a->ram, .layout = a->layout };
    g_autoptr(GError) local = NULL;

    if (!agent_proto_get_params(req, "params", &params, error) ||
        !need_ram(a, "invariant", error))
        return FALSE;
    if (!verify_invariant(&img, &params, &r, &local) &&
        !g_error_matches(local, MT_ERROR, MT_ERROR_VERIFY)) {
        invariant_result_clear(&r);
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    agent_proto_add_invariant(b, "invariant", &r);
    invariant_result_clear(&r);
    return TRUE;
}

static gboolean cmd_poke(Agent *a, JsonObject *req, JsonBuilder *b, GError **error)
{
    guint64 gpa = 0, off;
    g_autoptr(GBytes) data = NULL;
    gsize len;
    const guint8 *bytes;

    (void)b;
    if (!agent_proto_get_u64(req, "gpa", &gpa, error) ||
        !(data = agent_proto_get_bytes(req, "data", error)) || !need_ram(a, "poke", error))
        return FALSE;
    bytes = g_bytes_get_data(data, &len);
    if (!ram_layout_gpa_to_offset(&a->layout, gpa, &off) || off + len > a->layout.total) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "poke: gpa 0x%" G_GINT64_MODIFIER
                    "x + %zu is not guest RAM", gpa, len);
        return FALSE;
    }
    memcpy(a->ram + off, bytes, len);
    return TRUE;
}

static void agent_release(Agent *a)
{
    ram_release(a);
    g_ptr_array_set_size(a->serials, 0);
    remove_made(a);
}

static gboolean cmd_release(Agent *a, JsonObject *req, JsonBuilder *b, GError **error)
{
    (void)req; (void)b; (void)error;
    agent_release(a);
    return TRUE;
}

static gboolean cmd_hello(Agent *a, JsonObject *req, JsonBuilder *b, GError **error)
{
    const char *version = agent_proto_get_string(req, "version", error);
    gint64 proto = 0;

    if (!version || !agent_proto_get_int(req, "protocol", &proto, error))
        return FALSE;
    if (!g_str_equal(version, PROJECT_VERSION) || proto != AGENT_PROTOCOL_VERSION) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "this agent is migtest %s (protocol %d), "
                    "the controller migtest %s (protocol %" G_GINT64_FORMAT "); install the "
                    "same migtest on every host", PROJECT_VERSION, AGENT_PROTOCOL_VERSION,
                    version, proto);
        return FALSE;
    }
    (void)b;
    a->greeted = TRUE;
    return TRUE;
}

typedef gboolean (*AgentCommand)(Agent *a, JsonObject *req, JsonBuilder *b, GError **error);

static const struct {
    const char *name;
    AgentCommand fn;
} agent_commands[] = {
    { "hello", cmd_hello },
    { "put-file", cmd_put_file },
    { "listen-serial", cmd_listen_serial },
    { "map-ram", cmd_map_ram },
    { "hash-pages", cmd_hash_pages },
    { "read-pages", cmd_read_pages },
    { "invariant", cmd_invariant },
    { "poke", cmd_poke },
    { "release", cmd_release },
};

static AgentCommand command_lookup(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(agent_commands); i++)
        if (g_str_equal(agent_commands[i].name, name))
            return agent_commands[i].fn;
    return NULL;
}

/* One request line: always exactly one reply, even to garbage (id -1). */
static void agent_handle(Agent *a, const char *line, gsize len)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) req = agent_proto_parse(line, len, &error);
    g_autoptr(JsonBuilder) b = NULL;
    gint64 id = -1;
    const char *cmd = NULL;
    AgentCommand fn = NULL;

    if (req && !agent_proto_get_int(req, "id", &id, &error))
        id = -1;
    if (req && !error)
        cmd = agent_proto_get_string(req, "cmd", &error);
    if (cmd && !(fn = command_lookup(cmd)))
        g_set_error(&error, MT_ERROR, MT_ERROR_PROTOCOL, "unknown command '%s'", cmd);
    if (fn && fn != cmd_hello && !a->greeted)
        g_set_error(&error, MT_ERROR, MT_ERROR_PROTOCOL, "'%s' before hello", cmd);
    if (error) {
        reply_error(a, id, error);
        return;
    }
    b = reply_begin(id, TRUE);
    if (!fn(a, req, b, &error)) {
        reply_error(a, id, error);
        return;
    }
    reply_end(a, b);
}

static void agent_banner(Agent *a)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "agent");
    json_builder_add_string_value(b, AGENT_BANNER_NAME);
    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, PROJECT_VERSION);
    json_builder_set_member_name(b, "protocol");
    json_builder_add_int_value(b, AGENT_PROTOCOL_VERSION);
    json_builder_end_object(b);
    agent_send(a, b);
}

/* The stop signals, plus SIGUSR1 by which agent_main ends the watcher. */
static void agent_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGPIPE);
    sigaddset(set, SIGUSR1);
}

/* A stop signal: remove what we made (the controller may never send
 * release) and go, with the conventional status. */
static void *agent_signal_thread(void *opaque)
{
    Agent *a = opaque;
    sigset_t set;
    int sig = 0;

    agent_signals(&set);
    if (sigwait(&set, &sig) != 0 || sig == SIGUSR1)
        return NULL;
    remove_made(a);
    _exit(128 + sig);
}

int agent_main(int argc, char **argv)
{
    Agent a = { .out_fd = STDOUT_FILENO };
    g_autoptr(GInputStream) raw = g_unix_input_stream_new(STDIN_FILENO, FALSE);
    g_autoptr(GDataInputStream) in = g_data_input_stream_new(raw);
    sigset_t set;
    pthread_t watcher;
    char *line;
    gsize len;

    if (argc > 1 && g_str_equal(argv[1], "--version")) {
        printf("migtest agent %s protocol %d\n", PROJECT_VERSION, AGENT_PROTOCOL_VERSION);
        return 0;
    }
    agent_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    g_mutex_init(&a.out_lock);
    g_mutex_init(&a.fs_lock);
    a.files = g_ptr_array_new_with_free_func(g_free);
    a.dirs = g_ptr_array_new_with_free_func(g_free);
    a.serials = g_ptr_array_new_with_free_func((GDestroyNotify)agent_serial_free);
    pthread_create(&watcher, NULL, agent_signal_thread, &a);
    /* Hash replies of big guests are megabytes; requests are small. */
    g_buffered_input_stream_set_buffer_size(G_BUFFERED_INPUT_STREAM(in), 1 << 16);
    agent_banner(&a);
    while ((line = g_data_input_stream_read_line(in, &len, NULL, NULL))) {
        if (len)
            agent_handle(&a, line, len);
        g_free(line);
    }
    agent_release(&a);
    pthread_kill(watcher, SIGUSR1);
    pthread_join(watcher, NULL);
    g_ptr_array_unref(a.serials);
    g_ptr_array_unref(a.files);
    g_ptr_array_unref(a.dirs);
    g_mutex_clear(&a.out_lock);
    g_mutex_clear(&a.fs_lock);
    return 0;
}
