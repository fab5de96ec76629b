/*
 * test-run-smp.c: cases with several vCPUs end to end, real QEMU, TCG.
 *   clean    /aarch64/precopy/tcp/smp (4 vCPUs), /aarch64/postcopy/tcp/
 *            smp2, /x86_64/precopy/tcp/smp2 and /x86_64/postcopy/tcp/smp
 *            (4 vCPUs, fill=full) pass: exact, the invariant slice by
 *            slice, and every vCPU beating on both sides (no false alarm);
 *   poke     a byte of slice 3 changed in the stopped source after the
 *            migration is caught by exact at its address.
 */
#include <string.h>
#include "leftovers.h"
#include "runner.h"

static CaseResult *run_one(PrivateRun *f, const char *name, guint64 poke_gpa)
{
    const ArchDesc *archs[] = {
        arch_lookup(g_str_has_prefix(name, "/x86_64/") ? "x86_64" : "aarch64"), NULL,
    };
    g_autoptr(GPtrArray) cases = cases_select(archs, name);
    RunOptions opts = {
        .accel = "tcg",
        .mem_bytes = MT_DEFAULT_MEM_MIB << 20,
        .ram_mode = VM_RAM_SHARED,
        .results_dir = f->results,
        .timeout_ms = 180000,
        .poke_src_gpa = poke_gpa,
    };

    g_assert_cmpuint(cases->len, ==, 1);
    return runner_run_case(cases->pdata[0], &opts);
}

static void expect_clean(CaseResult *r, guint vcpus, gboolean exact)
{
    if (r->outcome != OUTCOME_PASS)
        g_printerr("%s: %s: %s\n", r->name, outcome_name(r->outcome), r->reason);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "pass");
    g_assert_true(r->invariant_ran && r->selfcheck_ran);
    g_assert_cmpuint(r->exact_ran, ==, exact);
    g_assert_true(r->invariant.ok);
    g_assert_cmpuint(r->invariant.nslices, ==, vcpus);
    for (guint i = 0; i < vcpus; i++)
        g_assert_cmpuint(r->invariant.slice_generation[i], >=, 1);
    g_assert_true(r->selfcheck.ok);
    g_assert_cmpint(r->observed_downtime_ms, >=, 0);
}

static void test_clean_precopy(PrivateRun *f, gconstpointer u)
{
    g_autoptr(CaseResult) r = run_one(f, "/aarch64/precopy/tcp/smp", 0);

    (void)u;
    expect_clean(r, 4, TRUE);
    g_assert_cmpuint(r->exact.pages_differing, ==, 0);
}

static void test_clean_postcopy(PrivateRun *f, gconstpointer u)
{
    g_autoptr(CaseResult) r = run_one(f, "/aarch64/postcopy/tcp/smp2", 0);

    (void)u;
    expect_clean(r, 2, FALSE);
}

static void test_clean_x86_precopy(PrivateRun *f, gconstpointer u)
{
    g_autoptr(CaseResult) r = run_one(f, "/x86_64/precopy/tcp/smp2", 0);

    (void)u;
    expect_clean(r, 2, TRUE);
    g_assert_cmpuint(r->exact.pages_differing, ==, 0);
}

static void test_clean_x86_postcopy(PrivateRun *f, gconstpointer u)
{
    g_autoptr(CaseResult) r = run_one(f, "/x86_64/postcopy/tcp/smp", 0);

    (void)u;
    expect_clean(r, 4, FALSE);
}

/* Page 200 of slice 3 (of 4), byte 0x123: flipped in the source after
 * the migration, with both sides stopped. */
static void test_poke_slice3(PrivateRun *f, gconstpointer u)
{
    PayloadParams p = { .b_every = 1, .nranges = 1, .vcpus = 4 }, s3;
    guint64 gpa;
    g_autoptr(CaseResult) r = NULL;
    g_autofree char *addr = NULL;

    (void)u;
    p.ranges[0].start = MT_ARM_RAM_BASE + MT_DEFAULT_WINDOW_START;
    p.ranges[0].end = MT_ARM_RAM_BASE + MT_DEFAULT_WINDOW_END;
    g_assert_true(payload_params_slice(&p, 3, &s3));
    gpa = s3.ranges[0].start + 200 * MT_PAGE_SIZE + 0x123;
    addr = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", gpa);
    r = run_one(f, "/aarch64/precopy/tcp/smp", gpa);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "fail");
    g_assert_true(r->exact_ran);
    g_assert_cmpuint(r->exact.pages_differing, ==, 1);
    g_assert_cmphex(r->exact.diffs[0].gpa, ==, gpa);
    g_assert_nonnull(strstr(r->reason, addr));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, PrivateRun, NULL, private_run_setup, fn, private_run_teardown)
    ADD("/run-smp/clean/precopy-4", test_clean_precopy);
    ADD("/run-smp/clean/postcopy-2", test_clean_postcopy);
    ADD("/run-smp/poke/slice3", test_poke_slice3);
    ADD("/run-smp/clean/x86_64/precopy-2", test_clean_x86_precopy);
    ADD("/run-smp/clean/x86_64/postcopy-4", test_clean_x86_postcopy);
#undef ADD
    return g_test_run();
}
