/* backend.c: choosing a backend and what it can run (see backend.h). */
#include "backend.h"

#include "backend-libvirt.h"
#include "backend-qemu.h"

const char *backend_name(BackendKind b)
{
    return b == BACKEND_LIBVIRT ? "libvirt" : "qemu";
}

gboolean backend_parse(const char *name, BackendKind *out)
{
    if (g_str_equal(name, "qemu"))
        *out = BACKEND_QEMU;
    else if (g_str_equal(name, "libvirt"))
        *out = BACKEND_LIBVIRT;
    else
        return FALSE;
    return TRUE;
}

/* RunOptions left zeroed mean the default backend. */
static BackendKind effective(BackendKind b)
{
    return b ? b : BACKEND_QEMU;
}

const char *backend_cannot_run(BackendKind b, const CaseDesc *d)
{
    guint can = d->backends ? d->backends : BACKEND_QEMU;

    b = effective(b);
    if (can & b)
        return NULL;
    return b == BACKEND_LIBVIRT ? "the libvirt backend cannot run this case"
                                : "the qemu backend cannot run this case";
}

gboolean backend_has_guard(BackendKind b)
{
    return effective(b) == BACKEND_QEMU;
}

Pair *pair_new(const PairSpec *spec, GError **error)
{
    switch (effective(spec->opts->backend)) {
    case BACKEND_QEMU:
        return backend_qemu_pair_new(spec);
    case BACKEND_LIBVIRT:
        return backend_libvirt_pair_new(spec);
    }
    g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "backend '%s' is not built into this "
                "migtest", backend_name(spec->opts->backend));
    return NULL;
}
