/*
 * Device-state probes for the x86_64 payload (migtest-abi.h, "Device-state
 * probes"; the registers and why these ones: docs/payloads.md).  #included
 * by payload.S; runs in ring 3 (IOPL 3: port I/O allowed; the final
 * identity map covers the IOAPIC, HPET and local APIC pages below 4 GiB).
 *
 * The probes are a table, dp_table: one 32-byte entry per register,
 *   quad 0   kind (DP_*, | DP_LOCK) | need << 8 | record id << 32
 *            (record id = device << 16 | register, as in the E record)
 *   quad 1   address: port, CMOS index, PCI config address (bus/dev/fn/
 *            offset with the enable bit), MMIO address, IOAPIC register
 *            index or PIT channel
 *   quad 2   value programmed (PIT: control word | count << 8)
 *   quad 3   compare mask (bits that read back as written)
 * need: the DP_NEED_* bits the machine must have (0: every machine).
 *
 * Registers, in devprobe_program and devprobe_check:
 *   rbx  current entry; rbp  the table's end; r8  the present-device set
 *   (DP_NEED_* bits); r11  1 once a probe was wrong (program again)
 *   dp_write: rsi = entry, rax = value; dp_read: rsi = entry, rax = value
 *   read; both clobber rcx, rdx, rdi (and rax for dp_write).
 */

#define DP_IO8          1       /* out/in a byte at port addr */
#define DP_CMOS         2       /* CMOS index addr via 0x70/0x71 */
#define DP_PCI8         3       /* config byte/word/dword at addr */
#define DP_PCI16        4
#define DP_PCI32        5
#define DP_MMIO32       6       /* 32-bit load/store at addr */
#define DP_IOAPIC       7       /* IOREGSEL = addr, then IOWIN */
#define DP_PIT          8       /* channel addr: program, read-back status */
#define DP_LOCK         0x80    /* check: write value ^ mask first */
#define DP_KIND_MASK    0x7f

#define DP_NEED_I440FX  MT_X86_DP_I440FX
#define DP_NEED_Q35     MT_X86_DP_Q35
#define DP_NEED_HPET    MT_X86_DP_HPET
/* Locks count only if they held when first tried (migtest-abi.h), so a
 * lock probe checks a lock the machine has, which the migration must keep. */
#define DP_NEED_SMRAM_LOCK MT_X86_DP_SMRAM_LOCK
#define DP_NEED_SMI_LOCK   MT_X86_DP_SMI_LOCK
#define DP_NEED_LOCKS   (DP_NEED_SMRAM_LOCK | DP_NEED_SMI_LOCK)

#define DP_ENTRY_SIZE   32      /* dp_mailbox multiplies by shifting 5 */
#define DP_PRESENT      MT_X86_DEVPROBE_PRESENT
#define DP_PCI_ENABLE      0x80000000
#define DP_PCI_CFG(dev, fn, off) (DP_PCI_ENABLE | ((dev) << 11) | ((fn) << 8) | (off))
#define PIT_READBACK_STATUS 0xe0    /* read-back, status only (count not latched) */
#define HPET_VENDOR_INTEL   0x8086  /* bits 16..31 of the HPET ID register */

.if MT_X86_DEVPROBE_MAILBOX < MT_X86_SMP_END || MT_X86_DEVPROBE_MAILBOX + 16 > X86_LOW_RAM_END
.error "the device-probe mailbox must lie between the vCPU area and 640 KiB"
.endif

/* DP kind, need, device, register, addr, value, mask: one table entry. */
.macro DP kind, need, dev, reg, addr, value, mask
    .quad (\kind) | ((\need) << 8) | ((((\dev) << 16) | (\reg)) << 32)
    .quad \addr
    .quad \value
    .quad \mask
.endm

/* dp_pci_select: CF8 := the entry's config address (dword aligned), dx
 * := the data port for its byte offset.  rsi = entry; clobbers rax, rdx, rdi. */
dp_pci_select:
    movq 8(%rsi), %rdi
    movl %edi, %eax
    andl $~3, %eax
    movw $MT_X86_PCI_ADDR, %dx
    outl %eax, %dx
    andl $3, %edi
    leal MT_X86_PCI_DATA(%rdi), %edx
    ret

/* DP_KIND_DISPATCH: on the kind of the entry at rsi, on to the caller's
 * local label 1 (DP_IO8), 2 (DP_CMOS), 3 (DP_PCI8/16/32), 6 (DP_MMIO32)
 * or 7 (DP_IOAPIC); DP_PIT falls through.  dp_write and dp_read share
 * it, so a kind is routed the same way both ways.  Clobbers ecx. */
.macro DP_KIND_DISPATCH
    movzbl (%rsi), %ecx
    andl $DP_KIND_MASK, %ecx
    cmpl $DP_IO8, %ecx
    je 1f
    cmpl $DP_CMOS, %ecx
    je 2f
    cmpl $DP_PCI32, %ecx
    jbe 3f
    cmpl $DP_MMIO32, %ecx
    je 6f
    cmpl $DP_IOAPIC, %ecx
    je 7f
.endm

/* dp_write: the entry at rsi := rax.  Clobbers rax, rcx, rdx, rdi. */
dp_write:
    DP_KIND_DISPATCH
    /* DP_PIT: control word, then the count low, high byte */
    movq %rax, %rdi
    movw $MT_X86_PIT_MODE, %dx
    outb %al, %dx
    movl 8(%rsi), %edx
    addl $MT_X86_PIT_CH0, %edx
    shrq $8, %rax
    outb %al, %dx
    movb %ah, %al
    outb %al, %dx
    ret
1:  movl 8(%rsi), %edx
    outb %al, %dx
    ret
2:  movq %rax, %rdi
    movl 8(%rsi), %eax
    outb %al, $MT_X86_CMOS_INDEX
    movl %edi, %eax
    outb %al, $MT_X86_CMOS_DATA
    ret
3:  pushq %rax                          /* DP_PCI8 .. DP_PCI32 */
    call dp_pci_select
    popq %rax
    cmpl $DP_PCI16, %ecx
    jb 4f
    je 5f
    outl %eax, %dx
    ret
4:  outb %al, %dx
    ret
5:  outw %ax, %dx
    ret
6:  movq 8(%rsi), %rdi
    movl %eax, (%rdi)
    ret
7:  movl 8(%rsi), %ecx
    movl $MT_X86_IOAPIC_BASE, %edi
    movl %ecx, (%rdi)
    movl %eax, MT_X86_IOAPIC_WIN(%rdi)
    ret

/* dp_read: rax := the register of the entry at rsi.  Clobbers rcx, rdx,
 * rdi. */
dp_read:
    xorl %eax, %eax
    DP_KIND_DISPATCH
    /* DP_PIT: read-back command for this channel, then its status byte */
    movl 8(%rsi), %ecx
    movl $2, %eax
    shll %cl, %eax                      /* select bit: 2 << channel */
    orl $PIT_READBACK_STATUS, %eax
    movw $MT_X86_PIT_MODE, %dx
    outb %al, %dx
    leal MT_X86_PIT_CH0(%ecx), %edx
    xorl %eax, %eax
    inb %dx, %al
    ret
1:  movl 8(%rsi), %edx
    inb %dx, %al
    ret
2:  movl 8(%rsi), %eax
    outb %al, $MT_X86_CMOS_INDEX
    xorl %eax, %eax
    inb $MT_X86_CMOS_DATA, %al
    ret
3:  call dp_pci_select
    xorl %eax, %eax
    cmpl $DP_PCI16, %ecx
    jb 4f
    je 5f
    inl %dx, %eax
    ret
4:  inb %dx, %al
    ret
5:  inw %dx, %ax
    ret
6:  movq 8(%rsi), %rdi
    movl (%rdi), %eax
    ret
7:  movl 8(%rsi), %ecx
    movl $MT_X86_IOAPIC_BASE, %edi
    movl %ecx, (%rdi)
    movl MT_X86_IOAPIC_WIN(%rdi), %eax
    ret

/* dp_active: ZF clear (jnz taken) when the entry at rbx is for a device
 * the machine has (its need bits all in r8).  Clobbers rax. */
.macro DP_ACTIVE_OR skip
    movzbl 1(%rbx), %eax
    andl %r8d, %eax
    cmpb 1(%rbx), %al
    jne \skip
.endm

/* devprobe_program: find the devices (host bridge ID, HPET ID), program
 * every probe the machine has, try its locks (dp_lock_trial), and keep
 * the set of what is there at DP_PRESENT.  Clobbers rax, rcx, rdx, rsi,
 * rdi, rbx, rbp, r8. */
devprobe_program:
    xorl %r8d, %r8d
    movl $DP_PCI_CFG(0, 0, 0), %eax
    movw $MT_X86_PCI_ADDR, %dx
    outl %eax, %dx
    movw $MT_X86_PCI_DATA, %dx
    inl %dx, %eax
    movl $DP_NEED_I440FX, %ecx
    cmpl $MT_X86_PCI_ID_I440FX, %eax
    cmove %ecx, %r8d
    movl $DP_NEED_Q35 | DP_NEED_LOCKS, %ecx    /* locks: until tried */
    cmpl $MT_X86_PCI_ID_Q35_MCH, %eax
    cmove %ecx, %r8d
    movl $MT_X86_HPET_BASE, %edi
    movl (%rdi), %eax
    shrl $16, %eax
    cmpl $HPET_VENDOR_INTEL, %eax
    jne 1f
    orl $DP_NEED_HPET, %r8d
1:  call dp_program_all
    call dp_lock_trial
    movq %r8, DP_PRESENT
    ret

/* dp_program_all: every probe in the set r8 := its value, in table order
 * (order matters: ESMRAMC before the SMRAM lock, HPET timer config before
 * its 32-bit comparator).  Clobbers rax, rcx, rdx, rsi, rdi, rbx, rbp. */
dp_program_all:
    leaq dp_table(%rip), %rbx
    leaq dp_table_end(%rip), %rbp
2:  DP_ACTIVE_OR 3f
    movq %rbx, %rsi
    movq 16(%rbx), %rax
    call dp_write
3:  addq $DP_ENTRY_SIZE, %rbx
    cmpq %rbp, %rbx
    jb 2b
    ret

/* dp_lock_trial: each lock probe in the set r8 tries to change its
 * register; where the write takes, the machine has no such lock: its
 * DP_NEED_*_LOCK bit leaves r8 (and the probes needing it with it) and
 * the register gets its value back.  Clobbers rax, rcx, rdx, rsi, rdi,
 * rbx, rbp. */
dp_lock_trial:
    leaq dp_table(%rip), %rbx
    leaq dp_table_end(%rip), %rbp
1:  testb $DP_LOCK, (%rbx)
    jz 2f
    DP_ACTIVE_OR 2f
    movq %rbx, %rsi
    movq 16(%rbx), %rax
    xorq 24(%rbx), %rax
    call dp_write
    movq %rbx, %rsi
    call dp_read
    xorq 16(%rbx), %rax
    testq 24(%rbx), %rax                /* (read ^ value) & mask */
    jz 2f                               /* unchanged: the lock held */
    movzbl 1(%rbx), %eax
    andl $DP_NEED_LOCKS, %eax
    notl %eax
    andl %eax, %r8d
    movq %rbx, %rsi
    movq 16(%rbx), %rax
    call dp_write
2:  addq $DP_ENTRY_SIZE, %rbx
    cmpq %rbp, %rbx
    jb 1b
    ret

/* dp_mailbox: the test mailbox (migtest-abi.h): magic << 32 | i clobbers
 * probe i with value ^ mask, once.  Clobbers rax, rcx, rdx, rsi, rdi. */
dp_mailbox:
    movq MT_X86_DEVPROBE_MAILBOX, %rax
    movq %rax, %rcx
    shrq $32, %rcx
    cmpl $MT_DEVPROBE_MAILBOX_MAGIC, %ecx
    jne 1f
    movq $0, MT_X86_DEVPROBE_MAILBOX
    movzwl %ax, %eax
    cmpl $(dp_table_end - dp_table) / DP_ENTRY_SIZE, %eax
    jae 1f
    shll $5, %eax                       /* * DP_ENTRY_SIZE */
    leaq dp_table(%rip), %rsi
    addq %rax, %rsi
    movq 16(%rsi), %rax
    xorq 24(%rsi), %rax
    call dp_write
1:  ret

/* devprobe_check: every probe against its value (a record for each that
 * differs), then all programmed again if one did.  Clobbers rax, rcx,
 * rdx, rsi, rdi, rbx, rbp, r8, r11. */
devprobe_check:
    call dp_mailbox
    movq DP_PRESENT, %r8
    xorl %r11d, %r11d
    leaq dp_table(%rip), %rbx
    leaq dp_table_end(%rip), %rbp
1:  DP_ACTIVE_OR 3f
    movq %rbx, %rsi
    testb $DP_LOCK, (%rbx)
    jz 2f
    movq 16(%rbx), %rax                 /* try to change a locked one */
    xorq 24(%rbx), %rax
    call dp_write
    movq %rbx, %rsi
2:  call dp_read
    movq 24(%rbx), %rcx
    movq %rax, %rdx
    andq %rcx, %rdx                     /* found & mask */
    movq 16(%rbx), %rsi
    andq %rcx, %rsi                     /* expected: value & mask */
    cmpq %rsi, %rdx
    je 3f
    movl 4(%rbx), %edi
    movabsq $MT_DEV_RECORD, %rax
    orq %rax, %rdi
    call put_err
    movl $1, %r11d
3:  addq $DP_ENTRY_SIZE, %rbx
    cmpq %rbp, %rbx
    jb 1b
    testl %r11d, %r11d
    jz 4f
    call dp_program_all
4:  ret

/* The probes (values differ from the reset values; why these registers:
 * docs/payloads.md).  Keep the order of docs/payloads.md: the mailbox
 * names a probe by its index here. */
    .balign 8
dp_table:
/* 0-3: RTC alarm registers and register B (binary mode, 24 h; no
 * interrupt enabled), 4-11: CMOS NVRAM 0x38..0x3f */
DP DP_CMOS, 0, MT_DEV_CMOS, 0x01, 0x01, 0x2a, 0xff     /* seconds alarm */
DP DP_CMOS, 0, MT_DEV_CMOS, 0x03, 0x03, 0x17, 0xff     /* minutes alarm */
DP DP_CMOS, 0, MT_DEV_CMOS, 0x05, 0x05, 0x13, 0xff     /* hours alarm */
DP DP_CMOS, 0, MT_DEV_CMOS, 0x0b, 0x0b, 0x06, 0xff     /* register B: DM | 24/12 */
DP DP_CMOS, 0, MT_DEV_CMOS, 0x38, 0x38, 0xa5, 0xff
DP DP_CMOS, 0, MT_DEV_CMOS, 0x39, 0x39, 0x5a, 0xff
DP DP_CMOS, 0, MT_DEV_CMOS, 0x3a, 0x3a, 0xc3, 0xff
DP DP_CMOS, 0, MT_DEV_CMOS, 0x3b, 0x3b, 0x3c, 0xff
DP DP_CMOS, 0, MT_DEV_CMOS, 0x3c, 0x3c, 0x96, 0xff
DP DP_CMOS, 0, MT_DEV_CMOS, 0x3d, 0x3d, 0x69, 0xff
DP DP_CMOS, 0, MT_DEV_CMOS, 0x3e, 0x3e, 0xe1, 0xff
DP DP_CMOS, 0, MT_DEV_CMOS, 0x3f, 0x3f, 0x1e, 0xff
/* 12-15: 8259 interrupt masks (IF stays 0: nothing is delivered) and the
 * ELCR (only IRQs 3-7, 9-12, 14, 15 can be level triggered) */
DP DP_IO8, 0, MT_DEV_PIC, MT_X86_PIC1_IMR, MT_X86_PIC1_IMR, 0xe9, 0xff
DP DP_IO8, 0, MT_DEV_PIC, MT_X86_PIC2_IMR, MT_X86_PIC2_IMR, 0x5b, 0xff
DP DP_IO8, 0, MT_DEV_PIC, MT_X86_ELCR1, MT_X86_ELCR1, 0xa8, 0xf8
DP DP_IO8, 0, MT_DEV_PIC, MT_X86_ELCR2, MT_X86_ELCR2, 0x5c, 0xde
/* 16-17: PIT channels 1 and 2 (channel 0 is the system timer: left alone):
 * access lo/hi, mode 2 and mode 4; the read-back status' mode, access and
 * BCD bits (0x3f) are fixed, its OUT and NULL COUNT bits are not */
DP DP_PIT, 0, MT_DEV_PIT, 1, 1, 0x74 | 0x4321 << 8, 0x3f
DP DP_PIT, 0, MT_DEV_PIT, 2, 2, 0xb8 | 0x1234 << 8, 0x3f
/* 18-27: IOAPIC redirection entries of pins 16..23 (low halves: masked,
 * distinct vectors, mixed trigger, polarity and destination mode; delivery
 * status and remote IRR are read-only) and two high halves (destination) */
DP DP_IOAPIC, 0, MT_DEV_IOAPIC, 0x30, 0x30, 0x00010050, 0xffffafff
DP DP_IOAPIC, 0, MT_DEV_IOAPIC, 0x32, 0x32, 0x00018851, 0xffffafff
DP DP_IOAPIC, 0, MT_DEV_IOAPIC, 0x34, 0x34, 0x00012052, 0xffffafff
DP DP_IOAPIC, 0, MT_DEV_IOAPIC, 0x36, 0x36, 0x0001a853, 0xffffafff
DP DP_IOAPIC, 0, MT_DEV_IOAPIC, 0x38, 0x38, 0x00010854, 0xffffafff
DP DP_IOAPIC, 0, MT_DEV_IOAPIC, 0x3a, 0x3a, 0x00018055, 0xffffafff
DP DP_IOAPIC, 0, MT_DEV_IOAPIC, 0x3c, 0x3c, 0x00012856, 0xffffafff
DP DP_IOAPIC, 0, MT_DEV_IOAPIC, 0x3e, 0x3e, 0x0001a057, 0xffffafff
DP DP_IOAPIC, 0, MT_DEV_IOAPIC, 0x31, 0x31, 0x5a000000, 0xff000000
DP DP_IOAPIC, 0, MT_DEV_IOAPIC, 0x3f, 0x3f, 0xa5000000, 0xff000000
/* 28-36: local APIC: software enabled (spurious vector 0xef), TPR, logical
 * destination (cluster model), LVT timer / LINT0 / LINT1 / error all
 * masked with distinct vectors, timer divide by 128; the initial and
 * current counts are not touched (the timer never starts) */
DP DP_MMIO32, 0, MT_DEV_LAPIC, 0xf0, MT_X86_APIC_BASE + 0xf0, 0x1ef, 0x1ff
DP DP_MMIO32, 0, MT_DEV_LAPIC, 0x80, MT_X86_APIC_BASE + 0x80, 0x30, 0xff
DP DP_MMIO32, 0, MT_DEV_LAPIC, 0xd0, MT_X86_APIC_BASE + 0xd0, 0x5a000000, 0xff000000
DP DP_MMIO32, 0, MT_DEV_LAPIC, 0xe0, MT_X86_APIC_BASE + 0xe0, 0x0fffffff, 0xf0000000
DP DP_MMIO32, 0, MT_DEV_LAPIC, 0x320, MT_X86_APIC_BASE + 0x320, 0x000100e1, 0xffffafff
DP DP_MMIO32, 0, MT_DEV_LAPIC, 0x350, MT_X86_APIC_BASE + 0x350, 0x0001a032, 0xffffafff
DP DP_MMIO32, 0, MT_DEV_LAPIC, 0x360, MT_X86_APIC_BASE + 0x360, 0x00010033, 0xffffafff
DP DP_MMIO32, 0, MT_DEV_LAPIC, 0x370, MT_X86_APIC_BASE + 0x370, 0x00010034, 0xffffafff
DP DP_MMIO32, 0, MT_DEV_LAPIC, 0x3e0, MT_X86_APIC_BASE + 0x3e0, 0xa, 0xb
/* 37-43: HPET (main counter off): legacy replacement route on, timer 0
 * level triggered to IRQ 2 with a 64-bit comparator, timer 1 32-bit mode
 * to IRQ 11 with its comparator, timer 2 to IRQ 17; config compare mask:
 * the writable bits but Tn_VAL_SET (self clearing) */
DP DP_MMIO32, DP_NEED_HPET, MT_DEV_HPET, 0x010, MT_X86_HPET_BASE + 0x010, 0x2, 0x3
DP DP_MMIO32, DP_NEED_HPET, MT_DEV_HPET, 0x100, MT_X86_HPET_BASE + 0x100, 0x0402, 0x7f0e
DP DP_MMIO32, DP_NEED_HPET, MT_DEV_HPET, 0x108, MT_X86_HPET_BASE + 0x108, 0x5a5a1234, 0xffffffff
DP DP_MMIO32, DP_NEED_HPET, MT_DEV_HPET, 0x10c, MT_X86_HPET_BASE + 0x10c, 0x00c0ffee, 0xffffffff
DP DP_MMIO32, DP_NEED_HPET, MT_DEV_HPET, 0x120, MT_X86_HPET_BASE + 0x120, 0x1702, 0x7f0e
DP DP_MMIO32, DP_NEED_HPET, MT_DEV_HPET, 0x128, MT_X86_HPET_BASE + 0x128, 0x13572468, 0xffffffff
DP DP_MMIO32, DP_NEED_HPET, MT_DEV_HPET, 0x140, MT_X86_HPET_BASE + 0x140, 0x2200, 0x7f0e
/* 44-55, pc: i440FX PAM0..6 (0xf0000 and 0xc0000..0xeffff to RAM read and/or
 * write; the payload uses none of it), SMRAM (G_SMRAME; i440FX has no
 * lock), PIIX3 PIRQ A..D routed to IRQs 11, 10, 5, 7 */
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_I440FX, 0x59, DP_PCI_CFG(0, 0, 0x59), 0x10, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_I440FX, 0x5a, DP_PCI_CFG(0, 0, 0x5a), 0x11, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_I440FX, 0x5b, DP_PCI_CFG(0, 0, 0x5b), 0x22, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_I440FX, 0x5c, DP_PCI_CFG(0, 0, 0x5c), 0x33, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_I440FX, 0x5d, DP_PCI_CFG(0, 0, 0x5d), 0x12, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_I440FX, 0x5e, DP_PCI_CFG(0, 0, 0x5e), 0x21, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_I440FX, 0x5f, DP_PCI_CFG(0, 0, 0x5f), 0x13, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_I440FX, 0x72, DP_PCI_CFG(0, 0, 0x72), 0x0a, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_PIIX3, 0x60, DP_PCI_CFG(1, 0, 0x60), 0x0b, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_PIIX3, 0x61, DP_PCI_CFG(1, 0, 0x61), 0x0a, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_PIIX3, 0x62, DP_PCI_CFG(1, 0, 0x62), 0x05, 0xff
DP DP_PCI8, DP_NEED_I440FX, MT_DEV_PIIX3, 0x63, DP_PCI_CFG(1, 0, 0x63), 0x07, 0xff
/* 56-76, q35: MCH PAM0..6 as on pc; ESMRAMC (H_SMRAME, no TSEG: it would take
 * guest RAM) then SMRAM (G_SMRAME | D_LCK: locked until reset), and both
 * locks checked (SMRAM: every bit but D_CLS, which stays writable); ICH9
 * LPC PIRQ A..H routes, GEN_PMCON_1 with SMI_LOCK, and that lock */
DP DP_PCI8, DP_NEED_Q35, MT_DEV_Q35_MCH, 0x90, DP_PCI_CFG(0, 0, 0x90), 0x10, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_Q35_MCH, 0x91, DP_PCI_CFG(0, 0, 0x91), 0x11, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_Q35_MCH, 0x92, DP_PCI_CFG(0, 0, 0x92), 0x22, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_Q35_MCH, 0x93, DP_PCI_CFG(0, 0, 0x93), 0x33, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_Q35_MCH, 0x94, DP_PCI_CFG(0, 0, 0x94), 0x12, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_Q35_MCH, 0x95, DP_PCI_CFG(0, 0, 0x95), 0x21, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_Q35_MCH, 0x96, DP_PCI_CFG(0, 0, 0x96), 0x13, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_Q35_MCH, 0x9e, DP_PCI_CFG(0, 0, 0x9e), 0xb8, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_Q35_MCH, 0x9d, DP_PCI_CFG(0, 0, 0x9d), 0x1a, 0xff
DP DP_PCI8 | DP_LOCK, DP_NEED_Q35 | DP_NEED_SMRAM_LOCK, MT_DEV_Q35_MCH, 0x9d | MT_DEV_LOCK, DP_PCI_CFG(0, 0, 0x9d), 0x1a, 0xdf
DP DP_PCI8 | DP_LOCK, DP_NEED_Q35 | DP_NEED_SMRAM_LOCK, MT_DEV_Q35_MCH, 0x9e | MT_DEV_LOCK, DP_PCI_CFG(0, 0, 0x9e), 0xb8, 0x80
DP DP_PCI8, DP_NEED_Q35, MT_DEV_ICH9_LPC, 0x60, DP_PCI_CFG(31, 0, 0x60), 0x0b, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_ICH9_LPC, 0x61, DP_PCI_CFG(31, 0, 0x61), 0x0a, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_ICH9_LPC, 0x62, DP_PCI_CFG(31, 0, 0x62), 0x05, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_ICH9_LPC, 0x63, DP_PCI_CFG(31, 0, 0x63), 0x07, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_ICH9_LPC, 0x68, DP_PCI_CFG(31, 0, 0x68), 0x06, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_ICH9_LPC, 0x69, DP_PCI_CFG(31, 0, 0x69), 0x03, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_ICH9_LPC, 0x6a, DP_PCI_CFG(31, 0, 0x6a), 0x0e, 0xff
DP DP_PCI8, DP_NEED_Q35, MT_DEV_ICH9_LPC, 0x6b, DP_PCI_CFG(31, 0, 0x6b), 0x0f, 0xff
DP DP_PCI16, DP_NEED_Q35, MT_DEV_ICH9_LPC, 0xa0, DP_PCI_CFG(31, 0, 0xa0), 0x0a10, 0xffff
DP DP_PCI16 | DP_LOCK, DP_NEED_Q35 | DP_NEED_SMI_LOCK, MT_DEV_ICH9_LPC, 0xa0 | MT_DEV_LOCK, DP_PCI_CFG(31, 0, 0xa0), 0x0a10, 0x0010
dp_table_end:
