/*
 * test-suspend-rows.c (integration): the guest-suspend rows end to end on
 * the QEMU that scripts/fetch-qemu bookworm-backports provides (QEMU >=
 * 9.0 keeps a migrated guest suspended; $MIGTEST_QEMU_PREFIX as in
 * test-qemu10.c), under TCG:
 *   clean   precopy/unix/suspend/live, .../notlive and postcopy/suspend
 *           pass, exact included, and say what they saw: the source
 *           suspended, the destination suspended, WAKEUP, the guest's 'R'
 *           and its passes;
 *   poke    a byte of a page head changed in the destination's RAM after
 *           exact, while the guest sleeps: the woken guest's first pass
 *           reports that page, and the case fails naming its GPA.
 * Without the second QEMU every test skips.  About 20 s.
 */
#include <string.h>
#include "leftovers.h"
#include "runner.h"

#define DEFAULT_PREFIX "/opt/migtest-qemu/bookworm-backports"
/* A page head half way through the default window. */
#define POKE_PAGE (MT_DEFAULT_WINDOW_START + 0x3000000)

static char *qemu10(void)
{
    const char *env = g_getenv("MIGTEST_QEMU_PREFIX");
    g_autofree char *bin = g_strdup_printf("%s/bin/qemu-system-x86_64",
                                           env && *env ? env : DEFAULT_PREFIX);

    if (!g_file_test(bin, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("no QEMU 10 (run scripts/fetch-qemu bookworm-backports)");
        return NULL;
    }
    return g_steal_pointer(&bin);
}

static CaseResult *run_row(PrivateRun *f, const char *row, const char *qemu, guint64 poke_dst)
{
    const ArchDesc *archs[] = { arch_lookup("x86_64"), NULL };
    g_autofree char *name = g_strdup_printf("/x86_64/%s", row);
    g_autoptr(GPtrArray) cases = cases_select(archs, name);
    RunOptions opts = {
        .accel = "tcg", .src_qemu = qemu, .dst_qemu = qemu,
        .mem_bytes = MT_DEFAULT_MEM_MIB << 20, .ram_mode = VM_RAM_SHARED,
        .results_dir = f->results, .timeout_ms = 120000, .poke_dst_gpa = poke_dst,
    };

    g_assert_cmpuint(cases->len, ==, 1);
    return runner_run_case(cases->pdata[0], &opts);
}

static void test_clean(PrivateRun *f, gconstpointer data)
{
    const char *row = data;
    g_autofree char *q = qemu10();
    g_autoptr(CaseResult) r = NULL;

    if (!q)
        return;
    r = run_row(f, row, q, 0);
    if (r->outcome != OUTCOME_PASS)
        g_printerr("%s: %s: %s\n", r->name, outcome_name(r->outcome), r->reason);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "pass");
    g_assert_true(r->exact_ran && r->invariant_ran && r->selfcheck_ran);
    g_assert_cmpuint(r->exact.pages_differing, ==, 0);
    g_assert_nonnull(r->observed);
    g_test_message("%s: %s", r->name, r->observed);
    g_assert_nonnull(strstr(r->observed, "src suspended after pass 3"));
    g_assert_nonnull(strstr(r->observed, "; dst "));
    g_assert_nonnull(strstr(r->observed, "WAKEUP, the guest resumed ('R') and ran 3 passes"));
}

static void test_poke(PrivateRun *f, gconstpointer u)
{
    g_autofree char *q = qemu10();
    g_autofree char *gpa = g_strdup_printf("gpa 0x%x:", POKE_PAGE);
    g_autoptr(CaseResult) r = NULL;

    (void)u;
    if (!q)
        return;
    r = run_row(f, "precopy/unix/suspend/live", q, POKE_PAGE);
    g_test_message("%s: %s: %s", r->name, outcome_name(r->outcome), r->reason);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "fail");
    /* exact ran before the poke and was clean; the guest found it. */
    g_assert_true(r->exact_ran);
    g_assert_cmpuint(r->exact.pages_differing, ==, 0);
    g_assert_true(r->selfcheck_ran);
    g_assert_nonnull(strstr(r->reason, gpa));
    g_assert_nonnull(r->log_dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/suspend-rows/clean/live", PrivateRun, "precopy/unix/suspend/live",
               private_run_setup, test_clean, private_run_teardown);
    g_test_add("/suspend-rows/clean/notlive", PrivateRun, "precopy/unix/suspend/notlive",
               private_run_setup, test_clean, private_run_teardown);
    g_test_add("/suspend-rows/clean/postcopy", PrivateRun, "postcopy/suspend",
               private_run_setup, test_clean, private_run_teardown);
    g_test_add("/suspend-rows/poke", PrivateRun, NULL, private_run_setup, test_poke,
               private_run_teardown);
    return g_test_run();
}
