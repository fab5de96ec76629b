/*
 * devprobe.c: names for device-state probe records (devprobe.h).  The
 * tables name what guest/<arch>/devprobe.S programs; an id they miss is
 * still shown with its device and register numbers, so a new probe in a
 * payload is never reported as something else.
 */
#include "devprobe.h"
#include "migtest-abi.h"
#include "mt-error.h"

typedef struct {
    guint dev;
    const char *name;
    const char *reg_kind;       /* what the register field is */
} DevName;

static const DevName devices[] = {
    { MT_DEV_CMOS, "RTC/CMOS", "index" },
    { MT_DEV_PIC, "8259 PIC", "port" },
    { MT_DEV_PIT, "8254 PIT", "channel" },
    { MT_DEV_IOAPIC, "IOAPIC", "register" },
    { MT_DEV_HPET, "HPET", "offset" },
    { MT_DEV_LAPIC, "local APIC", "offset" },
    { MT_DEV_I440FX, "i440FX host bridge 00:00.0", "config" },
    { MT_DEV_PIIX3, "PIIX3 ISA bridge 00:01.0", "config" },
    { MT_DEV_Q35_MCH, "q35 MCH 00:00.0", "config" },
    { MT_DEV_ICH9_LPC, "ICH9 LPC 00:1f.0", "config" },
    { MT_DEV_GICD, "GIC distributor", "offset" },
    { MT_DEV_ARM_TIMER, "generic timer", "register" },
    { MT_DEV_PL031, "PL031 RTC", "offset" },
};

typedef struct {
    guint dev, reg;
    const char *name;
} RegName;

/* Registers with a name of their own (the rest: device + number). */
static const RegName registers[] = {
    { MT_DEV_CMOS, 0x01, "seconds alarm" }, { MT_DEV_CMOS, 0x03, "minutes alarm" },
    { MT_DEV_CMOS, 0x05, "hours alarm" }, { MT_DEV_CMOS, 0x0b, "register B" },
    { MT_DEV_PIC, MT_X86_PIC1_IMR, "master IMR" }, { MT_DEV_PIC, MT_X86_PIC2_IMR, "slave IMR" },
    { MT_DEV_PIC, MT_X86_ELCR1, "ELCR 1" }, { MT_DEV_PIC, MT_X86_ELCR2, "ELCR 2" },
    { MT_DEV_PIT, 1, "counter 1 mode (read-back status)" },
    { MT_DEV_PIT, 2, "counter 2 mode (read-back status)" },
    { MT_DEV_HPET, 0x010, "general config" },
    { MT_DEV_HPET, 0x100, "timer 0 config" }, { MT_DEV_HPET, 0x108, "timer 0 comparator low" },
    { MT_DEV_HPET, 0x10c, "timer 0 comparator high" }, { MT_DEV_HPET, 0x120, "timer 1 config" },
    { MT_DEV_HPET, 0x128, "timer 1 comparator" }, { MT_DEV_HPET, 0x140, "timer 2 config" },
    { MT_DEV_LAPIC, 0x080, "TPR" }, { MT_DEV_LAPIC, 0x0d0, "LDR" },
    { MT_DEV_LAPIC, 0x0e0, "DFR" }, { MT_DEV_LAPIC, 0x0f0, "SVR" },
    { MT_DEV_LAPIC, 0x320, "LVT timer" }, { MT_DEV_LAPIC, 0x350, "LVT LINT0" },
    { MT_DEV_LAPIC, 0x360, "LVT LINT1" }, { MT_DEV_LAPIC, 0x370, "LVT error" },
    { MT_DEV_LAPIC, 0x3e0, "timer divide" },
    { MT_DEV_I440FX, 0x59, "PAM0" }, { MT_DEV_I440FX, 0x5a, "PAM1" },
    { MT_DEV_I440FX, 0x5b, "PAM2" }, { MT_DEV_I440FX, 0x5c, "PAM3" },
    { MT_DEV_I440FX, 0x5d, "PAM4" }, { MT_DEV_I440FX, 0x5e, "PAM5" },
    { MT_DEV_I440FX, 0x5f, "PAM6" }, { MT_DEV_I440FX, 0x72, "SMRAM" },
    { MT_DEV_PIIX3, 0x60, "PIRQA route" }, { MT_DEV_PIIX3, 0x61, "PIRQB route" },
    { MT_DEV_PIIX3, 0x62, "PIRQC route" }, { MT_DEV_PIIX3, 0x63, "PIRQD route" },
    { MT_DEV_Q35_MCH, 0x90, "PAM0" }, { MT_DEV_Q35_MCH, 0x91, "PAM1" },
    { MT_DEV_Q35_MCH, 0x92, "PAM2" }, { MT_DEV_Q35_MCH, 0x93, "PAM3" },
    { MT_DEV_Q35_MCH, 0x94, "PAM4" }, { MT_DEV_Q35_MCH, 0x95, "PAM5" },
    { MT_DEV_Q35_MCH, 0x96, "PAM6" }, { MT_DEV_Q35_MCH, 0x9d, "SMRAM" },
    { MT_DEV_Q35_MCH, 0x9e, "ESMRAMC" },
    { MT_DEV_ICH9_LPC, 0x60, "PIRQA route" }, { MT_DEV_ICH9_LPC, 0x61, "PIRQB route" },
    { MT_DEV_ICH9_LPC, 0x62, "PIRQC route" }, { MT_DEV_ICH9_LPC, 0x63, "PIRQD route" },
    { MT_DEV_ICH9_LPC, 0x68, "PIRQE route" }, { MT_DEV_ICH9_LPC, 0x69, "PIRQF route" },
    { MT_DEV_ICH9_LPC, 0x6a, "PIRQG route" }, { MT_DEV_ICH9_LPC, 0x6b, "PIRQH route" },
    { MT_DEV_ICH9_LPC, 0xa0, "GEN_PMCON_1" },
    { MT_DEV_GICD, 0x000, "GICD_CTLR" }, { MT_DEV_GICD, 0x11c, "GICD_ISENABLER7" },
    { MT_DEV_GICD, 0x4e0, "GICD_IPRIORITYR56" }, { MT_DEV_GICD, 0x4e4, "GICD_IPRIORITYR57" },
    { MT_DEV_GICD, 0xc38, "GICD_ICFGR14" },
    { MT_DEV_ARM_TIMER, MT_DEV_ARM_TIMER_CNTV_CVAL, "CNTV_CVAL_EL0" },
    { MT_DEV_ARM_TIMER, MT_DEV_ARM_TIMER_CNTV_CTL, "CNTV_CTL_EL0" },
    { MT_DEV_ARM_TIMER, MT_DEV_ARM_TIMER_CNTKCTL, "CNTKCTL_EL1" },
    { MT_DEV_PL031, 0x04, "RTCMR (match)" }, { MT_DEV_PL031, 0x10, "RTCIMSC" },
};

gboolean devprobe_is_record(guint64 gpa)
{
    return (gpa & ~(guint64)0xffffffff) == (guint64)MT_DEV_RECORD;
}

static const DevName *device_lookup(guint dev)
{
    for (gsize i = 0; i < G_N_ELEMENTS(devices); i++)
        if (devices[i].dev == dev)
            return &devices[i];
    return NULL;
}

static const char *register_lookup(guint dev, guint reg)
{
    for (gsize i = 0; i < G_N_ELEMENTS(registers); i++)
        if (registers[i].dev == dev && registers[i].reg == reg)
            return registers[i].name;
    return NULL;
}

/* IOAPIC register index: 0x10 + 2n (+1) is redirection entry n, low (high). */
static char *ioapic_name(guint reg)
{
    if (reg >= 0x10 && reg < 0x10 + 2 * 24)
        return g_strdup_printf("redirection entry %u %s half", (reg - 0x10) / 2,
                               reg % 2 ? "high" : "low");
    return NULL;
}

char *devprobe_record_name_new(guint64 gpa)
{
    guint dev = (guint)(gpa >> 16) & 0xffff, field = (guint)gpa & 0xffff;
    guint reg = field & ~(guint)MT_DEV_LOCK;
    const char *lock = field & MT_DEV_LOCK ? " lock" : "";
    const DevName *d = device_lookup(dev);
    g_autofree char *ioapic = dev == MT_DEV_IOAPIC ? ioapic_name(reg) : NULL;
    const char *rname = ioapic ? ioapic : register_lookup(dev, reg);

    if (!d)
        return g_strdup_printf("device 0x%x register 0x%x%s", dev, reg, lock);
    if (dev == MT_DEV_CMOS && !rname && reg >= 0x0e)
        rname = "NVRAM byte";
    if (rname)
        return g_strdup_printf("%s %s 0x%x (%s)%s", d->name, d->reg_kind, reg, rname, lock);
    return g_strdup_printf("%s %s 0x%x%s", d->name, d->reg_kind, reg, lock);
}

guint64 devprobe_mailbox_word(guint index)
{
    return (guint64)MT_DEVPROBE_MAILBOX_MAGIC << 32 | index;
}

gboolean devprobe_inject_dst(Pair *p, const ArchDesc *arch, const RunOptions *opts,
                             GError **error)
{
    for (guint i = 0; opts->dst_hmp && opts->dst_hmp[i]; i++) {
        g_autofree char *out = NULL;

        if (!pair_hmp(p, SIDE_DST, opts->dst_hmp[i], &out, error))
            return FALSE;
        if (*out) {
            g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "dst HMP '%s' answered: %s",
                        opts->dst_hmp[i], g_strchomp(out));
            return FALSE;
        }
    }
    if (opts->dst_devprobe_mailbox) {
        guint64 le = GUINT64_TO_LE(opts->dst_devprobe_mailbox);

        return pair_write_ram(p, SIDE_DST, arch->devprobe_mailbox, &le, sizeof(le), error);
    }
    return TRUE;
}
