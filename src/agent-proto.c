/* agent-proto.c: JSON encodings shared by the agent and its client (see agent-proto.h). */
#include "agent-proto.h"

#include <string.h>
#include "mt-error.h"

static JsonNode *member_of_type(JsonObject *o, const char *member, JsonNodeType type,
                                GType value_type, GError **error)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;

    if (n && JSON_NODE_TYPE(n) == type &&
        (type != JSON_NODE_VALUE || json_node_get_value_type(n) == value_type))
        return n;
    g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "'%s' is %s; expected %s", member,
                n ? json_node_type_name(n) : "missing",
                type == JSON_NODE_ARRAY ? "an array" : type == JSON_NODE_OBJECT ? "an object"
                : value_type == G_TYPE_STRING ? "a string" : "an integer");
    return NULL;
}

gboolean agent_proto_get_int(JsonObject *o, const char *member, gint64 *out,
                             GError **error)
{
    JsonNode *n = member_of_type(o, member, JSON_NODE_VALUE, G_TYPE_INT64, error);

    if (n)
        *out = json_node_get_int(n);
    return n != NULL;
}

gboolean agent_proto_get_u64(JsonObject *o, const char *member, guint64 *out,
                             GError **error)
{
    gint64 v;

    if (!agent_proto_get_int(o, member, &v, error))
        return FALSE;
    *out = (guint64)v;
    return TRUE;
}

const char *agent_proto_get_string(JsonObject *o, const char *member, GError **error)
{
    JsonNode *n = member_of_type(o, member, JSON_NODE_VALUE, G_TYPE_STRING, error);

    return n ? json_node_get_string(n) : NULL;
}

JsonArray *agent_proto_get_array(JsonObject *o, const char *member, GError **error)
{
    JsonNode *n = member_of_type(o, member, JSON_NODE_ARRAY, 0, error);

    return n ? json_node_get_array(n) : NULL;
}

GBytes *agent_proto_get_bytes(JsonObject *o, const char *member, GError **error)
{
    const char *s = agent_proto_get_string(o, member, error);
    gsize len = 0;
    guchar *data;

    if (!s)
        return NULL;
    data = g_base64_decode(s, &len);
    return g_bytes_new_take(data, len);
}

static JsonObject *array_object(JsonArray *a, guint i, const char *what, GError **error)
{
    JsonNode *n = json_array_get_element(a, i);

    if (JSON_NODE_HOLDS_OBJECT(n))
        return json_node_get_object(n);
    g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "%s[%u] is not an object", what, i);
    return NULL;
}

void agent_proto_add_layout(JsonBuilder *b, const char *member, const RamLayout *l)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "total");
    json_builder_add_int_value(b, (gint64)l->total);
    json_builder_set_member_name(b, "segments");
    json_builder_begin_array(b);
    for (guint i = 0; i < l->nsegs; i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "gpa");
        json_builder_add_int_value(b, (gint64)l->seg[i].gpa);
        json_builder_set_member_name(b, "offset");
        json_builder_add_int_value(b, (gint64)l->seg[i].offset);
        json_builder_set_member_name(b, "size");
        json_builder_add_int_value(b, (gint64)l->seg[i].size);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

gboolean agent_proto_get_layout(JsonObject *o, const char *member, RamLayout *out,
                                GError **error)
{
    JsonNode *n = member_of_type(o, member, JSON_NODE_OBJECT, 0, error);
    JsonObject *lo = n ? json_node_get_object(n) : NULL;
    JsonArray *segs = lo ? agent_proto_get_array(lo, "segments", error) : NULL;

    memset(out, 0, sizeof(*out));
    if (!segs || !agent_proto_get_u64(lo, "total", &out->total, error))
        return FALSE;
    if (json_array_get_length(segs) > G_N_ELEMENTS(out->seg)) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "layout has %u segments; at most %u",
                    json_array_get_length(segs), (guint)G_N_ELEMENTS(out->seg));
        return FALSE;
    }
    for (guint i = 0; i < json_array_get_length(segs); i++) {
        JsonObject *s = array_object(segs, i, "segments", error);
        RamSegment *seg = &out->seg[i];

        if (!s || !agent_proto_get_u64(s, "gpa", &seg->gpa, error) ||
            !agent_proto_get_u64(s, "offset", &seg->offset, error) ||
            !agent_proto_get_u64(s, "size", &seg->size, error))
            return FALSE;
        if (seg->offset + seg->size > out->total || seg->offset + seg->size < seg->offset) {
            g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "segment %u ends past the "
                        "RAM's %" G_GUINT64_FORMAT " bytes", i, out->total);
            return FALSE;
        }
        out->nsegs++;
    }
    return TRUE;
}

static void add_int(JsonBuilder *b, const char *member, gint64 v)
{
    json_builder_set_member_name(b, member);
    json_builder_add_int_value(b, v);
}

void agent_proto_add_params(JsonBuilder *b, const char *member, const PayloadParams *p)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_object(b);
    add_int(b, "flags", p->flags);
    add_int(b, "b_every", p->b_every);
    add_int(b, "hot_pages", p->hot_pages);
    add_int(b, "mmu_off_after", p->mmu_off_after);
    add_int(b, "vcpus", p->vcpus);
    json_builder_set_member_name(b, "ranges");
    json_builder_begin_array(b);
    for (guint i = 0; i < p->nranges; i++) {
        json_builder_begin_array(b);
        json_builder_add_int_value(b, (gint64)p->ranges[i].start);
        json_builder_add_int_value(b, (gint64)p->ranges[i].end);
        json_builder_end_array(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

static gboolean get_u32(JsonObject *o, const char *member, guint32 *out, GError **error)
{
    gint64 v;

    if (!agent_proto_get_int(o, member, &v, error))
        return FALSE;
    if (v < 0 || v > G_MAXUINT32) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "'%s' = %" G_GINT64_FORMAT
                    " is out of range", member, v);
        return FALSE;
    }
    *out = (guint32)v;
    return TRUE;
}

gboolean agent_proto_get_params(JsonObject *o, const char *member, PayloadParams *out,
                                GError **error)
{
    JsonNode *n = member_of_type(o, member, JSON_NODE_OBJECT, 0, error);
    JsonObject *po = n ? json_node_get_object(n) : NULL;
    JsonArray *ranges = po ? agent_proto_get_array(po, "ranges", error) : NULL;

    memset(out, 0, sizeof(*out));
    if (!ranges || !get_u32(po, "flags", &out->flags, error) ||
        !get_u32(po, "b_every", &out->b_every, error) ||
        !get_u32(po, "hot_pages", &out->hot_pages, error) ||
        !get_u32(po, "mmu_off_after", &out->mmu_off_after, error))
        return FALSE;
    if (json_array_get_length(ranges) > MT_MAX_RANGES) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "%u ranges; at most %d",
                    json_array_get_length(ranges), MT_MAX_RANGES);
        return FALSE;
    }
    for (guint i = 0; i < json_array_get_length(ranges); i++) {
        JsonNode *rn = json_array_get_element(ranges, i);
        JsonArray *r = JSON_NODE_HOLDS_ARRAY(rn) ? json_node_get_array(rn) : NULL;

        if (!r || json_array_get_length(r) != 2) {
            g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "ranges[%u] is not [start, end]", i);
            return FALSE;
        }
        out->ranges[i].start = (guint64)json_array_get_int_element(r, 0);
        out->ranges[i].end = (guint64)json_array_get_int_element(r, 1);
        out->nranges++;
    }
    /* Several vCPUs: the invariant is checked per slice (absent: one). */
    if (json_object_has_member(po, "vcpus") && !get_u32(po, "vcpus", &out->vcpus, error))
        return FALSE;
    return payload_params_validate(out, error);
}

void agent_proto_add_invariant(JsonBuilder *b, const char *member,
                               const InvariantResult *r)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "ok");
    json_builder_add_boolean_value(b, r->ok);
    add_int(b, "pages_checked", (gint64)r->pages_checked);
    add_int(b, "generation", (gint64)r->generation);
    add_int(b, "boundary_gpa", (gint64)r->boundary_gpa);
    add_int(b, "hot_counter", (gint64)r->hot_counter);
    add_int(b, "hot_boundary_gpa", (gint64)r->hot_boundary_gpa);
    add_int(b, "violations", (gint64)r->violations);
    json_builder_set_member_name(b, "reported");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->nreported; i++) {
        json_builder_begin_array(b);
        json_builder_add_int_value(b, (gint64)r->reported[i].gpa);
        json_builder_add_int_value(b, (gint64)r->reported[i].expected);
        json_builder_add_int_value(b, (gint64)r->reported[i].found);
        json_builder_end_array(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "detail");
    json_builder_add_string_value(b, r->detail ? r->detail : "");
    json_builder_end_object(b);
}

gboolean agent_proto_get_invariant(JsonObject *o, const char *member,
                                   InvariantResult *out, GError **error)
{
    JsonNode *n = member_of_type(o, member, JSON_NODE_OBJECT, 0, error);
    JsonObject *io = n ? json_node_get_object(n) : NULL;
    JsonArray *rep = io ? agent_proto_get_array(io, "reported", error) : NULL;
    const char *detail = rep ? agent_proto_get_string(io, "detail", error) : NULL;

    memset(out, 0, sizeof(*out));
    if (!detail || !agent_proto_get_u64(io, "pages_checked", &out->pages_checked, error) ||
        !agent_proto_get_u64(io, "generation", &out->generation, error) ||
        !agent_proto_get_u64(io, "boundary_gpa", &out->boundary_gpa, error) ||
        !agent_proto_get_u64(io, "hot_counter", &out->hot_counter, error) ||
        !agent_proto_get_u64(io, "hot_boundary_gpa", &out->hot_boundary_gpa, error) ||
        !agent_proto_get_u64(io, "violations", &out->violations, error))
        return FALSE;
    out->ok = json_object_get_boolean_member_with_default(io, "ok", FALSE);
    for (guint i = 0; i < json_array_get_length(rep) && i < VERIFY_MAX_REPORTED; i++) {
        JsonNode *vn = json_array_get_element(rep, i);
        JsonArray *v = JSON_NODE_HOLDS_ARRAY(vn) ? json_node_get_array(vn) : NULL;

        if (!v || json_array_get_length(v) != 3) {
            g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                        "reported[%u] is not [gpa, expected, found]", i);
            return FALSE;
        }
        out->reported[i] = (InvariantViolation){ (guint64)json_array_get_int_element(v, 0),
                                                 (guint64)json_array_get_int_element(v, 1),
                                                 (guint64)json_array_get_int_element(v, 2) };
        out->nreported++;
    }
    out->detail = g_strdup(detail);
    return TRUE;
}

char *agent_proto_line(JsonBuilder *b)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = NULL;

    json_generator_set_root(gen, root);
    text = json_generator_to_data(gen, NULL);
    return g_strconcat(text, "\n", NULL);
}

JsonObject *agent_proto_parse(const char *line, gsize len, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) local = NULL;
    JsonNode *root;

    if (!json_parser_load_from_data(parser, line, (gssize)len, &local)) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "not JSON: %s", local->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "not a JSON object");
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}
