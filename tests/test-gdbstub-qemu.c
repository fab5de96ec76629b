/*
 * test-gdbstub-qemu.c: the gdbstub client against real qemu-system-aarch64
 * (TCG, -M virt, the migtest payload).  Checks what the guard relies on:
 * SCTLR_EL1 of the mmu-on and mmu-off payloads, the mmu-off-late switch,
 * secondaries that PSCI keeps powered off, and the VM's runstate around a
 * read: running stays running, paused by QMP stays paused, and a read at
 * pre-switchover leaves the migration to complete.  Reports the cost of a
 * read for 1 and 4 vCPUs as TAP comments.  SKIPs without the binary.
 */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "gdbstub.h"
#include "payload.h"
#include "vm.h"

#define QEMU_BIN        "qemu-system-aarch64"
#define BOOT_MS         20000
#define READ_MS         5000
#define MIGRATE_MS      30000
#define TIMING_READS    10
/* A small window keeps a pass short: mmu-off-late switches within seconds. */
#define WINDOW_START    (MT_ARM_RAM_BASE + 0x100000)
#define WINDOW_END      (MT_ARM_RAM_BASE + 0x900000)

typedef struct {
    char *dir;                  /* run dir: sockets, image; logs in dir/log */
    char *log_dir;
    char *gdb_path;
    Vm *vm;
} Guest;

static void guest_free(Guest *g)
{
    g_autofree char *cmd = NULL;

    if (!g)
        return;
    vm_free(g->vm);
    cmd = g_strdup_printf("rm -rf '%s'", g->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(g->gdb_path);
    g_free(g->log_dir);
    g_free(g->dir);
    g_free(g);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Guest, guest_free)

static char *write_image(const char *dir, const char *variant, guint mmu_off_after)
{
    g_autoptr(GBytes) base = payload_image_lookup("aarch64", variant);
    g_autoptr(GBytes) img = NULL;
    g_autoptr(GError) error = NULL;
    char *path = g_build_filename(dir, "payload.bin", NULL);
    PayloadParams p;

    g_assert_nonnull(base);
    g_assert_true(payload_params_read(base, &p, &error));
    p.nranges = 1;
    p.ranges[0].start = WINDOW_START;
    p.ranges[0].end = WINDOW_END;
    p.mmu_off_after = mmu_off_after;
    img = payload_image_patch(base, &p, &error);
    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(path, g_bytes_get_data(img, NULL),
                                      g_bytes_get_size(img), &error));
    return path;
}

/* Boot @variant on @smp vCPUs with the gdbstub on a unix socket, and wait
 * for the payload's first completed pass. */
static Guest *guest_boot(const char *variant, guint smp, guint mmu_off_after)
{
    g_autoptr(Guest) g = g_new0(Guest, 1);
    g_autoptr(GError) error = NULL;
    g_autofree char *image = NULL;
    g_autofree char *smp_arg = g_strdup_printf("%u", smp);
    g_autofree char *chardev = NULL;
    g_autofree char *qemu = g_find_program_in_path(QEMU_BIN);
    const char *extra[] = { "-smp", smp_arg, "-chardev", NULL, "-gdb", "chardev:mt-gdb", NULL };
    VmConfig cfg = {
        .arch = arch_lookup("aarch64"),
        .name = "src",
        .machine = "virt",
        .accel = "tcg",
        .mem_bytes = (guint64)MT_DEFAULT_MEM_MIB << 20,
        .ram_mode = VM_RAM_PRIVATE,
        .extra_args = extra,
    };

    g->dir = g_dir_make_tmp("mt-gdbq-XXXXXX", &error);
    g_assert_no_error(error);
    g->log_dir = g_build_filename(g->dir, "log", NULL);
    g_assert_cmpint(g_mkdir(g->log_dir, 0700), ==, 0);
    g->gdb_path = g_build_filename(g->dir, "gdb.sock", NULL);
    chardev = g_strdup_printf("socket,id=mt-gdb,path=%s,server=on,wait=off", g->gdb_path);
    extra[3] = chardev;
    image = write_image(g->dir, variant, mmu_off_after);
    cfg.qemu_binary = qemu;
    cfg.image_path = image;
    cfg.run_dir = g->dir;
    cfg.log_dir = g->log_dir;
    g->vm = vm_launch(&cfg, deadline_in_ms(BOOT_MS), &error);
    g_assert_no_error(error);
    g_assert_true(serial_wait_b(vm_serial(g->vm), 1, "src", deadline_in_ms(BOOT_MS), &error));
    g_assert_no_error(error);
    return g_steal_pointer(&g);
}

static char *qmp_status(Guest *g)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = qmp_execute(vm_qmp(g->vm), "query-status", NULL,
                                          deadline_in_ms(READ_MS), &error);

    g_assert_no_error(error);
    return g_strdup(json_object_get_string_member(json_node_get_object(ret), "status"));
}

static void assert_status(Guest *g, const char *want)
{
    g_autofree char *st = qmp_status(g);

    g_assert_cmpstr(st, ==, want);
}

static void qmp_ok(Guest *g, const char *cmd, JsonObject *args)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(qmp_execute_simple(vm_qmp(g->vm), cmd, args, deadline_in_ms(READ_MS), &error));
    g_assert_no_error(error);
}

static void log_report(GdbSctlrReport *r)
{
    g_test_message("%s is regnum %d; stop packet on connect: %s", r->regs.sctlr_name,
                   r->regs.sctlr_regnum, r->stop_packet ? "yes" : "no");

    for (guint i = 0; i < r->vcpus->len; i++) {
        GdbVcpuSctlr *v = &g_array_index(r->vcpus, GdbVcpuSctlr, i);
        g_autofree char *s = gdbstub_format_vcpu(v);

        g_test_message("%s pc=0x%" G_GINT64_MODIFIER "x%s%s", s, v->pc,
                       v->halted ? " halted" : "",
                       gdbstub_vcpu_never_started(v) ? " (never started)" : "");
    }
}

/* The product's way: QMP says whether to resume, and checks afterwards. */
static GdbSctlrReport *read_sctlr(Guest *g)
{
    g_autoptr(GError) error = NULL;
    GdbSctlrReport *r = gdbstub_read_sctlr_qmp(vm_qmp(g->vm), g->gdb_path,
                                               deadline_in_ms(READ_MS), &error);

    g_assert_no_error(error);
    log_report(r);
    return r;
}

static GdbVcpuSctlr *vcpu(GdbSctlrReport *r, guint i)
{
    return &g_array_index(r->vcpus, GdbVcpuSctlr, i);
}

/* The guest keeps running: more passes complete after the read. */
static void assert_guest_runs(Guest *g)
{
    g_autoptr(GError) error = NULL;
    SerialCounts c;

    serial_counts(vm_serial(g->vm), &c);
    g_assert_true(serial_wait_b(vm_serial(g->vm), c.b + 2, "src", deadline_in_ms(READ_MS),
                                &error));
    g_assert_no_error(error);
    serial_counts(vm_serial(g->vm), &c);
    g_assert_cmpuint(c.errors, ==, 0);
}

static int cmp_i64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return x < y ? -1 : x > y;
}

/* Repeated reads of a running guest: median and worst session and stop. */
static void measure(Guest *g, guint smp)
{
    gint64 session[TIMING_READS], stopped[TIMING_READS];

    for (guint i = 0; i < TIMING_READS; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GdbSctlrReport) r = gdbstub_read_sctlr_qmp(vm_qmp(g->vm), g->gdb_path,
                                                             deadline_in_ms(READ_MS), &error);
        g_assert_no_error(error);
        g_assert_cmpuint(r->vcpus->len, ==, smp);
        g_assert_true(r->resumed);
        session[i] = r->session_us;
        stopped[i] = r->stopped_us;
    }
    qsort(session, TIMING_READS, sizeof(gint64), cmp_i64);
    qsort(stopped, TIMING_READS, sizeof(gint64), cmp_i64);
    g_test_message("timing: %u vCPU(s), %d reads: session median %.2f ms max %.2f ms; "
                   "VM stopped median %.2f ms max %.2f ms", smp, TIMING_READS,
                   session[TIMING_READS / 2] / 1e3, session[TIMING_READS - 1] / 1e3,
                   stopped[TIMING_READS / 2] / 1e3, stopped[TIMING_READS - 1] / 1e3);
    assert_status(g, "running");
}

static gboolean have_qemu(void)
{
    g_autofree char *p = g_find_program_in_path(QEMU_BIN);

    if (!p)
        g_test_skip(QEMU_BIN " not found");
    return p != NULL;
}

static void test_mmu_on_1cpu(void)
{
    g_autoptr(Guest) g = NULL;
    g_autoptr(GdbSctlrReport) r = NULL;

    if (!have_qemu())
        return;
    g = guest_boot("mmu-on", 1, 0);
    r = read_sctlr(g);
    g_assert_cmpuint(r->vcpus->len, ==, 1);
    g_assert_true(g_str_has_prefix(r->regs.sctlr_name, "SCTLR"));
    g_assert_true(gdbstub_sctlr_cacheable(vcpu(r, 0)->sctlr));
    g_assert_false(vcpu(r, 0)->halted);
    g_assert_true(r->resumed);
    g_assert_cmpint(r->stopped_us, >, 0);
    assert_status(g, "running");
    assert_guest_runs(g);
    measure(g, 1);
}

static void test_4cpu(const char *variant, gboolean cacheable)
{
    g_autoptr(Guest) g = NULL;
    g_autoptr(GdbSctlrReport) r = NULL;

    if (!have_qemu())
        return;
    g = guest_boot(variant, 4, 0);
    r = read_sctlr(g);
    g_assert_cmpuint(r->vcpus->len, ==, 4);
    g_assert_cmpint(gdbstub_sctlr_cacheable(vcpu(r, 0)->sctlr), ==, cacheable);
    g_assert_false(gdbstub_vcpu_never_started(vcpu(r, 0)));
    for (guint i = 1; i < 4; i++) {
        /* PSCI keeps the secondaries off: reset SCTLR, halted, pc 0. */
        g_assert_cmpint(vcpu(r, i)->index, ==, (int)i);
        g_assert_false(gdbstub_sctlr_cacheable(vcpu(r, i)->sctlr));
        g_assert_true(gdbstub_vcpu_never_started(vcpu(r, i)));
    }
    assert_status(g, "running");
    assert_guest_runs(g);
    measure(g, 4);
}

static void test_mmu_on_4cpu(void) { test_4cpu("mmu-on", TRUE); }
static void test_mmu_off_4cpu(void) { test_4cpu("mmu-off", FALSE); }

/* mmu-off-late turns the MMU and D-cache off after MMU_OFF_AFTER passes:
 * many, so that the first read surely lands before (a pass over the small
 * window takes about a millisecond under TCG). */
#define MMU_OFF_AFTER   2000

static void test_mmu_off_late(void)
{
    g_autoptr(Guest) g = NULL;
    g_autoptr(GdbSctlrReport) before = NULL;
    g_autoptr(GdbSctlrReport) after = NULL;
    g_autoptr(GError) error = NULL;
    SerialCounts c;

    if (!have_qemu())
        return;
    g = guest_boot("mmu-off-late", 1, MMU_OFF_AFTER);
    before = read_sctlr(g);
    /* Passes reported after the read bound those done before it. */
    serial_counts(vm_serial(g->vm), &c);
    g_test_message("%u passes done at the first read", c.b);
    g_assert_cmpuint(c.b, <, MMU_OFF_AFTER);
    g_assert_true(gdbstub_sctlr_cacheable(vcpu(before, 0)->sctlr));
    g_assert_true(serial_wait_b(vm_serial(g->vm), MMU_OFF_AFTER + 1, "src",
                                deadline_in_ms(BOOT_MS), &error));
    g_assert_no_error(error);
    after = read_sctlr(g);
    g_assert_false(vcpu(after, 0)->sctlr & GDB_SCTLR_M);
    g_assert_false(vcpu(after, 0)->sctlr & GDB_SCTLR_C);
    assert_guest_runs(g);
}

/* A VM paused over QMP stays paused: no stop packet, no 'D'. */
static void test_paused_by_qmp(void)
{
    g_autoptr(Guest) g = NULL;
    g_autoptr(GdbSctlrReport) r = NULL;

    if (!have_qemu())
        return;
    g = guest_boot("mmu-on", 1, 0);
    qmp_ok(g, "stop", NULL);
    r = read_sctlr(g);
    g_assert_true(gdbstub_sctlr_cacheable(vcpu(r, 0)->sctlr));
    g_assert_false(r->stop_packet);
    g_assert_false(r->resumed);
    g_assert_cmpint(r->stopped_us, ==, 0);
    assert_status(g, "paused");
    qmp_ok(g, "cont", NULL);
    assert_status(g, "running");
    assert_guest_runs(g);
}

/* A caller that wrongly says "stopped" about a running VM: no 'D', the VM
 * is left paused (QEMU 7.2's stop packet shows it), QMP 'cont' resumes. */
static void test_wrong_state(void)
{
    g_autoptr(Guest) g = NULL;
    g_autoptr(GdbSctlrReport) r = NULL;
    g_autoptr(GError) error = NULL;

    if (!have_qemu())
        return;
    g = guest_boot("mmu-on", 1, 0);
    r = gdbstub_read_sctlr(g->gdb_path, GDB_VM_STOPPED, deadline_in_ms(READ_MS), &error);
    g_assert_no_error(error);
    log_report(r);
    g_assert_false(r->resumed);
    assert_status(g, "paused");
    qmp_ok(g, "cont", NULL);
    assert_guest_runs(g);
}

static char *migrate_status(Guest *g)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = qmp_execute(vm_qmp(g->vm), "query-migrate", NULL,
                                          deadline_in_ms(READ_MS), &error);
    JsonObject *o;

    g_assert_no_error(error);
    o = json_node_get_object(ret);
    return g_strdup(json_object_has_member(o, "status")
                    ? json_object_get_string_member(o, "status") : "none");
}

static void wait_migrate_status(Guest *g, const char *want)
{
    Deadline d = deadline_in_ms(MIGRATE_MS);

    for (;;) {
        g_autofree char *st = migrate_status(g);

        if (g_str_equal(st, want))
            return;
        if (g_str_equal(st, "failed") || deadline_expired(d))
            g_error("migration is '%s', waited for '%s'", st, want);
        g_usleep(20 * 1000);
    }
}

/* At pause-before-switchover: the stub answers, the VM stays in
 * finish-migrate, and the migration completes after migrate-continue. */
static void test_pre_switchover(void)
{
    g_autoptr(Guest) g = NULL;
    g_autoptr(GdbSctlrReport) r = NULL;
    g_autoptr(JsonObject) caps = json_object_new();
    g_autoptr(JsonObject) params = json_object_new();
    g_autoptr(JsonObject) uri = json_object_new();
    g_autoptr(JsonObject) cont = json_object_new();
    JsonArray *list = json_array_new();
    JsonObject *cap = json_object_new();

    if (!have_qemu()) {
        json_array_unref(list);
        json_object_unref(cap);
        return;
    }
    g = guest_boot("mmu-on", 1, 0);
    json_object_set_string_member(cap, "capability", "pause-before-switchover");
    json_object_set_boolean_member(cap, "state", TRUE);
    json_array_add_object_element(list, cap);
    json_object_set_array_member(caps, "capabilities", list);
    qmp_ok(g, "migrate-set-capabilities", caps);
    /* Converge at once: no downtime or bandwidth limit worth the name. */
    json_object_set_int_member(params, "downtime-limit", 60000);
    json_object_set_int_member(params, "max-bandwidth", G_GINT64_CONSTANT(10) << 30);
    qmp_ok(g, "migrate-set-parameters", params);
    json_object_set_string_member(uri, "uri", "exec:cat > /dev/null");
    qmp_ok(g, "migrate", uri);
    wait_migrate_status(g, "pre-switchover");
    assert_status(g, "finish-migrate");

    r = read_sctlr(g);
    g_assert_true(gdbstub_sctlr_cacheable(vcpu(r, 0)->sctlr));
    g_assert_false(r->stop_packet);
    g_assert_false(r->resumed);
    g_test_message("timing: read at pre-switchover held the stub %.2f ms",
                   r->session_us / 1e3);
    assert_status(g, "finish-migrate");

    json_object_set_string_member(cont, "state", "pre-switchover");
    qmp_ok(g, "migrate-continue", cont);
    wait_migrate_status(g, "completed");
    assert_status(g, "postmigrate");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gdbstub-qemu/mmu-on-1cpu", test_mmu_on_1cpu);
    g_test_add_func("/gdbstub-qemu/mmu-on-4cpu", test_mmu_on_4cpu);
    g_test_add_func("/gdbstub-qemu/mmu-off-4cpu", test_mmu_off_4cpu);
    g_test_add_func("/gdbstub-qemu/mmu-off-late", test_mmu_off_late);
    g_test_add_func("/gdbstub-qemu/paused-by-qmp", test_paused_by_qmp);
    g_test_add_func("/gdbstub-qemu/wrong-state", test_wrong_state);
    g_test_add_func("/gdbstub-qemu/pre-switchover", test_pre_switchover);
    return g_test_run();
}
