/*
 * test-reliability.c: migtest never hangs and names what went wrong.
 * A QEMU that greets and then goes silent ends the case at its deadline
 * with the awaited reply named; a QEMU that dies at start, during boot,
 * or in the middle of a migration (precopy or postcopy, either side) is
 * named, with how it died, in under a second (measured from its death to
 * migtest's exit); nothing is left behind either way.
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

/* How soon after a QEMU's death migtest must have named it and exited. */
#define NAMED_WITHIN_MS 1000

static void run_start_env(Run *r, const char *const *extra, const char *const *setenv)
{
    g_autofree char *bin = build_path("migtest");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;

    g_auto(GStrv) env = g_get_environ();

    r->dir = g_dir_make_tmp("migtest-rel-XXXXXX", NULL);
    r->run_base = g_mkdtemp_full(g_strdup("/dev/shm/migtest-rel-XXXXXX"), 0700);
    env = g_environ_setenv(env, "MIGTEST_RUN_BASE", r->run_base, TRUE);
    for (guint i = 0; setenv && setenv[i]; i += 2)
        env = g_environ_setenv(env, setenv[i], setenv[i + 1], TRUE);
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

static void run_start(Run *r, const char *const *extra)
{
    run_start_env(r, extra, NULL);
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

/* Kill one side's QEMU once the source's QMP log shows @status. */
static void kill_side_mid_migration(const char *side, const char *case_name,
                                    const char *status)
{
    const char *extra[] = { "--arch", "x86_64", "--accel", "tcg", "--case", case_name, NULL };
    g_autofree char *leaf = g_strdelimit(g_strdup(case_name + 1), "/", '-');
    g_autofree char *qmp_log = NULL;
    g_autofree char *needle = g_strdup_printf("migtest-%s,", side);
    g_autofree char *want = NULL;
    g_autofree char *seen = g_strdup_printf("\"status\": \"%s\"", status);
    g_autofree char *report = NULL;
    Run r = { 0 };
    GPid victim;
    gint64 t_kill;

    run_start(&r, extra);
    qmp_log = g_build_filename(r.dir, leaf, "src.qmp", NULL);
    g_assert_true(logwait_for_text(qmp_log, seen, 60000));
    leftovers_children(r.pid, needle, &victim);
    g_assert_cmpint(victim, >, 0);
    t_kill = g_get_monotonic_time();
    kill(victim, SIGKILL);
    run_wait(&r, 60000);
    g_test_message("%s killed in %s: migtest ended %" G_GINT64_FORMAT " ms later", side,
                   status, (r.t_end - t_kill) / 1000);
    g_assert_cmpint((r.t_end - t_kill) / 1000, <, NAMED_WITHIN_MS);
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

/* auto-converge runs at 32 MiB/s: seconds of "active" to hit. */
static void test_dst_dies(void)
{
    kill_side_mid_migration("dst", "/x86_64/auto-converge/tcp", "active");
}

static void test_src_dies(void)
{
    kill_side_mid_migration("src", "/x86_64/auto-converge/tcp", "active");
}

/* In postcopy the source does not fail when its destination dies: it
 * pauses, waiting for a recovery that will never come. */
static void test_dst_dies_in_postcopy(void)
{
    kill_side_mid_migration("dst", "/x86_64/postcopy/tcp", "postcopy-active");
}

/* A fake source that dies as FAKE_QEMU_MODE says; migtest must name it
 * (its exit status and its last stderr line) within NAMED_WITHIN_MS of
 * the death, which the fake stamps into a file. */
static void fake_source_dies(const char *mode, const char *want)
{
    g_autofree char *fake = source_path("tests/fake-qemu.py");
    const char *extra[] = { "--arch", "x86_64", "--accel", "tcg", "--case", "/x86_64/precopy/tcp",
                            "--src-qemu", fake, "--dst-qemu", fake, NULL };
    g_autofree char *died_file = NULL;
    g_autofree char *died = NULL;
    g_autofree char *report = NULL;
    Run r = { 0 };
    gint64 t_died;

    r.dir = NULL;
    died_file = g_build_filename(g_get_tmp_dir(), "migtest-rel-died-XXXXXX", NULL);
    g_close(g_mkstemp(died_file), NULL);
    {
        const char *env[] = { "FAKE_QEMU_MODE", mode, "FAKE_QEMU_DIED_FILE", died_file, NULL };
        run_start_env(&r, extra, env);
    }
    run_wait(&r, 60000);
    g_assert_true(g_file_get_contents(died_file, &died, NULL, NULL));
    g_unlink(died_file);
    t_died = g_ascii_strtoll(died, NULL, 10);
    g_assert_cmpint(t_died, >, 0);
    g_test_message("fake source %s: migtest ended %" G_GINT64_FORMAT " ms after its death",
                   mode, (r.t_end - t_died) / 1000);
    g_assert_cmpint((r.t_end - t_died) / 1000, <, NAMED_WITHIN_MS);
    g_assert_true(WIFEXITED(r.status));
    g_assert_cmpint(WEXITSTATUS(r.status), ==, 1);
    report = run_report(&r);
    g_test_message("report: %s", report);
    g_assert_nonnull(strstr(report, want));
    g_assert_cmpuint(leftovers_children(r.pid, "fake-qemu", NULL), ==, 0);
    g_assert_cmpuint(leftovers_entries(r.run_base), ==, 0);
    run_clear(&r);
}

static void test_dies_at_start(void)
{
    fake_source_dies("die-at-start", "src QEMU exited with status 1 at start: "
                     "qemu-system-x86_64: unsupported machine type");
}

static void test_dies_in_boot(void)
{
    fake_source_dies("die-in-boot", "during boot: src QEMU (pid ");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reliability/silent-qemu-times-out", test_silent_qemu_times_out);
    g_test_add_func("/reliability/dst-dies-mid-migration", test_dst_dies);
    g_test_add_func("/reliability/src-dies-mid-migration", test_src_dies);
    g_test_add_func("/reliability/dst-dies-in-postcopy", test_dst_dies_in_postcopy);
    g_test_add_func("/reliability/qemu-dies-at-start", test_dies_at_start);
    g_test_add_func("/reliability/qemu-dies-in-boot", test_dies_in_boot);
    return g_test_run();
}
