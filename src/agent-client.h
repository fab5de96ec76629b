/*
 * agent-client.h: the controller's side of `migtest agent` (protocol in
 * agent.h).  Starts one agent per host through a command line split like
 * a shell would ("ssh root@hostA migtest agent", "nsenter -t PID -m -n
 * /path/migtest agent"; NULL or "" runs this very binary's agent),
 * checks its version, and sends it requests, each with a deadline.  A
 * reader thread stamps serial bytes on arrival and feeds them to the
 * Serial the caller gave (serial_new_relayed()), so observed downtime is
 * measured on this host's clock for both sides.
 *
 * agent_verify_exact() is the exact verifier across two hosts: compare
 * the two lists of page hashes, then fetch the differing pages from both
 * agents and report them as verify_exact() does (same ExactResult).
 */
#ifndef MIGTEST_AGENT_CLIENT_H
#define MIGTEST_AGENT_CLIENT_H

#include "deadline.h"
#include "payload.h"
#include "serial.h"
#include "verify.h"

typedef struct AgentClient AgentClient;

/* Start the agent and complete the handshake before @deadline.  @side
 * ("src", "dst") names it in messages; its stderr goes to @log_path.
 * MT_ERROR_ENV when it does not start, does not answer, or is of
 * another version: the message names the command and the fix. */
AgentClient *agent_client_new(const char *command, const char *side,
                              const char *log_path, Deadline deadline, GError **error);
/* Close its stdin (it removes what it made and exits), wait a few
 * seconds, then SIGKILL.  NULL-safe. */
void agent_client_free(AgentClient *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AgentClient, agent_client_free)

const char *agent_client_side(AgentClient *a);
/* The local process (the agent, or the ssh/nsenter that runs it). */
GPid agent_client_pid(AgentClient *a);

gboolean agent_client_put_file(AgentClient *a, const char *path, GBytes *data,
                               Deadline deadline, GError **error);
/* Bytes arriving on the agent's socket at @path go to @sink (not owned;
 * it must outlive @a, or agent_client_release(), which drops it). */
gboolean agent_client_listen_serial(AgentClient *a, const char *path, Serial *sink,
                                    Deadline deadline, GError **error);
/* Map the RAM of the QEMU found by libvirt domain @name and/or @uuid,
 * or by @pid when both are NULL. */
gboolean agent_client_map_ram(AgentClient *a, const RamLayout *layout, const char *name,
                              const char *uuid, int pid, Deadline deadline, GError **error);
/* Per-page XXH3-64 hashes (guint64), new array. */
GArray *agent_client_hash_pages(AgentClient *a, Deadline deadline, GError **error);
/* The 4 KiB of each page index (GBytes *), new array. */
GPtrArray *agent_client_read_pages(AgentClient *a, const guint64 *pages, guint n,
                                   Deadline deadline, GError **error);
/* verify_invariant() run by the agent: TRUE when it ran (then @out holds
 * the verdict, out->ok), FALSE when it could not. */
gboolean agent_client_invariant(AgentClient *a, const PayloadParams *params,
                                InvariantResult *out, Deadline deadline, GError **error);
gboolean agent_client_poke(AgentClient *a, guint64 gpa, const void *buf, gsize len,
                           Deadline deadline, GError **error);
/* The agent unmaps, closes its sockets and removes its files; the serial
 * sinks are forgotten here even when the agent does not answer. */
gboolean agent_client_release(AgentClient *a, Deadline deadline, GError **error);

/* Exact comparison of the RAM both agents hold mapped (@layout: both
 * sides').  Same contract as verify_exact() (@out zeroed or cleared): FALSE with MT_ERROR_VERIFY
 * and the evidence in @out when pages differ; FALSE with another code
 * when an agent could not answer. */
gboolean agent_verify_exact(AgentClient *src, AgentClient *dst, const RamLayout *layout,
                            ExactResult *out, Deadline deadline, GError **error);

#endif
