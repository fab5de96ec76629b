/*
 * migtest `linux` payload: /init of an initramfs booted by a stock Debian
 * kernel.  A static, libc-light C program that runs the memory workload of
 * guest/linux/workload.h on user-space buffers, one worker thread per
 * vCPU (migtest.workers), and talks line by line on /dev/console (the
 * kernel's console= device: ttyS0 on x86_64, ttyAMA0 on aarch64).
 * docs/linux-guest.md is the reference; the console protocol, one line
 * each, '\n'-terminated, fields separated by one space:
 *
 *   MTSTART v2 mem=<MiB> hot=<K> hb_ms=<ms> step=<pages> buf=<va> hotbuf=<va>
 *          workers=<n> zero_every=<E> zero_pages=<R> zero_slots=<S>
 *          zero_method=<m> hot_op=<o> atomics=<lock|lse|llsc> zerobuf=<va>
 *                                  (one line)
 *   MTMAP <va> <gpa> <pages>       VA->GPA runs of buf+hot (after MTSTART,
 *   MTMAPEND <runs> <pages>        and again after MTMAPCHG)
 *   MTMAPCHG <gen>                 the kernel moved a page: new map follows
 *   MTHB <seq> <gen> <hotgen> <ms>[ <worker>]   heartbeat, every hb_ms
 *   MTPASS <gen> <bad>[ <worker>]  sweep pass <gen> completed; <bad> words
 *                                  failed their check during it
 *   MTERR <va> <expected> <found> <gpa>   a word did not hold its pattern
 *                                  (at most migtest.maxerr lines a pass)
 *   MTFATAL <reason>               the payload cannot go on; it then idles
 *
 * <va>, <gpa>, <expected>, <found>: 16 lowercase hex digits, no 0x;
 * everything else decimal.  The <worker> fields appear with workers > 1
 * only; each worker has its own heartbeat sequence and generations.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "migtest-abi.h"
#include "workload.h"

#define NO_GPA          UINT64_MAX
#define MAX_WORKERS     64

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
    uint32_t workers;   /* worker threads, one per vCPU, pinned */
    uint32_t zero_every;    /* zero runs: passes between two, 0 = off */
    uint32_t zero_pages;    /* pages in a zero run */
    uint32_t zero_slots;    /* zero runs per worker's zero area */
    uint32_t zero_method;   /* WL_ZERO_* */
    uint32_t hot_op;        /* WL_HOT_* */
} prm = { 64, 0, 10, 64, 1, 16, 1, 0, 256, 2, WL_ZERO_MADVISE, WL_HOT_PLAIN };

static int con = 1;                     /* console fd */
static int pagemap_fd = -1;
static volatile uint64_t *buf;          /* buf pages, then hot pages */
static volatile uint64_t *zerobuf;      /* the workers' zero areas, or NULL */
static uint64_t npages, nhot, nzero;
static uint64_t *map_pfn;               /* last MTMAP'ed PFN per page */
static uint64_t t0;

/* ---- output ------------------------------------------------------------ */

/* A console line being built; one per thread, so lines never mix. */
typedef struct {
    char buf[320];
    size_t len;
} Line;

static void put_str(Line *l, const char *s)
{
    while (*s && l->len < sizeof(l->buf) - 1)
        l->buf[l->len++] = *s++;
}

static void put_dec(Line *l, uint64_t v)
{
    char t[24];
    int n = 0;

    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && l->len < sizeof(l->buf) - 1)
        l->buf[l->len++] = t[--n];
}

static void put_hex(Line *l, uint64_t v)
{
    for (int i = MT_HEX_DIGITS - 1; i >= 0 && l->len < sizeof(l->buf) - 1; i--)
        l->buf[l->len++] = "0123456789abcdef"[(v >> (i * 4)) & 0xf];
}

static void put_kv(Line *l, const char *key, uint64_t v)
{
    put_str(l, key);
    put_dec(l, v);
}

/* End the line and write it in one write(2), so a line is never split by
 * another of ours (the tty may still interleave a kernel message). */
static void flush_line(Line *l)
{
    size_t off = 0;

    l->buf[l->len++] = '\n';
    while (off < l->len) {
        ssize_t n = write(con, l->buf + off, l->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    l->len = 0;
}

/* Send the MTFATAL line being built and idle forever. */
static _Noreturn void fatal_line(Line *l, int err)
{
    if (err)
        put_kv(l, " errno=", (uint64_t)err);
    flush_line(l);
    for (;;)            /* init must never exit: that would panic */
        pause();
}

static _Noreturn void fatal(const char *why, const char *what)
{
    Line l = { .len = 0 };
    int err = errno;

    put_str(&l, "MTFATAL ");
    put_str(&l, why);
    if (what) {
        put_str(&l, " ");
        put_str(&l, what);
    }
    fatal_line(&l, err);
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

typedef struct {
    const char *key;
    uint32_t *val;
    uint32_t min, max;
} ParamKey;

static const ParamKey param_keys[] = {
    { "migtest.mem=",   &prm.mem,   1, 1u << 20 },
    { "migtest.hot=",   &prm.hot,   0, 1u << 20 },
    { "migtest.hb_ms=", &prm.hb_ms, 1, 60000 },
    { "migtest.step=",  &prm.step,  1, 1u << 20 },
    { "migtest.map=",   &prm.map,   0, 1 },
    { "migtest.maxerr=", &prm.maxerr, 0, UINT32_MAX },
    { "migtest.workers=", &prm.workers, 1, MAX_WORKERS },
    { "migtest.zero_every=", &prm.zero_every, 0, 1u << 20 },
    /* A run at least as large as a multifd batch of zero pages. */
    { "migtest.zero_pages=", &prm.zero_pages, MT_ZERO_MIN_PAGES, 1u << 20 },
    /* A run must be written back before its pages are zeroed again. */
    { "migtest.zero_slots=", &prm.zero_slots, MT_ZERO_MIN_SLOTS, 1024 },
    { "migtest.zero_method=", &prm.zero_method, 0, WL_ZERO_ALTERNATE },
    { "migtest.hot_op=", &prm.hot_op, 0, WL_HOT_ATOMIC },
};

/* MTFATAL parameter out of range migtest.x=5 (allowed 128..1048576) */
static _Noreturn void out_of_range(const char *tok, const ParamKey *k)
{
    Line l = { .len = 0 };

    put_str(&l, "MTFATAL parameter out of range ");
    put_str(&l, tok);
    put_kv(&l, " (allowed ", k->min);
    put_kv(&l, "..", k->max);
    put_str(&l, ")");
    fatal_line(&l, 0);
}

static void parse_param(const char *tok)
{
    for (size_t i = 0; i < sizeof(param_keys) / sizeof(param_keys[0]); i++) {
        const ParamKey *k = &param_keys[i];
        size_t kl = strlen(k->key);
        const char *v = tok + kl;
        uint64_t x = 0;

        if (strncmp(tok, k->key, kl) != 0)
            continue;
        if (!*v)
            fatal("bad parameter", tok);
        for (; *v; v++) {
            if (*v < '0' || *v > '9' || x > UINT32_MAX)
                fatal("bad parameter", tok);
            x = x * 10 + (uint64_t)(*v - '0');
        }
        if (x < k->min || x > k->max)
            out_of_range(tok, k);
        *k->val = (uint32_t)x;
        return;
    }
    fatal("unknown parameter", tok);
}

static void parse_cmdline(void)
{
    static char cmd[4096];
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

    for (tok = strtok_r(cmd, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
        if (strncmp(tok, "migtest.", 8) == 0)
            parse_param(tok);
}

/* One worker per vCPU: more workers than CPUs online cannot be pinned. */
static void check_workers(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    Line l = { .len = 0 };

    if (cpus >= (long)prm.workers)
        return;
    put_kv(&l, "MTFATAL migtest.workers=", prm.workers);
    put_kv(&l, " but only ", (uint64_t)(cpus > 0 ? cpus : 0));
    put_str(&l, " CPUs online (one worker per vCPU: give QEMU -smp as many)");
    fatal_line(&l, 0);
}

static void check_free_memory(uint64_t bytes)
{
    struct sysinfo si;
    uint64_t avail;
    Line l = { .len = 0 };

    if (sysinfo(&si) != 0)
        fatal("sysinfo", NULL);
    avail = (uint64_t)si.freeram * si.mem_unit;
    /* Keep 32 MiB for the kernel: running out would OOM-kill init. */
    if (bytes + (32ull << 20) <= avail)
        return;
    put_kv(&l, "MTFATAL not enough memory: need_mib=", (bytes >> 20) + 32);
    put_kv(&l, " free_mib=", avail >> 20);
    put_str(&l, " (migtest.mem + migtest.hot pages + zero areas + 32 MiB reserve)");
    fatal_line(&l, 0);
}

/* The zero areas: their own mapping, never mlocked (MADV_DONTNEED refuses
 * locked pages) and left out of MTMAP (their pages come and go).  Faulted
 * in by pass 1, in 4 KiB pages: THP is "never" by now. */
static void setup_zero_areas(void)
{
    void *p;

    if (!nzero)
        return;
    p = mmap(NULL, nzero * MT_PAGE_SIZE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        fatal("mmap", "zero areas");
    madvise(p, nzero * MT_PAGE_SIZE, MADV_NOHUGEPAGE);
    zerobuf = p;
}

static void setup_memory(void)
{
    uint64_t bytes;
    void *p;

    npages = (uint64_t)prm.mem << (20 - MT_PAGE_SHIFT);
    nhot = prm.hot;
    nzero = prm.zero_every ? (uint64_t)prm.workers * prm.zero_slots * prm.zero_pages : 0;
    bytes = (npages + nhot) * MT_PAGE_SIZE;
    check_free_memory(bytes + nzero * MT_PAGE_SIZE);

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
    setup_zero_areas();
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
    Line l = { .len = 0 };

    while (i < total) {
        uint64_t j = i + 1;

        while (j < total && map_pfn[i] && map_pfn[j] == map_pfn[i] + (j - i))
            j++;
        put_str(&l, "MTMAP ");
        put_hex(&l, page_va(i));
        put_str(&l, " ");
        put_hex(&l, map_pfn[i] ? map_pfn[i] * MT_PAGE_SIZE : NO_GPA);
        put_kv(&l, " ", j - i);
        flush_line(&l);
        runs++;
        i = j;
    }
    put_kv(&l, "MTMAPEND ", runs);
    put_kv(&l, " ", total);
    flush_line(&l);
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
    Line l = { .len = 0 };

    if (!map_pfn || read_pfns(now) != 0)
        return;
    if (memcmp(now, map_pfn, total * 8) == 0)
        return;
    memcpy(map_pfn, now, total * 8);
    put_kv(&l, "MTMAPCHG ", g);
    flush_line(&l);
    print_map();
}

/* ---- workers ------------------------------------------------------------ */

/* What /init keeps per worker besides the workload's own state. */
typedef struct {
    Worker w;
    Line line;
    uint64_t printed;           /* MTERR lines this pass */
    uint64_t hb_seq, hb_next;
    pthread_t thread;
} InitWorker;

static void on_report(Worker *w, uint64_t va, uint64_t expected, uint64_t found)
{
    InitWorker *iw = w->opaque;
    Line *l = &iw->line;

    /* Count every bad word (pass_bad), print the first few: a wholesale
     * mismatch (e.g. a stale generation counter) must not stall the guest
     * for minutes behind the serial line. */
    if (iw->printed >= prm.maxerr)
        return;
    iw->printed++;
    put_str(l, "MTERR ");
    put_hex(l, va);
    put_str(l, " ");
    put_hex(l, expected);
    put_str(l, " ");
    put_hex(l, found);
    put_str(l, " ");
    put_hex(l, gpa_of(va));
    flush_line(l);
}

static void put_worker(Line *l, const Worker *w)
{
    if (prm.workers > 1)
        put_kv(l, " ", w->id);
}

static void on_tick(Worker *w)
{
    InitWorker *iw = w->opaque;
    Line *l = &iw->line;
    uint64_t t = now_ms();

    if (t < iw->hb_next)
        return;
    put_kv(l, "MTHB ", ++iw->hb_seq);
    put_kv(l, " ", w->gen);
    put_kv(l, " ", w->hot_gen);
    put_kv(l, " ", t - t0);
    put_worker(l, w);
    flush_line(l);
    /* Next beat one interval after this one (not after the missed slot):
     * a gap in the stream is then a real stall, never a burst. */
    iw->hb_next = t + prm.hb_ms;
}

static void on_fatal(Worker *w, const char *why, int err)
{
    Line l = { .len = 0 };

    put_str(&l, "MTFATAL ");
    put_str(&l, why);
    put_kv(&l, " worker=", w->id);
    fatal_line(&l, err);
}

static const WorkerOps init_ops = { on_report, on_tick, on_fatal };

/* Worker i of n gets pages [i * total / n, (i + 1) * total / n). */
static uint64_t share(uint64_t total, unsigned i)
{
    return total * i / prm.workers;
}

static void worker_init(InitWorker *iw, unsigned i, int lse)
{
    Worker *w = &iw->w;
    volatile uint64_t *hot = buf + npages * WL_PAGE_WORDS;
    uint64_t zpages = (uint64_t)prm.zero_slots * prm.zero_pages;

    memset(iw, 0, sizeof(*iw));
    w->id = i;
    w->buf = buf + share(npages, i) * WL_PAGE_WORDS;
    w->npages = share(npages, i + 1) - share(npages, i);
    w->hot = hot + share(nhot, i) * WL_PAGE_WORDS;
    w->nhot = share(nhot, i + 1) - share(nhot, i);
    w->zero_every = prm.zero_every;
    if (zerobuf) {
        w->zero = zerobuf + (uint64_t)i * zpages * WL_PAGE_WORDS;
        w->zero_pages = prm.zero_pages;
        w->zero_slots = prm.zero_slots;
    }
    w->zero_method = prm.zero_method;
    w->hot_op = prm.hot_op;
    w->lse = lse;
    w->step = prm.step;
    w->gen = w->hot_gen = 1;
    w->ops = &init_ops;
    w->opaque = iw;
}

static void pin_to_cpu(unsigned cpu)
{
    cpu_set_t set;
    Line l = { .len = 0 };
    int err;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) == 0)
        return;
    err = errno;
    put_kv(&l, "MTFATAL sched_setaffinity cpu=", cpu);
    fatal_line(&l, err);
}

/* A worker's life: pinned to its vCPU, passes forever.  Worker 0 also
 * re-reads the map after each pass. */
static void *worker_run(void *opaque)
{
    InitWorker *iw = opaque;
    Worker *w = &iw->w;

    pin_to_cpu(w->id);
    for (;;) {
        uint64_t g = wl_pass(w);

        put_kv(&iw->line, "MTPASS ", g);
        put_kv(&iw->line, " ", w->pass_bad);
        put_worker(&iw->line, w);
        flush_line(&iw->line);
        w->pass_bad = iw->printed = 0;
        if (w->id == 0 && prm.map)
            recheck_map(g);
        on_tick(w);
    }
    return NULL;
}

static void print_start(const Worker *w0)
{
    Line l = { .len = 0 };

    put_kv(&l, "MTSTART v2 mem=", prm.mem);
    put_kv(&l, " hot=", prm.hot);
    put_kv(&l, " hb_ms=", prm.hb_ms);
    put_kv(&l, " step=", prm.step);
    put_str(&l, " buf=");
    put_hex(&l, (uint64_t)(uintptr_t)buf);
    put_str(&l, " hotbuf=");
    put_hex(&l, page_va(npages));
    put_kv(&l, " workers=", prm.workers);
    put_kv(&l, " zero_every=", prm.zero_every);
    put_kv(&l, " zero_pages=", prm.zero_pages);
    put_kv(&l, " zero_slots=", prm.zero_slots);
    put_kv(&l, " zero_method=", prm.zero_method);
    put_kv(&l, " hot_op=", prm.hot_op);
    put_str(&l, " atomics=");
    put_str(&l, wl_atomics_name(w0));
    put_str(&l, " zerobuf=");
    put_hex(&l, (uint64_t)(uintptr_t)zerobuf);
    flush_line(&l);
}

static int have_lse(void)
{
#if defined(__aarch64__)
    return (getauxval(AT_HWCAP) & (1ul << 8)) != 0;    /* HWCAP_ATOMICS */
#else
    return 0;
#endif
}

int main(void)
{
    static InitWorker workers[MAX_WORKERS];
    int lse;

    setup_console();
    parse_cmdline();
    check_workers();
    setup_memory();
    lse = have_lse();
    t0 = now_ms();
    for (unsigned i = 0; i < prm.workers; i++)
        worker_init(&workers[i], i, lse);
    print_start(&workers[0].w);
    setup_map();

    for (unsigned i = 1; i < prm.workers; i++) {
        int err = pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]);

        if (err) {
            errno = err;
            fatal("pthread_create", "worker");
        }
    }
    worker_run(&workers[0]);
    return 0;
}
