/*
 * runner.h: run one case end to end.  Boot the payload in a source QEMU
 * and a paused "-incoming defer" destination, wait for the guest's first
 * passes, migrate, then verify: exact (both stopped), invariant (dst
 * snapshot), selfcheck (dst resumed for more passes, no 'E' on either
 * side).  Classify into PASS, FAIL, SKIP or ERROR and keep the evidence.
 */
#ifndef MIGTEST_RUNNER_H
#define MIGTEST_RUNNER_H

#include "cases.h"
#include "migrate.h"
#include "verify.h"
#include "vm.h"

typedef enum {
    OUTCOME_PASS,
    OUTCOME_FAIL,       /* the system under test is wrong */
    OUTCOME_SKIP,       /* this host or QEMU cannot run the case */
    OUTCOME_ERROR,      /* the harness broke, or was interrupted */
} Outcome;

const char *outcome_name(Outcome o);

typedef struct {
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
    /* Fault injection for migtest's own tests: after the migration
     * completes, write one byte of source RAM at this gpa (0: off). */
    guint64 poke_src_gpa;
} RunOptions;

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
    char *log_dir;              /* kept: failed, errored or --keep */
} CaseResult;

void case_result_free(CaseResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CaseResult, case_result_free)

CaseResult *runner_run_case(const CaseInstance *c, const RunOptions *opts);

#endif
