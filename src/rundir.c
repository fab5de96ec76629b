/* rundir.c: private run directories (see rundir.h). */
#include "rundir.h"

#include <errno.h>
#include <glib/gstdio.h>
#include "mt-error.h"

char *rundir_new(GError **error)
{
    const char *base = g_getenv("MIGTEST_RUN_BASE") ? g_getenv("MIGTEST_RUN_BASE") : "/dev/shm";
    char *dir = g_mkdtemp_full(g_build_filename(base, "migtest-XXXXXX", NULL), 0700);

    if (!dir)
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create a run directory in "
                    "'%s': %s; set MIGTEST_RUN_BASE to a writable tmpfs", base,
                    g_strerror(errno));
    return dir;
}

void rundir_remove(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
            !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            rundir_remove(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}
