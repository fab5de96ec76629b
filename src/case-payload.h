/*
 * case-payload.h: the payload a case runs.  Either the architecture's
 * image patched with the parameters its catalogue row asks for (window,
 * hot set, zero runs, fill, atomic hot set, canaries, a top-of-RAM range),
 * or the linux payload: Debian's kernel, our initramfs and its command
 * line.  What this host or build lacks is MT_ERROR_UNSUPPORTED (a SKIP).
 */
#ifndef MIGTEST_CASE_PAYLOAD_H
#define MIGTEST_CASE_PAYLOAD_H

#include "cases.h"
#include "payload.h"

typedef struct {
    PayloadParams params;       /* what the image was patched with */
    GBytes *image;              /* the patched image, or NULL for linux */
    char *kernel;               /* linux: the kernel's path */
    GBytes *initrd;             /* linux: our initramfs */
    char *append;               /* linux: the kernel command line */
} CasePayload;

/* The RAM a payload case's guest gets for --mem @mem_opt: the row may ask
 * for a size that is not a whole MiB (CaseDesc.mem_tail_kib). */
static inline guint64 case_guest_mem(const CaseDesc *d, guint64 mem_opt)
{
    return mem_opt + (guint64)d->mem_tail_kib * 1024;
}

/* Fill @out (cleared first) for case @c under accelerator @accel with a
 * guest of @mem_bytes; free with case_payload_clear() either way. */
gboolean case_payload_make(const CaseInstance *c, const char *accel, guint64 mem_bytes,
                           CasePayload *out, GError **error);
void case_payload_clear(CasePayload *p);

#endif
