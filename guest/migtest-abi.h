/*
 * migtest guest ABI: the one place that names a guest address, a serial
 * protocol byte or a parameter-block offset.  Included by the assembly
 * payloads (guest/<arch>/*.S, through the C preprocessor) and by the host
 * C code, so it holds plain #defines only: no casts, no suffixes, no types.
 *
 * Serial protocol (guest -> host, nothing else is ever sent):
 *   'A'                 once, when the payload starts.
 *   'B'                 after every MT_P_B_EVERY-th completed pass.
 *   error record        MT_ERR_LEN bytes: 'E', then three fields of 16
 *                       lowercase hex digits separated by ' ', then '\n':
 *                         E<gpa> <expected> <found>\n
 *                       gpa is the guest physical address of the 64-bit
 *                       word that failed (a page's head or its tail), so a
 *                       page whose head and tail are both wrong yields two
 *                       records.  The guest repairs the page and runs on.
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
#define MT_PARAM_VERSION        1
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
#define MT_PARAM_SIZE           96      /* MT_P_RANGES + MT_MAX_RANGES * 16 */

/* Flags (none defined yet; payloads must ignore unknown bits). */

/* ---- x86_64 (qemu-system-x86_64 -M pc|q35) ---------------------------- */
#define MT_X86_RAM_BASE         0x0
#define MT_X86_COM1             0x3f8   /* 16550 UART, I/O port */
/* x86 section: the x86_64 payload adds its addresses here. */

/* ---- aarch64 (qemu-system-aarch64 -M virt) ---------------------------- */
#define MT_ARM_RAM_BASE         0x40000000
#define MT_ARM_UART             0x09000000  /* PL011 data register */
/* aarch64 section: the aarch64 payload adds its addresses here. */

#endif /* MIGTEST_ABI_H */
