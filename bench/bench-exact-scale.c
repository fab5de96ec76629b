/*
 * bench-exact-scale.c: the exact verifier against a plain read of both RAM
 * files, at guest sizes from 150 MiB to 8 GiB.
 *
 * Method: two files of SIZE bytes on /dev/shm (tmpfs, where migtest keeps
 * shared guest RAM), written in full with the same pseudo-random bytes,
 * so neither has holes and both paths must touch every byte.  plain read:
 * read(2) both files start to end through one 1 MiB buffer, one thread:
 * what any tool pays to look at both files once.  exact: map both files
 * and run verify_exact() (bulk populate, one thread per CPU), as migtest
 * does after a migration.  Each is run RUNS times, alternating; printed:
 * median, min and max, the throughput as bytes of both files per second,
 * and the ratio of the medians.  Sizes: the arguments (150M, 4G, ...),
 * default 150M.  Never a pass/fail test.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "verify.h"

#define RUNS 3
#define BUF (1 << 20)

static int cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return (x > y) - (x < y);
}

static char *make_file(guint64 size)
{
    char *path = g_strdup("/dev/shm/migtest-bench-exact-XXXXXX");
    int fd = g_mkstemp(path);
    g_autofree guint8 *buf = g_malloc(BUF);
    guint64 x = 0x9e3779b97f4a7c15ull;

    for (gsize i = 0; i < BUF; i += 8) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }
    for (guint64 off = 0; off < size; off += BUF)
        if (pwrite(fd, buf, MIN((guint64)BUF, size - off), off) < 0)
            g_error("cannot write %s", path);
    close(fd);
    return path;
}

static gint64 plain_read(const char *a, const char *b)
{
    g_autofree guint8 *buf = g_malloc(BUF);
    gint64 t0 = g_get_monotonic_time();
    const char *files[] = { a, b };

    for (int i = 0; i < 2; i++) {
        int fd = open(files[i], O_RDONLY);
        while (read(fd, buf, BUF) > 0)
            ;
        close(fd);
    }
    return g_get_monotonic_time() - t0;
}

static gint64 exact(const char *a, const char *b, guint64 size)
{
    g_autoptr(GError) error = NULL;
    ExactResult r = { 0 };
    RamLayout l;
    gint64 t0 = g_get_monotonic_time();
    RamImage *s, *d;

    arch_lookup("x86_64")->ram_layout("pc", size, &l);
    s = ram_image_map_file(a, size, &l, FALSE, &error);
    d = s ? ram_image_map_file(b, size, &l, FALSE, &error) : NULL;
    if (!d || !verify_exact(s, d, &r, &error))
        g_error("exact: %s", error ? error->message : "differs");
    ram_image_free(s);
    ram_image_free(d);
    exact_result_clear(&r);
    return g_get_monotonic_time() - t0;
}

static void report(const char *what, gint64 *us, guint64 bytes, gint64 *median)
{
    qsort(us, RUNS, sizeof(*us), cmp_i64);
    *median = us[RUNS / 2];
    printf("  %-10s median %8.1f ms (min %8.1f, max %8.1f)  %6.2f GB/s\n", what,
           *median / 1000.0, us[0] / 1000.0, us[RUNS - 1] / 1000.0,
           bytes / (*median / 1e6) / 1e9);
}

static void bench_size(const char *arg)
{
    guint64 size = g_ascii_strtoull(arg, NULL, 10) << (g_str_has_suffix(arg, "G") ? 30 : 20);
    g_autofree char *a = make_file(size);
    g_autofree char *b = make_file(size);
    gint64 pr[RUNS], ex[RUNS], mp, me;

    for (int i = 0; i < RUNS; i++) {
        pr[i] = plain_read(a, b);
        ex[i] = exact(a, b, size);
    }
    printf("%s per side (%u CPUs):\n", arg, g_get_num_processors());
    report("plain read", pr, 2 * size, &mp);
    report("exact", ex, 2 * size, &me);
    printf("  exact / plain read: %.2fx the time (%.2fx the speed)\n",
           (double)me / mp, (double)mp / me);
    g_unlink(a);
    g_unlink(b);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        bench_size("150M");
    for (int i = 1; i < argc; i++)
        bench_size(argv[i]);
    return 0;
}
