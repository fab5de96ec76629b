/*
 * test-suspend.c (unit): the runner's guest-suspend logic that needs no
 * QEMU (suspend.h): what to do with the destination's runstate before
 * waking it, and when a source counts as woken after the migration.
 */
#include <string.h>
#include "suspend.h"

static void test_dst_step(void)
{
    g_assert_cmpint(suspend_dst_step("paused"), ==, SUSPEND_DST_CONT);
    g_assert_cmpint(suspend_dst_step("suspended"), ==, SUSPEND_DST_WAKE);
    /* QEMU before 9.0 restores "running": the suspended state is lost. */
    g_assert_cmpint(suspend_dst_step("running"), ==, SUSPEND_DST_LOST);
    g_assert_cmpint(suspend_dst_step("postmigrate"), ==, SUSPEND_DST_LOST);
    g_assert_cmpint(suspend_dst_step("inmigrate"), ==, SUSPEND_DST_LOST);
    g_assert_cmpint(suspend_dst_step(NULL), ==, SUSPEND_DST_LOST);
}

static void test_source_woke(void)
{
    SerialCounts asleep = { .a = 1, .b = 3, .suspends = 1 };
    SerialCounts resumed = { .a = 1, .b = 3, .suspends = 1, .resumes = 1 };
    SerialCounts ran = { .a = 1, .b = 5, .suspends = 1 };
    SerialCounts alarm = { .a = 1, .b = 3, .suspends = 1, .errors = 1 };
    SerialCounts fresh = { 0 };
    SerialCounts dst_ran = { .b = 2, .resumes = 1 };
    g_autofree char *r = suspend_guest_woke(&resumed, 3, "src");
    g_autofree char *b = suspend_guest_woke(&ran, 3, "src");
    g_autofree char *e = suspend_guest_woke(&alarm, 3, "src");
    g_autofree char *d = suspend_guest_woke(&dst_ran, 0, "dst");

    g_assert_null(suspend_guest_woke(&asleep, 3, "src"));
    g_assert_null(suspend_guest_woke(&fresh, 0, "dst"));
    g_assert_nonnull(d);
    g_assert_nonnull(strstr(d, "the dst guest ran while it should sleep: it sent 1 'R', 2 'B'"));
    g_assert_nonnull(r);
    g_assert_nonnull(strstr(r, "1 'R', 0 'B'"));
    g_assert_nonnull(b);
    g_assert_nonnull(strstr(b, "0 'R', 2 'B'"));
    g_assert_nonnull(e);
    g_assert_nonnull(strstr(e, "1 'E'"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/suspend/dst-step", test_dst_step);
    g_test_add_func("/suspend/source-woke", test_source_woke);
    return g_test_run();
}
