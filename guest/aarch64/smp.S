/*
 * migtest aarch64 payload: several vCPUs (migtest-abi.h, "Several vCPUs"),
 * #included by payload.S after its constants.  Only macros: payload.S
 * expands each where it belongs (SMP_CODE with the other routines).
 *
 * Every vCPU, vCPU 0 included, runs the one workload of payload.S with
 * x22 pointing at its own copy of the parameter block,
 * MT_ARM_SMP_PARAMS(i), whose range 0 is the vCPU's slice (and whose hot
 * set, zero runs and device probes are off for i >= 1).  So each vCPU's registers hold
 * its own state: x19 its own generation g, x17 its g - 1, x20 the page it
 * is at in its own slice, x21 the slice's end, x26 its range descriptor
 * (in its copy), x12/x15/x16 its hot set (vCPU 0 only; K = 0 elsewhere),
 * x10/x11 and x27/x28 its zero runs (vCPU 0 only), SP its own stack.
 * The block itself (in the image) is only read by vCPU 0, to validate it
 * and to make the copies; error records about it name its fields.
 *
 * Bring-up (vCPU 0, MMU on): copies for i = 0 .. N - 1, then PSCI CPU_ON
 * (hvc) for i = 1 .. N - 1 at mt_secondary with context id i, then a wait
 * of at most MT_SMP_UP_WAIT_MS (generic timer) until every up flag i is
 * set; then the one 'A' and up flag 0 set as the "go": secondaries start
 * their workload only then, so no beat comes before the 'A'.  A secondary
 * enters with MMU and caches off; it turns its MMU on (the same identity
 * map) before it reads or writes any memory, so every shared word (copies,
 * flags, lock) is accessed cacheable by everyone.
 *
 * UART lock (MT_ARM_SMP_LOCK): ldaxr/stxr spin, taken around each beat
 * byte and each whole error record, only while SCTLR_EL1.M is set
 * (exclusives are not architecturally safe on Device memory; with the MMU
 * off only vCPU 0 runs: before the map is up, and in the mmu-off
 * variants, which refuse N > 1).
 */

#if MT_ARM_SMP_BASE != MT_ARM_RAM_BASE + 0xc0000
#error "MT_ARM_SMP_BASE moved: update its comment in migtest-abi.h"
#endif
#if MT_PARAM_SIZE % 8 != 0 || MT_ARM_SMP_BEAT_OFF >= 0x100
#error "a block copy is copied in words and must leave its beat byte room"
#endif
#define SMP_PARAMS_STRIDE_SHIFT 8       /* MT_ARM_SMP_PARAMS(i + 1) - (i) */
#define SMP_STACK_SHIFT         12      /* 4 KiB per vCPU */
#define MPIDR_AFF0_MAX          8       /* virt: vCPU i < 8 has MPIDR Aff0 = i */
#if MT_MAX_VCPUS > MPIDR_AFF0_MAX
#error "target MPIDR = vCPU index only holds for the first cluster"
#endif

        .globl  mt_smp_base             /* the linker script's bound */
        .set    mt_smp_base, MT_ARM_SMP_BASE

/* SMP_EARLY_START: the 'A' at start-up, as ever, with one vCPU; with
 * several it waits until they all run (SMP_START).  Clobbers x0, x1. */
        .macro  SMP_EARLY_START
        adr     x0, mt_params
        ldr     w0, [x0, #MT_P_VCPUS]
        cmp     w0, #1
        b.hi    1f
        mov     w0, #MT_SERIAL_START
        bl      putc
1:
        .endm

/* SMP_VALIDATE: N = MT_P_VCPUS, x22 = the block, x1 = nranges (kept).
 * N > MT_MAX_VCPUS, N > 1 on an mmu-off variant, N > 1 with several
 * ranges, N above range 0's pages: a bad field (migtest-abi.h).  Clobbers
 * x0, x4-x6, x8, x9. */
        .macro  SMP_VALIDATE
        ldr     w9, [x22, #MT_P_VCPUS]
        cmp     w9, #1
        b.ls    9f
        add     x4, x22, #MT_P_VCPUS
        mov     x6, x9
        mov     x5, #MT_MAX_VCPUS
        cmp     x9, x5
        b.hi    mt_bad_field
#if !defined(MT_VARIANT_MMU_ON)
        mov     x5, #1                  /* no exclusives on Device memory */
        b       mt_bad_field
#endif
        add     x4, x22, #MT_P_NRANGES
        mov     x6, x1
        mov     x5, #1
        cmp     x1, #1
        b.ne    mt_bad_field
        ldr     x8, [x22, #RANGE0_START]
        ldr     x0, [x22, #RANGE0_END]
        sub     x0, x0, x8
        lsr     x5, x0, #MT_PAGE_SHIFT  /* n: every slice needs a page */
        add     x4, x22, #MT_P_VCPUS
        mov     x6, x9
        cmp     x9, x5
        b.hi    mt_bad_field
9:
        .endm

/* SMP_SLICE0_PAGES: x5 = pages of range 0 -> pages of slice 0 (n / N),
 * where the hot set and the zero-run slots must fit.  Clobbers x0. */
        .macro  SMP_SLICE0_PAGES
        ldr     w0, [x22, #MT_P_VCPUS]
        cmp     w0, #1
        b.ls    9f
        udiv    x5, x5, x0
9:
        .endm

/* SMP_VCPU_REGS: the registers each vCPU derives from its own block copy
 * (x22): x18, x23 as everywhere; x12 = its hot word 0, x16 = its K, x15 =
 * h = 0.  Clobbers x0. */
        .macro  SMP_VCPU_REGS
        ldr     x18, =MT_TAIL_MUL
        ldr     x23, =MT_ARM_UART
        ldr     x0, [x22, #RANGE0_START]
        add     x12, x0, #MT_HOT_WORD_OFFSET
        ldr     w16, [x22, #MT_P_HOT_PAGES]
        mov     x15, #0
        .endm

/* SMP_COPIES: block copy i for i = 0 .. N' - 1 (N' = max(N, 1), in x9):
 * the block with range 0 = slice i (x10 = range 0 start, x11 = its
 * pages), hot set, zero runs, device probes off for i >= 1, and beat
 * byte i; lock
 * and up flags cleared.  Clobbers x0-x2, x7-x11. */
        .macro  SMP_COPIES
        ldr     w9, [x22, #MT_P_VCPUS]
        cmp     w9, #1
        csinc   w9, w9, wzr, hi         /* N' */
        ldr     x10, [x22, #RANGE0_START]
        ldr     x11, [x22, #RANGE0_END]
        sub     x11, x11, x10
        lsr     x11, x11, #MT_PAGE_SHIFT
        ldr     x0, =MT_ARM_SMP_LOCK
        str     xzr, [x0]
        ldr     x0, =MT_ARM_SMP_UP
        mov     x1, #0
1:      str     xzr, [x0, x1, lsl #3]
        add     x1, x1, #1
        cmp     x1, #MT_MAX_VCPUS
        b.lo    1b
        mov     x8, #0                  /* i */
2:      ldr     x7, =MT_ARM_SMP_PARAMS(0)
        add     x7, x7, x8, lsl #SMP_PARAMS_STRIDE_SHIFT
        mov     x0, #0
3:      ldr     x2, [x22, x0]
        str     x2, [x7, x0]
        add     x0, x0, #8
        cmp     x0, #MT_PARAM_SIZE
        b.lo    3b
        mul     x0, x8, x11             /* slice i: [i * n / N, (i + 1) * n / N) */
        udiv    x0, x0, x9
        add     x0, x10, x0, lsl #MT_PAGE_SHIFT
        str     x0, [x7, #RANGE0_START]
        add     x2, x8, #1
        mul     x0, x2, x11
        udiv    x0, x0, x9
        add     x0, x10, x0, lsl #MT_PAGE_SHIFT
        str     x0, [x7, #RANGE0_END]
        mov     w0, #MT_SERIAL_PASS
        cbz     x8, 4f
        str     wzr, [x7, #MT_P_HOT_PAGES]
        str     wzr, [x7, #MT_P_ZERO_EVERY]
        str     wzr, [x7, #MT_P_DEVPROBE]
        add     w0, w8, #MT_SERIAL_VCPU_BEAT_BASE
4:      strb    w0, [x7, #MT_ARM_SMP_BEAT_OFF]
        add     x8, x8, #1
        cmp     x8, x9
        b.lo    2b
        .endm

/* SMP_START (vCPU 0, MMU on, x22 = the block): the copies; with N > 1 the
 * secondaries up and the 'A'; then x22 = copy 0, SP = stack 0, and the
 * per-vCPU registers.  Across hvc only x19-x21 stay live (SMCCC 1.0 may
 * clobber x4-x17): x19 = N, x20 = vCPU index, then vCPUs up, x21 = the
 * deadline in generic-timer ticks.  Clobbers x0-x11, x19-x21. */
        .macro  SMP_START
        SMP_COPIES
        cmp     x9, #1
        b.ls    8f
        mov     x19, x9
        mov     x20, #1
1:      ldr     x0, =MT_ARM_PSCI_CPU_ON
        mov     x1, x20                 /* target MPIDR: Aff0 = i */
        adr     x2, mt_secondary
        mov     x3, x20                 /* context id: i */
        hvc     #0
        add     x20, x20, #1
        cmp     x20, x19
        b.lo    1b
        mrs     x0, cntfrq_el0          /* deadline: now + MT_SMP_UP_WAIT_MS */
        ldr     x1, =MT_SMP_UP_WAIT_MS
        mul     x0, x0, x1
        mov     x1, #1000
        udiv    x0, x0, x1
        isb
        mrs     x21, cntvct_el0
        add     x21, x21, x0
2:      ldr     x0, =MT_ARM_SMP_UP      /* x20 = vCPUs up, vCPU 0 included */
        mov     x20, #1
        mov     x1, #1                  /* i */
3:      add     x2, x0, x1, lsl #3
        ldar    x2, [x2]                /* up flag i */
        cmp     x2, #0
        cinc    x20, x20, ne
        add     x1, x1, #1
        cmp     x1, x19
        b.lo    3b
        cmp     x20, x19
        b.hs    4f
        yield
        isb
        mrs     x0, cntvct_el0
        cmp     x0, x21
        b.lo    2b
        add     x4, x22, #MT_P_VCPUS    /* E<vcpus field> <N> <vCPUs up> */
        mov     x5, x19
        mov     x6, x20
        b       mt_bad_field
4:      mov     w0, #MT_SERIAL_START
        bl      smp_send
        ldr     x0, =MT_ARM_SMP_UP      /* go: up flag 0 */
        mov     x1, #1
        stlr    x1, [x0]
8:      ldr     x22, =MT_ARM_SMP_PARAMS(0)
        ldr     x0, =MT_ARM_SMP_STACK_TOP(0)
        mov     sp, x0
        SMP_VCPU_REGS
        .endm

/* SMP_CODE: the routines, placed with payload.S's own. */
        .macro  SMP_CODE
/* smp_lock / smp_unlock: the UART lock, while the MMU is on.  Leaves;
 * clobber x0-x2. */
smp_lock:
#if defined(MT_VARIANT_MMU_ON)
        mrs     x0, sctlr_el1
        tbz     x0, #0, 2f              /* SCTLR_EL1.M */
        ldr     x0, =MT_ARM_SMP_LOCK
        mov     x1, #1
1:      ldaxr   x2, [x0]
        cbnz    x2, 3f
        stxr    w2, x1, [x0]
        cbnz    w2, 1b
2:      ret
3:      clrex
        yield
        b       1b
#else
        ret
#endif

smp_unlock:
#if defined(MT_VARIANT_MMU_ON)
        mrs     x0, sctlr_el1
        tbz     x0, #0, 1f
        ldr     x0, =MT_ARM_SMP_LOCK
        stlr    xzr, [x0]
1:
#endif
        ret

/* smp_send: byte w0 under the lock.  Clobbers x0-x3, x13. */
smp_send:
        mov     x13, x30
        mov     w3, w0
        bl      smp_lock
        mov     w0, w3
        bl      putc
        bl      smp_unlock
        ret     x13

/* smp_beat: this vCPU's heartbeat ('B' or MT_SERIAL_VCPU_BEAT(i), from
 * its block copy).  Clobbers x0-x3, x13. */
smp_beat:
        ldrb    w0, [x22, #MT_ARM_SMP_BEAT_OFF]
        b       smp_send

/* mt_secondary: PSCI CPU_ON's entry, x0 = context id = vCPU index i, at
 * EL1 with MMU and caches off.  Map on first (vCPU 0's table and
 * settings), then SP = its stack, x22 = its block copy, up flag i, and
 * once vCPU 0 has said go (up flag 0) the workload at mt_vcpu_start.
 * Until then x19 holds i. */
mt_secondary:
#if defined(MT_VARIANT_MMU_ON)
        mov     x19, x0
        adr     x0, mt_vectors
        msr     vbar_el1, x0
        isb
        adr     x5, mt_pgtable          /* vCPU 0's table */
        MMU_ON
        ldr     x0, =MT_ARM_SMP_STACKS
        add     x1, x19, #1
        add     x0, x0, x1, lsl #SMP_STACK_SHIFT    /* MT_ARM_SMP_STACK_TOP(i) */
        mov     sp, x0
        ldr     x22, =MT_ARM_SMP_PARAMS(0)
        add     x22, x22, x19, lsl #SMP_PARAMS_STRIDE_SHIFT
        SMP_VCPU_REGS
        ldr     x0, =MT_ARM_SMP_UP
        add     x1, x0, x19, lsl #3
        mov     x2, #1
        stlr    x2, [x1]                /* up */
1:      ldar    x1, [x0]                /* go? */
        cbnz    x1, 2f
        yield
        b       1b
2:      b       mt_vcpu_start
#else
        b       mt_hang                 /* never started: N > 1 is refused */
#endif
        .endm
