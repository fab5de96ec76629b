/*
 * migrate.h: drive one migration between a running source and a
 * destination started with "-incoming defer": set capabilities and
 * parameters on both sides, open the transport, start the migration and
 * follow it through MIGRATION events to a final state before a deadline,
 * acting on the way (switch to postcopy, pause and recover, continue from
 * pre-switchover, cancel) as the case asks.  query-migrate is sampled
 * while it runs, so a case can prove its feature really moved.
 */
#ifndef MIGTEST_MIGRATE_H
#define MIGTEST_MIGRATE_H

#include "vm.h"

typedef enum {
    TRANSPORT_TCP,
    TRANSPORT_UNIX,
    TRANSPORT_FD,       /* a socketpair, one end to each QEMU with getfd */
    TRANSPORT_EXEC,     /* QEMU runs "cat" into / out of a stream file */
    TRANSPORT_FILE,     /* file: URI, QEMU >= 8.2 */
} Transport;

const char *transport_name(Transport t);

typedef struct MigrateStats MigrateStats;

/* One query-migrate reply of the source, for timelines. */
typedef struct {
    gint64 t_ms;                /* since the migrate command */
    const char *status;         /* interned */
    gint64 transferred;         /* ram.* bytes */
    gint64 remaining;
    gint64 total;
    /* Pages/s, as QEMU recomputes it at a dirty sync at most once a
     * second: a step function, 0 before the first second. */
    gint64 dirty_pages_rate;
    double mbps;
    gint64 throttle_pct;        /* cpu-throttle-percentage */
    gint64 dirty_sync_count;
    gint64 postcopy_requests;   /* -1: this QEMU does not report it */
    gint64 expected_downtime_ms;
} MigrateSample;

/* A source event: a MIGRATION status change or a MIGRATION_PASS. */
typedef struct {
    gint64 t_ms;                /* QEMU's timestamp, since the migrate command */
    const char *status;         /* interned MIGRATION status; NULL for a pass */
    gint64 pass;                /* MIGRATION_PASS data.pass, else 0 */
} MigrateEvent;

/* Network faults, for cases whose QEMUs talk over a real link (netns.h). */
typedef enum {
    LINK_CUT_NONE,
    /* Cut once pages flow; the migration must fail; restored at its end. */
    LINK_CUT_PRECOPY,
    /* Cut once the destination runs in postcopy and asks for pages; both
     * sides must reach postcopy-paused; restore, migrate-recover on a new
     * port, migrate with resume. */
    LINK_CUT_POSTCOPY,
    /* As LINK_CUT_POSTCOPY, and cut again as the source resumes, so the
     * recovery itself fails (a double failure); restore and recover again. */
    LINK_CUT_RECOVERY,
} LinkCut;

/* One migrate-set-parameters member: a string when @str is set, else @num. */
typedef struct {
    const char *name;
    gint64 num;
    const char *str;
    gboolean both_sides;        /* also set on the destination */
    gboolean dst_only;          /* only on the destination (tls-authz) */
    gboolean flag;              /* a boolean parameter: @num != 0 */
} MigrateParam;

/* A postcopy recovery that fails once before the good one. */
typedef enum {
    RECOVER_OK,
    RECOVER_FAIL_CONNECT,   /* resume to where nothing listens: setup -> paused */
    RECOVER_FAIL_HANDSHAKE, /* resume to a socket that never answers, then pause */
} RecoverFault;

/* How the address reaches migrate / migrate-incoming (QEMU >= 8.2 for
 * channels): as "uri", as "channels", or wrongly (both, neither). */
typedef enum {
    MIGRATE_ADDR_URI,
    MIGRATE_ADDR_CHANNELS,
    MIGRATE_ADDR_BOTH,
    MIGRATE_ADDR_NEITHER,
} MigrateAddr;

typedef struct {
    Transport transport;
    guint64 max_bandwidth;      /* bytes/s */
    guint64 downtime_limit_ms;
    const char *const *capabilities;    /* NULL-terminated, may be NULL */
    const MigrateParam *params;         /* { NULL } terminated, may be NULL */
    gboolean postcopy;          /* migrate-start-postcopy after the first pass */
    gboolean postcopy_at_once;  /* ... during the first pass already */
    gboolean postcopy_recover;  /* in postcopy: migrate-pause, then recover */
    gboolean continue_at_pre_switchover;    /* migrate-continue when paused there */
    const char *cancel_at;      /* migrate_cancel on reaching this status */
    gint64 hold_active_ms;      /* must stay "active" this long, then cancel */
    /* With hold_active_ms: then SIGSTOP the destination and cancel only
     * once the source's transferred figure has stood still STALL_MS, i.e.
     * its migration thread is blocked in a write; SIGCONT when it ends. */
    gboolean cancel_stalled;
    gboolean bad_destination;   /* connect where nothing listens */
    /* Do not poll query-migrate between events (benchmarks only: a case
     * that acts on sampled figures needs the samples). */
    gboolean no_sampling;
    MigrateAddr addr;
    /* The migrate command must fail with a QMP error containing this;
     * the status is then "refused" (nothing was started). */
    const char *expect_refused;
    const char *cancel_again_at;    /* a second migrate_cancel in this status */
    gboolean wiretap;           /* relay through a wiretap (wiretap.h) */
    guint64 file_offset;        /* file: keep this many bytes before the stream */
    gboolean file_fdset;        /* file: through /dev/fdset/N (add-fd) */
    gboolean file_direct_io;    /* file: on a disk with O_DIRECT (direct-io) */
    gboolean dst_no_exit;       /* migrate-incoming exit-on-error=false */
    gboolean file_bad_offset;   /* file: an offset QEMU must refuse */
    gboolean file_getfd;        /* file: handed over as fd: (getfd) */
    RecoverFault recover_fault; /* a failed recovery first */
    gboolean cancel_refusable;  /* cancel_at may be refused by QEMU (postcopy) */
    /* Called at pre-switchover with the source's vCPUs stopped (adds the
     * pause-before-switchover capability); set *cancel to refuse the
     * switchover.  The migration then continues or is cancelled. */
    gboolean (*at_pre_switchover)(gpointer opaque, gboolean *cancel, GError **error);
    gpointer hook_opaque;       /* passed to the hooks */
    /* Told each status the source's MIGRATION events report, final one
     * included (-v); may be NULL. */
    void (*status_changed)(gpointer opaque, const char *status);
    /* release_when also stops the source (stop-copy finish). */
    gboolean release_stops_source;
    /* Once this returns TRUE on the figures sampled so far, lift the
     * bandwidth cap so the migration converges: a case first proves its
     * feature acted (throttling, xbzrle hits), then lets it finish. */
    gboolean (*release_when)(const MigrateStats *stats, gpointer opaque);
    /* cpr-reboot: once the source completed and before migrate-incoming,
     * quit the source and start a new destination on the same RAM; the
     * callee frees the old destination and returns the new one. */
    Vm *(*restart_dst)(gpointer opaque, GError **error);
    gpointer restart_opaque;
    /* Where a tcp destination listens (NULL: 127.0.0.1). */
    const char *tcp_host;
    LinkCut link_cut;
    /* Cut (@up FALSE) or restore the link between the two QEMUs. */
    gboolean (*set_link)(gpointer opaque, gboolean up, GError **error);
    gpointer link_opaque;
} MigrateConfig;

struct MigrateStats {
    gint64 total_ms;
    gint64 downtime_ms;
    gint64 setup_ms;
    guint64 transferred_bytes;
    double throughput_mbps;
    guint64 dirty_sync_count;
    char *final_status;
    GPtrArray *statuses;        /* char *: every src status seen, in order */
    /* Largest values seen while it ran (query-migrate samples). */
    gint64 max_throttle_pct;
    gint64 xbzrle_pages;
    gint64 multifd_bytes;
    gint64 postcopy_requests;
    gint64 active_held_ms;      /* hold_active_ms: how long it stayed active */
    gint64 stalled_ms;          /* cancel_stalled: how long the writes had stood still */
    char *cancelled_in;         /* status the cancel was issued in */
    char *cancelled_again_in;   /* cancel_again_at: status of the second cancel */
    char *cancel_refused;       /* cancel_refusable: QEMU's refusal, if it refused */
    gint64 dst_completed_us;    /* monotonic time dst reported completed */
    /* Timelines: t_ms counts from start_us, the monotonic time of the
     * migrate command. */
    gint64 start_us;
    GArray *samples;            /* MigrateSample, one per ~SAMPLE_MS */
    GArray *events;             /* MigrateEvent, in order */
    guint link_cuts;            /* times the link was cut */
    char *link_log;             /* what the cuts did, one line; NULL if none */
    char *error_desc;           /* src query-migrate error-desc, or the refusal */
    guint channels_accepted;    /* migrate(-incoming) calls QEMU took as channels */
    char *dst_status;           /* dst_no_exit: the destination's final status */
    char *dst_error_desc;       /* ... and its error-desc */
    gint64 dst_blocktime_ms;    /* dst postcopy-blocktime, -1 if absent */
    gint64 dirty_limit_us;      /* largest dirty-limit-throttle-time-per-round */
    gint64 zero_pages;          /* ram.duplicate: pages QEMU detected as zero */
    gint64 normal_pages;        /* ram.normal: pages sent in full */
    /* wiretap: was every relayed byte a TLS record, and what it saw. */
    gboolean wire_ran;
    gboolean wire_all_tls;
    guint64 wire_bytes;         /* source to destination, all connections */
    guint64 wire_bytes_down;
    guint wire_connections;
    char *wire_summary;
    /* file: the stream file's size and allocated bytes when it was written,
     * and whether the bytes before file_offset were kept. */
    guint64 file_size;
    guint64 file_allocated;
    gboolean file_prefix_kept;
    gboolean file_magic_at_offset;
    /* Bytes of the file in the page cache when the source finished:
     * O_DIRECT writes (direct-io) go around it, buffered ones stay. */
    guint64 file_cached;
    /* fdset rows: after remove-fd, did query-fdsets still list the set
     * (QEMU kept a copy of the migration file open)? */
    /* Recovery double failure: the destination's statuses through its
     * own failed recovery (paused > recover-setup > recover > paused). */
    GPtrArray *dst_statuses;
    gboolean fdset_checked;
    gboolean fdset_left_src;
    gboolean fdset_left_dst;
    /* libvirt backend: libvirt's own job statistics by their names
     * (virDomainGetJobStats), reported as metrics.libvirt; else NULL. */
    JsonObject *libvirt;
};

void migrate_stats_clear(MigrateStats *s);
gboolean migrate_stats_saw(const MigrateStats *s, const char *status);
/* Keep one query-migrate reply @o of the source in s->samples (which
 * must exist) for the timelines. */
void migrate_stats_record_sample(MigrateStats *s, JsonObject *o);
/* After the source reached s->final_status: its query-migrate (once the
 * times have settled) into @stats, cross-checked against final_status. */
gboolean migrate_stats_collect(Vm *src, Deadline deadline, MigrateStats *stats,
                               GError **error);

/* Capabilities ("events" and the case's) and parameters on one side;
 * the source also gets the bandwidth and downtime limits. */
gboolean migrate_prepare_side(Vm *vm, const MigrateConfig *cfg, gboolean is_dst,
                              Deadline deadline, GError **error);

/* Migrate @src to @dst.  Returns TRUE when the migration reached a final
 * state (completed, failed or cancelled: see stats->final_status); FALSE
 * only when driving it went wrong (a QEMU died, a deadline passed, QMP
 * refused).  After "completed" both are stopped, unless postcopy let the
 * destination run. */
gboolean migrate_run(Vm *src, Vm *dst, const MigrateConfig *cfg,
                     const char *run_dir, Deadline deadline,
                     MigrateStats *stats, GError **error);

#endif
