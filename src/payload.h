/*
 * payload.h: the embedded guest images and their parameter block.  The
 * images are built from guest/<arch>/payload.S; the host patches the
 * parameter block (layout in guest/migtest-abi.h) before boot.
 */
#ifndef MIGTEST_PAYLOAD_H
#define MIGTEST_PAYLOAD_H

#include <glib.h>
#include "migtest-abi.h"

typedef struct {
    guint64 start;              /* guest physical, page aligned */
    guint64 end;                /* exclusive */
} PayloadRange;

typedef struct {
    guint32 flags;
    guint32 b_every;            /* passes between two 'B' */
    guint32 hot_pages;
    guint32 mmu_off_after;      /* aarch64 mmu-off-late */
    guint32 nranges;
    PayloadRange ranges[MT_MAX_RANGES];
    guint32 zero_every;         /* zero runs: passes between two; 0 = off */
    guint32 zero_pages;         /* pages in a zero run */
    guint32 zero_method;        /* MT_ZERO_* */
    guint32 fill;               /* MT_FILL_* */
    guint32 hot_op;             /* MT_HOT_* */
    guint32 canaries;           /* 1: CPU-state canaries */
    guint32 vcpus;              /* vCPUs running the workload; 0 = 1 */
    guint32 devprobe;           /* device-state probes; 0 = off */
    guint32 suspend;            /* guest suspend; 0 = off */
} PayloadParams;

/* The embedded image for @arch_name/@variant, or NULL if there is none. */
GBytes *payload_image_lookup(const char *arch_name, const char *variant);

/* The linux payload's initramfs for @arch_name (our /init), or NULL if
 * this build could not make one (no cross compiler). */
GBytes *payload_linux_initramfs(const char *arch_name);

/* Decode the parameter block of @image.  FALSE with @error if the block
 * is missing, has the wrong magic or version, or is inconsistent. */
gboolean payload_params_read(GBytes *image, PayloadParams *out, GError **error);

/* Return a new copy of @image with @params written into its block.
 * Fails if @params is inconsistent (empty, unaligned, unsorted ranges). */
GBytes *payload_image_patch(GBytes *image, const PayloadParams *params,
                            GError **error);

/* Check @p for the invariants the guest relies on. */
gboolean payload_params_validate(const PayloadParams *p, GError **error);

/* Number of pages in all ranges. */
guint64 payload_params_pages(const PayloadParams *p);

/* The number of vCPUs running the workload (MT_P_VCPUS 0 counts as 1). */
guint payload_params_vcpus(const PayloadParams *p);

/* Several vCPUs (migtest-abi.h, "Several vCPUs"): the single-vCPU
 * parameters vCPU @i effectively runs with: range 0 replaced by slice @i,
 * and for @i >= 1 no hot set, no zero runs, no device probes; vcpus = 1.  With one vCPU
 * (@i must be 0) a copy of @p.  FALSE if @i is not below the vCPU count or
 * the slice would be empty (several vCPUs need nranges == 1). */
gboolean payload_params_slice(const PayloadParams *p, guint i, PayloadParams *out);

/* Zero runs (migtest-abi.h, "Zero runs"): the number of R-page slots in
 * range 0 after the hot set (0 with zero runs off).  With several vCPUs
 * the runs are vCPU 0's: counted in slice 0, and @g below is vCPU 0's. */
guint64 payload_zero_slots(const PayloadParams *p);

/* The pages that are all zero once pass @g has visited them, as
 * [*start, *end) (guest physical); FALSE (and an empty interval) if there
 * are none: zero runs off, or @g before the first run. */
gboolean payload_zero_run(const PayloadParams *p, guint64 g, guint64 *start, guint64 *end);

#endif
