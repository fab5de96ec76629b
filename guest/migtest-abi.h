/*
 * migtest guest ABI: the one place that names a guest address, a serial
 * protocol byte or a parameter-block offset.  Included by the assembly
 * payloads (guest/<arch>/payload.S, through the C preprocessor) and by the host
 * C code, so it holds plain #defines only: no casts, no suffixes, no types.
 *
 * Serial protocol (guest -> host, nothing else is ever sent):
 *   'A'                 once, when the payload starts.
 *   'B'                 after every MT_P_B_EVERY-th completed pass.
 *   'S'                 x86 guest suspend: just before the S3 request.
 *   'R'                 x86 guest suspend: instead of 'A', when the payload
 *                       starts again on the wake-up from S3.
 *   error record        MT_ERR_LEN bytes: 'E', then three fields of 16
 *                       lowercase hex digits separated by ' ', then '\n':
 *                         E<gpa> <expected> <found>\n
 *                       gpa is the guest physical address of the 64-bit
 *                       word that failed (a page's head or its tail, or a
 *                       hot word, see "Hot set"), so a page whose head and
 *                       tail are both wrong yields two records.  The guest
 *                       repairs the word and runs on.
 *
 * Memory pattern: a 64-bit generation counter g starts at 1.  Pass g visits
 * every page of every range in order (range 0 first, ascending addresses).
 * For a page at guest physical address p it first checks (when g > 1)
 *   head word  [p]                         == g - 1
 *   tail word  [p + MT_PAGE_SIZE - 8]      == MT_TAIL(g - 1, p)
 * then writes the tail with MT_TAIL(g, p) and after that the head with g.
 * Pass 1 only writes.  MT_TAIL mixes g with the page's own address, so a
 * stale page (old g), a zeroed page, a page carrying a neighbour's content
 * and a torn page (head and tail from different passes) all fail the check.
 *   MT_TAIL(g, p) = p XOR (g * MT_TAIL_MUL)       (mod 2^64)
 *
 * Hot set: real guests rewrite a few pages all the time, and dirty-tracking
 * bugs live there.  K = MT_P_HOT_PAGES (0 = no hot set; at most
 * MT_MAX_HOT_PAGES and at most the pages of range 0).  Hot page i
 * (0 <= i < K) is page i of range 0, i.e. the first K pages of the window;
 * its hot word is the 64-bit word at p_i + MT_HOT_WORD_OFFSET, clear of the
 * head (offset 0) and the tail (last 8 bytes), so hot pages stay ordinary
 * sweep pages too.  A 64-bit hot counter h starts at 0.  After every page
 * the sweep visits (after its head store) the guest does h = h + 1, then for
 * i = 0 .. K-1 in order: when h > 1 it checks
 *   hot word  [p_i + MT_HOT_WORD_OFFSET]   == h - 1
 * (a mismatch is an ordinary error record: gpa = the hot word's address,
 * expected = h - 1, found = the word; the guest carries on), then writes
 * the hot word with h.  With K = 0 nothing of this happens.
 * Snapshot invariant (taken with the vCPU stopped): hot words 0 .. K-1 read
 * h on [0, j) and h - 1 on [j, K) for a single j, 0 <= j <= K (all equal is
 * allowed); h - 1 may be 0 only if h = 1 (words the first round has not
 * reached yet still hold fresh RAM's zeros).  h counts the head stores
 * made so far, so it is tied to the sweep: if the heads read G on the first
 * k of the n pages in sweep order (all ranges) and G - 1 on the rest, then
 * h = (G - 1) * n + k (mod 2^64); both readings of an all-equal sweep
 * (G, k = n and G + 1, k = 0) give the same h.
 *
 * Zero runs (ABI version 2): pages that become all-zero again, the case
 * zero-page detection (multifd, compression) must get right.  E =
 * MT_P_ZERO_EVERY (0 = no zero runs), R = MT_P_ZERO_PAGES (at least
 * MT_ZERO_MIN_PAGES).  The pages of range 0 after the hot set are cut into
 * S = (pages of range 0 - K) / R slots of R pages: slot s is pages
 * K + s * R .. K + (s + 1) * R - 1 of range 0 (S >= 2 is required).
 * zero(p, g), "page p is all zero once pass g has visited it", holds for
 * the pages of slot ((g / E) - 1) mod S when g >= E, for no page
 * otherwise: pass E zeroes slot 0 (whose pages held pattern E - 1, never
 * zero), pass 2E writes slot 0 back to the pattern and zeroes slot 1, and
 * so on.  At its visit in pass g the sweep does, for page p:
 *   check  zero(p, g - 1): every word of the page is 0 (a non-zero word
 *          is an error record: gpa = the first such word, expected = 0,
 *          found = the word; one record per page); else head and tail as
 *          above.
 *   write  zero(p, g): every word of the page but the head is set to 0,
 *          then the head (so, as with tail-then-head, a page whose head
 *          reads 0 is zero throughout); skipped when zero(p, g - 1) held
 *          and the check passed (the page is zero already).  Else tail
 *          then head as above.
 * The hot round follows every visit as before, so h is unchanged.  How the
 * page is zeroed is MT_P_ZERO_METHOD: MT_ZERO_PLAIN (one 64-bit store per
 * word), MT_ZERO_STRING (x86: rep stosq; aarch64: dc zva, when DCZID_EL0
 * permits it and the MMU is on, else plain stores: dc zva faults on Device
 * memory), or MT_ZERO_ALTERNATE (odd runs g / E plain, even runs string).
 * Snapshot invariant: the page state above with G = H on [0, k) and
 * G = H - 1 on [k, n); an expected-zero page must be zero in every byte.
 * The page the guest is in the middle of (page k, going to generation H;
 * page 0 with k = n, going to H + 1) may already have the tail it is
 * going to get: 0 if it is being zeroed, MT_TAIL otherwise.
 *
 * Whole-page fill (ABI version 3): with MT_P_FILL = MT_FILL_FULL every
 * other word of a pattern page is a function of its own address a and g:
 *   middle word at a (offsets 8 .. MT_PAGE_SIZE - 16)  == MT_FILL(g, a)
 *   MT_FILL(g, a) = a XOR (g * MT_TAIL_MUL)       (mod 2^64)
 * except the hot word of a hot page (it belongs to the hot set).  The
 * guest writes the middle words in ascending order, then the tail, then
 * the head, and checks them between the head and the tail: one error
 * record for the first middle word that differs (gpa = that word,
 * expected = MT_FILL(g - 1, a), found = the word).  A snapshot can then
 * be checked in every word of every page: a page whose middle was lost,
 * torn or copied from elsewhere fails, which gives postcopy (no stopped
 * source to compare against) exact's strength on the window.  Page k, the
 * one the guest may be in the middle of, may hold the words it is going to
 * get in its middle and tail; its head is the old one.  With
 * MT_FILL_HEAD_TAIL (0) the middle words are not the guest's: nothing is
 * written or checked there.
 *
 * Atomic hot set (ABI version 4): with MT_P_HOT_OP = MT_HOT_ATOMIC the hot
 * round's check-and-store of hot word i (rounds h > 1; the first round
 * stays a plain store) is one atomic read-modify-write, so the writes
 * take TCG's atomic path rather than its plain-store path:
 *   hot page with an even page number (gpa >> MT_PAGE_SHIFT):
 *     x86 lock xadd of 1; aarch64 LSE ldadd of 1 (when ID_AA64ISAR0_EL1
 *     says LSE atomics exist, as with -cpu max; else as for odd pages);
 *   odd page number:
 *     x86 lock cmpxchg (h - 1 -> h); aarch64 an ldxr/stxr loop that
 *     stores h only over h - 1.
 * Either way the old value is checked against h - 1; a mismatch is the
 * usual error record, and a plain store of h repairs the word.  Memory
 * states, and so the snapshot invariant, are the same as with plain
 * stores.
 *
 * CPU-state canaries (ABI version 5): with MT_P_CANARIES = 1 the guest
 * loads registers its workload does not use with known values at start-up
 * and checks them at the end of every pass, before the 'B'.  A register
 * that changed is an error record whose gpa field names the register (at
 * or above MT_REG_RECORD, never guest RAM), expected = the value it was
 * given, found = its value now; the guest then reloads it and runs on.
 *   MT_REG_RECORD + MT_REG_VEC + 2 * n + half   SIMD register n (x86
 *       xmm n, aarch64 v n), half 0 = bits 0..63, 1 = bits 64..127;
 *       expected MT_CANARY(MT_REG_VEC + 2 * n + half)
 *   MT_REG_RECORD + MT_REG_SYS + MT_SYS_*       a control or system
 *       register the guest set (list below)
 *   MT_CANARY(i) = MT_CANARY_SEED XOR (i * MT_TAIL_MUL)    (mod 2^64)
 * No general-purpose register is free of the workload on either arch; one
 * that changes derails the sweep, which the memory checks then see.
 *
 * Several vCPUs (ABI version 6): N = MT_P_VCPUS; 0 or 1 is one vCPU, today's
 * behaviour unchanged; 2 .. MT_MAX_VCPUS run the workload on N vCPUs.
 * N > 1 needs nranges == 1, and range 0 of n pages is cut into N slices:
 *   slice i = pages [i * n / N, (i + 1) * n / N) of range 0 (integer
 *   division; every slice is non-empty, so N <= n).
 * vCPU i runs exactly the single-vCPU workload above with range 0 replaced
 * by slice i, with its own generation counter g (and hot counter h):
 *   vCPU 0     keeps the block's hot set, zero runs, fill, hot op,
 *              canaries and device probes, so the hot pages and the
 *              zero-run slots are counted in slice 0 and must fit there
 *              (hot_pages <= pages of slice 0; at least MT_ZERO_MIN_SLOTS
 *              slots after them);
 *   vCPU i>=1  hot_pages = 0, zero runs off and device probes off (the
 *              devices are vCPU 0's; the host refuses devprobe with N > 1
 *              anyway, the chipset's index ports being shared); the same
 *              fill, hot op and canaries.
 * Each slice is an independent single-vCPU window: the snapshot invariant
 * holds for each slice on its own (its own G, k and, for slice 0, h), and
 * the generations of two slices are unrelated.  An error record says
 * which word is wrong, not which vCPU found it (the gpa tells the slice).
 * Bad parameter blocks besides those above (gpa = the field's guest
 * physical address, expected = the bound, found = the value; then halt):
 *   N > MT_MAX_VCPUS:             gpa MT_P_VCPUS, expected MT_MAX_VCPUS;
 *   N > 1 with nranges != 1:      gpa MT_P_NRANGES, expected 1, found
 *                                 nranges;
 *   N > n (an empty slice):       gpa MT_P_VCPUS, expected n, found N;
 *   N > 1 on a payload variant that cannot run several vCPUs (aarch64
 *   mmu-off, mmu-off-dc-civac, mmu-off-late: exclusives, and so the
 *   UART lock, are not architecturally safe on Device memory):
 *                                 gpa MT_P_VCPUS, expected 1, found N;
 *   hot_pages > pages of slice 0: gpa MT_P_HOT_PAGES, expected those pages;
 *   too few zero-run slots in slice 0: as for one vCPU, counted in slice 0.
 * (Whether an 'A' comes before a bad block's record with N > 1 is the
 * payload's: aarch64 sends none, x86_64 sends it first as with one vCPU;
 * the host relies on neither.)
 * Serial with N > 1: vCPU 0 brings the others up (aarch64: PSCI CPU_ON;
 * x86_64: INIT-SIPI-SIPI), waits for each to set its "up" flag in low RAM
 * (a bounded wait, MT_SMP_UP_WAIT_MS), and only then sends the one 'A'.
 * A vCPU that does not come up is one error record, gpa = the MT_P_VCPUS
 * field's address, expected = N, found = the number of vCPUs up (vCPU 0
 * included), and the guest halts (no 'A').  vCPU 0's heartbeat stays 'B'
 * every b_every passes of its own; vCPU i >= 1 sends MT_SERIAL_VCPU_BEAT(i)
 * ('1' .. '7') every b_every passes of its own.  The UART is shared: a
 * spinlock in low RAM, outside every range, makes each beat byte and each
 * whole MT_ERR_LEN-byte error record atomic, so records never interleave.
 * The up flags, the lock and the per-vCPU stacks are in the per-arch
 * sections below (MT_X86_SMP_*, MT_ARM_SMP_*).  The host counts the beats
 * per vCPU: after a migration each of the N vCPUs must beat again on the
 * destination, and a beat from a vCPU index >= N is outside the protocol.
 *
 * Guest suspend (ABI version 6, x86 only): with MT_P_SUSPEND = N > 0 the
 * guest suspends itself to ACPI S3 once, at the end of pass N (after the
 * pass's 'B', if it gets one).  It saves what the sweep needs to go on
 * (MT_X86_S3_MAGIC, the next generation N + 1 and the hot counter h, at
 * MT_X86_S3_SAVE, low RAM outside every range), sends MT_SERIAL_SUSPEND,
 * maps the ACPI PM registers at MT_X86_PM_BASE on either chipset (pc:
 * PIIX4 PM 00:01.3, q35: ICH9 LPC 00:1f.0; the other one's config
 * writes go nowhere) and writes SLP_TYP = S3 | SLP_EN to PM1a_CNT.  QEMU
 * stops the vCPU (runstate "suspended"); system_wakeup resets the machine
 * with RAM kept, and the CMOS shutdown status (MT_X86_CMOS_SHUTDOWN) reads
 * MT_X86_CMOS_S3_RESUME.  The guest, back at the reset vector, sees both
 * the magic and the CMOS value, clears them, sends MT_SERIAL_RESUME
 * instead of 'A', rebuilds its page tables, ring 3 and canaries, and runs
 * pass N + 1, which checks every page against generation N: a page the
 * suspended migration lost is an ordinary error record.  If the vCPU is
 * still running MT_X86_S3_SPIN loop turns after the request (no suspend
 * happened, or it was resumed without the reset a wake-up is), the guest
 * sends one record: gpa = MT_S3_RECORD, expected = 0, found = the turns,
 * and goes on with pass N + 1 as if it had woken.  A fresh boot (CMOS not
 * MT_X86_CMOS_S3_RESUME) clears a stale magic.  Suspend needs one vCPU
 * (MT_P_VCPUS 0 or 1): the host refuses it with more, and so does the
 * payload (a bad block: gpa MT_P_SUSPEND, expected 0, found the field).
 */
#ifndef MIGTEST_ABI_H
#define MIGTEST_ABI_H

#define MT_PAGE_SIZE            4096
#define MT_PAGE_SHIFT           12
/* Odd 64-bit constant (2^64 / golden ratio): multiplication by it is a
 * bijection mod 2^64, so MT_TAIL is injective in g for a fixed page. */
#define MT_TAIL_MUL             0x9e3779b97f4a7c15

/* Serial protocol bytes and the error record's fixed length. */
#define MT_SERIAL_START         0x41    /* 'A' */
#define MT_SERIAL_PASS          0x42    /* 'B' */
#define MT_SERIAL_ERROR         0x45    /* 'E' */
/* Several vCPUs: vCPU i >= 1's heartbeat ('1' .. '7'); vCPU 0 sends 'B'. */
#define MT_SERIAL_VCPU_BEAT_BASE 0x30   /* '0' */
#define MT_SERIAL_VCPU_BEAT(i)  (MT_SERIAL_VCPU_BEAT_BASE + (i))
#define MT_SERIAL_SUSPEND       0x53    /* 'S': about to suspend (S3) */
#define MT_SERIAL_RESUME        0x52    /* 'R': instead of 'A' after S3 */
#define MT_HEX_DIGITS           16
#define MT_ERR_LEN              52      /* 'E' + 3 * 16 hex + 2 spaces + '\n' */

/* Default test window, as an offset from the architecture's RAM base, and
 * the default guest size: the seed's 1 MiB .. 100 MiB in a 150 MiB guest. */
#define MT_DEFAULT_WINDOW_START 0x100000
#define MT_DEFAULT_WINDOW_END   0x6400000
#define MT_DEFAULT_MEM_MIB      150

/*
 * Parameter block.  Every payload image carries one at byte offset
 * MT_PARAM_OFFSET of the image file; the host patches it before boot.
 * All fields are little-endian.
 */
#define MT_PARAM_OFFSET         0x100
#define MT_PARAM_MAGIC          0x314b4c42504d544d  /* "MTMPBLK1" read as LE u64 */
#define MT_PARAM_VERSION        6       /* 2: zero runs; 3: fill; 4: hot op;
                                         * 5: canaries; 6: vcpus, device
                                         * probes, suspend (fields below) */
#define MT_MAX_RANGES           4

#define MT_P_MAGIC              0       /* u64  MT_PARAM_MAGIC */
#define MT_P_VERSION            8       /* u32  MT_PARAM_VERSION */
#define MT_P_FLAGS              12      /* u32  MT_FLAG_* */
#define MT_P_B_EVERY            16      /* u32  passes between two 'B' (>= 1) */
#define MT_P_NRANGES            20      /* u32  ranges in use, 1..MT_MAX_RANGES */
#define MT_P_HOT_PAGES          24      /* u32  hot-set size; 0 = no hot set */
#define MT_P_MMU_OFF_AFTER      28      /* u32  aarch64 mmu-off-late: passes
                                         *      before the MMU is turned off */
#define MT_P_RANGES             32      /* MT_MAX_RANGES x { u64 start; u64 end; }
                                         * guest physical, page aligned, end
                                         * exclusive, ascending, disjoint */
#define MT_P_RANGE_START        0
#define MT_P_RANGE_END          8
#define MT_P_RANGE_SIZE         16
#define MT_P_ZERO_EVERY         96      /* u32  passes between zero runs; 0 = off */
#define MT_P_ZERO_PAGES         100     /* u32  pages in a zero run (R) */
#define MT_P_ZERO_METHOD        104     /* u32  MT_ZERO_* */
#define MT_P_FILL               108     /* u32  MT_FILL_* */
#define MT_P_HOT_OP             112     /* u32  MT_HOT_* */
#define MT_P_CANARIES           116     /* u32  0 off, 1 CPU-state canaries */
/* Version 6 reserves the next four fields at once, so that work on them
 * can land in any order; a payload that does not implement a field yet
 * ignores it, and the host only sets it for rows that need it. */
#define MT_P_VCPUS              120     /* u32  vCPUs running the workload:
                                         *      0 or 1 = one (vCPU 0 only) */
#define MT_P_DEVPROBE           124     /* u32  0 off; device-state probes */
#define MT_P_SUSPEND            128     /* u32  0 off; guest suspend (x86 S3):
                                         *      suspend once after pass N */
#define MT_P_SPARE              132     /* u32  0 (reserved) */
#define MT_PARAM_SIZE           136     /* MT_P_SPARE + 4 */
#define MT_MAX_VCPUS            8
/* Several vCPUs: how long vCPU 0 waits for the others to come up. */
#define MT_SMP_UP_WAIT_MS       10000

/* Flags (none defined yet; payloads must ignore unknown bits). */

/* Hot set (see "Hot set" above).  A hot_pages above MT_MAX_HOT_PAGES or
 * above the number of pages in range 0 is a bad parameter block: the
 * payload sends one error record, gpa = the MT_P_HOT_PAGES field's guest
 * physical address, expected = the bound it broke (MT_MAX_HOT_PAGES, or
 * range 0's page count), found = hot_pages; then it halts. */
#define MT_MAX_HOT_PAGES        1024
#define MT_HOT_WORD_OFFSET      2048    /* 8-aligned, not 0, not MT_PAGE_SIZE - 8 */

/* Zero runs (see "Zero runs" above).  A run shorter than
 * MT_ZERO_MIN_PAGES (the floor: large enough for a multifd
 * batch of zero pages), fewer than MT_ZERO_MIN_SLOTS slots (a run must be
 * written back before the same pages are zeroed again) or an unknown
 * method is a bad parameter block, reported like a bad hot_pages: gpa =
 * the field's address, expected = the bound, found = the field (for too
 * few slots: the MT_P_ZERO_PAGES field, expected = MT_ZERO_MIN_SLOTS,
 * found = the slot count). */
#define MT_ZERO_MIN_PAGES       128
#define MT_ZERO_MIN_SLOTS       2
#define MT_ZERO_PLAIN           0
#define MT_ZERO_STRING          1
#define MT_ZERO_ALTERNATE       2
#define MT_ZERO_METHOD_MAX      2

/* Fill (see "Whole-page fill" above).  A fill above MT_FILL_MAX is a bad
 * parameter block: gpa = the MT_P_FILL field, expected = MT_FILL_MAX,
 * found = the value. */
#define MT_FILL_HEAD_TAIL       0
#define MT_FILL_FULL            1
#define MT_FILL_MAX             1

/* Hot op (see "Atomic hot set" above).  Above MT_HOT_OP_MAX: a bad
 * parameter block, gpa = the MT_P_HOT_OP field, expected = MT_HOT_OP_MAX,
 * found = the value. */
#define MT_HOT_PLAIN            0
#define MT_HOT_ATOMIC           1
#define MT_HOT_OP_MAX           1

/* CPU-state canaries (see above).  MT_P_CANARIES above MT_CANARIES_MAX is
 * a bad parameter block (gpa = the field, expected = MT_CANARIES_MAX). */
#define MT_CANARIES_MAX         1
#define MT_CANARY_SEED          0x6d7463616e617279  /* "yranactm" */
#define MT_REG_RECORD           0xffff000000000000
#define MT_REG_VEC              0x100
#define MT_REG_SYS              0x200
/* Vector registers holding canaries: x86 xmm10..15 (xmm0..9 hold the
 * zero-run state), aarch64 v0..v31. */
#define MT_X86_CANARY_XMM_FIRST 10
#define MT_X86_CANARY_XMM_END   16
#define MT_ARM_CANARY_V_END     32
/* x86 control registers the guest set, read from ring 3 (UMIP is off):
 * x87 control word (round toward zero, all exceptions masked), MXCSR
 * (round toward zero, all masked), the IDTR limit (0: no IDT) and the
 * machine status word (CR0 bits 0..15: PE and ET) against these values;
 * CS, SS and the system bits of RFLAGS against what they read at
 * start-up (expected: the value then): a paravirtual KVM (kvm-pvm) runs
 * ring 3 with its host's selectors and flags (CS 0x33, SS 0x2b, IF set,
 * IOPL 0), not the ones the guest loaded. */
#define MT_SYS_X86_FCW          0
#define MT_SYS_X86_FCW_VALUE    0x0f7f
#define MT_SYS_X86_MXCSR        1
#define MT_SYS_X86_MXCSR_VALUE  0x7f80
#define MT_SYS_X86_CS           2
#define MT_SYS_X86_SS           3
#define MT_SYS_X86_RFLAGS       5       /* masked with MT_SYS_X86_RFLAGS_MASK */
#define MT_SYS_X86_RFLAGS_MASK  0x3602  /* IOPL, IF, DF, bit 1 */
#define MT_SYS_X86_IDTR_LIMIT   6
#define MT_SYS_X86_MSW          7
#define MT_SYS_X86_MSW_VALUE    0x0011
/* aarch64 system registers the guest set (EL1): the thread ID registers
 * and CONTEXTIDR_EL1 to MT_CANARY(MT_REG_SYS + MT_SYS_ARM_*) (CONTEXTIDR
 * keeps 32 bits), FPCR to round toward zero. */
#define MT_SYS_ARM_TPIDR_EL0    0x80
#define MT_SYS_ARM_TPIDRRO_EL0  0x81
#define MT_SYS_ARM_TPIDR_EL1    0x82
#define MT_SYS_ARM_CONTEXTIDR   0x83
#define MT_SYS_ARM_CONTEXTIDR_MASK 0xffffffff
#define MT_SYS_ARM_FPCR         0x84
#define MT_SYS_ARM_FPCR_VALUE   0xc00000    /* RMode = RZ */

/* Guest suspend (see "Guest suspend" above). */
#define MT_SUSPEND_OFF          0
/* Record gpa for "the vCPU kept running after its S3 request" (not RAM). */
#define MT_S3_RECORD            0xfffe000000000000
/*
 * Device-state probes (MT_P_DEVPROBE = 1; payloads guest/<arch>/devprobe.S;
 * the registers covered, and why, are listed in docs/payloads.md).  Before
 * its first pass the guest programs device and chipset registers it can
 * read back (values other than their reset values, so a destination that
 * resets one is caught), locking those the hardware lets it lock.  At the
 * end of every pass (after the canaries, before the 'B') it re-reads each
 * of them; a register that differs under its compare mask is an error
 * record
 *   gpa      = MT_DEV_RECORD | device << 16 | register   (MT_DEV_* below)
 *   expected = the value programmed & mask,  found = the value read & mask
 * A register whose lock is checked (register field | MT_DEV_LOCK) is first
 * written with value ^ mask: with the lock in force the write is ignored,
 * so a lock lost in the migration shows as found = value ^ mask.  After a
 * pass with a record the guest programs every register again and runs on.
 * The register field is: a port or CMOS index, a PCI config offset, an
 * MMIO offset from the device's base, an IOAPIC register index, a PIT
 * channel (status byte from the read-back command, mode bits only), or an
 * MT_DEV_ARM_TIMER_* id.  A probe whose device the machine lacks (no HPET,
 * another chipset) is skipped; the guest finds the chipset from the host
 * bridge's PCI ID.
 *
 * Test mailbox: a 64-bit word in low guest RAM (MT_X86_DEVPROBE_MAILBOX,
 * MT_ARM_DEVPROBE_MAILBOX) that only migtest's own tests write.  When it
 * reads MT_DEVPROBE_MAILBOX_MAGIC << 32 | i at the end of a pass, the guest
 * sets word 0, then writes value ^ mask to probe i (its index in the
 * payload's table, in the order of docs/payloads.md) just before the
 * re-read: a clobbered register, reported like one a migration lost.
 * Any other content is ignored.
 */
#define MT_DEVPROBE_MAX         1
#define MT_DEV_RECORD           0xffff000100000000  /* above MT_REG_RECORD's ids */
#define MT_DEV_LOCK             0x8000      /* register field: the lock held */
#define MT_DEVPROBE_MAILBOX_MAGIC 0x6d626f78 /* "xobm" */
/* Devices (the field at bits 16..31 of the record's gpa). */
#define MT_DEV_CMOS             0x01    /* MC146818 RTC + NVRAM, index ports */
#define MT_DEV_PIC              0x02    /* 8259 pair: IMR ports, ELCR ports */
#define MT_DEV_PIT              0x03    /* 8254: register = channel */
#define MT_DEV_IOAPIC           0x04    /* register = IOREGSEL index */
#define MT_DEV_HPET             0x05    /* register = MMIO offset */
#define MT_DEV_LAPIC            0x06    /* register = MMIO offset */
#define MT_DEV_I440FX           0x07    /* pc host bridge 00:00.0 config */
#define MT_DEV_PIIX3            0x08    /* pc ISA bridge 00:01.0 config */
#define MT_DEV_Q35_MCH          0x09    /* q35 host bridge 00:00.0 config */
#define MT_DEV_ICH9_LPC         0x0a    /* q35 LPC bridge 00:1f.0 config */
#define MT_DEV_GICD             0x21    /* register = MMIO offset */
#define MT_DEV_ARM_TIMER        0x22    /* register = MT_DEV_ARM_TIMER_* */
#define MT_DEV_PL031            0x23    /* register = MMIO offset */
#define MT_DEV_ARM_TIMER_CNTV_CVAL  0   /* CNTV_CVAL_EL0 */
#define MT_DEV_ARM_TIMER_CNTV_CTL   1   /* CNTV_CTL_EL0 (ISTATUS masked) */
#define MT_DEV_ARM_TIMER_CNTKCTL    2   /* CNTKCTL_EL1 */

/* ---- x86_64 (qemu-system-x86_64 -M pc|q35) ---------------------------- */
#define MT_X86_RAM_BASE         0x0
#define MT_X86_COM1             0x3f8   /* 16550 UART, I/O port */
/* x86 section: the x86_64 payload adds its addresses here. */
/* Device-state probes: fixed platform addresses (pc and q35). */
#define MT_X86_CMOS_INDEX       0x70    /* bit 7 of the index: NMI mask */
#define MT_X86_CMOS_DATA        0x71
#define MT_X86_PIC1_IMR         0x21    /* master 8259: OCW1 */
#define MT_X86_PIC2_IMR         0xa1    /* slave 8259: OCW1 */
#define MT_X86_ELCR1            0x4d0   /* edge/level control, IRQ 0-7 */
#define MT_X86_ELCR2            0x4d1   /* IRQ 8-15 */
#define MT_X86_PIT_CH0          0x40    /* channel n at MT_X86_PIT_CH0 + n */
#define MT_X86_PIT_MODE         0x43    /* control word / read-back */
#define MT_X86_PCI_ADDR         0xcf8   /* config mechanism #1 */
#define MT_X86_PCI_DATA         0xcfc
#define MT_X86_IOAPIC_BASE      0xfec00000  /* IOREGSEL; IOWIN at + 0x10 */
#define MT_X86_IOAPIC_WIN       0x10
#define MT_X86_HPET_BASE        0xfed00000
/* PCI IDs (vendor | device << 16, config dword 0) of the host bridges. */
#define MT_X86_PCI_ID_I440FX    0x12378086
#define MT_X86_PCI_ID_Q35_MCH   0x29c08086
/* Test mailbox (above): low RAM above the several-vCPU area
 * (MT_X86_SMP_END) and below 640 KiB.  The word after it is the set of
 * MT_X86_DP_* the guest found at start-up (probes of what is missing are
 * skipped); a lock counts only if it held when the guest first tried it
 * (QEMU 10's q35 ignores D_LCK with SMM off: docs/findings/019). */
#define MT_X86_DEVPROBE_MAILBOX 0x9f000
#define MT_X86_DEVPROBE_PRESENT 0x9f008
#define MT_X86_DP_I440FX        0x01    /* host bridge 8086:1237 (pc) */
#define MT_X86_DP_Q35           0x02    /* host bridge 8086:29c0 (q35) */
#define MT_X86_DP_HPET          0x04    /* HPET ID reads vendor 8086 */
#define MT_X86_DP_SMRAM_LOCK    0x08    /* q35 SMRAM.D_LCK held */
#define MT_X86_DP_SMI_LOCK      0x10    /* q35 GEN_PMCON_1.SMI_LOCK held */
/* Image: QEMU maps the -bios image (size a multiple of 64 KiB) so that it
 * ends at 4 GiB; the CPU starts in real mode at the reset vector. */
#define MT_X86_ROM_BASE         0xffff0000  /* GPA of image byte 0 */
#define MT_X86_ROM_SIZE         0x10000     /* 64 KiB image */
#define MT_X86_RESET_OFFSET     0xfff0      /* reset vector, image offset */
#define MT_X86_PARAM_GPA        0xffff0100  /* MT_X86_ROM_BASE + MT_PARAM_OFFSET */
/* A bad parameter block is reported as one error record whose gpa is the
 * GPA of the offending field (so it lies in MT_X86_PARAM_GPA ..
 * + MT_PARAM_SIZE - 1), expected = the value or bound required, found =
 * the field's value; then the payload halts. */
/* 16550 registers (offsets from MT_X86_COM1) polled before every byte. */
#define MT_X86_UART_LSR         5           /* line status register */
#define MT_X86_UART_LSR_THRE    0x20        /* transmit holding reg. empty */
/* GDT selectors (the GDT lives in the image). */
#define MT_X86_SEL_CODE32       0x08        /* boot only */
#define MT_X86_SEL_CODE64       0x10        /* ring 0 */
#define MT_X86_SEL_DATA         0x18        /* ring 0 */
#define MT_X86_SEL_UDATA        0x20        /* ring 3 (used with RPL 3) */
#define MT_X86_SEL_UCODE64      0x28        /* ring 3 (used with RPL 3) */
/* Low RAM used by the payload (all below 640 KiB, none in any range).
 * The workload runs in ring 3 (ring-0 code is emulated instruction by
 * instruction under some nested KVMs, e.g. kvm-pvm).  Ring 0 builds a boot
 * map (PML4 at MT_X86_PML4, boot PDPT, boot PDs mapping only the low 2 MiB
 * and the image's 2 MiB), and reaches ring 3 through an alias of those two
 * regions at MT_X86_ALIAS_BASE + GPA.  Ring 3 then builds the final
 * identity map with 2 MiB pages (PDPT at MT_X86_PDPT, one PD per GiB from
 * MT_X86_PD_BASE) covering 0 up to the highest range end rounded up to
 * 1 GiB, at least 4 GiB (the image sits just below 4 GiB), at most
 * MT_X86_PT_MAX_GIB GiB, and hooks it into PML4 entry 0. */
#define MT_X86_PML4             0x10000
#define MT_X86_BOOT_PDPT        0x11000
#define MT_X86_BOOT_PD_LOW      0x12000     /* maps GPA 0 .. 2 MiB */
#define MT_X86_BOOT_PD_ROM      0x13000     /* maps the image's 2 MiB */
#define MT_X86_PDPT             0x14000
#define MT_X86_PD_BASE          0x15000     /* PD for GiB i at + i * 4096 */
#define MT_X86_PT_MAX_GIB       64
#define MT_X86_PT_END           0x55000     /* PD_BASE + PT_MAX_GIB * 4096 */
#define MT_X86_ALIAS_BASE       0x8000000000 /* boot alias (PML4 entry 1) */
#define MT_X86_STACK_TOP        0x80000     /* stack grows down to PT_END */
/* Parameter limits the payload enforces on the ranges. */
#define MT_X86_RANGE_MIN        0x100000    /* lowest range start: 1 MiB */
#define MT_X86_RANGE_LIMIT      0x1000000000 /* highest range end: 64 GiB */
/* Several vCPUs (see "Several vCPUs"): low RAM above vCPU 0's stack, none
 * in any range.  The lock is a 64-bit word (0 free, 1 held) taken around
 * every beat byte and every error record; up flag i (a 64-bit word) is
 * set to 1 by vCPU i once it runs the workload (vCPU 0's stays 0); the
 * AP bring-up may use [MT_X86_SMP_DATA, MT_X86_SMP_STACKS) for its own
 * per-vCPU data (SIPI trampoline page, GDT/TSS copies, ...); vCPU i >= 1
 * has the 4 KiB stack below MT_X86_SMP_STACK_TOP(i). */
#define MT_X86_SMP_LOCK         0x80000
#define MT_X86_SMP_UP           0x80040     /* up flag i at + 8 * i */
#define MT_X86_SMP_DATA         0x81000
#define MT_X86_SMP_STACKS       0x90000
#define MT_X86_SMP_STACK_TOP(i) (MT_X86_SMP_STACKS + (i) * 0x1000)
#define MT_X86_SMP_END          0x98000     /* MT_X86_SMP_STACK_TOP(MT_MAX_VCPUS - 1) */
/* The x86_64 bring-up (guest/x86_64/smp.S) in [MT_X86_SMP_DATA,
 * MT_X86_SMP_STACKS): vCPU 0 starts the others with INIT, SIPI, SIPI
 * through the local APIC at its reset address; an AP starts in real mode
 * at the SIPI vector page (a copy of the image's trampoline), takes a
 * ticket (its index - 1), and waits for vCPU 0's go after the 'A'.
 * vCPU i's block is a copy of the parameter block with range 0 = slice i
 * (hot set and zero runs off for i >= 1), then its beat byte. */
#define MT_X86_APIC_BASE        0xfee00000  /* local APIC, reset default */
#define MT_X86_SMP_TRAMPOLINE   0x81000     /* SIPI vector 0x81 */
#define MT_X86_SMP_BLOCKS       0x82000     /* block i at + i * BLOCK_SIZE */
#define MT_X86_SMP_BLOCK_SIZE   0x100
#define MT_X86_SMP_TICKET       0x83000     /* u32: APs started so far */
#define MT_X86_SMP_GO           0x83040     /* u32: 1 after vCPU 0's 'A' */
/* Guest suspend (x86 S3): the saved sweep state, one page below the page
 * tables (the boot clears MT_X86_PML4 .. MT_X86_PT_END, not this). */
#define MT_X86_S3_SAVE          0x8000
#define MT_X86_S3_SAVE_MAGIC    0x8000      /* u64 MT_X86_S3_MAGIC while saved */
#define MT_X86_S3_SAVE_GEN      0x8008      /* u64 the generation to run next */
#define MT_X86_S3_SAVE_HOT      0x8010      /* u64 the hot counter h */
#define MT_X86_S3_SAVE_RESUMING 0x8018      /* u64 1: ring 0 saw the resume */
#define MT_X86_S3_MAGIC         0x444e505355534d54  /* "MTSUSPND" read as LE u64 */
/* ACPI PM I/O base the guest programs (QEMU's qtest uses it on q35), and
 * PM1a_CNT in it; SLP_TYP is bits 10..12 (QEMU: 1 = S3), SLP_EN bit 13. */
#define MT_X86_PM_BASE          0x600
#define MT_X86_PM1_CNT          4
#define MT_X86_SLP_S3           0x2400      /* SLP_EN | SLP_TYP 1 */
#define MT_X86_CMOS_SHUTDOWN    0x0f        /* CMOS shutdown status index */
#define MT_X86_CMOS_S3_RESUME   0xfe        /* QEMU's RTC sets it on suspend */
#define MT_X86_S3_SPIN          0x10000000  /* dec/jnz turns: 0.4 s KVM, 2.6 s TCG here */

/* ---- aarch64 (qemu-system-aarch64 -M virt) ---------------------------- */
#define MT_ARM_RAM_BASE         0x40000000
#define MT_ARM_UART             0x09000000  /* PL011 data register */
/* aarch64 section: the aarch64 payload adds its addresses here. */
/* Device-state probes (virt machine). */
#define MT_ARM_GICD             0x08000000  /* GIC distributor (v2 or v3) */
#define MT_ARM_PL031            0x09010000  /* PL031 RTC */
/* Test mailbox (above): the last page below the default window, past the
 * image (MT_ARM_IMAGE_MAX keeps the image below it). */
#define MT_ARM_DEVPROBE_MAILBOX 0x400ff000
/* A raw (non-ELF, no arm64 Image header) -kernel image is copied to, and
 * entered at, RAM base + 0x80000 (QEMU's load_aarch64_image default) at
 * EL1 with x0 = DTB address; the board's boot stub at MT_ARM_RAM_BASE gets
 * there first.  Image, page tables and all must end below the window start
 * (MT_ARM_RAM_BASE + MT_DEFAULT_WINDOW_START). */
#define MT_ARM_LOAD_OFFSET      0x80000
#define MT_ARM_LOAD_ADDR        (MT_ARM_RAM_BASE + MT_ARM_LOAD_OFFSET)
/* Largest image (incl. its zero-filled page-table area) below the window. */
#define MT_ARM_IMAGE_MAX        (MT_DEFAULT_WINDOW_START - MT_ARM_LOAD_OFFSET)
/* PL011 flag register (offset from MT_ARM_UART) and its TX FIFO full bit. */
#define MT_ARM_UART_FR          0x18
#define MT_ARM_UART_FR_TXFF     0x20    /* bit 5 */
/* mmu-on page tables: [0, MT_ARM_RAM_BASE) is mapped Device-nGnRE (flash,
 * GIC, UART, ...), RAM from MT_ARM_RAM_BASE Normal write-back up to the
 * highest range end rounded up to 1 GiB, but at least up to
 * MT_ARM_MAP_MIN_END (RAM base + 9 GiB) and never past MT_ARM_MAP_MAX_END
 * (2^39: 39-bit VA); range ends beyond that cannot be mapped. */
#define MT_ARM_MAP_MIN_END      0x280000000
#define MT_ARM_MAP_MAX_END      0x8000000000
/* Several vCPUs (see "Several vCPUs"): RAM between the image's end
 * (at most MT_ARM_SMP_BASE, which the linker script checks) and the
 * window, written by the payload even with one vCPU (its block copy).
 * Lock and up flags as on x86_64 (64-bit words; exclusives need Normal
 * memory, hence MMU on), except that vCPU 0 sets its own up flag, after
 * the 'A', as the "go": the secondaries start their workload only then.
 * vCPU i runs with a private copy of the parameter block at
 * MT_ARM_SMP_PARAMS(i) (MT_PARAM_SIZE bytes: the block with range 0
 * replaced by slice i, and hot set, zero runs and device probes off for
 * i >= 1), followed by its beat byte at + MT_ARM_SMP_BEAT_OFF, and its
 * stack below MT_ARM_SMP_STACK_TOP(i).  Secondaries are started with
 * PSCI CPU_ON (function MT_ARM_PSCI_CPU_ON, conduit hvc: QEMU's virt
 * machine without EL2/EL3, and KVM) at MPIDR i, context id i. */
#define MT_ARM_SMP_BASE         0x400c0000  /* MT_ARM_RAM_BASE + 0xc0000 */
#define MT_ARM_SMP_LOCK         MT_ARM_SMP_BASE
#define MT_ARM_SMP_UP           (MT_ARM_SMP_BASE + 0x40)   /* flag i at + 8 * i */
#define MT_ARM_SMP_PARAMS(i)    (MT_ARM_SMP_BASE + 0x1000 + (i) * 0x100)
#define MT_ARM_SMP_BEAT_OFF     MT_PARAM_SIZE
#define MT_ARM_SMP_STACKS       (MT_ARM_SMP_BASE + 0x2000)
#define MT_ARM_SMP_STACK_TOP(i) (MT_ARM_SMP_STACKS + ((i) + 1) * 0x1000)
#define MT_ARM_SMP_END          (MT_ARM_SMP_BASE + 0xa000)
#define MT_ARM_PSCI_CPU_ON      0xc4000003  /* SMC64/HVC64 CPU_ON */

#endif /* MIGTEST_ABI_H */
