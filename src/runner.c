/* runner.c: one case end to end (see runner.h). */
#include "runner.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include "case-payload.h"
#include "devprobe.h"
#include "evidence.h"
#include "rundir.h"
#include "suspend.h"

/* Passes the destination must complete after resuming: three, so one
 * full pass checks every page the migration delivered, with margin. */
#define RUNNER_DST_PASSES 3
/* Kernel + initramfs + the buffer, with room to spare. */
#define LINUX_MEM_MIB 512
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
    g_free(r->observed);
    g_free(r->log_dir);
    migrate_stats_clear(&r->mig);
    coherency_result_clear(&r->coherency);
    invariant_result_clear(&r->invariant);
    exact_result_clear(&r->exact);
    selfcheck_result_clear(&r->selfcheck);
    if (r->hops)
        g_array_unref(r->hops);
    g_free(r);
}

/* Everything one case owns; torn down by case_ctx_clear(). */
typedef struct {
    const CaseInstance *c;
    const CaseDesc *d;
    const RunOptions *opts;
    CaseResult *r;
    char *run_dir;
    CasePayload payload;        /* the image or the linux kernel + initramfs */
    PairSpec spec;              /* what the backend is asked to boot */
    Pair *pair;
    Deadline deadline;
    MmuPolicy policy;           /* the coherency policy in force */
    gboolean guard;             /* the coherency guard is active */
    gboolean guard_switchover;  /* ... and checks again at pre-switchover */
    gboolean refused;           /* the guard refused the migration */
    gboolean cancel_accepted;   /* a postcopy cancel accepted without time travel */
    guint b_at_start;           /* OBSERVE_POINT_IN_TIME: src passes before migrate */
    guint b_at_suspend;         /* guest suspend: src passes before its 'S' */
    guint hop;                  /* ping-pong: the migration being verified, from 1 */
    /* Several vCPUs: each side's beats per vCPU when it last ran more
     * passes (run_more_passes): every vCPU must beat after that. */
    guint beats_since[2][MT_MAX_VCPUS];
    Progress progress;          /* -v, -vv */
} CaseCtx;

static void case_ctx_clear(CaseCtx *ctx)
{
    g_clear_pointer(&ctx->pair, pair_free);
    if (ctx->run_dir && !ctx->opts->keep)
        rundir_remove(ctx->run_dir);
    g_free(ctx->run_dir);
    case_payload_clear(&ctx->payload);
}

static gboolean make_payload(CaseCtx *ctx, GError **error)
{
    if (!case_payload_make(ctx->c, ctx->r->accel, case_guest_mem(ctx->c->desc, ctx->opts->mem_bytes),
                           &ctx->payload, error))
        return FALSE;
    ctx->r->window = ctx->payload.params;
    return TRUE;
}

static gboolean make_dirs(CaseCtx *ctx, GError **error)
{
    g_autofree char *leaf = g_strdelimit(g_strdup(ctx->c->name + 1), "/", '-');

    ctx->run_dir = rundir_new(error);
    if (!ctx->run_dir)
        return FALSE;
    ctx->r->log_dir = g_build_filename(ctx->opts->results_dir, leaf, NULL);
    rundir_remove(ctx->r->log_dir);
    if (g_mkdir_with_parents(ctx->r->log_dir, 0700) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create log directory "
                    "'%s': %s; pass a writable --results DIR", ctx->r->log_dir,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* Binaries, accelerator and machine type, before any QEMU starts. */
/* What the backend is asked to boot: the same for every backend. */
static gboolean make_spec(CaseCtx *ctx, GError **error)
{
    const CaseDesc *d = ctx->d;
    const char *why = backend_cannot_run(ctx->opts->backend, d);

    if (why) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "%s", why);
        return FALSE;
    }
    /* The hazard the guard exists for is Arm KVM's: under TCG QEMU's view
     * of RAM is coherent, so a backend without the guard may go on. */
    if (ctx->c->arch->coherency_guard && ctx->policy != MMU_POLICY_IGNORE &&
        !backend_has_guard(ctx->opts->backend) && g_str_has_prefix(ctx->r->accel, "kvm")) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "the coherency guard reads "
                    "SCTLR_EL1 through QEMU's gdbstub, which the %s backend lacks; pass "
                    "--mmu-policy ignore to migrate unguarded",
                    backend_name(ctx->opts->backend));
        return FALSE;
    }
    if (d->only_accel && !g_str_equal(d->only_accel, ctx->r->accel)) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "needs accel %s; this run "
                    "uses %s", d->only_accel, ctx->r->accel);
        return FALSE;
    }
    ctx->spec = (PairSpec){
        .arch = ctx->c->arch,
        .desc = d,
        .opts = ctx->opts,
        .case_name = ctx->c->name,
        .accel = ctx->r->accel,
        .run_dir = ctx->run_dir,
        .log_dir = ctx->r->log_dir,
        .mem_bytes = d->linux_guest ? MAX(ctx->opts->mem_bytes, (guint64)LINUX_MEM_MIB << 20)
                                    : case_guest_mem(d, ctx->opts->mem_bytes),
        .image = ctx->payload.image,
        .kernel = ctx->payload.kernel,
        .initrd = ctx->payload.initrd,
        .append = ctx->payload.append,
        .cpu = d->linux_guest && !g_str_has_prefix(ctx->r->accel, "kvm")
               ? ctx->c->arch->linux_cpu_tcg : NULL,
        .vcpus = d->vcpus,
        .serial_lines = d->linux_guest,
        .guard = ctx->guard,
        .deadline = ctx->deadline,
        .progress = &ctx->progress,
    };
    return TRUE;
}

static gboolean boot_both(CaseCtx *ctx, GError **error)
{
    progress_phase(&ctx->progress, "boot: source and destination (backend %s, accel %s)",
                   backend_name(ctx->opts->backend), ctx->r->accel);
    ctx->pair = pair_new(&ctx->spec, error);
    if (!ctx->pair || !pair_boot(ctx->pair, error))
        return FALSE;
    ctx->r->src_version = g_strdup(pair_version(ctx->pair, SIDE_SRC));
    ctx->r->dst_version = g_strdup(pair_version(ctx->pair, SIDE_DST));
    return TRUE;
}

static Serial *side_serial(CaseCtx *ctx, Side side)
{
    return pair_serial(ctx->pair, side);
}

static const char *side_name(CaseCtx *ctx, Side side)
{
    return pair_side_name(ctx->pair, side);
}

static gboolean stop_source(CaseCtx *ctx, GError **error)
{
    gboolean running = TRUE;

    if (!pair_stop(ctx->pair, SIDE_SRC, error) ||
        !pair_is_running(ctx->pair, SIDE_SRC, &running, error))
        return FALSE;
    if (running) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "src still running after 'stop'");
        return FALSE;
    }
    return TRUE;
}

/* The coherency policy acts on an unsafe check made at @when. */
static gboolean guard_act(CaseCtx *ctx, const char *when, gboolean *cancel, GError **error)
{
    CoherencyResult *co = &ctx->r->coherency;
    const CoherencyCheck *c = &g_array_index(co->checks, CoherencyCheck, co->checks->len - 1);

    if (!co->fired)             /* the first check that acted */
        co->fired = when;
    switch (ctx->policy) {
    case MMU_POLICY_WARN: {
        char *more = g_strdup_printf("%s%smigrated although at %s %s",
                                     co->warning ? co->warning : "", co->warning ? "; " : "",
                                     when, c->detail);
        g_free(co->warning);
        co->warning = more;
        return TRUE;
    }
    case MMU_POLICY_STOP_COPY:
        /* At start: pause the vCPUs and migrate non-live.  At
         * pre-switchover pages already went out live: refuse. */
        if (g_str_equal(when, "start"))
            return stop_source(ctx, error);
        /* fall through */
    case MMU_POLICY_REFUSE:
        ctx->refused = TRUE;
        *cancel = TRUE;
        return TRUE;
    case MMU_POLICY_IGNORE:
        break;
    }
    g_assert_not_reached();
}

static gboolean guard_at_pre_switchover(gpointer opaque, gboolean *cancel, GError **error)
{
    CaseCtx *ctx = opaque;
    gboolean safe;

    if (!pair_coherency_check(ctx->pair, "pre-switchover", &ctx->r->coherency, &safe, error))
        return FALSE;
    return safe || guard_act(ctx, "pre-switchover", cancel, error);
}

/* At pre-switchover the source's vCPUs are stopped: the guard checks
 * again, and a row with its own RAM backend keeps the copy it is
 * checked against (the RAM at stop, before the destination loads). */
static gboolean at_pre_switchover(gpointer opaque, gboolean *cancel, GError **error)
{
    CaseCtx *ctx = opaque;

    if (ctx->guard_switchover && !guard_at_pre_switchover(ctx, cancel, error))
        return FALSE;
    return *cancel || ctx->d->ram == CASE_RAM_DEFAULT || pair_keep_src_copy(ctx->pair, error);
}

static gboolean guard_at_start(CaseCtx *ctx, GError **error)
{
    gboolean safe, cancel = FALSE;

    if (!pair_coherency_check(ctx->pair, "start", &ctx->r->coherency, &safe, error))
        return FALSE;
    return safe || guard_act(ctx, "start", &cancel, error);
}

/* Guest suspend: the source guest asleep in S3 (suspend.h), then for a
 * non-live row stopped too. */
static gboolean suspend_source(CaseCtx *ctx, GError **error)
{
    g_autoptr(GString) seen = g_string_new(NULL);

    if (!suspend_source_asleep(ctx->pair, &ctx->b_at_suspend, seen, error) ||
        (ctx->d->stop_source_first && !stop_source(ctx, error)))
        return FALSE;
    if (ctx->d->stop_source_first)
        g_string_append(seen, ", then stopped");
    g_free(ctx->r->observed);
    ctx->r->observed = g_string_free(g_steal_pointer(&seen), FALSE);
    return TRUE;
}

/* What the case does to the source before migrating. */
static gboolean before_migration(CaseCtx *ctx, GError **error)
{
    const CaseDesc *d = ctx->d;

    if (ctx->guard && !guard_at_start(ctx, error))
        return FALSE;
    if (ctx->refused)
        return TRUE;

    if (d->observe == OBSERVE_DIRTY_RING &&
        !(ctx->r->observed = pair_measure_dirty_ring(ctx->pair, error)))
        return FALSE;
    if (d->fault == FAULT_CANCEL_BEFORE) {
        /* Nothing to cancel: it must be a harmless no-op. */
        if (!pair_cancel(ctx->pair, error))
            return FALSE;
        ctx->r->observed = g_strdup("migrate_cancel with no migration was accepted");
    }
    if (d->observe == OBSERVE_POINT_IN_TIME) {
        SerialCounts c;
        serial_counts(side_serial(ctx, SIDE_SRC), &c);
        ctx->b_at_start = c.b;
    }
    if (d->suspend)
        return suspend_source(ctx, error);
    if (d->stop_source_first) {
        if (!stop_source(ctx, error) ||
            (d->ram != CASE_RAM_DEFAULT && !pair_keep_src_copy(ctx->pair, error)))
            return FALSE;
        ctx->r->observed = g_strdup("source vCPUs stopped before migrate");
    }
    return TRUE;
}

/* Release a held-back migration once the first pass is sent and the
 * mmu-off-late guest has printed the 'B' after which it turns its MMU
 * off: the serial stream, not the clock, says the guest got there. */
static gboolean past_mmu_off(const MigrateStats *stats, gpointer opaque)
{
    CaseCtx *ctx = opaque;
    SerialCounts c;

    serial_counts(side_serial(ctx, SIDE_SRC), &c);
    return stats->dirty_sync_count >= 2 && c.b > ctx->payload.params.mmu_off_after;
}

/* release_after_passes: the row's own release rule, once the guest has
 * made that many passes ('B's): some payload states (a generation of 256
 * and more) exist only after that many. */
static gboolean past_passes(const MigrateStats *stats, gpointer opaque)
{
    CaseCtx *ctx = opaque;
    SerialCounts c;

    serial_counts(side_serial(ctx, SIDE_SRC), &c);
    return c.b >= ctx->c->desc->release_after_passes && ctx->c->desc->release_when(stats, NULL);
}

static void status_changed(gpointer opaque, const char *status)
{
    CaseCtx *ctx = opaque;

    progress_phase(&ctx->progress, "migrate: status %s", status);
}

static void migrate_config_from_case(CaseCtx *ctx, MigrateConfig *mc)
{
    const CaseDesc *d = ctx->d;
    /* After stop-copy at start nothing can change: the vCPUs are paused.
     * A background snapshot has no switchover (QEMU refuses it with
     * pause-before-switchover): its image is of the start, which the
     * start check covers. */
    gboolean hook = ctx->guard && !(ctx->r->coherency.fired && ctx->policy == MMU_POLICY_STOP_COPY) &&
                    d->observe != OBSERVE_POINT_IN_TIME;
    gboolean copy = d->ram != CASE_RAM_DEFAULT && !d->stop_source_first;

    ctx->guard_switchover = hook;
    *mc = (MigrateConfig){
        .at_pre_switchover = hook || copy ? at_pre_switchover : NULL,
        .hook_opaque = ctx,
        .status_changed = status_changed,
        .transport = d->transport,
        .max_bandwidth = d->max_bandwidth ? d->max_bandwidth : RUNNER_MAX_BANDWIDTH,
        .downtime_limit_ms = d->downtime_limit_ms ? d->downtime_limit_ms : RUNNER_DOWNTIME_MS,
        .capabilities = d->capabilities,
        .params = d->params,
        .postcopy = d->postcopy,
        .postcopy_recover = d->postcopy_recover,
        .continue_at_pre_switchover = d->continue_at_pre_switchover,
        .cancel_at = d->cancel_at,
        .hold_active_ms = d->hold_active_ms,
        .cancel_stalled = d->cancel_stalled,
        .release_when = d->release_after_mmu_off ? past_mmu_off
                        : d->release_after_passes ? past_passes : d->release_when,
        .release_stops_source = d->release_stops_source,
        .bad_destination = d->fault == FAULT_BAD_DESTINATION,
        .no_sampling = ctx->opts->no_sampling,
        .addr = (MigrateAddr)d->addr,
        .expect_refused = d->refused_with,
        .cancel_again_at = d->cancel_again_at,
        .wiretap = d->wiretap,
        .file_offset = d->file_offset,
        .file_fdset = d->file_fdset,
        .file_direct_io = d->file_direct_io,
        .dst_no_exit = d->dst_no_exit,
        .file_bad_offset = d->file_bad_offset,
        .file_getfd = d->file_getfd,
        .recover_fault = d->recover_fault,
        .cancel_refusable = d->cancel_refusable,
        /* A suspended guest dirties nothing: precopy would complete in
         * its first pass, before the usual switch after it. */
        .postcopy_at_once = d->suspend != 0,
    };
}

static const char *expect_status(CaseExpect e)
{
    static const char *const names[] = {
        [EXPECT_COMPLETED] = "completed", [EXPECT_FAILED] = "failed",
        [EXPECT_CANCELLED] = "cancelled", [EXPECT_REFUSED] = "refused",
    };
    return names[e];
}

/* A migrate_cancel sent once the migration has ended ('completed',
 * 'failed', 'cancelled') must change nothing: the status stays. */
static gboolean cancel_after_end(CaseCtx *ctx, const char *ended, GError **error)
{
    g_autofree char *status = NULL;

    if (!pair_cancel(ctx->pair, error) ||
        !(status = pair_migration_status(ctx->pair, error)))
        return FALSE;
    if (!g_str_equal(status, ended)) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "migrate_cancel after the "
                    "migration ended '%s' changed its status to '%s'", ended, status);
        return FALSE;
    }
    g_free(ctx->r->observed);
    ctx->r->observed = g_strdup_printf("migrate_cancel after %s left it %s", ended, status);
    return TRUE;
}

/* How long a source whose postcopy cancel was accepted gets to show it
 * runs again: ~100 passes under TCG. */
#define TIME_TRAVEL_WATCH_MS 2000

/* QEMU accepted migrate_cancel in postcopy-active.  The destination had
 * already run the guest ahead of the source; a source that now resumes
 * goes on from an older state: time travel.  FAIL with the pass counts,
 * or, if the source stays stopped, accept the cancel (nothing to verify:
 * the guest's state is split between the sides). */
static gboolean no_time_travel(CaseCtx *ctx, GError **error)
{
    SerialCounts src, dst;
    g_autoptr(GError) quiet = NULL;
    Deadline watch = deadline_min(ctx->deadline, deadline_in_ms(TIME_TRAVEL_WATCH_MS));

    serial_counts(side_serial(ctx, SIDE_SRC), &src);
    serial_counts(side_serial(ctx, SIDE_DST), &dst);
    if (!serial_wait_b(side_serial(ctx, SIDE_SRC), src.b + 1, "src", watch, &quiet)) {
        ctx->cancel_accepted = TRUE;
        ctx->r->observed = g_strdup_printf("migrate_cancel in postcopy-active accepted; the "
                                           "source stayed stopped (destination ran %u passes)",
                                           dst.b);
        return TRUE;
    }
    g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "time travel: migrate_cancel in "
                "postcopy-active was accepted after the destination had run %u passes of "
                "the guest, and the source then resumed from its older state (its pass %u)",
                dst.b, src.b + 1);
    return FALSE;
}

static gboolean migrate_case(CaseCtx *ctx, GError **error)
{
    MigrateConfig mc;
    const char *want = expect_status(ctx->d->expect);

    if (ctx->refused)           /* refused at start: nothing to migrate */
        return TRUE;
    migrate_config_from_case(ctx, &mc);
    progress_phase(&ctx->progress, "migrate: %s over %s, expecting '%s'",
                   ctx->d->postcopy ? "postcopy" : "precopy", transport_name(ctx->d->transport),
                   want);
    if (!pair_migrate(ctx->pair, &mc, &ctx->r->mig, error))
        return FALSE;
    progress_phase(&ctx->progress, "migrate: ended '%s' after %" G_GINT64_FORMAT " ms "
                   "(downtime %" G_GINT64_FORMAT " ms)", ctx->r->mig.final_status,
                   ctx->r->mig.total_ms, ctx->r->mig.downtime_ms);
    if (ctx->refused)           /* cancelled by the guard: see after_migration */
        return TRUE;
    if (ctx->d->cancel_refusable && g_str_equal(ctx->r->mig.final_status, "cancelled"))
        return no_time_travel(ctx, error);
    /* A side that died explains an unexpected end better than the end. */
    if (!g_str_equal(ctx->r->mig.final_status, want) &&
        (!pair_check_alive(ctx->pair, SIDE_DST, error) ||
         !pair_check_alive(ctx->pair, SIDE_SRC, error)))
        return FALSE;
    if (!g_str_equal(ctx->r->mig.final_status, want)) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "migration ended '%s', expected "
                    "'%s' (statuses seen: %u)", ctx->r->mig.final_status, want,
                    ctx->r->mig.statuses->len);
        return FALSE;
    }
    if (ctx->d->fault == FAULT_CANCEL_AFTER || ctx->d->cancel_after_end)
        return cancel_after_end(ctx, want, error);
    return TRUE;
}

/* exact and invariant, on snapshots taken with both sides stopped. */
static gboolean verify_snapshots(CaseCtx *ctx, CaseVerify mask, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    gboolean ok;

    ctx->r->exact_ran = (mask & VERIFY_EXACT) != 0;
    ctx->r->invariant_ran = (mask & VERIFY_INVARIANT) != 0;
    progress_phase(&ctx->progress, "verify:%s%s with both sides stopped",
                   ctx->r->exact_ran ? " exact" : "", ctx->r->invariant_ran ? " invariant" : "");
    ok = pair_verify(ctx->pair, ctx->r->exact_ran,
                     ctx->r->invariant_ran ? &ctx->payload.params : NULL,
                     &ctx->r->exact, &ctx->r->invariant, error);
    ctx->r->verify_ms = (g_get_monotonic_time() - t0) / 1000;
    progress_phase(&ctx->progress, "verify: %s: %" G_GUINT64_FORMAT " pages compared, %"
                   G_GUINT64_FORMAT " differ (%" G_GINT64_FORMAT " ms)", ok ? "ok" : "FAILED",
                   ctx->r->exact.pages_compared, ctx->r->exact.pages_differing,
                   ctx->r->verify_ms);
    return ok;
}

static void selfcheck_side_fill(CaseCtx *ctx, SelfcheckSide *side, Side which,
                                guint expect_a)
{
    Serial *serial = side_serial(ctx, which);

    side->side = side_name(ctx, which);
    side->expect_a = expect_a;
    serial_counts(serial, &side->counts);
    side->errors = serial_errors_dup(serial);
    side->first_junk = serial_first_junk_dup(serial);
    side->vcpus = payload_params_vcpus(&ctx->payload.params);
    memcpy(side->beats_since, ctx->beats_since[which], sizeof(side->beats_since));
}

/* How long the other vCPUs get to beat once vCPU 0 has run its passes. */
#define RUNNER_VCPU_BEAT_MS 10000

/* Several vCPUs: after vCPU 0's passes, give every other vCPU a bounded
 * while to beat too; one that does not is named by the selfcheck. */
static void wait_all_vcpus(CaseCtx *ctx, Side side)
{
    guint n = payload_params_vcpus(&ctx->payload.params);
    guint target[MT_MAX_VCPUS];

    if (n < 2)
        return;
    for (guint i = 0; i < n; i++)
        target[i] = ctx->beats_since[side][i] + 1;
    serial_wait_vcpu_beats(side_serial(ctx, side), n, target,
                           deadline_min(ctx->deadline, deadline_in_ms(RUNNER_VCPU_BEAT_MS)));
}

/* Let @side run RUNNER_DST_PASSES more passes; @resumed_us gets the time
 * it was resumed (0 if it was running). */
static gboolean run_more_passes(CaseCtx *ctx, Side side, gboolean resume,
                                gint64 *resumed_us, GError **error)
{
    SerialCounts c;

    serial_counts(side_serial(ctx, side), &c);
    memcpy(ctx->beats_since[side], c.vcpu_b, sizeof(c.vcpu_b));
    if (resume && !pair_resume(ctx->pair, side, error))
        return FALSE;
    if (resumed_us)
        *resumed_us = resume ? g_get_monotonic_time() : 0;
    if (!serial_wait_b(side_serial(ctx, side), c.b + RUNNER_DST_PASSES,
                       side_name(ctx, side), ctx->deadline, error))
        return FALSE;
    wait_all_vcpus(ctx, side);
    return TRUE;
}

/* Every beat of every vCPU (the payloads), else the passes (linux). */
static GArray *beat_times(Serial *s)
{
    GArray *t = serial_beat_times_dup(s);

    if (t->len)
        return t;
    g_array_unref(t);
    return serial_b_times_dup(s);
}

/*
 * The gap between the source's last 'B' and the destination's first,
 * less the time the destination sat paused for verification (from its
 * "completed" to our "cont").  A 'B' comes once per pass, so the figure
 * is only as fine as one pass: ~10 ms under TCG, ~1 ms under KVM here.
 */
static gint64 observed_downtime_ms(Serial *src, Serial *dst, gint64 dst_completed_us,
                                   gint64 resumed_us, CaseResult *r)
{
    /* The linux payload's heartbeats are finer than its passes. */
    g_autoptr(GArray) hs = serial_hb_times_dup(src);
    g_autoptr(GArray) hd = serial_hb_times_dup(dst);
    /* With several vCPUs, every vCPU's beats: the gap is the guest's. */
    g_autoptr(GArray) s = hs->len ? g_array_ref(hs) : beat_times(src);
    g_autoptr(GArray) d = hd->len ? g_array_ref(hd) : beat_times(dst);
    gint64 first_dst, held = 0;

    if (s->len == 0 || d->len == 0)
        return -1;
    first_dst = g_array_index(d, gint64, 0);
    /* Under postcopy the destination ran, and printed, before we held it. */
    if (resumed_us && dst_completed_us && first_dst > resumed_us) {
        held = resumed_us - dst_completed_us;
        r->hold_start_us = dst_completed_us;
        r->hold_end_us = resumed_us;
    }
    r->gap_start_us = g_array_index(s, gint64, s->len - 1);
    r->gap_end_us = first_dst;
    return (first_dst - g_array_index(s, gint64, s->len - 1) - held) / 1000;
}

/* The guest's own checks: both serial streams clean.  @with_dst is
 * FALSE when only the source is left. */
static gboolean selfcheck(CaseCtx *ctx, gboolean with_dst, GError **error)
{
    SelfcheckSide sides[2];
    guint n = 0;
    gboolean ok;

    /* A console line the source began and the destination finished. */
    if (with_dst && ctx->d->linux_guest)
        serial_join_switchover(side_serial(ctx, SIDE_SRC), side_serial(ctx, SIDE_DST));
    /* After a ping-pong hop the source is a former destination: no 'A'. */
    selfcheck_side_fill(ctx, &sides[n++], SIDE_SRC, ctx->hop > 1 ? 0 : 1);
    /* A destination continues the source's run: no second 'A'. */
    if (with_dst)
        selfcheck_side_fill(ctx, &sides[n++], SIDE_DST, 0);
    selfcheck_result_clear(&ctx->r->selfcheck);
    ctx->r->selfcheck_ran = TRUE;
    ok = verify_selfcheck(sides, n, &ctx->r->selfcheck, error);
    progress_phase(&ctx->progress, "selfcheck: %s: %s", with_dst ? "both serial streams"
                   : "the source's serial stream", ok ? "clean" : "an error");
    for (guint i = 0; i < n; i++) {
        g_array_unref(sides[i].errors);
        g_free((char *)sides[i].first_junk);
    }
    return ok;
}

/* Guest suspend: wake the destination (suspend.h), then the selfcheck. */
static gboolean suspend_wake(CaseCtx *ctx, GError **error)
{
    g_autoptr(GString) seen = g_string_new(ctx->r->observed);
    gboolean ok = suspend_wake_destination(ctx->pair, RUNNER_DST_PASSES, seen, error);

    g_free(ctx->r->observed);
    ctx->r->observed = g_string_free(g_steal_pointer(&seen), FALSE);
    return ok && selfcheck(ctx, TRUE, error);
}

/* Heartbeats carry a sequence number per /init worker: the destination
 * must go on from the source's last one, or it resumed from an older
 * state; every worker must beat on both sides. */
static gboolean heartbeats_continue(CaseCtx *ctx, GError **error)
{
    return serial_heartbeats_continue(side_serial(ctx, SIDE_SRC), side_serial(ctx, SIDE_DST),
                                      payload_params_vcpus(&ctx->payload.params),
                                      side_name(ctx, SIDE_DST), error);
}

static gboolean verify_completed(CaseCtx *ctx, CaseVerify mask, gint64 dst_completed_us,
                                 GError **error)
{
    gboolean running = FALSE;
    gint64 resumed = 0;

    /* Guest suspend: neither guest may have run since (suspend.h). */
    if (ctx->d->suspend && !suspend_both_asleep(ctx->pair, ctx->b_at_suspend, error))
        return FALSE;
    /* Postcopy let the destination run: stop it for a coherent snapshot. */
    if (!pair_is_running(ctx->pair, SIDE_DST, &running, error) ||
        (running && !pair_stop(ctx->pair, SIDE_DST, error)))
        return FALSE;
    running = FALSE;            /* stopped now, by the migration or by us */
    if (ctx->opts->poke_src_gpa &&
        !pair_poke(ctx->pair, SIDE_SRC, ctx->opts->poke_src_gpa, error))
        return FALSE;
    if ((mask & (VERIFY_EXACT | VERIFY_INVARIANT)) && !verify_snapshots(ctx, mask, error))
        return FALSE;
    if (ctx->opts->poke_dst_gpa &&
        !pair_poke(ctx->pair, SIDE_DST, ctx->opts->poke_dst_gpa, error))
        return FALSE;
    if (!devprobe_inject_dst(ctx->pair, ctx->c->arch, ctx->opts, error))
        return FALSE;
    if (!(mask & VERIFY_SELFCHECK))
        return TRUE;
    if (ctx->d->suspend)
        return suspend_wake(ctx, error);
    progress_phase(&ctx->progress, "selfcheck: the destination runs more passes, checking "
                   "every page");
    if (!run_more_passes(ctx, SIDE_DST, !running, &resumed, error))
        return FALSE;
    ctx->r->observed_downtime_ms = observed_downtime_ms(side_serial(ctx, SIDE_SRC),
                                                        side_serial(ctx, SIDE_DST),
                                                        dst_completed_us, resumed, ctx->r);
    return selfcheck(ctx, TRUE, error) &&
           (!ctx->d->linux_guest || heartbeats_continue(ctx, error));
}

/* After a failed or cancelled migration the source must run on, clean,
 * and a fresh destination must then take it. */
static gboolean source_survives(CaseCtx *ctx, GError **error)
{
    gboolean running = FALSE;

    if (!pair_is_running(ctx->pair, SIDE_SRC, &running, error))
        return FALSE;
    if (!running) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "src is not running after the "
                    "migration ended '%s'", ctx->r->mig.final_status);
        return FALSE;
    }
    return run_more_passes(ctx, SIDE_SRC, FALSE, NULL, error) && selfcheck(ctx, FALSE, error);
}

static gboolean second_migration(CaseCtx *ctx, GError **error)
{
    MigrateConfig mc;
    MigrateStats st = { 0 };
    gboolean ok;

    progress_phase(&ctx->progress, "migrate: again, to a fresh destination");
    if (!pair_new_destination(ctx->pair, TRUE, error))
        return FALSE;
    migrate_config_from_case(ctx, &mc);
    mc.cancel_at = NULL;
    mc.hold_active_ms = 0;
    mc.bad_destination = FALSE;
    mc.addr = MIGRATE_ADDR_URI;
    mc.expect_refused = NULL;
    mc.cancel_again_at = NULL;
    mc.file_bad_offset = FALSE;
    mc.max_bandwidth = RUNNER_MAX_BANDWIDTH;
    mc.downtime_limit_ms = MAX(RUNNER_DOWNTIME_MS, ctx->d->downtime_limit_ms);
    /* pause-before-switchover stays enabled on the source. */
    mc.continue_at_pre_switchover = TRUE;
    ok = pair_migrate(ctx->pair, &mc, &st, error);
    if (ok && !g_str_equal(st.final_status, "completed")) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "second migration, to a fresh "
                    "destination, ended '%s'", st.final_status);
        ok = FALSE;
    }
    if (ok)
        ok = verify_completed(ctx, VERIFY_ALL, st.dst_completed_us, error);
    migrate_stats_clear(&st);
    return ok;
}

/* The trace event the row asked the source to log (QEMU's "log" trace
 * backend writes it to its stderr, our src.stderr). */
static char *trace_fired(CaseCtx *ctx, GError **error)
{
    g_autofree char *path = g_build_filename(ctx->r->log_dir, "src.stderr", NULL);

    return evidence_trace(path, ctx->d->trace_event, error);
}

/* background-snapshot: the loaded image is dated (evidence.h). */
static gboolean point_in_time(CaseCtx *ctx, GError **error)
{
    g_autoptr(GArray) b = serial_b_times_dup(side_serial(ctx, SIDE_SRC));
    guint at_active = evidence_passes_before(&ctx->r->mig, b, "active", ctx->b_at_start);
    SerialCounts end;
    char *seen;

    serial_counts(side_serial(ctx, SIDE_SRC), &end);
    seen = evidence_point_in_time(ctx->r->invariant.generation, at_active, ctx->b_at_start,
                                  end.b, error);
    if (!seen)
        return FALSE;
    g_free(ctx->r->observed);
    ctx->r->observed = seen;
    return TRUE;
}

/* Did the case's feature act?  Returns the observation, or NULL. */
static char *observe(CaseCtx *ctx, GError **error)
{
    const MigrateStats *m = &ctx->r->mig;
    const CaseDesc *d = ctx->d;

    switch (d->observe) {
    case OBSERVE_SUSPENDED:     /* suspend_source(); postcopy rows must reach postcopy */
        return ctx->r->observed && (!d->postcopy || migrate_stats_saw(m, "postcopy-active"))
               ? g_strdup_printf("%s%s", ctx->r->observed, d->postcopy ? "; postcopy-active" : "")
               : NULL;
    case OBSERVE_NOTHING:
    case OBSERVE_STOPPED_SOURCE:
    case OBSERVE_DIRTY_RING:
        /* Set by before_migration(), if anything. */
        if (d->observe == OBSERVE_NOTHING)
            return g_strdup(ctx->r->observed ? ctx->r->observed : "");
        return ctx->r->observed ? g_strdup(ctx->r->observed) : NULL;
    case OBSERVE_THROTTLE:
        return m->max_throttle_pct > 0 ? g_strdup_printf("cpu-throttle-percentage rose to %"
                                                         G_GINT64_FORMAT, m->max_throttle_pct) : NULL;
    case OBSERVE_XBZRLE:
        return m->xbzrle_pages > 0 ? g_strdup_printf("xbzrle encoded %" G_GINT64_FORMAT
                                                     " pages", m->xbzrle_pages) : NULL;
    case OBSERVE_MULTIFD:
        return m->multifd_bytes > 0 ? g_strdup_printf("multifd sent %" G_GINT64_FORMAT
                                                      " bytes", m->multifd_bytes) : NULL;
    case OBSERVE_POSTCOPY:
        return migrate_stats_saw(m, "postcopy-active")
               ? g_strdup_printf("postcopy-active, %" G_GINT64_FORMAT " page requests",
                                 m->postcopy_requests) : NULL;
    case OBSERVE_RECOVERED:
        return migrate_stats_saw(m, "postcopy-paused") && migrate_stats_saw(m, "postcopy-recover")
               ? g_strdup("postcopy paused, then recovered") : NULL;
    case OBSERVE_PRE_SWITCHOVER:
        return migrate_stats_saw(m, "pre-switchover") ? g_strdup("stopped at pre-switchover") : NULL;
    case OBSERVE_STAYED_ACTIVE:
        return m->active_held_ms >= d->hold_active_ms
               ? g_strdup_printf("still active after %" G_GINT64_FORMAT " ms", m->active_held_ms)
               : NULL;
    case OBSERVE_CANCELLED_IN:
        return g_strcmp0(m->cancelled_in, d->cancel_at) == 0
               ? g_strdup_printf("cancelled in %s", m->cancelled_in) : NULL;
    case OBSERVE_TLS:
        return pair_tls_evidence(ctx->pair, error);
    case OBSERVE_WIRE_TLS:
        /* libvirt owns the connection: no wiretap, but the destination
         * QEMU's own tls-creds (see backend-libvirt.c) */
        if (ctx->opts->backend == BACKEND_LIBVIRT)
            return pair_tls_evidence(ctx->pair, error);
        return evidence_judge(d, m, ctx->spec.mem_bytes, error);
    case OBSERVE_LINK:
        /* The backend logs what the link did; a postcopy cut must also
         * have paused and recovered. */
        return m->link_log && (!d->link_cut || m->link_cuts > 0) &&
               (d->link_cut < LINK_CUT_POSTCOPY || (migrate_stats_saw(m, "postcopy-paused") &&
                                                    migrate_stats_saw(m, "postcopy-recover")))
               ? g_strdup(m->link_log) : NULL;
    case OBSERVE_TRACE:
        return trace_fired(ctx, error);
    case OBSERVE_POINT_IN_TIME:
        return g_strdup("");    /* judged after the invariant: point_in_time() */
    default:    /* the QEMU 10-era kinds judge what migrate recorded */
        return evidence_judge(d, m, ctx->spec.mem_bytes, error);
    }
    g_assert_not_reached();
}

static gboolean check_observation(CaseCtx *ctx, GError **error)
{
    g_autoptr(GError) local = NULL;
    char *seen = observe(ctx, &local);

    if (!seen) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "the case's feature was not "
                    "exercised (statuses: %u, last '%s')%s%s", ctx->r->mig.statuses->len,
                    ctx->r->mig.final_status, local ? ": " : "", local ? local->message : "");
        return FALSE;
    }
    g_free(ctx->r->observed);
    ctx->r->observed = *seen ? seen : (g_free(seen), NULL);
    return TRUE;
}

/* A coherency-matrix row says where its policy must act. */
static gboolean check_guard_expectation(CaseCtx *ctx, GError **error)
{
    const char *fired = ctx->r->coherency.fired;

    if (!ctx->d->coherency_case)
        return TRUE;
    if (g_strcmp0(fired, ctx->d->expect_fired) == 0) {
        if (!ctx->r->observed)
            ctx->r->observed = g_strdup_printf("guard %s: %u checks, %s",
                                               mmu_policy_name(ctx->policy),
                                               ctx->r->coherency.checks->len,
                                               fired ? fired
                                               : ctx->r->coherency.checks->len ? "all safe"
                                               : "nothing checked");
        return TRUE;
    }
    g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "coherency guard (%s) acted at %s, "
                "expected %s", mmu_policy_name(ctx->policy), fired ? fired : "no check",
                ctx->d->expect_fired ? ctx->d->expect_fired : "no check");
    return FALSE;
}

/* Refused: the source must run on, clean; the case is then a SKIP that
 * names the check, the vCPU and its SCTLR value. */
static gboolean refused(CaseCtx *ctx, GError **error)
{
    const CoherencyResult *co = &ctx->r->coherency;
    const CoherencyCheck *c = &g_array_index(co->checks, CoherencyCheck, co->checks->len - 1);

    if (!check_guard_expectation(ctx, error) || !source_survives(ctx, error))
        return FALSE;
    ctx->r->observed = g_strdup_printf("refused at %s; the source ran on", co->fired);
    g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "refused by --mmu-policy %s at %s: %s",
                mmu_policy_name(ctx->policy), co->fired, c->detail);
    return FALSE;
}

static void record_hop(CaseCtx *ctx, const MigrateStats *m)
{
    HopResult h = { .downtime_ms = m->downtime_ms, .total_ms = m->total_ms,
                    .observed_downtime_ms = ctx->r->observed_downtime_ms };

    g_array_append_val(ctx->r->hops, h);
}

/* One more hop: the destination becomes the source, a fresh destination
 * starts on the other side, migrate, verify as the case does. */
static gboolean ping_pong_hop(CaseCtx *ctx, CaseVerify mask, GError **error)
{
    MigrateConfig mc;
    MigrateStats st = { 0 };
    gboolean ok;

    /* Each hop gets the per-case budget: 200 hops are not one case's. */
    ctx->deadline = ctx->spec.deadline = deadline_in_ms(ctx->opts->timeout_ms);
    progress_phase(&ctx->progress, "ping-pong: hop %u of %u", ctx->hop, ctx->opts->ping_pong);
    if (!pair_swap(ctx->pair, error))
        return FALSE;
    migrate_config_from_case(ctx, &mc);
    ok = pair_migrate(ctx->pair, &mc, &st, error);
    if (ok && !g_str_equal(st.final_status, "completed")) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "migration ended '%s'",
                    st.final_status);
        ok = FALSE;
    }
    ok = ok && verify_completed(ctx, mask, st.dst_completed_us, error);
    if (ok)
        record_hop(ctx, &st);
    migrate_stats_clear(&st);
    return ok;
}

/* --ping-pong N: hops 2..N after the first, stopping at the first that
 * fails, which the reason and first_failing_hop name. */
static gboolean ping_pong(CaseCtx *ctx, CaseVerify mask, GError **error)
{
    ctx->r->hops = g_array_new(FALSE, FALSE, sizeof(HopResult));
    record_hop(ctx, &ctx->r->mig);
    for (ctx->hop = 2; ctx->hop <= ctx->opts->ping_pong; ctx->hop++) {
        const char *from = pair_side_name(ctx->pair, SIDE_DST);

        if (!ping_pong_hop(ctx, mask, error)) {
            ctx->r->first_failing_hop = ctx->hop;
            g_prefix_error(error, "ping-pong hop %u (from %s): ", ctx->hop, from);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean after_migration(CaseCtx *ctx, GError **error)
{
    CaseVerify mask = ctx->d->verify ? ctx->d->verify : VERIFY_ALL;

    if (ctx->refused)
        return refused(ctx, error);
    if (ctx->cancel_accepted)   /* observed in no_time_travel(); nothing to verify */
        return TRUE;
    if (!check_observation(ctx, error) || !check_guard_expectation(ctx, error))
        return FALSE;
    if (ctx->d->expect == EXPECT_COMPLETED && ctx->opts->ping_pong > 1) {
        ctx->hop = 1;
        if (!verify_completed(ctx, mask, ctx->r->mig.dst_completed_us, error)) {
            ctx->r->first_failing_hop = 1;
            g_prefix_error(error, "ping-pong hop 1: ");
            return FALSE;
        }
        return ping_pong(ctx, mask, error);
    }
    if (ctx->d->expect == EXPECT_COMPLETED)
        return verify_completed(ctx, mask, ctx->r->mig.dst_completed_us, error) &&
               (ctx->d->observe != OBSERVE_POINT_IN_TIME || point_in_time(ctx, error));
    return source_survives(ctx, error) &&
           (ctx->d->no_remigration || second_migration(ctx, error));
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

    if (make_dirs(ctx, &error) && make_payload(ctx, &error) && make_spec(ctx, &error) &&
        boot_both(ctx, &error) && (setup_done = TRUE) &&
        before_migration(ctx, &error) && migrate_case(ctx, &error) &&
        after_migration(ctx, &error)) {
        ctx->r->outcome = OUTCOME_PASS;
        return;
    }
    ctx->r->outcome = classify(error, setup_done);
    ctx->r->reason = g_strdup(error->message);
}

CaseResult *runner_run_case(const CaseInstance *c, const RunOptions *opts)
{
    CaseResult *r = g_new0(CaseResult, 1);
    CaseCtx ctx = { .c = c, .d = c->desc, .opts = opts, .r = r };
    gint64 t0 = g_get_monotonic_time();
    int sig;

    r->name = g_strdup(c->name);
    r->arch = c->arch->name;
    r->observed_downtime_ms = -1;
    r->link = c->desc->link;
    r->link_cut = c->desc->link_cut;
    r->accel = g_strdup(opts->accel ? opts->accel
                        : vm_kvm_usable(c->arch) ? "kvm" : "tcg");
    ctx.policy = c->desc->coherency_case ? c->desc->mmu_policy : opts->mmu_policy;
    ctx.guard = c->arch->coherency_guard && ctx.policy != MMU_POLICY_IGNORE &&
                backend_has_guard(opts->backend);
    r->coherency_ran = ctx.guard;
    coherency_result_init(&r->coherency, ctx.policy);
    ctx.deadline = deadline_in_ms(opts->timeout_ms);
    ctx.progress = progress_start(opts->verbosity, c->name);
    run_phases(&ctx);
    progress_phase(&ctx.progress, "teardown: stopping the VMs, removing the run directory");
    case_ctx_clear(&ctx);
    sig = vm_group_interrupted(opts->group);
    if (sig) {
        r->outcome = OUTCOME_ERROR;
        g_free(r->reason);
        r->reason = g_strdup_printf("interrupted by signal %d (%s)", sig, g_strsignal(sig));
    }
    if ((r->outcome == OUTCOME_PASS || r->outcome == OUTCOME_SKIP) && !opts->keep && r->log_dir) {
        rundir_remove(r->log_dir);
        g_clear_pointer(&r->log_dir, g_free);
    }
    r->wall_ms = (g_get_monotonic_time() - t0) / 1000;
    progress_phase(&ctx.progress, "done: %s after %" G_GINT64_FORMAT " ms%s%s",
                   outcome_name(r->outcome), r->wall_ms, r->reason ? ": " : "",
                   r->reason ? r->reason : "");
    return r;
}
