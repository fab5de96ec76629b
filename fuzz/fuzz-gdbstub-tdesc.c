/*
 * fuzz-gdbstub-tdesc.c: libFuzzer target for the gdbstub target-description
 * walk (src/gdbstub.c: gdbstub_find_regs), the XML a stub sends us.
 *
 * Input: documents separated by NUL bytes.  The fetch callback hands out
 * the k-th document on the k-th request, whatever annex was asked for
 * (the first request is always "target.xml"), and fails once they run
 * out, as a stub that refuses a qXfer would.  Checked:
 *   - no crash, sanitizer report, GLib critical or warning;
 *   - the walk respects its bounds: at most 32 fetches, each for an annex
 *     of 1..128 printable characters none of ":,#$}*";
 *   - success means an SCTLR register was found: a register number, the
 *     name "SCTLR_EL1" or "SCTLR", ndocs == the fetches made;
 *   - failure means a GError of MT_ERROR_PROTOCOL or MT_ERROR_UNSUPPORTED.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gdbstub.h"
#include "fuzz-common.h"

#define MAX_FETCHES 32          /* gdbstub.c's XML_MAX_DOCS */

typedef struct {
    const char *const *docs;
    guint ndocs;
    guint fetches;
} Docs;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    fuzz_glib_init(argv);
    return 0;
}

static char *fetch(const char *annex, gpointer opaque, GError **error)
{
    Docs *d = opaque;
    gsize len = strlen(annex);

    if (d->fetches == 0 && strcmp(annex, "target.xml") != 0)
        abort();
    if (len == 0 || len > 128 || strpbrk(annex, ":,#$}*"))
        abort();
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isgraph(annex[i]))
            abort();
    if (++d->fetches > MAX_FETCHES)
        abort();
    if (d->fetches > d->ndocs) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "no document '%s'", annex);
        return NULL;
    }
    return g_strdup(d->docs[d->fetches - 1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = g_malloc(size + 1);
    g_auto(GStrv) docs = NULL;
    GdbRegs regs;
    Docs d = { 0 };
    gboolean ok;

    memcpy(text, data, size);
    text[size] = '\0';
    /* g_strsplit stops at the first NUL: split by hand. */
    {
        GPtrArray *a = g_ptr_array_new();
        const char *p = text, *end = text + size;

        while (p <= end) {
            gsize n = strlen(p);

            g_ptr_array_add(a, g_strndup(p, n));
            p += n + 1;
        }
        g_ptr_array_add(a, NULL);
        docs = (GStrv)g_ptr_array_free(a, FALSE);
    }
    d.docs = (const char *const *)docs;
    d.ndocs = g_strv_length(docs);

    ok = gdbstub_find_regs(fetch, &d, &regs, &error);
    if (ok) {
        if (error || regs.sctlr_regnum < 0 || !regs.sctlr_name ||
            (strcmp(regs.sctlr_name, "SCTLR_EL1") != 0 &&
             strcmp(regs.sctlr_name, "SCTLR") != 0) ||
            regs.ndocs != d.fetches || regs.ndocs == 0)
            abort();
    } else if (!error || error->domain != MT_ERROR ||
               (error->code != MT_ERROR_PROTOCOL &&
                error->code != MT_ERROR_UNSUPPORTED)) {
        abort();
    }
    gdbstub_regs_clear(&regs);
    return 0;
}
