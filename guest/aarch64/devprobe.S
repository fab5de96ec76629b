/*
 * Device-state probes for the aarch64 payload (migtest-abi.h, "Device-state
 * probes"; the registers and why these ones: docs/payloads.md).  #included
 * by payload.S; EL1, no stack; the GIC distributor and the PL031 lie in
 * the Device-nGnRE part of the map (or are uncached with the MMU off).
 *
 * The probes are a table, dp_table: one 32-byte entry per register,
 *   quad 0   kind (DP_*) | record id << 32 (device << 16 | register)
 *   quad 1   address (MMIO) or MT_DEV_ARM_TIMER_* (system register)
 *   quad 2   value programmed
 *   quad 3   compare mask (bits that read back as written)
 *
 * Registers (both routines run before the first pass and at the end of a
 * pass, where x0-x11, x20, x21, x26-x28 are free):
 *   x7   current entry, x8  the table's end, x9  the entry's mask
 *   x2   value to write (DP_WRITE), x6  value read (DP_READ)
 *   x5   expected, x4  record id (err_record)
 *   x20  1 once a probe was wrong; x21 / x26  saved link registers
 */

#define DP_MMIO32       6       /* 32-bit load/store at addr */
#define DP_SETCLR32     9       /* set-enable at addr, clear-enable at addr + 0x80 */
#define DP_SYSREG       10      /* addr = MT_DEV_ARM_TIMER_* */
#define DP_ENTRY_SIZE   32
#define DP_ENTRY_SHIFT  5
#define GICD_CLEAR_OFF  0x80    /* ICENABLERn - ISENABLERn */
#define GICD_ISENABLER7 0x11c   /* IDs 224..255: SPIs no virt device uses */
#define GICD_IPRIORITYR56 0x4e0 /* IDs 224..227 */
#define GICD_IPRIORITYR57 0x4e4 /* IDs 228..231 */
#define GICD_ICFGR14    0xc38   /* IDs 224..239, 2 bits each */
#define PL031_MR        0x04    /* match register */
#define PL031_IMSC      0x10    /* interrupt mask set/clear */

        /* payload.ld checks that the image ends below the mailbox. */
        .globl  mt_devprobe_mailbox
        .set    mt_devprobe_mailbox, MT_ARM_DEVPROBE_MAILBOX

        .macro  DP kind, dev, reg, addr, value, mask
        .8byte  (\kind) | ((((\dev) << 16) | (\reg)) << 32)
        .8byte  \addr
        .8byte  \value
        .8byte  \mask
        .endm

/* DP_WRITE: the register of entry x7 := x2.  Clobbers x0, x1, x3. */
        .macro  DP_WRITE
        ldr     w0, [x7]
        ldr     x1, [x7, #8]
        cmp     w0, #DP_SYSREG
        b.eq    73f
        cmp     w0, #DP_SETCLR32
        b.ne    72f
        mvn     x0, x2                  /* clear what must be clear, */
        ldr     x3, [x7, #24]
        and     x0, x0, x3
        str     w0, [x1, #GICD_CLEAR_OFF]
72:      str     w2, [x1]                /* then set (or plain store) */
        b       79f
73:      cmp     x1, #MT_DEV_ARM_TIMER_CNTV_CTL
        b.eq    75f
        b.hi    76f
        msr     cntv_cval_el0, x2
        b       78f
75:      msr     cntv_ctl_el0, x2
        b       78f
76:      msr     cntkctl_el1, x2
78:      isb
79:
        .endm

/* DP_READ: x6 := the register of entry x7.  Clobbers x0, x1. */
        .macro  DP_READ
        ldr     w0, [x7]
        ldr     x1, [x7, #8]
        cmp     w0, #DP_SYSREG
        b.eq    73f
        ldr     w6, [x1]
        b       79f
73:      cmp     x1, #MT_DEV_ARM_TIMER_CNTV_CTL
        b.eq    75f
        b.hi    76f
        mrs     x6, cntv_cval_el0
        b       79f
75:      mrs     x6, cntv_ctl_el0
        b       79f
76:      mrs     x6, cntkctl_el1
79:
        .endm

/* devprobe_program: every probe := its value, in table order.  A leaf;
 * clobbers x0-x3, x7, x8. */
devprobe_program:
        adr     x7, dp_table
        adr     x8, dp_table_end
1:      ldr     x2, [x7, #16]
        DP_WRITE
        add     x7, x7, #DP_ENTRY_SIZE
        cmp     x7, x8
        b.lo    1b
        ret

/* devprobe_check: the test mailbox (migtest-abi.h), then every probe
 * against its value (a record for each that differs), then all programmed
 * again if one did.  Clobbers x0-x9, x13, x14, x20, x21. */
devprobe_check:
        mov     x21, x30
        ldr     x0, =MT_ARM_DEVPROBE_MAILBOX
        ldr     x1, [x0]
        lsr     x2, x1, #32
        ldr     w3, =MT_DEVPROBE_MAILBOX_MAGIC
        cmp     x2, x3
        b.ne    1f
        str     xzr, [x0]
        and     x1, x1, #0xffff
        cmp     x1, #(dp_table_end - dp_table) / DP_ENTRY_SIZE
        b.hs    1f
        adr     x7, dp_table
        add     x7, x7, x1, lsl #DP_ENTRY_SHIFT
        ldp     x2, x9, [x7, #16]
        eor     x2, x2, x9              /* clobber: value ^ mask */
        DP_WRITE
1:      mov     x20, #0
        adr     x7, dp_table
        adr     x8, dp_table_end
2:      DP_READ
        ldp     x5, x9, [x7, #16]
        and     x5, x5, x9              /* expected: value & mask */
        and     x6, x6, x9              /* found & mask */
        cmp     x6, x5
        b.eq    3f
        ldr     w4, [x7, #4]
        ldr     x0, =MT_DEV_RECORD
        orr     x4, x4, x0
        bl      err_record              /* keeps x7-x9 */
        mov     x20, #1
3:      add     x7, x7, #DP_ENTRY_SIZE
        cmp     x7, x8
        b.lo    2b
        cbz     x20, 4f
        bl      devprobe_program
4:      ret     x21

/* The probes (values differ from the reset values; why these registers:
 * docs/payloads.md).  Keep the order of docs/payloads.md: the mailbox
 * names a probe by its index here. */
        .balign 8
dp_table:
/* 0-4: GIC distributor: enabled (group 0; bit 0 in GICv2 and v3), SPIs
 * 224..255 enabled in a pattern (the CPU interface stays off and DAIF
 * masked: nothing is taken), priorities of IDs 224..231 (upper nibbles:
 * an implementation keeps at least 4 priority bits), edge/level config of
 * IDs 224..239 (the odd bits; the even ones are reserved) */
DP DP_MMIO32, MT_DEV_GICD, 0x000, MT_ARM_GICD, 0x1, 0x1
DP DP_SETCLR32, MT_DEV_GICD, GICD_ISENABLER7, MT_ARM_GICD + GICD_ISENABLER7, 0xa5c30f96, 0xffffffff
DP DP_MMIO32, MT_DEV_GICD, GICD_IPRIORITYR56, MT_ARM_GICD + GICD_IPRIORITYR56, 0xa0b0c0d0, 0xf0f0f0f0
DP DP_MMIO32, MT_DEV_GICD, GICD_IPRIORITYR57, MT_ARM_GICD + GICD_IPRIORITYR57, 0x50607080, 0xf0f0f0f0
DP DP_MMIO32, MT_DEV_GICD, GICD_ICFGR14, MT_ARM_GICD + GICD_ICFGR14, 0xa2082a80, 0xaaaaaaaa
/* 5-7: virtual timer: compare value centuries ahead, enabled with IMASK
 * (ISTATUS, which the counter drives, is masked out); CNTKCTL_EL1: EL0
 * counter and timer access, event stream divider 5 (event stream off) */
DP DP_SYSREG, MT_DEV_ARM_TIMER, MT_DEV_ARM_TIMER_CNTV_CVAL, MT_DEV_ARM_TIMER_CNTV_CVAL, 0x7e57c0de00000000, 0xffffffffffffffff
DP DP_SYSREG, MT_DEV_ARM_TIMER, MT_DEV_ARM_TIMER_CNTV_CTL, MT_DEV_ARM_TIMER_CNTV_CTL, 0x3, 0x3
DP DP_SYSREG, MT_DEV_ARM_TIMER, MT_DEV_ARM_TIMER_CNTKCTL, MT_DEV_ARM_TIMER_CNTKCTL, 0x353, 0x3ff
/* 8-9: PL031: match register in 1979 (the RTC counts up from the host's
 * time, so it never matches), match interrupt unmasked */
DP DP_MMIO32, MT_DEV_PL031, PL031_MR, MT_ARM_PL031 + PL031_MR, 0x1234abcd, 0xffffffff
DP DP_MMIO32, MT_DEV_PL031, PL031_IMSC, MT_ARM_PL031 + PL031_IMSC, 0x1, 0x1
dp_table_end:
        .balign 4
