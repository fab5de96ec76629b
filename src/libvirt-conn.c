/* libvirt-conn.c: connections, checks before the run, cleanup (see libvirt-conn.h). */
#include "libvirt-conn.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "agent-client.h"
#include "libvirt-domain.h"
#include "mt-error.h"

/* A libvirtd answers in milliseconds; an agent over ssh starts in about a
 * second; 30 s is for a loaded host. */
#define PREFLIGHT_MS 30000

static gpointer event_loop(gpointer unused)
{
    sigset_t all;

    (void)unused;
    /* Started before main() blocks the stop signals for its watcher: a
     * SIGTERM delivered here would kill the process before any domain is
     * destroyed. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;)
        virEventRunDefaultImpl();
    return NULL;
}

/* Once per process, before the first connection (libvirt's rule). */
static void event_loop_start(void)
{
    static gsize started;

    if (g_once_init_enter(&started)) {
        virEventRegisterDefaultImpl();
        g_thread_unref(g_thread_new("libvirt-events", event_loop, NULL));
        g_once_init_leave(&started, 1);
    }
}

const char *libvirt_last_error(void)
{
    const char *m = virGetLastErrorMessage();

    return m ? m : "unknown error";
}

/* libvirt prints every error on stderr by default: ours carry them. */
static void quiet_error(void *unused, virErrorPtr e)
{
    (void)unused;
    (void)e;
}

virConnectPtr libvirt_conn_open(const char *uri, const char *side, GError **error)
{
    virConnectPtr c;

    event_loop_start();
    virSetErrorFunc(NULL, quiet_error);
    c = virConnectOpen(uri);
    if (!c) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot connect to the %s host '%s': %s; "
                    "check --%s-uri and that libvirtd runs there", side, uri,
                    libvirt_last_error(), side);
        return NULL;
    }
    /* a dead peer ends every call within seconds, not at TCP's pace */
    virConnectSetKeepAlive(c, 5, 3);
    return c;
}

void libvirt_conn_close(virConnectPtr c)
{
    if (c)
        virConnectClose(c);
}

char *libvirt_conn_host_uuid(virConnectPtr c, GError **error)
{
    g_autofree char *caps = virConnectGetCapabilities(c);
    const char *start, *end;

    if (!caps || !(start = strstr(caps, "<uuid>")) || !(end = strstr(start, "</uuid>"))) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot read the host UUID from libvirt's "
                    "capabilities: %s", caps ? "no <uuid>" : libvirt_last_error());
        return NULL;
    }
    start += strlen("<uuid>");
    return g_strndup(start, end - start);
}

/* libvirt refuses to migrate between two daemons of one host UUID. */
static gboolean check_distinct(virConnectPtr src, virConnectPtr dst, const RunOptions *o,
                               GError **error)
{
    g_autofree char *a = libvirt_conn_host_uuid(src, error);
    g_autofree char *b = a ? libvirt_conn_host_uuid(dst, error) : NULL;

    if (!b)
        return FALSE;
    if (g_str_equal(a, b)) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "--src-uri '%s' and --dst-uri '%s' are "
                    "the same host (host UUID %s); libvirt cannot migrate to the same host: "
                    "give two hosts (or set host_uuid in each libvirtd.conf)", o->src_uri,
                    o->dst_uri, a);
        return FALSE;
    }
    return TRUE;
}

/* A migtest-* domain means a killed run left it (or another run is on). */
static gboolean check_no_leftovers(virConnectPtr c, const char *side, const RunOptions *o,
                                   GError **error)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(c, &doms, 0);
    g_autofree char *found = NULL;

    if (n < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot list the domains of the %s host: "
                    "%s", side, libvirt_last_error());
        return FALSE;
    }
    for (int i = 0; i < n; i++) {
        if (!found && g_str_has_prefix(virDomainGetName(doms[i]), LIBVIRT_DOMAIN_PREFIX))
            found = g_strdup(virDomainGetName(doms[i]));
        virDomainFree(doms[i]);
    }
    free(doms);
    if (found)
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "domain '%s' is already defined on the %s "
                    "host: another migtest runs there, or a killed run left it; run 'migtest "
                    "cleanup --src-uri %s --dst-uri %s'", found, side, o->src_uri, o->dst_uri);
    return found == NULL;
}

/* The host has a QEMU for @arch offering @machine. */
static gboolean check_machine(virConnectPtr c, const char *side, const ArchDesc *arch,
                              const RunOptions *o, GError **error)
{
    const char *machine = o->machine ? o->machine : arch->default_machine;
    const char *virttype = g_strcmp0(o->accel, "kvm") == 0 ? "kvm" : "qemu";
    const char *emulator = side[0] == 's' ? o->src_qemu : o->dst_qemu;
    g_autofree char *caps = virConnectGetDomainCapabilities(c, emulator, arch->name, machine,
                                                            virttype, 0);

    if (caps)
        return TRUE;
    g_set_error(error, MT_ERROR, MT_ERROR_ENV, "the %s host cannot run %s machine '%s' "
                "(%s): %s; install its qemu-system package there, or pick another --arch "
                "or --machine", side, arch->name, machine, virttype, libvirt_last_error());
    return FALSE;
}

static gboolean check_agent(const char *command, const char *side, GError **error)
{
    g_autofree char *log = g_build_filename(g_get_tmp_dir(), "migtest-agent-check-XXXXXX",
                                            NULL);
    int fd = g_mkstemp(log);
    AgentClient *a;

    if (fd >= 0)
        close(fd);
    a = agent_client_new(command, side, log, deadline_in_ms(PREFLIGHT_MS), error);
    agent_client_free(a);
    g_unlink(log);
    return a != NULL;
}

gboolean libvirt_preflight(const RunOptions *o, const ArchDesc *const *archs, GError **error)
{
    g_autoptr(virConnect) src = NULL;
    g_autoptr(virConnect) dst = NULL;

    if (!o->src_uri || !o->dst_uri) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "--backend libvirt needs --src-uri and "
                    "--dst-uri (e.g. qemu+ssh://root@hostA/system)");
        return FALSE;
    }
    if (!(src = libvirt_conn_open(o->src_uri, "src", error)) ||
        !(dst = libvirt_conn_open(o->dst_uri, "dst", error)) ||
        !check_distinct(src, dst, o, error) ||
        !check_no_leftovers(src, "src", o, error) || !check_no_leftovers(dst, "dst", o, error))
        return FALSE;
    for (guint i = 0; archs[i]; i++)
        if (!check_machine(src, "src", archs[i], o, error) ||
            !check_machine(dst, "dst", archs[i], o, error))
            return FALSE;
    return check_agent(o->src_agent, "src", error) && check_agent(o->dst_agent, "dst", error);
}

static gboolean cleanup_host(const char *uri, const char *side, guint *count, GError **error)
{
    g_autoptr(virConnect) c = libvirt_conn_open(uri, side, error);
    virDomainPtr *doms = NULL;
    int n;

    if (!c)
        return FALSE;
    if ((n = virConnectListAllDomains(c, &doms, 0)) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot list the domains of '%s': %s",
                    uri, libvirt_last_error());
        return FALSE;
    }
    for (int i = 0; i < n; i++) {
        if (g_str_has_prefix(virDomainGetName(doms[i]), LIBVIRT_DOMAIN_PREFIX)) {
            if (virDomainIsActive(doms[i]) == 1)
                virDomainDestroy(doms[i]);
            if (virDomainIsPersistent(doms[i]) == 1)
                virDomainUndefine(doms[i]);
            (*count)++;
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return TRUE;
}

gboolean libvirt_cleanup(const char *src_uri, const char *dst_uri, guint *out_count,
                         GError **error)
{
    *out_count = 0;
    return cleanup_host(src_uri, "src", out_count, error) &&
           cleanup_host(dst_uri, "dst", out_count, error);
}
