/*
 * runner.h: what a case does, end to end.  Prepare the payload, have the
 * backend (backend.h) boot it in a source and a paused destination, wait
 * for the guest's first passes, apply the case (guard, faults, cancels),
 * migrate, check that the case's feature acted, then verify: exact (both
 * stopped), invariant (dst snapshot), selfcheck (dst resumed for more
 * passes, no 'E' on either side).  Classify into PASS, FAIL, SKIP or
 * ERROR and keep the evidence.  Nothing here knows which backend runs.
 */
#ifndef MIGTEST_RUNNER_H
#define MIGTEST_RUNNER_H

#include "backend.h"

typedef enum {
    OUTCOME_PASS,
    OUTCOME_FAIL,       /* the system under test is wrong */
    OUTCOME_SKIP,       /* this host or QEMU cannot run the case */
    OUTCOME_ERROR,      /* the harness broke, or was interrupted */
} Outcome;

const char *outcome_name(Outcome o);


/* One migration of a --ping-pong run, verified. */
typedef struct {
    gint64 downtime_ms;         /* QEMU's */
    gint64 observed_downtime_ms;    /* the guest's; -1: not measured */
    gint64 total_ms;
} HopResult;

typedef struct {
    char *name;
    const char *arch;
    char *accel;
    char *src_version;
    char *dst_version;
    Outcome outcome;
    char *reason;
    char *observed;             /* what proved the case's feature acted */
    gint64 wall_ms;
    MigrateStats mig;
    gboolean exact_ran;
    ExactResult exact;
    gboolean invariant_ran;
    InvariantResult invariant;
    gboolean selfcheck_ran;
    SelfcheckResult selfcheck;
    gint64 verify_ms;           /* exact + invariant */
    gboolean coherency_ran;     /* the Arm coherency guard was active */
    CoherencyResult coherency;
    /* Longest heartbeat gap the guest saw across the switchover, on host
     * timestamps, less the time migtest itself held the destination
     * paused to verify it; -1 when not measured.  Resolution: one pass. */
    gint64 observed_downtime_ms;
    /* The same gap on the host's monotonic clock (0: not measured), and
     * within it the time migtest held the destination paused (0: none). */
    gint64 gap_start_us, gap_end_us;
    gint64 hold_start_us, hold_end_us;
    PayloadParams window;       /* the guest's test window (nranges 0: none) */
    char *log_dir;              /* kept: failed, errored or --keep */
    const LinkShape *link;      /* the case's real link (netns.h), or NULL */
    GArray *hops;               /* --ping-pong: HopResult of each verified hop, or NULL */
    guint first_failing_hop;    /* 1-based; 0: none failed */
    LinkCut link_cut;
} CaseResult;

void case_result_free(CaseResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CaseResult, case_result_free)

CaseResult *runner_run_case(const CaseInstance *c, const RunOptions *opts);

#endif
