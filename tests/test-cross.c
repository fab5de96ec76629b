/*
 * test-cross.c: cross-version migration through build/migtest.  With a
 * second QEMU in a private prefix (scripts/fetch-qemu bookworm-backports;
 * the path is $MIGTEST_QEMU_PREFIX, else /opt/migtest-qemu/bookworm-backports),
 * the smoke cases run from the system's QEMU to the prefix's and back, on
 * both architectures, under TCG: migtest exits 0, every row is "pass", and
 * the report shows two different QEMU versions.  Without the prefix each
 * test is a SKIP that says how to get one.
 *
 * This tests migtest, not QEMU: a pair that cannot migrate (aarch64 7.2 <->
 * 10.0 cannot today, docs/findings/002) must be reported as a FAIL with
 * the destination's reason and its logs kept, and exit 1; a pair that can
 * must pass with 0 pages differing.  Either way the test passes.
 *
 * Every wait is bounded: migtest gets a per-case --timeout and the whole
 * spawn a wall-clock deadline, after which its process group gets SIGTERM,
 * then SIGKILL.
 */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include "deadline.h"
#include "rundir.h"

#define DEFAULT_PREFIX "/opt/migtest-qemu/bookworm-backports"
#define CASE_TIMEOUT_S 45                       /* migtest --timeout, per case */
#define RUN_DEADLINE_MS ((2 * CASE_TIMEOUT_S + 20) * 1000)   /* two smoke cases */
#define TERM_GRACE_MS 15000

/* The destination's words when it cannot take the Arm CPU's state. */

typedef struct {
    const char *arch;
    gboolean from_system;       /* system QEMU -> prefix QEMU, else the reverse */
} CrossSpec;

static const CrossSpec specs[] = {
    { "x86_64", TRUE }, { "x86_64", FALSE }, { "aarch64", TRUE }, { "aarch64", FALSE },
};

static char *prefix_path(void)
{
    const char *env = g_getenv("MIGTEST_QEMU_PREFIX");

    return g_strdup(env && *env ? env : DEFAULT_PREFIX);
}

static guint count_run_dirs(void)
{
    const char *base = g_getenv("MIGTEST_RUN_BASE") ? g_getenv("MIGTEST_RUN_BASE") : "/dev/shm";
    g_autoptr(GDir) d = g_dir_open(base, 0, NULL);
    const char *name;
    guint n = 0;

    while (d && (name = g_dir_read_name(d)))
        n += g_str_has_prefix(name, "migtest-");
    return n;
}

typedef struct {
    gboolean done;
    char *out, *err;
    GError *error;
} Communicate;

static void communicate_done(GObject *proc, GAsyncResult *res, gpointer data)
{
    Communicate *c = data;

    g_subprocess_communicate_utf8_finish(G_SUBPROCESS(proc), res, &c->out, &c->err, &c->error);
    c->done = TRUE;
}

/* Iterate @ctx until @c is done or @deadline passes. */
static gboolean wait_done(GMainContext *ctx, Communicate *c, Deadline deadline)
{
    while (!c->done && !deadline_expired(deadline)) {
        if (!g_main_context_iteration(ctx, FALSE))
            g_usleep(10000);
    }
    return c->done;
}

static void exited(GObject *proc, GAsyncResult *res, gpointer data)
{
    g_subprocess_wait_finish(G_SUBPROCESS(proc), res, NULL);
    *(gboolean *)data = TRUE;
}

static gboolean wait_exited(GSubprocess *proc, GMainContext *ctx, gint64 timeout_ms)
{
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    Deadline deadline = deadline_in_ms(timeout_ms);
    gboolean done = FALSE;

    g_main_context_push_thread_default(ctx);
    g_subprocess_wait_async(proc, cancel, exited, &done);
    while (!done && !deadline_expired(deadline))
        if (!g_main_context_iteration(ctx, FALSE))
            g_usleep(10000);
    g_cancellable_cancel(cancel);
    while (!done)           /* the cancelled wait reports at once */
        g_main_context_iteration(ctx, TRUE);
    g_main_context_pop_thread_default(ctx);
    return g_subprocess_get_identifier(proc) == NULL;
}

/* In the child: a process group to signal as one, and an end with us. */
static void own_process_group(gpointer data)
{
    (void)data;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Run migtest with @args; the exit status (128+N for signal N), bounded.
 * migtest runs in a process group of its own, so that on the deadline it
 * and whatever it started (QEMU) get SIGTERM, then SIGKILL. */
static int run_migtest(const char *const *args, char **out, char **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GMainContext) ctx = g_main_context_new();
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    Communicate c = { 0 };
    gint64 t0 = g_get_monotonic_time();
    gboolean timed_out = FALSE;
    pid_t pgid;

    g_ptr_array_add(argv, g_build_filename(g_getenv("MIGTEST_BUILD_ROOT"), "migtest", NULL));
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, g_strdup(args[i]));
    g_ptr_array_add(argv, NULL);
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                         G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_subprocess_launcher_set_child_setup(launcher, own_process_group, NULL, NULL);
    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
    g_assert_no_error(error);
    pgid = (pid_t)g_ascii_strtoll(g_subprocess_get_identifier(proc), NULL, 10);
    g_main_context_push_thread_default(ctx);
    g_subprocess_communicate_utf8_async(proc, NULL, NULL, communicate_done, &c);
    if (!wait_done(ctx, &c, deadline_in_ms(RUN_DEADLINE_MS))) {
        g_test_message("migtest still running after %d s: SIGTERM", RUN_DEADLINE_MS / 1000);
        timed_out = TRUE;
        kill(-pgid, SIGTERM);
        if (!wait_done(ctx, &c, deadline_in_ms(TERM_GRACE_MS))) {
            g_test_message("migtest still running %d s after SIGTERM: SIGKILL",
                           TERM_GRACE_MS / 1000);
            kill(-pgid, SIGKILL);
            wait_done(ctx, &c, deadline_in_ms(TERM_GRACE_MS));
        }
    }
    g_main_context_pop_thread_default(ctx);
    if (!c.done)
        g_error("migtest (pid %d) did not end %d s after SIGKILL: something outside "
                "its process group holds its output", (int)pgid, TERM_GRACE_MS / 1000);
    g_assert_no_error(c.error);
    *out = c.out;
    *err = c.err;
    g_test_message("migtest %s: %" G_GINT64_FORMAT " ms", args[0],
                   (g_get_monotonic_time() - t0) / 1000);
    /* Output ends with the process, or nearly: the status, bounded too. */
    if (!wait_exited(proc, ctx, TERM_GRACE_MS)) {
        kill(-pgid, SIGKILL);
        g_assert_true(wait_exited(proc, ctx, TERM_GRACE_MS));
    }
    g_test_message("stdout:\n%sstderr:\n%s", *out, *err);
    g_assert_true(!timed_out && "migtest ended before the test's deadline");
    return g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc)
                                            : 128 + g_subprocess_get_term_sig(proc);
}

/* The table rows ("/arch/case  outcome ..."), name -> outcome. */
static GHashTable *table_rows(const char *out)
{
    GHashTable *rows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) words = NULL;
        if (lines[i][0] != '/')
            continue;
        words = g_strsplit_set(lines[i], " \t", -1);
        for (guint w = 1; words[w]; w++)
            if (*words[w]) {
                g_hash_table_insert(rows, g_strdup(words[0]), g_strdup(words[w]));
                break;
            }
    }
    return rows;
}

static const char *member_str(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
           ? json_node_get_string(n) : NULL;
}

static JsonObject *member_obj(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *report_cases(JsonParser *parser, const char *json_path)
{
    g_autoptr(GError) error = NULL;
    JsonNode *root, *cases;

    g_assert_true(json_parser_load_from_file(parser, json_path, &error));
    g_assert_no_error(error);
    root = json_parser_get_root(parser);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    cases = json_object_get_member(json_node_get_object(root), "cases");
    g_assert_nonnull(cases);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(cases));
    return json_node_get_array(cases);
}

static guint check_case(JsonObject *c, GHashTable *rows, const char *arch)
{
    const char *name = member_str(c, "name");
    const char *outcome = member_str(c, "outcome");
    const char *src_version = member_str(c, "src_qemu_version");
    const char *dst_version = member_str(c, "dst_qemu_version");
    JsonObject *exact = member_obj(member_obj(c, "verify"), "exact");

    g_assert_nonnull(name);
    g_assert_true(g_str_has_prefix(name + 1, arch));
    g_assert_cmpstr(g_hash_table_lookup(rows, name), ==, outcome);
    /* Two releases really took part. */
    g_assert_nonnull(src_version);
    g_assert_nonnull(dst_version);
    g_assert_cmpstr(src_version, !=, dst_version);
    if (g_strcmp0(outcome, "pass") == 0) {
        g_assert_cmpstr(member_str(c, "migration_status"), ==, "completed");
        g_assert_nonnull(exact);
        g_assert_cmpint(json_object_get_int_member(exact, "pages_compared"), >, 0);
        g_assert_cmpint(json_object_get_int_member(exact, "pages_differing"), ==, 0);
        g_test_message("%s: %s -> %s pass", name, src_version, dst_version);
        return 0;
    }
    g_assert_cmpstr(outcome, ==, "fail");
    g_assert_nonnull(member_str(c, "reason"));
    g_assert_nonnull(member_str(c, "log_dir"));
    {
        g_autofree char *stderr_path = g_build_filename(member_str(c, "log_dir"),
                                                        "dst.stderr", NULL);
        g_assert_true(g_file_test(stderr_path, G_FILE_TEST_EXISTS));
    }
    g_test_message("%s: %s -> %s FAIL (a QEMU finding, reported right): %s", name,
                   src_version, dst_version, member_str(c, "reason"));
    return 1;
}

static void test_cross(gconstpointer data)
{
    const CrossSpec *s = data;
    g_autofree char *prefix = prefix_path();
    g_autofree char *binary = g_strconcat("qemu-system-", s->arch, NULL);
    g_autofree char *private_qemu = g_build_filename(prefix, "bin", binary, NULL);
    g_autofree char *system_qemu = g_find_program_in_path(binary);
    g_autofree char *results = NULL, *json = NULL, *out = NULL, *err = NULL;
    g_autoptr(GHashTable) rows = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    const char *src, *dst;
    guint run_dirs_before = count_run_dirs();
    JsonArray *cases;
    int rc;

    if (!g_file_test(private_qemu, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip_printf("no second QEMU at %s; run scripts/fetch-qemu bookworm-backports",
                           prefix);
        return;
    }
    if (!system_qemu) {
        g_test_skip_printf("%s not found; install Debian's qemu-system package", binary);
        return;
    }
    src = s->from_system ? system_qemu : private_qemu;
    dst = s->from_system ? private_qemu : system_qemu;
    results = g_dir_make_tmp("migtest-cross-XXXXXX", NULL);
    g_assert_nonnull(results);
    json = g_build_filename(results, "report.json", NULL);
    g_test_message("results (kept if this test fails): %s", results);
    {
        g_autofree char *timeout = g_strdup_printf("%d", CASE_TIMEOUT_S);
        g_autofree char *log_dir = g_build_filename(results, "logs", NULL);
        const char *const args[] = { "run", "--accel", "tcg", "--arch", s->arch,
                                     "--src-qemu", src, "--dst-qemu", dst,
                                     "--timeout", timeout, "--results", log_dir,
                                     "--json", json, NULL };
        g_test_message("%s -> %s", src, dst);
        rc = run_migtest(args, &out, &err);
    }
    rows = table_rows(out);
    cases = report_cases(parser, json);
    g_assert_cmpuint(json_array_get_length(cases), >, 0);
    g_assert_cmpuint(g_hash_table_size(rows), ==, json_array_get_length(cases));
    g_assert_cmpuint(count_run_dirs(), <=, run_dirs_before);

    {
        guint failed = 0;

        for (guint i = 0; i < json_array_get_length(cases); i++)
            failed += check_case(json_array_get_object_element(cases, i), rows, s->arch);
        /* Exit status and outcomes agree: 0 only when every case passed. */
        g_assert_cmpint(rc, ==, failed ? 1 : 0);
    }
    rundir_remove(results);
}

int main(int argc, char **argv)
{
    /* Run directories of our own (on tmpfs, like the default), so that
     * other runs on the machine cannot move the leftover count. */
    char base[] = "/dev/shm/mtcross-XXXXXX";
    int rc;

    g_assert_nonnull(g_mkdtemp(base));
    g_setenv("MIGTEST_RUN_BASE", base, TRUE);
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(specs); i++) {
        g_autofree char *path = g_strdup_printf("/cross/%s/%s", specs[i].arch,
                                                specs[i].from_system ? "system-to-prefix"
                                                                     : "prefix-to-system");
        g_test_add_data_func(path, &specs[i], test_cross);
    }
    rc = g_test_run();
    rundir_remove(base);
    return rc;
}
