/*
 * bench-agent.c: what exact verification through two `migtest agent`s
 * costs (the libvirt backend's path, RAM on two hosts), against the local
 * two-sided compare of verify_exact() (the qemu backend's path, both RAMs
 * mapped here), measured in the same run on the same bytes.
 *
 * Method: two memfds of SIZE bytes (like QEMU's RAM), filled with the same
 * pseudo-random bytes, each mapped by its own agent process (this build's
 * `migtest agent`, over pipes, as `nsenter ... migtest agent` would be).
 *   page_hash   the agent's hashing loop (XXH3-64 per 4 KiB page), run
 *               here on the same mapping -> GB/s per side
 *   hash        one agent's hash-pages round trip (that loop, base64 over
 *               the pipe, decoded here)
 *   agents      agent_verify_exact(): both agents hash at once, compare
 *   local       verify_exact() on the two mappings here
 * RUNS runs each (median, min, max), 150 MiB and then 4 GiB (skipped with
 * the reason when this machine lacks the memory for two of them).  The
 * ratios are agents/local.  Targets (issue #10): hash >= 4 GB/s per side,
 * 150 MiB through the agents <= 150 ms.  Never a pass/fail test.
 * Usage: bench-agent PATH-TO-MIGTEST
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "agent-client.h"
#include "page-hash.h"
#include "verify.h"

#define RUNS 5
#define REPLY_MS 120000

typedef struct {
    guint8 *data;
    AgentClient *agent;
} BenchSide;

static int cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return (x > y) - (x < y);
}

static gint64 summarize(const char *what, gint64 *us, guint64 bytes)
{
    gint64 median;

    qsort(us, RUNS, sizeof(*us), cmp_i64);
    median = us[RUNS / 2];
    printf("  %-28s median %9.2f ms  min %9.2f  max %9.2f  %6.2f GB/s\n", what,
           median / 1000.0, us[0] / 1000.0, us[RUNS - 1] / 1000.0,
           bytes / (median / 1e6) / 1e9);
    return median;
}

static guint64 mem_available(void)
{
    g_autofree char *text = NULL;
    const char *p;

    if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL) ||
        !(p = strstr(text, "MemAvailable:")))
        return 0;
    return g_ascii_strtoull(p + 13, NULL, 10) * 1024;
}

/* A memfd of @size, filled from @seed, mapped here and by a new agent. */
static gboolean side_new(BenchSide *s, const char *migtest, guint64 size,
                         const RamLayout *layout, const char *log)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *cmd = g_strdup_printf("%s agent", migtest);
    GRand *rand = g_rand_new_with_seed(42);
    int fd = memfd_create("bench-ram", MFD_CLOEXEC);

    if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
        (s->data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        perror("memfd");
        return FALSE;
    }
    for (guint64 i = 0; i < size / 4; i++)
        ((guint32 *)s->data)[i] = g_rand_int(rand);
    g_rand_free(rand);
    s->agent = agent_client_new(cmd, "bench", log, deadline_in_ms(REPLY_MS), &error);
    if (!s->agent || !agent_client_map_ram(s->agent, layout, NULL, NULL, getpid(),
                                           deadline_in_ms(REPLY_MS), &error)) {
        fprintf(stderr, "bench-agent: %s\n", error->message);
        return FALSE;
    }
    close(fd);          /* the next side's memfd is then the only one of its size */
    return TRUE;
}

static void side_free(BenchSide *s, guint64 size)
{
    agent_client_free(s->agent);
    if (s->data)
        munmap(s->data, size);
}

static void bench_size(const char *migtest, guint64 size, const char *log)
{
    RamLayout layout = { .nsegs = 1, .seg = { { 0, 0, size } }, .total = size };
    RamImage a = { .layout = layout }, b = { .layout = layout };
    BenchSide src = { 0 }, dst = { 0 };
    gint64 hash[RUNS], agents[RUNS], local[RUNS], inproc[RUNS], m_agents, m_local;
    g_autofree guint64 *h_local = g_new(guint64, size / MT_PAGE_SIZE);

    printf("%" G_GUINT64_FORMAT " MiB per side:\n", size >> 20);
    if (!side_new(&src, migtest, size, &layout, log) ||
        !side_new(&dst, migtest, size, &layout, log))
        goto out;
    a.data = src.data;
    b.data = dst.data;
    for (guint r = 0; r < RUNS; r++) {
        g_autoptr(GError) error = NULL;
        g_auto(ExactResult) er = { 0 };
        gint64 t0 = g_get_monotonic_time();
        g_autoptr(GArray) h = agent_client_hash_pages(src.agent, deadline_in_ms(REPLY_MS), &error);

        hash[r] = g_get_monotonic_time() - t0;
        t0 = g_get_monotonic_time();
        if (!h || !agent_verify_exact(src.agent, dst.agent, &layout, &er,
                                      deadline_in_ms(REPLY_MS), &error)) {
            fprintf(stderr, "bench-agent: %s\n", error ? error->message : "?");
            goto out;
        }
        agents[r] = g_get_monotonic_time() - t0;
        t0 = g_get_monotonic_time();
        verify_exact(&a, &b, &er, NULL);
        local[r] = g_get_monotonic_time() - t0;
        t0 = g_get_monotonic_time();
        page_hash(src.data, size / MT_PAGE_SIZE, h_local);
        inproc[r] = g_get_monotonic_time() - t0;
    }
    summarize("page_hash (the agent's loop)", inproc, size);
    summarize("hash-pages round trip, one", hash, size);
    m_agents = summarize("exact through two agents", agents, size);
    m_local = summarize("exact local (verify_exact)", local, size);
    printf("  ratio agents/local %.2f\n", (double)m_agents / (double)m_local);
out:
    side_free(&src, size);
    side_free(&dst, size);
}

int main(int argc, char **argv)
{
    g_autofree char *log = g_build_filename(g_get_tmp_dir(), "bench-agent.log", NULL);
    guint64 big = 4ull << 30;

    if (argc != 2) {
        fprintf(stderr, "usage: bench-agent PATH-TO-MIGTEST\n");
        return 2;
    }
    printf("bench-agent: exact verification through two migtest agents vs local "
           "(%d runs each, pseudo-random identical RAM; XXH3 %s)\n", RUNS, page_hash_impl());
    bench_size(argv[1], 150ull << 20, log);
    /* two sides, and headroom for everyone else on the machine */
    if (mem_available() < 2 * big + (4ull << 30))
        printf("%" G_GUINT64_FORMAT " MiB per side: skipped, MemAvailable %" G_GUINT64_FORMAT
               " MiB < two sides + 4 GiB\n", big >> 20, mem_available() >> 20);
    else
        bench_size(argv[1], big, log);
    unlink(log);
    return 0;
}
