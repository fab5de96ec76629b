/*
 * test-run.c: migtest end to end with real QEMU.  The smoke cases pass on
 * both architectures; a byte changed behind QEMU's back after the
 * migration is caught by exact at its address (also in one RAM file both
 * QEMUs share, against the copy taken at stop); a missing QEMU is a SKIP;
 * bad command lines exit 2 with one line; SIGTERM mid-migration exits
 * 143 with the report written; and nothing is ever left behind.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "leftovers.h"
#include "logwait.h"
#include "runner.h"

#define POKE_OFFSET 0x7000000   /* 112 MiB: past the window, inside RAM */

typedef struct {
    PrivateRun run;             /* results and MIGTEST_RUN_BASE: ours alone */
    VmRamMode ram_mode;         /* shared unless a test says otherwise */
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer u)
{
    (void)u;
    private_run_begin(&f->run, "test");
}

static void fixture_teardown(Fixture *f, gconstpointer u)
{
    (void)u;
    private_run_end(&f->run);
}

static CaseResult *run_one(Fixture *f, const char *arch, const char *name,
                           const char *accel, guint64 poke_offset,
                           const char *src_qemu)
{
    const ArchDesc *archs[] = { arch_lookup(arch), NULL };
    g_autoptr(GPtrArray) cases = cases_select(archs, name);
    RunOptions opts = {
        .accel = accel,
        .src_qemu = src_qemu,
        .mem_bytes = MT_DEFAULT_MEM_MIB << 20,
        .ram_mode = f->ram_mode,
        .results_dir = f->run.results,
        .timeout_ms = 120000,
        .poke_src_gpa = poke_offset ? archs[0]->ram_base + poke_offset : 0,
    };

    g_assert_cmpuint(cases->len, ==, 1);
    return runner_run_case(cases->pdata[0], &opts);
}

/* The timeline a report draws: samples ~SAMPLE_MS apart on one clock,
 * ending completed, and the status and pass events on the same clock. */
static void expect_timeline(const CaseResult *r)
{
    const MigrateStats *m = &r->mig;
    const MigrateSample *last;
    gint64 active_ms = -1, completed_ms = -1;
    guint passes = 0;

    g_assert_nonnull(m->samples);
    g_assert_cmpuint(m->samples->len, >=, 2);
    for (guint i = 1; i < m->samples->len; i++)
        g_assert_cmpint(g_array_index(m->samples, MigrateSample, i).t_ms, >=,
                        g_array_index(m->samples, MigrateSample, i - 1).t_ms);
    last = &g_array_index(m->samples, MigrateSample, m->samples->len - 1);
    g_assert_cmpstr(last->status, ==, "completed");
    g_assert_cmpint(last->transferred, ==, (gint64)m->transferred_bytes);
    g_assert_cmpint(last->dirty_sync_count, ==, (gint64)m->dirty_sync_count);
    for (guint i = 0; i < m->events->len; i++) {
        const MigrateEvent *e = &g_array_index(m->events, MigrateEvent, i);
        if (!e->status)
            passes++;
        else if (g_str_equal(e->status, "active"))
            active_ms = e->t_ms;
        else if (g_str_equal(e->status, "completed"))
            completed_ms = e->t_ms;
    }
    g_assert_cmpint(active_ms, >=, 0);
    g_assert_cmpint(completed_ms, >=, active_ms);
    /* QEMU's own clock against ours: within a second of the last sample. */
    g_assert_cmpint(ABS(completed_ms - last->t_ms), <, 1000);
    g_assert_cmpuint(passes, >=, 1);
    /* The heartbeat gap spans the switchover: it starts before completed
     * (the source's last pass may even precede the migration's start, when
     * a loaded host lets the guest finish no pass while it runs) and ends
     * after it. */
    g_assert_cmpint(r->gap_start_us, >, 0);
    g_assert_cmpint((r->gap_start_us - m->start_us) / 1000, <=, completed_ms);
    g_assert_cmpint(r->gap_end_us, >, r->gap_start_us);
    g_assert_cmpint((r->gap_end_us - m->start_us) / 1000, >=, completed_ms);
    g_assert_cmpuint(r->window.nranges, >=, 1);
}

static void expect_pass(CaseResult *r)
{
    if (r->outcome != OUTCOME_PASS)
        g_printerr("%s: %s: %s\n", r->name, outcome_name(r->outcome), r->reason);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "pass");
    g_assert_true(r->exact_ran && r->invariant_ran && r->selfcheck_ran);
    g_assert_cmpuint(r->exact.pages_compared, ==, (MT_DEFAULT_MEM_MIB << 20) / MT_PAGE_SIZE);
    g_assert_cmpuint(r->exact.pages_differing, ==, 0);
    g_assert_true(r->invariant.ok);
    g_assert_cmpstr(r->mig.final_status, ==, "completed");
    g_assert_cmpint(r->mig.total_ms, >, 0);
    g_assert_cmpuint(r->mig.transferred_bytes, >, 90u << 20);
    g_assert_null(r->log_dir);      /* a passing case leaves no logs */
    expect_timeline(r);
}

static void test_smoke_x86_tcp(Fixture *f, gconstpointer u)
{
    g_autoptr(CaseResult) r = run_one(f, "x86_64", "/x86_64/precopy/tcp", NULL, 0, NULL);

    (void)u;
    expect_pass(r);
}

static void test_smoke_aarch64_unix(Fixture *f, gconstpointer u)
{
    g_autoptr(CaseResult) r = run_one(f, "aarch64", "/aarch64/precopy/unix", "tcg", 0, NULL);

    (void)u;
    expect_pass(r);
}

static void expect_poke_caught(Fixture *f, const char *arch, const char *name)
{
    g_autoptr(CaseResult) r = run_one(f, arch, name, "tcg", POKE_OFFSET, NULL);
    guint64 gpa = arch_lookup(arch)->ram_base + POKE_OFFSET;
    g_autofree char *addr = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", gpa);

    g_assert_cmpstr(outcome_name(r->outcome), ==, "fail");
    g_assert_true(r->exact_ran);
    g_assert_cmpuint(r->exact.pages_differing, ==, 1);
    g_assert_cmphex(r->exact.diffs[0].gpa, ==, gpa);
    g_assert_cmphex(r->exact.diffs[0].src[0], ==, r->exact.diffs[0].dst[0] ^ 0xff);
    g_assert_cmpuint(r->exact.pages->len, ==, 1);
    g_assert_cmphex(g_array_index(r->exact.pages, ExactDiff, 0).gpa, ==, gpa);
    g_assert_cmpuint(g_array_index(r->exact.pages, ExactDiff, 0).bytes_differing, ==, 1);
    g_assert_nonnull(strstr(r->reason, addr));
    /* A failed case keeps its logs. */
    g_assert_nonnull(r->log_dir);
    g_assert_true(g_file_test(r->log_dir, G_FILE_TEST_IS_DIR));
}

static void test_exact_sees_poke_x86(Fixture *f, gconstpointer u)
{
    (void)u;
    expect_poke_caught(f, "x86_64", "/x86_64/precopy/unix");
}

static void test_exact_sees_poke_aarch64(Fixture *f, gconstpointer u)
{
    (void)u;
    expect_poke_caught(f, "aarch64", "/aarch64/precopy/tcp");
}

/* --ram private: plain anonymous RAM, read (and poked) through
 * /proc/PID/mem; the same change behind QEMU's back must be caught. */
static void test_exact_sees_poke_private_ram(Fixture *f, gconstpointer u)
{
    (void)u;
    f->ram_mode = VM_RAM_PRIVATE;
    {
        g_autoptr(CaseResult) clean = run_one(f, "x86_64", "/x86_64/precopy/tcp", "tcg", 0, NULL);
        expect_pass(clean);
    }
    expect_poke_caught(f, "x86_64", "/x86_64/precopy/tcp");
}

/* x-ignore-shared on one tmpfs file: both QEMUs map it, so source against
 * destination would compare the file with itself.  The destination is
 * compared with a copy of the source's RAM taken at stop: clean, it
 * passes with next to nothing sent; a byte changed in the shared file
 * after the migration is caught at its address. */
static void test_copy_at_stop_sees_poke(Fixture *f, gconstpointer u)
{
    (void)u;
    {
        g_autoptr(CaseResult) clean = run_one(f, "x86_64", "/x86_64/ignore-shared/file", "tcg",
                                              0, NULL);
        if (clean->outcome != OUTCOME_PASS)
            g_printerr("%s: %s\n", outcome_name(clean->outcome), clean->reason);
        g_assert_cmpstr(outcome_name(clean->outcome), ==, "pass");
        g_assert_true(clean->exact_ran && clean->selfcheck_ran);
        g_assert_cmpuint(clean->exact.pages_compared, ==, (MT_DEFAULT_MEM_MIB << 20) / MT_PAGE_SIZE);
        g_assert_cmpuint(clean->mig.transferred_bytes, <, 4u << 20);
    }
    expect_poke_caught(f, "x86_64", "/x86_64/ignore-shared/file");
}

static void test_missing_qemu_is_skip(Fixture *f, gconstpointer u)
{
    g_autoptr(CaseResult) r = run_one(f, "x86_64", "/x86_64/precopy/tcp", "tcg", 0,
                                      "qemu-system-does-not-exist");

    (void)u;
    g_assert_cmpstr(outcome_name(r->outcome), ==, "skip");
    g_assert_nonnull(strstr(r->reason, "qemu-system-does-not-exist"));
}

/* A few catalogue rows whose driving is migtest's own logic: a cancel
 * followed by a second migration, a failed connect, a migration that must
 * not converge, and a postcopy switch.  Each must pass and say what it saw. */
static void expect_catalogue_pass(Fixture *f, const char *arch, const char *name,
                                  const char *observed_prefix)
{
    g_autoptr(CaseResult) r = run_one(f, arch, name, "tcg", 0, NULL);

    if (r->outcome != OUTCOME_PASS)
        g_printerr("%s: %s: %s\n", r->name, outcome_name(r->outcome), r->reason);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "pass");
    if (observed_prefix) {
        g_assert_nonnull(r->observed);
        g_assert_true(g_str_has_prefix(r->observed, observed_prefix));
    }
}

static void test_catalogue_cancel_active(Fixture *f, gconstpointer u)
{
    (void)u;
    expect_catalogue_pass(f, "aarch64", "/aarch64/cancel/active", "cancelled in active");
}

static void test_catalogue_bad_destination(Fixture *f, gconstpointer u)
{
    (void)u;
    expect_catalogue_pass(f, "x86_64", "/x86_64/bad-destination/tcp", NULL);
}

static void test_catalogue_non_converging(Fixture *f, gconstpointer u)
{
    (void)u;
    expect_catalogue_pass(f, "x86_64", "/x86_64/non-converging/tcp", "still active after");
}

static void test_catalogue_postcopy(Fixture *f, gconstpointer u)
{
    (void)u;
    expect_catalogue_pass(f, "aarch64", "/aarch64/postcopy/tcp", "postcopy-active");
}

/* The Arm coherency guard refuses where it must: a guest with its MMU off
 * at the start check, and one that turns it off mid-migration at
 * pre-switchover (not at the start); both are SKIPs naming the vCPU's
 * SCTLR_EL1, and the source ran on. */
static void expect_refused(Fixture *f, const char *name, const char *when)
{
    g_autoptr(CaseResult) r = run_one(f, "aarch64", name, "tcg", 0, NULL);
    g_autofree char *at = g_strdup_printf("at %s: vCPU 0 SCTLR_EL1=0x", when);

    if (r->outcome != OUTCOME_SKIP)
        g_printerr("%s: %s: %s\n", r->name, outcome_name(r->outcome), r->reason);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "skip");
    g_assert_nonnull(strstr(r->reason, at));
    g_assert_nonnull(strstr(r->reason, "(M=0 C=0)"));
    g_assert_true(r->coherency_ran);
    g_assert_cmpstr(r->coherency.fired, ==, when);
    /* Each check that ran is recorded; the last one is the one that fired. */
    g_assert_cmpstr(g_array_index(r->coherency.checks, CoherencyCheck,
                                  r->coherency.checks->len - 1).when, ==, when);
    g_assert_true(r->selfcheck_ran && r->selfcheck.ok);   /* the source ran on */
}

static void test_coherency_refused_at_start(Fixture *f, gconstpointer u)
{
    (void)u;
    expect_refused(f, "/aarch64/coherency/mmu-off/refuse", "start");
}

static void test_coherency_refused_at_pre_switchover(Fixture *f, gconstpointer u)
{
    (void)u;
    expect_refused(f, "/aarch64/coherency/mmu-off-late/refuse", "pre-switchover");
}

static void test_coherency_mmu_on_passes(Fixture *f, gconstpointer u)
{
    g_autoptr(CaseResult) r = run_one(f, "aarch64", "/aarch64/coherency/mmu-on/refuse",
                                      "tcg", 0, NULL);

    (void)u;
    expect_pass(r);
    g_assert_null(r->coherency.fired);
    g_assert_cmpuint(r->coherency.checks->len, ==, 2);     /* start, pre-switchover */
}

/* ---- the CLI ---------------------------------------------------------- */

static char *migtest_path(void)
{
    return g_build_filename(g_getenv("MIGTEST_BUILD_ROOT"), "migtest", NULL);
}

static int run_cli(const char *const *args, char **out, char **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    int status;

    g_ptr_array_add(argv, migtest_path());
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, g_strdup(args[i]));
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, 0, NULL, NULL,
                               out, err, &status, &error));
    g_assert_no_error(error);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void expect_usage_error(const char *const *args, const char *needle)
{
    g_autofree char *out = NULL, *err = NULL;
    int rc = run_cli(args, &out, &err);

    g_test_message("stderr: %s", err);
    g_assert_cmpint(rc, ==, 2);
    g_assert_nonnull(strstr(err, needle));
    /* One line: the problem and the fix. */
    g_assert_true(g_str_has_suffix(err, "\n"));
    g_assert_true(strchr(err, '\n') == err + strlen(err) - 1);
}

static void test_cli_usage_errors(Fixture *f, gconstpointer u)
{
    g_autofree char *bad_json = g_build_filename(f->run.results, "no-such-dir", "r.json", NULL);
    const char *const unknown_opt[] = { "run", "--frobnicate", NULL };
    const char *const bad_accel[] = { "run", "--accel", "hvf", NULL };
    const char *const bad_arch[] = { "run", "--arch", "riscv64", NULL };
    const char *const small_mem[] = { "run", "--mem", "64M", NULL };
    const char *const huge_mem[] = { "run", "--mem", "100000G", NULL };
    const char *const bad_mem[] = { "run", "--mem", "lots", NULL };
    const char *const bad_qemu[] = { "run", "--src-qemu", "/nonexistent/qemu", NULL };
    const char *const bad_case[] = { "run", "--case", "/nothing/*", NULL };
    const char *const bad_cmd[] = { "migrate-all-the-things", NULL };
    const char *const bad_path[] = { "run", "--json", bad_json, NULL };
    const char *const wrong_arch[] = { "run", "--arch", "x86_64", "--src-qemu",
                                       "qemu-system-aarch64", NULL };
    const char *const no_machine[] = { "run", "--arch", "aarch64", "--machine",
                                       "no-such-machine", NULL };
    const char *const bad_results[] = { "run", "--results", "/proc/no/such/dir", NULL };
    const char *const bad_jobs[] = { "run", "-j", "0", NULL };

    (void)u;
    expect_usage_error(unknown_opt, "frobnicate");
    expect_usage_error(bad_accel, "--accel");
    expect_usage_error(bad_arch, "riscv64");
    expect_usage_error(small_mem, "too small");
    expect_usage_error(huge_mem, "available memory");
    expect_usage_error(bad_mem, "--mem");
    expect_usage_error(bad_qemu, "/nonexistent/qemu");
    expect_usage_error(bad_case, "no case matches");
    expect_usage_error(bad_cmd, "unknown command");
    expect_usage_error(bad_path, "--json");
    expect_usage_error(wrong_arch, "not a x86_64 binary");
    expect_usage_error(no_machine, "no-such-machine");
    expect_usage_error(bad_results, "--results");
    expect_usage_error(bad_jobs, "-j 0");
}

static void test_cli_list(Fixture *f, gconstpointer u)
{
    const char *const args[] = { "list", NULL };
    g_autofree char *out = NULL, *err = NULL;

    (void)f; (void)u;
    g_assert_cmpint(run_cli(args, &out, &err), ==, 0);
    g_assert_nonnull(strstr(out, "/x86_64/precopy/tcp\n"));
    g_assert_nonnull(strstr(out, "/aarch64/precopy/unix\n"));
}

static void test_sigterm_mid_migration(Fixture *f, gconstpointer u)
{
    g_autofree char *bin = migtest_path();
    g_autofree char *json = g_build_filename(f->run.results, "r.json", NULL);
    g_autofree char *qmp_log = g_build_filename(f->run.results, "x86_64-precopy-tcp", "src.qmp", NULL);
    g_autofree char *report = NULL;
    const char *argv[] = { bin, "run", "--arch", "x86_64", "--accel", "tcg",
                           "--mem", "1G", "--results", f->run.results, "--json", json, NULL };
    g_autoptr(GError) error = NULL;
    GPid pid;
    int status;
    gint64 t0;

    (void)u;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD |
                                G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &pid, &error));
    g_assert_no_error(error);
    /* The migrate command is in flight once it shows in the QMP log. */
    g_assert_true(logwait_for_text(qmp_log, "\"execute\":\"migrate\"", 60000));
    t0 = g_get_monotonic_time();
    kill(pid, SIGTERM);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_test_message("SIGTERM to exit: %" G_GINT64_FORMAT " ms",
                   (g_get_monotonic_time() - t0) / 1000);
    g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, <, 10000);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 128 + SIGTERM);
    g_assert_true(g_file_get_contents(json, &report, NULL, NULL));
    g_assert_nonnull(strstr(report, "interrupted"));
    g_assert_nonnull(strstr(report, "/x86_64/precopy/unix"));   /* never ran */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/run/smoke/x86_64-tcp", test_smoke_x86_tcp);
    ADD("/run/smoke/aarch64-unix", test_smoke_aarch64_unix);
    ADD("/run/exact-sees-poke/x86_64", test_exact_sees_poke_x86);
    ADD("/run/exact-sees-poke/aarch64", test_exact_sees_poke_aarch64);
    ADD("/run/exact-sees-poke/private-ram", test_exact_sees_poke_private_ram);
    ADD("/run/exact-sees-poke/copy-at-stop", test_copy_at_stop_sees_poke);
    ADD("/run/missing-qemu-is-skip", test_missing_qemu_is_skip);
    ADD("/run/catalogue/cancel-active", test_catalogue_cancel_active);
    ADD("/run/catalogue/bad-destination", test_catalogue_bad_destination);
    ADD("/run/catalogue/non-converging", test_catalogue_non_converging);
    ADD("/run/catalogue/postcopy", test_catalogue_postcopy);
    ADD("/run/coherency/refused-at-start", test_coherency_refused_at_start);
    ADD("/run/coherency/refused-at-pre-switchover", test_coherency_refused_at_pre_switchover);
    ADD("/run/coherency/mmu-on-passes", test_coherency_mmu_on_passes);
    ADD("/run/cli/usage-errors", test_cli_usage_errors);
    ADD("/run/cli/list", test_cli_list);
    ADD("/run/cli/sigterm-mid-migration", test_sigterm_mid_migration);
#undef ADD
    return g_test_run();
}
