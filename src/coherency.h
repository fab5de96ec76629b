/*
 * coherency.h: the Arm cache-coherency guard.  On Arm KVM without
 * FEAT_S2FWB a guest running with its MMU or data cache off writes RAM
 * uncached while QEMU reads it through cacheable mappings, so RAM can
 * migrate stale (docs/arm-coherency.md).  The guard reads SCTLR_EL1 of
 * every vCPU through the gdbstub before the migration and again at
 * pre-switchover (vCPUs stopped, nothing can slip in between) and applies
 * a policy: refuse (cancel; the case is a SKIP naming the vCPU and value),
 * warn (migrate, record it), stop-copy (pause the vCPUs and migrate
 * non-live), ignore (no check).
 */
#ifndef MIGTEST_COHERENCY_H
#define MIGTEST_COHERENCY_H

#include "vm.h"

typedef enum {
    MMU_POLICY_REFUSE,
    MMU_POLICY_WARN,
    MMU_POLICY_STOP_COPY,
    MMU_POLICY_IGNORE,
} MmuPolicy;

const char *mmu_policy_name(MmuPolicy p);
/* FALSE if @name is not a policy. */
gboolean mmu_policy_parse(const char *name, MmuPolicy *out);

typedef struct {
    const char *when;           /* "start" or "pre-switchover" */
    gboolean safe;              /* every started vCPU has M and C set */
    char *detail;               /* the vCPUs and values, one line */
    gint64 stopped_us;          /* how long the read stopped the VM */
    gint64 session_us;          /* how long the gdbstub was held */
} CoherencyCheck;

typedef struct {
    MmuPolicy policy;
    GArray *checks;             /* CoherencyCheck, in order */
    const char *fired;          /* when the policy acted ("start", ...), or NULL */
    char *warning;              /* warn: what was migrated anyway */
} CoherencyResult;

void coherency_result_init(CoherencyResult *r, MmuPolicy policy);
void coherency_result_clear(CoherencyResult *r);

/* Read every vCPU's SCTLR_EL1 of @vm (started with a gdbstub) and record
 * it as a check named @when.  *@safe says whether all started vCPUs run
 * cacheable.  vCPUs PSCI never started are listed and not counted. */
gboolean coherency_check(Vm *vm, const char *when, CoherencyResult *r,
                         gboolean *safe, Deadline deadline, GError **error);

#endif
