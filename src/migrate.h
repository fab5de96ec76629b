/*
 * migrate.h: drive one migration between a running source and a
 * destination started with "-incoming defer": set capabilities and
 * parameters on both, start the incoming side, start the migration, and
 * follow it through MIGRATION events (query-migrate cross-checks) to a
 * final state before a deadline.  Collects query-migrate's figures.
 */
#ifndef MIGTEST_MIGRATE_H
#define MIGTEST_MIGRATE_H

#include "vm.h"

typedef enum {
    TRANSPORT_TCP,
    TRANSPORT_UNIX,
} Transport;

const char *transport_name(Transport t);

typedef struct {
    Transport transport;
    guint64 max_bandwidth;      /* bytes/s */
    guint64 downtime_limit_ms;
    const char *const *capabilities;    /* NULL-terminated, may be NULL */
} MigrateConfig;

typedef struct {
    gint64 total_ms;
    gint64 downtime_ms;
    gint64 setup_ms;
    guint64 transferred_bytes;
    double throughput_mbps;
    guint64 dirty_sync_count;
    char *final_status;
    GPtrArray *statuses;        /* char *: every status seen, in order */
} MigrateStats;

void migrate_stats_clear(MigrateStats *s);

/* Migrate @src to @dst.  On success both are stopped: the source in
 * postmigrate, the destination paused (it was started with -S). */
gboolean migrate_run(Vm *src, Vm *dst, const MigrateConfig *cfg,
                     const char *run_dir, Deadline deadline,
                     MigrateStats *stats, GError **error);

#endif
