/*
 * backend.h: how a VM pair is driven.  The case logic (runner.c) boots a
 * source and a paused destination, waits on their serial streams,
 * migrates, stops, resumes, verifies and pokes RAM only through a Pair;
 * a backend implements it:
 *   qemu     two QEMU processes migtest spawns and drives over QMP
 *            (backend-qemu.c), the default;
 *   libvirt  domains on two libvirt hosts, driven through libvirt's C API,
 *            with a `migtest agent` on each host for RAM and serial.
 * Each catalogue row states which backends can run it (CaseDesc.backends);
 * any other combination is a SKIP naming why (backend_cannot_run()).
 */
#ifndef MIGTEST_BACKEND_H
#define MIGTEST_BACKEND_H

#include "cases.h"
#include "coherency.h"
#include "migrate.h"
#include "payload.h"
#include "progress.h"
#include "verify.h"
#include "vm.h"

const char *backend_name(BackendKind b);
/* FALSE if @name is not a backend. */
gboolean backend_parse(const char *name, BackendKind *out);

typedef enum {
    SIDE_SRC,
    SIDE_DST,
} Side;

/* The options of a whole run, as the command line gave them. */
typedef struct {
    BackendKind backend;
    const char *src_qemu;       /* NULL: the architecture's default binary */
    const char *dst_qemu;
    const char *accel;          /* NULL: kvm when usable, else tcg */
    const char *machine;        /* NULL: the architecture's default */
    guint64 mem_bytes;
    VmRamMode ram_mode;
    const char *results_dir;    /* per-case log directories go below */
    gboolean keep;              /* keep run and log directories */
    gint64 timeout_ms;          /* per-case deadline */
    VmGroup *group;             /* may be NULL */
    MmuPolicy mmu_policy;       /* for arches with a coherency guard */
    int verbosity;              /* -v count: progress.h */
    /* Fault injection for migtest's own tests: after the migration
     * completes, write one byte of source RAM at this gpa (0: off). */
    guint64 poke_src_gpa;
    /* ... and after verification, before the destination runs again,
     * one byte of destination RAM (the guest's selfcheck must see it). */
    guint64 poke_dst_gpa;
    /* ... and, at that same point, HMP commands on the destination
     * (NULL-terminated; NULL: none) and a word for the device-probe test
     * mailbox written on the destination (0: none): devprobe.h. */
    const char *const *dst_hmp;
    guint64 dst_devprobe_mailbox;
    /* Benchmarks: do not poll query-migrate while migrating (see
     * MigrateConfig.no_sampling). */
    gboolean no_sampling;
    /* --ping-pong N: N migrations back and forth (0 or 1: one). */
    guint ping_pong;
    /* libvirt backend: the two hosts' URIs, the commands that start
     * `migtest agent` on each (NULL: this binary, on this machine), and
     * how the migration is driven: "p2p" (default), "managed" or
     * "tunnelled". */
    const char *src_uri;
    const char *dst_uri;
    const char *src_agent;
    const char *dst_agent;
    const char *libvirt_mode;
} RunOptions;

/* What the case logic hands a backend: everything needed to boot the
 * pair, backend-neutral.  Owned by the caller; outlives the Pair. */
typedef struct {
    const ArchDesc *arch;
    const CaseDesc *desc;
    const RunOptions *opts;
    const char *case_name;      /* "/x86_64/precopy/tcp" */
    const char *accel;          /* "kvm" or "tcg", without case properties */
    const char *run_dir;        /* private 0700 directory on tmpfs */
    const char *log_dir;        /* command lines, stderr, transcripts */
    guint64 mem_bytes;
    GBytes *image;              /* the patched payload, or NULL for linux */
    const char *kernel;         /* linux payload: path of the kernel */
    GBytes *initrd;             /* ... our initramfs */
    const char *append;         /* ... and its command line */
    const char *cpu;            /* overrides the arch's -cpu, may be NULL */
    guint vcpus;                /* -smp; 0 or 1: one vCPU */
    gboolean serial_lines;      /* decode the console as lines (linux) */
    gboolean guard;             /* the coherency guard will read SCTLR_EL1 */
    Deadline deadline;          /* the case's */
    const Progress *progress;   /* -v phases and -vv QMP lines go here */
} PairSpec;

typedef struct Pair Pair;

/* A backend's operations; the pair_*() wrappers below call them. */
typedef struct {
    const char *name;
    /* Start the source (guest running, first 'B' seen) and a destination
     * waiting for the migration, paused unless the case is postcopy;
     * MT_ERROR_UNSUPPORTED when the pair cannot run the case. */
    gboolean (*boot)(Pair *p, GError **error);
    /* Replace the destination by a fresh one (@plain: without the case's
     * fault), for a second migration. */
    gboolean (*new_destination)(Pair *p, gboolean plain, GError **error);
    const char *(*side_name)(Pair *p, Side side);
    const char *(*version)(Pair *p, Side side);
    Serial *(*serial)(Pair *p, Side side);
    gboolean (*is_running)(Pair *p, Side side, gboolean *running, GError **error);
    gboolean (*stop)(Pair *p, Side side, GError **error);
    gboolean (*resume)(Pair *p, Side side, GError **error);
    /* MT_ERROR_PEER_DIED naming the side and how it died. */
    gboolean (*check_alive)(Pair *p, Side side, GError **error);
    gboolean (*migrate)(Pair *p, const MigrateConfig *cfg, MigrateStats *stats,
                        GError **error);
    /* Cancel the source's migration, whatever state it is in. */
    gboolean (*cancel)(Pair *p, GError **error);
    /* The source's migration status ("none", "completed", ...); new string. */
    char *(*migration_status)(Pair *p, GError **error);
    /* Proof that TLS is in force on the source's migration; new string or
     * NULL (with @error set if it could not be asked). */
    char *(*tls_evidence)(Pair *p, GError **error);
    /* Proof that KVM's dirty ring works on the source; new string. */
    char *(*measure_dirty_ring)(Pair *p, GError **error);
    /* NULL when the backend cannot read SCTLR_EL1 (see backend_has_guard). */
    gboolean (*coherency_check)(Pair *p, const char *when, CoherencyResult *r,
                                gboolean *safe, GError **error);
    /* With both sides stopped: exact (if @exact) compares all RAM, the
     * invariant (if @params) checks the destination's window.  FALSE with
     * the first failing check's error, exact's before the invariant's. */
    gboolean (*verify)(Pair *p, gboolean exact, const PayloadParams *params,
                       ExactResult *ex, InvariantResult *inv, GError **error);
    /* Keep a private copy of the source's RAM as it is now (its vCPUs
     * stopped); exact then compares the destination with it instead of
     * with the source (rows with a CaseRam).  NULL if the backend cannot. */
    gboolean (*keep_src_copy)(Pair *p, GError **error);
    /* QEMU's runstate of @side ("running", "paused", "suspended", ...);
     * new string.  NULL op: the backend cannot tell. */
    char *(*runstate)(Pair *p, Side side, GError **error);
    /* Wait for the QMP event @name on @side (guest suspend: SUSPEND,
     * WAKEUP).  NULL op: the backend sees no QEMU events. */
    gboolean (*wait_event)(Pair *p, Side side, const char *name, GError **error);
    /* system_wakeup on @side.  NULL op: the backend cannot wake a guest. */
    gboolean (*wakeup)(Pair *p, Side side, GError **error);
    /* Flip one byte of @side's RAM at @gpa behind QEMU's back. */
    gboolean (*poke)(Pair *p, Side side, guint64 gpa, GError **error);
    /* Fault injection: write @len bytes at @gpa of @side's RAM behind
     * QEMU's back.  NULL op: the backend cannot. */
    gboolean (*write_ram)(Pair *p, Side side, guint64 gpa, const void *buf, gsize len,
                          GError **error);
    /* Fault injection: one HMP command on @side; *@output (new string)
     * is what HMP printed.  NULL op: the backend cannot. */
    gboolean (*hmp)(Pair *p, Side side, const char *command, char **output, GError **error);
    /* Ping-pong: the destination becomes the source, the old source goes,
     * and a fresh destination (paused, incoming) starts on the side the
     * old source was on.  NULL if the backend cannot. */
    gboolean (*swap)(Pair *p, GError **error);
    /* Tear everything down (processes, domains, files); NULL-safe. */
    void (*free)(Pair *p);
} PairOps;

/* Every backend's pair starts with this. */
struct Pair {
    const PairOps *ops;
    const PairSpec *spec;
};

/* Why backend @b cannot run row @d, or NULL if it can. */
const char *backend_cannot_run(BackendKind b, const CaseDesc *d);
/* Can @b read the vCPUs' SCTLR_EL1 for the Arm coherency guard? */
gboolean backend_has_guard(BackendKind b);

/* A pair for @spec on spec->opts->backend; nothing is started yet. */
Pair *pair_new(const PairSpec *spec, GError **error);

static inline void pair_free(Pair *p)
{
    if (p)
        p->ops->free(p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Pair, pair_free)

static inline gboolean pair_boot(Pair *p, GError **error)
{
    return p->ops->boot(p, error);
}

static inline gboolean pair_swap(Pair *p, GError **error)
{
    if (!p->ops->swap) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "the %s backend cannot ping-pong",
                    p->ops->name);
        return FALSE;
    }
    return p->ops->swap(p, error);
}

static inline gboolean pair_new_destination(Pair *p, gboolean plain, GError **error)
{
    return p->ops->new_destination(p, plain, error);
}

static inline const char *pair_side_name(Pair *p, Side side)
{
    return p->ops->side_name(p, side);
}

static inline const char *pair_version(Pair *p, Side side)
{
    return p->ops->version(p, side);
}

static inline Serial *pair_serial(Pair *p, Side side)
{
    return p->ops->serial(p, side);
}

static inline gboolean pair_is_running(Pair *p, Side side, gboolean *running, GError **error)
{
    return p->ops->is_running(p, side, running, error);
}

static inline gboolean pair_stop(Pair *p, Side side, GError **error)
{
    return p->ops->stop(p, side, error);
}

static inline gboolean pair_resume(Pair *p, Side side, GError **error)
{
    return p->ops->resume(p, side, error);
}

static inline gboolean pair_check_alive(Pair *p, Side side, GError **error)
{
    return p->ops->check_alive(p, side, error);
}

static inline gboolean pair_migrate(Pair *p, const MigrateConfig *cfg, MigrateStats *stats,
                                    GError **error)
{
    return p->ops->migrate(p, cfg, stats, error);
}

static inline gboolean pair_cancel(Pair *p, GError **error)
{
    return p->ops->cancel(p, error);
}

static inline char *pair_migration_status(Pair *p, GError **error)
{
    return p->ops->migration_status(p, error);
}

static inline char *pair_tls_evidence(Pair *p, GError **error)
{
    return p->ops->tls_evidence(p, error);
}

static inline char *pair_measure_dirty_ring(Pair *p, GError **error)
{
    return p->ops->measure_dirty_ring(p, error);
}

static inline gboolean pair_coherency_check(Pair *p, const char *when, CoherencyResult *r,
                                            gboolean *safe, GError **error)
{
    return p->ops->coherency_check(p, when, r, safe, error);
}

static inline gboolean pair_verify(Pair *p, gboolean exact, const PayloadParams *params,
                                   ExactResult *ex, InvariantResult *inv, GError **error)
{
    return p->ops->verify(p, exact, params, ex, inv, error);
}

static inline gboolean pair_keep_src_copy(Pair *p, GError **error)
{
    if (!p->ops->keep_src_copy) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "the %s backend cannot keep a "
                    "copy of the source's RAM", p->ops->name);
        return FALSE;
    }
    return p->ops->keep_src_copy(p, error);
}

static inline gboolean pair_unsupported(Pair *p, const char *what, GError **error)
{
    g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "the %s backend cannot %s",
                p->ops->name, what);
    return FALSE;
}

static inline char *pair_runstate(Pair *p, Side side, GError **error)
{
    if (!p->ops->runstate) {
        pair_unsupported(p, "report QEMU's runstate", error);
        return NULL;
    }
    return p->ops->runstate(p, side, error);
}

static inline gboolean pair_wait_event(Pair *p, Side side, const char *name, GError **error)
{
    if (!p->ops->wait_event)
        return pair_unsupported(p, "wait for QEMU events", error);
    return p->ops->wait_event(p, side, name, error);
}

static inline gboolean pair_wakeup(Pair *p, Side side, GError **error)
{
    if (!p->ops->wakeup)
        return pair_unsupported(p, "wake a suspended guest", error);
    return p->ops->wakeup(p, side, error);
}

static inline gboolean pair_poke(Pair *p, Side side, guint64 gpa, GError **error)
{
    return p->ops->poke(p, side, gpa, error);
}

static inline gboolean pair_write_ram(Pair *p, Side side, guint64 gpa, const void *buf,
                                      gsize len, GError **error)
{
    if (!p->ops->write_ram)
        return pair_unsupported(p, "write guest RAM", error);
    return p->ops->write_ram(p, side, gpa, buf, len, error);
}

static inline gboolean pair_hmp(Pair *p, Side side, const char *command, char **output,
                                GError **error)
{
    if (!p->ops->hmp)
        return pair_unsupported(p, "run HMP commands", error);
    return p->ops->hmp(p, side, command, output, error);
}

#endif
