/*
 * rundir.h: private run directories.  Each case's QEMU sockets, guest RAM
 * files and patched images live in a directory of its own, created 0700
 * on a tmpfs (postcopy's userfaultfd needs shmem-backed guest RAM) under
 * $MIGTEST_RUN_BASE, default /dev/shm, and removed with all it holds.
 */
#ifndef MIGTEST_RUNDIR_H
#define MIGTEST_RUNDIR_H

#include <glib.h>

/* A new directory "<base>/migtest-XXXXXX" (new string), or NULL with @error. */
char *rundir_new(GError **error);

/* Remove @path and everything below it (symlinks are not followed). */
void rundir_remove(const char *path);

#endif
