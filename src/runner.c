/* runner.c: one case end to end (see runner.h). */
#include "runner.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include "payload.h"

/* Guest boot to first 'B': 0.7 s under TCG, ~10 s under this kind of
 * nested KVM with SeaBIOS; 60 s leaves room for a loaded host. */
#define RUNNER_BOOT_MS 60000
/* Passes the destination must complete after resuming: three, so one
 * full pass checks every page the migration delivered, with margin. */
#define RUNNER_DST_PASSES 3
/* Unlimited in practice: the guest rewrites its whole window every pass,
 * so precopy converges only when a full window fits in the downtime. */
#define RUNNER_MAX_BANDWIDTH (10ull << 30)
/* A 99 MiB window at loopback speed (~1-2 GB/s) takes ~50-100 ms to
 * send; 500 ms lets the last iteration fit on a loaded 2-core host. */
#define RUNNER_DOWNTIME_MS 500

const char *outcome_name(Outcome o)
{
    static const char *const names[] = {
        [OUTCOME_PASS] = "pass", [OUTCOME_FAIL] = "fail",
        [OUTCOME_SKIP] = "skip", [OUTCOME_ERROR] = "error",
    };
    return names[o];
}

void case_result_free(CaseResult *r)
{
    if (!r)
        return;
    g_free(r->name);
    g_free(r->accel);
    g_free(r->src_version);
    g_free(r->dst_version);
    g_free(r->reason);
    g_free(r->log_dir);
    migrate_stats_clear(&r->mig);
    invariant_result_clear(&r->invariant);
    selfcheck_result_clear(&r->selfcheck);
    g_free(r);
}

static void remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
            !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            remove_tree(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}

/* Everything one case owns; torn down in reverse by case_ctx_clear(). */
typedef struct {
    const CaseInstance *c;
    const RunOptions *opts;
    CaseResult *r;
    char *run_dir;
    char *image_path;
    PayloadParams params;
    Vm *src;
    Vm *dst;
    Deadline deadline;
} CaseCtx;

static void case_ctx_clear(CaseCtx *ctx)
{
    g_clear_pointer(&ctx->dst, vm_free);
    g_clear_pointer(&ctx->src, vm_free);
    if (ctx->run_dir && !ctx->opts->keep)
        remove_tree(ctx->run_dir);
    g_free(ctx->run_dir);
    g_free(ctx->image_path);
}

static char *resolve_qemu(const char *wanted, const ArchDesc *arch)
{
    return g_find_program_in_path(wanted ? wanted : arch->qemu_binary);
}

/* The seed's window: RAM base + 1 MiB .. + 100 MiB, a 'B' every pass. */
static void default_params(const ArchDesc *arch, PayloadParams *p)
{
    memset(p, 0, sizeof(*p));
    p->b_every = 1;
    p->nranges = 1;
    p->ranges[0].start = arch->ram_base + MT_DEFAULT_WINDOW_START;
    p->ranges[0].end = arch->ram_base + MT_DEFAULT_WINDOW_END;
}

static gboolean write_payload(CaseCtx *ctx, GError **error)
{
    g_autoptr(GBytes) base = payload_image_lookup(ctx->c->arch->name,
                                                  ctx->c->arch->default_variant);
    g_autoptr(GBytes) img = NULL;

    default_params(ctx->c->arch, &ctx->params);
    img = payload_image_patch(base, &ctx->params, error);
    if (!img)
        return FALSE;
    ctx->image_path = g_build_filename(ctx->run_dir, "payload.bin", NULL);
    return g_file_set_contents(ctx->image_path, g_bytes_get_data(img, NULL),
                               g_bytes_get_size(img), error);
}

static gboolean make_dirs(CaseCtx *ctx, GError **error)
{
    g_autofree char *leaf = g_strdelimit(g_strdup(ctx->c->name + 1), "/", '-');

    ctx->run_dir = g_mkdtemp_full(g_strdup("/dev/shm/migtest-XXXXXX"), 0700);
    if (!ctx->run_dir) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create a run directory "
                    "in /dev/shm: %s", g_strerror(errno));
        return FALSE;
    }
    ctx->r->log_dir = g_build_filename(ctx->opts->results_dir, leaf, NULL);
    remove_tree(ctx->r->log_dir);
    if (g_mkdir_with_parents(ctx->r->log_dir, 0700) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create log directory "
                    "'%s': %s; pass a writable --results DIR", ctx->r->log_dir,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

static Vm *launch(CaseCtx *ctx, const char *name, const char *binary,
                  gboolean incoming, GError **error)
{
    VmConfig cfg = {
        .group = ctx->opts->group,
        .arch = ctx->c->arch,
        .name = name,
        .qemu_binary = binary,
        .machine = ctx->opts->machine ? ctx->opts->machine : ctx->c->arch->default_machine,
        .accel = ctx->r->accel,
        .mem_bytes = ctx->opts->mem_bytes,
        .ram_mode = ctx->opts->ram_mode,
        .image_path = ctx->image_path,
        .run_dir = ctx->run_dir,
        .log_dir = ctx->r->log_dir,
        .incoming = incoming,
        /* The destination stays paused after completion, so exact can
         * compare it with the stopped source before it runs again. */
        .start_paused = incoming,
    };

    return vm_launch(&cfg, deadline_min(ctx->deadline, deadline_in_ms(RUNNER_BOOT_MS)),
                     error);
}

static gboolean boot_both(CaseCtx *ctx, GError **error)
{
    g_autofree char *src_bin = resolve_qemu(ctx->opts->src_qemu, ctx->c->arch);
    g_autofree char *dst_bin = resolve_qemu(ctx->opts->dst_qemu, ctx->c->arch);

    if (!src_bin || !dst_bin) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "%s not found; install "
                    "Debian's qemu-system package for %s",
                    src_bin ? (ctx->opts->dst_qemu ? ctx->opts->dst_qemu : ctx->c->arch->qemu_binary)
                            : (ctx->opts->src_qemu ? ctx->opts->src_qemu : ctx->c->arch->qemu_binary),
                    ctx->c->arch->name);
        return FALSE;
    }
    ctx->src = launch(ctx, "src", src_bin, FALSE, error);
    if (!ctx->src)
        return FALSE;
    ctx->dst = launch(ctx, "dst", dst_bin, TRUE, error);
    if (!ctx->dst)
        return FALSE;
    ctx->r->src_version = g_strdup(qmp_version(vm_qmp(ctx->src)));
    ctx->r->dst_version = g_strdup(qmp_version(vm_qmp(ctx->dst)));
    /* The first 'B' proves the whole window has been written once. */
    return serial_wait_b(vm_serial(ctx->src), 1, "src",
                         deadline_min(ctx->deadline, deadline_in_ms(RUNNER_BOOT_MS)),
                         error);
}

static gboolean poke_source(CaseCtx *ctx, GError **error)
{
    g_autoptr(RamImage) img = vm_ram_image(ctx->src, FALSE, error);
    guint64 off;
    guint8 b;

    if (!img)
        return FALSE;
    if (!ram_layout_gpa_to_offset(&img->layout, ctx->opts->poke_src_gpa, &off)) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "poke gpa is not RAM");
        return FALSE;
    }
    b = img->data[off] ^ 0xff;
    return vm_ram_poke(ctx->src, ctx->opts->poke_src_gpa, &b, 1, error);
}

static gboolean verify_snapshots(CaseCtx *ctx, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(RamImage) s = vm_ram_image(ctx->src, FALSE, error);
    g_autoptr(RamImage) d = s ? vm_ram_image(ctx->dst, FALSE, error) : NULL;
    gboolean exact_ok, inv_ok;
    g_autoptr(GError) inv_err = NULL;

    if (!d)
        return FALSE;
    ctx->r->exact_ran = TRUE;
    exact_ok = verify_exact(s, d, &ctx->r->exact, error);
    ctx->r->invariant_ran = TRUE;
    inv_ok = verify_invariant(d, &ctx->params, &ctx->r->invariant, &inv_err);
    ctx->r->verify_ms = (g_get_monotonic_time() - t0) / 1000;
    if (exact_ok && !inv_ok)
        g_propagate_error(error, g_steal_pointer(&inv_err));
    return exact_ok && inv_ok;
}

static void selfcheck_side_fill(SelfcheckSide *side, Vm *vm, guint expect_a)
{
    side->side = vm_name(vm);
    side->expect_a = expect_a;
    serial_counts(vm_serial(vm), &side->counts);
    side->errors = serial_errors_dup(vm_serial(vm));
}

static gboolean run_selfcheck(CaseCtx *ctx, GError **error)
{
    SelfcheckSide sides[2];
    gboolean ok;

    if (!qmp_execute_simple(vm_qmp(ctx->dst), "cont", NULL, ctx->deadline, error) ||
        !serial_wait_b(vm_serial(ctx->dst), RUNNER_DST_PASSES, "dst",
                       ctx->deadline, error))
        return FALSE;
    selfcheck_side_fill(&sides[0], ctx->src, 1);
    /* The destination continues the source's run: no second 'A'. */
    selfcheck_side_fill(&sides[1], ctx->dst, 0);
    ctx->r->selfcheck_ran = TRUE;
    ok = verify_selfcheck(sides, 2, &ctx->r->selfcheck, error);
    g_array_unref(sides[0].errors);
    g_array_unref(sides[1].errors);
    return ok;
}

static gboolean migrate_case(CaseCtx *ctx, GError **error)
{
    MigrateConfig mc = {
        .transport = ctx->c->desc->transport,
        .max_bandwidth = RUNNER_MAX_BANDWIDTH,
        .downtime_limit_ms = RUNNER_DOWNTIME_MS,
        .capabilities = ctx->c->desc->capabilities,
    };

    return migrate_run(ctx->src, ctx->dst, &mc, ctx->run_dir, ctx->deadline,
                       &ctx->r->mig, error);
}

static Outcome classify(const GError *e, gboolean setup_done)
{
    if (e->domain == MT_ERROR && e->code == MT_ERROR_UNSUPPORTED)
        return OUTCOME_SKIP;
    if (!setup_done)
        return OUTCOME_ERROR;
    if (e->domain == MT_ERROR && (e->code == MT_ERROR_ENV || e->code == MT_ERROR_USAGE ||
                                  e->code == MT_ERROR_PROTOCOL))
        return OUTCOME_ERROR;
    return OUTCOME_FAIL;
}

static void run_phases(CaseCtx *ctx)
{
    g_autoptr(GError) error = NULL;
    gboolean setup_done = FALSE;

    if (make_dirs(ctx, &error) && write_payload(ctx, &error) &&
        boot_both(ctx, &error) && (setup_done = TRUE) &&
        migrate_case(ctx, &error) &&
        (!ctx->opts->poke_src_gpa || poke_source(ctx, &error)) &&
        verify_snapshots(ctx, &error) && run_selfcheck(ctx, &error)) {
        ctx->r->outcome = OUTCOME_PASS;
        return;
    }
    ctx->r->outcome = classify(error, setup_done);
    ctx->r->reason = g_strdup(error->message);
}

CaseResult *runner_run_case(const CaseInstance *c, const RunOptions *opts)
{
    CaseResult *r = g_new0(CaseResult, 1);
    CaseCtx ctx = { .c = c, .opts = opts, .r = r };
    gint64 t0 = g_get_monotonic_time();
    int sig;

    r->name = g_strdup(c->name);
    r->arch = c->arch->name;
    r->accel = g_strdup(opts->accel ? opts->accel
                        : vm_kvm_usable(c->arch) ? "kvm" : "tcg");
    ctx.deadline = deadline_in_ms(opts->timeout_ms);
    run_phases(&ctx);
    case_ctx_clear(&ctx);
    sig = vm_group_interrupted(opts->group);
    if (sig) {
        r->outcome = OUTCOME_ERROR;
        g_free(r->reason);
        r->reason = g_strdup_printf("interrupted by signal %d (%s)", sig, g_strsignal(sig));
    }
    if (r->outcome == OUTCOME_PASS || r->outcome == OUTCOME_SKIP) {
        if (!opts->keep && r->log_dir) {
            remove_tree(r->log_dir);
            g_clear_pointer(&r->log_dir, g_free);
        }
    }
    r->wall_ms = (g_get_monotonic_time() - t0) / 1000;
    return r;
}
