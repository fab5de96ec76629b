/* leftovers.c: child processes and directory entries left behind (see leftovers.h). */
#include "leftovers.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "rundir.h"

/* @pid's parent from /proc/<pid>/stat (") S <ppid>"), or -1. */
static GPid parent_of(const char *pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%s/stat", pid);
    g_autofree char *stat = NULL;
    const char *p;

    if (!g_file_get_contents(path, &stat, NULL, NULL) || !(p = strrchr(stat, ')')))
        return -1;
    return atoi(p + 4);
}

static gboolean cmdline_has(const char *pid, const char *needle)
{
    g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", pid);
    g_autofree char *cmd = NULL;
    gsize len = 0;

    if (!needle)
        return TRUE;
    if (!g_file_get_contents(path, &cmd, &len, NULL))
        return FALSE;
    for (gsize i = 0; i + 1 < len; i++)     /* NUL-separated words */
        if (!cmd[i])
            cmd[i] = ' ';
    return strstr(cmd, needle) != NULL;
}

guint leftovers_children(GPid parent, const char *needle, GPid *first)
{
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    const char *name;
    guint n = 0;

    if (first)
        *first = 0;
    while (d && (name = g_dir_read_name(d))) {
        if (!g_ascii_isdigit(name[0]) || parent_of(name) != parent || !cmdline_has(name, needle))
            continue;
        if (first && !*first)
            *first = atoi(name);
        n++;
    }
    return n;
}

guint leftovers_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint n = 0;

    while (d && g_dir_read_name(d))
        n++;
    return n;
}

void private_run_begin(PrivateRun *p, const char *tag)
{
    g_autofree char *tmpl = g_strdup_printf("migtest-%s-XXXXXX", tag);

    p->results = g_dir_make_tmp(tmpl, NULL);
    p->run_base = g_mkdtemp_full(g_build_filename("/dev/shm", tmpl, NULL), 0700);
    g_assert_nonnull(p->results);
    g_assert_nonnull(p->run_base);
    g_setenv("MIGTEST_RUN_BASE", p->run_base, TRUE);
}

void private_run_end(PrivateRun *p)
{
    g_assert_cmpuint(leftovers_children(getpid(), NULL, NULL), ==, 0);
    g_assert_cmpuint(leftovers_entries(p->run_base), ==, 0);
    rundir_remove(p->results);
    g_assert_cmpint(g_rmdir(p->run_base), ==, 0);
    g_unsetenv("MIGTEST_RUN_BASE");
    g_clear_pointer(&p->run_base, g_free);
    g_clear_pointer(&p->results, g_free);
}

void private_run_setup(PrivateRun *p, gconstpointer unused)
{
    g_autofree char *tag = g_path_get_basename(g_get_prgname() ? g_get_prgname() : "test");

    (void)unused;
    private_run_begin(p, tag);
}

void private_run_teardown(PrivateRun *p, gconstpointer unused)
{
    (void)unused;
    private_run_end(p);
}
