/*
 * migtest `linux` payload: /init of an initramfs booted by a stock Debian
 * kernel.  A static, libc-light C program that runs the memory workload of
 * guest/migtest-abi.h on a user-space buffer and talks line by line on
 * /dev/console (the kernel's console= device: ttyS0 on x86_64, ttyAMA0 on
 * aarch64).  docs/linux-guest.md is the reference; the console protocol,
 * one line each, '\n'-terminated, fields separated by one space:
 *
 *   MTSTART v1 mem=<MiB> hot=<K> hb_ms=<ms> step=<pages> buf=<va> hotbuf=<va>
 *   MTMAP <va> <gpa> <pages>       VA->GPA runs of buf+hot (after MTSTART,
 *   MTMAPEND <runs> <pages>        and again after MTMAPCHG)
 *   MTMAPCHG <gen>                 the kernel moved a page: new map follows
 *   MTHB <seq> <gen> <hotgen> <ms> heartbeat, every hb_ms
 *   MTPASS <gen> <bad>             sweep pass <gen> completed; <bad> words
 *                                  failed their check during it (buf + hot)
 *   MTERR <va> <expected> <found> <gpa>   a word did not hold its pattern
 *                                  (at most migtest.maxerr lines a pass)
 *   MTFATAL <reason>               the payload cannot go on; it then idles
 *
 * <va>, <gpa>, <expected>, <found>: 16 lowercase hex digits, no 0x;
 * everything else decimal.
 *
 * Pattern (same rule as the assembly payloads, with the page's virtual
 * address in place of its physical one): generation g starts at 1; pass g
 * visits the buf pages in ascending order; for a page at virtual address p
 * it checks (g > 1) head [p] == g - 1 and tail [p + 4088] ==
 * MT_TAIL(g - 1, p), then writes tail = MT_TAIL(g, p), then head = g.
 * The hot set (K pages right after buf) follows the same rule with its
 * own generation h: one round over all K pages after every `step` buf
 * pages (and at the end of each pass).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "migtest-abi.h"

#define MT_TAIL(g, p)   ((uint64_t)(p) ^ ((uint64_t)(g) * (uint64_t)MT_TAIL_MUL))
#define TAIL_WORD       (MT_PAGE_SIZE / 8 - 1)
#define NO_GPA          UINT64_MAX

#define PM_PRESENT      (1ull << 63)
#define PM_PFN_MASK     ((1ull << 55) - 1)

/* Parameters (kernel command line, migtest.<name>=<decimal>). */
static struct {
    uint32_t mem;       /* MiB swept */
    uint32_t hot;       /* hot pages */
    uint32_t hb_ms;     /* heartbeat interval */
    uint32_t step;      /* buf pages between two hot rounds / clock reads */
    uint32_t map;       /* 1: MTMAP lines and per-pass map re-check */
    uint32_t maxerr;    /* MTERR lines per pass, at most */
} prm = { 64, 0, 10, 64, 1, 16 };

static int con = 1;                     /* console fd */
static int pagemap_fd = -1;
static volatile uint64_t *buf;          /* buf pages, then hot pages */
static uint64_t npages, nhot;
static uint64_t *map_pfn;               /* last MTMAP'ed PFN per page */

/* ---- output ------------------------------------------------------------ */

static char line[256];
static size_t len;

static void put_str(const char *s)
{
    while (*s && len < sizeof(line) - 1)
        line[len++] = *s++;
}

static void put_dec(uint64_t v)
{
    char t[24];
    int n = 0;

    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && len < sizeof(line) - 1)
        line[len++] = t[--n];
}

static void put_hex(uint64_t v)
{
    for (int i = MT_HEX_DIGITS - 1; i >= 0 && len < sizeof(line) - 1; i--)
        line[len++] = "0123456789abcdef"[(v >> (i * 4)) & 0xf];
}

/* End the line and write it in one write(2), so a line is never split by
 * another of ours (the tty may still interleave a kernel message). */
static void flush_line(void)
{
    size_t off = 0;

    line[len++] = '\n';
    while (off < len) {
        ssize_t n = write(con, line + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    len = 0;
}

/* Send the MTFATAL line being built and idle forever. */
static _Noreturn void fatal_line(void)
{
    if (errno) {
        put_str(" errno=");
        put_dec((uint64_t)errno);
    }
    flush_line();
    for (;;)            /* init must never exit: that would panic */
        pause();
}

static _Noreturn void fatal(const char *why, const char *what)
{
    len = 0;
    put_str("MTFATAL ");
    put_str(why);
    if (what) {
        put_str(" ");
        put_str(what);
    }
    fatal_line();
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- setup ------------------------------------------------------------- */

static void write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);

    if (fd >= 0) {
        if (write(fd, s, strlen(s)) < 0) {
            /* best effort: the knob may not exist on this kernel */
        }
        close(fd);
    }
}

static void setup_console(void)
{
    struct termios t;

    mkdir("/dev", 0755);
    mkdir("/proc", 0555);
    mkdir("/sys", 0555);
    /* The initramfs ships /dev/console; devtmpfs is only a fallback. */
    if (access("/dev/console", F_OK) != 0)
        mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    con = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (con < 0)
        con = 1;        /* what the kernel gave us, if anything */
    /* Raw output: '\n' stays '\n' (no ONLCR '\r'). */
    if (tcgetattr(con, &t) == 0) {
        t.c_oflag &= ~(tcflag_t)OPOST;
        tcsetattr(con, TCSANOW, &t);
    }
    errno = 0;
}

static void parse_cmdline(void)
{
    static char cmd[4096];
    static const struct { const char *key; uint32_t *val; uint32_t min, max; } keys[] = {
        { "migtest.mem=",   &prm.mem,   1, 1u << 20 },
        { "migtest.hot=",   &prm.hot,   0, 1u << 20 },
        { "migtest.hb_ms=", &prm.hb_ms, 1, 60000 },
        { "migtest.step=",  &prm.step,  1, 1u << 20 },
        { "migtest.map=",   &prm.map,   0, 1 },
        { "migtest.maxerr=", &prm.maxerr, 0, UINT32_MAX },
    };
    ssize_t n;
    int fd;
    char *tok, *save;

    if (mount("proc", "/proc", "proc", 0, NULL) != 0 && errno != EBUSY)
        fatal("mount", "/proc");
    fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fatal("open", "/proc/cmdline");
    n = read(fd, cmd, sizeof(cmd) - 1);
    close(fd);
    if (n < 0)
        fatal("read", "/proc/cmdline");
    cmd[n] = 0;
    errno = 0;

    for (tok = strtok_r(cmd, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
        size_t i;

        if (strncmp(tok, "migtest.", 8) != 0)
            continue;
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            size_t kl = strlen(keys[i].key);
            const char *v = tok + kl;
            uint64_t x = 0;

            if (strncmp(tok, keys[i].key, kl) != 0)
                continue;
            if (!*v)
                fatal("bad parameter", tok);
            for (; *v; v++) {
                if (*v < '0' || *v > '9' || x > UINT32_MAX)
                    fatal("bad parameter", tok);
                x = x * 10 + (uint64_t)(*v - '0');
            }
            if (x < keys[i].min || x > keys[i].max)
                fatal("parameter out of range", tok);
            *keys[i].val = (uint32_t)x;
            break;
        }
        if (i == sizeof(keys) / sizeof(keys[0]))
            fatal("unknown parameter", tok);
    }
}

static void setup_memory(void)
{
    struct sysinfo si;
    uint64_t bytes, avail;
    void *p;

    npages = (uint64_t)prm.mem << (20 - MT_PAGE_SHIFT);
    nhot = prm.hot;
    bytes = (npages + nhot) * MT_PAGE_SIZE;

    if (sysinfo(&si) != 0)
        fatal("sysinfo", NULL);
    avail = (uint64_t)si.freeram * si.mem_unit;
    /* Keep 32 MiB for the kernel: running out would OOM-kill init. */
    if (bytes + (32ull << 20) > avail) {
        put_str("MTFATAL not enough memory: need_mib=");
        put_dec((bytes >> 20) + 32);
        put_str(" free_mib=");
        put_dec(avail >> 20);
        put_str(" (migtest.mem + migtest.hot pages + 32 MiB reserve)");
        errno = 0;
        fatal_line();
    }

    /* Keep the kernel from moving our pages, so the VA->GPA map holds:
     * fault the buffer in as transparent huge pages where it can (fewer
     * map runs), then stop khugepaged (THP "never") and the compaction of
     * mlocked pages.  All best effort. */
    if (mount("sysfs", "/sys", "sysfs", 0, NULL) != 0)
        errno = 0;
    write_file("/proc/sys/vm/compact_unevictable_allowed", "0");
    /* The kernel turns THP off on guests under 512 MiB: on, for our
     * madvise'd buffer only, until it is faulted in. */
    write_file("/sys/kernel/mm/transparent_hugepage/enabled", "madvise");
    write_file("/sys/kernel/mm/transparent_hugepage/defrag", "madvise");

    /* 2 MiB-aligned so THP can back it. */
    p = mmap(NULL, bytes + (2u << 20), PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        fatal("mmap", NULL);
    p = (void *)(((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1));
    madvise(p, bytes, MADV_HUGEPAGE);
    if (mlock(p, bytes) != 0)           /* faults every page in */
        fatal("mlock", NULL);
    write_file("/sys/kernel/mm/transparent_hugepage/enabled", "never");
    buf = p;
    errno = 0;
}

/* ---- VA -> GPA map ------------------------------------------------------ */

static uint64_t page_va(uint64_t i)
{
    return (uint64_t)(uintptr_t)buf + i * MT_PAGE_SIZE;
}

/* out[i] = PFN of page i of buf+hot, 0 where not present. */
static int read_pfns(uint64_t *out)
{
    uint64_t total = npages + nhot, done = 0;
    uint64_t first = page_va(0) / MT_PAGE_SIZE;

    if (pagemap_fd < 0)
        return -1;
    while (done < total) {
        ssize_t n = pread(pagemap_fd, out + done, (total - done) * 8,
                          (off_t)((first + done) * 8));
        if (n <= 0)
            return -1;
        done += (uint64_t)n / 8;
    }
    for (uint64_t i = 0; i < total; i++)
        out[i] = (out[i] & PM_PRESENT) ? (out[i] & PM_PFN_MASK) : 0;
    return 0;
}

static uint64_t gpa_of(uint64_t va)
{
    uint64_t e;

    if (pagemap_fd < 0 ||
        pread(pagemap_fd, &e, 8, (off_t)(va / MT_PAGE_SIZE * 8)) != 8 ||
        !(e & PM_PRESENT) || !(e & PM_PFN_MASK))
        return NO_GPA;
    return (e & PM_PFN_MASK) * MT_PAGE_SIZE + va % MT_PAGE_SIZE;
}

static void print_map(void)
{
    uint64_t total = npages + nhot, runs = 0, i = 0;

    while (i < total) {
        uint64_t j = i + 1;

        while (j < total && map_pfn[i] && map_pfn[j] == map_pfn[i] + (j - i))
            j++;
        put_str("MTMAP ");
        put_hex(page_va(i));
        put_str(" ");
        put_hex(map_pfn[i] ? map_pfn[i] * MT_PAGE_SIZE : NO_GPA);
        put_str(" ");
        put_dec(j - i);
        flush_line();
        runs++;
        i = j;
    }
    put_str("MTMAPEND ");
    put_dec(runs);
    put_str(" ");
    put_dec(total);
    flush_line();
}

static void setup_map(void)
{
    uint64_t bytes = (npages + nhot) * 8;
    void *p;

    pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pagemap_fd < 0 || !prm.map) {
        errno = 0;
        return;
    }
    p = mmap(NULL, bytes * 2, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        fatal("mmap", "map");
    map_pfn = p;
    if (read_pfns(map_pfn) != 0)
        fatal("read", "/proc/self/pagemap");
    print_map();
}

/* After a pass: has the kernel moved any page since the last MTMAP? */
static void recheck_map(uint64_t g)
{
    uint64_t total = npages + nhot;
    uint64_t *now = map_pfn + total;

    if (!map_pfn || read_pfns(now) != 0)
        return;
    if (memcmp(now, map_pfn, total * 8) == 0)
        return;
    memcpy(map_pfn, now, total * 8);
    put_str("MTMAPCHG ");
    put_dec(g);
    flush_line();
    print_map();
}

/* ---- workload ------------------------------------------------------------ */

static uint64_t pass_bad, pass_printed;

static void report(uint64_t va, uint64_t expected, uint64_t found)
{
    /* Count every bad word, print the first few: a wholesale mismatch
     * (e.g. a stale generation counter) must not stall the guest for
     * minutes behind the serial line. */
    pass_bad++;
    if (pass_printed >= prm.maxerr)
        return;
    pass_printed++;
    put_str("MTERR ");
    put_hex(va);
    put_str(" ");
    put_hex(expected);
    put_str(" ");
    put_hex(found);
    put_str(" ");
    put_hex(gpa_of(va));
    flush_line();
}

/* Check page p against generation g - 1 (when g > 1), then write g. */
static inline void visit(volatile uint64_t *p, uint64_t g)
{
    uint64_t va = (uint64_t)(uintptr_t)p;

    if (g > 1) {
        uint64_t h = p[0], t = p[TAIL_WORD];

        if (__builtin_expect(h != g - 1, 0))
            report(va, g - 1, h);
        if (__builtin_expect(t != MT_TAIL(g - 1, va), 0))
            report(va + MT_PAGE_SIZE - 8, MT_TAIL(g - 1, va), t);
    }
    p[TAIL_WORD] = MT_TAIL(g, va);
    __asm__ __volatile__("" ::: "memory");     /* tail before head */
    p[0] = g;
}

static uint64_t hb_seq, hb_next, t0;
static uint64_t gen = 1, hot_gen = 1;

static void hot_round(void)
{
    volatile uint64_t *h = buf + npages * (MT_PAGE_SIZE / 8);

    if (!nhot)
        return;
    for (uint64_t i = 0; i < nhot; i++)
        visit(h + i * (MT_PAGE_SIZE / 8), hot_gen);
    hot_gen++;
}

static void heartbeat(void)
{
    uint64_t t = now_ms();

    if (t < hb_next)
        return;
    put_str("MTHB ");
    put_dec(++hb_seq);
    put_str(" ");
    put_dec(gen);
    put_str(" ");
    put_dec(hot_gen);
    put_str(" ");
    put_dec(t - t0);
    flush_line();
    /* Next beat one interval after this one (not after the missed slot):
     * a gap in the stream is then a real stall, never a burst. */
    hb_next = t + prm.hb_ms;
}

int main(void)
{
    setup_console();
    parse_cmdline();
    setup_memory();
    t0 = now_ms();

    put_str("MTSTART v1 mem=");
    put_dec(prm.mem);
    put_str(" hot=");
    put_dec(prm.hot);
    put_str(" hb_ms=");
    put_dec(prm.hb_ms);
    put_str(" step=");
    put_dec(prm.step);
    put_str(" buf=");
    put_hex((uint64_t)(uintptr_t)buf);
    put_str(" hotbuf=");
    put_hex(page_va(npages));
    flush_line();
    setup_map();

    for (;;) {
        volatile uint64_t *p = buf;

        for (uint64_t i = 0; i < npages; i++, p += MT_PAGE_SIZE / 8) {
            visit(p, gen);
            if ((i + 1) % prm.step == 0) {
                hot_round();
                heartbeat();
            }
        }
        hot_round();
        put_str("MTPASS ");
        put_dec(gen);
        put_str(" ");
        put_dec(pass_bad);
        flush_line();
        pass_bad = pass_printed = 0;
        if (prm.map)
            recheck_map(gen);
        gen++;
        heartbeat();
    }
}
