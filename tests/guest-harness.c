/* guest-harness.c: one payload in one QEMU, no migration (see guest-harness.h). */
#include "guest-harness.h"
#include "leftovers.h"
#include "rundir.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#define GH_VM_NAME "guest"
#define GH_SHUTDOWN_MS 10000
#define GH_POLL_MS 10

/* ---- Cleanup when the test dies --------------------------------------- */

/*
 * A failed g_assert aborts the process; meson kills it with SIGTERM on a
 * timeout.  QEMU itself dies with us (PR_SET_PDEATHSIG), but its RAM file
 * (up to 5 GiB of tmpfs) would stay in /dev/shm.  So every live guest is
 * registered here with precomputed paths, and the handler uses only
 * async-signal-safe calls: kill, waitpid, unlink, rmdir, write.
 */
#define GH_MAX_LIVE 4
#define GH_PATH 256
static const char *const run_dir_files[] = {
    "payload.bin", GH_VM_NAME ".ram", GH_VM_NAME ".qmp", GH_VM_NAME ".serial",
    GH_VM_NAME ".gdb",
};
#define GH_NFILES G_N_ELEMENTS(run_dir_files)

typedef struct {
    volatile sig_atomic_t used;
    volatile pid_t pid;
    char dir[GH_PATH];
    char files[GH_NFILES][GH_PATH];
    char log_dir[GH_PATH];
} LiveSlot;

static LiveSlot live[GH_MAX_LIVE];
/* Every run dir this process created (char *), for the leftover check. */
static GPtrArray *all_run_dirs;

static void say(const char *s)
{
    (void)!write(STDERR_FILENO, s, strlen(s));
}

static void harness_emergency_cleanup(int sig)
{
    for (guint i = 0; i < GH_MAX_LIVE; i++) {
        LiveSlot *s = &live[i];
        if (!s->used)
            continue;
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
        }
        for (guint f = 0; f < GH_NFILES; f++)
            unlink(s->files[f]);
        rmdir(s->dir);
        say("guest-harness: killed QEMU and removed ");
        say(s->dir);
        say(" after a failure; logs kept in ");
        say(s->log_dir);
        say("\n");
        s->used = 0;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void harness_init(void)
{
    struct sigaction sa = { .sa_handler = harness_emergency_cleanup };

    sigemptyset(&sa.sa_mask);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTRAP, &sa, NULL);     /* g_error(): GLib raises SIGTRAP, not SIGABRT */
}

static LiveSlot *live_register(const char *dir, const char *log_dir)
{
    for (guint i = 0; i < GH_MAX_LIVE; i++) {
        LiveSlot *s = &live[i];
        if (s->used)
            continue;
        s->pid = 0;
        g_assert_cmpuint(strlen(dir) + 1 + 32, <, GH_PATH);
        g_assert_cmpuint(strlen(log_dir), <, GH_PATH);
        g_strlcpy(s->dir, dir, GH_PATH);
        g_strlcpy(s->log_dir, log_dir, GH_PATH);
        for (guint f = 0; f < GH_NFILES; f++)
            g_snprintf(s->files[f], GH_PATH, "%s/%s", dir, run_dir_files[f]);
        s->used = 1;
        return s;
    }
    g_error("guest-harness: more than %d live guests", GH_MAX_LIVE);
}

static LiveSlot *live_find(const char *dir)
{
    for (guint i = 0; i < GH_MAX_LIVE; i++)
        if (live[i].used && g_str_equal(live[i].dir, dir))
            return &live[i];
    return NULL;
}

guint harness_count_children(void)
{
    return leftovers_children(getpid(), NULL, NULL);
}

void harness_assert_no_leftovers(void)
{
    g_assert_cmpuint(harness_count_children(), ==, 0);
    for (guint i = 0; i < GH_MAX_LIVE; i++)
        g_assert_false(live[i].used);
    for (guint i = 0; all_run_dirs && i < all_run_dirs->len; i++)
        if (g_file_test(all_run_dirs->pdata[i], G_FILE_TEST_EXISTS))
            g_error("run dir %s was left behind", (char *)all_run_dirs->pdata[i]);
}

/* ---- Boot and teardown -------------------------------------------------- */

static void fill_params(const GuestSpec *spec, const ArchDesc *arch, PayloadParams *p)
{
    p->b_every = spec->b_every ? spec->b_every : 1;
    if (spec->nranges) {
        p->nranges = spec->nranges;
        memcpy(p->ranges, spec->ranges, sizeof(p->ranges));
    } else {
        p->nranges = 1;
        p->ranges[0].start = arch->ram_base + MT_DEFAULT_WINDOW_START;
        p->ranges[0].end = arch->ram_base + MT_DEFAULT_WINDOW_END;
    }
    for (guint i = p->nranges; i < MT_MAX_RANGES; i++)
        p->ranges[i] = (PayloadRange){ 0, 0 };
    if (spec->set_mmu_off_after)
        p->mmu_off_after = spec->mmu_off_after;
    p->zero_every = spec->zero_every;
    p->zero_pages = spec->zero_pages;
    p->zero_method = spec->zero_method;
    p->fill = spec->fill;
    p->hot_pages = spec->hot_pages;
    p->hot_op = spec->hot_op;
    p->canaries = spec->canaries;
    p->vcpus = spec->vcpus;
    p->suspend = spec->suspend;
    p->devprobe = spec->devprobe;
}

Guest *guest_start(const GuestSpec *spec, gint64 timeout_ms)
{
    Guest *g = g_new0(Guest, 1);
    const char *variant, *machine, *accel;
    g_autoptr(GBytes) base = NULL;
    g_autoptr(GBytes) img = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *image_path = NULL;
    g_autofree char *qemu = NULL;
    LiveSlot *slot;
    VmConfig cfg;

    g->arch = arch_lookup(spec->arch);
    g_assert_nonnull(g->arch);
    variant = spec->variant ? spec->variant : g->arch->default_variant;
    machine = spec->machine ? spec->machine : g->arch->default_machine;
    accel = spec->accel ? spec->accel : "tcg";
    g->label = g_strdup_printf("%s/%s/%s/%s", g->arch->name, variant, machine, accel);

    base = payload_image_lookup(g->arch->name, variant);
    g_assert_nonnull(base);
    /* Start from the image's own block (keeps mmu-off-late's default). */
    payload_params_read(base, &g->params, &error);
    g_assert_no_error(error);
    fill_params(spec, g->arch, &g->params);
    img = payload_image_patch(base, &g->params, &error);
    g_assert_no_error(error);
    if (spec->raw_field) {
        gsize len;
        guint8 *raw = g_memdup2(g_bytes_get_data(img, &len), g_bytes_get_size(img));
        guint32 v = GUINT32_TO_LE(spec->raw_value);

        g_assert_cmpuint(spec->raw_field + sizeof(v), <=, MT_PARAM_SIZE);
        memcpy(raw + MT_PARAM_OFFSET + spec->raw_field, &v, sizeof(v));
        g_bytes_unref(img);
        img = g_bytes_new_take(raw, len);
    }

    qemu = g_find_program_in_path(g->arch->qemu_binary);
    if (!qemu)
        g_error("%s not found in PATH", g->arch->qemu_binary);

    g->run_dir = rundir_new(NULL);
    g_assert_nonnull(g->run_dir);
    if (!all_run_dirs)
        all_run_dirs = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(all_run_dirs, g_strdup(g->run_dir));
    g->log_dir = g_dir_make_tmp("migtest-guest-XXXXXX", &error);
    g_assert_no_error(error);
    slot = live_register(g->run_dir, g->log_dir);
    image_path = g_build_filename(g->run_dir, "payload.bin", NULL);
    g_file_set_contents(image_path, g_bytes_get_data(img, NULL), g_bytes_get_size(img),
                        &error);
    g_assert_no_error(error);

    cfg = (VmConfig){
        .arch = g->arch,
        .name = GH_VM_NAME,
        .qemu_binary = qemu,
        .machine = machine,
        .accel = accel,
        .mem_bytes = spec->mem_bytes ? spec->mem_bytes : MT_DEFAULT_MEM_MIB * GH_MIB,
        .ram_mode = VM_RAM_SHARED,
        .image_path = image_path,
        .run_dir = g->run_dir,
        .log_dir = g->log_dir,
        .gdbstub = spec->gdbstub,
        .vcpus = spec->smp ? spec->smp : spec->vcpus,
    };
    g_test_message("%s: %" G_GUINT64_FORMAT " MiB, %u range(s), %" G_GUINT64_FORMAT
                   " pages, b_every %u; run dir %s, logs in %s", g->label,
                   cfg.mem_bytes >> 20, g->params.nranges, payload_params_pages(&g->params),
                   g->params.b_every, g->run_dir, g->log_dir);
    g->t_launch = g_get_monotonic_time();
    g->vm = vm_launch(&cfg, deadline_in_ms(timeout_ms), &error);
    g_assert_no_error(error);
    g_assert_nonnull(g->vm);
    slot->pid = vm_pid(g->vm);
    return g;
}

void guest_free(Guest *g)
{
    LiveSlot *slot;
    GPid pid;
    gboolean clean;

    if (!g)
        return;
    slot = live_find(g->run_dir);
    pid = vm_pid(g->vm);
    clean = vm_shutdown(g->vm, deadline_in_ms(GH_SHUTDOWN_MS));
    vm_free(g->vm);
    if (!clean)
        g_error("%s: QEMU (pid %d) did not exit on 'quit' within %d ms", g->label,
                (int)pid, GH_SHUTDOWN_MS);
    /* Reaped: the pid no longer names our child. */
    g_assert_cmpint(kill(pid, 0) == 0 ? 0 : errno, ==, ESRCH);
    rundir_remove(g->run_dir);
    g_assert_false(g_file_test(g->run_dir, G_FILE_TEST_EXISTS));
    if (slot)
        slot->used = 0;
    rundir_remove(g->log_dir);
    g_free(g->run_dir);
    g_free(g->log_dir);
    g_free(g->label);
    g_free(g);
}

/* ---- Control and serial ------------------------------------------------- */

static void guest_qmp_simple(Guest *g, const char *cmd)
{
    g_autoptr(GError) error = NULL;

    qmp_execute_simple(vm_qmp(g->vm), cmd, NULL, deadline_in_ms(10000), &error);
    g_assert_no_error(error);
}

void guest_stop(Guest *g)
{
    guest_qmp_simple(g, "stop");
}

void guest_cont(Guest *g)
{
    guest_qmp_simple(g, "cont");
}

SerialCounts guest_counts(Guest *g)
{
    SerialCounts c;

    serial_counts(vm_serial(g->vm), &c);
    return c;
}

void guest_wait_b(Guest *g, guint b, gint64 timeout_ms)
{
    g_autoptr(GError) error = NULL;

    serial_wait_b(vm_serial(g->vm), b, g->label, deadline_in_ms(timeout_ms), &error);
    g_assert_no_error(error);
}

void guest_wait_errors(Guest *g, guint n, gint64 timeout_ms)
{
    Deadline d = deadline_in_ms(timeout_ms);
    SerialCounts c;

    /* serial.h has no wait for 'E': poll, with a deadline. */
    for (;;) {
        c = guest_counts(g);
        if (c.errors >= n || c.closed || deadline_expired(d))
            break;
        g_usleep(GH_POLL_MS * 1000);
    }
    if (c.errors < n)
        g_error("%s: %s waiting for %u error records (seen: %u 'A', %u 'B', %u 'E', "
                "%u junk)", g->label, c.closed ? "stream closed while" : "timed out",
                n, c.a, c.b, c.errors, c.junk);
}

void guest_expect_records(Guest *g, guint before, const SerialError *want, guint nwant,
                          gint64 timeout_ms)
{
    g_autoptr(GArray) errs = NULL;
    gint64 t0 = g_get_monotonic_time();
    SerialCounts c;

    guest_wait_errors(g, before + nwant, timeout_ms);
    g_test_message("%s: %u record(s) %.1f ms after the wait began", g->label, nwant,
                   (g_get_monotonic_time() - t0) / 1e3);
    /* Two more 'B': the rest of this pass and one whole pass, so every
     * page has been checked again after the guest's repair. */
    c = guest_counts(g);
    guest_wait_b(g, c.b + 2, timeout_ms);
    c = guest_counts(g);
    errs = serial_errors_dup(vm_serial(g->vm));
    for (guint j = before; j < errs->len; j++) {
        g_autofree char *d = serial_error_describe(&g_array_index(errs, SerialError, j));
        g_test_message("%s: %s", g->label, d);
    }
    g_assert_cmpuint(errs->len, ==, before + nwant);
    for (guint j = 0; j < nwant; j++) {
        const SerialError *e = &g_array_index(errs, SerialError, before + j);
        g_assert_cmphex(e->gpa, ==, want[j].gpa);
        g_assert_cmphex(e->expected, ==, want[j].expected);
        g_assert_cmphex(e->found, ==, want[j].found);
    }
    g_assert_cmpuint(c.a, ==, 1);
    g_assert_cmpuint(c.junk, ==, 0);
    g_assert_false(c.closed);
}

SerialCounts guest_settle(Guest *g, gint64 quiet_ms, gint64 timeout_ms)
{
    Deadline d = deadline_in_ms(timeout_ms);
    SerialCounts c = guest_counts(g), now;
    gint64 since = g_get_monotonic_time();

    while (g_get_monotonic_time() - since < quiet_ms * 1000) {
        if (deadline_expired(d))
            g_error("%s: serial stream still moving after %" G_GINT64_FORMAT " ms "
                    "(%u 'B')", g->label, timeout_ms, c.b);
        g_usleep(GH_POLL_MS * 1000);
        now = guest_counts(g);
        if (memcmp(&now, &c, sizeof(c)) != 0) {
            c = now;
            since = g_get_monotonic_time();
        }
    }
    return c;
}

char *guest_serial_text(Guest *g, gsize *len)
{
    g_autofree char *path = g_build_filename(g->log_dir, GH_VM_NAME ".serial", NULL);
    g_autoptr(GError) error = NULL;
    char *text = NULL;

    g_file_get_contents(path, &text, len, &error);
    g_assert_no_error(error);
    return text;
}

void guest_assert_clean(Guest *g, guint min_b)
{
    SerialCounts c = guest_counts(g);
    g_autoptr(GArray) errs = serial_errors_dup(vm_serial(g->vm));
    gsize len;
    g_autofree char *text = guest_serial_text(g, &len);

    for (guint i = 0; i < errs->len; i++) {
        g_autofree char *d = serial_error_describe(&g_array_index(errs, SerialError, i));
        g_test_message("%s: %s", g->label, d);
    }
    g_assert_cmpuint(c.errors, ==, 0);
    g_assert_cmpuint(c.junk, ==, 0);
    g_assert_cmpuint(c.a, ==, 1);
    g_assert_cmpuint(c.b, >=, min_b);
    g_assert_false(c.closed);
    /* The order: 'A' first, then nothing but 'B'. */
    g_assert_cmpuint(len, >=, 1 + min_b);
    g_assert_cmpint(text[0], ==, MT_SERIAL_START);
    for (gsize i = 1; i < len; i++)
        if (text[i] != MT_SERIAL_PASS)
            g_error("%s: serial byte %zu is 0x%02x, expected 'B' (stream: %.*s)",
                    g->label, i, (guint8)text[i], (int)MIN(len, 200), text);
}

void guest_timing(Guest *g, double *first_b_s, double *pass_ms)
{
    g_autoptr(GArray) t = serial_b_times_dup(vm_serial(g->vm));
    gint64 t0, tn;

    g_assert_cmpuint(t->len, >=, 1);
    t0 = g_array_index(t, gint64, 0);
    tn = g_array_index(t, gint64, t->len - 1);
    *first_b_s = (t0 - g->t_launch) / 1e6;
    *pass_ms = t->len > 1 ? (tn - t0) / 1e3 / (t->len - 1) / g->params.b_every : 0;
    g_test_message("timing %s: %" G_GUINT64_FORMAT " pages: first 'B' %.3f s after "
                   "launch, %.2f ms per pass (%u 'B')", g->label,
                   payload_params_pages(&g->params), *first_b_s, *pass_ms, t->len);
}

/* ---- RAM ----------------------------------------------------------------- */

RamImage *guest_ram(Guest *g, gboolean writable)
{
    g_autoptr(GError) error = NULL;
    RamImage *img = vm_ram_image(g->vm, writable, &error);

    g_assert_no_error(error);
    return img;
}

guint8 *ram_at(const RamImage *img, guint64 gpa, gsize len)
{
    guint64 off = 0;

    if (!ram_layout_gpa_to_offset(&img->layout, gpa, &off) ||
        off + len > img->layout.total)
        g_error("gpa 0x%" G_GINT64_MODIFIER "x (+%zu) is not guest RAM", gpa, len);
    return img->data + off;
}

guint64 ram_get64(const RamImage *img, guint64 gpa)
{
    guint64 v;

    memcpy(&v, ram_at(img, gpa, sizeof(v)), sizeof(v));
    return GUINT64_FROM_LE(v);
}

void ram_put64(RamImage *img, guint64 gpa, guint64 v)
{
    v = GUINT64_TO_LE(v);
    memcpy(ram_at(img, gpa, sizeof(v)), &v, sizeof(v));
}

gboolean ram_page_is_zero(const RamImage *img, guint64 gpa)
{
    const guint8 *p = ram_at(img, gpa, MT_PAGE_SIZE);

    for (guint i = 0; i < MT_PAGE_SIZE; i++)
        if (p[i])
            return FALSE;
    return TRUE;
}

void guest_assert_invariant(Guest *g, const RamImage *img, InvariantResult *r)
{
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    gboolean ok = verify_invariant(img, &g->params, r, &error);

    g_test_message("%s: invariant in %.1f ms: %s", g->label,
                   (g_get_monotonic_time() - t0) / 1e3, r->detail);
    g_assert_no_error(error);
    g_assert_true(ok && r->ok);
    g_assert_cmpuint(r->pages_checked, ==, payload_params_pages(&g->params));
    g_assert_cmpuint(r->generation, >=, 1);
}

void guest_assert_b_count(Guest *g, const InvariantResult *inv, guint b)
{
    guint64 H = inv->generation, every = g->params.b_every;
    guint64 lo = (H - 1) / every, hi = inv->boundary_gpa ? lo : H / every;

    g_test_message("%s: paused at generation %" G_GUINT64_FORMAT ", boundary 0x%"
                   G_GINT64_MODIFIER "x: %u 'B', expected %" G_GUINT64_FORMAT "..%"
                   G_GUINT64_FORMAT " (b_every %" G_GUINT64_FORMAT ")", g->label, H,
                   inv->boundary_gpa, b, lo, hi, every);
    g_assert_cmpuint(b, >=, lo);
    g_assert_cmpuint(b, <=, hi);
}

guint64 guest_window_pages(Guest *g)
{
    return payload_params_pages(&g->params);
}

guint64 guest_page_gpa(Guest *g, guint64 index)
{
    for (guint r = 0; r < g->params.nranges; r++) {
        guint64 n = (g->params.ranges[r].end - g->params.ranges[r].start) / MT_PAGE_SIZE;
        if (index < n)
            return g->params.ranges[r].start + index * MT_PAGE_SIZE;
        index -= n;
    }
    g_error("page index beyond the window");
}

guint64 guest_page_index(Guest *g, guint64 gpa)
{
    guint64 before = 0;

    for (guint r = 0; r < g->params.nranges; r++) {
        const PayloadRange *pr = &g->params.ranges[r];
        if (gpa >= pr->start && gpa < pr->end)
            return before + (gpa - pr->start) / MT_PAGE_SIZE;
        before += (pr->end - pr->start) / MT_PAGE_SIZE;
    }
    g_error("gpa 0x%" G_GINT64_MODIFIER "x is outside the window", gpa);
}

void harness_fixture_check(HarnessFixture *f, gconstpointer unused)
{
    (void)f;
    (void)unused;
    harness_assert_no_leftovers();
}
