/*
 * x86_64 payload: guest suspend to ACPI S3 and the resume from it
 * (migtest-abi.h, "Guest suspend").  #included by payload.S in its 64-bit
 * code; three entry points:
 *
 *   s3_boot_byte     ring 0, at start-up: al = 'A', or 'R' when this boot
 *                    is QEMU's wake-up from our S3 (CMOS shutdown status
 *                    MT_X86_CMOS_S3_RESUME and the saved magic both set);
 *                    it then clears the CMOS status and marks the saved
 *                    state for ring 3.  Clobbers rax, rdx.
 *   s3_resume        ring 3, before the first pass: if ring 0 marked a
 *                    resume, the sweep registers from the saved state
 *                    (r12 = g, r13 = g - 1, r9, r10, r14 = h) and the
 *                    saved state is cleared.  Clobbers rax, rdx.
 *   s3_after_pass    ring 3, at the end of a pass (after the registers
 *                    moved on to the next g): suspend if the pass just
 *                    finished (r13) is MT_P_SUSPEND.  Clobbers rax, rcx,
 *                    rdx, rsi, rdi.
 *
 * Ring 3 may do port I/O (IOPL 3) and reach low RAM at its identity
 * address (the final map is user-accessible), so only the CMOS read at
 * boot, which runs before ring 3 exists, is ring-0 code.
 */

#define PCI_CONFIG_ADDR     0xcf8
#define PCI_CONFIG_DATA     0xcfc
#define PCI_ENABLE          0x80000000
/* PCI config address of bus 0, device d, function f, register r. */
#define PCI_CFG(d, f, r)    (PCI_ENABLE | ((d) << 11) | ((f) << 8) | (r))
/* pc: PIIX4 PM, 00:01.3: PMBA at 0x40, PMREGMISC 0x80 bit 0 = I/O on. */
#define PIIX4_PM_PMBA       PCI_CFG(1, 3, 0x40)
#define PIIX4_PM_MISC       PCI_CFG(1, 3, 0x80)
#define PIIX4_PM_IO_ON      0x01
/* q35: ICH9 LPC, 00:1f.0: PMBASE at 0x40, ACPI_CNTL 0x44 bit 7 = ACPI_EN. */
#define ICH9_LPC_PMBASE     PCI_CFG(31, 0, 0x40)
#define ICH9_LPC_ACPI_CNTL  PCI_CFG(31, 0, 0x44)
#define ICH9_ACPI_EN        0x80
#define CMOS_INDEX          0x70
#define CMOS_DATA           0x71

.if MT_X86_S3_SAVE + MT_PAGE_SIZE > MT_X86_PML4 || MT_X86_S3_SAVE < 0x1000
.error "the S3 save area must lie below the page tables, above the real-mode IVT"
.endif
.if MT_X86_S3_SAVE_MAGIC < MT_X86_S3_SAVE || MT_X86_S3_SAVE_RESUMING + 8 > MT_X86_S3_SAVE + MT_PAGE_SIZE
.error "the S3 save words must lie in the save page"
.endif

/* al = the CMOS byte at index \index.  Clobbers dx. */
.macro CMOS_READ index
    movb $(\index), %al
    outb %al, $CMOS_INDEX
    inb $CMOS_DATA, %al
.endm

s3_boot_byte:
    CMOS_READ MT_X86_CMOS_SHUTDOWN
    cmpb $MT_X86_CMOS_S3_RESUME, %al
    jne 1f
    movabsq $MT_X86_S3_MAGIC, %rax
    cmpq %rax, MT_X86_S3_SAVE_MAGIC
    jne 1f
    CMOS_READ MT_X86_CMOS_SHUTDOWN      /* index again, then write 0 */
    xorl %eax, %eax
    outb %al, $CMOS_DATA
    movq $1, MT_X86_S3_SAVE_RESUMING
    movb $MT_SERIAL_RESUME, %al
    ret
1:  movq $0, MT_X86_S3_SAVE_MAGIC       /* a fresh boot: nothing to resume */
    movq $0, MT_X86_S3_SAVE_RESUMING
    movb $MT_SERIAL_START, %al
    ret

s3_resume:
    cmpq $0, MT_X86_S3_SAVE_RESUMING
    je 1f
    movq MT_X86_S3_SAVE_GEN, %r12       /* g: the pass after the suspend */
    leaq -1(%r12), %r13                 /* g - 1: what every page holds */
    movabsq $MT_TAIL_MUL, %rax
    movq %r12, %r9
    imulq %rax, %r9                     /* g * MUL */
    movq %r13, %r10
    imulq %rax, %r10                    /* (g - 1) * MUL */
    movq MT_X86_S3_SAVE_HOT, %r14       /* h */
    movq $0, MT_X86_S3_SAVE_MAGIC       /* resumed once: never again */
    movq $0, MT_X86_S3_SAVE_RESUMING
1:  ret

/* pci_cfg_write: the PCI config register at address eax (dword aligned
 * plus the byte offset in its low 2 bits) := ecx, as a dword when the
 * offset is 0, else as one byte.  Clobbers rax, rdx. */
pci_cfg_write:
    pushq %rax
    andl $~3, %eax
    movw $PCI_CONFIG_ADDR, %dx
    outl %eax, %dx
    popq %rax
    andl $3, %eax
    leal PCI_CONFIG_DATA(%eax), %edx
    testl %eax, %eax
    movl %ecx, %eax
    jnz 1f
    outl %eax, %dx
    ret
1:  outb %al, %dx
    ret

s3_after_pass:
    movl MT_P_SUSPEND(%r15), %eax
    testl %eax, %eax
    jz 9f
    cmpq %rax, %r13
    jne 9f
    /* Save the sweep: the next generation and h (g - 1, the tails'
     * multipliers follow from g). */
    movq %r12, MT_X86_S3_SAVE_GEN
    movq %r14, MT_X86_S3_SAVE_HOT
    movabsq $MT_X86_S3_MAGIC, %rax
    movq %rax, MT_X86_S3_SAVE_MAGIC
    movq $0, MT_X86_S3_SAVE_RESUMING
    movb $MT_SERIAL_SUSPEND, %al
    call putc
    /* The PM registers at MT_X86_PM_BASE, on whichever chipset this is. */
    movl $PIIX4_PM_PMBA, %eax
    movl $MT_X86_PM_BASE, %ecx
    call pci_cfg_write
    movl $PIIX4_PM_MISC, %eax
    movl $PIIX4_PM_IO_ON, %ecx
    call pci_cfg_write
    movl $ICH9_LPC_PMBASE, %eax
    movl $MT_X86_PM_BASE, %ecx
    call pci_cfg_write
    movl $ICH9_LPC_ACPI_CNTL, %eax
    movl $ICH9_ACPI_EN, %ecx
    call pci_cfg_write
    movw $MT_X86_PM_BASE + MT_X86_PM1_CNT, %dx
    movw $MT_X86_SLP_S3, %ax
    outw %ax, %dx
    /* QEMU stops the vCPU here (TCG may finish the translation block
     * first).  Still running after the spin: no suspend, or a resume
     * without the wake-up's reset.  Report it and go on as if woken. */
    movl $MT_X86_S3_SPIN, %ecx
1:  decl %ecx                           /* no pause: TCG leaves its loop */
    jnz 1b                              /* on every one, ~1 us each */
    movq $0, MT_X86_S3_SAVE_MAGIC
    movabsq $MT_S3_RECORD, %rdi
    xorl %esi, %esi
    movl $MT_X86_S3_SPIN, %edx
    call put_err
9:  ret
