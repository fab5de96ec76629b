/*
 * test-probe.c: probe_binary_version(), which lets a row whose -machine
 * properties an older QEMU would not start with skip before any QEMU
 * starts.  A binary that prints QEMU's banner gives its version; one that
 * prints something else, or fails, is an error naming it, never a guess.
 */
#include <string.h>
#include <glib/gstdio.h>
#include "probe.h"

/* An executable script in @dir that prints @text and exits @status. */
static char *fake_binary(const char *dir, const char *name, const char *text, int status)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autofree char *script = g_strdup_printf("#!/bin/sh\nprintf '%%s\\n' '%s'\nexit %d\n",
                                              text, status);

    g_assert_true(g_file_set_contents(path, script, -1, NULL));
    g_assert_cmpint(g_chmod(path, 0700), ==, 0);
    return path;
}

static void test_binary_version(void)
{
    g_autofree char *dir = g_dir_make_tmp("migtest-probe-XXXXXX", NULL);
    g_autofree char *v10 = fake_binary(dir, "q10", "QEMU emulator version 10.0.2 "
                                       "(Debian 1:10.0.2+ds-1~bpo12+1)", 0);
    g_autofree char *v72 = fake_binary(dir, "q72", "QEMU emulator version 7.2.22 "
                                       "(Debian 1:7.2+dfsg-7+deb12u16)", 0);
    g_autofree char *junk = fake_binary(dir, "junk", "not a QEMU", 0);
    g_autofree char *dies = fake_binary(dir, "dies", "QEMU emulator version 9.0.0", 1);
    g_autofree char *version = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(probe_binary_version(v10, &version, &error), ==, 100002);
    g_assert_no_error(error);
    g_assert_cmpstr(version, ==, "10.0.2");
    g_clear_pointer(&version, g_free);
    g_assert_cmpint(probe_binary_version(v72, &version, &error), ==, 70222);
    g_assert_cmpstr(version, ==, "7.2.22");
    g_assert_cmpint(probe_binary_version(junk, &version, &error), ==, -1);
    g_assert_error(error, MT_ERROR, MT_ERROR_ENV);
    g_assert_nonnull(strstr(error->message, junk));
    g_clear_error(&error);
    g_assert_cmpint(probe_binary_version(dies, &version, &error), ==, -1);
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_assert_cmpint(probe_binary_version("/nonexistent/qemu", &version, &error), ==, -1);
    g_assert_nonnull(error);
    for (const char *n = "q10\0q72\0junk\0dies\0"; *n; n += strlen(n) + 1) {
        g_autofree char *p = g_build_filename(dir, n, NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/probe/binary-version", test_binary_version);
    return g_test_run();
}
