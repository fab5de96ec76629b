/*
 * test-qemu10.c (integration): a short smoke of the QEMU 10 coverage rows
 * (cases-qemu10.c) on the QEMU that scripts/fetch-qemu bookworm-backports
 * puts in /opt/migtest-qemu/bookworm-backports ($MIGTEST_QEMU_PREFIX), as
 * CI runs it: multifd over TLS proved encrypted on the wire, an x509
 * handshake refused, mapped-ram with multifd on aarch64, zero-page
 * detection none with re-zeroed pages, the channels syntax, a
 * background snapshot dated by the guest's generation (and a live file
 * migration shown not to be point-in-time), the fixed cancel/failed,
 * cpr-transfer (with -incoming defer) and cpr-reboot, and a page changed
 * behind QEMU's back after a cpr-transfer caught against the copy of the
 * source's RAM at stop.  On the system QEMU (7.2) a 9.0 feature and the
 * cpr modes are skips that name the version.  Each pass must say what it saw.  Without the
 * second QEMU the 10.x tests skip.  The whole matrix, five times on both
 * releases, is run by hand (docs/coverage.md).
 */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "leftovers.h"
#include "runner.h"

#define DEFAULT_PREFIX "/opt/migtest-qemu/bookworm-backports"

/* The 10.x binary for @arch, or NULL (and the test skipped). */
static char *qemu10(const char *arch)
{
    const char *env = g_getenv("MIGTEST_QEMU_PREFIX");
    g_autofree char *bin = g_strdup_printf("%s/bin/qemu-system-%s",
                                           env && *env ? env : DEFAULT_PREFIX, arch);

    if (!g_file_test(bin, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("no QEMU 10 (run scripts/fetch-qemu bookworm-backports)");
        return NULL;
    }
    return g_steal_pointer(&bin);
}

static CaseResult *run_row(PrivateRun *f, const char *arch, const char *row, const char *qemu)
{
    const ArchDesc *archs[] = { arch_lookup(arch), NULL };
    g_autofree char *name = g_strdup_printf("/%s/%s", arch, row);
    g_autoptr(GPtrArray) cases = cases_select(archs, name);
    RunOptions opts = {
        .accel = "tcg",
        .src_qemu = qemu,
        .dst_qemu = qemu,
        .mem_bytes = MT_DEFAULT_MEM_MIB << 20,
        .ram_mode = VM_RAM_SHARED,
        .results_dir = f->results,
        .timeout_ms = 120000,
    };

    g_assert_cmpuint(cases->len, ==, 1);
    return runner_run_case(cases->pdata[0], &opts);
}

static void expect_pass(PrivateRun *f, const char *arch, const char *row, const char *qemu,
                        const char *observed)
{
    g_autoptr(CaseResult) r = run_row(f, arch, row, qemu);

    if (r->outcome != OUTCOME_PASS)
        g_printerr("%s: %s: %s\n", r->name, outcome_name(r->outcome), r->reason);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "pass");
    g_assert_nonnull(r->observed);
    if (!strstr(r->observed, observed))
        g_error("%s observed '%s', expected it to say '%s'", r->name, r->observed, observed);
}

typedef struct {
    const char *arch, *row, *observed;
} Row10;

static const Row10 rows10[] = {
    { "x86_64", "multifd-tls/psk/match", "5 connections, 5 all TLS records" },
    { "x86_64", "tls-x509/mismatch-host", "failed in the TLS handshake" },
    { "aarch64", "mapped-ram/multifd/live", "mapped-ram file spans" },
    { "x86_64", "zero-page/none", "zero-page-detection none: 0 zero pages" },
    { "aarch64", "channels/unix", "took 'channels'" },
    { "x86_64", "background-snapshot/file", "snapshot holds generation" },
    { "x86_64", "cpr-transfer/defer", "RAM not sent (on the source's memfd" },
    { "aarch64", "cpr-reboot/file", "RAM not sent (on one shared file)" },
};

static void test_row10(PrivateRun *f, gconstpointer data)
{
    const Row10 *r = data;
    g_autofree char *q = qemu10(r->arch);

    if (q)
        expect_pass(f, r->arch, r->row, q, r->observed);
}

/* The point-in-time check finds an image that is not: the same row with
 * a plain live migration to the file (no background-snapshot), whose
 * image is of the end, not the start. */
static void test_point_in_time_caught(PrivateRun *f, gconstpointer u)
{
    g_autofree char *q = qemu10("x86_64");
    const ArchDesc *archs[] = { arch_lookup("x86_64"), NULL };
    g_autoptr(GPtrArray) cases = cases_select(archs, "/x86_64/background-snapshot/file");
    CaseDesc plain;
    CaseInstance c;
    RunOptions opts = {
        .accel = "tcg", .src_qemu = q, .dst_qemu = q, .mem_bytes = MT_DEFAULT_MEM_MIB << 20,
        .ram_mode = VM_RAM_SHARED, .results_dir = f->results, .timeout_ms = 120000,
    };
    g_autoptr(CaseResult) r = NULL;

    (void)u;
    if (!q)
        return;
    g_assert_cmpuint(cases->len, ==, 1);
    c = *(CaseInstance *)cases->pdata[0];
    plain = *c.desc;
    plain.capabilities = NULL;
    plain.max_bandwidth = 0;            /* a live file migration converges */
    c.desc = &plain;
    r = runner_run_case(&c, &opts);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "fail");
    g_assert_nonnull(strstr(r->reason, "not a point-in-time snapshot"));
}

/* cpr-transfer: source and target map one memfd, so only the copy of the
 * source's RAM taken at stop can show a page changed behind QEMU's back
 * after the transfer (as a target that re-initialised RAM would). */
static void test_cpr_transfer_poke_caught(PrivateRun *f, gconstpointer u)
{
    g_autofree char *q = qemu10("x86_64");
    const ArchDesc *x86 = arch_lookup("x86_64");
    const ArchDesc *archs[] = { x86, NULL };
    g_autoptr(GPtrArray) cases = cases_select(archs, "/x86_64/cpr-transfer/unix");
    guint64 gpa = x86->ram_base + 0x7000000;        /* past the window, inside RAM */
    g_autofree char *addr = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", gpa);
    RunOptions opts = {
        .accel = "tcg", .src_qemu = q, .dst_qemu = q, .mem_bytes = MT_DEFAULT_MEM_MIB << 20,
        .ram_mode = VM_RAM_SHARED, .results_dir = f->results, .timeout_ms = 120000,
        .poke_src_gpa = gpa,
    };
    g_autoptr(CaseResult) r = NULL;

    (void)u;
    if (!q)
        return;
    g_assert_cmpuint(cases->len, ==, 1);
    r = runner_run_case(cases->pdata[0], &opts);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "fail");
    g_assert_cmpuint(r->exact.pages_differing, ==, 1);
    g_assert_cmphex(r->exact.diffs[0].gpa, ==, gpa);
    g_assert_nonnull(strstr(r->reason, addr));
}

static void test_cancel_failed(PrivateRun *f, gconstpointer u)
{
    (void)u;
    expect_pass(f, "x86_64", "cancel/failed", NULL, "migrate_cancel after failed left it failed");
}

/* 7.2 lacks mapped-ram: a skip naming the version, never a pass. */
static void test_old_qemu_skips(PrivateRun *f, gconstpointer u)
{
    g_autoptr(CaseResult) r = run_row(f, "x86_64", "mapped-ram/live", NULL);

    (void)u;
    if (r->outcome == OUTCOME_PASS) {
        g_test_skip("the system QEMU has mapped-ram (9.0 or newer)");
        return;
    }
    g_assert_cmpstr(outcome_name(r->outcome), ==, "skip");
    g_assert_nonnull(strstr(r->reason, "needs QEMU >= 9.0; src is "));
}

/* 7.2 lacks the cpr modes: skips naming the version, decided before a
 * QEMU starts (7.2 would not start with -machine aux-ram-share=on). */
static void test_old_qemu_skips_cpr(PrivateRun *f, gconstpointer u)
{
    static const char *const rows[][2] = {
        { "cpr-transfer/unix", "needs QEMU >= 10.0 (-machine aux-ram-share=on); src is " },
        { "cpr-reboot/file", "needs QEMU >= 8.2; src is " },
    };

    (void)u;
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autoptr(CaseResult) r = run_row(f, "x86_64", rows[i][0], NULL);

        if (r->outcome == OUTCOME_PASS) {
            g_test_skip("the system QEMU has the cpr modes");
            return;
        }
        g_assert_cmpstr(outcome_name(r->outcome), ==, "skip");
        if (!strstr(r->reason, rows[i][1]))
            g_error("%s: '%s' does not say '%s'", rows[i][0], r->reason, rows[i][1]);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(rows10); i++) {
        g_autofree char *path = g_strdup_printf("/qemu10/%s/%s", rows10[i].arch, rows10[i].row);
        g_test_add(path, PrivateRun, &rows10[i], private_run_setup, test_row10, private_run_teardown);
    }
    g_test_add("/qemu10/point-in-time-caught", PrivateRun, NULL, private_run_setup,
               test_point_in_time_caught, private_run_teardown);
    g_test_add("/qemu10/cancel-failed", PrivateRun, NULL, private_run_setup, test_cancel_failed,
               private_run_teardown);
    g_test_add("/qemu10/old-qemu-skips", PrivateRun, NULL, private_run_setup, test_old_qemu_skips,
               private_run_teardown);
    g_test_add("/qemu10/old-qemu-skips-cpr", PrivateRun, NULL, private_run_setup,
               test_old_qemu_skips_cpr, private_run_teardown);
    g_test_add("/qemu10/cpr-transfer-poke-caught", PrivateRun, NULL, private_run_setup,
               test_cpr_transfer_poke_caught, private_run_teardown);
    return g_test_run();
}
