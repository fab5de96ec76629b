/*
 * libvirt-conn.h: connections to the two libvirt hosts, checked before any
 * case runs (one line naming problem and fix for each bad input: an
 * unreachable URI, the same host twice, an agent missing or of another
 * version, a domain of a killed run still there, a QEMU or machine type a
 * host lacks), and `migtest cleanup` for the leftovers of a killed run.
 *
 * libvirt delivers events only to a process that runs an event loop: the
 * first connection starts one thread running virEventRunDefaultImpl() for
 * the rest of the process (libvirt offers no way to stop it; it holds no
 * state of ours).
 */
#ifndef MIGTEST_LIBVIRT_CONN_H
#define MIGTEST_LIBVIRT_CONN_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include "arch.h"
#include "backend.h"

/* virConnectOpen(@uri) with the event loop running; MT_ERROR_ENV naming
 * the URI, the side and libvirt's reason on failure. */
virConnectPtr libvirt_conn_open(const char *uri, const char *side, GError **error);
void libvirt_conn_close(virConnectPtr c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, libvirt_conn_close)

/* libvirt's last error message in this thread, or "unknown error". */
const char *libvirt_last_error(void);

/* The host UUID libvirt tells hosts apart by; new string. */
char *libvirt_conn_host_uuid(virConnectPtr c, GError **error);

/* Everything the libvirt backend needs before the first case, for the
 * architectures in @archs (NULL-terminated): MT_ERROR_ENV or
 * MT_ERROR_USAGE with one line naming the problem and the fix. */
gboolean libvirt_preflight(const RunOptions *opts, const ArchDesc *const *archs,
                           GError **error);

/* Destroy every domain named migtest-* on both hosts; @out_count gets
 * how many. */
gboolean libvirt_cleanup(const char *src_uri, const char *dst_uri, guint *out_count,
                         GError **error);

#endif
