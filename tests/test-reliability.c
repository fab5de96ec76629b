/*
 * test-reliability.c: migtest never hangs and names what went wrong.
 * A QEMU that greets and then goes silent ends the case at its deadline
 * with the awaited reply named; a destination or source QEMU killed in
 * the middle of a migration fails the case within seconds, naming which
 * one died and how; nothing is left behind either way.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "deadline.h"
#include "leftovers.h"
#include "logwait.h"

static char *build_path(const char *leaf)
{
    return g_build_filename(g_getenv("MIGTEST_BUILD_ROOT"), leaf, NULL);
}

static char *source_path(const char *leaf)
{
    return g_build_filename(g_getenv("MIGTEST_SOURCE_ROOT"), leaf, NULL);
}

typedef struct {
    char *dir;
    char *run_base;             /* MIGTEST_RUN_BASE for this run */
    char *json;
    GPid pid;
    gint64 t_end;
    int status;
} Run;

static void run_start(Run *r, const char *const *extra)
{
    g_autofree char *bin = build_path("migtest");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;

    g_auto(GStrv) env = g_get_environ();

    r->dir = g_dir_make_tmp("migtest-rel-XXXXXX", NULL);
    r->run_base = g_mkdtemp_full(g_strdup("/dev/shm/migtest-rel-XXXXXX"), 0700);
    env = g_environ_setenv(env, "MIGTEST_RUN_BASE", r->run_base, TRUE);
    r->json = g_build_filename(r->dir, "r.json", NULL);
    g_ptr_array_add(argv, bin);
    g_ptr_array_add(argv, (gpointer)"run");
    g_ptr_array_add(argv, (gpointer)"--results");
    g_ptr_array_add(argv, r->dir);
    g_ptr_array_add(argv, (gpointer)"--json");
    g_ptr_array_add(argv, r->json);
    for (guint i = 0; extra[i]; i++)
        g_ptr_array_add(argv, (gpointer)extra[i]);
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_async(NULL, (char **)argv->pdata, env,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                NULL, NULL, &r->pid, &error));
    g_assert_no_error(error);
}

/* Reap migtest, failing the test if it outlives @timeout_ms. */
static void run_wait(Run *r, gint64 timeout_ms)
{
    Deadline d = deadline_in_ms(timeout_ms);

    while (waitpid(r->pid, &r->status, WNOHANG) != r->pid) {
        if (deadline_expired(d)) {
            kill(r->pid, SIGKILL);
            waitpid(r->pid, &r->status, 0);
            g_error("migtest still running after %" G_GINT64_FORMAT " ms", timeout_ms);
        }
        g_usleep(5000);
    }
    r->t_end = g_get_monotonic_time();
}

static char *run_report(Run *r)
{
    char *text = NULL;

    g_assert_true(g_file_get_contents(r->json, &text, NULL, NULL));
    return text;
}

static void run_clear(Run *r)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", r->dir);

    g_assert_cmpint(system(cmd), ==, 0);
    g_assert_cmpint(g_rmdir(r->run_base), ==, 0);  /* empty: nothing left behind */
    g_free(r->run_base);
    g_free(r->dir);
    g_free(r->json);
}

static void test_silent_qemu_times_out(void)
{
    g_autofree char *fake = source_path("tests/fake-qemu.py");
    const char *extra[] = { "--arch", "x86_64", "--accel", "tcg", "--timeout", "3",
                            "--src-qemu", fake, "--dst-qemu", fake, NULL };
    g_autofree char *report = NULL;
    Run r = { 0 };
    gint64 t0 = g_get_monotonic_time();

    run_start(&r, extra);
    run_wait(&r, 30000);
    g_test_message("silent QEMU: migtest ended after %" G_GINT64_FORMAT " ms",
                   (r.t_end - t0) / 1000);
    g_assert_true(WIFEXITED(r.status));
    g_assert_cmpint(WEXITSTATUS(r.status), ==, 1);
    report = run_report(&r);
    g_assert_nonnull(strstr(report, "\"outcome\" : \"error\""));
    g_assert_nonnull(strstr(report, "timed out waiting for the reply to"));
    g_assert_cmpuint(leftovers_children(r.pid, "fake-qemu", NULL), ==, 0);
    g_assert_cmpuint(leftovers_entries(r.run_base), ==, 0);
    run_clear(&r);
}

/* Kill one side's QEMU once the migration is active. */
static void kill_side_mid_migration(const char *side)
{
    const char *extra[] = { "--arch", "x86_64", "--accel", "tcg",
                            "--case", "/x86_64/auto-converge/tcp", NULL };
    g_autofree char *qmp_log = NULL;
    g_autofree char *needle = g_strdup_printf("migtest-%s,", side);
    g_autofree char *want = NULL;
    g_autofree char *report = NULL;
    Run r = { 0 };
    GPid victim;
    gint64 t_kill;

    run_start(&r, extra);
    qmp_log = g_build_filename(r.dir, "x86_64-auto-converge-tcp", "src.qmp", NULL);
    /* auto-converge runs at 32 MiB/s: seconds of "active" to hit. */
    g_assert_true(logwait_for_text(qmp_log, "\"status\": \"active\"", 60000));
    leftovers_children(r.pid, needle, &victim);
    g_assert_cmpint(victim, >, 0);
    t_kill = g_get_monotonic_time();
    kill(victim, SIGKILL);
    run_wait(&r, 60000);
    g_test_message("%s killed: migtest ended %" G_GINT64_FORMAT " ms later", side,
                   (r.t_end - t_kill) / 1000);
    g_assert_cmpint((r.t_end - t_kill) / 1000, <, 15000);
    g_assert_true(WIFEXITED(r.status));
    g_assert_cmpint(WEXITSTATUS(r.status), ==, 1);
    report = run_report(&r);
    want = g_strdup_printf("%s QEMU (pid %d) was killed by signal 9", side, (int)victim);
    g_test_message("report: %s", report);
    g_assert_nonnull(strstr(report, want));
    g_assert_nonnull(strstr(report, "\"outcome\" : \"fail\""));
    g_assert_cmpuint(leftovers_children(r.pid, "migtest-", NULL), ==, 0);
    g_assert_cmpuint(leftovers_entries(r.run_base), ==, 0);
    run_clear(&r);
}

static void test_dst_dies(void)
{
    kill_side_mid_migration("dst");
}

static void test_src_dies(void)
{
    kill_side_mid_migration("src");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reliability/silent-qemu-times-out", test_silent_qemu_times_out);
    g_test_add_func("/reliability/dst-dies-mid-migration", test_dst_dies);
    g_test_add_func("/reliability/src-dies-mid-migration", test_src_dies);
    return g_test_run();
}
