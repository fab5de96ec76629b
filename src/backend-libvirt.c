/* backend-libvirt.c: the libvirt backend (see backend-libvirt.h). */
#include "backend-libvirt.h"

#include <string.h>
#include <unistd.h>
#include "agent-client.h"
#include "libvirt-conn.h"
#include "libvirt-domain.h"
#include "libvirt-migrate.h"
#include "mt-error.h"

/* Guest boot to first 'B' through libvirt: create ~0.2-2 s, then the
 * payload's first pass; 60 s as for the qemu backend on a loaded host. */
#define LIBVIRT_BOOT_MS 60000
/* Where the case's files live on each host: libvirt's own state
 * directory exists on every libvirt host, and QEMU (run as root by the
 * hosts migtest sets up, or by libvirt's qemu user) can read it. */
#define LIBVIRT_HOST_DIR "/var/lib/libvirt/migtest"
/* Tearing down: destroy and the agents' release answer in a second or two. */
#define LIBVIRT_TEARDOWN_MS 20000

typedef struct {
    Pair base;
    LibvirtMode mode;
    virConnectPtr conn[2];      /* by Side */
    AgentClient *agent[2];
    Serial *serial[2];
    virDomainPtr dom[2];
    char *name;
    char *uuid;
    char *dir;                  /* LIBVIRT_HOST_DIR/<name>, on both hosts */
    char *version[2];
    RamLayout layout;
    gboolean mapped[2];
    gboolean migrated;
    char *tls_creds;            /* seen on the source while migrating */
} LvPair;

static LvPair *lv(Pair *p)
{
    return (LvPair *)p;
}

static const char *side_str(Side s)
{
    return s == SIDE_SRC ? "src" : "dst";
}

/* Destroy @name on @c if it is there (we created it, or a migration did). */
static void destroy_named(virConnectPtr c, const char *name)
{
    virDomainPtr d = c ? virDomainLookupByName(c, name) : NULL;

    if (!d)
        return;
    if (virDomainIsActive(d) == 1)
        virDomainDestroy(d);
    if (virDomainIsPersistent(d) == 1)
        virDomainUndefine(d);
    virDomainFree(d);
}

static void lv_free(Pair *p)
{
    LvPair *l = lv(p);
    Deadline d = deadline_in_ms(LIBVIRT_TEARDOWN_MS);

    for (int s = SIDE_SRC; s <= SIDE_DST; s++) {
        if (l->dom[s])
            virDomainFree(l->dom[s]);
        destroy_named(l->conn[s], l->name);
    }
    for (int s = SIDE_SRC; s <= SIDE_DST; s++) {
        if (l->agent[s]) {
            vm_group_watch(p->spec->opts->group, agent_client_pid(l->agent[s]), FALSE);
            agent_client_release(l->agent[s], d, NULL);
        }
        agent_client_free(l->agent[s]);
        serial_free(l->serial[s]);
        libvirt_conn_close(l->conn[s]);
        g_free(l->version[s]);
    }
    g_free(l->tls_creds);
    g_free(l->name);
    g_free(l->uuid);
    g_free(l->dir);
    g_free(l);
}

static char *host_path(LvPair *l, const char *leaf)
{
    return g_build_filename(l->dir, leaf, NULL);
}

static gboolean connect_hosts(LvPair *l, GError **error)
{
    const RunOptions *o = l->base.spec->opts;

    return (l->conn[SIDE_SRC] = libvirt_conn_open(o->src_uri, "src", error)) &&
           (l->conn[SIDE_DST] = libvirt_conn_open(o->dst_uri, "dst", error));
}

static gboolean start_agents(LvPair *l, GError **error)
{
    const PairSpec *s = l->base.spec;
    const char *cmd[2] = { s->opts->src_agent, s->opts->dst_agent };

    for (int side = SIDE_SRC; side <= SIDE_DST; side++) {
        g_autofree char *log = g_strdup_printf("%s/agent-%s.stderr", s->log_dir, side_str(side));
        g_autofree char *serial_log = g_strdup_printf("%s/%s.serial", s->log_dir,
                                                      side_str(side));

        l->agent[side] = agent_client_new(cmd[side], side_str(side), log, s->deadline, error);
        if (!l->agent[side])
            return FALSE;
        /* an interrupt stops the agents: every wait on their streams ends */
        vm_group_watch(s->opts->group, agent_client_pid(l->agent[side]), TRUE);
        if (!(l->serial[side] = serial_new_relayed(serial_log, s->serial_lines, error)))
            return FALSE;
    }
    return TRUE;
}

/* The payload files and the serial listener, on both hosts: the
 * destination QEMU opens the same paths when the migration starts it. */
static gboolean place_files(LvPair *l, GError **error)
{
    const PairSpec *s = l->base.spec;
    g_autofree char *image = host_path(l, "payload.bin");
    g_autofree char *initrd = host_path(l, "initrd.cpio");
    g_autofree char *sock = host_path(l, "serial.sock");
    g_autoptr(GBytes) kernel = NULL;

    if (s->kernel) {
        gchar *data;
        gsize len;
        if (!g_file_get_contents(s->kernel, &data, &len, error))
            return FALSE;
        kernel = g_bytes_new_take(data, len);
    }
    for (int side = SIDE_SRC; side <= SIDE_DST; side++) {
        g_autofree char *kpath = host_path(l, "kernel");
        AgentClient *a = l->agent[side];

        if ((s->image && !agent_client_put_file(a, image, s->image, s->deadline, error)) ||
            (kernel && !agent_client_put_file(a, kpath, kernel, s->deadline, error)) ||
            (s->initrd && !agent_client_put_file(a, initrd, s->initrd, s->deadline, error)) ||
            !agent_client_listen_serial(a, sock, l->serial[side], s->deadline, error))
            return FALSE;
    }
    return TRUE;
}

static char *domain_xml(LvPair *l)
{
    const PairSpec *s = l->base.spec;
    g_autofree char *image = host_path(l, "payload.bin");
    g_autofree char *kernel = host_path(l, "kernel");
    g_autofree char *initrd = host_path(l, "initrd.cpio");
    g_autofree char *sock = host_path(l, "serial.sock");
    LibvirtDomainSpec d = {
        .arch = s->arch,
        .name = l->name,
        .uuid = l->uuid,
        .domain_type = g_str_has_prefix(s->accel, "kvm") ? "kvm" : "qemu",
        .machine = s->opts->machine ? s->opts->machine : s->arch->default_machine,
        .emulator = s->opts->src_qemu,
        .mem_bytes = s->mem_bytes,
        .image_path = s->image ? image : NULL,
        .kernel_path = s->kernel ? kernel : NULL,
        .initrd_path = s->initrd ? initrd : NULL,
        .cmdline = s->append,
        .cpu_model = s->cpu,
        .vcpus = s->vcpus,
        .serial_path = sock,
    };

    return libvirt_domain_xml(&d);
}

static char *hypervisor_version(virConnectPtr c)
{
    unsigned long v = 0;

    if (virConnectGetVersion(c, &v) < 0)
        return g_strdup("unknown");
    return g_strdup_printf("%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}

/* Created paused, its RAM mapped by the source agent, then resumed: the
 * mapping is in place before the guest writes a byte, and outlives the
 * QEMU libvirt kills after the migration. */
static gboolean create_source(LvPair *l, GError **error)
{
    const PairSpec *s = l->base.spec;
    g_autofree char *xml = domain_xml(l);
    g_autofree char *path = g_strdup_printf("%s/domain.xml", s->log_dir);

    g_file_set_contents(path, xml, -1, NULL);
    l->dom[SIDE_SRC] = virDomainCreateXML(l->conn[SIDE_SRC], xml, VIR_DOMAIN_START_PAUSED);
    if (!l->dom[SIDE_SRC]) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create domain '%s' on the src "
                    "host: %s", l->name, libvirt_last_error());
        return FALSE;
    }
    s->arch->ram_layout(s->opts->machine ? s->opts->machine : s->arch->default_machine,
                        s->mem_bytes, &l->layout);
    if (!agent_client_map_ram(l->agent[SIDE_SRC], &l->layout, l->name, l->uuid, 0,
                              s->deadline, error))
        return FALSE;
    l->mapped[SIDE_SRC] = TRUE;
    if (virDomainResume(l->dom[SIDE_SRC]) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot resume '%s' on the src host: %s",
                    l->name, libvirt_last_error());
        return FALSE;
    }
    return TRUE;
}

static gboolean lv_boot(Pair *p, GError **error)
{
    LvPair *l = lv(p);
    const PairSpec *s = p->spec;
    const char *why = libvirt_cannot_express(s->desc, l->mode);
    Deadline boot = deadline_min(s->deadline, deadline_in_ms(LIBVIRT_BOOT_MS));

    if (why) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "%s", why);
        return FALSE;
    }
    if (!connect_hosts(l, error) || !start_agents(l, error) || !place_files(l, error) ||
        !create_source(l, error))
        return FALSE;
    l->version[SIDE_SRC] = hypervisor_version(l->conn[SIDE_SRC]);
    l->version[SIDE_DST] = hypervisor_version(l->conn[SIDE_DST]);
    if (!serial_wait_b(l->serial[SIDE_SRC], 1, "src", boot, error))
        return FALSE;
    serial_wait_every_vcpu_once(l->serial[SIDE_SRC], s->vcpus, boot);  /* every slice */
    return TRUE;
}

static gboolean lv_new_destination(Pair *p, gboolean plain, GError **error)
{
    (void)p; (void)plain;
    g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "a second migration to a fresh "
                "destination is not wired into the libvirt backend");
    return FALSE;
}

static const char *lv_side_name(Pair *p, Side side)
{
    (void)p;
    return side_str(side);
}

static const char *lv_version(Pair *p, Side side)
{
    return lv(p)->version[side];
}

static Serial *lv_serial(Pair *p, Side side)
{
    return lv(p)->serial[side];
}

/* The destination domain exists once a migration created it. */
static virDomainPtr side_dom(LvPair *l, Side side, GError **error)
{
    if (!l->dom[side] && l->conn[side])
        l->dom[side] = virDomainLookupByName(l->conn[side], l->name);
    if (!l->dom[side])
        g_set_error(error, MT_ERROR, MT_ERROR_PEER_DIED, "%s: domain '%s' is not on that "
                    "host%s", side_str(side), l->name,
                    side == SIDE_SRC && l->migrated ? " (libvirt removed it after migrating)"
                                                    : "");
    return l->dom[side];
}

static gboolean lv_is_running(Pair *p, Side side, gboolean *running, GError **error)
{
    LvPair *l = lv(p);
    int state = 0, reason = 0;
    virDomainPtr d;

    *running = FALSE;
    if (side == SIDE_SRC && l->migrated)
        return TRUE;        /* libvirt killed it: stopped for good */
    if (!(d = side_dom(l, side, error)))
        return FALSE;
    if (virDomainGetState(d, &state, &reason, 0) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_PEER_DIED, "%s: cannot get the state of '%s': "
                    "%s", side_str(side), l->name, libvirt_last_error());
        return FALSE;
    }
    *running = state == VIR_DOMAIN_RUNNING;
    return TRUE;
}

static gboolean lv_stop(Pair *p, Side side, GError **error)
{
    virDomainPtr d = side_dom(lv(p), side, error);

    if (d && virDomainSuspend(d) == 0)
        return TRUE;
    if (d)
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "%s: virDomainSuspend: %s",
                    side_str(side), libvirt_last_error());
    return FALSE;
}

static gboolean lv_resume(Pair *p, Side side, GError **error)
{
    virDomainPtr d = side_dom(lv(p), side, error);

    if (d && virDomainResume(d) == 0)
        return TRUE;
    if (d)
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "%s: virDomainResume: %s",
                    side_str(side), libvirt_last_error());
    return FALSE;
}

static gboolean lv_check_alive(Pair *p, Side side, GError **error)
{
    LvPair *l = lv(p);
    virDomainPtr d = l->conn[side] ? virDomainLookupByName(l->conn[side], l->name) : NULL;
    gboolean alive = d && virDomainIsActive(d) == 1;

    if (d)
        virDomainFree(d);
    if (!alive)
        g_set_error(error, MT_ERROR, MT_ERROR_PEER_DIED, "%s: domain '%s' is not running "
                    "on its host", side_str(side), l->name);
    return alive;
}

static gboolean lv_migrate(Pair *p, const MigrateConfig *cfg, MigrateStats *stats,
                           GError **error)
{
    LvPair *l = lv(p);
    const PairSpec *s = p->spec;
    LibvirtMigration m = {
        .mode = l->mode,
        .src = l->conn[SIDE_SRC],
        .dst = l->conn[SIDE_DST],
        .dst_uri = s->opts->dst_uri,
        .dom = l->dom[SIDE_SRC],
        .name = l->name,
        .tls = s->desc->tls == TLS_X509,
        .tls_creds_seen = &l->tls_creds,
        .group = s->opts->group,
        .deadline = s->deadline,
    };
    gboolean ok = libvirt_migrate_run(&m, cfg, stats, error);

    if (ok)
        l->migrated = TRUE;
    /* The destination is stopped (PAUSED) or running (postcopy): map its
     * RAM now, before anything else can touch it. */
    if (ok && !agent_client_map_ram(l->agent[SIDE_DST], &l->layout, l->name, l->uuid, 0,
                                    s->deadline, error))
        return FALSE;
    l->mapped[SIDE_DST] = ok;
    return ok;
}

static gboolean lv_cancel(Pair *p, GError **error)
{
    virDomainPtr d = side_dom(lv(p), SIDE_SRC, error);

    /* no job: libvirt says so, which is the harmless no-op asked for */
    if (d && virDomainAbortJob(d) < 0 &&
        virGetLastErrorCode() != VIR_ERR_OPERATION_INVALID) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "virDomainAbortJob: %s",
                    libvirt_last_error());
        return FALSE;
    }
    return d != NULL;
}

static char *lv_migration_status(Pair *p, GError **error)
{
    LvPair *l = lv(p);

    (void)error;
    return g_strdup(l->migrated ? "completed" : "none");
}

/* The source QEMU's own tls-creds, read while it migrated (libvirt
 * clears them when the job ends): x509 from the hosts' cert directories. */
static char *lv_tls_evidence(Pair *p, GError **error)
{
    LvPair *l = lv(p);

    if (!l->tls_creds) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "the source QEMU showed no "
                    "tls-creds while migrating");
        return NULL;
    }
    return g_strdup_printf("src QEMU tls-creds '%s' while migrating (x509, VIR_MIGRATE_TLS)",
                           l->tls_creds);
}

static char *lv_measure_dirty_ring(Pair *p, GError **error)
{
    (void)p;
    g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "libvirt backend: the dirty ring "
                "is not wired");
    return NULL;
}

static gboolean lv_coherency_check(Pair *p, const char *when, CoherencyResult *r,
                                   gboolean *safe, GError **error)
{
    (void)p; (void)when; (void)r; (void)safe;
    g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "the libvirt backend has no "
                "coherency guard");
    return FALSE;
}

static gboolean lv_verify(Pair *p, gboolean exact, const PayloadParams *params,
                          ExactResult *ex, InvariantResult *inv, GError **error)
{
    LvPair *l = lv(p);
    Deadline d = p->spec->deadline;
    g_autoptr(GError) exact_error = NULL;
    gboolean exact_ok = TRUE;

    if (exact && !(exact_ok = agent_verify_exact(l->agent[SIDE_SRC], l->agent[SIDE_DST],
                                                 &l->layout, ex, d, &exact_error)) &&
        !g_error_matches(exact_error, MT_ERROR, MT_ERROR_VERIFY)) {
        g_propagate_error(error, g_steal_pointer(&exact_error));
        return FALSE;
    }
    if (params) {
        invariant_result_clear(inv);
        if (!agent_client_invariant(l->agent[SIDE_DST], params, inv, d, error))
            return FALSE;
    }
    if (!exact_ok) {
        g_propagate_error(error, g_steal_pointer(&exact_error));
        return FALSE;
    }
    if (params && !inv->ok) {
        g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "invariant: %s", inv->detail);
        return FALSE;
    }
    return TRUE;
}

/* Flip every bit of the byte at @gpa, read through the agent first. */
static gboolean lv_poke(Pair *p, Side side, guint64 gpa, GError **error)
{
    LvPair *l = lv(p);
    Deadline d = p->spec->deadline;
    guint64 off, page;
    g_autoptr(GPtrArray) bytes = NULL;
    guint8 b;

    if (!ram_layout_gpa_to_offset(&l->layout, gpa, &off)) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "poke: gpa 0x%" G_GINT64_MODIFIER "x is "
                    "not guest RAM", gpa);
        return FALSE;
    }
    page = off / MT_PAGE_SIZE;
    if (!(bytes = agent_client_read_pages(l->agent[side], &page, 1, d, error)))
        return FALSE;
    b = ((const guint8 *)g_bytes_get_data(bytes->pdata[0], NULL))[off % MT_PAGE_SIZE] ^ 0xff;
    return agent_client_poke(l->agent[side], gpa, &b, 1, d, error);
}

static gboolean lv_write_ram(Pair *p, Side side, guint64 gpa, const void *buf, gsize len,
                             GError **error)
{
    return agent_client_poke(lv(p)->agent[side], gpa, buf, len, p->spec->deadline, error);
}

static const PairOps libvirt_ops = {
    .name = "libvirt",
    .boot = lv_boot,
    .new_destination = lv_new_destination,
    .side_name = lv_side_name,
    .version = lv_version,
    .serial = lv_serial,
    .is_running = lv_is_running,
    .stop = lv_stop,
    .resume = lv_resume,
    .check_alive = lv_check_alive,
    .migrate = lv_migrate,
    .cancel = lv_cancel,
    .migration_status = lv_migration_status,
    .tls_evidence = lv_tls_evidence,
    .measure_dirty_ring = lv_measure_dirty_ring,
    .coherency_check = lv_coherency_check,
    .verify = lv_verify,
    .poke = lv_poke,
    .write_ram = lv_write_ram,
    .free = lv_free,
};

Pair *backend_libvirt_pair_new(const PairSpec *spec)
{
    LvPair *l = g_new0(LvPair, 1);
    g_autofree char *run_id = g_strdup_printf("%d", (int)getpid());

    l->base.ops = &libvirt_ops;
    l->base.spec = spec;
    if (!spec->opts->libvirt_mode || !libvirt_mode_parse(spec->opts->libvirt_mode, &l->mode))
        l->mode = LIBVIRT_P2P;
    l->name = libvirt_domain_name(run_id, spec->case_name);
    l->uuid = libvirt_domain_uuid(spec->case_name);
    l->dir = g_build_filename(LIBVIRT_HOST_DIR, l->name, NULL);
    return &l->base;
}
