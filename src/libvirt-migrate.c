/* libvirt-migrate.c: one migration through libvirt (see libvirt-migrate.h). */
#include "libvirt-migrate.h"

#include <string.h>
#include <libvirt/libvirt-qemu.h>
#include "libvirt-conn.h"
#include "mt-error.h"

/* libvirt refreshes its job statistics from QEMU on every call; twice a
 * second is fine-grained enough to act between iterations (~1-2 s each
 * under TCG) without loading a 2-core host. */
#define LIBVIRT_SAMPLE_MS 250
/* After virDomainAbortJob QEMU cancels within a second; the call then
 * returns.  Waiting longer would mean libvirtd itself is stuck. */
#define LIBVIRT_ABORT_WAIT_MS 30000
/* "Unlimited" for libvirt's bandwidth parameter (MiB/s): the runner's 10 GiB/s. */
#define LIBVIRT_UNLIMITED_MIBPS 10240

gboolean libvirt_mode_parse(const char *name, LibvirtMode *out)
{
    static const char *const names[] = { "p2p", "managed", "tunnelled" };

    for (guint i = 0; i < G_N_ELEMENTS(names); i++)
        if (g_str_equal(name, names[i])) {
            *out = (LibvirtMode)i;
            return TRUE;
        }
    return FALSE;
}

const char *libvirt_mode_name(LibvirtMode m)
{
    return m == LIBVIRT_MANAGED ? "managed" : m == LIBVIRT_TUNNELLED ? "tunnelled" : "p2p";
}

/* Capabilities with a libvirt flag (the rest libvirt 9.0 cannot set). */
static const char *const mapped_caps[] = { "xbzrle", "auto-converge", "multifd",
                                           "postcopy-ram", NULL };

static const char *param_unsupported(const MigrateParam *p)
{
    static const char *const mapped[] = { "xbzrle-cache-size", "multifd-channels",
                                          "cpu-throttle-initial", "cpu-throttle-increment",
                                          "tls-creds", NULL };

    if (g_str_equal(p->name, "multifd-compression"))
        return g_strcmp0(p->str, "none") == 0 ? NULL
               : "libvirt 9.0 has no multifd compression (zlib/zstd came in 9.4)";
    return g_strv_contains(mapped, p->name) ? NULL : p->name;
}

static const char *cannot_features(const CaseDesc *d)
{
    if (d->transport != TRANSPORT_TCP)
        return "libvirt migrates over its own tcp connection; fd, exec, file and "
               "unix transports are not wired into this backend";
    if (d->tls == TLS_PSK)
        return "libvirt 9.0 has no TLS PSK (x509 only)";
    if (d->continue_at_pre_switchover || d->cancel_at || d->hold_active_ms)
        return "libvirt 9.0 has no client hook at pre-switchover or at a chosen status "
               "(it continues at once)";
    if (d->postcopy_recover)
        return "postcopy recovery through libvirt is not wired into this backend";
    if (d->uuid || d->fault != FAULT_NONE)
        return "libvirt sets the UUID itself and cannot inject this fault";
    if (d->accel_props)
        return "libvirt 9.0 cannot set accelerator properties this way";
    return NULL;
}

const char *libvirt_cannot_express(const CaseDesc *d, LibvirtMode mode)
{
    const char *why = cannot_features(d);

    if (why)
        return why;
    for (guint i = 0; d->capabilities && d->capabilities[i]; i++)
        if (!g_strv_contains(mapped_caps, d->capabilities[i]))
            return g_str_equal(d->capabilities[i], "postcopy-preempt")
                   ? "libvirt 9.0 has no postcopy-preempt"
                   : g_str_equal(d->capabilities[i], "validate-uuid")
                   ? "libvirt 9.0 has no validate-uuid"
                   : "libvirt 9.0 cannot set this migration capability";
    for (guint i = 0; d->params && d->params[i].name; i++)
        if ((why = param_unsupported(&d->params[i])))
            return why == d->params[i].name ? "libvirt 9.0 cannot set this migration "
                                              "parameter" : why;
    if (mode == LIBVIRT_TUNNELLED && d->tls != TLS_NONE)
        return "libvirt 9.0: TLS with tunnelled migration fails ('failed to convert "
               "virJSONValue to yajl data'); the tunnel is libvirtd's own connection";
    if (mode == LIBVIRT_TUNNELLED && d->postcopy)
        return "libvirt: post-copy is not supported with tunnelled migration";
    if (mode == LIBVIRT_TUNNELLED && d->capabilities &&
        g_strv_contains((const char *const *)d->capabilities, "multifd"))
        return "libvirt: parallel (multifd) migration is not supported tunnelled";
    return NULL;
}

static gboolean has_cap(const MigrateConfig *cfg, const char *cap)
{
    return cfg->capabilities && g_strv_contains(cfg->capabilities, cap);
}

static const MigrateParam *find_param(const MigrateConfig *cfg, const char *name)
{
    for (guint i = 0; cfg->params && cfg->params[i].name; i++)
        if (g_str_equal(cfg->params[i].name, name))
            return &cfg->params[i];
    return NULL;
}

/* Flags and typed parameters for @cfg (the list in docs/libvirt.md). */
static unsigned int build_params(const LibvirtMigration *m, const MigrateConfig *cfg,
                                 virTypedParameterPtr *params, int *n)
{
    int max = 0;
    unsigned int flags = VIR_MIGRATE_LIVE;
    const MigrateParam *p;

    virTypedParamsAddULLong(params, n, &max, VIR_MIGRATE_PARAM_BANDWIDTH,
                            MAX(cfg->max_bandwidth >> 20, 1));
    if (cfg->postcopy || has_cap(cfg, "postcopy-ram"))
        flags |= VIR_MIGRATE_POSTCOPY;
    else
        flags |= VIR_MIGRATE_PAUSED;    /* the destination waits for exact */
    if (has_cap(cfg, "xbzrle")) {
        flags |= VIR_MIGRATE_COMPRESSED;
        virTypedParamsAddString(params, n, &max, VIR_MIGRATE_PARAM_COMPRESSION, "xbzrle");
        if ((p = find_param(cfg, "xbzrle-cache-size")))
            virTypedParamsAddULLong(params, n, &max,
                                    VIR_MIGRATE_PARAM_COMPRESSION_XBZRLE_CACHE, p->num);
    }
    if (has_cap(cfg, "auto-converge")) {
        flags |= VIR_MIGRATE_AUTO_CONVERGE;
        if ((p = find_param(cfg, "cpu-throttle-initial")))
            virTypedParamsAddInt(params, n, &max, VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL,
                                 (int)p->num);
        if ((p = find_param(cfg, "cpu-throttle-increment")))
            virTypedParamsAddInt(params, n, &max, VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT,
                                 (int)p->num);
    }
    if (has_cap(cfg, "multifd")) {
        flags |= VIR_MIGRATE_PARALLEL;
        if ((p = find_param(cfg, "multifd-channels")))
            virTypedParamsAddInt(params, n, &max, VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
                                 (int)p->num);
    }
    if (m->tls)
        flags |= VIR_MIGRATE_TLS;
    if (m->mode != LIBVIRT_MANAGED)
        flags |= VIR_MIGRATE_PEER2PEER;
    if (m->mode == LIBVIRT_TUNNELLED)
        flags |= VIR_MIGRATE_TUNNELLED;
    return flags;
}

/* ---- following it: QEMU's MIGRATION events, libvirt's lifecycle events ---- */

typedef struct {
    gint refs;
    GMutex lock;
    GCond cond;
    char *name;
    virConnectPtr src;
    GPtrArray *statuses;        /* char *: the source QEMU's, in order */
    GArray *events;             /* MigrateEvent */
    gint64 start_realtime_us;
    gint64 dst_completed_us;    /* monotonic */
    GPtrArray *lifecycle;       /* char *: "src: suspended/migration" ... */
    /* the migration thread's result */
    gboolean done;
    gboolean ok;
    char *error;
    gint64 returned_us;
} Watch;

static Watch *watch_ref(Watch *w)
{
    g_atomic_int_inc(&w->refs);
    return w;
}

static void watch_unref(void *opaque)
{
    Watch *w = opaque;

    if (!g_atomic_int_dec_and_test(&w->refs))
        return;
    g_mutex_clear(&w->lock);
    g_cond_clear(&w->cond);
    g_free(w->name);
    g_ptr_array_unref(w->statuses);
    g_array_unref(w->events);
    g_ptr_array_unref(w->lifecycle);
    g_free(w->error);
    g_free(w);
}

static const char *event_status(const char *details)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *root;
    const char *st;

    if (!details || !json_parser_load_from_data(p, details, -1, NULL) ||
        !(root = json_parser_get_root(p)) || !JSON_NODE_HOLDS_OBJECT(root))
        return NULL;
    st = json_object_get_string_member_with_default(json_node_get_object(root), "status", NULL);
    return st ? g_intern_string(st) : NULL;
}

static void on_monitor_event(virConnectPtr conn, virDomainPtr dom, const char *event,
                             long long seconds, unsigned int micros, const char *details,
                             void *opaque)
{
    Watch *w = opaque;
    const char *status = event_status(details);

    (void)event;
    if (!status || g_strcmp0(virDomainGetName(dom), w->name) != 0)
        return;
    g_mutex_lock(&w->lock);
    if (conn == w->src) {
        MigrateEvent e = { .t_ms = (seconds * G_USEC_PER_SEC + micros - w->start_realtime_us)
                                   / 1000, .status = status };
        g_ptr_array_add(w->statuses, g_strdup(status));
        g_array_append_val(w->events, e);
    } else if (g_str_equal(status, "completed")) {
        w->dst_completed_us = g_get_monotonic_time();
    }
    g_cond_broadcast(&w->cond);
    g_mutex_unlock(&w->lock);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                        void *opaque)
{
    Watch *w = opaque;

    if (g_strcmp0(virDomainGetName(dom), w->name) != 0)
        return 0;
    g_mutex_lock(&w->lock);
    g_ptr_array_add(w->lifecycle, g_strdup_printf("%s: event %d detail %d",
                                                  conn == w->src ? "src" : "dst",
                                                  event, detail));
    g_cond_broadcast(&w->cond);
    g_mutex_unlock(&w->lock);
    return 0;
}

typedef struct {
    int monitor[2];
    int lifecycle[2];
} WatchIds;

static void watch_register(const LibvirtMigration *m, Watch *w, WatchIds *ids)
{
    virConnectPtr conns[2] = { m->src, m->dst };

    for (int i = 0; i < 2; i++) {
        ids->monitor[i] = virConnectDomainQemuMonitorEventRegister(
            conns[i], NULL, "MIGRATION", on_monitor_event, watch_ref(w), watch_unref, 0);
        if (ids->monitor[i] < 0)
            watch_unref(w);
        ids->lifecycle[i] = virConnectDomainEventRegisterAny(
            conns[i], NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), watch_ref(w), watch_unref);
        if (ids->lifecycle[i] < 0)
            watch_unref(w);
    }
}

static void watch_deregister(const LibvirtMigration *m, const WatchIds *ids)
{
    virConnectPtr conns[2] = { m->src, m->dst };

    for (int i = 0; i < 2; i++) {
        if (ids->monitor[i] >= 0)
            virConnectDomainQemuMonitorEventDeregister(conns[i], ids->monitor[i]);
        if (ids->lifecycle[i] >= 0)
            virConnectDomainEventDeregisterAny(conns[i], ids->lifecycle[i]);
    }
}

/* ---- the blocking call, on its own thread ---- */

typedef struct {
    const LibvirtMigration *m;
    Watch *w;
    virTypedParameterPtr params;
    int nparams;
    unsigned int flags;
} Call;

static gpointer migrate_thread(gpointer opaque)
{
    Call *c = opaque;
    const LibvirtMigration *m = c->m;
    gboolean ok;

    if (m->mode == LIBVIRT_MANAGED) {
        virDomainPtr d = virDomainMigrate3(m->dom, m->dst, c->params, c->nparams, c->flags);
        ok = d != NULL;
        if (d)
            virDomainFree(d);
    } else {
        ok = virDomainMigrateToURI3(m->dom, m->dst_uri, c->params, c->nparams, c->flags) == 0;
    }
    g_mutex_lock(&c->w->lock);
    c->w->ok = ok;
    c->w->error = ok ? NULL : g_strdup(libvirt_last_error());
    c->w->returned_us = g_get_monotonic_time();
    c->w->done = TRUE;
    g_cond_broadcast(&c->w->cond);
    g_mutex_unlock(&c->w->lock);
    return NULL;
}

/* ---- statistics ---- */

static gint64 job_ull(virTypedParameterPtr p, int n, const char *name)
{
    unsigned long long v = 0;
    int iv = 0;

    if (virTypedParamsGetULLong(p, n, name, &v) == 1)
        return (gint64)v;
    if (virTypedParamsGetInt(p, n, name, &iv) == 1)
        return iv;
    return 0;
}

/* One running-job sample: the maxima the cases' observations read, and a
 * MigrateSample for the timelines, from libvirt's names for QEMU's figures. */
static void sample_job(const LibvirtMigration *m, MigrateStats *st)
{
    virTypedParameterPtr p = NULL;
    int n = 0, type = 0;
    MigrateSample s = { 0 };

    if (virDomainGetJobStats(m->dom, &type, &p, &n, 0) < 0)
        return;
    if (type != VIR_DOMAIN_JOB_NONE) {
        st->max_throttle_pct = MAX(st->max_throttle_pct,
                                   job_ull(p, n, VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE));
        st->xbzrle_pages = MAX(st->xbzrle_pages, job_ull(p, n, VIR_DOMAIN_JOB_COMPRESSION_PAGES));
        st->postcopy_requests = MAX(st->postcopy_requests,
                                    job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS));
        st->dirty_sync_count = MAX(st->dirty_sync_count,
                                   (guint64)job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION));
        s.t_ms = (g_get_monotonic_time() - st->start_us) / 1000;
        s.status = g_intern_static_string("active");
        s.transferred = job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED);
        s.remaining = job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_REMAINING);
        s.total = job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_TOTAL);
        s.dirty_pages_rate = job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE);
        s.mbps = job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_BPS) * 8 / 1e6;
        s.throttle_pct = job_ull(p, n, VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE);
        s.dirty_sync_count = job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
        s.postcopy_requests = job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS);
        g_array_append_val(st->samples, s);
    }
    virTypedParamsFree(p, n);
}

/* libvirt 9.0's job statistics have no multifd byte counter, and its
 * auto_converge_throttle stayed 0 in x86 runs where QEMU throttled: ask
 * the source QEMU itself through libvirt's monitor passthrough (which
 * libvirt allows during an outgoing migration, and marks the domain
 * tainted for). */
static void sample_qemu(const LibvirtMigration *m, MigrateStats *st)
{
    g_autofree char *reply = NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *root;
    JsonObject *o, *ram, *xbzrle;

    if (virDomainQemuMonitorCommand(m->dom, "{\"execute\":\"query-migrate\"}", &reply, 0) < 0 ||
        !json_parser_load_from_data(p, reply, -1, NULL) || !(root = json_parser_get_root(p)) ||
        !JSON_NODE_HOLDS_OBJECT(root))
        return;
    root = json_object_get_member(json_node_get_object(root), "return");
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return;
    o = json_node_get_object(root);
    ram = json_object_has_member(o, "ram") ? json_object_get_object_member(o, "ram") : NULL;
    xbzrle = json_object_has_member(o, "xbzrle-cache")
             ? json_object_get_object_member(o, "xbzrle-cache") : NULL;
    st->max_throttle_pct = MAX(st->max_throttle_pct, json_object_get_int_member_with_default(
                                   o, "cpu-throttle-percentage", 0));
    if (ram)
        st->multifd_bytes = MAX(st->multifd_bytes, json_object_get_int_member_with_default(
                                    ram, "multifd-bytes", 0));
    if (xbzrle)
        st->xbzrle_pages = MAX(st->xbzrle_pages, json_object_get_int_member_with_default(
                                   xbzrle, "pages", 0));
}

/* The proof TLS is in force: the source QEMU's own tls-creds while it
 * migrates (libvirt clears them again once the job ends). */
static void sample_tls(const LibvirtMigration *m)
{
    g_autofree char *reply = NULL;
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *root, *ret;
    const char *creds;

    if (!m->tls_creds_seen || *m->tls_creds_seen ||
        virDomainQemuMonitorCommand(m->dom, "{\"execute\":\"query-migrate-parameters\"}",
                                    &reply, 0) < 0 ||
        !json_parser_load_from_data(p, reply, -1, NULL) || !(root = json_parser_get_root(p)) ||
        !JSON_NODE_HOLDS_OBJECT(root) ||
        !(ret = json_object_get_member(json_node_get_object(root), "return")) ||
        !JSON_NODE_HOLDS_OBJECT(ret))
        return;
    creds = json_object_get_string_member_with_default(json_node_get_object(ret),
                                                       "tls-creds", "");
    if (*creds)
        *m->tls_creds_seen = g_strdup(creds);
}

/* Every figure libvirt reported, by its own name: metrics.libvirt. */
static JsonObject *params_to_json(virTypedParameterPtr p, int n)
{
    JsonObject *o = json_object_new();

    for (int i = 0; i < n; i++) {
        switch (p[i].type) {
        case VIR_TYPED_PARAM_INT:
            json_object_set_int_member(o, p[i].field, p[i].value.i);
            break;
        case VIR_TYPED_PARAM_UINT:
            json_object_set_int_member(o, p[i].field, p[i].value.ui);
            break;
        case VIR_TYPED_PARAM_LLONG:
            json_object_set_int_member(o, p[i].field, p[i].value.l);
            break;
        case VIR_TYPED_PARAM_ULLONG:
            json_object_set_int_member(o, p[i].field, (gint64)p[i].value.ul);
            break;
        case VIR_TYPED_PARAM_DOUBLE:
            json_object_set_double_member(o, p[i].field, p[i].value.d);
            break;
        case VIR_TYPED_PARAM_BOOLEAN:
            json_object_set_boolean_member(o, p[i].field, p[i].value.b);
            break;
        case VIR_TYPED_PARAM_STRING:
            json_object_set_string_member(o, p[i].field, p[i].value.s);
            break;
        }
    }
    return o;
}

/* The completed job as the destination's libvirtd recorded it (the source
 * domain is gone once libvirt killed it): the qemu backend's keys, plus
 * libvirt's own figures.  libvirt's "downtime" is its wall-clock figure
 * from the source's stop to the destination's start, not QEMU's. */
static void completed_stats(const LibvirtMigration *m, MigrateStats *st)
{
    virDomainPtr d = virDomainLookupByName(m->dst, m->name);
    virTypedParameterPtr p = NULL;
    int n = 0, type = 0;

    if (!d)
        return;
    if (virDomainGetJobStats(d, &type, &p, &n, VIR_DOMAIN_JOB_STATS_COMPLETED) == 0) {
        st->total_ms = job_ull(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED);
        st->downtime_ms = job_ull(p, n, VIR_DOMAIN_JOB_DOWNTIME);
        st->setup_ms = job_ull(p, n, VIR_DOMAIN_JOB_SETUP_TIME);
        st->transferred_bytes = job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED);
        st->throughput_mbps = job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_BPS) * 8 / 1e6;
        st->dirty_sync_count = MAX(st->dirty_sync_count,
                                   (guint64)job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION));
        st->xbzrle_pages = MAX(st->xbzrle_pages, job_ull(p, n, VIR_DOMAIN_JOB_COMPRESSION_PAGES));
        st->postcopy_requests = MAX(st->postcopy_requests,
                                    job_ull(p, n, VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS));
        g_clear_pointer(&st->libvirt, json_object_unref);
        st->libvirt = params_to_json(p, n);
        virTypedParamsFree(p, n);
    }
    virDomainFree(d);
}

/* ---- acting while it runs ---- */

typedef struct {
    gboolean switched;          /* postcopy started */
    gboolean released;          /* bandwidth cap lifted */
    gboolean aborted;
} Acts;

static gboolean act(const LibvirtMigration *m, const MigrateConfig *cfg, MigrateStats *st,
                    Acts *a, GError **error)
{
    /* the first pass is out: the destination can now fault pages in */
    if (cfg->postcopy && !a->switched && st->dirty_sync_count >= 2) {
        if (virDomainMigrateStartPostCopy(m->dom, 0) < 0) {
            g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "virDomainMigrateStartPostCopy: "
                        "%s", libvirt_last_error());
            return FALSE;
        }
        a->switched = TRUE;
    }
    if (cfg->release_when && !a->released && cfg->release_when(st, cfg->hook_opaque)) {
        if (virDomainMigrateSetMaxSpeed(m->dom, LIBVIRT_UNLIMITED_MIBPS, 0) < 0 ||
            (cfg->release_stops_source && virDomainSuspend(m->dom) < 0)) {
            g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "releasing the migration: %s",
                        libvirt_last_error());
            return FALSE;
        }
        a->released = TRUE;
    }
    return TRUE;
}

/* Wait for the call to return, sampling and acting; at the deadline (or
 * an interrupt) abort the job, then wait for the call a bounded time. */
static gboolean follow(const LibvirtMigration *m, const MigrateConfig *cfg, Watch *w,
                       MigrateStats *st, Acts *a, GError **error)
{
    Deadline hard = 0;

    g_mutex_lock(&w->lock);
    while (!w->done) {
        gint64 tick = g_get_monotonic_time() + LIBVIRT_SAMPLE_MS * 1000;

        g_cond_wait_until(&w->cond, &w->lock, hard ? MIN(tick, hard) : MIN(tick, m->deadline));
        if (w->done)
            break;
        if (hard && deadline_expired(hard)) {
            g_mutex_unlock(&w->lock);
            g_set_error(error, MT_ERROR, MT_ERROR_TIMEOUT, "libvirt did not return from the "
                        "migration %d s after virDomainAbortJob", LIBVIRT_ABORT_WAIT_MS / 1000);
            return FALSE;
        }
        g_mutex_unlock(&w->lock);
        if (!a->aborted && (deadline_expired(m->deadline) || vm_group_interrupted(m->group))) {
            virDomainAbortJob(m->dom);
            a->aborted = TRUE;
            hard = deadline_in_ms(LIBVIRT_ABORT_WAIT_MS);
        } else if (!a->aborted) {
            sample_job(m, st);
            if (has_cap(cfg, "multifd") || has_cap(cfg, "auto-converge") ||
                has_cap(cfg, "xbzrle"))
                sample_qemu(m, st);
            if (m->tls)
                sample_tls(m);
            if (!act(m, cfg, st, a, error)) {
                virDomainAbortJob(m->dom);
                a->aborted = TRUE;
                hard = deadline_in_ms(LIBVIRT_ABORT_WAIT_MS);
            }
        }
        g_mutex_lock(&w->lock);
    }
    g_mutex_unlock(&w->lock);
    return TRUE;
}

static void stats_from_watch(Watch *w, MigrateStats *st)
{
    g_mutex_lock(&w->lock);
    for (guint i = 0; i < w->statuses->len; i++)
        g_ptr_array_add(st->statuses, g_strdup(w->statuses->pdata[i]));
    g_array_append_vals(st->events, w->events->data, w->events->len);
    st->dst_completed_us = w->dst_completed_us ? w->dst_completed_us : w->returned_us;
    g_mutex_unlock(&w->lock);
}

static Watch *watch_new(const LibvirtMigration *m)
{
    Watch *w = g_new0(Watch, 1);

    w->refs = 1;
    g_mutex_init(&w->lock);
    g_cond_init(&w->cond);
    w->name = g_strdup(m->name);
    w->src = m->src;
    w->statuses = g_ptr_array_new_with_free_func(g_free);
    w->events = g_array_new(FALSE, FALSE, sizeof(MigrateEvent));
    w->lifecycle = g_ptr_array_new_with_free_func(g_free);
    w->start_realtime_us = g_get_real_time();
    return w;
}

/* How it ended, once the call returned. */
static gboolean conclude(const LibvirtMigration *m, Watch *w, const Acts *a,
                         const GError *act_error, MigrateStats *st, GError **error)
{
    if (w->ok) {
        st->final_status = g_strdup("completed");
        completed_stats(m, st);
        return TRUE;
    }
    st->final_status = g_strdup(a->aborted ? "cancelled" : "failed");
    if (act_error)
        g_set_error(error, MT_ERROR, act_error->code, "%s", act_error->message);
    else if (a->aborted)
        g_set_error(error, MT_ERROR, MT_ERROR_TIMEOUT, "the migration of '%s' did not end "
                    "within the case's deadline (%u statuses seen, iteration %" G_GUINT64_FORMAT
                    "); aborted with virDomainAbortJob: %s", m->name, st->statuses->len,
                    st->dirty_sync_count, w->error);
    else
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "libvirt %s migration of '%s' "
                    "failed: %s", libvirt_mode_name(m->mode), m->name, w->error);
    return FALSE;
}

gboolean libvirt_migrate_run(const LibvirtMigration *m, const MigrateConfig *cfg,
                             MigrateStats *stats, GError **error)
{
    Watch *w = watch_new(m);
    WatchIds ids;
    Call *call = g_new0(Call, 1);
    Acts acts = { 0 };
    g_autoptr(GError) act_error = NULL;
    GThread *t;
    gboolean ok;

    stats->statuses = g_ptr_array_new_with_free_func(g_free);
    stats->samples = g_array_new(FALSE, FALSE, sizeof(MigrateSample));
    stats->events = g_array_new(FALSE, FALSE, sizeof(MigrateEvent));
    stats->start_us = g_get_monotonic_time();
    if (virDomainMigrateSetMaxDowntime(m->dom, cfg->downtime_limit_ms, 0) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "virDomainMigrateSetMaxDowntime "
                    "%" G_GUINT64_FORMAT " ms: %s", cfg->downtime_limit_ms, libvirt_last_error());
        watch_unref(w);
        g_free(call);
        return FALSE;
    }
    call->m = m;
    call->w = w;
    call->flags = build_params(m, cfg, &call->params, &call->nparams);
    watch_register(m, w, &ids);
    t = g_thread_new("libvirt-migrate", migrate_thread, call);
    if (!follow(m, cfg, w, stats, &acts, &act_error)) {
        /* libvirtd is stuck: the thread may never return, and keeps the
         * call and the watch */
        g_thread_unref(t);
        watch_deregister(m, &ids);
        g_propagate_error(error, g_steal_pointer(&act_error));
        return FALSE;
    }
    g_thread_join(t);
    watch_deregister(m, &ids);
    stats_from_watch(w, stats);
    ok = conclude(m, w, &acts, act_error, stats, error);
    virTypedParamsFree(call->params, call->nparams);
    g_free(call);
    watch_unref(w);
    return ok;
}
