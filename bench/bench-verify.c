/*
 * bench-verify.c: how long the exact verifier takes to compare all guest
 * RAM of two QEMUs, against QEMU's own approach of reading one byte per
 * page through qtest ("readb"), measured in the same run.
 *
 * Method: two x86_64 QEMUs (started with -S, so no vCPU runs) with 150 MiB of
 * shared RAM each.  exact: map both RAM files and compare every byte,
 * RUNS times.  qtest: read one byte of each of the 38400 pages of one
 * guest over the qtest socket, RUNS times.  Prints median and spread of
 * each and the ratio of the medians.  Never a pass/fail test.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "payload.h"
#include "verify.h"
#include "vm.h"

#define RUNS 5
#define MEM (150ull << 20)

static int cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return (x > y) - (x < y);
}

static void summarize(const char *what, gint64 *us, gint64 *median)
{
    qsort(us, RUNS, sizeof(*us), cmp_i64);
    *median = us[RUNS / 2];
    printf("%-34s median %9.2f ms  min %9.2f  max %9.2f  (%d runs)\n", what,
           *median / 1000.0, us[0] / 1000.0, us[RUNS - 1] / 1000.0, RUNS);
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    g_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0);
    return fd;
}

/* One "readb" round trip per page, the way QEMU's migration-test checks. */
static gint64 qtest_read_pages(FILE *io)
{
    gint64 t0 = g_get_monotonic_time();
    char line[256];

    for (guint64 a = 0; a < MEM; a += MT_PAGE_SIZE) {
        fprintf(io, "readb 0x%" G_GINT64_MODIFIER "x\n", a);
        fflush(io);
        do {
            g_assert(fgets(line, sizeof(line), io));
        } while (!g_str_has_prefix(line, "OK"));   /* skip IRQ lines */
    }
    return g_get_monotonic_time() - t0;
}

static Vm *launch(const char *name, const char *dir, const char *image, const char *qtest_path)
{
    /* Logs apart from the sockets: both are named after the VM. */
    g_autofree char *logs = g_build_filename(dir, "logs", NULL);
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    const char *extra[] = { "-qtest", NULL, NULL };
    g_autofree char *qtest_arg = g_strdup_printf("unix:%s", qtest_path);
    g_autoptr(GError) error = NULL;
    VmConfig cfg = {
        .arch = arch_lookup("x86_64"), .name = name, .qemu_binary = qemu,
        .machine = "pc", .accel = "tcg", .start_paused = TRUE, .mem_bytes = MEM, .ram_mode = VM_RAM_SHARED,
        .image_path = image, .run_dir = dir, .log_dir = logs, .extra_args = extra,
    };
    Vm *vm;

    extra[1] = qtest_arg;
    g_mkdir_with_parents(logs, 0700);
    vm = vm_launch(&cfg, deadline_in_ms(30000), &error);
    g_assert_no_error(error);
    return vm;
}

int main(void)
{
    g_autofree char *dir = g_mkdtemp_full(g_strdup("/dev/shm/migtest-bench-XXXXXX"), 0700);
    g_autofree char *image = g_build_filename(dir, "payload.bin", NULL);
    g_autofree char *qpath = g_build_filename(dir, "qtest.sock", NULL);
    g_autoptr(GBytes) img = payload_image_lookup("x86_64", "default");
    g_autofree char *other_q = g_build_filename(dir, "qtest2.sock", NULL);
    gint64 exact_us[RUNS], qtest_us[RUNS], exact_med, qtest_med;
    int lfd = listen_unix(qpath), lfd2 = listen_unix(other_q);
    g_autoptr(Vm) a = NULL, b = NULL;
    FILE *io;

    g_assert(g_file_set_contents(image, g_bytes_get_data(img, NULL), g_bytes_get_size(img), NULL));
    a = launch("a", dir, image, qpath);
    b = launch("b", dir, image, other_q);
    io = fdopen(accept(lfd, NULL, NULL), "r+");
    for (int i = 0; i < RUNS; i++) {
        g_autoptr(GError) error = NULL;
        gint64 t0 = g_get_monotonic_time();
        g_autoptr(RamImage) ra = vm_ram_image(a, FALSE, &error);
        g_autoptr(RamImage) rb = vm_ram_image(b, FALSE, &error);
        g_auto(ExactResult) r = { 0 };

        g_assert_no_error(error);
        verify_exact(ra, rb, &r, NULL);
        exact_us[i] = g_get_monotonic_time() - t0;   /* map + compare */
        qtest_us[i] = qtest_read_pages(io);
    }
    printf("guest RAM %llu MiB, %llu pages\n", MEM >> 20, MEM / MT_PAGE_SIZE);
    summarize("exact: all bytes, both sides", exact_us, &exact_med);
    summarize("qtest: readb one byte per page", qtest_us, &qtest_med);
    printf("ratio qtest/exact: %.1fx (exact %.2f ns/page incl. mapping; qtest %.2f us/page)\n",
           (double)qtest_med / exact_med, exact_med * 1000.0 / (MEM / MT_PAGE_SIZE),
           (double)qtest_med / (MEM / MT_PAGE_SIZE));
    fclose(io);
    close(lfd);
    close(lfd2);
    g_clear_pointer(&a, vm_free);
    g_clear_pointer(&b, vm_free);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    return system(rm) == 0 ? 0 : 1;
}
