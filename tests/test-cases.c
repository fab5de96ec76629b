/*
 * test-cases.c: the scenario table.  It holds no impossible combination,
 * names are unique and stable, selection by glob and the smoke default
 * work, and the impossibility check really rejects what it should.
 */
#include <string.h>
#include "cases.h"

static void test_table_valid(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(cases_validate(&error));
    g_assert_no_error(error);
}

static void test_smoke_default(void)
{
    g_autoptr(GPtrArray) c = cases_select(arch_table, NULL);
    const char *want[] = { "/x86_64/precopy/tcp", "/x86_64/precopy/unix",
                           "/aarch64/precopy/tcp", "/aarch64/precopy/unix" };

    g_assert_cmpuint(c->len, ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < c->len; i++)
        g_assert_cmpstr(((CaseInstance *)c->pdata[i])->name, ==, want[i]);
}

static void test_glob_and_arch_filters(void)
{
    const ArchDesc *arm[] = { arch_lookup("aarch64"), NULL };
    g_autoptr(GPtrArray) all = cases_select(arch_table, "*");
    g_autoptr(GPtrArray) cancels = cases_select(arch_table, "*/cancel/*");
    g_autoptr(GPtrArray) arm_all = cases_select(arm, "*");
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < all->len; i++) {
        const CaseInstance *c = all->pdata[i];
        g_autofree char *prefix = g_strdup_printf("/%s/", c->arch->name);
        g_assert_true(g_str_has_prefix(c->name, prefix));
        g_assert_true(g_hash_table_add(seen, c->name));     /* unique */
    }
    g_assert_cmpuint(cancels->len, ==, 2 * 9);              /* 9 states, 2 arches */
    /* The arch filter keeps exactly that arch's rows: the dirty ring is
     * x86_64-only (KVM on x86), the coherency matrix aarch64-only. */
    g_assert_cmpuint(arm_all->len, <, all->len);
    for (guint i = 0; i < arm_all->len; i++) {
        const CaseInstance *c = arm_all->pdata[i];
        g_assert_true(g_str_has_prefix(c->name, "/aarch64/"));
        g_assert_null(strstr(c->name, "dirty-ring"));
    }
    for (guint i = 0; i < all->len; i++) {
        const CaseInstance *c = all->pdata[i];
        if (strstr(c->name, "/coherency/"))
            g_assert_cmpstr(c->arch->name, ==, "aarch64");
        if (strstr(c->name, "/dirty-ring/"))
            g_assert_cmpstr(c->arch->name, ==, "x86_64");
    }
    {
        g_autoptr(GPtrArray) matrix = cases_select(arm, "*coherency*");
        g_assert_cmpuint(matrix->len, ==, 4 * 4);          /* variants x policies */
    }
}

static void test_impossible_rejected(void)
{
    static const char *const pause_cap[] = { "pause-before-switchover", NULL };
    const CaseDesc ok = { .name = "x", .summary = "x", .transport = TRANSPORT_TCP };
    CaseDesc d;

    g_assert_null(case_desc_impossible(&ok));
    d = ok; d.postcopy_recover = TRUE;
    g_assert_nonnull(case_desc_impossible(&d));
    d = ok; d.postcopy = TRUE; d.verify = VERIFY_ALL;
    g_assert_nonnull(case_desc_impossible(&d));
    d = ok; d.postcopy = TRUE; d.verify = VERIFY_INVARIANT; d.transport = TRANSPORT_EXEC;
    g_assert_nonnull(case_desc_impossible(&d));
    d = ok; d.cancel_at = "active";                         /* but expects completed */
    g_assert_nonnull(case_desc_impossible(&d));
    d = ok; d.cancel_at = "pre-switchover"; d.expect = EXPECT_CANCELLED;
    g_assert_nonnull(case_desc_impossible(&d));             /* no pause capability */
    d.capabilities = pause_cap;
    g_assert_null(case_desc_impossible(&d));
    d = ok; d.fault = FAULT_UUID_MISMATCH;
    g_assert_nonnull(case_desc_impossible(&d));
    d = ok; d.accel_props = ",dirty-ring-size=4096";
    g_assert_nonnull(case_desc_impossible(&d));
    d = ok; d.top_only = TRUE;                              /* top of what? */
    g_assert_nonnull(case_desc_impossible(&d));
    d.top_pages = 64; d.hot_pages = 65;                     /* hot set beyond the range */
    g_assert_nonnull(case_desc_impossible(&d));
    d.hot_pages = 64;
    g_assert_null(case_desc_impossible(&d));
    d = ok; d.cancel_stalled = TRUE; d.expect = EXPECT_CANCELLED;
    g_assert_nonnull(case_desc_impossible(&d));             /* stalled when? */
    d.hold_active_ms = 100;
    g_assert_null(case_desc_impossible(&d));
    d = ok; d.devprobe = TRUE;
    g_assert_null(case_desc_impossible(&d));
    d.vcpus = 2;                                            /* shared index ports */
    g_assert_nonnull(case_desc_impossible(&d));
    d.vcpus = 0; d.linux_guest = TRUE;                      /* no probes there */
    g_assert_nonnull(case_desc_impossible(&d));
    d = ok; d.machine = "q35";                              /* no family, no arch */
    g_assert_nonnull(case_desc_impossible(&d));
    d.machine_family = "pc-q35-";
    g_assert_nonnull(case_desc_impossible(&d));
    d.only_arch = "x86_64";
    g_assert_null(case_desc_impossible(&d));
    d = ok; d.mem_tail_kib = 4;                             /* QEMU rounds to 8 KiB */
    g_assert_nonnull(case_desc_impossible(&d));
    d.mem_tail_kib = 8;
    g_assert_null(case_desc_impossible(&d));
    d = ok; d.ram = CASE_RAM_FILE_COMMON; d.observe = OBSERVE_IGNORE_SHARED;
    g_assert_null(case_desc_impossible(&d));
    d.postcopy = TRUE; d.verify = VERIFY_INVARIANT;         /* no copy at stop */
    g_assert_nonnull(case_desc_impossible(&d));
    d = ok; d.ram = CASE_RAM_MEMFD;                         /* and no evidence */
    g_assert_nonnull(case_desc_impossible(&d));
    d.observe = OBSERVE_IGNORE_SHARED; d.cpr = CPR_REBOOT;  /* not to a file */
    g_assert_nonnull(case_desc_impossible(&d));
    d.cpr = CPR_TRANSFER; d.transport = TRANSPORT_UNIX;     /* no aux-ram-share */
    g_assert_nonnull(case_desc_impossible(&d));
    d.machine_props = "aux-ram-share=on";                   /* no version to check */
    g_assert_nonnull(case_desc_impossible(&d));
    d.min_version = 100000;
    g_assert_null(case_desc_impossible(&d));
    d = ok; d.summary = NULL;                               /* list --long needs it */
    g_assert_nonnull(case_desc_impossible(&d));
    d.summary = "";
    g_assert_nonnull(case_desc_impossible(&d));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cases/table-valid", test_table_valid);
    g_test_add_func("/cases/smoke-default", test_smoke_default);
    g_test_add_func("/cases/filters", test_glob_and_arch_filters);
    g_test_add_func("/cases/impossible-rejected", test_impossible_rejected);
    return g_test_run();
}
