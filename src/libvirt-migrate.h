/*
 * libvirt-migrate.h: one migration through libvirt's C API (measured in
 * docs/libvirt.md).  A case's features
 * map onto flags and typed parameters: LIVE; PAUSED, so the destination
 * stays stopped for the exact check (not with postcopy, which libvirt
 * refuses with PAUSED); POSTCOPY with virDomainMigrateStartPostCopy once
 * the first pass is out; PARALLEL with parallel.connections; COMPRESSED
 * xbzrle with its cache; AUTO_CONVERGE with its throttle steps; TLS
 * (x509, from the hosts' migrate_tls_x509_cert_dir); bandwidth; max
 * downtime.  What libvirt 9.0 cannot express is MT_ERROR_UNSUPPORTED
 * naming it, before anything starts.
 *
 * The migration call blocks, so it runs on a thread of its own while the
 * caller follows it: job statistics every LIBVIRT_SAMPLE_MS (the same
 * MigrateStats figures the qemu backend takes from query-migrate), QEMU's
 * own MIGRATION events through libvirt's monitor-event passthrough
 * (statuses and the destination's "completed" time), lifecycle events,
 * and the deadline, which ends in virDomainAbortJob.
 */
#ifndef MIGTEST_LIBVIRT_MIGRATE_H
#define MIGTEST_LIBVIRT_MIGRATE_H

#include <libvirt/libvirt.h>
#include "cases.h"
#include "migrate.h"
#include "vm.h"

typedef enum {
    LIBVIRT_P2P,            /* virDomainMigrateToURI3 + PEER2PEER: Nova's, KubeVirt's */
    LIBVIRT_MANAGED,        /* virDomainMigrate3: the client drives both daemons */
    LIBVIRT_TUNNELLED,      /* p2p with the data inside libvirtd's connection */
} LibvirtMode;

/* FALSE if @name is not a mode. */
gboolean libvirt_mode_parse(const char *name, LibvirtMode *out);
const char *libvirt_mode_name(LibvirtMode m);

/* Why libvirt 9.0 in @mode cannot run row @d, or NULL if it can. */
const char *libvirt_cannot_express(const CaseDesc *d, LibvirtMode mode);

typedef struct {
    LibvirtMode mode;
    virConnectPtr src;
    virConnectPtr dst;
    const char *dst_uri;        /* p2p: what the source's libvirtd connects to */
    virDomainPtr dom;           /* the source domain */
    const char *name;           /* its name (the destination's too) */
    gboolean tls;               /* the case migrates over TLS (x509) */
    char **tls_creds_seen;      /* tls: gets the source QEMU's tls-creds as
                                 * seen while migrating (new string) */
    VmGroup *group;             /* an interrupt aborts the job */
    Deadline deadline;
} LibvirtMigration;

/* Migrate; TRUE when it completed (stats filled, stats->libvirt holds
 * libvirt's own figures) or ended as @cfg expected.  FALSE with
 * MT_ERROR_MIGRATION and libvirt's message when it failed, MT_ERROR_TIMEOUT
 * when the deadline aborted it. */
gboolean libvirt_migrate_run(const LibvirtMigration *m, const MigrateConfig *cfg,
                             MigrateStats *stats, GError **error);

#endif
