/*
 * migtest x86_64 guest payload: a 64 KiB firmware image for
 *   qemu-system-x86_64 -M pc|q35 -bios payload.bin
 * It replaces SeaBIOS altogether (no BIOS services are used), goes from
 * the reset vector to long mode and runs the memory workload described in
 * guest/migtest-abi.h forever, talking only through COM1.
 *
 * Why ring 3 and the alias: under the nested KVM this was written on
 * (kvm-pvm, a shadow-paging KVM), guest ring-0 code is emulated
 * instruction by instruction (~2-10 us each: a 99 MiB pass took 0.87 s
 * in ring 0), ring-3 code runs natively (0.7 ms a pass), and a store into
 * a page table that a live mapping uses traps (~100 us each).  So:
 *  - ring 0 does only what needs privilege, in few instructions: mode
 *    switches, a 4-page boot map, 'A', checking the parameter block
 *    (halting needs ring 0), entering ring 3;
 *  - the boot map maps the low 2 MiB and the image's 2 MiB twice: at
 *    their identity addresses (needed while paging is switched on) and
 *    at MT_X86_ALIAS_BASE + GPA.  Ring 0 moves to the alias, drops the
 *    identity half (PML4 entry 0) and flushes;
 *  - ring 3, at the alias, builds the final identity map in pages no live
 *    mapping uses (plain stores), then sets PML4 entry 0.  Going from not
 *    present to present needs no TLB flush, so ring 0 is never re-entered;
 *  - ring 3 (IOPL 3, so in/out work; interrupts off) then jumps to the
 *    identity address of its code and runs the workload forever.
 * Under TCG the detour costs nothing measurable; it is architecturally
 * plain, so hardware-assisted KVM (not available here) should not mind.
 *
 * Image layout (byte offsets in the file; the file is mapped at
 * MT_X86_ROM_BASE, just below 4 GiB, and all code runs from there):
 *   0                    GDT (descriptors at their selector values)
 *   MT_PARAM_OFFSET      parameter block (default values; host patches it)
 *   after it             code: 16-bit, 32-bit, 64-bit ring 0, ring 3
 *   MT_X86_RESET_OFFSET  reset vector (CPU starts at CS base + 0xfff0)
 *   MT_X86_ROM_SIZE      end of image
 *
 * Register map, per phase:
 *
 * 1. Real mode, ring 0 (reset_vector, real_start).  CS selector 0xf000
 *    with the reset-time hidden base MT_X86_ROM_BASE, so CS-relative
 *    offsets are image offsets; DS base is 0.
 *      eax   scratch for CR0
 *
 * 2. 32-bit protected mode, ring 0, paging off (pm32): boot map, long mode.
 *      eax, ecx, edx, edi   scratch (rep stosl, CRn, rdmsr/wrmsr)
 *
 * 3. 64-bit ring 0 (lm64), identity addresses, then the alias.
 *      rsp   MT_X86_STACK_TOP (identity, later alias)
 *      r15   parameter block (MT_X86_PARAM_GPA), kept into ring 3
 *    Parameter check: rdi = GPA of the field under test, rsi = expected
 *    value or bound, rdx = value found, rax = lower bound for the next
 *    range start (after the loop: the highest range end, kept across the
 *    hot_pages check), r8 = range descriptor, ecx = ranges left.
 *      rbx   GiB to map in the final map, kept into ring 3
 *      r14   MT_X86_ALIAS_BASE, kept into ring 3
 *      rax, rcx   scratch (jump targets, CR3, iretq frame)
 *
 * 4. 64-bit ring 3, alias addresses (user_alias): final page tables.
 *      r14   MT_X86_ALIAS_BASE (added to every low-RAM address)
 *      rbx   GiB to map, then PD entries left to write
 *      rax   entry being written; rcx = PDPT index; rdi = store address
 *      (cpuid at the end clobbers eax, ebx, ecx, edx)
 *
 * 5. 64-bit ring 3, identity addresses (user_start): the workload.
 *      rsp   MT_X86_STACK_TOP, used by call only
 *      r15   parameter block (MT_X86_PARAM_GPA), read at run time
 *      r12   generation g of the current pass (starts at 1)
 *      r13   g - 1: expected head; 0 during pass 1 (nothing to check)
 *      r9    g * MT_TAIL_MUL       (tail to write = p ^ r9)
 *      r10   (g - 1) * MT_TAIL_MUL (tail to expect = p ^ r10)
 *      r14   hot counter h (starts at 0; bumped after every page only
 *            while hot_pages != 0)
 *      r8    current range descriptor in the parameter block
 *      r11d  ranges left in this pass
 *      rbx   current page address p
 *      rbp   end of the current range (exclusive)
 *      rax, rcx, rdx, rsi, rdi   scratch; the print routines (used in
 *            ring 0 and ring 3) clobber only these, so the registers
 *            above survive calls.
 *    Zero runs (migtest-abi.h, "Zero runs") keep their per-pass state in
 *    xmm0-xmm9 (the ZV_* names; no general register is left, and guest
 *    RAM is out: a word rewritten every pass is a hot page, which QEMU
 *    7.2's TCG loses, docs/findings/003, and would blur what a zero-run
 *    case tests): the pages of zero(p, g - 1) and of zero(p, g), the
 *    union of both as lo and span (page p is in it iff p - lo < span,
 *    unsigned), whether this pass zeroes with rep stosq, and three
 *    constants set once (slot 0's address, the slot count, a run's size
 *    in bytes).  The per-page cost with zero runs off is two movq from
 *    xmm, a sub and a cmp against span 0.
 *    Zero check: rdi = word, rcx = page end, rdx = word found;
 *    zeroing: rdi = word, rcx = words left, rax = 0 (rep stosq or a
 *    loop of movq), the head stored last.
 *    Fill (fill_check, fill_write; calls, so the registers above survive):
 *    rdi = word, rsi = expected, rdx = found or value, rcx = the hot word
 *    to skip on a hot page (else 0), rax = the page's tail (loop end).
 *    Canaries (canary_load, canary_check, at start-up and at the end of a
 *    pass, when rbx, rbp, r8 and r11 are free): xmm10..15 hold
 *    MT_CANARY values; rax = expected, rsi = expected, rdx = found, rdi =
 *    the register's record id, r11 = 1 once a canary was wrong (reload).
 *    Hot round (the hot_word loop, after every head store): ecx = words left
 *    (hot_pages is re-read from the block each round: no register left),
 *    rdi = hot word address, rsi = h - 1 (expected; 0 in the first round:
 *    nothing to check), rdx = word found; ecx, rdi, rsi are pushed around
 *    put_err.  Atomic hot set: rdx = 1 for lock xadd, then the old value;
 *    rax = h - 1 for lock cmpxchg (r14 = h is the new value), then the
 *    value found.  MT_TAIL_MUL, which r14 held before the hot set, is now an
 *    immediate loaded once per pass.
 *
 * A bad parameter block yields one error record (gpa = the offending
 * field's GPA inside the block, expected = required value or bound,
 * found = the field) and a cli;hlt loop (checked in ring 0):
 *   magic != MT_PARAM_MAGIC, version != MT_PARAM_VERSION, b_every == 0,
 *   nranges outside 1..MT_MAX_RANGES, a range start or end not page
 *   aligned, start below MT_X86_RANGE_MIN or below the previous range's
 *   end, end <= start, end above MT_X86_RANGE_LIMIT, hot_pages above
 *   MT_MAX_HOT_PAGES or above the number of pages in range 0, zero runs on
 *   with zero_pages below MT_ZERO_MIN_PAGES, zero_method above
 *   MT_ZERO_METHOD_MAX or fewer than MT_ZERO_MIN_SLOTS slots, fill above
 *   MT_FILL_MAX, hot_op above MT_HOT_OP_MAX, canaries above MT_CANARIES_MAX,
 *   vcpus above MT_MAX_VCPUS, or vcpus N > 1 with nranges != 1 or with
 *   fewer than N pages in range 0 (then the hot set and the zero runs must
 *   fit in slice 0, see smp.S), devprobe above MT_DEVPROBE_MAX.
 * flags and mmu_off_after are ignored.
 *
 * Several vCPUs (MT_P_VCPUS > 1): smp.S starts the APs from ring 3 (after
 * the final map) and points r15 at each vCPU's own copy of the block,
 * whose range 0 is its slice; the workload below runs unchanged on every
 * vCPU from user_workload.  Heartbeats and records go through put_beat
 * and the UART lock in put_err.
 * Guest suspend (MT_P_SUSPEND) is in suspend.S.
 */
#include "migtest-abi.h"

/* x86 architectural constants (not part of the migtest ABI). */
#define X86_CR0_PE          0x1
#define X86_CR0_PG          0x80000000
#define X86_CR4_PAE         0x20
#define X86_MSR_EFER        0xc0000080
#define X86_EFER_LME        0x100
#define X86_RFLAGS_FIXED    0x2         /* bit 1 always reads as 1 */
#define X86_RFLAGS_IOPL3    0x3000
#define X86_RPL3            3
#define X86_PTE_P           0x1
#define X86_PTE_RW          0x2
#define X86_PTE_US          0x4         /* ring 3 may use it */
#define X86_PTE_PS          0x80        /* PD entry maps a 2 MiB page */
#define X86_PT_ENTRIES      512         /* entries per paging structure */
#define X86_PTE_SIZE        8
#define X86_LARGE_SHIFT     21          /* 2 MiB */
#define X86_GIB_SHIFT       30
#define X86_LOW_RAM_END     0xa0000     /* 640 KiB: VGA window above */
#define X86_4GIB            0x100000000 /* the reset vector is just below */
/* Flat 4 GiB descriptors.  The accessed bit is preset: the GDT is in ROM,
 * where the CPU's write to set it would be dropped (TCG) or trap (KVM). */
#define GDT_CODE32          0x00cf9b000000ffff
#define GDT_CODE64          0x00af9b000000ffff  /* L=1, D=0, DPL 0 */
#define GDT_DATA            0x00cf93000000ffff  /* DPL 0 */
#define GDT_UDATA           0x00cff3000000ffff  /* DPL 3 */
#define GDT_UCODE64         0x00affb000000ffff  /* L=1, D=0, DPL 3 */

#define PTE_TABLE           (X86_PTE_P + X86_PTE_RW + X86_PTE_US)
#define PTE_LARGE           (PTE_TABLE + X86_PTE_PS)
#define X86_PML4_SHIFT      39
#define ALIAS_PML4E         (MT_X86_ALIAS_BASE >> X86_PML4_SHIFT)
#define ROM_GIB             (MT_X86_ROM_BASE >> X86_GIB_SHIFT)
#define ROM_PDE             ((MT_X86_ROM_BASE >> X86_LARGE_SHIFT) & (X86_PT_ENTRIES - 1))
#define ROM_2M              (MT_X86_ROM_BASE & ~((1 << X86_LARGE_SHIFT) - 1))
/* The final map always covers the image (the code runs there). */
#define MIN_GIB             (ROM_GIB + 1)
#define USER_RFLAGS         (X86_RFLAGS_FIXED + X86_RFLAGS_IOPL3)  /* IF=0 */

#define TAIL_OFF            (MT_PAGE_SIZE - 8)  /* tail word of a page */
#define PAGE_WORDS          (MT_PAGE_SIZE / 8)
/* Canary values read at start-up (CS, SS, RFLAGS), written once, in the
 * three words at the top of the stack area; the stack starts below. */
#define CANARY_SAVED_cs     (MT_X86_STACK_TOP - 8)
#define CANARY_SAVED_ss     (MT_X86_STACK_TOP - 16)
#define CANARY_SAVED_RFLAGS (MT_X86_STACK_TOP - 24)
#define USER_STACK_TOP      (MT_X86_STACK_TOP - 32)
/* Zero-run state (see the register map), in the low quadword of: */
#define ZV_PREV_START       %xmm0       /* zero(p, g - 1): [start, end) */
#define ZV_PREV_END         %xmm1
#define ZV_CUR_START        %xmm2       /* zero(p, g) */
#define ZV_CUR_END          %xmm3
#define ZV_LO               %xmm4       /* union of both: lo, span */
#define ZV_SPAN             %xmm5
#define ZV_STRING           %xmm6       /* 1: rep stosq this pass */
#define ZV_SLOT0            %xmm7       /* GPA of slot 0 */
#define ZV_SLOTS            %xmm8       /* slot count (1 when off) */
#define ZV_RUN_BYTES        %xmm9       /* R * MT_PAGE_SIZE */
#define X86_CR4_OSFXSR      0x200       /* SSE instructions allowed */
/* Range 0's start in the parameter block: hot page 0. */
#define P_RANGE0_START      (MT_P_RANGES + MT_P_RANGE_START)
#define P_RANGE0_END        (MT_P_RANGES + MT_P_RANGE_END)
#define PAGE_MASK           (MT_PAGE_SIZE - 1)
#define NIBBLE_BITS         4                   /* bits per hex digit */
/* Offset of a label from the image start = its offset within CS in real
 * mode (CS base is MT_X86_ROM_BASE after reset). */
#define ROM_OFF(sym)        ((sym) - rom_start)

/* Consistency of the ABI constants (the header stays plain #defines). */
.if MT_X86_PARAM_GPA != MT_X86_ROM_BASE + MT_PARAM_OFFSET
.error "MT_X86_PARAM_GPA != MT_X86_ROM_BASE + MT_PARAM_OFFSET"
.endif
.if MT_X86_ROM_BASE + MT_X86_ROM_SIZE != X86_4GIB
.error "the image must end at 4 GiB"
.endif
.if MT_X86_BOOT_PDPT < MT_X86_PML4 + MT_PAGE_SIZE || MT_X86_BOOT_PD_LOW < MT_X86_BOOT_PDPT + MT_PAGE_SIZE || MT_X86_BOOT_PD_ROM < MT_X86_BOOT_PD_LOW + MT_PAGE_SIZE || MT_X86_PDPT < MT_X86_BOOT_PD_ROM + MT_PAGE_SIZE || MT_X86_PD_BASE != MT_X86_PDPT + MT_PAGE_SIZE
.error "page-table layout: PML4, boot PDPT/PDs, PDPT, PDs in that order"
.endif
.if (MT_X86_PML4 | MT_X86_BOOT_PDPT | MT_X86_BOOT_PD_LOW | MT_X86_BOOT_PD_ROM | MT_X86_PDPT) & (MT_PAGE_SIZE - 1)
.error "page tables must be page aligned"
.endif
.if MT_X86_ALIAS_BASE & ((1 << X86_PML4_SHIFT) - 1) || ALIAS_PML4E == 0 || ALIAS_PML4E >= X86_PT_ENTRIES / 2
.error "MT_X86_ALIAS_BASE must be a whole lower-half PML4 entry other than 0"
.endif
.if MT_X86_PT_MAX_GIB > X86_PT_ENTRIES
.error "one PDPT at most"
.endif
.if MT_X86_PT_END != MT_X86_PD_BASE + MT_X86_PT_MAX_GIB * MT_PAGE_SIZE
.error "MT_X86_PT_END does not match MT_X86_PT_MAX_GIB"
.endif
.if MT_X86_PT_END > MT_X86_STACK_TOP || MT_X86_STACK_TOP > X86_LOW_RAM_END
.error "page tables and stack must fit below 640 KiB, tables below stack"
.endif
.if MT_X86_RANGE_LIMIT != MT_X86_PT_MAX_GIB << X86_GIB_SHIFT
.error "MT_X86_RANGE_LIMIT must be MT_X86_PT_MAX_GIB GiB"
.endif
.if MT_X86_RANGE_MIN < X86_LOW_RAM_END
.error "ranges must not reach the payload's low RAM"
.endif
.if MIN_GIB > MT_X86_PT_MAX_GIB
.error "the final map must be able to cover the image"
.endif
.if MT_HEX_DIGITS * NIBBLE_BITS != 64
.error "hex field is not 64 bits"
.endif
.if MT_HOT_WORD_OFFSET & 7 || MT_HOT_WORD_OFFSET < 8 || MT_HOT_WORD_OFFSET > TAIL_OFF - 8
.error "the hot word must be an aligned word clear of head and tail"
.endif
.if MT_ZERO_PLAIN != 0 || MT_ZERO_STRING != 1
.error "ZV_STRING is computed as method == MT_ZERO_STRING (1) or alternate's parity"
.endif

/* ENTER_LONG_MODE target: from 32-bit protected mode with paging off
 * (the BSP at boot, every AP): PAE and OSFXSR (xmm, see ring 3) in CR4,
 * CR3 = the boot PML4, EFER.LME, paging on, then a far jump to \target
 * in the 64-bit code segment.  Clobbers eax, ecx, edx. */
.macro ENTER_LONG_MODE target
    movl %cr4, %eax
    orl $X86_CR4_PAE + X86_CR4_OSFXSR, %eax
    movl %eax, %cr4
    movl $MT_X86_PML4, %eax
    movl %eax, %cr3
    movl $X86_MSR_EFER, %ecx
    rdmsr
    orl $X86_EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $X86_CR0_PG, %eax
    movl %eax, %cr0
    ljmp $MT_X86_SEL_CODE64, $\target
.endm

/* ZERO_RUN gen, start, end: the pages of zero(p, gen) into the two
 * memory words: slot ((gen / E) - 1) mod S, or 0, 0 when zero runs are
 * off or gen < E.  Clobbers rax, rcx, rdx, rsi, rdi. */
.macro ZERO_RUN gen, start, end
    xorl %esi, %esi
    xorl %edi, %edi
    movl MT_P_ZERO_EVERY(%r15), %ecx
    testl %ecx, %ecx
    jz 1f
    movq \gen, %rax
    xorl %edx, %edx
    divq %rcx                           /* run number gen / E */
    testq %rax, %rax
    jz 1f
    decq %rax
    xorl %edx, %edx
    movq ZV_SLOTS, %rcx
    divq %rcx                           /* rdx = slot */
    movq %rdx, %rax
    movq ZV_RUN_BYTES, %rcx
    mulq %rcx
    movq ZV_SLOT0, %rsi
    addq %rax, %rsi
    movq %rsi, %rdi
    addq %rcx, %rdi
1:  movq %rsi, \start
    movq %rdi, \end
.endm

    /* payload.ld links the image at this absolute symbol. */
    .globl mt_x86_rom_base, mt_x86_rom_size
    .set mt_x86_rom_base, MT_X86_ROM_BASE
    .set mt_x86_rom_size, MT_X86_ROM_SIZE

    .text
rom_start:

/* ---- GDT: descriptors placed at their selector values ---------------- */
gdt:
    .quad 0
    .org gdt + MT_X86_SEL_CODE32
    .quad GDT_CODE32
    .org gdt + MT_X86_SEL_CODE64
    .quad GDT_CODE64
    .org gdt + MT_X86_SEL_DATA
    .quad GDT_DATA
    .org gdt + MT_X86_SEL_UDATA
    .quad GDT_UDATA
    .org gdt + MT_X86_SEL_UCODE64
    .quad GDT_UCODE64
gdt_end:
gdt_desc:                       /* lgdtl operand: limit, 32-bit linear base */
    .word gdt_end - gdt - 1
    .long gdt
idt_null:                       /* lidt operand in long mode: limit 0 */
    .word 0
    .quad 0

/* ---- Parameter block (default: one range, the default window) -------- */
    .org MT_PARAM_OFFSET
param_block:
    .org param_block + MT_P_MAGIC
    .quad MT_PARAM_MAGIC
    .org param_block + MT_P_VERSION
    .long MT_PARAM_VERSION
    .org param_block + MT_P_FLAGS
    .long 0
    .org param_block + MT_P_B_EVERY
    .long 1
    .org param_block + MT_P_NRANGES
    .long 1
    .org param_block + MT_P_HOT_PAGES
    .long 0
    .org param_block + MT_P_MMU_OFF_AFTER
    .long 0
    .org param_block + MT_P_RANGES + MT_P_RANGE_START
    .quad MT_X86_RAM_BASE + MT_DEFAULT_WINDOW_START
    .org param_block + MT_P_RANGES + MT_P_RANGE_END
    .quad MT_X86_RAM_BASE + MT_DEFAULT_WINDOW_END
    /* ranges 1 .. MT_MAX_RANGES - 1 stay zero (.org pads with zeros), and
     * so do the zero-run fields: zero runs off */
    .org param_block + MT_PARAM_SIZE
/* Several vCPUs: the block's trailer, then that code (smp.S). */
#include "smp.S"

/* ---- Phase 1: real mode ---------------------------------------------- */
    .code16
real_start:
    cli                         /* no interrupts, ever: there is no IDT */
    cld
    /* DS base is 0 but the GDT is in ROM: address it through CS, whose
     * base is the image start.  lgdtl: a 16-bit lgdt keeps only 24 bits
     * of the base, and ours is just below 4 GiB. */
    lgdtl %cs:ROM_OFF(gdt_desc)
    movl %cr0, %eax
    orl $X86_CR0_PE, %eax
    movl %eax, %cr0
    ljmpl $MT_X86_SEL_CODE32, $pm32

/* ---- Phase 2: 32-bit protected mode ---------------------------------- */
    .code32
pm32:
    movl $MT_X86_SEL_DATA, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss

    /* Boot map: the low 2 MiB and the image's 2 MiB, user accessible,
     * both at their identity address (PML4 entry 0) and at the alias
     * (PML4 entry ALIAS_PML4E, same PDPT).  Cleared first: RAM keeps its
     * contents across a guest reset.  (The movl stores leave each entry's
     * high half zero, as the clearing made it.) */
    movl $MT_X86_PML4, %edi
    movl $(MT_X86_BOOT_PD_ROM + MT_PAGE_SIZE - MT_X86_PML4) / 4, %ecx
    xorl %eax, %eax
    rep stosl
    movl $MT_X86_BOOT_PDPT + PTE_TABLE, MT_X86_PML4
    movl $MT_X86_BOOT_PDPT + PTE_TABLE, MT_X86_PML4 + ALIAS_PML4E * X86_PTE_SIZE
    movl $MT_X86_BOOT_PD_LOW + PTE_TABLE, MT_X86_BOOT_PDPT
    movl $MT_X86_BOOT_PD_ROM + PTE_TABLE, MT_X86_BOOT_PDPT + ROM_GIB * X86_PTE_SIZE
    movl $PTE_LARGE, MT_X86_BOOT_PD_LOW
    movl $ROM_2M + PTE_LARGE, MT_X86_BOOT_PD_ROM + ROM_PDE * X86_PTE_SIZE

    ENTER_LONG_MODE lm64

/* ---- Phase 3: 64-bit ring 0, identity addresses ---------------------- */
    .code64
lm64:
    movl $MT_X86_STACK_TOP, %esp        /* zero-extends into rsp */
    /* IDT limit 0: any exception becomes a triple fault (QEMU resets, or
     * exits with -no-reboot) rather than a jump through garbage. */
    lidt idt_null(%rip)
    movl $MT_X86_PARAM_GPA, %r15d       /* movl zero-extends (movq would
                                         * sign-extend the immediate) */
    call s3_boot_byte                   /* al: 'A', or 'R' after S3 (suspend.S) */
    cmpb $MT_SERIAL_START, %al
    je 1f
    call putc                           /* 'R': suspend runs one vCPU only */
    jmp 2f
1:  call smp_boot_start                 /* 'A' (with N > 1: later) */
2:

    /* -- validate the parameter block (see the header comment); here in
     * ring 0 because halting needs it -- */
    leaq MT_P_MAGIC(%r15), %rdi
    movabsq $MT_PARAM_MAGIC, %rsi
    movq (%rdi), %rdx
    cmpq %rsi, %rdx
    jne param_fail

    leaq MT_P_VERSION(%r15), %rdi
    movl $MT_PARAM_VERSION, %esi
    movl (%rdi), %edx
    cmpl %esi, %edx
    jne param_fail

    leaq MT_P_B_EVERY(%r15), %rdi       /* b_every divides g: >= 1 */
    movl $1, %esi
    movl (%rdi), %edx
    testl %edx, %edx
    jz param_fail

    leaq MT_P_NRANGES(%r15), %rdi
    movl $MT_MAX_RANGES, %esi
    movl (%rdi), %edx
    leal -1(%rdx), %eax                 /* 0 wraps to 0xffffffff */
    cmpl $MT_MAX_RANGES - 1, %eax
    ja param_fail

    /* ranges: page aligned, ascending, disjoint, inside the map */
    movl %edx, %ecx
    leaq MT_P_RANGES(%r15), %r8
    movl $MT_X86_RANGE_MIN, %eax        /* lowest allowed start */
1:  leaq MT_P_RANGE_START(%r8), %rdi
    movq (%rdi), %rdx
    movq %rdx, %rsi
    andq $~PAGE_MASK, %rsi
    cmpq %rsi, %rdx
    jne param_fail                      /* start not page aligned */
    movq %rax, %rsi
    cmpq %rax, %rdx
    jb param_fail                       /* start too low / overlaps */
    leaq MT_PAGE_SIZE(%rdx), %rax       /* smallest valid end */
    leaq MT_P_RANGE_END(%r8), %rdi
    movq (%rdi), %rdx
    movq %rdx, %rsi
    andq $~PAGE_MASK, %rsi
    cmpq %rsi, %rdx
    jne param_fail                      /* end not page aligned */
    movq %rax, %rsi
    cmpq %rax, %rdx
    jb param_fail                       /* empty or inverted range */
    movabsq $MT_X86_RANGE_LIMIT, %rsi
    cmpq %rsi, %rdx
    ja param_fail                       /* beyond what we can map */
    movq %rdx, %rax                     /* next start must be >= end */
    addq $MT_P_RANGE_SIZE, %r8
    decl %ecx
    jnz 1b
    call smp_check_params               /* vcpus (keeps rax) */

    /* hot_pages: at most MT_MAX_HOT_PAGES, and all inside range 0 (the
     * hot round walks range 0's first pages).  rax is still needed. */
    leaq MT_P_HOT_PAGES(%r15), %rdi
    movl $MT_MAX_HOT_PAGES, %esi
    movl (%rdi), %edx
    cmpl %esi, %edx
    ja param_fail
    call smp_slice0_pages               /* rsi = pages in range 0 (slice 0) */
    cmpq %rsi, %rdx
    ja param_fail

    /* zero runs: off (zero_every 0), or runs of at least MT_ZERO_MIN_PAGES,
     * a known method, and at least MT_ZERO_MIN_SLOTS slots in range 0
     * after the hot set.  rax (highest end) is kept in r8 across divq. */
    movl MT_P_ZERO_EVERY(%r15), %ecx
    testl %ecx, %ecx
    jz 5f
    leaq MT_P_ZERO_PAGES(%r15), %rdi
    movl $MT_ZERO_MIN_PAGES, %esi
    movl (%rdi), %edx
    cmpl %esi, %edx
    jb param_fail
    leaq MT_P_ZERO_METHOD(%r15), %rdi
    movl $MT_ZERO_METHOD_MAX, %esi
    movl (%rdi), %edx
    cmpl %esi, %edx
    ja param_fail
    movq %rax, %r8
    call smp_slice0_pages
    movq %rsi, %rax                     /* pages in range 0 (slice 0) */
    movl MT_P_HOT_PAGES(%r15), %ecx
    subq %rcx, %rax                     /* >= 0: checked above */
    movl MT_P_ZERO_PAGES(%r15), %ecx
    xorl %edx, %edx
    divq %rcx
    movq %rax, %rdx                     /* found: the slot count */
    movq %r8, %rax
    leaq MT_P_ZERO_PAGES(%r15), %rdi
    movl $MT_ZERO_MIN_SLOTS, %esi
    cmpq %rsi, %rdx
    jb param_fail
5:  leaq MT_P_FILL(%r15), %rdi
    movl $MT_FILL_MAX, %esi
    movl (%rdi), %edx
    cmpl %esi, %edx
    ja param_fail
    leaq MT_P_HOT_OP(%r15), %rdi
    movl $MT_HOT_OP_MAX, %esi
    movl (%rdi), %edx
    cmpl %esi, %edx
    ja param_fail
    leaq MT_P_CANARIES(%r15), %rdi
    movl $MT_CANARIES_MAX, %esi
    movl (%rdi), %edx
    cmpl %esi, %edx
    ja param_fail
    leaq MT_P_DEVPROBE(%r15), %rdi
    movl $MT_DEVPROBE_MAX, %esi
    movl (%rdi), %edx
    cmpl %esi, %edx
    ja param_fail

    /* rbx = GiB to map = max(MIN_GIB, ceil(last end / 1 GiB)); the ranges
     * ascend, so the last end (rax) is the highest. */
    addq $(1 << X86_GIB_SHIFT) - 1, %rax
    shrq $X86_GIB_SHIFT, %rax
    movl $MIN_GIB, %ebx
    cmpq %rbx, %rax
    cmovaq %rax, %rbx

    /* Move to the alias, drop the identity half of the boot map (so ring 3
     * can later fill PML4 entry 0 with a plain not-present -> present
     * store, which needs no TLB flush), and enter ring 3 there. */
    movabsq $MT_X86_ALIAS_BASE, %r14
    leaq 2f(%rip), %rax
    addq %r14, %rax
    jmp *%rax
2:  leaq MT_X86_STACK_TOP(%r14), %rsp   /* rip is an alias address now */
    leaq gdt(%rip), %rax                /* GDTR base -> alias too, as */
    pushq %rax                          /* the GDT's identity address is */
    pushw $gdt_end - gdt - 1            /* about to be unmapped (iretq */
    lgdt (%rsp)                         /* reads descriptors from it) */
    movq $0, MT_X86_PML4(%r14)
    movq %cr3, %rax
    movq %rax, %cr3                     /* flush the identity entries */
    leaq MT_X86_STACK_TOP(%r14), %rcx   /* iretq frame: ss, rsp, */
    movq %rcx, %rsp                     /* rflags, cs, rip */
    leaq user_alias(%rip), %rax
    pushq $MT_X86_SEL_UDATA + X86_RPL3
    pushq %rcx
    pushq $USER_RFLAGS
    pushq $MT_X86_SEL_UCODE64 + X86_RPL3
    pushq %rax
    iretq

param_fail:                             /* rdi, rsi, rdx as for put_err */
    call smp_fail_start                 /* the 'A' held back for N > 1 */
    call put_err
    cli
9:  hlt
    jmp 9b

/* ---- Phase 4: 64-bit ring 3 ------------------------------------------ */
user_alias:
    /* Still at alias addresses (r14 = MT_X86_ALIAS_BASE).  Build the final
     * identity map in pages no live map points to, so these are plain
     * stores (a store into a live page table traps under shadow paging),
     * then hook it into PML4 entry 0, which is not present. */
    leaq MT_X86_PDPT(%r14), %rdi        /* clear the PDPT */
    movl $MT_PAGE_SIZE / X86_PTE_SIZE, %ecx
    xorl %eax, %eax
    rep stosq
    xorl %ecx, %ecx                     /* PDPT[i] -> PD i, i < rbx */
    movl $MT_X86_PD_BASE + PTE_TABLE, %eax
3:  movq %rax, MT_X86_PDPT(%r14, %rcx, X86_PTE_SIZE)
    addq $MT_PAGE_SIZE, %rax
    incl %ecx
    cmpl %ebx, %ecx
    jb 3b
    /* The PDs are contiguous, so PD entry k maps the 2 MiB page at
     * k << 21: one run of rbx * 512 entries. */
    imull $X86_PT_ENTRIES, %ebx
    leaq MT_X86_PD_BASE(%r14), %rdi
    movl $PTE_LARGE, %eax
4:  stosq
    addq $1 << X86_LARGE_SHIFT, %rax
    decl %ebx
    jnz 4b
    movq $MT_X86_PDPT + PTE_TABLE, MT_X86_PML4(%r14)
    /* P 0 -> 1 needs no invalidation, but the SDM allows one spurious
     * #PF (fatal here: no IDT) if a page walk overtakes the store;
     * cpuid serializes, and ring 3 may use it. */
    cpuid
    /* Continue at the identity address of the next instruction. */
    leaq user_start(%rip), %rax
    subq %r14, %rax
    jmp *%rax
user_start:
    movl $USER_STACK_TOP, %esp
    call smp_start                      /* N > 1: APs up, r15 = block 0 */
user_workload:                          /* APs enter here (smp.S) */

    /* Zero-run constants: slot 0 = range 0 start + K pages; the slot
     * count (1 with zero runs off, so the per-pass divq is defined). */
    movl MT_P_HOT_PAGES(%r15), %eax
    shlq $MT_PAGE_SHIFT, %rax
    addq P_RANGE0_START(%r15), %rax
    movq %rax, ZV_SLOT0
    movl MT_P_ZERO_PAGES(%r15), %ecx
    shlq $MT_PAGE_SHIFT, %rcx
    movq %rcx, ZV_RUN_BYTES
    movl $1, %eax
    movq %rax, ZV_SLOTS
    movl MT_P_ZERO_EVERY(%r15), %eax
    testl %eax, %eax
    jz 1f
    movq ZV_SLOT0, %rdx
    movq P_RANGE0_END(%r15), %rax
    subq %rdx, %rax                     /* bytes after the hot set */
    xorl %edx, %edx
    divq %rcx                           /* validated: >= MT_ZERO_MIN_SLOTS */
    movq %rax, ZV_SLOTS
1:
    cmpl $0, MT_P_CANARIES(%r15)
    je 2f
    call canary_load
2:
    cmpl $0, MT_P_DEVPROBE(%r15)       /* device probes (devprobe.S) */
    je 3f
    call devprobe_program
3:

    /* -- the workload -- */
    movl $1, %r12d                      /* g = 1 */
    xorl %r13d, %r13d                   /* g - 1 = 0: pass 1 only writes */
    movabsq $MT_TAIL_MUL, %r9           /* 1 * MUL */
    xorl %r10d, %r10d                   /* 0 * MUL */
    xorl %r14d, %r14d                   /* h = 0 */
    call s3_resume                      /* after S3: g and h as saved */
pass:
    ZERO_RUN %r13, ZV_PREV_START, ZV_PREV_END
    ZERO_RUN %r12, ZV_CUR_START, ZV_CUR_END
    call zero_pass_setup
    leaq MT_P_RANGES(%r15), %r8
    movl MT_P_NRANGES(%r15), %r11d
range:
    movq MT_P_RANGE_START(%r8), %rbx
    movq MT_P_RANGE_END(%r8), %rbp
page:
    movq ZV_LO, %rcx                    /* in zero(p, g - 1) or zero(p, g)? */
    movq %rbx, %rax
    subq %rcx, %rax
    movq ZV_SPAN, %rcx
    cmpq %rcx, %rax
    jb zero_page
check_head:
    testq %r13, %r13
    jz write
    movq (%rbx), %rdx
    cmpq %r13, %rdx
    jne head_bad
check_fill:
    cmpl $MT_FILL_FULL, MT_P_FILL(%r15)
    jne check_tail
    call fill_check
check_tail:
    movq %rbx, %rsi
    xorq %r10, %rsi                     /* MT_TAIL(g - 1, p) */
    movq TAIL_OFF(%rbx), %rdx
    cmpq %rsi, %rdx
    jne tail_bad
write:
    movq ZV_LO, %rcx                    /* zero(p, g)? decided there */
    movq %rbx, %rax
    subq %rcx, %rax
    movq ZV_SPAN, %rcx
    cmpq %rcx, %rax
    jb zero_write
write_pattern:
    /* Middle (fill=full), tail, then head: with x86's ordered stores, a
     * page whose head reads g always has its tail already at MT_TAIL(g, p)
     * and its middle at MT_FILL(g, .) (the host's invariant checker
     * relies on this). */
    cmpl $MT_FILL_FULL, MT_P_FILL(%r15)
    jne 1f
    call fill_write
1:  movq %rbx, %rax
    xorq %r9, %rax                      /* MT_TAIL(g, p) */
    movq %rax, TAIL_OFF(%rbx)
    movq %r12, (%rbx)

hot_round:
    /* Hot round (migtest-abi.h, "Hot set"): h += 1, then each hot word
     * i = 0 .. K-1 in order is checked against h - 1 and set to h. */
    movl MT_P_HOT_PAGES(%r15), %ecx
    testl %ecx, %ecx
    jz next_page                        /* no hot set: h is not kept */
    incq %r14
    leaq -1(%r14), %rsi                 /* expected: h - 1 */
    movq P_RANGE0_START(%r15), %rdi
    addq $MT_HOT_WORD_OFFSET, %rdi      /* hot word 0 */
hot_word:
    testq %rsi, %rsi
    jz hot_store                        /* h == 1: nothing written yet */
    cmpl $MT_HOT_ATOMIC, MT_P_HOT_OP(%r15)
    je hot_atomic
    movq (%rdi), %rdx
    cmpq %rsi, %rdx
    jne hot_bad
hot_store:
    movq %r14, (%rdi)
hot_next:
    addq $MT_PAGE_SIZE, %rdi
    decl %ecx
    jnz hot_word

next_page:
    addq $MT_PAGE_SIZE, %rbx
    cmpq %rbp, %rbx
    jb page
    addq $MT_P_RANGE_SIZE, %r8
    decl %r11d
    jnz range

    /* CPU-state canaries (migtest-abi.h), checked before the 'B' */
    cmpl $0, MT_P_CANARIES(%r15)
    je 2f
    call canary_check
2:
    cmpl $0, MT_P_DEVPROBE(%r15)       /* device probes, also before 'B' */
    je 3f
    call devprobe_check
3:
    /* end of pass g: 'B' when g % b_every == 0 */
    movq %r12, %rax
    xorl %edx, %edx
    movl MT_P_B_EVERY(%r15), %ecx
    divq %rcx
    testq %rdx, %rdx
    jnz 1f
    call put_beat                       /* 'B' (vCPU i >= 1: its own) */
1:  movq %r12, %r13                     /* g - 1 := g */
    incq %r12                           /* g := g + 1 */
    movq %r9, %r10                      /* (g - 1) * MUL := g * MUL */
    movabsq $MT_TAIL_MUL, %rax
    addq %rax, %r9                      /* g * MUL += MUL (mod 2^64) */
    call s3_after_pass                  /* guest suspend (suspend.S) */
    jmp pass

head_bad:                               /* rdx = head found */
    movq %rbx, %rdi
    movq %r13, %rsi
    call put_err
    jmp check_fill
tail_bad:                               /* rdx = tail, rsi = expected */
    leaq TAIL_OFF(%rbx), %rdi
    call put_err
    jmp write                           /* the write repairs the page */
hot_bad:                                /* rdi = word, rsi = h - 1, rdx = found */
    pushq %rcx                          /* put_err clobbers the loop's */
    pushq %rdi                          /* registers: keep them on the */
    pushq %rsi                          /* stack */
    call put_err
    popq %rsi
    popq %rdi
    popq %rcx
    jmp hot_store                       /* the store repairs the word */

/* Atomic hot set (migtest-abi.h, "Atomic hot set"): even page number: lock
 * xadd of 1 (rdx = 1, then the old value); odd: lock cmpxchg h - 1 -> h
 * (rax = h - 1, then the value found).  A mismatch goes to hot_bad with
 * rdx = the value found, and its plain store repairs the word. */
hot_atomic:
    btq $MT_PAGE_SHIFT, %rdi
    jc 1f
    movl $1, %edx
    lock xaddq %rdx, (%rdi)
    cmpq %rsi, %rdx
    jne hot_bad
    jmp hot_next
1:  movq %rsi, %rax
    lock cmpxchgq %r14, (%rdi)
    je hot_next
    movq %rax, %rdx
    jmp hot_bad

/* ---- Whole-page fill (migtest-abi.h, "Whole-page fill") ---------------- */

/* hot_skip: rcx = the hot word of page rbx if it is a hot page (the first
 * K pages of range 0), else 0 (no word is at 0).  Clobbers rax. */
hot_skip:
    movl MT_P_HOT_PAGES(%r15), %ecx
    shlq $MT_PAGE_SHIFT, %rcx
    movq %rbx, %rax
    subq P_RANGE0_START(%r15), %rax     /* other ranges: above, so huge */
    cmpq %rcx, %rax
    leaq MT_HOT_WORD_OFFSET(%rbx), %rcx /* lea leaves the flags alone */
    jb 1f
    xorl %ecx, %ecx
1:  ret

/* fill_check: the middle words of page rbx against MT_FILL(g - 1, a) =
 * a ^ r10; one record for the first that differs (a tail call into
 * put_err).  rdi = word, rsi = expected, rdx = found, rcx = hot word to
 * skip, rax = tail address.  Clobbers rax, rcx, rdx, rsi, rdi. */
fill_check:
    call hot_skip
    leaq 8(%rbx), %rdi
    leaq TAIL_OFF(%rbx), %rax
1:  cmpq %rcx, %rdi
    je 2f
    movq %rdi, %rsi
    xorq %r10, %rsi
    movq (%rdi), %rdx
    cmpq %rsi, %rdx
    jne put_err
2:  addq $8, %rdi
    cmpq %rax, %rdi
    jb 1b
    ret

/* fill_write: the middle words of page rbx := MT_FILL(g, a) = a ^ r9, in
 * ascending order.  rdi = word, rdx = value, rcx = hot word to skip, rax
 * = tail address.  Clobbers rax, rcx, rdx, rdi. */
fill_write:
    call hot_skip
    leaq 8(%rbx), %rdi
    leaq TAIL_OFF(%rbx), %rax
1:  cmpq %rcx, %rdi
    je 2f
    movq %rdi, %rdx
    xorq %r9, %rdx
    movq %rdx, (%rdi)
2:  addq $8, %rdi
    cmpq %rax, %rdi
    jb 1b
    ret

/* ---- CPU-state canaries (migtest-abi.h) -------------------------------- */

/* rax = MT_CANARY(id).  Clobbers rdx. */
.macro CANARY_VALUE id
    movl $(\id), %eax
    movabsq $MT_TAIL_MUL, %rdx
    imulq %rdx, %rax
    movabsq $MT_CANARY_SEED, %rdx
    xorq %rdx, %rax
.endm

/* rdx (found) against rsi (expected); a record for register id if they
 * differ, and r11 = 1.  Clobbers rax, rcx, rdx, rsi, rdi. */
.macro CANARY_CMP id
    cmpq %rsi, %rdx
    je 1f
    movabsq $MT_REG_RECORD + (\id), %rdi
    call put_err
    movl $1, %r11d
1:
.endm

/* xmm n: both halves. */
.macro CANARY_XMM n
    CANARY_VALUE (MT_REG_VEC + 2 * \n)
    movq %rax, %rsi
    movq %xmm\n, %rdx
    CANARY_CMP (MT_REG_VEC + 2 * \n)
    CANARY_VALUE (MT_REG_VEC + 2 * \n + 1)
    movq %rax, %rsi
    subq $8, %rsp
    movhps %xmm\n, (%rsp)              /* the high half, with no spare xmm */
    popq %rdx
    CANARY_CMP (MT_REG_VEC + 2 * \n + 1)
.endm

/* A 16-bit control register stored by insn to memory, against value. */
.macro CANARY_STORE16 insn, id, value
    subq $16, %rsp
    \insn (%rsp)
    movzwl (%rsp), %edx
    addq $16, %rsp
    movl $(\value), %esi
    CANARY_CMP (MT_REG_SYS + \id)
.endm

/* A selector against its value at start-up (saved at address saved). */
.macro CANARY_SEL seg, id, saved
    movl %\seg, %edx
    movq \saved, %rsi
    CANARY_CMP (MT_REG_SYS + \id)
.endm

/* canary_load: xmm10..15 := MT_CANARY values, the x87 control word and
 * MXCSR := their canary values; CS, SS and RFLAGS saved as they are.
 * Clobbers rax, rcx, rdx. */
canary_load:
    .irp n, 10, 11, 12, 13, 14, 15
    CANARY_VALUE (MT_REG_VEC + 2 * \n + 1)
    pushq %rax
    CANARY_VALUE (MT_REG_VEC + 2 * \n)
    pushq %rax
    movdqu (%rsp), %xmm\n
    addq $16, %rsp
    .endr
    pushq $MT_SYS_X86_FCW_VALUE
    fldcw (%rsp)
    movl $MT_SYS_X86_MXCSR_VALUE, (%rsp)
    ldmxcsr (%rsp)
    popq %rax
    cmpb $MT_SERIAL_PASS, PV_BEAT(%r15) /* vCPU 0 (smp.S) saves what every */
    jne 1f                              /* vCPU's canaries compare with */
canary_save:                            /* (clobbers rax) */
    movl %cs, %eax                      /* as they are: see migtest-abi.h */
    movq %rax, CANARY_SAVED_cs
    movl %ss, %eax
    movq %rax, CANARY_SAVED_ss
    pushfq
    popq %rax
    andl $MT_SYS_X86_RFLAGS_MASK, %eax
    movq %rax, CANARY_SAVED_RFLAGS
1:  ret

/* canary_check: every canary against its value; a record for each that
 * changed, then all reloaded.  Clobbers rax, rcx, rdx, rsi, rdi, r11. */
canary_check:
    xorl %r11d, %r11d
    .irp n, 10, 11, 12, 13, 14, 15
    CANARY_XMM \n
    .endr
    CANARY_STORE16 fnstcw, MT_SYS_X86_FCW, MT_SYS_X86_FCW_VALUE
    subq $16, %rsp
    stmxcsr (%rsp)
    movl (%rsp), %edx
    addq $16, %rsp
    movl $MT_SYS_X86_MXCSR_VALUE, %esi
    CANARY_CMP (MT_REG_SYS + MT_SYS_X86_MXCSR)
    CANARY_SEL cs, MT_SYS_X86_CS, CANARY_SAVED_cs
    CANARY_SEL ss, MT_SYS_X86_SS, CANARY_SAVED_ss
    pushfq
    popq %rdx
    andl $MT_SYS_X86_RFLAGS_MASK, %edx
    movq CANARY_SAVED_RFLAGS, %rsi
    CANARY_CMP (MT_REG_SYS + MT_SYS_X86_RFLAGS)
    CANARY_STORE16 sidt, MT_SYS_X86_IDTR_LIMIT, 0
    smsw %dx
    movzwl %dx, %edx
    movl $MT_SYS_X86_MSW_VALUE, %esi
    CANARY_CMP (MT_REG_SYS + MT_SYS_X86_MSW)
    testl %r11d, %r11d
    jz 1f
    call canary_load
1:  ret

/* ---- Zero runs (migtest-abi.h, "Zero runs") --------------------------- */

/* zero_page: p (rbx) lies in zero(p, g - 1) or zero(p, g).  Page of
 * zero(p, g - 1): every word must be 0; else the ordinary head/tail check.
 * A zero page that stays zero (and checked clean) is not written again. */
zero_page:
    movq ZV_PREV_START, %rax
    cmpq %rax, %rbx
    jb check_head
    movq ZV_PREV_END, %rax
    cmpq %rax, %rbx
    jae check_head
    movq %rbx, %rdi                     /* a loop, not repe scasq: TCG */
    leaq MT_PAGE_SIZE(%rbx), %rcx       /* runs rep one element per step */
0:  movq (%rdi), %rdx
    testq %rdx, %rdx
    jnz 2f
    addq $8, %rdi
    cmpq %rcx, %rdi
    jb 0b
    jmp 1f
2:  xorl %esi, %esi                     /* rdi = the word, rdx = found */
    call put_err
    jmp write                           /* the write repairs the page */
1:  movq ZV_CUR_START, %rax             /* still zero in pass g? done */
    cmpq %rax, %rbx
    jb write_pattern
    movq ZV_CUR_END, %rax
    cmpq %rax, %rbx
    jb hot_round
    jmp write_pattern

/* zero_write: p (rbx) in the union, checked; zero it if in zero(p, g):
 * every word but the head (ascending), then the head. */
zero_write:
    movq ZV_CUR_START, %rax
    cmpq %rax, %rbx
    jb write_pattern
    movq ZV_CUR_END, %rax
    cmpq %rax, %rbx
    jae write_pattern
    leaq 8(%rbx), %rdi
    movl $PAGE_WORDS - 1, %ecx
    movq ZV_STRING, %rdx
    xorl %eax, %eax
    testq %rdx, %rdx
    jz 2f
    rep stosq
    jmp 3f
2:  movq %rax, (%rdi)                   /* plain: one store per word */
    addq $8, %rdi
    decl %ecx
    jnz 2b
3:  movq %rax, (%rbx)
    jmp hot_round

/* zero_pass_setup: ZV_LO/ZV_SPAN = the union of the two runs (both empty:
 * span 0, so no page matches), ZV_STRING for this pass.  Clobbers rax,
 * rcx, rdx, rsi, rdi. */
zero_pass_setup:
    movq ZV_CUR_START, %rax
    movq ZV_CUR_END, %rdx
    movq ZV_PREV_START, %rsi
    movq ZV_PREV_END, %rdi
    testq %rsi, %rsi
    jz 2f                               /* no previous run: the current */
    testq %rax, %rax
    jnz 1f
    movq %rsi, %rax                     /* no current run: the previous */
    movq %rdi, %rdx
    jmp 2f
1:  cmpq %rsi, %rax
    cmovaq %rsi, %rax                   /* lo = min of the starts */
    cmpq %rdi, %rdx
    cmovbq %rdi, %rdx                   /* hi = max of the ends */
2:  movq %rax, ZV_LO
    subq %rax, %rdx
    movq %rdx, ZV_SPAN
    /* string: method MT_ZERO_STRING, or alternate and run g / E even */
    movl MT_P_ZERO_METHOD(%r15), %eax
    cmpl $MT_ZERO_ALTERNATE, %eax
    jne 3f
    movl MT_P_ZERO_EVERY(%r15), %ecx
    xorl %eax, %eax
    testl %ecx, %ecx
    jz 3f
    movq %r12, %rax
    xorl %edx, %edx
    divq %rcx
    notl %eax
    andl $1, %eax                       /* even run: 1 */
3:  movq %rax, ZV_STRING
    ret

/* put_err: one error record "E<rdi> <rsi> <rdx>\n" (MT_ERR_LEN bytes).
 * Clobbers rax, rcx, rdx, rsi, rdi. */
put_err:
    call uart_lock                      /* several vCPUs: one at a time */
    pushq %rdx
    pushq %rsi
    movq %rdi, %rsi
    movb $MT_SERIAL_ERROR, %al
    call putc
    call puthex
    movb $' ', %al
    call putc
    popq %rsi
    call puthex
    movb $' ', %al
    call putc
    popq %rsi
    call puthex
    movb $'\n', %al
    call putc
    jmp uart_unlock

/* puthex: rsi as MT_HEX_DIGITS lowercase hex digits, most significant
 * first.  Clobbers rax, rcx, rdx, rsi. */
puthex:
    movl $MT_HEX_DIGITS, %ecx
1:  rolq $NIBBLE_BITS, %rsi             /* next digit into the low nibble */
    movl %esi, %eax
    andl $(1 << NIBBLE_BITS) - 1, %eax
    cmpb $10, %al
    jb 2f
    addb $'a' - '0' - 10, %al
2:  addb $'0', %al
    call putc
    decl %ecx
    jnz 1b
    ret

/* putc: send al on COM1.  Waits for THRE before the byte, so a slow
 * reader stalls the guest instead of losing output.  No UART init: QEMU's
 * 16550 transmits whatever the divisor and line settings, and IER resets
 * to 0 (we poll).  Ring 3 may do port I/O because IOPL is 3.
 * Clobbers rax (ah holds the byte), rdx. */
putc:
    movb %al, %ah
    movw $MT_X86_COM1 + MT_X86_UART_LSR, %dx
1:  inb %dx, %al
    testb $MT_X86_UART_LSR_THRE, %al
    jz 1b
    movb %ah, %al
    movw $MT_X86_COM1, %dx
    outb %al, %dx
    ret

#include "suspend.S"
#include "devprobe.S"

/* ---- Reset vector ---------------------------------------------------- */
    .org MT_X86_RESET_OFFSET
    .code16
    .globl reset_vector
reset_vector:
    /* data32: a rel32 jump.  real_start is ~64 KiB back, out of rel16
     * reach without relying on IP wrapping at 64 KiB. */
    data32 jmp real_start
    .org MT_X86_ROM_SIZE
