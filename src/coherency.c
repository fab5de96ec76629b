/* coherency.c: the Arm cache-coherency guard (see coherency.h). */
#include "coherency.h"

#include "gdbstub.h"

static const char *const policy_names[] = {
    [MMU_POLICY_REFUSE] = "refuse", [MMU_POLICY_WARN] = "warn",
    [MMU_POLICY_STOP_COPY] = "stop-copy", [MMU_POLICY_IGNORE] = "ignore",
};

const char *mmu_policy_name(MmuPolicy p)
{
    return policy_names[p];
}

gboolean mmu_policy_parse(const char *name, MmuPolicy *out)
{
    for (guint i = 0; i < G_N_ELEMENTS(policy_names); i++)
        if (g_str_equal(name, policy_names[i])) {
            *out = (MmuPolicy)i;
            return TRUE;
        }
    return FALSE;
}

static void coherency_check_clear(gpointer p)
{
    g_free(((CoherencyCheck *)p)->detail);
}

void coherency_result_init(CoherencyResult *r, MmuPolicy policy)
{
    r->policy = policy;
    r->checks = g_array_new(FALSE, TRUE, sizeof(CoherencyCheck));
    g_array_set_clear_func(r->checks, coherency_check_clear);
    r->fired = NULL;
    r->warning = NULL;
}

void coherency_result_clear(CoherencyResult *r)
{
    g_clear_pointer(&r->checks, g_array_unref);
    g_clear_pointer(&r->warning, g_free);
}

/* "vCPU 0 SCTLR_EL1=0x... (M=0 C=0), vCPU 1 never started". */
static char *describe(GdbSctlrReport *rep, gboolean *safe)
{
    g_autoptr(GString) s = g_string_new(NULL);

    *safe = TRUE;
    for (guint i = 0; i < rep->vcpus->len; i++) {
        const GdbVcpuSctlr *v = &g_array_index(rep->vcpus, GdbVcpuSctlr, i);
        g_autofree char *one = gdbstub_format_vcpu(v);

        if (s->len)
            g_string_append(s, ", ");
        /* PSCI keeps secondaries off until the guest starts them; their
         * reset SCTLR says nothing about the guest's accesses. */
        if (gdbstub_vcpu_never_started(v)) {
            g_string_append_printf(s, "vCPU %d never started", v->index);
            continue;
        }
        g_string_append(s, one);
        if (!gdbstub_sctlr_cacheable(v->sctlr))
            *safe = FALSE;
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

gboolean coherency_check(Vm *vm, const char *when, CoherencyResult *r,
                         gboolean *safe, Deadline deadline, GError **error)
{
    g_autoptr(GdbSctlrReport) rep = gdbstub_read_sctlr_qmp(vm_qmp(vm), vm_gdb_path(vm),
                                                           deadline, error);
    CoherencyCheck c = { .when = when };

    if (!rep) {
        g_prefix_error(error, "coherency check at %s: ", when);
        return FALSE;
    }
    c.detail = describe(rep, &c.safe);
    c.stopped_us = rep->stopped_us;
    c.session_us = rep->session_us;
    *safe = c.safe;
    g_array_append_val(r->checks, c);
    return TRUE;
}
