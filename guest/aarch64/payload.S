/*
 * migtest aarch64 guest payload (qemu-system-aarch64 -M virt -kernel).
 *
 * A plain raw image (no arm64 Image header, so QEMU uses its default
 * placement): QEMU copies it to MT_ARM_LOAD_ADDR and, through its boot
 * stub at MT_ARM_RAM_BASE, enters byte 0 at EL1h with x0 = DTB address
 * (unused here), DAIF masked, MMU and caches off.
 *
 * Image layout (offsets from byte 0):
 *   0                   branch over the parameter block
 *   MT_PARAM_OFFSET     default parameter block (the host patches it)
 *   after it            code, literal pool
 *   2 KiB aligned       exception vectors (all: hang quietly on wfi)
 *   4 KiB aligned       level-1 translation table (mmu-on, mmu-off-late)
 * The code is position independent (addresses come from adr; the literal
 * pool holds constants only), uses no stack (each vCPU gets one anyway,
 * see smp.S) and touches no memory outside the image, the PL011, the
 * ranges and the several-vCPU area from MT_ARM_SMP_BASE (smp.S: block
 * copies, up flags, UART lock; written even with one vCPU).
 *
 * Workload and serial protocol: see migtest-abi.h.  One source, four
 * variants, chosen by -DMT_VARIANT_<NAME>:
 *   MMU_ON            identity map, RAM Normal write-back cacheable, UART
 *                     Device-nGnRE; MMU, D- and I-cache on.  The fix from
 *                     the 2018 qemu-devel thread: guest and QEMU/KVM both
 *                     access RAM cacheable, so migrated RAM is coherent.
 *   MMU_OFF_DC_CIVAC  MMU and caches off (all data accesses Device-nGnRnE,
 *                     i.e. uncached), "dc civac" after every store to a
 *                     range (heads, tails and hot words), as the thread's
 *                     original patch did.
 *   MMU_OFF           MMU and caches off, no cache maintenance: the hazard
 *                     (QEMU reads RAM through cacheable mappings and may
 *                     see stale lines on Arm KVM).
 *   MMU_OFF_LATE      like MMU_ON, then after MT_P_MMU_OFF_AFTER passes
 *                     (0 = never) clears SCTLR_EL1.M and .C and runs on
 *                     uncached.
 *
 * Register map (fixed for the whole run; nothing else is kept in memory).
 * With several vCPUs (smp.S) each vCPU holds its own: x19 its generation,
 * x20/x21 its page and its slice's end, x26 its copy's range 0 = its
 * slice, x12/x15/x16 its hot set (vCPU 0 only), x10/x11, x27/x28 its zero
 * runs (vCPU 0 only):
 *   x10  start of zero(p, g - 1)'s pages (migtest-abi.h, "Zero runs")
 *   x11  their length in bytes (0: none; p is in iff p - x10 < x11)
 *   x12  address of hot word 0 (range 0 start + MT_HOT_WORD_OFFSET)
 *   x15  hot counter h (starts at 0; bumped after every page only while
 *        x16 != 0)
 *   x16  hot_pages K (0 = no hot set)
 *   x17  g - 1: the head value the previous pass left (0 in pass 1)
 *   x18  MT_TAIL_MUL
 *   x19  generation g (pass number, starts at 1)
 *   x20  current page p (guest physical = virtual: identity map or MMU off)
 *   x21  end (exclusive) of the current range
 *   x22  address of the parameter block during start-up; from SMP_START
 *        on, of this vCPU's copy of it, MT_ARM_SMP_PARAMS(i), whose range
 *        0 is the vCPU's slice
 *   x23  PL011 base (data register, MT_ARM_UART)
 *   x24  g * MT_TAIL_MUL        (MT_TAIL(g, p)     = p ^ x24)
 *   x25  (g - 1) * MT_TAIL_MUL  (MT_TAIL(g - 1, p) = p ^ x25)
 *   x26  current range descriptor (x22 + MT_P_RANGES + i * MT_P_RANGE_SIZE)
 *   x27  start of zero(p, g)'s pages
 *   x28  their length in bytes (0: none)
 *   x29  flags, set each pass: X29_ZVA this pass zeroes pages with dc zva
 *        (where usable), X29_ATOMIC the hot set is atomic, X29_LSE the CPU
 *        has LSE atomics (ID_AA64ISAR0_EL1.Atomic)
 *   (b_every, mmu_off_after and the end of the range descriptors are
 *   re-read from the block where needed: no register left for them)
 *   x30  link register
 *   x13  put_hex64's saved return address, x14 err_record's (no stack)
 *   x0-x11  scratch and call arguments:
 *           putc:       w0 = byte; clobbers w1
 *           put_hex64:  x2 = value; clobbers x0-x3, x13
 *           err_record: x4 = gpa, x5 = expected, x6 = found;
 *                       clobbers x0-x3, x13, x14
 *           hot round:  x7 = hot word address, x8 = hot words left,
 *                       x9 = h - 1 (expected; 0 in the first round), x6
 *                       = word found; x7-x9 survive err_record; atomic:
 *                       x6 = 1 for ldadd, then the old value; w0 = the
 *                       stxr status
 *           fill:       x3 = hot word to skip on a hot page (else 0),
 *                       x7 = word address, x8 = the tail (loop end),
 *                       x6 = word found or written, x5 = expected
 *           zero check: x7 = word address, x8 = page end, x6 = word
 *           zeroing:    x7 = address, x8 = end, x9 = dc zva block size
 *           per pass:   ZERO_RUN uses x0-x4
 *           canaries:   v0-v31 hold them; at the end of a pass x5 =
 *                       expected, x6 = found, x4 = the record id, x20 =
 *                       1 once one was wrong (x20 is free there)
 *
 * A bad parameter block yields one error record, then the CPU parks:
 *   magic, version or nranges wrong: E<block address> <MT_PARAM_MAGIC>
 *     <magic word found>;
 *   hot_pages above MT_MAX_HOT_PAGES or above the pages of range 0:
 *     E<address of the hot_pages field> <the bound> <hot_pages>;
 *   zero runs on with zero_pages below MT_ZERO_MIN_PAGES, zero_method
 *     above MT_ZERO_METHOD_MAX, or fewer than MT_ZERO_MIN_SLOTS slots:
 *     E<the field's address> <the bound> <the value> (migtest-abi.h);
 *   fill above MT_FILL_MAX: E<the fill field> <MT_FILL_MAX> <fill>;
 *   canaries above MT_CANARIES_MAX: E<the field> <MT_CANARIES_MAX> <value>;
 *   hot_op above MT_HOT_OP_MAX: E<the hot_op field> <MT_HOT_OP_MAX> <hot_op>;
 *   devprobe above MT_DEVPROBE_MAX: E<the field> <MT_DEVPROBE_MAX> <value>;
 *   vcpus: see migtest-abi.h, "Several vCPUs" (SMP_VALIDATE in smp.S).
 * b_every 0 is taken as 1; the ranges are not checked (the host does).
 */
#include "migtest-abi.h"

#if defined(MT_VARIANT_MMU_ON) + defined(MT_VARIANT_MMU_OFF_DC_CIVAC) + \
    defined(MT_VARIANT_MMU_OFF) + defined(MT_VARIANT_MMU_OFF_LATE) != 1
#error "define exactly one MT_VARIANT_*"
#endif

/* Default MT_P_MMU_OFF_AFTER in the image's parameter block. */
#if defined(MT_VARIANT_MMU_OFF_LATE)
#define DEFAULT_MMU_OFF_AFTER   3
#else
#define DEFAULT_MMU_OFF_AFTER   0
#endif

/* ---- Architectural constants (Arm ARM), not addresses ----------------- */
#define SCTLR_M         (1 << 0)        /* stage-1 MMU enable */
#define SCTLR_A         (1 << 1)        /* alignment check */
#define SCTLR_C         (1 << 2)        /* data cacheability */
#define SCTLR_I         (1 << 12)       /* instruction cacheability */
#define SCTLR_WXN       (1 << 19)       /* writable implies execute-never */

#define MAIR_IDX_DEVICE 0
#define MAIR_IDX_NORMAL 1
#define MAIR_DEVICE_NGNRE 0x04
#define MAIR_NORMAL_WB  0xff            /* inner + outer WB, R/W-allocate */
#define MAIR_VALUE      ((MAIR_DEVICE_NGNRE << (8 * MAIR_IDX_DEVICE)) | \
                         (MAIR_NORMAL_WB << (8 * MAIR_IDX_NORMAL)))

/* 4 KiB granule, 39-bit VA: the walk starts at level 1, one table of 512
 * entries of 1 GiB blocks covers the whole TTBR0 space. */
#define VA_BITS         39
#define L1_SHIFT        30
#define L1_BLOCK_SIZE   (1 << L1_SHIFT)
#define L1_ENTRIES      (1 << (VA_BITS - L1_SHIFT))
#define L1_TABLE_SIZE   (L1_ENTRIES * 8)

#define TCR_T0SZ        (64 - VA_BITS)
#define TCR_IRGN0_WBWA  (1 << 8)        /* walks: inner write-back */
#define TCR_ORGN0_WBWA  (1 << 10)       /* walks: outer write-back */
#define TCR_SH0_INNER   (3 << 12)
#define TCR_TG0_4K      (0 << 14)
#define TCR_EPD1        (1 << 23)       /* no TTBR1 walks */
#define TCR_IPS_SHIFT   32
#define TCR_IPS_40BIT   2               /* enough for any VA_BITS address */
#define TCR_VALUE       (TCR_T0SZ | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | \
                         TCR_SH0_INNER | TCR_TG0_4K | TCR_EPD1)

#define PTE_BLOCK       0x1             /* level-1 block descriptor */
#define PTE_ATTRIDX(i)  ((i) << 2)
#define PTE_SH_INNER    (3 << 8)
#define PTE_AF          (1 << 10)       /* access flag set: no AF faults */
#define PTE_PXN         (1 << 53)
#define PTE_UXN         (1 << 54)
#define PTE_DEVICE      (PTE_BLOCK | PTE_ATTRIDX(MAIR_IDX_DEVICE) | PTE_AF | \
                         PTE_PXN | PTE_UXN)
#define PTE_NORMAL      (PTE_BLOCK | PTE_ATTRIDX(MAIR_IDX_NORMAL) | \
                         PTE_SH_INNER | PTE_AF | PTE_UXN)

#define CTR_DMINLINE_SHIFT 16           /* log2(words) of the smallest D-line */
#define CTR_DMINLINE_BITS  4

#define VBAR_ALIGN      2048
#define VECTOR_SIZE     128
#define VECTOR_COUNT    16

/* ASCII used in error records besides the MT_SERIAL_* bytes. */
#define CH_SPACE        0x20
#define CH_NEWLINE      0x0a
#define CH_DIGIT0       0x30            /* '0' */
#define CH_LOWER_A      0x61            /* 'a' */

#define TAIL_OFFSET     (MT_PAGE_SIZE - 8)
#define CPACR_FPEN      (3 << 20)       /* FP/SIMD at EL1 and EL0 untrapped */
#define DCZID_BS_BITS   4               /* log2(block size in 4-byte words) */
#define DCZID_DZP       (1 << 4)        /* dc zva prohibited */
#define DCZID_WORD      4
#define RANGE0_START    (MT_P_RANGES + MT_P_RANGE_START)
#define RANGE0_END      (MT_P_RANGES + MT_P_RANGE_END)
#if MT_ZERO_PLAIN != 0 || MT_ZERO_STRING != 1
#error "X29_ZVA is computed as method == MT_ZERO_STRING (1) or alternate's parity"
#endif
#define X29_ZVA_BIT     0
#define X29_ATOMIC_BIT  1
#define X29_LSE_BIT     2
#define ISAR0_ATOMIC_SHIFT 20           /* ID_AA64ISAR0_EL1.Atomic */
#define ISAR0_ATOMIC_BITS  4
#define ISAR0_ATOMIC_LSE   2            /* LDADD, CAS, SWP ... implemented */

#if (MT_HOT_WORD_OFFSET % 8) != 0 || MT_HOT_WORD_OFFSET < 8 || \
    MT_HOT_WORD_OFFSET > TAIL_OFFSET - 8
#error "the hot word must be an aligned word clear of head and tail"
#endif

#if (MT_ARM_RAM_BASE % L1_BLOCK_SIZE) != 0
#error "the page tables assume RAM starts on a 1 GiB boundary"
#endif
#if 1 + 3 * MT_HEX_DIGITS + 2 + 1 != MT_ERR_LEN
#error "error record layout does not match MT_ERR_LEN"
#endif

/* MMU_ON: turn the MMU and caches on with the translation table at x5
 * (vCPU 0 and every secondary use the same one): MAIR, TCR with IPS =
 * min(implemented PA size, 40 bits), TTBR0, then SCTLR.M/C/I (alignment
 * checks and WXN off).  The map is an identity map, so the next
 * instruction is fetched from the same address with the MMU on.
 * Clobbers x0, x1, x3, x4, x6. */
        .macro  MMU_ON
        ldr     x3, =MAIR_VALUE
        msr     mair_el1, x3
        mrs     x4, id_aa64mmfr0_el1
        and     x4, x4, #0xf            /* PARange */
        mov     x6, #TCR_IPS_40BIT
        cmp     x4, x6
        csel    x4, x4, x6, lo
        ldr     x3, =TCR_VALUE
        orr     x3, x3, x4, lsl #TCR_IPS_SHIFT
        msr     tcr_el1, x3
        msr     ttbr0_el1, x5
        isb
        tlbi    vmalle1
        ic      iallu
        dsb     nsh
        isb
        mrs     x0, sctlr_el1
        ldr     x1, =SCTLR_M | SCTLR_C | SCTLR_I
        orr     x0, x0, x1
        ldr     x1, =SCTLR_A | SCTLR_WXN
        bic     x0, x0, x1
        msr     sctlr_el1, x0
        isb
        .endm

/* ZERO_RUN gen, start, len: the pages of zero(p, gen) (migtest-abi.h,
 * "Zero runs"): slot ((gen / E) - 1) mod S, len = R pages in bytes; 0, 0
 * when zero runs are off or gen < E.  Clobbers x0-x4. */
        .macro  ZERO_RUN gen, start, len
        mov     \start, #0
        mov     \len, #0
        ldr     w0, [x22, #MT_P_ZERO_EVERY]
        cbz     w0, 9f
        udiv    x1, \gen, x0           /* run number gen / E */
        cbz     x1, 9f
        sub     x1, x1, #1
        ldr     x2, [x22, #RANGE0_END]
        ldr     x3, [x22, #RANGE0_START]
        sub     x2, x2, x3
        lsr     x2, x2, #MT_PAGE_SHIFT
        sub     x2, x2, x16             /* pages after the hot set */
        ldr     w0, [x22, #MT_P_ZERO_PAGES]
        udiv    x2, x2, x0              /* slots */
        udiv    x4, x1, x2
        msub    x1, x4, x2, x1          /* slot */
        lsl     x0, x0, #MT_PAGE_SHIFT  /* run bytes */
        mov     \len, x0
        add     x3, x3, x16, lsl #MT_PAGE_SHIFT     /* slot 0 */
        madd    \start, x1, x0, x3
9:
        .endm

/* CANARY_VALUE reg, id: reg = MT_CANARY(id) (x18 = MT_TAIL_MUL).
 * Clobbers x2. */
        .macro  CANARY_VALUE reg, id
        mov     \reg, #(\id)
        mul     \reg, \reg, x18
        ldr     x2, =MT_CANARY_SEED
        eor     \reg, \reg, x2
        .endm

/* CANARY_RECORD id: x6 (found) against x5 (expected); if they differ an
 * error record for register id and x20 = 1.  Clobbers x0-x4, x13, x14,
 * x30. */
        .macro  CANARY_RECORD id
        cmp     x6, x5
        b.eq    1f
        ldr     x4, =MT_REG_RECORD + (\id)
        bl      err_record
        mov     x20, #1
1:
        .endm

/* CANARY_CHECK_V n: both halves of v n. */
        .macro  CANARY_CHECK_V n
        CANARY_VALUE x5, (MT_REG_VEC + 2 * \n)
        fmov    x6, d\n
        CANARY_RECORD (MT_REG_VEC + 2 * \n)
        CANARY_VALUE x5, (MT_REG_VEC + 2 * \n + 1)
        mov     x6, v\n\().d[1]
        CANARY_RECORD (MT_REG_VEC + 2 * \n + 1)
        .endm

/* CANARY_CHECK_SYS reg, id[, mask]: a system register against its canary,
 * both masked to the bits it keeps (CONTEXTIDR_EL1: 32 architecturally,
 * though -cpu max keeps 64). */
        .macro  CANARY_CHECK_SYS reg, id, mask=0xffffffffffffffff
        CANARY_VALUE x5, (MT_REG_SYS + \id)
        ldr     x0, =\mask
        and     x5, x5, x0
        mrs     x6, \reg
        and     x6, x6, x0
        CANARY_RECORD (MT_REG_SYS + \id)
        .endm

/* HOT_SKIP: x3 = the hot word of page x20 if it is a hot page (the first
 * K pages of range 0), else 0 (no word is at 0).  Clobbers x0, x1. */
        .macro  HOT_SKIP
        ldr     x0, [x22, #RANGE0_START]
        sub     x0, x20, x0             /* other ranges: above, so huge */
        lsl     x1, x16, #MT_PAGE_SHIFT
        add     x3, x20, #MT_HOT_WORD_OFFSET
        cmp     x0, x1
        csel    x3, x3, xzr, lo
        .endm

/* CIVAC_PAGE: clean and invalidate every D-cache line of page x20
 * (mmu-off-dc-civac, after a whole-page write).  Clobbers x0, x7-x9. */
        .macro  CIVAC_PAGE
        mrs     x0, ctr_el0
        ubfx    x0, x0, #CTR_DMINLINE_SHIFT, #CTR_DMINLINE_BITS
        mov     x9, #4
        lsl     x9, x9, x0              /* line size in bytes */
        mov     x7, x20
        add     x8, x20, #MT_PAGE_SIZE
6:      dc      civac, x7
        add     x7, x7, x9
        cmp     x7, x8
        b.lo    6b
        .endm

#include "smp.S"

        .arch_extension lse             /* ldadd (used only where present) */
        .section .note.GNU-stack, "", %progbits   /* no executable stack */

        .section .text, "ax"
        .globl  mt_entry
        /* The linker script links the image at this address. */
        .globl  mt_load_addr
        .set    mt_load_addr, MT_ARM_LOAD_ADDR
        .globl  mt_image_max
        .set    mt_image_max, MT_ARM_IMAGE_MAX

mt_entry:
        b       mt_start

/* ---- Default parameter block (fields placed by their MT_P_* offsets) -- */
        .org    MT_PARAM_OFFSET
mt_params:
        .8byte  MT_PARAM_MAGIC
        .org    mt_params + MT_P_VERSION
        .4byte  MT_PARAM_VERSION
        .org    mt_params + MT_P_FLAGS
        .4byte  0
        .org    mt_params + MT_P_B_EVERY
        .4byte  1
        .org    mt_params + MT_P_NRANGES
        .4byte  1
        .org    mt_params + MT_P_HOT_PAGES
        .4byte  0
        .org    mt_params + MT_P_MMU_OFF_AFTER
        .4byte  DEFAULT_MMU_OFF_AFTER
        .org    mt_params + MT_P_RANGES + MT_P_RANGE_START
        .8byte  MT_ARM_RAM_BASE + MT_DEFAULT_WINDOW_START
        .org    mt_params + MT_P_RANGES + MT_P_RANGE_END
        .8byte  MT_ARM_RAM_BASE + MT_DEFAULT_WINDOW_END
        /* ranges 1 .. MT_MAX_RANGES - 1 and the zero-run fields: zero */
        .org    mt_params + MT_PARAM_SIZE

/* ---- Start-up ---------------------------------------------------------- */
mt_start:
        /* Any exception (there should be none) parks the CPU instead of
         * jumping through an unknown VBAR into flash. */
        adr     x0, mt_vectors
        msr     vbar_el1, x0
        isb

        ldr     x23, =MT_ARM_UART
        SMP_EARLY_START                 /* 'A' now with one vCPU */

#if defined(MT_VARIANT_MMU_OFF) || defined(MT_VARIANT_MMU_OFF_DC_CIVAC)
        /* Off at reset already; make it explicit whatever booted us. */
        mrs     x0, sctlr_el1
        ldr     x1, =SCTLR_M | SCTLR_C | SCTLR_I
        bic     x0, x0, x1
        msr     sctlr_el1, x0
        isb
#endif

        /* Validate the parameter block.  x5/x6 stay set up as the error
         * record's expected/found values. */
        adr     x22, mt_params
        ldr     x5, =MT_PARAM_MAGIC
        ldr     x6, [x22, #MT_P_MAGIC]
        cmp     x6, x5
        b.ne    mt_bad_params
        ldr     w1, [x22, #MT_P_VERSION]
        cmp     w1, #MT_PARAM_VERSION
        b.ne    mt_bad_params
        ldr     w1, [x22, #MT_P_NRANGES]
        cbz     w1, mt_bad_params
        cmp     w1, #MT_MAX_RANGES
        b.hi    mt_bad_params
        SMP_VALIDATE                    /* smp.S */

        /* hot_pages: at most MT_MAX_HOT_PAGES, all inside range 0 (the
         * hot round walks range 0's first pages).  The record names the
         * field, the bound it broke and its value. */
        add     x4, x22, #MT_P_HOT_PAGES
        ldr     w16, [x4]
        mov     x6, x16
        mov     x5, #MT_MAX_HOT_PAGES
        cmp     x16, x5
        b.hi    mt_bad_field
        ldr     x2, [x22, #MT_P_RANGES + MT_P_RANGE_START]
        ldr     x3, [x22, #MT_P_RANGES + MT_P_RANGE_END]
        sub     x5, x3, x2
        lsr     x5, x5, #MT_PAGE_SHIFT  /* pages in range 0 */
        SMP_SLICE0_PAGES                /* ... of slice 0 with several vCPUs */
        cmp     x16, x5
        b.hi    mt_bad_field
        add     x12, x2, #MT_HOT_WORD_OFFSET
        mov     x15, #0                 /* h = 0 */

        /* Zero runs: off, or runs of at least MT_ZERO_MIN_PAGES, a known
         * method and at least MT_ZERO_MIN_SLOTS slots after the hot set
         * (x5 still holds the pages of range 0). */
        ldr     w0, [x22, #MT_P_ZERO_EVERY]
        cbz     w0, 4f
        sub     x7, x5, x16             /* pages after the hot set */
        add     x4, x22, #MT_P_ZERO_PAGES
        ldr     w6, [x4]
        mov     x5, #MT_ZERO_MIN_PAGES
        cmp     x6, x5
        b.lo    mt_bad_field
        udiv    x7, x7, x6              /* slots */
        add     x4, x22, #MT_P_ZERO_METHOD
        ldr     w6, [x4]
        mov     x5, #MT_ZERO_METHOD_MAX
        cmp     x6, x5
        b.hi    mt_bad_field
        add     x4, x22, #MT_P_ZERO_PAGES
        mov     x6, x7
        mov     x5, #MT_ZERO_MIN_SLOTS
        cmp     x6, x5
        b.lo    mt_bad_field
4:      add     x4, x22, #MT_P_FILL
        ldr     w6, [x4]
        mov     x5, #MT_FILL_MAX
        cmp     x6, x5
        b.hi    mt_bad_field
        add     x4, x22, #MT_P_HOT_OP
        ldr     w6, [x4]
        mov     x5, #MT_HOT_OP_MAX
        cmp     x6, x5
        b.hi    mt_bad_field
        add     x4, x22, #MT_P_CANARIES
        ldr     w6, [x4]
        mov     x5, #MT_CANARIES_MAX
        cmp     x6, x5
        b.hi    mt_bad_field
        add     x4, x22, #MT_P_DEVPROBE
        ldr     w6, [x4]
        mov     x5, #MT_DEVPROBE_MAX
        cmp     x6, x5
        b.hi    mt_bad_field

        add     x27, x22, #MT_P_RANGES  /* end of the range descriptors */
        mov     x2, #MT_P_RANGE_SIZE    /* (the map set-up's loop bound) */
        madd    x27, x1, x2, x27
        ldr     x18, =MT_TAIL_MUL

#if defined(MT_VARIANT_MMU_ON) || defined(MT_VARIANT_MMU_OFF_LATE)
        /* x2 = end of the Normal mapping: the highest range end, at least
         * MT_ARM_MAP_MIN_END, at most MT_ARM_MAP_MAX_END, then rounded up
         * to a whole 1 GiB block; x2 >> L1_SHIFT = first unmapped entry. */
        ldr     x2, =MT_ARM_MAP_MIN_END
        add     x3, x22, #MT_P_RANGES
1:      ldr     x4, [x3, #MT_P_RANGE_END]
        cmp     x4, x2
        csel    x2, x4, x2, hi
        add     x3, x3, #MT_P_RANGE_SIZE
        cmp     x3, x27
        b.lo    1b
        ldr     x4, =MT_ARM_MAP_MAX_END
        cmp     x2, x4
        csel    x2, x4, x2, hi
        ldr     x4, =L1_BLOCK_SIZE - 1
        add     x2, x2, x4
        lsr     x2, x2, #L1_SHIFT

        /* Fill all L1_ENTRIES entries: identity 1 GiB blocks, Device below
         * RAM (UART, GIC, ...), Normal WB from RAM up to x2, invalid above
         * (nothing speculative can reach the high PCIe/ECAM windows). */
        adr     x5, mt_pgtable
        ldr     x7, =PTE_DEVICE
        ldr     x8, =PTE_NORMAL
        mov     x9, #(MT_ARM_RAM_BASE >> L1_SHIFT)
        mov     x6, #0
2:      lsl     x10, x6, #L1_SHIFT
        cmp     x6, x9
        csel    x11, x7, x8, lo
        orr     x10, x10, x11
        cmp     x6, x2
        csel    x10, x10, xzr, lo
        str     x10, [x5, x6, lsl #3]
        add     x6, x6, #1
        cmp     x6, #L1_ENTRIES
        b.lo    2b

        /* The table was written uncached; drop any stale cache lines over
         * it so the (cacheable) table walker sees what was written. */
        mrs     x3, ctr_el0
        ubfx    x3, x3, #CTR_DMINLINE_SHIFT, #CTR_DMINLINE_BITS
        mov     x4, #4
        lsl     x4, x4, x3              /* D-cache line size in bytes */
        mov     x6, x5
        add     x7, x5, #L1_TABLE_SIZE
3:      dc      civac, x6
        add     x6, x6, x4
        cmp     x6, x7
        b.lo    3b
        dsb     sy

        MMU_ON
#endif

        /* Block copies, secondaries, x22 = this vCPU's copy (smp.S). */
        SMP_START
/* Every vCPU from here on: x22 = its block copy, x12/x15/x16/x18/x23 set. */
mt_vcpu_start:
        /* FP/SIMD on at EL1 (CPACR_EL1.FPEN): the canaries live there. */
        mrs     x0, cpacr_el1
        orr     x0, x0, #CPACR_FPEN
        msr     cpacr_el1, x0
        isb
        ldr     w0, [x22, #MT_P_CANARIES]
        cbz     w0, 1f
        bl      canary_load
1:      ldr     w0, [x22, #MT_P_DEVPROBE]   /* device probes (devprobe.S) */
        cbz     w0, 1f
        bl      devprobe_program
1:      mov     x19, #1

/* ---- One pass per generation g ---------------------------------------- */
mt_pass:
        sub     x17, x19, #1
        mul     x24, x19, x18
        sub     x25, x24, x18
        ZERO_RUN x17, x10, x11          /* zero(p, g - 1) */
        ZERO_RUN x19, x27, x28          /* zero(p, g) */
        /* x29: dc zva this pass: method string, or alternate with the run
         * number g / E even */
        ldr     w0, [x22, #MT_P_ZERO_METHOD]
        cmp     w0, #MT_ZERO_ALTERNATE
        csel    x29, x0, xzr, ne        /* plain 0, string 1 */
        b.ne    5f
        ldr     w1, [x22, #MT_P_ZERO_EVERY]
        cbz     w1, 5f
        udiv    x1, x19, x1
        mvn     x1, x1
        and     x29, x1, #1
5:      ldr     w0, [x22, #MT_P_HOT_OP] /* X29_ATOMIC, X29_LSE */
        cmp     w0, #MT_HOT_ATOMIC
        b.ne    6f
        orr     x29, x29, #(1 << X29_ATOMIC_BIT)
        mrs     x0, id_aa64isar0_el1
        ubfx    x0, x0, #ISAR0_ATOMIC_SHIFT, #ISAR0_ATOMIC_BITS
        cmp     x0, #ISAR0_ATOMIC_LSE
        b.lo    6f
        orr     x29, x29, #(1 << X29_LSE_BIT)
6:      add     x26, x22, #MT_P_RANGES
mt_range:
        ldr     x20, [x26, #MT_P_RANGE_START]
        ldr     x21, [x26, #MT_P_RANGE_END]
mt_page:
        cmp     x20, x21
        b.hs    mt_range_done
        sub     x0, x20, x10            /* zero(p, g - 1): all zero? */
        cmp     x0, x11
        b.lo    mt_zero_check
mt_check_head:
        cbz     x17, mt_write           /* pass 1: nothing written yet */

        ldr     x6, [x20]               /* head == g - 1 ? */
        cmp     x6, x17
        b.eq    1f
        mov     x4, x20
        mov     x5, x17
        bl      err_record
1:      ldr     w0, [x22, #MT_P_FILL]   /* fill=full: the middle words */
        cmp     w0, #MT_FILL_FULL
        b.ne    4f
        HOT_SKIP
        add     x7, x20, #8
        add     x8, x20, #TAIL_OFFSET
2:      cmp     x7, x3
        b.eq    3f
        ldr     x6, [x7]
        eor     x5, x7, x25             /* MT_FILL(g - 1, a) */
        cmp     x6, x5
        b.ne    5f
3:      add     x7, x7, #8
        cmp     x7, x8
        b.lo    2b
        b       4f
5:      mov     x4, x7                  /* the first that differs */
        bl      err_record
4:      ldr     x6, [x20, #TAIL_OFFSET] /* tail == MT_TAIL(g - 1, p) ? */
        eor     x5, x20, x25
        cmp     x6, x5
        b.eq    mt_write
        add     x4, x20, #TAIL_OFFSET
        bl      err_record

mt_write:
        sub     x0, x20, x27            /* zero(p, g): zero it instead */
        cmp     x0, x28
        b.lo    mt_zero_write
mt_write_pattern:
        /* Middle (fill=full), tail, then head; the head store is a
         * store-release so no observer (the host reading RAM) can see the
         * new head before the rest: a page whose head says g has its tail
         * and middle for g too. */
        ldr     w0, [x22, #MT_P_FILL]
        cmp     w0, #MT_FILL_FULL
        b.ne    4f
        HOT_SKIP
        add     x7, x20, #8
        add     x8, x20, #TAIL_OFFSET
2:      cmp     x7, x3
        b.eq    3f
        eor     x6, x7, x24             /* MT_FILL(g, a) */
        str     x6, [x7]
3:      add     x7, x7, #8
        cmp     x7, x8
        b.lo    2b
#if defined(MT_VARIANT_MMU_OFF_DC_CIVAC)
        CIVAC_PAGE
#endif
4:      eor     x6, x20, x24
        str     x6, [x20, #TAIL_OFFSET]
#if defined(MT_VARIANT_MMU_OFF_DC_CIVAC)
        add     x7, x20, #TAIL_OFFSET
        dc      civac, x7
#endif
        stlr    x19, [x20]
#if defined(MT_VARIANT_MMU_OFF_DC_CIVAC)
        dc      civac, x20
#endif

mt_hot_round:
        /* Hot round (migtest-abi.h, "Hot set"): h += 1, then each hot word
         * i = 0 .. K-1 in order is checked against h - 1 and set to h.
         * Plain stores: the invariant on hot words is only claimed for a
         * stopped vCPU, so no ordering against the sweep is needed. */
        cbz     x16, mt_next_page       /* no hot set: h is not kept */
        add     x15, x15, #1
        sub     x9, x15, #1             /* expected: h - 1 */
        mov     x7, x12
        mov     x8, x16
mt_hot_word:
        cbz     x9, mt_hot_store        /* h == 1: nothing written yet */
        tbnz    x29, #X29_ATOMIC_BIT, mt_hot_atomic
        ldr     x6, [x7]
        cmp     x6, x9
        b.eq    mt_hot_store
mt_hot_bad:                             /* x6 = the value found */
        mov     x4, x7
        mov     x5, x9
        bl      err_record
mt_hot_store:                           /* the store repairs a bad word */
        str     x15, [x7]
mt_hot_done:
#if defined(MT_VARIANT_MMU_OFF_DC_CIVAC)
        dc      civac, x7
#endif
        add     x7, x7, #MT_PAGE_SIZE
        subs    x8, x8, #1
        b.ne    mt_hot_word

mt_next_page:
        add     x20, x20, #MT_PAGE_SIZE
        b       mt_page

mt_range_done:
        add     x26, x26, #MT_P_RANGE_SIZE
        ldr     w1, [x22, #MT_P_NRANGES]
        add     x0, x22, #MT_P_RANGES
        mov     x2, #MT_P_RANGE_SIZE
        madd    x0, x1, x2, x0          /* end of the range descriptors */
        cmp     x26, x0
        b.lo    mt_range

        /* CPU-state canaries (migtest-abi.h), before the 'B'; x20 (free
         * until the next pass) says whether one was wrong. */
        ldr     w0, [x22, #MT_P_CANARIES]
        cbz     w0, 2f
        mov     x20, #0
        .irp    n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
        CANARY_CHECK_V \n
        .endr
        CANARY_CHECK_SYS tpidr_el0, MT_SYS_ARM_TPIDR_EL0
        CANARY_CHECK_SYS tpidrro_el0, MT_SYS_ARM_TPIDRRO_EL0
        CANARY_CHECK_SYS tpidr_el1, MT_SYS_ARM_TPIDR_EL1
        CANARY_CHECK_SYS contextidr_el1, MT_SYS_ARM_CONTEXTIDR, MT_SYS_ARM_CONTEXTIDR_MASK
        mrs     x6, fpcr
        ldr     x5, =MT_SYS_ARM_FPCR_VALUE
        CANARY_RECORD (MT_REG_SYS + MT_SYS_ARM_FPCR)
        cbz     x20, 2f
        bl      canary_load
2:
        ldr     w0, [x22, #MT_P_DEVPROBE]   /* device probes, before 'B' */
        cbz     w0, 2f
        bl      devprobe_check
2:
        /* Pass g complete: 'B' if g % b_every == 0. */
        ldr     w1, [x22, #MT_P_B_EVERY]
        cmp     w1, #0
        csinc   w1, w1, wzr, ne         /* 0 would never print 'B': use 1 */
        udiv    x0, x19, x1
        msub    x0, x0, x1, x19
        cbnz    x0, 1f
        bl      smp_beat                /* 'B', or '1' .. '7' (smp.S) */
1:
#if defined(MT_VARIANT_MMU_OFF_LATE)
        /* After pass mmu_off_after (0 never matches, g >= 1): MMU
         * and D-cache off.  Deliberately no clean of the D-cache first:
         * dirty lines from the cacheable phase are left for the
         * hypervisor to deal with, which is part of what this variant
         * exercises.  The identity map lets execution carry on. */
        ldr     w1, [x22, #MT_P_MMU_OFF_AFTER]
        cmp     x19, x1
        b.ne    2f
        dsb     sy
        mrs     x0, sctlr_el1
        mov     x1, #(SCTLR_M | SCTLR_C)
        bic     x0, x0, x1
        msr     sctlr_el1, x0
        isb
2:
#endif
        add     x19, x19, #1
        b       mt_pass

/* ---- Zero runs (migtest-abi.h, "Zero runs") --------------------------- */

/* p (x20) is in zero(p, g - 1): every word must be 0 (one record for the
 * first that is not; the write then repairs the page).  A page that stays
 * zero in pass g and checked clean is not written again. */
mt_zero_check:
        mov     x7, x20
        add     x8, x20, #MT_PAGE_SIZE
1:      ldr     x6, [x7], #8
        cbnz    x6, 2f
        cmp     x7, x8
        b.lo    1b
        sub     x0, x20, x27            /* clean; still zero in pass g? */
        cmp     x0, x28
        b.lo    mt_hot_round
        b       mt_write_pattern
2:      sub     x4, x7, #8
        mov     x5, #0
        bl      err_record
        b       mt_write

/* p (x20) is in zero(p, g): every word but the head, ascending, then the
 * head with a store-release (so a head that reads 0 means the page is
 * zero throughout).  dc zva when x29 says so, DCZID_EL0 permits it and
 * the MMU is on (dc zva faults on Device memory, i.e. with the MMU off);
 * otherwise, and for the head's own block, plain stores. */
mt_zero_write:
        mov     x7, x20
        add     x8, x20, #MT_PAGE_SIZE
        tbz     x29, #X29_ZVA_BIT, 3f
        mrs     x0, sctlr_el1
        tbz     x0, #0, 3f              /* SCTLR_EL1.M: MMU off */
        mrs     x0, dczid_el0
        tst     x0, #DCZID_DZP
        b.ne    3f
        and     x0, x0, #((1 << DCZID_BS_BITS) - 1)
        mov     x9, #DCZID_WORD
        lsl     x9, x9, x0              /* block size in bytes */
        cmp     x9, #8
        b.ls    3f                      /* too small to leave the head out */
        add     x7, x20, x9             /* blocks 1 .. of the page */
2:      dc      zva, x7
        add     x7, x7, x9
        cmp     x7, x8
        b.lo    2b
        mov     x7, x20
        add     x8, x20, x9             /* the head's block: plain */
3:      add     x7, x7, #8              /* skip the head */
4:      cmp     x7, x8
        b.hs    5f
        str     xzr, [x7], #8
        b       4b
5:      stlr    xzr, [x20]
#if defined(MT_VARIANT_MMU_OFF_DC_CIVAC)
        CIVAC_PAGE
#endif
        b       mt_hot_round

/* canary_load: v0..v31, the thread ID registers and CONTEXTIDR_EL1 :=
 * their MT_CANARY values, FPCR := MT_SYS_ARM_FPCR_VALUE.  A leaf;
 * clobbers x0-x2. */
canary_load:
        .irp    n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
        CANARY_VALUE x0, (MT_REG_VEC + 2 * \n)
        CANARY_VALUE x1, (MT_REG_VEC + 2 * \n + 1)
        fmov    d\n, x0
        mov     v\n\().d[1], x1
        .endr
        CANARY_VALUE x0, (MT_REG_SYS + MT_SYS_ARM_TPIDR_EL0)
        msr     tpidr_el0, x0
        CANARY_VALUE x0, (MT_REG_SYS + MT_SYS_ARM_TPIDRRO_EL0)
        msr     tpidrro_el0, x0
        CANARY_VALUE x0, (MT_REG_SYS + MT_SYS_ARM_TPIDR_EL1)
        msr     tpidr_el1, x0
        CANARY_VALUE x0, (MT_REG_SYS + MT_SYS_ARM_CONTEXTIDR)
        ldr     x1, =MT_SYS_ARM_CONTEXTIDR_MASK     /* 32 bits, architecturally */
        and     x0, x0, x1
        msr     contextidr_el1, x0
        ldr     x0, =MT_SYS_ARM_FPCR_VALUE
        msr     fpcr, x0
        isb
        ret

/* Atomic hot set (migtest-abi.h, "Atomic hot set"), word x7, expected
 * x9 = h - 1, new x15 = h: even page number: ldadd of 1 (x6 = old), when
 * the CPU has LSE; odd page number (or no LSE): ldxr/stxr that stores h
 * only over h - 1 (x6 = the value found, w0 = the stxr status).  A
 * mismatch goes to mt_hot_bad, whose plain store repairs the word. */
mt_hot_atomic:
        tbnz    x7, #MT_PAGE_SHIFT, 2f
        tbz     x29, #X29_LSE_BIT, 2f
        mov     x6, #1
        ldadd   x6, x6, [x7]
        cmp     x6, x9
        b.ne    mt_hot_bad
        b       mt_hot_done
2:      ldxr    x6, [x7]
        cmp     x6, x9
        b.ne    3f
        stxr    w0, x15, [x7]
        cbnz    w0, 2b
        b       mt_hot_done
3:      clrex
        b       mt_hot_bad

/* Invalid parameter block: one record E<block address> <MT_PARAM_MAGIC>
 * <magic word found>, or (mt_bad_field) E<x4> <x5> <x6> as set up by the
 * caller, then park. */
mt_bad_params:
        mov     x4, x22
mt_bad_field:
        bl      err_record
mt_hang:
        wfi
        b       mt_hang

/* ---- Serial output ----------------------------------------------------- */

/* putc: send byte w0, waiting while the PL011 TX FIFO is full. */
putc:
        ldr     w1, [x23, #MT_ARM_UART_FR]
        tst     w1, #MT_ARM_UART_FR_TXFF
        b.ne    putc
        str     w0, [x23]
        ret

/* put_hex64: x2 as MT_HEX_DIGITS lowercase hex digits, most significant
 * first.  16 rotations by 4 leave x2 as it was. */
put_hex64:
        mov     x13, x30
        mov     x3, #MT_HEX_DIGITS
1:      ror     x2, x2, #60             /* next nibble to the bottom */
        and     x0, x2, #0xf
        add     x1, x0, #CH_DIGIT0
        add     x0, x0, #(CH_LOWER_A - 10)
        cmp     x1, #(CH_DIGIT0 + 10)
        csel    x0, x1, x0, lo
        bl      putc
        subs    x3, x3, #1
        b.ne    1b
        ret     x13

/* err_record: "E<x4> <x5> <x6>\n", exactly MT_ERR_LEN bytes. */
err_record:
        mov     x14, x30
        bl      smp_lock                /* the whole record at once */
        mov     w0, #MT_SERIAL_ERROR
        bl      putc
        mov     x2, x4
        bl      put_hex64
        mov     w0, #CH_SPACE
        bl      putc
        mov     x2, x5
        bl      put_hex64
        mov     w0, #CH_SPACE
        bl      putc
        mov     x2, x6
        bl      put_hex64
        mov     w0, #CH_NEWLINE
        bl      putc
        bl      smp_unlock
        ret     x14

#include "devprobe.S"
        SMP_CODE

        .ltorg

/* ---- Exception vectors: every entry parks the CPU, nothing printed ---- */
        .balign VBAR_ALIGN
mt_vectors:
        .rept   VECTOR_COUNT
        .balign VECTOR_SIZE
        b       mt_hang
        .endr
        .balign VECTOR_SIZE

#if defined(MT_VARIANT_MMU_ON) || defined(MT_VARIANT_MMU_OFF_LATE)
/* Level-1 table, filled at start-up (aligned to its own size). */
        .balign L1_TABLE_SIZE
mt_pgtable:
        .fill   L1_ENTRIES, 8, 0
#endif
        .globl  mt_image_end
mt_image_end:
