/* report-html.c: the HTML report (see report-html.h). */
#include "report-html.h"

#include <gio/gio.h>
#include <string.h>
#include "mt-error.h"
#include "qmp.h"
#ifdef MIGTEST_HAVE_CHARTJS
#include "report-html-resources.h"
#endif

#define MiB (1024.0 * 1024.0)
#define PAGE_BYTES 4096
/* Page map: 256 cells a row, 4 px each (1024 px wide), at most 256 rows;
 * bigger RAM groups a power of two of pages per cell. */
#define MAP_COLUMNS 256
#define MAP_CELL_PX 4
#define MAP_MAX_CELLS (MAP_COLUMNS * 256)
/* Differing pages ringed on the map (a 4 px cell is easy to miss) and
 * listed as table rows; every listed page has its tooltip on the map. */
#define MAP_RINGS 64
#define TABLE_MAX_PAGES 64

static const char *const outcomes[] = { "pass", "fail", "skip", "error" };

/* The runs and the union of their case names, in page order. */
typedef struct {
    const ReportRun *runs;
    guint nruns;
    GPtrArray *names;           /* const char *: the JSON's, or in keys */
    GPtrArray *by_name;         /* per run: GHashTable name -> JsonObject */
    GPtrArray *keys;            /* char *: "NAME #k" for repeats (--repeat) */
} Page;

static JsonArray *get_array(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static gboolean has_number(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) != G_TYPE_STRING;
}

static double get_double(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n))
        return 0;
    if (json_node_get_value_type(n) == G_TYPE_DOUBLE)
        return json_node_get_double(n);
    return json_node_get_value_type(n) == G_TYPE_INT64 ? (double)json_node_get_int(n) : 0;
}

static guint64 get_hex(JsonObject *o, const char *name)
{
    const char *s = qmp_get_string(o, name);

    return s ? g_ascii_strtoull(s, NULL, 16) : 0;
}

static JsonObject *case_of(const Page *p, guint run, const char *name)
{
    return g_hash_table_lookup(p->by_name->pdata[run], name);
}

static void page_init(Page *p, const ReportRun *runs, guint nruns)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    p->runs = runs;
    p->nruns = nruns;
    p->names = g_ptr_array_new();
    p->by_name = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
    p->keys = g_ptr_array_new_with_free_func(g_free);
    for (guint r = 0; r < nruns; r++) {
        JsonArray *cases = get_array(json_node_get_object(runs[r].root), "cases");
        GHashTable *map = g_hash_table_new(g_str_hash, g_str_equal);

        g_ptr_array_add(p->by_name, map);
        for (guint i = 0; cases && i < json_array_get_length(cases); i++) {
            JsonObject *c = json_array_get_object_element(cases, i);
            const char *name = qmp_get_string(c, "name");
            /* A case run k times (--repeat) is "NAME", "NAME #2", ...;
             * report-html.js names them the same way. */
            for (guint k = 2; name && g_hash_table_contains(map, name); k++) {
                g_ptr_array_add(p->keys, g_strdup_printf("%s #%u", qmp_get_string(c, "name"), k));
                name = g_ptr_array_index(p->keys, p->keys->len - 1);
            }
            if (!name)
                continue;
            g_hash_table_insert(map, (gpointer)name, c);
            if (g_hash_table_add(seen, (gpointer)name))
                g_ptr_array_add(p->names, (gpointer)name);
        }
    }
}

static void page_clear(Page *p)
{
    g_ptr_array_unref(p->names);
    g_ptr_array_unref(p->by_name);
    g_ptr_array_unref(p->keys);
}

/* ---- writing HTML -------------------------------------------------- */

static void esc(GString *h, const char *s)
{
    g_autofree char *e = g_markup_escape_text(s ? s : "", -1);

    g_string_append(h, e);
}

/* A number cell; @key names the JSON member it shows, for the checks. */
static void td_int(GString *h, const char *key, gint64 v)
{
    g_string_append_printf(h, "<td class=\"n\" data-k=\"%s\">%" G_GINT64_FORMAT "</td>", key, v);
}

static void td_text(GString *h, const char *key, const char *text)
{
    g_string_append_printf(h, "<td data-k=\"%s\">", key);
    esc(h, text);
    g_string_append(h, "</td>");
}

static void th_row(GString *h, const char *const *cols)
{
    g_string_append(h, "<tr>");
    for (guint i = 0; cols[i]; i++)
        g_string_append_printf(h, "<th>%s</th>", cols[i]);
    g_string_append(h, "</tr>\n");
}

static int outcome_index(JsonObject *c)
{
    const char *o = qmp_get_string(c, "outcome");

    for (guint i = 0; i < G_N_ELEMENTS(outcomes); i++)
        if (g_strcmp0(o, outcomes[i]) == 0)
            return (int)i;
    return 3;
}

static void badge(GString *h, JsonObject *c)
{
    const char *o = outcomes[outcome_index(c)];

    g_string_append_printf(h, "<span class=\"badge %s\">%s</span>", o, o);
}

static JsonObject *metrics_of(JsonObject *c)
{
    return qmp_get_object(c, "metrics");
}

static JsonObject *exact_of(JsonObject *c)
{
    return qmp_get_object(qmp_get_object(c, "verify"), "exact");
}

static guint n_samples(JsonObject *c)
{
    JsonArray *a = get_array(metrics_of(c), "samples");

    return a ? json_array_get_length(a) : 0;
}

/* ---- header and summary -------------------------------------------- */

static void versions(GString *h, JsonObject *root)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    JsonArray *cases = get_array(root, "cases");

    for (guint i = 0; cases && i < json_array_get_length(cases); i++) {
        JsonObject *c = json_array_get_object_element(cases, i);
        const char *keys[] = { "src_qemu_version", "dst_qemu_version" };
        for (guint k = 0; k < 2; k++) {
            const char *v = qmp_get_string(c, keys[k]);
            if (v && g_hash_table_add(seen, (gpointer)v)) {
                if (g_hash_table_size(seen) > 1)
                    g_string_append(h, ", ");
                esc(h, v);
            }
        }
    }
}

static void count_outcomes(JsonObject *root, guint n[4])
{
    JsonArray *cases = get_array(root, "cases");

    memset(n, 0, 4 * sizeof(guint));
    for (guint i = 0; cases && i < json_array_get_length(cases); i++)
        n[outcome_index(json_array_get_object_element(cases, i))]++;
}

static void runs_table(GString *h, const Page *p)
{
    static const char *const cols[] = { "run", "tool", "host", "kernel", "QEMU", "cases",
                                        "pass", "fail", "skip", "error", NULL };

    g_string_append(h, "<table class=\"runs\">\n");
    th_row(h, cols);
    for (guint r = 0; r < p->nruns; r++) {
        JsonObject *root = json_node_get_object(p->runs[r].root);
        JsonObject *host = qmp_get_object(root, "host");
        JsonArray *cases = get_array(root, "cases");
        guint n[4];

        count_outcomes(root, n);
        g_string_append_printf(h, "<tr data-run=\"%u\"><td><span class=\"swatch run%u\"></span>",
                               r, r % 6);
        esc(h, p->runs[r].label);
        g_string_append(h, "</td>");
        td_text(h, "tool", qmp_get_string(root, "tool"));
        td_text(h, "arch", qmp_get_string(host, "arch"));
        td_text(h, "kernel", qmp_get_string(host, "kernel"));
        g_string_append(h, "<td>");
        versions(h, root);
        g_string_append(h, "</td>");
        td_int(h, "cases", cases ? json_array_get_length(cases) : 0);
        for (guint i = 0; i < 4; i++)
            td_int(h, outcomes[i], n[i]);
        g_string_append(h, "</tr>\n");
    }
    g_string_append(h, "</table>\n");
}

/* Non-passing cases grouped by outcome and reason: why 20 cases skipped
 * is usually one line. */
static void reasons_table(GString *h, const Page *p)
{
    static const char *const cols[] = { "run", "outcome", "cases", "reason", NULL };
    gboolean any = FALSE;

    for (guint r = 0; r < p->nruns; r++) {
        JsonArray *cases = get_array(json_node_get_object(p->runs[r].root), "cases");
        g_autoptr(GHashTable) count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GPtrArray) order = g_ptr_array_new();

        for (guint i = 0; cases && i < json_array_get_length(cases); i++) {
            JsonObject *c = json_array_get_object_element(cases, i);
            char *key;
            if (outcome_index(c) == 0)
                continue;
            key = g_strdup_printf("%s\t%s", outcomes[outcome_index(c)],
                                  qmp_get_string(c, "reason") ? qmp_get_string(c, "reason") : "");
            if (!g_hash_table_contains(count, key))
                g_ptr_array_add(order, key);
            g_hash_table_insert(count, key, GUINT_TO_POINTER(
                GPOINTER_TO_UINT(g_hash_table_lookup(count, key)) + 1));
        }
        for (guint i = 0; i < order->len; i++) {
            g_auto(GStrv) parts = g_strsplit(order->pdata[i], "\t", 2);
            if (!any)
                g_string_append(h, "<h3>Why cases did not pass</h3>\n<table class=\"reasons\">\n");
            if (!any)
                th_row(h, cols);
            any = TRUE;
            g_string_append(h, "<tr><td>");
            esc(h, p->runs[r].label);
            g_string_append_printf(h, "</td><td><span class=\"badge %s\">%s</span></td>",
                                   parts[0], parts[0]);
            td_int(h, "count", GPOINTER_TO_UINT(g_hash_table_lookup(count, order->pdata[i])));
            td_text(h, "reason", parts[1]);
            g_string_append(h, "</tr>\n");
        }
    }
    if (any)
        g_string_append(h, "</table>\n");
}

static void summary_row(GString *h, const Page *p, guint ci, guint r, JsonObject *c)
{
    JsonObject *m = metrics_of(c);
    JsonObject *ex = exact_of(c);

    g_string_append_printf(h, "<tr data-case=\"%u\" data-run=\"%u\">", ci, r);
    g_string_append_printf(h, "<td><a href=\"#case-%u\">", ci);
    esc(h, p->names->pdata[ci]);
    g_string_append(h, "</a></td>");
    if (p->nruns > 1) {
        g_string_append(h, "<td>");
        esc(h, p->runs[r].label);
        g_string_append(h, "</td>");
    }
    g_string_append(h, "<td>");
    badge(h, c);
    g_string_append(h, "</td>");
    td_text(h, "accel", qmp_get_string(c, "accel"));
    td_int(h, "total_ms", qmp_get_int(m, "total_ms"));
    td_int(h, "downtime_ms", qmp_get_int(m, "downtime_ms"));
    td_int(h, "observed_downtime_ms", m ? qmp_get_int(m, "observed_downtime_ms") : -1);
    g_string_append_printf(h, "<td class=\"n\" data-k=\"transferred_mib\">%.1f</td>",
                           qmp_get_int(m, "transferred_bytes") / MiB);
    g_string_append_printf(h, "<td class=\"n\" data-k=\"throughput_mbps\">%.1f</td>",
                           get_double(m, "throughput_mbps"));
    td_int(h, "dirty_sync_count", qmp_get_int(m, "dirty_sync_count"));
    td_int(h, "pages_differing", qmp_get_int(ex, "pages_differing"));
    td_text(h, "reason", qmp_get_string(c, "reason"));
    g_string_append(h, "</tr>\n");
}

static void summary_table(GString *h, const Page *p)
{
    static const char *const one[] = { "case", "outcome", "accel", "total ms",
        "QEMU downtime ms", "observed downtime ms", "MiB sent", "Mbit/s", "dirty syncs",
        "differing pages", "reason", NULL };
    static const char *const many[] = { "case", "run", "outcome", "accel", "total ms",
        "QEMU downtime ms", "observed downtime ms", "MiB sent", "Mbit/s", "dirty syncs",
        "differing pages", "reason", NULL };

    g_string_append(h, "<table class=\"summary\">\n");
    th_row(h, p->nruns > 1 ? many : one);
    for (guint ci = 0; ci < p->names->len; ci++)
        for (guint r = 0; r < p->nruns; r++) {
            JsonObject *c = case_of(p, r, p->names->pdata[ci]);
            if (c)
                summary_row(h, p, ci, r, c);
        }
    g_string_append(h, "</table>\n");
    g_string_append(h, "<p class=\"note\">observed downtime: the longest gap between the "
                    "guest's heartbeats across the switchover, on host timestamps, less the "
                    "time migtest held the destination paused; -1: not measured.</p>\n");
}

/* Cases with a migration to chart, in any run. */
static guint cases_with_metrics(const Page *p)
{
    guint n = 0;

    for (guint ci = 0; ci < p->names->len; ci++)
        for (guint r = 0; r < p->nruns; r++) {
            JsonObject *c = case_of(p, r, p->names->pdata[ci]);
            if (c && qmp_get_int(metrics_of(c), "total_ms") > 0) {
                n++;
                break;
            }
        }
    return n;
}

static void canvas(GString *h, const char *chart, int ci, guint px_high)
{
    g_string_append_printf(h, "<div class=\"chart\" style=\"height:%upx\"><canvas data-chart=\"%s\" "
                           "data-case=\"%d\"></canvas></div>\n", px_high, chart, ci);
}

static void summary(GString *h, const Page *p)
{
    guint rows = cases_with_metrics(p);

    g_string_append(h, "<section id=\"summary\"><h2>Summary</h2>\n");
    runs_table(h, p);
    reasons_table(h, p);
    if (rows) {
        /* Two bars per case and run, 11 px each, plus title, legend, axes. */
        guint px = 140 + rows * p->nruns * 22;
        g_string_append(h, "<div class=\"charts2\">");
        canvas(h, "downtime", -1, px);
        canvas(h, "time", -1, px);
        canvas(h, "sent", -1, px);
        g_string_append(h, "</div>\n");
    }
    summary_table(h, p);
    g_string_append(h, "</section>\n");
}

/* ---- one case ------------------------------------------------------ */

static void facts_table(GString *h, JsonObject *c)
{
    JsonObject *m = metrics_of(c);
    JsonObject *gap = qmp_get_object(m, "heartbeat_gap");
    JsonObject *inv = qmp_get_object(qmp_get_object(c, "verify"), "invariant");

    g_string_append(h, "<table class=\"facts\">\n");
#define FACT(label, key) \
    do { g_string_append(h, "<tr><th>" label "</th>"); td_text(h, key, qmp_get_string(c, key)); \
         g_string_append(h, "</tr>\n"); } while (0)
    FACT("reason", "reason");
    FACT("observed", "observed");
    FACT("migration status", "migration_status");
    FACT("source QEMU", "src_qemu_version");
    FACT("destination QEMU", "dst_qemu_version");
    FACT("logs", "log_dir");
#undef FACT
    if (inv) {
        g_string_append(h, "<tr><th>invariant</th>");
        td_text(h, "invariant", qmp_get_string(inv, "detail"));
        g_string_append(h, "</tr>\n");
    }
    if (gap) {
        g_string_append_printf(h, "<tr><th>heartbeat gap</th><td data-k=\"heartbeat_gap\">"
                               "%" G_GINT64_FORMAT " ms to %" G_GINT64_FORMAT " ms after the "
                               "migrate command</td></tr>\n", qmp_get_int(gap, "start_ms"),
                               qmp_get_int(gap, "end_ms"));
        if (has_number(gap, "hold_start_ms"))
            g_string_append_printf(h, "<tr><th>held by migtest</th><td data-k=\"hold\">"
                                   "%" G_GINT64_FORMAT " ms to %" G_GINT64_FORMAT " ms</td>"
                                   "</tr>\n", qmp_get_int(gap, "hold_start_ms"),
                                   qmp_get_int(gap, "hold_end_ms"));
    }
    g_string_append(h, "</table>\n");
}

static void events_table(GString *h, JsonObject *m)
{
    static const char *const cols[] = { "t ms", "event", NULL };
    JsonArray *ev = get_array(m, "events");

    if (!ev || !json_array_get_length(ev))
        return;
    g_string_append(h, "<table class=\"events\">\n");
    th_row(h, cols);
    for (guint i = 0; i < json_array_get_length(ev); i++) {
        JsonObject *e = json_array_get_object_element(ev, i);
        g_string_append(h, "<tr>");
        td_int(h, "t_ms", qmp_get_int(e, "t_ms"));
        if (qmp_get_string(e, "status"))
            td_text(h, "status", qmp_get_string(e, "status"));
        else
            g_string_append_printf(h, "<td data-k=\"pass\">dirty sync (pass %" G_GINT64_FORMAT
                                   ")</td>", qmp_get_int(e, "pass"));
        g_string_append(h, "</tr>\n");
    }
    g_string_append(h, "</table>\n");
}

static void samples_table(GString *h, JsonObject *m)
{
    static const char *const cols[] = { "t ms", "status", "transferred MiB", "remaining MiB",
        "Mbit/s", "dirty pages/s", "throttle %", "dirty syncs", "postcopy requests",
        "expected downtime ms", NULL };
    JsonArray *s = get_array(m, "samples");

    g_string_append(h, "<table class=\"samples\">\n");
    th_row(h, cols);
    for (guint i = 0; s && i < json_array_get_length(s); i++) {
        JsonObject *o = json_array_get_object_element(s, i);
        g_string_append(h, "<tr>");
        td_int(h, "t_ms", qmp_get_int(o, "t_ms"));
        td_text(h, "status", qmp_get_string(o, "status"));
        g_string_append_printf(h, "<td class=\"n\">%.1f</td><td class=\"n\">%.1f</td>"
                               "<td class=\"n\">%.1f</td>",
                               qmp_get_int(o, "transferred") / MiB,
                               qmp_get_int(o, "remaining") / MiB, get_double(o, "mbps"));
        td_int(h, "dirty_pages_rate", qmp_get_int(o, "dirty_pages_rate"));
        td_int(h, "cpu_throttle_percentage", qmp_get_int(o, "cpu_throttle_percentage"));
        td_int(h, "dirty_sync_count", qmp_get_int(o, "dirty_sync_count"));
        if (has_number(o, "postcopy_requests"))
            td_int(h, "postcopy_requests", qmp_get_int(o, "postcopy_requests"));
        else
            g_string_append(h, "<td></td>");
        td_int(h, "expected_downtime_ms", qmp_get_int(o, "expected_downtime_ms"));
        g_string_append(h, "</tr>\n");
    }
    g_string_append(h, "</table>\n");
}

/* The page map's geometry: guest RAM segments laid end to end. */
typedef struct {
    JsonArray *ram;
    guint64 pages;
    guint64 per_cell;           /* pages per cell, a power of two */
    guint64 cells;
} MapGeom;

/* Cell of @gpa, or -1 when it is not RAM. */
static gint64 map_cell(const MapGeom *g, guint64 gpa)
{
    guint64 before = 0;

    for (guint i = 0; i < json_array_get_length(g->ram); i++) {
        JsonObject *s = json_array_get_object_element(g->ram, i);
        guint64 start = get_hex(s, "gpa"), bytes = (guint64)qmp_get_int(s, "bytes");
        if (gpa >= start && gpa - start < bytes)
            return (gint64)((before + (gpa - start) / PAGE_BYTES) / g->per_cell);
        before += bytes / PAGE_BYTES;
    }
    return -1;
}

static void map_span(GString *h, gint64 from, gint64 to, const char *cls)
{
    for (gint64 c = from; c <= to;) {
        gint64 row = c / MAP_COLUMNS, end = MIN(to, row * MAP_COLUMNS + MAP_COLUMNS - 1);
        g_string_append_printf(h, "<rect class=\"%s\" x=\"%" G_GINT64_FORMAT "\" y=\"%"
                               G_GINT64_FORMAT "\" width=\"%" G_GINT64_FORMAT "\" height=\"%d\" "
                               "fill=\"#b9d4ee\"/>", cls, (c % MAP_COLUMNS) * MAP_CELL_PX,
                               row * MAP_CELL_PX, (end - c + 1) * MAP_CELL_PX, MAP_CELL_PX);
        c = end + 1;
    }
}

static void map_window(GString *h, const MapGeom *g, JsonObject *c)
{
    JsonArray *win = get_array(c, "window");

    for (guint i = 0; win && i < json_array_get_length(win); i++) {
        JsonObject *w = json_array_get_object_element(win, i);
        gint64 a = map_cell(g, get_hex(w, "start")), b = map_cell(g, get_hex(w, "end") - 1);
        if (a >= 0 && b >= a)
            map_span(h, a, b, "window");
    }
}

static void map_pages(GString *h, const MapGeom *g, JsonArray *pages)
{
    for (guint i = 0; pages && i < json_array_get_length(pages); i++) {
        JsonObject *d = json_array_get_object_element(pages, i);
        gint64 cell = map_cell(g, get_hex(d, "page"));
        gint64 x = (cell % MAP_COLUMNS) * MAP_CELL_PX, y = (cell / MAP_COLUMNS) * MAP_CELL_PX;
        if (cell < 0)
            continue;
        if (i < MAP_RINGS)
            g_string_append_printf(h, "<circle cx=\"%" G_GINT64_FORMAT "\" cy=\"%" G_GINT64_FORMAT
                                   "\" r=\"7\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\"/>",
                                   x + MAP_CELL_PX / 2, y + MAP_CELL_PX / 2);
        g_string_append_printf(h, "<rect class=\"diff\" data-page=\"%s\" x=\"%" G_GINT64_FORMAT
                               "\" y=\"%" G_GINT64_FORMAT "\" width=\"%d\" height=\"%d\" "
                               "fill=\"#d62728\"><title>page ", qmp_get_string(d, "page"),
                               x, y, MAP_CELL_PX, MAP_CELL_PX);
        esc(h, qmp_get_string(d, "page"));
        g_string_append_printf(h, ": %" G_GINT64_FORMAT " bytes differ; from ",
                               qmp_get_int(d, "bytes_differing"));
        esc(h, qmp_get_string(d, "gpa"));
        g_string_append(h, " src ");
        esc(h, qmp_get_string(d, "src"));
        g_string_append(h, " dst ");
        esc(h, qmp_get_string(d, "dst"));
        g_string_append(h, "</title></rect>");
    }
}

/* Words the invariant found wrong (first VERIFY_MAX_REPORTED), orange. */
static void map_violations(GString *h, const MapGeom *g, JsonObject *inv)
{
    JsonArray *rep = get_array(inv, "reported");

    for (guint i = 0; rep && i < json_array_get_length(rep); i++) {
        JsonObject *v = json_array_get_object_element(rep, i);
        gint64 cell = map_cell(g, get_hex(v, "gpa"));
        if (cell < 0)
            continue;
        g_string_append_printf(h, "<rect class=\"violation\" data-gpa=\"%s\" x=\"%" G_GINT64_FORMAT
                               "\" y=\"%" G_GINT64_FORMAT "\" width=\"%d\" height=\"%d\" "
                               "fill=\"#ff9800\"><title>invariant: word ",
                               qmp_get_string(v, "gpa"), (cell % MAP_COLUMNS) * MAP_CELL_PX,
                               (cell / MAP_COLUMNS) * MAP_CELL_PX, MAP_CELL_PX, MAP_CELL_PX);
        esc(h, qmp_get_string(v, "gpa"));
        g_string_append(h, " expected ");
        esc(h, qmp_get_string(v, "expected"));
        g_string_append(h, " found ");
        esc(h, qmp_get_string(v, "found"));
        g_string_append(h, "</title></rect>");
    }
}

static void page_table(GString *h, JsonObject *ex, JsonArray *pages)
{
    static const char *const cols[] = { "page", "first differing byte", "bytes differing",
                                        "source bytes", "destination bytes", NULL };
    guint n = pages ? json_array_get_length(pages) : 0;

    g_string_append(h, "<table class=\"pages\">\n");
    th_row(h, cols);
    for (guint i = 0; i < MIN(n, TABLE_MAX_PAGES); i++) {
        JsonObject *d = json_array_get_object_element(pages, i);
        g_string_append(h, "<tr>");
        td_text(h, "page", qmp_get_string(d, "page"));
        td_text(h, "gpa", qmp_get_string(d, "gpa"));
        td_int(h, "bytes_differing", qmp_get_int(d, "bytes_differing"));
        g_string_append(h, "<td class=\"hex\" data-k=\"src\">");
        esc(h, qmp_get_string(d, "src"));
        g_string_append(h, "</td><td class=\"hex\" data-k=\"dst\">");
        esc(h, qmp_get_string(d, "dst"));
        g_string_append(h, "</td></tr>\n");
    }
    g_string_append(h, "</table>\n");
    g_string_append_printf(h, "<p class=\"note\">%" G_GINT64_FORMAT " pages differ; %u listed "
                           "in the JSON (limit %" G_GINT64_FORMAT "), %u here, all listed ones "
                           "on the map.</p>\n", qmp_get_int(ex, "pages_differing"), n,
                           qmp_get_int(ex, "differing_pages_limit"), MIN(n, TABLE_MAX_PAGES));
}

/* An SVG grid of guest RAM: the test window shaded, each differing page
 * red with its own tooltip; works with scripts off. */
static void page_map(GString *h, JsonObject *c)
{
    JsonObject *ex = exact_of(c);
    JsonArray *pages = get_array(ex, "differing_pages");
    JsonObject *inv = qmp_get_object(qmp_get_object(c, "verify"), "invariant");
    MapGeom g = { .ram = get_array(ex, "ram"), .per_cell = 1 };
    guint64 rows;

    if (!g.ram || (qmp_get_int(ex, "pages_differing") <= 0 && qmp_get_int(inv, "violations") <= 0))
        return;
    for (guint i = 0; i < json_array_get_length(g.ram); i++)
        g.pages += (guint64)qmp_get_int(json_array_get_object_element(g.ram, i), "bytes") / PAGE_BYTES;
    while (g.pages / g.per_cell > MAP_MAX_CELLS)
        g.per_cell *= 2;
    g.cells = (g.pages + g.per_cell - 1) / g.per_cell;
    rows = (g.cells + MAP_COLUMNS - 1) / MAP_COLUMNS;
    g_string_append_printf(h, "<h4>Page map</h4>\n<svg class=\"pagemap\" xmlns=\"http://www.w3.org/2000/svg\" "
                           "width=\"%d\" height=\"%" G_GUINT64_FORMAT "\" role=\"img\">"
                           "<title>guest RAM, %" G_GUINT64_FORMAT " pages, %" G_GUINT64_FORMAT
                           " per cell</title><rect x=\"0\" y=\"0\" width=\"%d\" height=\"%"
                           G_GUINT64_FORMAT "\" fill=\"#e8e8e8\"/>", MAP_COLUMNS * MAP_CELL_PX,
                           rows * MAP_CELL_PX, g.pages, g.per_cell, MAP_COLUMNS * MAP_CELL_PX,
                           rows * MAP_CELL_PX);
    map_window(h, &g, c);
    map_violations(h, &g, inv);
    map_pages(h, &g, pages);
    g_string_append(h, "</svg>\n");
    g_string_append_printf(h, "<p class=\"key\"><span class=\"swatch ram\"></span> guest RAM "
                           "(%" G_GUINT64_FORMAT " page%s per cell, %d cells a row) "
                           "<span class=\"swatch window\"></span> test window "
                           "<span class=\"swatch diff\"></span> differing page "
                           "<span class=\"swatch violation\"></span> word the invariant "
                           "found wrong</p>\n",
                           g.per_cell, g.per_cell > 1 ? "s" : "", MAP_COLUMNS);
    page_table(h, ex, pages);
}

static void case_run(GString *h, const Page *p, guint r, JsonObject *c)
{
    JsonObject *m = metrics_of(c);

    if (p->nruns > 1) {
        g_string_append_printf(h, "<h3><span class=\"swatch run%u\"></span>", r % 6);
        esc(h, p->runs[r].label);
        g_string_append(h, " ");
        badge(h, c);
        g_string_append(h, "</h3>\n");
    }
    facts_table(h, c);
    page_map(h, c);
    if (n_samples(c) || get_array(m, "events")) {
        g_string_append_printf(h, "<details class=\"series\"><summary>events and %u samples"
                               "</summary>\n", n_samples(c));
        events_table(h, m);
        samples_table(h, m);
        g_string_append(h, "</details>\n");
    }
}

static void one_case(GString *h, const Page *p, guint ci)
{
    gboolean failed = FALSE, charted = FALSE;

    for (guint r = 0; r < p->nruns; r++) {
        JsonObject *c = case_of(p, r, p->names->pdata[ci]);
        failed |= c && outcome_index(c) == 1;
        charted |= c && n_samples(c) > 0;
    }
    g_string_append_printf(h, "<section class=\"case\" id=\"case-%u\"><details%s>"
                           "<summary><span class=\"name\">", ci, failed ? " open" : "");
    esc(h, p->names->pdata[ci]);
    g_string_append(h, "</span>");
    for (guint r = 0; r < p->nruns; r++) {
        JsonObject *c = case_of(p, r, p->names->pdata[ci]);
        if (c)
            badge(h, c);
    }
    g_string_append(h, "</summary>\n");
    if (charted) {
        g_string_append(h, "<div class=\"charts\">\n");
        canvas(h, "bytes", (int)ci, 220);
        canvas(h, "rates", (int)ci, 220);
        canvas(h, "control", (int)ci, 180);
        g_string_append_printf(h, "</div>\n<p class=\"key\">x: seconds since the migrate command. "
                        "Dashed lines: status changes; dotted: dirty syncs (passes); "
                        "orange band: QEMU's downtime, ending at completed; red band: the "
                        "heartbeat gap the guest saw; grey band: migtest holding the "
                        "destination paused to verify it%s.</p>\n",
                        p->nruns > 1 ? " (with several runs: one strip of bands per run, "
                        "in run order, along the top)" : "");
    }
    for (guint r = 0; r < p->nruns; r++) {
        JsonObject *c = case_of(p, r, p->names->pdata[ci]);
        if (c)
            case_run(h, p, r, c);
    }
    g_string_append(h, "</details></section>\n");
}

/* ---- the page ------------------------------------------------------ */

static void page_head(GString *h, const char *css, guint nruns)
{
    g_string_append(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>migtest report</title>\n<style>\n");
    g_string_append(h, css);
    g_string_append_printf(h, "</style>\n</head>\n<body data-runs=\"%u\">\n"
                           "<h1>migtest report</h1>\n<p class=\"noscript\" id=\"no-js\">"
                           "Scripts are off or blocked: the charts are not drawn, but every "
                           "figure is in the tables and the page maps below.</p>\n", nruns);
}

/* Chart.js is MIT-licensed: say so where it is shipped. */
static void page_foot(GString *h)
{
    g_string_append(h, "<footer>Written by migtest. Charts drawn by Chart.js 3.9.1 "
                    "(https://www.chartjs.org, MIT License, (c) 2022 Chart.js Contributors), "
                    "embedded below from Debian's libjs-chart.js.</footer>\n");
}

static GBytes *resource(const char *name, GError **error)
{
#ifdef MIGTEST_HAVE_CHARTJS
    g_autofree char *path = g_strconcat("/org/migtest/report/", name, NULL);

    return g_resource_lookup_data(migtest_html_get_resource(), path,
                                  G_RESOURCE_LOOKUP_FLAGS_NONE, error);
#else
    g_set_error(error, MT_ERROR, MT_ERROR_ENV, "this migtest was built without Chart.js "
                "(install libjs-chart.js, then meson setup --wipe build)");
    (void)name;
    return NULL;
#endif
}

gboolean report_html_available(void)
{
#ifdef MIGTEST_HAVE_CHARTJS
    return TRUE;
#else
    return FALSE;
#endif
}

/* The reports as one JSON array, with every '<' as \u003c so that no
 * string in them (a case name, a QEMU error) can close the <script>. */
static char *data_island(const Page *p)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;
    GString *out;

    json_builder_begin_array(b);
    for (guint r = 0; r < p->nruns; r++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "label");
        json_builder_add_string_value(b, p->runs[r].label);
        json_builder_set_member_name(b, "report");
        json_builder_add_value(b, json_node_ref(p->runs[r].root));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    root = json_builder_get_root(b);
    text = json_to_string(root, FALSE);
    out = g_string_sized_new(strlen(text) + 64);
    for (const char *s = text; *s; s++) {
        if (*s == '<')
            g_string_append(out, "\\u003c");
        else
            g_string_append_c(out, *s);
    }
    return g_string_free(out, FALSE);
}

/* A script must not contain "</script" (it would end the element). */
static gboolean append_script(GString *h, GBytes *js, const char *name, GError **error)
{
    gsize len;
    const char *text = g_bytes_get_data(js, &len);

    if (g_strstr_len(text, (gssize)len, "</script") || memchr(text, '\0', len)) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "embedded %s contains '</script' or a NUL; "
                    "it cannot be inlined", name);
        return FALSE;
    }
    g_string_append(h, "<script>\n");
    g_string_append_len(h, text, (gssize)len);
    g_string_append(h, "\n</script>\n");
    return TRUE;
}

char *report_html_render(const ReportRun *runs, guint nruns, GError **error)
{
    g_autoptr(GBytes) chartjs = resource("chart.min.js", error);
    g_autoptr(GBytes) ours = chartjs ? resource("report-html.js", error) : NULL;
    g_autoptr(GBytes) css = ours ? resource("report-html.css", error) : NULL;
    g_autoptr(GString) h = g_string_new(NULL);
    g_autofree char *data = NULL;
    Page p;

    if (!css)
        return NULL;
    page_init(&p, runs, nruns);
    page_head(h, g_bytes_get_data(css, NULL), nruns);
    summary(h, &p);
    g_string_append(h, "<h2>Cases</h2>\n");
    for (guint ci = 0; ci < p.names->len; ci++)
        one_case(h, &p, ci);
    data = data_island(&p);
    page_clear(&p);
    page_foot(h);
    g_string_append(h, "<script type=\"application/json\" id=\"migtest-data\">");
    g_string_append(h, data);
    g_string_append(h, "</script>\n");
    if (!append_script(h, chartjs, "chart.min.js", error) ||
        !append_script(h, ours, "report-html.js", error))
        return NULL;
    g_string_append(h, "</body>\n</html>\n");
    return g_string_free(g_steal_pointer(&h), FALSE);
}

gboolean report_html_write(const char *path, const ReportRun *runs, guint nruns,
                           GError **error)
{
    g_autofree char *html = report_html_render(runs, nruns, error);

    if (!html || !g_file_set_contents(path, html, -1, error)) {
        g_prefix_error(error, "cannot write HTML report '%s': ", path);
        return FALSE;
    }
    return TRUE;
}

JsonNode *report_json_load(const char *path, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;
    JsonObject *o;

    if (!json_parser_load_from_file(parser, path, error)) {
        g_prefix_error(error, "cannot read JSON report '%s': ", path);
        return NULL;
    }
    root = json_parser_get_root(parser);
    o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    if (!o || !get_array(o, "cases") || !g_str_has_prefix(qmp_get_string(o, "tool") ?
                                                          qmp_get_string(o, "tool") : "", "migtest")) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "'%s' is not a migtest JSON report (no "
                    "\"tool\": \"migtest ...\" and \"cases\" array); pass files written by "
                    "migtest run --json", path);
        return NULL;
    }
    return json_node_ref(root);
}

static char *run_label(const char *const *paths, guint n, guint i)
{
    g_autofree char *base = g_path_get_basename(paths[i]);

    for (guint j = 0; j < n; j++) {
        g_autofree char *other = g_path_get_basename(paths[j]);
        if (j != i && g_str_equal(base, other))
            return g_strdup(paths[i]);
    }
    if (g_str_has_suffix(base, ".json") && strlen(base) > 5)
        base[strlen(base) - 5] = '\0';
    return g_steal_pointer(&base);
}

gboolean report_html_from_files(const char *out_path, const char *const *paths, guint n,
                                GError **error)
{
    g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
    g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func(g_free);
    g_autofree ReportRun *runs = g_new0(ReportRun, n);

    for (guint i = 0; i < n; i++) {
        JsonNode *root = report_json_load(paths[i], error);
        if (!root)
            return FALSE;
        g_ptr_array_add(roots, root);
        g_ptr_array_add(labels, run_label(paths, n, i));
        runs[i] = (ReportRun){ labels->pdata[i], root };
    }
    return report_html_write(out_path, runs, n, error);
}
