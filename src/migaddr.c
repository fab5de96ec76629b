/* migaddr.c: migration addresses and file: options (see migaddr.h). */
#include "migaddr.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

/* QEMU_VM_FILE_MAGIC as it appears in the file. */
static const guint8 qevm_magic[4] = { 0x51, 0x45, 0x56, 0x4d };

static JsonObject *socket_addr(const char *type)
{
    JsonObject *a = json_object_new();

    json_object_set_string_member(a, "transport", "socket");
    json_object_set_string_member(a, "type", type);
    return a;
}

static JsonObject *tcp_addr(const char *rest, GError **error)
{
    const char *colon = strrchr(rest, ':');
    g_autofree char *host = colon ? g_strndup(rest, colon - rest) : NULL;
    JsonObject *a;

    if (!colon) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "tcp address '%s' has no port", rest);
        return NULL;
    }
    a = socket_addr("inet");
    json_object_set_string_member(a, "host", host);
    json_object_set_string_member(a, "port", colon + 1);
    return a;
}

static JsonObject *exec_addr(const char *command)
{
    JsonObject *a = json_object_new();
    JsonArray *args = json_array_new();

    /* What QEMU's exec: URI runs: the shell with the command string. */
    json_array_add_string_element(args, "/bin/sh");
    json_array_add_string_element(args, "-c");
    json_array_add_string_element(args, command);
    json_object_set_string_member(a, "transport", "exec");
    json_object_set_array_member(a, "args", args);
    return a;
}

static JsonObject *file_addr(const char *rest)
{
    JsonObject *a = json_object_new();
    const char *opt = strstr(rest, ",offset=");
    g_autofree char *path = opt ? g_strndup(rest, opt - rest) : g_strdup(rest);

    json_object_set_string_member(a, "transport", "file");
    json_object_set_string_member(a, "filename", path);
    json_object_set_int_member(a, "offset", opt ? g_ascii_strtoll(opt + 8, NULL, 0) : 0);
    return a;
}

JsonObject *migaddr_channel_from_uri(const char *uri, GError **error)
{
    JsonObject *a;

    if (g_str_has_prefix(uri, "tcp:"))
        return tcp_addr(uri + 4, error);
    if (g_str_has_prefix(uri, "unix:")) {
        a = socket_addr("unix");
        json_object_set_string_member(a, "path", uri + 5);
        return a;
    }
    if (g_str_has_prefix(uri, "fd:")) {
        a = socket_addr("fd");
        json_object_set_string_member(a, "str", uri + 3);
        return a;
    }
    if (g_str_has_prefix(uri, "exec:"))
        return exec_addr(uri + 5);
    if (g_str_has_prefix(uri, "file:"))
        return file_addr(uri + 5);
    g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "no channel form for URI '%s'", uri);
    return NULL;
}

static JsonArray *main_channel(const char *uri, GError **error)
{
    JsonObject *addr = migaddr_channel_from_uri(uri, error);
    JsonObject *ch;
    JsonArray *list;

    if (!addr)
        return NULL;
    ch = json_object_new();
    json_object_set_string_member(ch, "channel-type", "main");
    json_object_set_object_member(ch, "addr", addr);
    list = json_array_new();
    json_array_add_object_element(list, ch);
    return list;
}

JsonObject *migaddr_args(const char *uri, MigrateAddr how, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();

    if (how == MIGRATE_ADDR_URI || how == MIGRATE_ADDR_BOTH)
        json_object_set_string_member(args, "uri", uri);
    if (how == MIGRATE_ADDR_CHANNELS || how == MIGRATE_ADDR_BOTH) {
        JsonArray *list = main_channel(uri, error);
        if (!list)
            return NULL;
        json_object_set_array_member(args, "channels", list);
    }
    return g_steal_pointer(&args);
}

gboolean migaddr_file_prefill(const char *path, guint64 offset, GError **error)
{
    g_autofree char *fill = g_malloc(offset + 1);

    memset(fill, MIGADDR_FILL, offset);
    return g_file_set_contents(path, fill, offset, error);
}

gboolean migaddr_add_fd(Vm *vm, const char *path, int flags, Deadline deadline,
                        GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    int fd = open(path, flags | O_CLOEXEC, 0600);
    JsonNode *ret;

    if (fd < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot open '%s' for %s's fdset: %s",
                    path, vm_name(vm), g_strerror(errno));
        return FALSE;
    }
    json_object_set_int_member(args, "fdset-id", MIGADDR_FDSET_ID);
    ret = qmp_execute_with_fd(vm_qmp(vm), "add-fd", args, fd, deadline, error);
    close(fd);                  /* QEMU holds its own copy now */
    if (ret)
        json_node_unref(ret);
    return ret != NULL;
}

/* Does query-fdsets (@reply) still list our set? */
static gboolean fdset_listed(JsonNode *reply)
{
    JsonArray *sets = JSON_NODE_HOLDS_ARRAY(reply) ? json_node_get_array(reply) : NULL;

    for (guint i = 0; sets && i < json_array_get_length(sets); i++) {
        JsonObject *set = json_array_get_object_element(sets, i);
        if (set && json_object_get_int_member_with_default(set, "fdset-id", -1) ==
                   MIGADDR_FDSET_ID)
            return TRUE;
    }
    return FALSE;
}

gboolean migaddr_fdset_release(Vm *vm, Deadline deadline, gboolean *left, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    Deadline grace = deadline_min(deadline, deadline_in_ms(MIGADDR_FDSET_GRACE_MS));
    JsonNode *ret;

    json_object_set_int_member(args, "fdset-id", MIGADDR_FDSET_ID);
    ret = qmp_execute(vm_qmp(vm), "remove-fd", args, deadline, error);
    if (!ret) {
        g_prefix_error(error, "%s: remove-fd of fdset %d after the migration: ", vm_name(vm),
                       MIGADDR_FDSET_ID);
        return FALSE;
    }
    json_node_unref(ret);
    for (;;) {
        g_autoptr(JsonNode) sets = qmp_execute(vm_qmp(vm), "query-fdsets", NULL, deadline,
                                               error);
        if (!sets)
            return FALSE;
        *left = fdset_listed(sets);
        if (!*left || deadline_expired(grace))
            return TRUE;
        g_usleep(50 * 1000);
    }
}

/* Bytes of the open file @fd (@size bytes) in the page cache. */
static guint64 file_cached_bytes(int fd, guint64 size)
{
    long page = sysconf(_SC_PAGESIZE);
    gsize pages = (size + page - 1) / page;
    g_autofree unsigned char *vec = NULL;
    guint64 cached = 0;
    void *map;

    if (size == 0)
        return 0;
    map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return 0;
    vec = g_malloc(pages);
    if (mincore(map, size, vec) == 0)
        for (gsize i = 0; i < pages; i++)
            cached += (vec[i] & 1) ? (guint64)page : 0;
    munmap(map, size);
    return MIN(cached, size);
}

gboolean migaddr_file_inspect(const char *path, guint64 offset, MigrateStats *stats,
                              GError **error)
{
    g_autofree guint8 *head = g_malloc(offset + sizeof(qevm_magic));
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "the source completed but its "
                    "file '%s' cannot be read: %s", path, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return FALSE;
    }
    stats->file_size = st.st_size;
    stats->file_allocated = (guint64)st.st_blocks * 512;
    /* Before the read below pulls its first pages into the cache. */
    stats->file_cached = file_cached_bytes(fd, st.st_size);
    n = pread(fd, head, offset + sizeof(qevm_magic), 0);
    close(fd);
    stats->file_prefix_kept = TRUE;
    for (guint64 i = 0; i < offset; i++)
        if (n < (ssize_t)offset || head[i] != MIGADDR_FILL)
            stats->file_prefix_kept = FALSE;
    stats->file_magic_at_offset = n == (ssize_t)(offset + sizeof(qevm_magic)) &&
                                  memcmp(head + offset, qevm_magic, sizeof(qevm_magic)) == 0;
    return TRUE;
}

char *migaddr_dio_dir_new(GError **error)
{
    const char *base = g_getenv("MIGTEST_DIO_DIR") ? g_getenv("MIGTEST_DIO_DIR") : "/var/tmp";
    char *dir = g_build_filename(base, "migtest-dio-XXXXXX", NULL);
    g_autofree char *probe = NULL;
    int fd;

    if (!g_mkdtemp_full(dir, 0700)) {
        g_free(dir);
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create a directory under '%s' "
                    "for direct-io: %s; set MIGTEST_DIO_DIR", base, g_strerror(errno));
        return NULL;
    }
    probe = g_build_filename(dir, "probe", NULL);
    fd = open(probe, O_CREAT | O_WRONLY | O_DIRECT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        g_rmdir(dir);
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "direct-io: the filesystem of "
                    "'%s' refuses O_DIRECT (%s); set MIGTEST_DIO_DIR to a disk-backed "
                    "directory", base, g_strerror(e));
        g_free(dir);
        return NULL;
    }
    close(fd);
    g_unlink(probe);
    return dir;
}
