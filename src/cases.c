/* cases.c: the scenario table (see cases.h). */
#include "cases.h"

static const CaseDesc case_table[] = {
    { .name = "precopy/tcp", .transport = TRANSPORT_TCP, .smoke = TRUE },
    { .name = "precopy/unix", .transport = TRANSPORT_UNIX, .smoke = TRUE },
};

static void case_instance_free(gpointer p)
{
    CaseInstance *c = p;

    g_free(c->name);
    g_free(c);
}

GPtrArray *cases_select(const ArchDesc *const *archs, const char *glob)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(case_instance_free);
    g_autoptr(GPatternSpec) pat = glob ? g_pattern_spec_new(glob) : NULL;

    for (guint a = 0; archs[a]; a++) {
        for (gsize i = 0; i < G_N_ELEMENTS(case_table); i++) {
            const CaseDesc *d = &case_table[i];
            g_autofree char *name = g_strdup_printf("/%s/%s", archs[a]->name, d->name);
            CaseInstance *c;

            if (d->only_arch && !g_str_equal(d->only_arch, archs[a]->name))
                continue;
            if (pat ? !g_pattern_spec_match_string(pat, name) : !d->smoke)
                continue;
            c = g_new0(CaseInstance, 1);
            c->arch = archs[a];
            c->desc = d;
            c->name = g_steal_pointer(&name);
            g_ptr_array_add(out, c);
        }
    }
    return out;
}
