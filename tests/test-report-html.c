/*
 * test-report-html.c: the HTML page without a browser.  A hostile case
 * name must come out escaped in the tables and unable to close the JSON
 * <script>; the page must load nothing from the network; each charted
 * case gets its three timelines and a failed one its page map with the
 * differing page; several reports overlay (one set of charts per case,
 * one summary row per run); a file that is not a report is refused.
 * (tests/test-html-browser.c renders real runs in Chromium.)
 */
#include <string.h>
#include <glib/gstdio.h>
#include "mt-error.h"
#include "report.h"
#include "report-html.h"

#define HOSTILE "/x86_64/</script><b>&\"x"

/* A report with one passing case (samples, events, a heartbeat gap) and
 * one failed case with one differing page; @accel tells runs apart. */
static JsonNode *report_new(const char *accel)
{
    g_autofree char *text = g_strdup_printf(
        "{\"tool\": \"migtest 0.1\", \"host\": {\"arch\": \"x86_64\", \"kernel\": \"6.1\"},"
        " \"cases\": ["
        "  {\"name\": \"" "/x86_64/<\\/script><b>&\\\"x" "\", \"accel\": \"%s\", \"outcome\": \"pass\","
        "   \"metrics\": {\"total_ms\": 1234, \"downtime_ms\": 56, \"observed_downtime_ms\": 78,"
        "     \"transferred_bytes\": 104857600, \"throughput_mbps\": 900.5, \"dirty_sync_count\": 3,"
        "     \"samples\": [{\"t_ms\": 50, \"status\": \"active\", \"transferred\": 1048576,"
        "        \"remaining\": 9437184, \"dirty_pages_rate\": 0, \"mbps\": 800.0,"
        "        \"cpu_throttle_percentage\": 0, \"dirty_sync_count\": 1},"
        "       {\"t_ms\": 100, \"status\": \"completed\", \"transferred\": 10485760,"
        "        \"remaining\": 0, \"dirty_pages_rate\": 10, \"mbps\": 900.5,"
        "        \"cpu_throttle_percentage\": 20, \"dirty_sync_count\": 3}],"
        "     \"events\": [{\"t_ms\": 0, \"status\": \"setup\"}, {\"t_ms\": 60, \"pass\": 2},"
        "       {\"t_ms\": 99, \"status\": \"completed\"}],"
        "     \"heartbeat_gap\": {\"start_ms\": 80, \"end_ms\": 160}},"
        "   \"verify\": {\"exact\": {\"pages_compared\": 38400, \"pages_differing\": 0}}},"
        "  {\"name\": \"/x86_64/failed\", \"accel\": \"%s\", \"outcome\": \"fail\","
        "   \"reason\": \"exact: 1 of 38400 pages differ\","
        "   \"window\": [{\"start\": \"0x100000\", \"end\": \"0x6400000\"}],"
        "   \"metrics\": {\"total_ms\": 2000, \"downtime_ms\": 10, \"observed_downtime_ms\": -1,"
        "     \"transferred_bytes\": 1, \"dirty_sync_count\": 2, \"samples\": [], \"events\": []},"
        "   \"verify\": {\"exact\": {\"pages_compared\": 38400, \"pages_differing\": 1,"
        "     \"differing_pages_limit\": 4096, \"ram\": [{\"gpa\": \"0x0\", \"bytes\": 157286400}],"
        "     \"differing_pages\": [{\"gpa\": \"0x2345678\", \"page\": \"0x2345000\","
        "        \"src\": \"87\", \"dst\": \"78\", \"bytes_differing\": 1}]},"
        "     \"invariant\": {\"ok\": false, \"detail\": \"1 violation\", \"violations\": 1,"
        "       \"reported\": [{\"gpa\": \"0x3000000\", \"expected\": \"0x7\", \"found\": \"0x6\"}]}}}"
        " ]}", accel, accel);
    g_autoptr(JsonParser) parser = json_parser_new();

    g_assert_true(json_parser_load_from_data(parser, text, -1, NULL));
    return json_node_ref(json_parser_get_root(parser));
}

static guint count(const char *hay, const char *needle)
{
    guint n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static char *render(guint nruns)
{
    g_autoptr(JsonNode) a = report_new("kvm");
    g_autoptr(JsonNode) b = report_new("tcg");
    ReportRun runs[] = { { "kvm", a }, { "tcg", b } };
    g_autoptr(GError) error = NULL;
    char *html = report_html_render(runs, nruns, &error);

    g_assert_no_error(error);
    g_assert_nonnull(html);
    return html;
}

static void test_escaping(void)
{
    g_autofree char *html = render(1);
    const char *island = strstr(html, "<script type=\"application/json\" id=\"migtest-data\">");
    const char *island_end;

    g_assert_nonnull(island);
    island_end = strstr(island + 1, "</script>");
    /* In the tables: escaped markup. */
    g_assert_nonnull(strstr(html, "/x86_64/&lt;/script&gt;&lt;b&gt;&amp;&quot;x"));
    /* In the JSON: no '<' at all, so nothing can end the element early. */
    g_assert_null(g_strstr_len(island + 1, island_end - island - 1, "<"));
    g_assert_nonnull(g_strstr_len(island, island_end - island, "\\u003c/script>\\u003cb>&"));
    /* The raw name appears nowhere. */
    g_assert_null(strstr(html, HOSTILE));
}

static void test_self_contained(void)
{
    g_autofree char *html = render(2);

    g_assert_null(strstr(html, "src=\"http"));
    g_assert_null(strstr(html, "href=\"http"));
    g_assert_null(strstr(html, "<link"));
    g_assert_nonnull(strstr(html, "Chart.js v3.9.1"));
    g_assert_nonnull(strstr(html, "Released under the MIT License"));
}

static void test_charts_and_map(void)
{
    g_autofree char *html = render(1);

    /* 3 summary charts + 3 timelines for the one case with samples. */
    g_assert_cmpuint(count(html, "<canvas data-chart"), ==, 6);
    g_assert_cmpuint(count(html, "data-chart=\"bytes\""), ==, 1);
    /* The failed case: a map with its one page, a table row, open. */
    g_assert_cmpuint(count(html, "<svg class=\"pagemap\""), ==, 1);
    g_assert_cmpuint(count(html, "data-page=\"0x2345000\""), ==, 1);
    g_assert_cmpuint(count(html, "class=\"violation\" data-gpa=\"0x3000000\""), ==, 1);
    g_assert_nonnull(strstr(html, "<td data-k=\"page\">0x2345000</td>"));
    g_assert_nonnull(strstr(html, "<details open><summary><span class=\"name\">/x86_64/failed"));
    /* The window is drawn; so is the passing case's heartbeat gap row. */
    g_assert_nonnull(strstr(html, "class=\"window\""));
    g_assert_nonnull(strstr(html, "80 ms to 160 ms"));
    /* Summary figures as the JSON has them. */
    g_assert_nonnull(strstr(html, "<td class=\"n\" data-k=\"total_ms\">1234</td>"));
    g_assert_nonnull(strstr(html, "<td class=\"n\" data-k=\"observed_downtime_ms\">78</td>"));
    g_assert_nonnull(strstr(html, "<td class=\"n\" data-k=\"transferred_mib\">100.0</td>"));
}

static void test_overlay(void)
{
    g_autofree char *one = render(1);
    g_autofree char *two = render(2);

    /* Same charts (overlaid), twice the summary rows, both labels. */
    g_assert_cmpuint(count(two, "<canvas data-chart"), ==, count(one, "<canvas data-chart"));
    g_assert_cmpuint(count(two, "<tr data-case="), ==, 2 * count(one, "<tr data-case="));
    g_assert_cmpuint(count(two, "<svg class=\"pagemap\""), ==, 2);
    g_assert_nonnull(strstr(two, "<tr data-run=\"1\">"));
}

/* --repeat puts a case in a report k times: each keeps its own row. */
static void test_repeats(void)
{
    g_autoptr(JsonNode) a = report_new("kvm");
    JsonArray *cases = json_object_get_array_member(json_node_get_object(a), "cases");
    ReportRun run = { "kvm", a };
    g_autofree char *html = NULL;

    json_array_add_element(cases, json_node_copy(json_array_get_element(cases, 1)));
    html = report_html_render(&run, 1, NULL);
    g_assert_nonnull(strstr(html, ">/x86_64/failed</a>"));
    g_assert_nonnull(strstr(html, ">/x86_64/failed #2</a>"));
    g_assert_cmpuint(count(html, "<tr data-case="), ==, 3);
}

/* What the page is drawn from: the new series and page list next to the
 * keys that were there before them. */
static void test_json_keeps_series(void)
{
    g_autoptr(CaseResult) r = g_new0(CaseResult, 1);
    g_autoptr(GPtrArray) results = g_ptr_array_new();
    ReportHost host = { "x86_64", "6.1", NULL };
    MigrateSample s = { .t_ms = 50, .status = "active", .transferred = 7, .mbps = 1.5,
                        .postcopy_requests = -1 };
    MigrateEvent e = { .t_ms = 60, .pass = 2 };
    ExactDiff d = { .gpa = 0x2345678, .shown = 1, .src = { 0x87 }, .dst = { 0x78 },
                    .bytes_differing = 1 };
    g_autoptr(JsonNode) root = NULL;
    JsonObject *c, *m, *ex, *gap;
    JsonArray *pages;

    r->name = g_strdup("/x86_64/x");
    r->arch = "x86_64";
    r->outcome = OUTCOME_FAIL;
    r->mig.start_us = 1000000;
    r->mig.samples = g_array_new(FALSE, FALSE, sizeof(MigrateSample));
    r->mig.events = g_array_new(FALSE, FALSE, sizeof(MigrateEvent));
    g_array_append_val(r->mig.samples, s);
    g_array_append_val(r->mig.events, e);
    r->gap_start_us = 1080000;
    r->gap_end_us = 1160000;
    r->exact_ran = TRUE;
    r->exact.pages_differing = 5000;
    r->exact.ndiffs = 1;
    r->exact.diffs[0] = d;
    r->exact.pages = g_array_new(FALSE, FALSE, sizeof(ExactDiff));
    g_array_append_val(r->exact.pages, d);
    g_ptr_array_add(results, r);
    root = report_json_new(results, NULL, &host, NULL);
    c = json_array_get_object_element(json_object_get_array_member(
            json_node_get_object(root), "cases"), 0);
    m = json_object_get_object_member(c, "metrics");
    ex = json_object_get_object_member(json_object_get_object_member(c, "verify"), "exact");
    g_assert_true(json_object_has_member(m, "total_ms"));
    g_assert_true(json_object_has_member(m, "observed_downtime_ms"));
    g_assert_cmpint(json_array_get_length(json_object_get_array_member(m, "samples")), ==, 1);
    g_assert_false(json_object_has_member(json_array_get_object_element(
        json_object_get_array_member(m, "samples"), 0), "postcopy_requests"));
    g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(
        json_object_get_array_member(m, "events"), 0), "pass"), ==, 2);
    gap = json_object_get_object_member(m, "heartbeat_gap");
    g_assert_cmpint(json_object_get_int_member(gap, "start_ms"), ==, 80);
    g_assert_cmpint(json_object_get_int_member(gap, "end_ms"), ==, 160);
    g_assert_cmpint(json_object_get_int_member(ex, "pages_differing"), ==, 5000);
    g_assert_cmpint(json_array_get_length(json_object_get_array_member(ex, "first_differing")),
                    ==, 1);
    pages = json_object_get_array_member(ex, "differing_pages");
    g_assert_cmpint(json_array_get_length(pages), ==, 1);
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(pages, 0),
                                                  "page"), ==, "0x2345000");
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(pages, 0),
                                                  "src"), ==, "87");
    g_assert_cmpint(json_object_get_int_member(ex, "differing_pages_limit"), ==,
                    VERIFY_MAX_PAGES);
}

static void test_load_refuses_other_json(void)
{
    g_autofree char *dir = g_dir_make_tmp("migtest-html-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "not-a-report.json", NULL);
    g_autoptr(GError) error = NULL;
    JsonNode *root;

    g_assert_true(g_file_set_contents(path, "{\"cases\": 3}", -1, NULL));
    root = report_json_load(path, &error);
    g_assert_null(root);
    g_assert_error(error, MT_ERROR, MT_ERROR_USAGE);
    g_assert_nonnull(strstr(error->message, path));
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!report_html_available()) {
        g_test_skip("built without Chart.js (libjs-chart.js)");
        return g_test_run();
    }
    g_test_add_func("/report-html/escaping", test_escaping);
    g_test_add_func("/report-html/self-contained", test_self_contained);
    g_test_add_func("/report-html/charts-and-map", test_charts_and_map);
    g_test_add_func("/report-html/overlay", test_overlay);
    g_test_add_func("/report-html/load-refuses-other-json", test_load_refuses_other_json);
    g_test_add_func("/report-html/repeats", test_repeats);
    g_test_add_func("/report-html/json-keeps-series", test_json_keeps_series);
    return g_test_run();
}
