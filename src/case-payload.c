/* case-payload.c: the payload a case runs (see case-payload.h). */
#include "case-payload.h"

#include <string.h>
#include "config.h"
#include "mt-error.h"

/* The linux payload: a 64 MiB buffer (16 hot pages) checked by our /init,
 * a heartbeat every 10 ms (the resolution of observed downtime), and
 * loglevel=4 so that a clean boot prints nothing but our lines: anything
 * else is KERN_ERR or worse (docs/linux-guest.md).  no_timer_check: on a
 * starved host TCG boots too slowly for the kernel's IO-APIC timer probe,
 * which then prints "MP-BIOS bug: 8254 timer not connected" at KERN_ERR
 * on the source, before any migration (docs/oracle-strength.md). */
#define LINUX_APPEND "quiet loglevel=4 panic=-1 no_timer_check migtest.mem=64 migtest.hot=16 migtest.hb_ms=10"

/* The kernel command line: the row's options as /init's (docs/linux-guest.md).
 * /init's zero_method numbers are the ABI's, with madvise(MADV_DONTNEED)
 * in the place of the string instructions (the kernel clears the pages
 * it faults back in with them); its hot set is always 16 pages. */
G_STATIC_ASSERT(MT_ZERO_PLAIN == 0 && MT_ZERO_STRING == 1 && MT_ZERO_ALTERNATE == 2);
static char *linux_append(const ArchDesc *arch, const CaseDesc *d)
{
    GString *a = g_string_new(NULL);

    g_string_append_printf(a, "console=%s " LINUX_APPEND, arch->linux_console);
    if (d->zero_every)
        g_string_append_printf(a, " migtest.zero_every=%u migtest.zero_pages=%u"
                               " migtest.zero_method=%u", d->zero_every, d->zero_pages,
                               d->zero_method);
    if (d->hot_op == MT_HOT_ATOMIC)
        g_string_append(a, " migtest.hot_op=1");
    if (d->vcpus > 1)           /* one pinned worker per vCPU */
        g_string_append_printf(a, " migtest.workers=%u", d->vcpus);
    return g_string_free(a, FALSE);
}

/* The seed's window: RAM base + 1 MiB .. + 100 MiB, a 'B' every pass. */
static void default_params(const ArchDesc *arch, PayloadParams *p)
{
    memset(p, 0, sizeof(*p));
    p->b_every = 1;
    p->nranges = 1;
    p->ranges[0].start = arch->ram_base + MT_DEFAULT_WINDOW_START;
    p->ranges[0].end = arch->ram_base + MT_DEFAULT_WINDOW_END;
}

/* The linux payload: Debian's kernel from migtest-fetch-kernel, in the
 * configured kernel_dir unless MIGTEST_KERNEL_DIR says otherwise; our
 * initramfs from this build.  What is missing makes the case a SKIP. */
static gboolean make_linux_payload(const ArchDesc *arch, const CaseDesc *d, const char *accel,
                                   CasePayload *out, GError **error)
{
    const char *dir = g_getenv("MIGTEST_KERNEL_DIR") ? g_getenv("MIGTEST_KERNEL_DIR")
                                                     : MIGTEST_KERNEL_DIR_DEFAULT;
    GBytes *cpio = payload_linux_initramfs(arch->name);

    out->initrd = cpio;
    if (g_str_has_prefix(accel, "kvm")) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "linux cases run under TCG: "
                    "a stock kernel did not boot under the nested KVM migtest is developed "
                    "on (emulation failure); use --accel tcg");
        return FALSE;
    }
    out->kernel = g_build_filename(dir, arch->name, "kernel", NULL);
    if (!g_file_test(out->kernel, G_FILE_TEST_EXISTS)) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "no kernel at %s; run "
                    "migtest-fetch-kernel (scripts/fetch-kernel in a source tree) or set "
                    "MIGTEST_KERNEL_DIR", out->kernel);
        return FALSE;
    }
    if (!cpio) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "this build has no %s initramfs "
                    "(its cross compiler is missing; run scripts/setup)", arch->name);
        return FALSE;
    }
    out->append = linux_append(arch, d);
    out->params.vcpus = d->vcpus;   /* the workers the host counts beats of */
    return TRUE;
}

gboolean case_payload_make(const CaseInstance *c, const char *accel, guint64 mem_bytes,
                           CasePayload *out, GError **error)
{
    const CaseDesc *d = c->desc;
    const char *variant = d->variant ? d->variant : c->arch->default_variant;
    g_autoptr(GBytes) base = NULL;
    PayloadParams *p = &out->params;
    PayloadParams shipped;

    memset(out, 0, sizeof(*out));
    if (d->linux_guest)
        return make_linux_payload(c->arch, d, accel, out, error);
    base = payload_image_lookup(c->arch->name, variant);
    if (!base || !payload_params_read(base, &shipped, error)) {
        if (!base)
            g_set_error(error, MT_ERROR, MT_ERROR_ENV, "no %s payload '%s'",
                        c->arch->name, variant);
        return FALSE;
    }
    default_params(c->arch, p);
    p->hot_pages = d->hot_pages;
    p->zero_every = d->zero_every;
    p->zero_pages = d->zero_pages;
    p->zero_method = d->zero_method;
    p->fill = d->fill;
    p->hot_op = d->hot_op;
    p->canaries = d->canaries;
    p->vcpus = d->vcpus;
    p->suspend = d->suspend;
    p->devprobe = d->devprobe;
    if (d->top_pages) {            /* x86 pc: RAM below 4 GiB is one block from 0 */
        guint64 top = c->arch->ram_base + mem_bytes;
        if (mem_bytes > ((guint64)2 << 30)) {
            g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "%s writes the last pages "
                        "below 4 GiB as the top of RAM: run it with --mem 2G or less", c->name);
            return FALSE;
        }
        /* top_only: the guest sweeps nothing but these pages, so each of
         * them is rewritten within microseconds of any copy of it. */
        guint i = d->top_only ? 0 : 1;
        p->ranges[i].start = top - (guint64)d->top_pages * MT_PAGE_SIZE;
        p->ranges[i].end = top;
        p->nranges = i + 1;
    }
    p->mmu_off_after = d->mmu_off_after ? d->mmu_off_after : shipped.mmu_off_after;
    out->image = payload_image_patch(base, p, error);
    return out->image != NULL;
}

void case_payload_clear(CasePayload *p)
{
    g_free(p->kernel);
    g_free(p->append);
    g_clear_pointer(&p->image, g_bytes_unref);
    g_clear_pointer(&p->initrd, g_bytes_unref);
}

