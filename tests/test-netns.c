/*
 * test-netns.c: cases over a real link (src/netns.h), with real QEMU.
 * A lossy link loses packets (counted by nftables) and the migration
 * still verifies exactly, with the link's settings in the JSON; a link
 * cut mid-precopy fails the migration, the source runs on clean and a
 * second migration over the restored link passes; a cut in postcopy
 * pauses both sides and recovers on a new port; the wan rows pass, or
 * skip naming the netem qdisc this kernel lacks; SIGTERM in the middle
 * of a cut leaves no namespace behind, and the namespaces of a migtest
 * killed with SIGKILL are swept by the next run.  Skipped as a whole
 * when this host cannot make namespaces (not root, no nft).
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "deadline.h"
#include "logwait.h"

typedef struct {
    char *dir;
    char *json;
    GPid pid;
    int status;
} Run;

static void run_start(Run *r, const char *case_glob)
{
    g_autofree char *bin = g_build_filename(g_getenv("MIGTEST_BUILD_ROOT"), "migtest", NULL);
    const char *argv[] = { bin, "run", "--arch", "x86_64", "--accel", "tcg", "--case", case_glob,
                           "--results", NULL, "--json", NULL, NULL };
    g_autoptr(GError) error = NULL;

    r->dir = g_dir_make_tmp("migtest-netns-XXXXXX", NULL);
    r->json = g_build_filename(r->dir, "r.json", NULL);
    argv[9] = r->dir;
    argv[11] = r->json;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                NULL, NULL, &r->pid, &error));
    g_assert_no_error(error);
}

static void run_wait(Run *r)
{
    Deadline d = deadline_in_ms(240000);

    while (waitpid(r->pid, &r->status, WNOHANG) != r->pid) {
        if (deadline_expired(d)) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &r->status, 0);
            g_error("migtest still running after 240 s");
        }
        g_usleep(20000);
    }
}

static void run_clear(Run *r)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", r->dir);

    g_assert_cmpint(system(cmd), ==, 0);
    g_free(r->dir);
    g_free(r->json);
}

/* Namespaces whose name starts with "mt<pid>-". */
static guint namespaces_of(GPid pid)
{
    g_autoptr(GDir) dir = g_dir_open("/run/netns", 0, NULL);
    g_autofree char *prefix = g_strdup_printf("mt%d-", (int)pid);
    const char *name;
    guint n = 0;

    while (dir && (name = g_dir_read_name(dir)))
        n += g_str_has_prefix(name, prefix);
    return n;
}

/* Run @case_glob to its end; returns its only case's JSON object (new ref
 * of the parser's tree, kept alive by @parser). */
static JsonObject *run_case(const char *case_glob, JsonParser *parser, int *exit_status)
{
    g_autoptr(GError) error = NULL;
    Run r = { 0 };
    JsonArray *cases;

    run_start(&r, case_glob);
    run_wait(&r);
    g_assert_true(WIFEXITED(r.status));
    *exit_status = WEXITSTATUS(r.status);
    g_assert_cmpuint(namespaces_of(r.pid), ==, 0);
    g_assert_true(json_parser_load_from_file(parser, r.json, &error));
    g_assert_no_error(error);
    run_clear(&r);
    cases = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
                                         "cases");
    g_assert_cmpuint(json_array_get_length(cases), ==, 1);
    return json_array_get_object_element(cases, 0);
}

static gboolean netns_usable(void)
{
    g_autofree char *nft = g_find_program_in_path("nft");

    if (geteuid() == 0 && nft)
        return TRUE;
    g_test_skip("needs root and nftables for network namespaces");
    return FALSE;
}

static void expect_pass(JsonObject *c)
{
    g_test_message("%s: %s (%s)", json_object_get_string_member(c, "name"),
                   json_object_get_string_member(c, "outcome"),
                   json_object_get_string_member_with_default(c, "reason", ""));
    g_assert_cmpstr(json_object_get_string_member(c, "outcome"), ==, "pass");
}

static void test_lossy(void)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *c, *link, *exact;
    int status;

    if (!netns_usable())
        return;
    c = run_case("/x86_64/precopy/tcp/lossy", p, &status);
    expect_pass(c);
    g_assert_cmpint(status, ==, 0);
    link = json_object_get_object_member(c, "link");
    g_assert_nonnull(link);
    g_assert_cmpint(json_object_get_int_member(link, "loss_pct"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(link, "delay_ms_each_way"), ==, 0);
    g_assert_nonnull(strstr(json_object_get_string_member(link, "log"), "packets dropped"));
    g_assert_null(strstr(json_object_get_string_member(link, "log"), "; 0 packets dropped"));
    exact = json_object_get_object_member(json_object_get_object_member(c, "verify"), "exact");
    g_assert_cmpint(json_object_get_int_member(exact, "pages_differing"), ==, 0);
    g_assert_cmpint(json_object_get_int_member(exact, "pages_compared"), >, 0);
}

static void test_precopy_cut(void)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *c;
    const char *log;
    int status;

    if (!netns_usable())
        return;
    c = run_case("/x86_64/precopy/tcp/cut", p, &status);
    expect_pass(c);
    log = json_object_get_string_member(json_object_get_object_member(c, "link"), "log");
    g_assert_nonnull(strstr(log, "link cut (src active)"));
    g_assert_nonnull(strstr(log, "link restored (src failed)"));
    g_assert_cmpstr(json_object_get_string_member(c, "migration_status"), ==, "failed");
}

static void test_postcopy_cut(void)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *c;
    const char *log;
    int status;

    if (!netns_usable())
        return;
    c = run_case("/x86_64/postcopy/tcp/cut", p, &status);
    expect_pass(c);
    log = json_object_get_string_member(json_object_get_object_member(c, "link"), "log");
    g_assert_nonnull(strstr(log, "src postcopy-paused"));
    g_assert_nonnull(strstr(log, "dst postcopy-paused"));
    g_assert_nonnull(strstr(log, "migrate resume to tcp:10.77.0.2:"));
}

/* Delay needs sch_netem: pass where the kernel has it, else a skip that
 * says so (never a pass without the delay). */
static void test_wan(void)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *c;
    const char *outcome;
    int status;

    if (!netns_usable())
        return;
    c = run_case("/x86_64/precopy/tcp/wan", p, &status);
    outcome = json_object_get_string_member(c, "outcome");
    g_test_message("wan: %s %s", outcome, json_object_get_string_member_with_default(c, "reason", ""));
    if (g_str_equal(outcome, "skip"))
        g_assert_nonnull(strstr(json_object_get_string_member(c, "reason"), "netem"));
    else
        g_assert_cmpstr(outcome, ==, "pass");
}

/* SIGTERM while the link is cut: exit 128+15, no namespace left. */
static void test_sigterm_cleans_up(void)
{
    g_autofree char *qmp = NULL;
    Run r = { 0 };

    if (!netns_usable())
        return;
    run_start(&r, "/x86_64/postcopy/tcp/cut");
    qmp = g_build_filename(r.dir, "x86_64-postcopy-tcp-cut", "src.qmp", NULL);
    g_assert_true(logwait_for_text(qmp, "\"status\": \"postcopy-active\"", 60000));
    g_assert_cmpuint(namespaces_of(r.pid), ==, 2);
    kill(r.pid, SIGTERM);
    run_wait(&r);
    g_assert_true(WIFEXITED(r.status));
    g_assert_cmpint(WEXITSTATUS(r.status), ==, 128 + SIGTERM);
    g_assert_cmpuint(namespaces_of(r.pid), ==, 0);
    run_clear(&r);
}

/* A namespace named for a pid that no longer runs (a migtest killed
 * with SIGKILL) is deleted by the next run over a real link. */
static void test_stale_swept(void)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autofree char *name = NULL;
    g_autofree char *cmd = NULL;
    g_autofree char *path = NULL;
    GPid dead;
    int status;

    if (!netns_usable())
        return;
    g_assert_true(g_spawn_async(NULL, (char *[]){ "true", NULL }, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &dead, NULL));
    waitpid(dead, NULL, 0);                     /* now a pid nobody has */
    name = g_strdup_printf("mt%d-0d", (int)dead);
    path = g_build_filename("/run/netns", name, NULL);
    cmd = g_strdup_printf("ip netns add %s", name);
    g_assert_cmpint(system(cmd), ==, 0);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    run_case("/x86_64/precopy/tcp/lossy", p, &status);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/netns/lossy", test_lossy);
    g_test_add_func("/netns/precopy-cut", test_precopy_cut);
    g_test_add_func("/netns/postcopy-cut", test_postcopy_cut);
    g_test_add_func("/netns/wan-or-skip", test_wan);
    g_test_add_func("/netns/sigterm-cleans-up", test_sigterm_cleans_up);
    g_test_add_func("/netns/stale-swept", test_stale_swept);
    return g_test_run();
}
