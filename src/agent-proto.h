/*
 * agent-proto.h: the wire format shared by `migtest agent` (agent.c) and
 * its controller side (agent-client.c): JSON encodings of the structures
 * that cross between them, so both ends use one definition.
 *
 * 64-bit words that may exceed G_MAXINT64 (memory contents, generations)
 * travel as JSON integers holding the same 64 bits (two's complement);
 * byte strings travel as base64.
 */
#ifndef MIGTEST_AGENT_PROTO_H
#define MIGTEST_AGENT_PROTO_H

#include <json-glib/json-glib.h>
#include "arch.h"
#include "payload.h"
#include "verify.h"

/* Bumped whenever a command, argument or reply changes meaning. */
#define AGENT_PROTOCOL_VERSION 1

/* The agent's first line, before any request. */
#define AGENT_BANNER_NAME "migtest-agent"

/* {"total": N, "segments": [{"gpa", "offset", "size"}...]} */
void agent_proto_add_layout(JsonBuilder *b, const char *member, const RamLayout *l);
gboolean agent_proto_get_layout(JsonObject *o, const char *member, RamLayout *out,
                                GError **error);

/* {"flags", "b_every", "hot_pages", "mmu_off_after", "ranges": [[start, end]...]} */
void agent_proto_add_params(JsonBuilder *b, const char *member, const PayloadParams *p);
gboolean agent_proto_get_params(JsonObject *o, const char *member, PayloadParams *out,
                                GError **error);

/* Every field of InvariantResult, the violations as [gpa, expected, found]. */
void agent_proto_add_invariant(JsonBuilder *b, const char *member,
                               const InvariantResult *r);
gboolean agent_proto_get_invariant(JsonObject *o, const char *member,
                                   InvariantResult *out, GError **error);

/* Typed getters: FALSE with MT_ERROR_PROTOCOL naming @member when it is
 * missing or of another type. */
gboolean agent_proto_get_int(JsonObject *o, const char *member, gint64 *out,
                             GError **error);
gboolean agent_proto_get_u64(JsonObject *o, const char *member, guint64 *out,
                             GError **error);
const char *agent_proto_get_string(JsonObject *o, const char *member, GError **error);
JsonArray *agent_proto_get_array(JsonObject *o, const char *member, GError **error);
/* Base64 member decoded (new GBytes). */
GBytes *agent_proto_get_bytes(JsonObject *o, const char *member, GError **error);

/* One JSON object on one line (no newline inside), newline-terminated:
 * new string. */
char *agent_proto_line(JsonBuilder *b);

/* Parse one line into an object (new reference). */
JsonObject *agent_proto_parse(const char *line, gsize len, GError **error);

#endif
