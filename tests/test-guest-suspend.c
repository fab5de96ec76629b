/*
 * test-guest-suspend.c: the x86 payload's guest suspend (migtest-abi.h,
 * "Guest suspend"), one QEMU each, no migration.
 *   clean    with suspend after pass 3 the guest prints "ABBBS", QEMU
 *            reports SUSPEND and runstate "suspended", nothing more comes
 *            while it sleeps, a snapshot is generation 3 throughout (the
 *            invariant holds), and after system_wakeup (WAKEUP) the guest
 *            prints 'R' (not a second 'A') and runs on clean from pass 4:
 *            no false alarm.  pc and q35 under TCG, pc under KVM.
 *   no-acpi  without ACPI (-machine pc,acpi=off) the S3 request does
 *            nothing: the guest reports its vCPU still running after its
 *            spin, in one record, and runs on clean (TCG and KVM).
 *   corrupt  a page changed while the guest is suspended (a byte of its
 *            head) is reported after the wake-up at that page's GPA, with
 *            the generation saved before the suspend as expected, once.
 * About 20 s under TCG.
 */
#include <string.h>
#include "guest-harness.h"

#define BOOT_MS 30000           /* launch to QMP; to the bytes we wait for */
#define RECORD_MS 30000
#define SUSPEND_AFTER 3         /* passes before the guest suspends */
#define ASLEEP_MS 300           /* ~30 TCG passes: a sleeping guest prints nothing */
#define MORE_B 3                /* passes after the wake-up */
#define HEAD_FLIP 0x100

typedef HarnessFixture Fixture;

typedef struct {
    const char *machine;
    const char *accel;
} SuspendCase;

static const SuspendCase cases[] = {
    { "pc", "tcg" }, { "q35", "tcg" }, { "pc", "kvm" },
};

static JsonObject *qmp_wait(Guest *g, const char *event)
{
    g_autoptr(GError) error = NULL;
    JsonObject *ev = qmp_wait_event(vm_qmp(g->vm), event, NULL, NULL,
                                    deadline_in_ms(BOOT_MS), &error);

    g_assert_no_error(error);
    return ev;
}

static char *runstate(Guest *g)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) r = qmp_execute(vm_qmp(g->vm), "query-status", NULL,
                                        deadline_in_ms(BOOT_MS), &error);

    g_assert_no_error(error);
    return g_strdup(qmp_get_string(json_node_get_object(r), "status"));
}

static void wait_serial_byte(Guest *g, guint8 byte, guint n)
{
    g_autoptr(GError) error = NULL;

    serial_wait_suspend_byte(vm_serial(g->vm), byte, n, g->label, deadline_in_ms(BOOT_MS),
                             &error);
    g_assert_no_error(error);
}

/* Boot with suspend after SUSPEND_AFTER passes; return once QEMU says the
 * guest is suspended, with the stream "A" "B" x SUSPEND_AFTER "S". */
static Guest *boot_until_suspended(const SuspendCase *sc)
{
    GuestSpec spec = { .arch = "x86_64", .machine = sc->machine, .accel = sc->accel,
                       .suspend = SUSPEND_AFTER };
    g_autoptr(JsonObject) ev = NULL;
    g_autofree char *state = NULL;
    Guest *g = guest_start(&spec, BOOT_MS);
    SerialCounts c;

    wait_serial_byte(g, MT_SERIAL_SUSPEND, 1);
    ev = qmp_wait(g, "SUSPEND");
    state = runstate(g);
    g_assert_cmpstr(state, ==, "suspended");
    c = guest_settle(g, ASLEEP_MS, BOOT_MS);
    g_assert_cmpuint(c.a, ==, 1);
    g_assert_cmpuint(c.b, ==, SUSPEND_AFTER);
    g_assert_cmpuint(c.suspends, ==, 1);
    g_assert_cmpuint(c.resumes, ==, 0);
    g_assert_cmpuint(c.errors, ==, 0);
    g_assert_cmpuint(c.junk, ==, 0);
    return g;
}

static void wake(Guest *g)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) ev = NULL;
    g_autofree char *state = NULL;

    qmp_execute_simple(vm_qmp(g->vm), "system_wakeup", NULL, deadline_in_ms(BOOT_MS), &error);
    g_assert_no_error(error);
    ev = qmp_wait(g, "WAKEUP");
    wait_serial_byte(g, MT_SERIAL_RESUME, 1);
    state = runstate(g);
    g_assert_cmpstr(state, ==, "running");
}

/* The whole stream: 'A', SUSPEND_AFTER 'B', 'S', 'R', then only 'B'. */
static void assert_stream(Guest *g, guint min_b)
{
    gsize len, i;
    g_autofree char *text = guest_serial_text(g, &len);

    g_assert_cmpuint(len, >=, 3 + SUSPEND_AFTER + min_b);
    g_assert_cmpint(text[0], ==, MT_SERIAL_START);
    for (i = 1; i <= SUSPEND_AFTER; i++)
        g_assert_cmpint(text[i], ==, MT_SERIAL_PASS);
    g_assert_cmpint(text[i++], ==, MT_SERIAL_SUSPEND);
    g_assert_cmpint(text[i++], ==, MT_SERIAL_RESUME);
    for (; i < len; i++)
        if (text[i] != MT_SERIAL_PASS)
            g_error("%s: serial byte %zu is 0x%02x, expected 'B' (stream: %.*s)", g->label,
                    i, (guint8)text[i], (int)MIN(len, 200), text);
}

static void test_clean(Fixture *f, gconstpointer data)
{
    const SuspendCase *sc = data;
    g_auto(InvariantResult) inv = { 0 };
    g_autoptr(RamImage) img = NULL;
    Guest *g;

    (void)f;
    if (g_str_equal(sc->accel, "kvm") && !vm_kvm_usable(arch_lookup("x86_64"))) {
        g_test_skip("KVM is not usable on this host");
        return;
    }
    g = boot_until_suspended(sc);
    /* Asleep at a pass boundary: every page holds generation 3. */
    img = guest_ram(g, FALSE);
    guest_assert_invariant(g, img, &inv);
    g_assert_cmpuint(inv.generation, ==, SUSPEND_AFTER);
    g_clear_pointer(&img, ram_image_free);
    wake(g);
    guest_wait_b(g, SUSPEND_AFTER + MORE_B, BOOT_MS);
    assert_stream(g, MORE_B);
    g_assert_cmpuint(guest_counts(g).errors, ==, 0);
    guest_free(g);
}

static void test_corrupt(Fixture *f, gconstpointer data)
{
    const SuspendCase *sc = data;
    g_autoptr(RamImage) img = NULL;
    Guest *g;
    guint64 gpa;
    SerialError want;

    (void)f;
    g = boot_until_suspended(sc);
    gpa = guest_page_gpa(g, guest_window_pages(g) / 2);
    img = guest_ram(g, TRUE);
    g_assert_cmphex(ram_get64(img, gpa), ==, SUSPEND_AFTER);
    ram_put64(img, gpa, SUSPEND_AFTER ^ HEAD_FLIP);
    g_clear_pointer(&img, ram_image_free);
    wake(g);
    want = (SerialError){ .gpa = gpa, .expected = SUSPEND_AFTER,
                          .found = SUSPEND_AFTER ^ HEAD_FLIP };
    guest_expect_records(g, 0, &want, 1, RECORD_MS);
    g_assert_cmpuint(guest_counts(g).resumes, ==, 1);
    guest_free(g);
}

/* No ACPI (-machine pc,acpi=off): the S3 request reaches nothing and the
 * vCPU runs on; after its spin the guest says so in one record and goes
 * on with the next pass, checking every page clean. */
static void test_no_acpi(Fixture *f, gconstpointer data)
{
    GuestSpec spec = { .arch = "x86_64", .machine = "pc,acpi=off", .accel = data,
                       .suspend = SUSPEND_AFTER };
    SerialError want = { .gpa = MT_S3_RECORD, .expected = 0, .found = MT_X86_S3_SPIN };
    gint64 t0;
    Guest *g;

    (void)f;
    if (g_str_equal(data, "kvm") && !vm_kvm_usable(arch_lookup("x86_64"))) {
        g_test_skip("KVM is not usable on this host");
        return;
    }
    g = guest_start(&spec, BOOT_MS);
    wait_serial_byte(g, MT_SERIAL_SUSPEND, 1);
    t0 = g_get_monotonic_time();
    guest_expect_records(g, 0, &want, 1, RECORD_MS);
    g_test_message("%s: S3 record %.1f s after the 'S'", g->label,
                   (g_get_monotonic_time() - t0) / 1e6);
    g_assert_cmpuint(guest_counts(g).resumes, ==, 0);
    g_assert_cmpuint(guest_counts(g).b, >=, SUSPEND_AFTER + 2);
    guest_free(g);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_init();
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/guest/suspend/clean/%s-%s", cases[i].machine,
                                                cases[i].accel);
        g_test_add(path, Fixture, &cases[i], harness_fixture_check, test_clean,
                   harness_fixture_check);
    }
    g_test_add("/guest/suspend/corrupt/pc-tcg", Fixture, &cases[0], harness_fixture_check,
               test_corrupt, harness_fixture_check);
    g_test_add("/guest/suspend/corrupt/q35-tcg", Fixture, &cases[1], harness_fixture_check,
               test_corrupt, harness_fixture_check);
    g_test_add("/guest/suspend/no-acpi/pc-tcg", Fixture, "tcg", harness_fixture_check,
               test_no_acpi, harness_fixture_check);
    g_test_add("/guest/suspend/no-acpi/pc-kvm", Fixture, "kvm", harness_fixture_check,
               test_no_acpi, harness_fixture_check);
    return g_test_run();
}
