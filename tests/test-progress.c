/*
 * test-progress.c: -v and -vv lines.  Level 0 says nothing, -v the
 * phases only, -vv the QMP lines too; every line carries the wall
 * clock, the time since the case began and the case name, and a huge
 * QMP message is cut, not dumped whole.
 */
#include <stdio.h>
#include <string.h>
#include "progress.h"
#include "watchdog.h"

/* Run a phase and a QMP line at @level; return what was written. */
static char *written_at(int level, const char *qmp_text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    Progress p = progress_start(level, "/x86_64/precopy/tcp");

    g_assert_nonnull(out);
    p.out = out;
    progress_phase(&p, "migrate: status %s", "active");
    progress_qmp(&p, "src", ">", qmp_text, strlen(qmp_text));
    fclose(out);
    return buf;
}

static void test_levels(void)
{
    g_autofree char *quiet = written_at(0, "{\"execute\":\"cont\"}");
    g_autofree char *phases = written_at(1, "{\"execute\":\"cont\"}");
    g_autofree char *qmp = written_at(2, "{\"execute\":\"cont\"}");
    g_autoptr(GRegex) line = g_regex_new("^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\+\\d+\\.\\d{3}s\\] "
                                         "/x86_64/precopy/tcp: migrate: status active\\n$",
                                         0, 0, NULL);

    g_assert_cmpstr(quiet, ==, "");
    g_assert_true(g_regex_match(line, phases, 0, NULL));
    g_assert_null(strstr(phases, "qmp"));
    g_assert_nonnull(strstr(qmp, "migrate: status active\n"));
    g_assert_nonnull(strstr(qmp, "/x86_64/precopy/tcp: qmp src > {\"execute\":\"cont\"}\n"));
}

static void test_null_is_silent(void)
{
    progress_phase(NULL, "nothing %d", 1);          /* must not crash */
    progress_qmp(NULL, "src", "<", "{}", 2);
}

static void test_long_qmp_cut(void)
{
    g_autofree char *big = g_strnfill(300000, 'x');
    g_autofree char *out = written_at(2, big);
    const char *q = strstr(out, "qmp src > ");

    g_assert_nonnull(q);
    g_assert_cmpuint(strlen(q), <, 3000);
    g_assert_nonnull(strstr(q, "300000 bytes in all"));
}

int main(int argc, char **argv)
{
    static const struct { const char *path; GTestFunc func; } tests[] = {
        { "/progress/levels", test_levels },
        { "/progress/null-is-silent", test_null_is_silent },
        { "/progress/long-qmp-cut", test_long_qmp_cut },
    };

    g_test_init(&argc, &argv, NULL);
    watchdog_install();
    for (guint i = 0; i < G_N_ELEMENTS(tests); i++)
        g_test_add_data_func(tests[i].path, &tests[i].func, watchdog_run);
    return g_test_run();
}
