/* probe.c: run-time feature probing (see probe.h). */
#include "probe.h"

#include <string.h>

struct QemuFeatures {
    char *version;
    int version_code;
    GHashTable *caps;           /* capability names */
    GHashTable *params;         /* migrate parameter names */
    GHashTable *commands;
    GHashTable *enum_values;    /* every enum value in the schema */
};

void qemu_features_free(QemuFeatures *f)
{
    if (!f)
        return;
    g_free(f->version);
    g_clear_pointer(&f->caps, g_hash_table_unref);
    g_clear_pointer(&f->params, g_hash_table_unref);
    g_clear_pointer(&f->commands, g_hash_table_unref);
    g_clear_pointer(&f->enum_values, g_hash_table_unref);
    g_free(f);
}

static GHashTable *string_set(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static gboolean probe_caps(QemuFeatures *f, QmpClient *qmp, Deadline d, GError **error)
{
    g_autoptr(JsonNode) ret = qmp_execute(qmp, "query-migrate-capabilities", NULL, d, error);

    if (!ret)
        return FALSE;
    for (guint i = 0; JSON_NODE_HOLDS_ARRAY(ret) &&
                      i < json_array_get_length(json_node_get_array(ret)); i++) {
        JsonObject *c = json_array_get_object_element(json_node_get_array(ret), i);
        if (c && qmp_get_string(c, "capability"))
            g_hash_table_add(f->caps, g_strdup(qmp_get_string(c, "capability")));
    }
    return TRUE;
}

static gboolean probe_params(QemuFeatures *f, QmpClient *qmp, Deadline d, GError **error)
{
    g_autoptr(JsonNode) ret = qmp_execute(qmp, "query-migrate-parameters", NULL, d, error);
    g_autoptr(GList) names = NULL;

    if (!ret)
        return FALSE;
    if (JSON_NODE_HOLDS_OBJECT(ret))
        names = json_object_get_members(json_node_get_object(ret));
    for (GList *l = names; l; l = l->next)
        g_hash_table_add(f->params, g_strdup(l->data));
    return TRUE;
}

static void schema_entry(QemuFeatures *f, JsonObject *e)
{
    const char *meta = qmp_get_string(e, "meta-type");
    JsonNode *values;

    if (!meta)
        return;
    if (g_str_equal(meta, "command") && qmp_get_string(e, "name"))
        g_hash_table_add(f->commands, g_strdup(qmp_get_string(e, "name")));
    values = json_object_get_member(e, "values");
    if (g_str_equal(meta, "enum") && values && JSON_NODE_HOLDS_ARRAY(values)) {
        JsonArray *a = json_node_get_array(values);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            JsonNode *v = json_array_get_element(a, i);
            if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING)
                g_hash_table_add(f->enum_values, g_strdup(json_node_get_string(v)));
        }
    }
}

static gboolean probe_schema(QemuFeatures *f, QmpClient *qmp, Deadline d, GError **error)
{
    g_autoptr(JsonNode) ret = qmp_execute(qmp, "query-qmp-schema", NULL, d, error);

    if (!ret)
        return FALSE;
    for (guint i = 0; JSON_NODE_HOLDS_ARRAY(ret) &&
                      i < json_array_get_length(json_node_get_array(ret)); i++) {
        JsonObject *e = json_array_get_object_element(json_node_get_array(ret), i);
        if (e)
            schema_entry(f, e);
    }
    return TRUE;
}

QemuFeatures *probe_features(QmpClient *qmp, Deadline deadline, GError **error)
{
    g_autoptr(QemuFeatures) f = g_new0(QemuFeatures, 1);

    f->version = g_strdup(qmp_version(qmp));
    f->version_code = qmp_version_code(qmp);
    f->caps = string_set();
    f->params = string_set();
    f->commands = string_set();
    f->enum_values = string_set();
    if (!probe_caps(f, qmp, deadline, error) || !probe_params(f, qmp, deadline, error) ||
        !probe_schema(f, qmp, deadline, error))
        return NULL;
    return g_steal_pointer(&f);
}

gboolean qemu_features_has_capability(QemuFeatures *f, const char *cap)
{
    return g_hash_table_contains(f->caps, cap);
}

gboolean qemu_features_has_command(QemuFeatures *f, const char *command)
{
    return g_hash_table_contains(f->commands, command);
}

static gboolean unsupported(GError **error, const char *what, const char *side,
                            QemuFeatures *f)
{
    g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "%s; %s is %s", what, side,
                f->version);
    return FALSE;
}

/* Check one side. */
static gboolean probe_side(const CaseDesc *d, QemuFeatures *f, const char *side,
                           GError **error)
{
    if (d->min_version && f->version_code < d->min_version) {
        g_autofree char *what = g_strdup_printf("%s needs QEMU >= %d.%d", d->name,
                                                d->min_version / 10000,
                                                d->min_version / 100 % 100);
        return unsupported(error, what, side, f);
    }
    for (guint i = 0; d->capabilities && d->capabilities[i]; i++)
        if (!qemu_features_has_capability(f, d->capabilities[i])) {
            g_autofree char *what = g_strdup_printf("capability '%s' is not supported",
                                                    d->capabilities[i]);
            return unsupported(error, what, side, f);
        }
    for (const MigrateParam *p = d->params; p && p->name; p++) {
        if (!g_hash_table_contains(f->params, p->name)) {
            g_autofree char *what = g_strdup_printf("parameter '%s' is not supported", p->name);
            return unsupported(error, what, side, f);
        }
        if (p->str && g_str_equal(p->name, "multifd-compression") &&
            !g_hash_table_contains(f->enum_values, p->str)) {
            g_autofree char *what = g_strdup_printf("multifd compression '%s' is not "
                                                    "built in", p->str);
            return unsupported(error, what, side, f);
        }
    }
    if (d->postcopy_recover && !qemu_features_has_command(f, "migrate-recover"))
        return unsupported(error, "postcopy recovery (migrate-recover) is missing", side, f);
    if (d->observe == OBSERVE_DIRTY_RING && !qemu_features_has_command(f, "calc-dirty-rate"))
        return unsupported(error, "calc-dirty-rate is missing", side, f);
    return TRUE;
}

gboolean probe_case(const CaseDesc *d, QemuFeatures *src, QemuFeatures *dst,
                    GError **error)
{
    return probe_side(d, src, "src", error) && probe_side(d, dst, "dst", error);
}

int probe_binary_version(const char *binary, char **version, GError **error)
{
    const char *argv[] = { binary, "--version", NULL };
    g_autofree char *out = NULL;
    const char *at;
    int status, ma, mi, mc = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                      &out, NULL, &status, error))
        return -1;
    at = out ? strstr(out, "version ") : NULL;
    if (!g_spawn_check_wait_status(status, NULL) || !at ||
        sscanf(at, "version %d.%d.%d", &ma, &mi, &mc) < 2) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "'%s --version' printed no QEMU version",
                    binary);
        return -1;
    }
    *version = g_strndup(at + 8, strcspn(at + 8, " \n"));
    return ma * 10000 + mi * 100 + mc;
}

GPtrArray *probe_machines(const char *binary, GError **error)
{
    const char *argv[] = { binary, "-machine", "help", NULL };
    g_autofree char *out = NULL;
    g_auto(GStrv) lines = NULL;
    GPtrArray *names;
    int status;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                      &out, NULL, &status, error))
        return NULL;
    if (!g_spawn_check_wait_status(status, error)) {
        g_prefix_error(error, "'%s -machine help': ", binary);
        return NULL;
    }
    names = g_ptr_array_new_with_free_func(g_free);
    lines = g_strsplit(out, "\n", -1);
    for (guint i = 1; lines[i]; i++) {       /* line 0: "Supported machines are:" */
        g_auto(GStrv) words = g_strsplit_set(g_strstrip(lines[i]), " \t", 2);
        if (words[0] && *words[0])
            g_ptr_array_add(names, g_strdup(words[0]));
    }
    return names;
}

static gboolean has_name(GPtrArray *names, const char *name)
{
    for (guint i = 0; i < names->len; i++)
        if (g_str_equal(names->pdata[i], name))
            return TRUE;
    return FALSE;
}

char *probe_common_machine(const char *src_binary, const char *dst_binary,
                           const char *family_prefix, GError **error)
{
    g_autoptr(GPtrArray) a = probe_machines(src_binary, error);
    g_autoptr(GPtrArray) b = a ? probe_machines(dst_binary, error) : NULL;
    const char *best = NULL;

    if (!b)
        return NULL;
    for (guint i = 0; i < a->len; i++) {
        const char *m = a->pdata[i];
        if (g_str_has_prefix(m, family_prefix) && g_ascii_isdigit(m[strlen(family_prefix)]) &&
            has_name(b, m) && (!best || strverscmp(m, best) > 0))
            best = m;
    }
    if (!best) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "no '%s*' machine type is "
                    "offered by both '%s' and '%s'", family_prefix, src_binary, dst_binary);
        return NULL;
    }
    return g_strdup(best);
}
