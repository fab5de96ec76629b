/*
 * migrate-transport.h: the transport of one migration, for migrate.c:
 * where each side listens and connects (tcp, unix, a passed socketpair,
 * exec, file), given as "uri" or "channels" (migaddr.h), with the case's
 * faults and options (a port nobody listens on, a file offset, fdsets,
 * direct-io, fd: on a file), the wiretap between the sides, and what the
 * transport saw, recorded into the migration's MigrateStats.
 */
#ifndef MIGTEST_MIGRATE_TRANSPORT_H
#define MIGTEST_MIGRATE_TRANSPORT_H

#include "migrate.h"
#include "wiretap.h"

typedef struct {
    Vm *src;
    Vm *dst;
    const MigrateConfig *cfg;
    const char *run_dir;
    Deadline deadline;
    MigrateStats *stats;
    int reserved_fd;            /* bad tcp destination: a bound, unlistened port (-1) */
    Wiretap *tap;
    char *dio_dir;              /* direct-io: the stream's disk directory */
    char *stream;               /* sequential transports: the stream file */
} MigrateTransport;

/* The URIs for each side (new strings); the destination already listens
 * (migrate-incoming sent) unless the transport is sequential. */
gboolean transport_open(MigrateTransport *t, char **src_uri, char **dst_uri, GError **error);

/* migrate or migrate-incoming to @uri in the case's address syntax. */
gboolean transport_send_address(MigrateTransport *t, Vm *vm, const char *command,
                                const char *uri, GError **error);

/* Stop the wiretap (its report into stats), release the reserved port,
 * remove the direct-io directory. */
void transport_clear(MigrateTransport *t);

#endif
