/*
 * backend-qemu.c: the qemu backend (see backend.h).  Two QEMU processes
 * migtest spawns itself (vm.c) and drives over QMP (migrate.c): the source
 * runs the payload, the destination waits with "-incoming defer".  Guest
 * RAM is a file on tmpfs both sides map (or /proc/PID/mem), so exact
 * compares the two snapshots in this process.
 */
#include "backend-qemu.h"

#include <string.h>
#include <unistd.h>
#include "cpr-transfer.h"
#include "netns.h"
#include "probe.h"
#include "tlscreds.h"

/* Guest boot to first 'B': 0.7 s under TCG, ~10 s under this kind of
 * nested KVM with SeaBIOS; 60 s leaves room for a loaded host. */
#define QEMU_BOOT_MS 60000
/* ... plus this per GiB of guest RAM: from 1 GiB QEMU preallocates its RAM
 * before its monitor answers (vm.c), and 8 GiB took over 60 s on a loaded
 * 2-core host (the QMP greeting timed out). */
#define QEMU_BOOT_MS_PER_GIB 15000
/* Fixed UUIDs for validate-uuid: any two distinct values do. */
#define UUID_SRC "6d696774-6573-7400-0000-000000000001"
#define UUID_OTHER "6d696774-6573-7400-0000-000000000002"
/* 32 random-looking bytes per side; they differ only for the mismatch. */
#define PSK_KEY "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9"
#define PSK_OTHER "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
/* calc-dirty-rate sampling period for the dirty-ring case. */
#define DIRTY_RATE_CALC_S 1

typedef struct {
    Pair base;
    char *src_bin;
    char *dst_bin;
    char *machine;
    char *image_path;
    char *initrd_path;
    char *tls_dir;              /* client side (and x509 for both) */
    char *tls_dir_dst;
    Vm *vm[2];                  /* by Side */
    guint dst_count;            /* destinations launched so far */
    NetPair *net;               /* a case over a real link: each side's namespace */
    guint migrations;           /* started so far */
    gboolean reversed;          /* ping-pong: the source runs the dst binary */
    char *ram_file;             /* CASE_RAM_FILE_COMMON: the file both QEMUs map */
    RamImage *src_copy;         /* pair_keep_src_copy(): the source's RAM at stop */
} QemuPair;

static QemuPair *qp(Pair *p)
{
    return (QemuPair *)p;
}

static Vm *side_vm(Pair *p, Side side)
{
    return qp(p)->vm[side];
}

static void qemu_pair_free(Pair *p)
{
    QemuPair *q = qp(p);

    g_clear_pointer(&q->vm[SIDE_DST], vm_free);
    g_clear_pointer(&q->vm[SIDE_SRC], vm_free);
    /* After the QEMUs: nothing may still run in the namespaces. */
    g_clear_pointer(&q->net, netns_pair_free);
    g_clear_pointer(&q->src_copy, ram_image_free);
    if (q->ram_file)
        unlink(q->ram_file);
    g_free(q->ram_file);
    g_free(q->src_bin);
    g_free(q->dst_bin);
    g_free(q->machine);
    g_free(q->image_path);
    g_free(q->initrd_path);
    g_free(q->tls_dir);
    g_free(q->tls_dir_dst);
    g_free(q);
}

/* Binaries and machine type, before any QEMU starts. */
static gboolean resolve_binaries(QemuPair *q, GError **error)
{
    const PairSpec *s = q->base.spec;
    const char *want_src = s->opts->src_qemu ? s->opts->src_qemu : s->arch->qemu_binary;
    const char *want_dst = s->opts->dst_qemu ? s->opts->dst_qemu : s->arch->qemu_binary;

    q->src_bin = g_find_program_in_path(want_src);
    q->dst_bin = g_find_program_in_path(want_dst);
    if (!q->src_bin || !q->dst_bin) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "%s not found; install "
                    "Debian's qemu-system package for %s",
                    q->src_bin ? want_dst : want_src, s->arch->name);
        return FALSE;
    }
    if (s->opts->machine)
        q->machine = g_strdup(s->opts->machine);
    else if (g_str_equal(q->src_bin, q->dst_bin))
        q->machine = g_strdup(s->desc->machine ? s->desc->machine : s->arch->default_machine);
    else    /* two releases: the newest machine type both know */
        q->machine = probe_common_machine(q->src_bin, q->dst_bin, s->desc->machine_family ?
                                          s->desc->machine_family : s->arch->machine_family,
                                          error);
    return q->machine != NULL;
}

static gboolean write_file(const char *dir, const char *name, GBytes *bytes, char **path,
                           GError **error)
{
    *path = g_build_filename(dir, name, NULL);
    return g_file_set_contents(*path, g_bytes_get_data(bytes, NULL),
                               g_bytes_get_size(bytes), error);
}

static gboolean write_payload_files(QemuPair *q, GError **error)
{
    const PairSpec *s = q->base.spec;

    return (!s->image || write_file(s->run_dir, "payload.bin", s->image, &q->image_path,
                                    error)) &&
           (!s->initrd || write_file(s->run_dir, "initramfs.cpio", s->initrd,
                                     &q->initrd_path, error));
}

/* x509 per policy (cases.h X509Policy): tls_dir is the client's (and,
 * when one set serves both, the server's); tls_dir_dst the server's when
 * it differs.  Every set shares one CA. */
static gboolean make_x509(QemuPair *q, GError **error)
{
    const CaseDesc *d = q->base.spec->desc;
    const char *run_dir = q->base.spec->run_dir;
    g_autofree char *full = g_build_filename(run_dir, "tls-full", NULL);

    switch (d->x509) {
    case X509_DEFAULT:
    case X509_AUTHZ_ALLOW:
    case X509_AUTHZ_DENY:
        q->tls_dir_dst = g_strdup(q->tls_dir);
        return tlscreds_make_x509(q->tls_dir, error);
    case X509_OVERRIDE_HOST:
        q->tls_dir_dst = g_strdup(q->tls_dir);
        return tlscreds_make_x509_for(q->tls_dir, TLSCREDS_NAMES_HOSTNAME, error);
    case X509_MISMATCH_HOST:
        q->tls_dir_dst = g_build_filename(run_dir, "tls-dst", NULL);
        return tlscreds_make_x509(q->tls_dir, error) &&
               tlscreds_make_x509_server_variant(q->tls_dir, q->tls_dir_dst,
                                                 TLSCREDS_NAMES_OTHER, error);
    case X509_ANON_ALLOWED:
    case X509_ANON_REJECTED:
        q->tls_dir_dst = g_steal_pointer(&full);
        return tlscreds_make_x509(q->tls_dir_dst, error) &&
               tlscreds_make_x509_anon_client(q->tls_dir_dst, q->tls_dir, error);
    }
    g_assert_not_reached();
}

static gboolean make_tls(QemuPair *q, GError **error)
{
    const CaseDesc *d = q->base.spec->desc;
    const char *run_dir = q->base.spec->run_dir;
    gboolean mismatch = d->fault == FAULT_TLS_MISMATCH;

    if (d->tls == TLS_NONE)
        return TRUE;
    q->tls_dir = g_build_filename(run_dir, "tls", NULL);
    if (d->tls == TLS_X509)
        return make_x509(q, error);
    q->tls_dir_dst = g_build_filename(run_dir, mismatch ? "tls-dst" : "tls", NULL);
    return tlscreds_make_psk(q->tls_dir, PSK_KEY, error) &&
           (!mismatch || tlscreds_make_psk(q->tls_dir_dst, PSK_OTHER, error));
}

/* The TLS -object arguments of one side; @faulty: the case's fault
 * applies (a first destination, not the plain second one). */
static void add_tls_args(QemuPair *q, GPtrArray *a, gboolean is_dst, gboolean faulty)
{
    const CaseDesc *d = q->base.spec->desc;
    gboolean anon = d->tls == TLS_X509 &&
                    (d->x509 == X509_ANON_ALLOWED || d->x509 == X509_ANON_REJECTED);
    /* A faulty destination gets its own set (another PSK, a mismatching
     * certificate); the plain second one the good set the client trusts.
     * With an anonymous client every server holds the full set. */
    const char *dir = is_dst && (faulty || anon) ? q->tls_dir_dst : q->tls_dir;

    g_ptr_array_add(a, g_strdup("-object"));
    if (!is_dst || !anon) {
        g_ptr_array_add(a, tlscreds_object(d->tls == TLS_X509, is_dst, dir));
    } else {
        /* An anonymous client: refused only by the faulty rejecting server. */
        g_ptr_array_add(a, tlscreds_x509_server_object(dir, d->x509 == X509_ANON_REJECTED &&
                                                            faulty));
    }
    if (is_dst && (d->x509 == X509_AUTHZ_ALLOW || d->x509 == X509_AUTHZ_DENY)) {
        g_ptr_array_add(a, g_strdup("-object"));
        g_ptr_array_add(a, tlscreds_authz_object(d->x509 == X509_AUTHZ_DENY && faulty
                                                 ? "O=migtest,CN=someone else"
                                                 : TLSCREDS_CLIENT_DN));
    }
}

/* -uuid and TLS objects for one side. */
static GPtrArray *side_args(QemuPair *q, gboolean is_dst, gboolean plain)
{
    const CaseDesc *d = q->base.spec->desc;
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);

    /* validate-uuid with one side unset: that side gets no -uuid. */
    if (d->uuid && !(is_dst ? d->uuid_sides == UUID_SRC_ONLY : d->uuid_sides == UUID_DST_ONLY)) {
        g_ptr_array_add(a, g_strdup("-uuid"));
        g_ptr_array_add(a, g_strdup(is_dst && !plain && d->fault == FAULT_UUID_MISMATCH
                                    ? UUID_OTHER : UUID_SRC));
    }
    if (d->tls != TLS_NONE)
        add_tls_args(q, a, is_dst, !plain);
    /* The proof a row reads from the source's stderr (trace backend log). */
    if (d->trace_event && !is_dst) {
        g_ptr_array_add(a, g_strdup("-trace"));
        g_ptr_array_add(a, g_strdup(d->trace_event));
    }
    g_ptr_array_add(a, NULL);
    return a;
}

/* The RAM backend a row asks for (cases.h CaseRam), else --ram's. */
static VmRamMode ram_mode(const PairSpec *s)
{
    static const VmRamMode modes[] = {
        [CASE_RAM_FILE_COMMON] = VM_RAM_SHARED, [CASE_RAM_MEMFD] = VM_RAM_MEMFD,
        [CASE_RAM_ANON_SHARED] = VM_RAM_ANON_SHARED,
        [CASE_RAM_ANON_PRIVATE] = VM_RAM_ANON_PRIVATE,
    };

    return s->desc->ram == CASE_RAM_DEFAULT ? s->opts->ram_mode : modes[s->desc->ram];
}

/* Boot, up to the first 'B', within this. */
static Deadline boot_deadline(const PairSpec *s)
{
    return deadline_min(s->deadline, deadline_in_ms(QEMU_BOOT_MS + (gint64)(s->mem_bytes >> 30) *
                                                    QEMU_BOOT_MS_PER_GIB));
}

/* @plain: a destination for the second migration, without the fault.
 * @cpr_args: a cpr-transfer target's -incoming arguments (it gets no
 * "-incoming defer" of ours, and its QMP is connected later), or NULL. */
static Vm *launch_vm(QemuPair *q, gboolean is_dst, gboolean plain,
                     const char *const *cpr_args, GError **error)
{
    const PairSpec *s = q->base.spec;
    const CaseDesc *d = s->desc;
    g_autoptr(GPtrArray) extra = side_args(q, is_dst, plain);
    g_autofree char *accel = g_strconcat(s->accel, d->accel_props ? d->accel_props : "", NULL);
    g_autofree char *name = !is_dst ? g_strdup("src") : q->dst_count ? g_strdup_printf("dst%u", q->dst_count + 1)
                                                                     : g_strdup("dst");
    g_autofree char *machine = d->machine_props ? g_strdup_printf("%s,%s", q->machine,
                                                                  d->machine_props)
                                                : g_strdup(q->machine);
    VmConfig cfg = {
        .group = s->opts->group,
        .arch = s->arch,
        .name = name,
        .qemu_binary = is_dst != q->reversed ? q->dst_bin : q->src_bin,
        .machine = machine,
        .accel = accel,
        .mem_bytes = s->mem_bytes,
        .ram_mode = ram_mode(s),
        .ram_file = q->ram_file,
        .image_path = q->image_path,
        .kernel = s->kernel,
        .initrd = q->initrd_path,
        .append = s->append,
        .cpu = s->cpu,
        .vcpus = s->vcpus,
        .serial_lines = s->serial_lines,
        .run_dir = s->run_dir,
        .log_dir = s->log_dir,
        .incoming = is_dst && !cpr_args,
        .defer_qmp = cpr_args != NULL,
        /* The destination stays paused after completion, so exact can
         * compare it with the stopped source before it runs again; under
         * postcopy it must run, or it would never fault a page in. */
        .start_paused = is_dst && !d->postcopy,
        .extra_args = (const char *const *)extra->pdata,
        /* Ping-pong: every destination becomes a source, guarded too. */
        .gdbstub = s->guard && (!is_dst || s->opts->ping_pong > 1),
        .in_netns = q->net != NULL,
        .netns_fd = q->net ? netns_pair_fd(q->net, is_dst ? NETNS_DST : NETNS_SRC) : -1,
    };

    Vm *vm;

    g_ptr_array_remove_index(extra, extra->len - 1);        /* the NULL */
    for (guint i = 0; cpr_args && cpr_args[i]; i++)
        g_ptr_array_add(extra, g_strdup(cpr_args[i]));
    g_ptr_array_add(extra, NULL);
    cfg.extra_args = (const char *const *)extra->pdata;
    if (is_dst)
        q->dst_count++;
    vm = vm_launch(&cfg, boot_deadline(s), error);
    if (!vm)
        return NULL;
    if (cpr_args) {
        progress_phase(s->progress, "boot: %s QEMU started (pid %d, %s); its monitor waits "
                       "for the cpr state", name, (int)vm_pid(vm), cfg.qemu_binary);
        return vm;
    }
    if (s->progress && s->progress->level >= PROGRESS_QMP)
        qmp_set_tap(vm_qmp(vm), progress_qmp, (gpointer)s->progress);
    progress_phase(s->progress, "boot: %s QEMU %s up (pid %d, %s)%s", name,
                   qmp_version(vm_qmp(vm)), (int)vm_pid(vm), cfg.qemu_binary,
                   is_dst ? ", waiting for the migration" : "");
    return vm;
}

static Vm *launch(QemuPair *q, gboolean is_dst, gboolean plain, GError **error)
{
    return launch_vm(q, is_dst, plain, NULL, error);
}

/* cpr-transfer: the destination booted with the pair only answered the
 * probes; the target takes its place, started while the source runs. */
static Vm *launch_cpr_target(gpointer opaque, const char *const *args, GError **error)
{
    QemuPair *q = opaque;

    g_clear_pointer(&q->vm[SIDE_DST], vm_free);
    q->vm[SIDE_DST] = launch_vm(q, TRUE, FALSE, args, error);
    return q->vm[SIDE_DST];
}

static gboolean probe_pair(QemuPair *q, GError **error)
{
    Deadline deadline = q->base.spec->deadline;
    g_autoptr(QemuFeatures) fs = probe_features(vm_qmp(q->vm[SIDE_SRC]), deadline, error);
    g_autoptr(QemuFeatures) fd = fs ? probe_features(vm_qmp(q->vm[SIDE_DST]), deadline, error)
                                    : NULL;

    return fd && probe_case(q->base.spec->desc, fs, fd, error);
}

/* A QEMU that died during boot explains the failure better than the
 * closed socket that noticed it; a socket closes as its process exits, so
 * a short grace lets the kernel finish the exit before we reap it. */
#define BOOT_EXIT_GRACE_MS 500

static void explain_boot_failure(QemuPair *q, GError **error)
{
    g_autoptr(GError) dead = NULL;
    gint64 grace = g_error_matches(*error, MT_ERROR, MT_ERROR_DISCONNECTED) ? BOOT_EXIT_GRACE_MS : 0;

    for (int side = SIDE_SRC; side <= SIDE_DST; side++)
        if (q->vm[side] && !vm_check_alive_within(q->vm[side], grace, &dead)) {
            g_prefix_error(&dead, "during boot: ");
            g_clear_error(error);
            g_propagate_error(error, g_steal_pointer(&dead));
            return;
        }
}

/* A row whose -machine properties an older QEMU does not know would
 * fail at start: its version is asked first, and a skip names it. */
static gboolean probe_before_launch(QemuPair *q, GError **error)
{
    const CaseDesc *d = q->base.spec->desc;
    const char *bins[] = { q->src_bin, q->dst_bin };

    for (guint i = 0; d->machine_props && d->min_version && i < G_N_ELEMENTS(bins); i++) {
        g_autofree char *version = NULL;
        int code = probe_binary_version(bins[i], &version, error);

        if (code < 0)
            return FALSE;
        if (code < d->min_version) {
            g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "%s needs QEMU >= %d.%d "
                        "(-machine %s); %s is %s", d->name, d->min_version / 10000,
                        d->min_version / 100 % 100, d->machine_props, i ? "dst" : "src",
                        version);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean qemu_boot(Pair *p, GError **error)
{
    QemuPair *q = qp(p);
    Deadline boot = boot_deadline(p->spec);

    if (!resolve_binaries(q, error) || !write_payload_files(q, error) || !make_tls(q, error) ||
        !probe_before_launch(q, error))
        return FALSE;
    if (p->spec->desc->ram == CASE_RAM_FILE_COMMON)
        q->ram_file = g_build_filename(p->spec->run_dir, "shared.ram", NULL);
    if (p->spec->desc->link) {
        netns_sweep_stale();    /* namespaces of runs killed with SIGKILL */
        if (!(q->net = netns_pair_new(p->spec->desc->link, error)))
            return FALSE;
    }
    if (!(q->vm[SIDE_SRC] = launch(q, FALSE, FALSE, error)) ||
        !(q->vm[SIDE_DST] = launch(q, TRUE, FALSE, error)))
        return FALSE;
    /* The first 'B' proves the whole window has been written once (with
     * several vCPUs, slice 0: then every vCPU's first beat, the others). */
    if (probe_pair(q, error) &&
        serial_wait_b(vm_serial(q->vm[SIDE_SRC]), 1, "src", boot, error)) {
        serial_wait_every_vcpu_once(vm_serial(q->vm[SIDE_SRC]), p->spec->vcpus, boot);
        progress_phase(p->spec->progress, "first pass: the source guest has written its "
                       "window once");
        return TRUE;
    }
    explain_boot_failure(q, error);
    return FALSE;
}

static gboolean qemu_new_destination(Pair *p, gboolean plain, GError **error)
{
    QemuPair *q = qp(p);

    g_clear_pointer(&q->vm[SIDE_DST], vm_free);
    q->vm[SIDE_DST] = launch(q, TRUE, plain, error);
    return q->vm[SIDE_DST] != NULL;
}

static gboolean qemu_swap(Pair *p, GError **error)
{
    QemuPair *q = qp(p);

    if (q->net) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "ping-pong over a real link "
                    "is not supported: each namespace holds one side");
        return FALSE;
    }
    g_clear_pointer(&q->vm[SIDE_SRC], vm_free);
    q->vm[SIDE_SRC] = g_steal_pointer(&q->vm[SIDE_DST]);
    q->reversed = !q->reversed;
    q->vm[SIDE_DST] = launch(q, TRUE, TRUE, error);
    return q->vm[SIDE_DST] != NULL;
}

static const char *qemu_side_name(Pair *p, Side side)
{
    return vm_name(side_vm(p, side));
}

static const char *qemu_version(Pair *p, Side side)
{
    return qmp_version(vm_qmp(side_vm(p, side)));
}

static Serial *qemu_serial(Pair *p, Side side)
{
    return vm_serial(side_vm(p, side));
}

static gboolean qemu_is_running(Pair *p, Side side, gboolean *running, GError **error)
{
    g_autoptr(JsonNode) st = qmp_execute(vm_qmp(side_vm(p, side)), "query-status", NULL,
                                         p->spec->deadline, error);
    JsonNode *n;

    if (!st)
        return FALSE;
    n = json_object_get_member(json_node_get_object(st), "running");
    *running = n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_boolean(n);
    return TRUE;
}

static gboolean qemu_command(Pair *p, Side side, const char *command, GError **error)
{
    return qmp_execute_simple(vm_qmp(side_vm(p, side)), command, NULL, p->spec->deadline,
                              error);
}

static gboolean qemu_stop(Pair *p, Side side, GError **error)
{
    return qemu_command(p, side, "stop", error);
}

static gboolean qemu_resume(Pair *p, Side side, GError **error)
{
    return qemu_command(p, side, "cont", error);
}

/* Asked when a migration ended unexpectedly, typically because a QEMU was
 * killed: its sockets close while the kernel is still tearing down its
 * memory, a moment before it can be reaped; wait that moment out. */
#define ALIVE_EXIT_GRACE_MS 200

static gboolean qemu_check_alive(Pair *p, Side side, GError **error)
{
    return vm_check_alive_within(side_vm(p, side), ALIVE_EXIT_GRACE_MS, error);
}

static gboolean qemu_set_link(gpointer net, gboolean up, GError **error)
{
    return netns_pair_set_link(net, up, error);
}

/* What the link did, ahead of the cut script's log: the proof that a
 * lossy link lost packets.  A lossy link that dropped none leaves no log,
 * so the case fails as "feature not exercised". */
static void log_link(QemuPair *q, MigrateStats *stats)
{
    g_autofree char *what = netns_pair_describe(q->net);
    guint64 lost = netns_pair_lost_packets(q->net);
    char *log;

    if (q->base.spec->desc->link->loss_pct && lost == 0)
        return;
    log = g_strdup_printf("%s; %" G_GUINT64_FORMAT " packets dropped%s%s", what, lost,
                          stats->link_log ? "; " : "", stats->link_log ? stats->link_log : "");
    g_free(stats->link_log);
    stats->link_log = log;
}

/* A cpr-reboot source must quit by itself within this. */
#define CPR_QUIT_MS 10000

/* cpr-reboot: the source quits (its RAM stays in the shared file) and a
 * new QEMU, started only now, is the destination that loads the state
 * onto that RAM. */
static Vm *qemu_restart_dst(gpointer opaque, GError **error)
{
    QemuPair *q = opaque;
    const PairSpec *s = q->base.spec;

    if (!vm_shutdown(q->vm[SIDE_SRC], deadline_min(s->deadline, deadline_in_ms(CPR_QUIT_MS)))) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "src QEMU did not quit within %d ms "
                    "of 'quit' after its cpr-reboot migration", CPR_QUIT_MS);
        return NULL;
    }
    progress_phase(s->progress, "cpr-reboot: the source quit; a new destination starts on "
                   "its RAM");
    g_clear_pointer(&q->vm[SIDE_DST], vm_free);
    q->vm[SIDE_DST] = launch(q, TRUE, FALSE, error);
    return q->vm[SIDE_DST];
}

static gboolean qemu_migrate(Pair *p, const MigrateConfig *cfg, MigrateStats *stats,
                             GError **error)
{
    QemuPair *q = qp(p);
    MigrateConfig mc = *cfg;
    gboolean ok;

    if (p->spec->desc->cpr == CPR_REBOOT) {
        mc.restart_dst = qemu_restart_dst;
        mc.restart_opaque = q;
    }
    /* Over a real link the destination listens on its veth address; the
     * case's cut applies to its first migration, not to a second one
     * over the restored link. */
    if (q->net) {
        mc.tcp_host = netns_pair_addr(q->net, NETNS_DST);
        mc.link_cut = q->migrations ? LINK_CUT_NONE : p->spec->desc->link_cut;
        mc.set_link = qemu_set_link;
        mc.link_opaque = q->net;
    }
    q->migrations++;
    if (p->spec->desc->cpr == CPR_TRANSFER || p->spec->desc->cpr == CPR_TRANSFER_DEFER)
        return cpr_transfer_run(side_vm(p, SIDE_SRC), &mc,
                                p->spec->desc->cpr == CPR_TRANSFER_DEFER, launch_cpr_target, q,
                                p->spec->run_dir, p->spec->deadline, stats, error);
    ok = migrate_run(side_vm(p, SIDE_SRC), side_vm(p, SIDE_DST), &mc, p->spec->run_dir,
                     p->spec->deadline, stats, error);
    if (q->net)
        log_link(q, stats);
    return ok;
}

static gboolean qemu_cancel(Pair *p, GError **error)
{
    return qemu_command(p, SIDE_SRC, "migrate_cancel", error);
}

static char *qemu_migration_status(Pair *p, GError **error)
{
    g_autoptr(JsonNode) q = qmp_execute(vm_qmp(side_vm(p, SIDE_SRC)), "query-migrate", NULL,
                                        p->spec->deadline, error);
    const char *status;

    if (!q)
        return NULL;
    status = qmp_get_string(json_node_get_object(q), "status");
    /* Before any migration QEMU answers {}: no status at all. */
    return g_strdup(status ? status : "none");
}

static char *qemu_tls_evidence(Pair *p, GError **error)
{
    g_autoptr(JsonNode) q = qmp_execute(vm_qmp(side_vm(p, SIDE_SRC)),
                                        "query-migrate-parameters", NULL, p->spec->deadline,
                                        error);
    const char *creds = q ? qmp_get_string(json_node_get_object(q), "tls-creds") : NULL;

    return g_strcmp0(creds, TLSCREDS_ID) == 0
           ? g_strdup_printf("tls-creds %s in force", creds) : NULL;
}

/* calc-dirty-rate in dirty-ring mode only works when KVM's dirty ring
 * is enabled: it is the proof that the accelerator property took. */
static char *qemu_measure_dirty_ring(Pair *p, GError **error)
{
    QmpClient *qmp = vm_qmp(side_vm(p, SIDE_SRC));
    g_autoptr(JsonObject) args = json_object_new();
    Deadline d = deadline_min(p->spec->deadline,
                              deadline_in_ms(DIRTY_RATE_CALC_S * 1000 + 5000));

    json_object_set_int_member(args, "calc-time", DIRTY_RATE_CALC_S);
    json_object_set_string_member(args, "mode", "dirty-ring");
    if (!qmp_execute_simple(qmp, "calc-dirty-rate", args, d, error))
        return NULL;
    for (;;) {
        g_autoptr(JsonNode) q = qmp_execute(qmp, "query-dirty-rate", NULL, d, error);
        JsonObject *o = q ? json_node_get_object(q) : NULL;
        JsonNode *rate;

        if (!q)
            return NULL;
        rate = json_object_get_member(o, "dirty-rate");
        if (g_strcmp0(qmp_get_string(o, "status"), "measured") == 0 && rate)
            return g_strdup_printf("dirty ring measured %" G_GINT64_FORMAT " MB/s",
                                   json_node_get_int(rate));
        if (deadline_expired(d)) {
            g_set_error(error, MT_ERROR, MT_ERROR_TIMEOUT, "calc-dirty-rate (dirty-ring) "
                        "never reached 'measured'");
            return NULL;
        }
        g_usleep(100 * 1000);       /* query-dirty-rate sends no event */
    }
}

static gboolean qemu_coherency_check(Pair *p, const char *when, CoherencyResult *r,
                                     gboolean *safe, GError **error)
{
    return coherency_check(side_vm(p, SIDE_SRC), when, r, safe, p->spec->deadline, error);
}

/* A private copy of @img (a mapping of shared RAM, or already a copy). */
/* The copy goes to a file in the run directory (tmpfs), not into
 * migtest's own memory. */
static gboolean qemu_keep_src_copy(Pair *p, GError **error)
{
    QemuPair *q = qp(p);
    g_autoptr(RamImage) now = vm_ram_image(side_vm(p, SIDE_SRC), FALSE, error);
    g_autofree char *path = g_build_filename(p->spec->run_dir, "src-at-stop.ram", NULL);

    if (!now)
        return FALSE;
    g_clear_pointer(&q->src_copy, ram_image_free);
    q->src_copy = ram_image_copy_to_file(now, path, error);
    if (!q->src_copy)
        return FALSE;
    progress_phase(p->spec->progress, "copy at stop: %" G_GUINT64_FORMAT " MiB of source RAM "
                   "kept", now->layout.total >> 20);
    return TRUE;
}

static gboolean qemu_verify(Pair *p, gboolean exact, const PayloadParams *params,
                            ExactResult *ex, InvariantResult *inv, GError **error)
{
    QemuPair *q = qp(p);
    gboolean with_copy = p->spec->desc->ram != CASE_RAM_DEFAULT;
    g_autoptr(RamImage) s = exact && !with_copy ? vm_ram_image(side_vm(p, SIDE_SRC), FALSE, error)
                                                : NULL;
    g_autoptr(RamImage) d = NULL;
    g_autoptr(GError) inv_err = NULL;
    gboolean exact_ok = TRUE, inv_ok = TRUE;

    /* One shared file compared with itself would always agree: such a
     * row is compared with the copy taken at stop, or not at all. */
    if (exact && with_copy && !q->src_copy) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "%s: no copy of the source's RAM "
                    "was taken at stop to compare the destination with", p->spec->desc->name);
        return FALSE;
    }
    if ((exact && !with_copy && !s) || !(d = vm_ram_image(side_vm(p, SIDE_DST), FALSE, error)))
        return FALSE;
    if (exact)
        exact_ok = verify_exact(with_copy ? q->src_copy : s, d, ex, error);
    if (params)
        inv_ok = verify_invariant(d, params, inv, &inv_err);
    if (exact_ok && !inv_ok)
        g_propagate_error(error, g_steal_pointer(&inv_err));
    return exact_ok && inv_ok;
}

static char *qemu_runstate(Pair *p, Side side, GError **error)
{
    g_autoptr(JsonNode) st = qmp_execute(vm_qmp(side_vm(p, side)), "query-status", NULL,
                                         p->spec->deadline, error);
    const char *status = st ? qmp_get_string(json_node_get_object(st), "status") : NULL;

    if (st && !status)
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "%s: query-status without a status",
                    vm_name(side_vm(p, side)));
    return g_strdup(status);
}

static gboolean qemu_wait_event(Pair *p, Side side, const char *name, GError **error)
{
    g_autoptr(JsonObject) ev = qmp_wait_event(vm_qmp(side_vm(p, side)), name, NULL, NULL,
                                              p->spec->deadline, error);

    if (!ev)
        g_prefix_error(error, "%s: waiting for the %s event: ", vm_name(side_vm(p, side)), name);
    return ev != NULL;
}

static gboolean qemu_wakeup(Pair *p, Side side, GError **error)
{
    return qemu_command(p, side, "system_wakeup", error);
}

static gboolean qemu_poke(Pair *p, Side side, guint64 gpa, GError **error)
{
    g_autoptr(RamImage) img = vm_ram_image(side_vm(p, side), FALSE, error);
    guint64 off;
    guint8 b;

    if (!img)
        return FALSE;
    if (!ram_layout_gpa_to_offset(&img->layout, gpa, &off)) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "poke gpa 0x%" G_GINT64_MODIFIER "x "
                    "is not RAM", gpa);
        return FALSE;
    }
    b = img->data[off] ^ 0xff;
    return vm_ram_poke(side_vm(p, side), gpa, &b, 1, error);
}

static gboolean qemu_write_ram(Pair *p, Side side, guint64 gpa, const void *buf, gsize len,
                               GError **error)
{
    return vm_ram_poke(side_vm(p, side), gpa, buf, len, error);
}

static gboolean qemu_hmp(Pair *p, Side side, const char *command, char **output,
                         GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    JsonNode *ret;

    json_object_set_string_member(args, "command-line", command);
    ret = qmp_execute(vm_qmp(side_vm(p, side)), "human-monitor-command", args,
                      p->spec->deadline, error);
    if (!ret)
        return FALSE;
    *output = g_strdup(json_node_get_string(ret) ? json_node_get_string(ret) : "");
    json_node_unref(ret);
    return TRUE;
}

static const PairOps qemu_ops = {
    .name = "qemu",
    .boot = qemu_boot,
    .new_destination = qemu_new_destination,
    .side_name = qemu_side_name,
    .version = qemu_version,
    .serial = qemu_serial,
    .is_running = qemu_is_running,
    .stop = qemu_stop,
    .resume = qemu_resume,
    .check_alive = qemu_check_alive,
    .migrate = qemu_migrate,
    .cancel = qemu_cancel,
    .migration_status = qemu_migration_status,
    .tls_evidence = qemu_tls_evidence,
    .measure_dirty_ring = qemu_measure_dirty_ring,
    .coherency_check = qemu_coherency_check,
    .verify = qemu_verify,
    .keep_src_copy = qemu_keep_src_copy,
    .poke = qemu_poke,
    .write_ram = qemu_write_ram,
    .hmp = qemu_hmp,
    .runstate = qemu_runstate,
    .wait_event = qemu_wait_event,
    .wakeup = qemu_wakeup,
    .swap = qemu_swap,
    .free = qemu_pair_free,
};

Pair *backend_qemu_pair_new(const PairSpec *spec)
{
    QemuPair *q = g_new0(QemuPair, 1);

    q->base.ops = &qemu_ops;
    q->base.spec = spec;
    return &q->base;
}
