/* payload.c: embedded guest images and parameter blocks (see payload.h). */
#include "payload.h"

#include <string.h>
#include "mt-error.h"

#include "payload-x86_64.h"
#include "payload-aarch64-mmu-on.h"
#include "payload-aarch64-mmu-off-dc-civac.h"
#include "payload-aarch64-mmu-off.h"
#include "payload-aarch64-mmu-off-late.h"
/* An initramfs is left out of the build when its compiler is missing. */
#if __has_include("linux-initramfs-x86_64.h")
#include "linux-initramfs-x86_64.h"
#define HAVE_INITRAMFS_X86_64 1
#endif
#if __has_include("linux-initramfs-aarch64.h")
#include "linux-initramfs-aarch64.h"
#define HAVE_INITRAMFS_AARCH64 1
#endif

typedef struct {
    const char *arch;
    const char *variant;
    const unsigned char *data;
    gsize len;
} PayloadImage;

static const PayloadImage payload_images[] = {
    { "x86_64", "default", mt_payload_x86_64, sizeof(mt_payload_x86_64) },
    { "aarch64", "mmu-on", mt_payload_aarch64_mmu_on,
      sizeof(mt_payload_aarch64_mmu_on) },
    { "aarch64", "mmu-off-dc-civac", mt_payload_aarch64_mmu_off_dc_civac,
      sizeof(mt_payload_aarch64_mmu_off_dc_civac) },
    { "aarch64", "mmu-off", mt_payload_aarch64_mmu_off,
      sizeof(mt_payload_aarch64_mmu_off) },
    { "aarch64", "mmu-off-late", mt_payload_aarch64_mmu_off_late,
      sizeof(mt_payload_aarch64_mmu_off_late) },
};

GBytes *payload_image_lookup(const char *arch_name, const char *variant)
{
    for (gsize i = 0; i < G_N_ELEMENTS(payload_images); i++) {
        const PayloadImage *p = &payload_images[i];
        if (g_str_equal(p->arch, arch_name) && g_str_equal(p->variant, variant))
            return g_bytes_new_static(p->data, p->len);
    }
    return NULL;
}

GBytes *payload_linux_initramfs(const char *arch_name)
{
#ifdef HAVE_INITRAMFS_X86_64
    if (g_str_equal(arch_name, "x86_64"))
        return g_bytes_new_static(mt_linux_initramfs_x86_64, sizeof(mt_linux_initramfs_x86_64));
#endif
#ifdef HAVE_INITRAMFS_AARCH64
    if (g_str_equal(arch_name, "aarch64"))
        return g_bytes_new_static(mt_linux_initramfs_aarch64,
                                  sizeof(mt_linux_initramfs_aarch64));
#endif
    (void)arch_name;
    return NULL;
}

static guint32 get_u32(const guint8 *b, gsize off)
{
    guint32 v;
    memcpy(&v, b + off, sizeof(v));
    return GUINT32_FROM_LE(v);
}

static guint64 get_u64(const guint8 *b, gsize off)
{
    guint64 v;
    memcpy(&v, b + off, sizeof(v));
    return GUINT64_FROM_LE(v);
}

static void put_u32(guint8 *b, gsize off, guint32 v)
{
    v = GUINT32_TO_LE(v);
    memcpy(b + off, &v, sizeof(v));
}

static void put_u64(guint8 *b, gsize off, guint64 v)
{
    v = GUINT64_TO_LE(v);
    memcpy(b + off, &v, sizeof(v));
}

guint64 payload_params_pages(const PayloadParams *p)
{
    guint64 pages = 0;

    for (guint i = 0; i < p->nranges && i < MT_MAX_RANGES; i++)
        pages += (p->ranges[i].end - p->ranges[i].start) / MT_PAGE_SIZE;
    return pages;
}

guint payload_params_vcpus(const PayloadParams *p)
{
    return p->vcpus > 1 ? p->vcpus : 1;
}

gboolean payload_params_slice(const PayloadParams *p, guint i, PayloadParams *out)
{
    guint n_vcpus = payload_params_vcpus(p);
    guint64 n, lo, hi;

    *out = *p;
    out->vcpus = 1;
    if (i >= n_vcpus)
        return FALSE;
    if (n_vcpus == 1)
        return TRUE;
    if (p->nranges != 1)
        return FALSE;
    n = (p->ranges[0].end - p->ranges[0].start) / MT_PAGE_SIZE;
    lo = i * n / n_vcpus;
    hi = (i + 1) * n / n_vcpus;
    out->ranges[0].start = p->ranges[0].start + lo * MT_PAGE_SIZE;
    out->ranges[0].end = p->ranges[0].start + hi * MT_PAGE_SIZE;
    if (i > 0) {
        out->hot_pages = 0;
        out->zero_every = 0;
        out->zero_pages = 0;
        out->zero_method = 0;
        out->devprobe = 0;
    }
    return hi > lo;
}

/* With several vCPUs the zero runs are vCPU 0's: counted in slice 0. */
static const PayloadParams *zero_owner(const PayloadParams *p, PayloadParams *slice0)
{
    if (payload_params_vcpus(p) == 1 || !payload_params_slice(p, 0, slice0))
        return p;
    return slice0;
}

guint64 payload_zero_slots(const PayloadParams *block)
{
    PayloadParams s0;
    const PayloadParams *p = zero_owner(block, &s0);
    guint64 range0 = (p->ranges[0].end - p->ranges[0].start) / MT_PAGE_SIZE;

    if (!p->zero_every || !p->zero_pages || range0 < p->hot_pages)
        return 0;
    return (range0 - p->hot_pages) / p->zero_pages;
}

gboolean payload_zero_run(const PayloadParams *block, guint64 g, guint64 *start, guint64 *end)
{
    PayloadParams s0;
    const PayloadParams *p = zero_owner(block, &s0);
    guint64 slots = payload_zero_slots(p), slot;

    *start = *end = 0;
    if (!slots || g < p->zero_every)
        return FALSE;
    slot = (g / p->zero_every - 1) % slots;
    *start = p->ranges[0].start + (p->hot_pages + slot * p->zero_pages) * MT_PAGE_SIZE;
    *end = *start + (guint64)p->zero_pages * MT_PAGE_SIZE;
    return TRUE;
}

static gboolean zero_params_validate(const PayloadParams *p, GError **error)
{
    if (!p->zero_every)
        return TRUE;
    if (p->zero_pages < MT_ZERO_MIN_PAGES || p->zero_method > MT_ZERO_METHOD_MAX) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "zero runs of %u pages by method %u: "
                    "a run needs at least %d pages and a method up to %d", p->zero_pages,
                    p->zero_method, MT_ZERO_MIN_PAGES, MT_ZERO_METHOD_MAX);
        return FALSE;
    }
    if (payload_zero_slots(p) < MT_ZERO_MIN_SLOTS) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "zero runs of %u pages do not fit: "
                    "range 0 after the %u hot pages must hold at least %d runs",
                    p->zero_pages, p->hot_pages, MT_ZERO_MIN_SLOTS);
        return FALSE;
    }
    return TRUE;
}

/* Several vCPUs: one range, a non-empty slice per vCPU, and each vCPU's
 * effective parameters valid as a single-vCPU block (so the hot set and
 * the zero runs fit in slice 0). */
static gboolean vcpus_params_validate(const PayloadParams *p, GError **error)
{
    guint64 n = (p->ranges[0].end - p->ranges[0].start) / MT_PAGE_SIZE;

    if (p->vcpus > MT_MAX_VCPUS) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "vcpus %u: at most %d",
                    p->vcpus, MT_MAX_VCPUS);
        return FALSE;
    }
    if (p->suspend != MT_SUSPEND_OFF) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "suspend %u with %u vCPUs: the "
                    "guest suspends with one vCPU only (vcpus 0 or 1)", p->suspend, p->vcpus);
        return FALSE;
    }
    if (p->nranges != 1) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "%u vCPUs share range 0 only: "
                    "the payload takes one range with several vCPUs, got %u",
                    p->vcpus, p->nranges);
        return FALSE;
    }
    if (n < p->vcpus) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "%u vCPUs need at least one page "
                    "each; the range has %" G_GUINT64_FORMAT, p->vcpus, n);
        return FALSE;
    }
    for (guint i = 0; i < p->vcpus; i++) {
        PayloadParams s;
        g_autoptr(GError) local = NULL;

        payload_params_slice(p, i, &s);
        if (!payload_params_validate(&s, &local)) {
            g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "vCPU %u's slice of %u: %s", i,
                        p->vcpus, local->message);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean payload_params_validate(const PayloadParams *p, GError **error)
{
    if (p->nranges < 1 || p->nranges > MT_MAX_RANGES) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE,
                    "payload needs 1 to %d ranges, got %u", MT_MAX_RANGES, p->nranges);
        return FALSE;
    }
    if (p->b_every < 1) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "B cadence must be at least 1");
        return FALSE;
    }
    if (p->hot_pages > MT_MAX_HOT_PAGES ||
        p->hot_pages > (p->ranges[0].end - p->ranges[0].start) / MT_PAGE_SIZE) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "a hot set of %u pages does not fit: "
                    "at most %d, and at most the pages of range 0", p->hot_pages,
                    MT_MAX_HOT_PAGES);
        return FALSE;
    }
    for (guint i = 0; i < p->nranges; i++) {
        const PayloadRange *r = &p->ranges[i];
        if (r->start % MT_PAGE_SIZE || r->end % MT_PAGE_SIZE || r->end <= r->start ||
            (i > 0 && r->start < p->ranges[i - 1].end)) {
            g_set_error(error, MT_ERROR, MT_ERROR_USAGE,
                        "payload range %u [0x%" G_GINT64_MODIFIER "x, 0x%"
                        G_GINT64_MODIFIER "x) must be page aligned, non-empty "
                        "and above the previous one", i, r->start, r->end);
            return FALSE;
        }
    }
    if (p->fill > MT_FILL_MAX) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "fill %u is not one of the MT_FILL_* "
                    "values (0 head and tail, 1 full)", p->fill);
        return FALSE;
    }
    if (p->hot_op > MT_HOT_OP_MAX) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "hot op %u is not one of the MT_HOT_* "
                    "values (0 plain stores, 1 atomic)", p->hot_op);
        return FALSE;
    }
    if (p->canaries > MT_CANARIES_MAX) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "canaries %u: 0 (off) or 1 (on)",
                    p->canaries);
        return FALSE;
    }
    if (p->devprobe > MT_DEVPROBE_MAX) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "devprobe %u: 0 (off) or 1 (on)",
                    p->devprobe);
        return FALSE;
    }
    if (p->devprobe && p->suspend != MT_SUSPEND_OFF) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "devprobe with suspend %u: the S3 "
                    "wake-up resets the chipset the probes programmed", p->suspend);
        return FALSE;
    }
    if (p->devprobe && p->vcpus > 1) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "devprobe with %u vcpus: device probes "
                    "run on one vCPU (the chipset's index ports are shared)", p->vcpus);
        return FALSE;
    }
    if (p->vcpus > 1)
        return vcpus_params_validate(p, error);
    return zero_params_validate(p, error);
}

gboolean payload_params_read(GBytes *image, PayloadParams *out, GError **error)
{
    gsize len;
    const guint8 *b = g_bytes_get_data(image, &len);
    guint64 magic;

    memset(out, 0, sizeof(*out));
    if (len < MT_PARAM_OFFSET + MT_PARAM_SIZE) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV,
                    "payload image of %zu bytes has no room for a parameter block", len);
        return FALSE;
    }
    b += MT_PARAM_OFFSET;
    magic = get_u64(b, MT_P_MAGIC);
    if (magic != MT_PARAM_MAGIC || get_u32(b, MT_P_VERSION) != MT_PARAM_VERSION) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV,
                    "payload parameter block: magic 0x%016" G_GINT64_MODIFIER
                    "x version %u, expected 0x%016" G_GINT64_MODIFIER "x version %u",
                    magic, get_u32(b, MT_P_VERSION), (guint64)MT_PARAM_MAGIC,
                    MT_PARAM_VERSION);
        return FALSE;
    }
    out->flags = get_u32(b, MT_P_FLAGS);
    out->b_every = get_u32(b, MT_P_B_EVERY);
    out->nranges = get_u32(b, MT_P_NRANGES);
    out->hot_pages = get_u32(b, MT_P_HOT_PAGES);
    out->mmu_off_after = get_u32(b, MT_P_MMU_OFF_AFTER);
    out->zero_every = get_u32(b, MT_P_ZERO_EVERY);
    out->zero_pages = get_u32(b, MT_P_ZERO_PAGES);
    out->zero_method = get_u32(b, MT_P_ZERO_METHOD);
    out->fill = get_u32(b, MT_P_FILL);
    out->hot_op = get_u32(b, MT_P_HOT_OP);
    out->canaries = get_u32(b, MT_P_CANARIES);
    out->vcpus = get_u32(b, MT_P_VCPUS);
    out->devprobe = get_u32(b, MT_P_DEVPROBE);
    out->suspend = get_u32(b, MT_P_SUSPEND);
    for (guint i = 0; i < MT_MAX_RANGES; i++) {
        gsize r = MT_P_RANGES + i * MT_P_RANGE_SIZE;
        out->ranges[i].start = get_u64(b, r + MT_P_RANGE_START);
        out->ranges[i].end = get_u64(b, r + MT_P_RANGE_END);
    }
    return payload_params_validate(out, error);
}

GBytes *payload_image_patch(GBytes *image, const PayloadParams *params,
                            GError **error)
{
    PayloadParams old;
    gsize len;
    guint8 *copy, *b;

    if (!payload_params_read(image, &old, error) ||
        !payload_params_validate(params, error))
        return NULL;
    copy = g_memdup2(g_bytes_get_data(image, &len), g_bytes_get_size(image));
    b = copy + MT_PARAM_OFFSET;
    put_u32(b, MT_P_FLAGS, params->flags);
    put_u32(b, MT_P_B_EVERY, params->b_every);
    put_u32(b, MT_P_NRANGES, params->nranges);
    put_u32(b, MT_P_HOT_PAGES, params->hot_pages);
    put_u32(b, MT_P_MMU_OFF_AFTER, params->mmu_off_after);
    put_u32(b, MT_P_ZERO_EVERY, params->zero_every);
    put_u32(b, MT_P_ZERO_PAGES, params->zero_pages);
    put_u32(b, MT_P_ZERO_METHOD, params->zero_method);
    put_u32(b, MT_P_FILL, params->fill);
    put_u32(b, MT_P_HOT_OP, params->hot_op);
    put_u32(b, MT_P_CANARIES, params->canaries);
    put_u32(b, MT_P_VCPUS, params->vcpus);
    put_u32(b, MT_P_DEVPROBE, params->devprobe);
    put_u32(b, MT_P_SUSPEND, params->suspend);
    put_u32(b, MT_P_SPARE, 0);
    for (guint i = 0; i < MT_MAX_RANGES; i++) {
        gsize r = MT_P_RANGES + i * MT_P_RANGE_SIZE;
        gboolean used = i < params->nranges;
        put_u64(b, r + MT_P_RANGE_START, used ? params->ranges[i].start : 0);
        put_u64(b, r + MT_P_RANGE_END, used ? params->ranges[i].end : 0);
    }
    return g_bytes_new_take(copy, len);
}
