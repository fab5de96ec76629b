/*
 * migaddr.h: where a migration goes, in the forms QEMU accepts.  migrate
 * and migrate-incoming take either a "uri" string or (QEMU >= 8.2) a
 * "channels" list of { channel-type: main, addr: MigrationAddress }; a
 * case can use either, or send both or neither to see QEMU refuse.  The
 * file: transport's options live here too: a byte offset inside the file
 * (the bytes before it must survive), the file passed as an fdset
 * (add-fd, "/dev/fdset/N"), and a directory on a disk that allows
 * O_DIRECT for direct-io (tmpfs does not).
 */
#ifndef MIGTEST_MIGADDR_H
#define MIGTEST_MIGADDR_H

#include "migrate.h"

/* The MigrationAddress for @uri ("tcp:H:P", "unix:PATH", "fd:NAME",
 * "exec:CMD", "file:PATH[,offset=N]"); new, or NULL with @error. */
JsonObject *migaddr_channel_from_uri(const char *uri, GError **error);

/* Arguments of migrate / migrate-incoming carrying @uri as @how says;
 * new, or NULL with @error. */
JsonObject *migaddr_args(const char *uri, MigrateAddr how, GError **error);

/* The fdset migtest hands QEMU the migration file in. */
#define MIGADDR_FDSET_ID 1

/* Fill the first @offset bytes of @path with MIGADDR_FILL (creating it). */
#define MIGADDR_FILL 'X'
gboolean migaddr_file_prefill(const char *path, guint64 offset, GError **error);

/* Open @path with @flags and give it to @vm's fdset MIGADDR_FDSET_ID. */
gboolean migaddr_add_fd(Vm *vm, const char *path, int flags, Deadline deadline,
                        GError **error);

/* remove-fd the fdset MIGADDR_FDSET_ID of @vm, then ask query-fdsets
 * until the set is gone (QEMU closed every copy it opened) or
 * MIGADDR_FDSET_GRACE_MS passed: *@left says whether it is still listed. */
#define MIGADDR_FDSET_GRACE_MS 2000
gboolean migaddr_fdset_release(Vm *vm, Deadline deadline, gboolean *left, GError **error);

/* After the source wrote @path: its size, its allocated bytes, whether
 * the first @offset bytes are still MIGADDR_FILL and the stream starts at
 * @offset with QEMU_VM_FILE_MAGIC, and how much of it sits in the page
 * cache (mincore).  Fills the file_* members of @stats. */
gboolean migaddr_file_inspect(const char *path, guint64 offset, MigrateStats *stats,
                              GError **error);

/* A new private directory for direct-io under $MIGTEST_DIO_DIR (default
 * /var/tmp), or NULL with MT_ERROR_UNSUPPORTED when its filesystem
 * refuses O_DIRECT.  Remove it with rundir_remove(). */
char *migaddr_dio_dir_new(GError **error);

#endif
