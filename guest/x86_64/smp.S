/*
 * smp.S: the x86_64 payload on several vCPUs (MT_P_VCPUS = N, 2 ..
 * MT_MAX_VCPUS).  #included by payload.S right after the parameter block,
 * so the image's own block gets the per-vCPU trailer below; the code here
 * runs from the image like the rest.
 *
 * Several vCPUs: range 0 (the only range: N > 1 needs nranges = 1) of n
 * pages is cut into N slices, slice i = pages [i * n / N, (i + 1) * n / N)
 * of range 0.  vCPU i runs the single-vCPU workload of payload.S on slice
 * i, with its own registers (so its own generation counter), from its own
 * per-vCPU block: a copy of the parameter block with range 0 = slice i,
 * followed by the trailer (heartbeat byte, shared-UART flag).  vCPU 0 (the
 * BSP) keeps the hot set and zero runs of the block (they must fit in
 * slice 0: the parameter check uses slice 0's size); vCPU i >= 1 runs with
 * hot_pages, zero_every and devprobe 0; all keep fill, hot op and canaries (the
 * CS, SS and RFLAGS the canaries compare against are saved by vCPU 0
 * alone, before the go: the APs' are the same).
 * r15 points at the running vCPU's block; with N <= 1 it stays at the
 * image's block, whose trailer says 'B' and "UART not shared", so one
 * vCPU behaves exactly as before.
 *
 * Start-up (BSP, ring 3, final identity map in place, from smp_start):
 * blocks built, trampoline copied to the SIPI vector page, the APIC
 * software-enabled, then INIT, SIPI, SIPI to all but itself.  Every AP
 * takes a ticket (lock xadd): index i = ticket + 1; i >= N parks in ring 0
 * (an -smp larger than N), else it goes real -> protected -> long mode with
 * the image's GDT and the PML4 the BSP finished, enters ring 3 on its own
 * stack, sets its up flag (MT_X86_SMP_UP + 8 * i) and waits for
 * MT_X86_SMP_GO.  The BSP waits for the N - 1 flags (bounded by the TSC:
 * MT_SMP_UP_WAIT_MS at up to 4 GHz, longer if slower), sends 'A', sets GO
 * and runs its own slice.  An AP that never comes: no 'A', one error
 * record (gpa = the MT_P_VCPUS field, expected = N, found = vCPUs up,
 * vCPU 0 included), then the BSP spins on pause for ever (ring 3 cannot
 * hlt).
 *
 * With N > 1 the usual 'A' of the ring-0 start is held back until the APs
 * are up; a bad parameter block sends it just before its record, as with
 * one vCPU (smp_boot_start, smp_fail_start).
 *
 * The UART is shared: with the trailer's flag set, the heartbeat byte and
 * every error record are sent under the spinlock MT_X86_SMP_LOCK, so
 * a record never interleaves with another vCPU's bytes.
 */

#define PV_BEAT             MT_PARAM_SIZE       /* u8: heartbeat byte */
#define PV_SHARED           (MT_PARAM_SIZE + 1) /* u8: 1 = lock the UART */
#define PV_SIZE             (MT_PARAM_SIZE + 2)
#define P_VCPUS_GPA         (MT_X86_PARAM_GPA + MT_P_VCPUS)
#define SIPI_VECTOR         (MT_X86_SMP_TRAMPOLINE >> MT_PAGE_SHIFT)
#define AP_STACK_SIZE       (MT_X86_SMP_STACK_TOP(1) - MT_X86_SMP_STACK_TOP(0))
#define UP_FLAG_SIZE        8
/* Local APIC registers (offsets from MT_X86_APIC_BASE) and ICR values. */
#define APIC_SVR            0xf0
#define APIC_SVR_ENABLE     0x100
#define APIC_SPURIOUS_VEC   0xff
#define APIC_ICR_LOW        0x300
#define APIC_ICR_HIGH       0x310
#define APIC_ICR_BUSY       0x1000      /* delivery status: send pending */
#define APIC_ALL_BUT_SELF   0xc0000     /* destination shorthand 11 */
#define APIC_LEVEL_ASSERT   0x4000
#define APIC_DM_INIT        0x500
#define APIC_DM_SIPI        0x600
#define ICR_INIT            (APIC_ALL_BUT_SELF + APIC_LEVEL_ASSERT + APIC_DM_INIT)
#define ICR_SIPI            (APIC_ALL_BUT_SELF + APIC_LEVEL_ASSERT + APIC_DM_SIPI + SIPI_VECTOR)
/* Waits, in TSC ticks (TCG and KVM both run the TSC at about the host's
 * 1-4 GHz): INIT to SIPI (10 ms architecturally), SIPI to SIPI (200 us),
 * and the APs' arrival (MT_SMP_UP_WAIT_MS at 4 GHz). */
#define TSC_INIT_DELAY      (1 << 25)
#define TSC_SIPI_DELAY      (1 << 20)
#define TSC_PER_MS_MAX      4000000
#define TSC_AP_DEADLINE     (MT_SMP_UP_WAIT_MS * TSC_PER_MS_MAX)
#define ICR_POLLS           (1 << 20)

.if MT_X86_SMP_LOCK < MT_X86_STACK_TOP || MT_X86_SMP_UP < MT_X86_SMP_LOCK + 8 || MT_X86_SMP_UP + MT_MAX_VCPUS * UP_FLAG_SIZE > MT_X86_SMP_DATA
.error "lock and up flags: above vCPU 0's stack, below the bring-up data"
.endif
.if MT_X86_SMP_TRAMPOLINE & PAGE_MASK || MT_X86_SMP_TRAMPOLINE < MT_X86_SMP_DATA || MT_X86_SMP_TRAMPOLINE >= X86_LOW_RAM_END
.error "the SIPI page: page aligned, in the bring-up data, below 640 KiB"
.endif
.if MT_X86_SMP_BLOCKS < MT_X86_SMP_TRAMPOLINE + MT_PAGE_SIZE || MT_X86_SMP_BLOCKS + MT_MAX_VCPUS * MT_X86_SMP_BLOCK_SIZE > MT_X86_SMP_TICKET
.error "per-vCPU blocks: after the SIPI page, before the ticket"
.endif
.if PV_SIZE > MT_X86_SMP_BLOCK_SIZE
.error "a per-vCPU block does not fit MT_X86_SMP_BLOCK_SIZE"
.endif
.if MT_X86_SMP_GO < MT_X86_SMP_TICKET + 4 || MT_X86_SMP_GO + 4 > MT_X86_SMP_STACKS
.error "ticket and go: in the bring-up data"
.endif
.if MT_X86_SMP_STACK_TOP(MT_MAX_VCPUS - 1) > MT_X86_SMP_END || MT_X86_SMP_END > X86_LOW_RAM_END
.error "AP stacks: below 640 KiB"
.endif
.if MT_SERIAL_VCPU_BEAT(MT_MAX_VCPUS - 1) >= MT_SERIAL_START
.error "per-vCPU heartbeat bytes must not collide with the protocol letters"
.endif

/* The image's block trailer (one vCPU): 'B', UART not shared. */
    .org param_block + PV_BEAT
    .byte MT_SERIAL_PASS
    .org param_block + PV_SHARED
    .byte 0
    .org param_block + PV_SIZE

/* ---- AP trampoline: copied to MT_X86_SMP_TRAMPOLINE, runs there -------- */
/* Real mode, CS base = the SIPI page, so CS-relative offsets are offsets
 * from smp_trampoline.  eax: scratch for CR0. */
    .code16
smp_trampoline:
    cli
    lgdtl %cs:(smp_tramp_gdt - smp_trampoline)
    movl %cr0, %eax
    orl $X86_CR0_PE, %eax
    movl %eax, %cr0
    ljmpl $MT_X86_SEL_CODE32, $ap_pm32  /* back into the image */
smp_tramp_gdt:                          /* lgdtl operand, as gdt_desc */
    .word gdt_end - gdt - 1
    .long gdt
smp_trampoline_end:

/* ---- AP: 32-bit protected mode, ring 0, paging off --------------------- */
/* eax, ecx, edx: scratch (CRn, rdmsr/wrmsr).  CR3 is the BSP's PML4, whose
 * entry 0 already holds the final identity map (it covers the image). */
    .code32
ap_pm32:
    movl $MT_X86_SEL_DATA, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    ENTER_LONG_MODE ap_lm64

/* ---- AP: 64-bit ring 0, identity addresses ----------------------------- */
/*   eax   ticket, then i = this AP's vCPU index
 *   rbx   i (kept into ring 3: its up flag)
 *   r15   the image's block, then vCPU i's block (kept into ring 3)
 *   rcx   i * block size, then the top of vCPU i's stack
 *   rax   scratch (ring-3 entry address) */
    .code64
ap_lm64:
    lidt idt_null(%rip)
    movl $MT_X86_PARAM_GPA, %r15d
    movl $1, %eax
    lock xaddl %eax, MT_X86_SMP_TICKET
    incl %eax
    cmpl MT_P_VCPUS(%r15), %eax
    jae ap_park                         /* more CPUs than N: not ours */
    movl %eax, %ebx
    movl %eax, %ecx
    imull $MT_X86_SMP_BLOCK_SIZE, %ecx
    leal MT_X86_SMP_BLOCKS(%rcx), %r15d
    movl %eax, %ecx
    imull $AP_STACK_SIZE, %ecx
    addl $MT_X86_SMP_STACK_TOP(0), %ecx
    movq %rcx, %rsp                     /* iretq frame: ss, rsp, rflags, */
    leaq ap_user(%rip), %rax            /* cs, rip; as the BSP's */
    pushq $MT_X86_SEL_UDATA + X86_RPL3
    pushq %rcx
    pushq $USER_RFLAGS
    pushq $MT_X86_SEL_UCODE64 + X86_RPL3
    pushq %rax
    iretq
ap_park:
    cli
1:  hlt
    jmp 1b

/* ---- AP: ring 3 -------------------------------------------------------- */
/* Up flag i (rbx = i) := 1, wait for vCPU 0's go (it comes after 'A';
 * vCPU 0's own wait is the bounded one: if it gives up it never says go,
 * and this vCPU spins here harmlessly), then the workload with r15 = this
 * vCPU's block.  rsp is the AP's stack (from iretq). */
ap_user:
    movq $1, MT_X86_SMP_UP(, %rbx, UP_FLAG_SIZE)
1:  pause
    cmpl $0, MT_X86_SMP_GO
    je 1b
    jmp user_workload

/* ---- BSP: ring 0 helpers for payload.S ------------------------------- */

/* smp_boot_start: the ring-0 'A', unless N > 1 (then smp_start sends it
 * once the APs are up).  r15 = the image's block.  Clobbers rax, rdx. */
smp_boot_start:
    cmpl $1, MT_P_VCPUS(%r15)
    ja 1f
    movb $MT_SERIAL_START, %al
    jmp putc
1:  ret

/* smp_fail_start: before a bad block's record, the 'A' that
 * smp_boot_start held back.  Keeps rdi, rsi, rdx (the record). */
smp_fail_start:
    cmpl $1, MT_P_VCPUS(%r15)
    jbe 1f
    pushq %rdx
    movb $MT_SERIAL_START, %al
    call putc
    popq %rdx
1:  ret

/* smp_check_params: vcpus at most MT_MAX_VCPUS; with N > 1, nranges 1
 * (gpa = the MT_P_NRANGES field, expected 1), no guest suspend (gpa = the
 * MT_P_SUSPEND field, expected 0: suspend.S saves one vCPU's sweep) and
 * at least one page per slice (gpa = the MT_P_VCPUS field, expected =
 * pages in range 0, found N).  Jumps to param_fail with rdi, rsi, rdx
 * set; keeps rax. */
smp_check_params:
    leaq MT_P_VCPUS(%r15), %rdi
    movl $MT_MAX_VCPUS, %esi
    movl (%rdi), %edx
    cmpl %esi, %edx
    ja param_fail
    cmpl $1, %edx
    jbe 1f
    leaq MT_P_NRANGES(%r15), %rdi
    movl $1, %esi
    movl (%rdi), %edx
    cmpl %esi, %edx
    jne param_fail
    leaq MT_P_SUSPEND(%r15), %rdi
    xorl %esi, %esi
    movl (%rdi), %edx
    testl %edx, %edx
    jnz param_fail
    leaq MT_P_VCPUS(%r15), %rdi
    movq P_RANGE0_END(%r15), %rsi
    subq P_RANGE0_START(%r15), %rsi
    shrq $MT_PAGE_SHIFT, %rsi
    movl (%rdi), %edx
    cmpq %rsi, %rdx
    ja param_fail
1:  ret

/* smp_slice0_pages: rsi = the pages of slice 0 (n / N; n with N <= 1),
 * where the hot set and the zero runs must fit.  Keeps everything else. */
smp_slice0_pages:
    pushq %rax
    pushq %rcx
    pushq %rdx
    movq P_RANGE0_END(%r15), %rax
    subq P_RANGE0_START(%r15), %rax
    shrq $MT_PAGE_SHIFT, %rax
    movl MT_P_VCPUS(%r15), %ecx
    cmpl $1, %ecx
    jbe 1f
    xorl %edx, %edx
    divq %rcx
1:  movq %rax, %rsi
    popq %rdx
    popq %rcx
    popq %rax
    ret

/* ---- BSP: ring 3 ------------------------------------------------------- */

/* smp_start: with N > 1, start the APs and make r15 vCPU 0's block; else
 * nothing.  Called from user_start (identity addresses, before the
 * workload's registers exist), so it may clobber all but r15 and rsp:
 *   r8    N;  r9 vCPUs up (counted after the wait);  r10 TSC deadline
 *   rdi   APIC base, copy destination;  rsi copy source
 *   rax, rcx, rdx   scratch (ICR values, rdtsc, rep movsb) */
smp_start:
    movl MT_P_VCPUS(%r15), %r8d
    cmpl $1, %r8d
    jbe 9f
    xorl %eax, %eax                     /* RAM survives a guest reset: */
    movq %rax, MT_X86_SMP_LOCK          /* clear the sync words */
    movl %eax, MT_X86_SMP_TICKET
    movl %eax, MT_X86_SMP_GO
    movl $MT_X86_SMP_UP, %edi
    movl $MT_MAX_VCPUS, %ecx
    rep stosq
    call smp_blocks
    leaq smp_trampoline(%rip), %rsi
    movl $MT_X86_SMP_TRAMPOLINE, %edi
    movl $smp_trampoline_end - smp_trampoline, %ecx
    rep movsb
    /* INIT, SIPI, SIPI to all but self; the APIC software-enabled first
     * (the reset state is disabled).  Ring 3 reaches the APIC through the
     * final map (user pages) and writes it like memory. */
    movl $MT_X86_APIC_BASE, %edi
    movl $APIC_SVR_ENABLE + APIC_SPURIOUS_VEC, APIC_SVR(%rdi)
    movl $0, APIC_ICR_HIGH(%rdi)
    movl $ICR_INIT, %eax
    movl $TSC_INIT_DELAY, %ecx
    call apic_send
    movl $ICR_SIPI, %eax
    movl $TSC_SIPI_DELAY, %ecx
    call apic_send
    movl $ICR_SIPI, %eax
    xorl %ecx, %ecx
    call apic_send
    /* wait for the up flags of vCPUs 1 .. N - 1, until the deadline */
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    movabsq $TSC_AP_DEADLINE, %r10
    addq %rax, %r10
1:  call smp_count_up
    cmpl %r8d, %r9d
    jae 2f
    pause
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    cmpq %r10, %rax
    jb 1b
    jmp smp_missing
2:  cmpl $0, MT_P_CANARIES(%r15)        /* what the APs' canaries compare */
    je 3f                               /* against, before they run */
    call canary_save
3:  movb $MT_SERIAL_START, %al
    call putc
    movl $1, MT_X86_SMP_GO
    movl $MT_X86_SMP_BLOCKS, %r15d      /* vCPU 0's block */
9:  ret

/* smp_count_up: r9 = vCPUs up (vCPU 0 and the up flags of 1 .. r8 - 1).
 * Clobbers rcx. */
smp_count_up:
    movl $1, %r9d
    movl $1, %ecx
1:  cmpq $0, MT_X86_SMP_UP(, %rcx, UP_FLAG_SIZE)
    je 2f
    incl %r9d
2:  incl %ecx
    cmpl %r8d, %ecx
    jb 1b
    ret

/* smp_missing: not all vCPUs came (r9 up of r8): the record, no 'A', then
 * nothing more. */
smp_missing:
    call smp_count_up
    movl $P_VCPUS_GPA, %edi
    movl %r8d, %esi
    movl %r9d, %edx
    call put_err
1:  pause
    jmp 1b

/* apic_send: eax to the ICR (low half; the high half is 0: shorthand),
 * wait (bounded) until the APIC took it, then rcx TSC ticks.  rdi = the
 * APIC base.  Clobbers rax, rcx, rdx, rsi. */
apic_send:
    movl %eax, APIC_ICR_LOW(%rdi)
    movl $ICR_POLLS, %esi
1:  testl $APIC_ICR_BUSY, APIC_ICR_LOW(%rdi)
    jz 2f
    pause
    decl %esi
    jnz 1b
2:  movq %rcx, %rsi
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    addq %rax, %rsi                     /* the end of the delay */
3:  rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    cmpq %rsi, %rax
    jae 4f
    pause
    jmp 3b
4:  ret

/* smp_blocks: vCPU i's block for i = 0 .. N - 1 (see the header).
 *   r8    N;  r9 n (pages in range 0);  r10 i;  r11 block i
 *   rax, rdx   i * n / N, then a slice bound;  rcx, rsi, rdi: rep movsb */
smp_blocks:
    movq P_RANGE0_END(%r15), %r9
    subq P_RANGE0_START(%r15), %r9
    shrq $MT_PAGE_SHIFT, %r9
    xorl %r10d, %r10d
1:  movl %r10d, %r11d
    imull $MT_X86_SMP_BLOCK_SIZE, %r11d
    addl $MT_X86_SMP_BLOCKS, %r11d
    movq %r15, %rsi
    movq %r11, %rdi
    movl $MT_PARAM_SIZE, %ecx
    rep movsb
    movq %r10, %rax                     /* slice start: i * n / N pages */
    call slice_bound
    movq %rax, P_RANGE0_START(%r11)
    leaq 1(%r10), %rax                  /* slice end: (i + 1) * n / N */
    call slice_bound
    movq %rax, P_RANGE0_END(%r11)
    movb $1, PV_SHARED(%r11)
    movb $MT_SERIAL_PASS, PV_BEAT(%r11)
    testl %r10d, %r10d
    jz 2f
    movl %r10d, %eax
    addl $MT_SERIAL_VCPU_BEAT(0), %eax
    movb %al, PV_BEAT(%r11)
    movl $0, MT_P_HOT_PAGES(%r11)
    movl $0, MT_P_ZERO_EVERY(%r11)
    movl $0, MT_P_DEVPROBE(%r11)        /* the devices are vCPU 0's */
2:  incl %r10d
    cmpl %r8d, %r10d
    jb 1b
    ret

/* slice_bound: rax = range 0 start + (rax * n / N) pages (r9 = n, r8 = N).
 * Clobbers rdx. */
slice_bound:
    mulq %r9
    divq %r8
    shlq $MT_PAGE_SHIFT, %rax
    addq P_RANGE0_START(%r15), %rax
    ret

/* ---- The shared UART --------------------------------------------------- */

/* put_beat: this vCPU's heartbeat byte.  Clobbers rax, rdx. */
put_beat:
    call uart_lock
    movb PV_BEAT(%r15), %al
    call putc
    jmp uart_unlock

/* uart_lock: take MT_X86_SMP_LOCK if this vCPU's block says the UART is
 * shared.  Unbounded like putc's own wait: the holder sends at most one
 * record, and only a stalled UART stalls it.  Clobbers rax. */
uart_lock:
    cmpb $0, PV_SHARED(%r15)
    je 2f
1:  movl $1, %eax
    xchgq %rax, MT_X86_SMP_LOCK
    testq %rax, %rax
    jz 2f
    pause
    jmp 1b
2:  ret

/* uart_unlock: release it (a plain store: x86 keeps stores in order). */
uart_unlock:
    cmpb $0, PV_SHARED(%r15)
    je 1f
    movq $0, MT_X86_SMP_LOCK
1:  ret
