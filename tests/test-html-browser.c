/*
 * test-html-browser.c: the HTML report in a real browser (Debian's
 * chromium, headless).  A passing run written by "migtest run --html" and
 * a failing run (a byte poked behind QEMU's back) are rendered with
 * scripts on: every chart must have drawn its own series (the page checks
 * its canvases' pixels and writes the result on <body>), no script may
 * have thrown, the summary's numbers must equal the JSON's (checked by
 * the page and again here from the dumped DOM), and the failing page map
 * must mark the poked page.  The failing page is rendered again with
 * scripts off: tables and the SVG map must be there.  "migtest report"
 * overlays the two saved runs.  Screenshots (1280x800) are kept under
 * build/tests/html-artifacts/ for people to look at.  Skips without
 * chromium.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "leftovers.h"
#include "report.h"
#include "report-html.h"
#include "rundir.h"
#include "runner.h"

#define POKE_OFFSET 0x7000000   /* 112 MiB: past the window, inside RAM */
/* One chromium run: ~2-6 s here; a loaded 2-core host gets room. */
#define BROWSER_TIMEOUT_S 90
#define PASS_CASE "/x86_64/precopy/tcp"
/* The same case, so that "migtest report" overlays the two runs. */
#define FAIL_CASE PASS_CASE

typedef struct {
    char *artifacts;            /* build/tests/html-artifacts */
    PrivateRun run;             /* results and MIGTEST_RUN_BASE: ours alone */
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer u)
{
    const char *root = g_getenv("MIGTEST_BUILD_ROOT");

    (void)u;
    f->artifacts = g_build_filename(root ? root : ".", "tests", "html-artifacts", NULL);
    g_assert_cmpint(g_mkdir_with_parents(f->artifacts, 0755), ==, 0);
    private_run_begin(&f->run, "html");
}

static void fixture_teardown(Fixture *f, gconstpointer u)
{
    (void)u;
    private_run_end(&f->run);
    g_free(f->artifacts);
}

static char *artifact(const Fixture *f, const char *name)
{
    return g_build_filename(f->artifacts, name, NULL);
}

/* chromium in its own process group, so a timeout can kill all of it. */
static void own_group(gpointer unused)
{
    (void)unused;
    setpgid(0, 0);
}

/* Run chromium headless on @file (with URL fragment @fragment) plus
 * @extra; stdout to @out (may be NULL).  Asserts it ends in time. */
static void chromium(const char *file, const char *fragment, const char *const *extra,
                     const char *out)
{
    g_autofree char *profile = g_dir_make_tmp("migtest-chromium-XXXXXX", NULL);
    g_autofree char *profile_arg = g_strdup_printf("--user-data-dir=%s", profile);
    g_autofree char *url = g_strdup_printf("file://%s%s", file, fragment);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    gint64 deadline = g_get_monotonic_time() + BROWSER_TIMEOUT_S * G_USEC_PER_SEC;
    int out_fd = out ? g_open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
    const char *base[] = { "chromium", "--headless", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", "--disable-quic", "--hide-scrollbars" };
    GPid pid;
    int status = 0;

    for (guint i = 0; i < G_N_ELEMENTS(base); i++)
        g_ptr_array_add(argv, (gpointer)base[i]);
    if (geteuid() == 0)     /* chromium refuses root without it */
        g_ptr_array_add(argv, "--no-sandbox");
    g_ptr_array_add(argv, profile_arg);
    for (guint i = 0; extra[i]; i++)
        g_ptr_array_add(argv, (gpointer)extra[i]);
    g_ptr_array_add(argv, url);
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_async_with_fds(NULL, (char **)argv->pdata, NULL,
                                         G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                         G_SPAWN_STDERR_TO_DEV_NULL, own_group, NULL, &pid,
                                         -1, out_fd, -1, &error));
    g_assert_no_error(error);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (g_get_monotonic_time() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            g_error("chromium did not finish %s within %d s", url, BROWSER_TIMEOUT_S);
        }
        g_usleep(20 * 1000);
    }
    /* Its helpers (zygote, renderer) are gone with it; be sure. */
    kill(-pid, SIGKILL);
    if (out_fd >= 0)
        close(out_fd);
    rundir_remove(profile);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Jenkins' default Content-Security-Policy for archived artifacts: no
 * script, no inline style.  (--blink-settings=scriptEnabled=false would
 * also stop --dump-dom, which runs a script of its own.) */
#define CSP_NO_SCRIPT "<meta http-equiv=\"Content-Security-Policy\" content=\"sandbox " \
    "allow-same-origin; default-src 'none'; img-src 'self'; style-src 'self';\">"

/* A copy of @html served as under that policy (new path). */
static char *with_csp(const char *html)
{
    g_autofree char *text = NULL;
    g_autofree char *copy = NULL;
    char *path = g_strconcat(html, ".csp.html", NULL);
    const char *head;

    g_assert_true(g_file_get_contents(html, &text, NULL, NULL));
    head = strstr(text, "<head>");
    g_assert_nonnull(head);
    head += strlen("<head>");
    copy = g_strdup_printf("%.*s" CSP_NO_SCRIPT "%s", (int)(head - text), text, head);
    g_assert_true(g_file_set_contents(path, copy, -1, NULL));
    return path;
}

/* The DOM after scripts ran, or as it is with scripts blocked. */
static char *dump_dom(const char *html, const char *fragment, gboolean scripts)
{
    g_autofree char *page = scripts ? g_strdup(html) : with_csp(html);
    g_autofree char *out = g_strconcat(page, ".dom", NULL);
    const char *extra[] = { "--dump-dom", NULL };
    char *dom = NULL;

    chromium(page, fragment, extra, out);
    g_assert_true(g_file_get_contents(out, &dom, NULL, NULL));
    return dom;
}

/* @size "1280,800": what a laptop shows first; taller: the whole page. */
static void screenshot(const char *html, const char *fragment, const char *png,
                       const char *size)
{
    g_autofree char *arg = g_strdup_printf("--screenshot=%s", png);
    g_autofree char *window = g_strdup_printf("--window-size=%s", size);
    const char *extra[] = { arg, window, NULL };

    g_unlink(png);
    chromium(html, fragment, extra, NULL);
    g_assert_true(g_file_test(png, G_FILE_TEST_IS_REGULAR));
}

/* data-NAME="N" on <body>, or -1 when absent. */
static gint64 body_attr(const char *dom, const char *name)
{
    g_autofree char *pattern = g_strdup_printf("<body[^>]* data-%s=\"(-?[0-9]+)\"", name);
    g_autoptr(GRegex) re = g_regex_new(pattern, 0, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    g_autofree char *v = NULL;

    if (!g_regex_match(re, dom, 0, &m))
        return -1;
    v = g_match_info_fetch(m, 1);
    return g_ascii_strtoll(v, NULL, 10);
}

static guint count(const char *hay, const char *needle)
{
    guint n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* What the summary row of case @i shows for @key, from the DOM. */
static char *cell(const char *dom, guint i, const char *key)
{
    g_autofree char *row = g_strdup_printf("<tr data-case=\"%u\" data-run=\"0\">", i);
    g_autofree char *td = g_strdup_printf("data-k=\"%s\">", key);
    const char *r = strstr(dom, row), *end, *c;

    g_assert_nonnull(r);
    end = strstr(r, "</tr>");
    c = g_strstr_len(r, end - r, td);
    g_assert_nonnull(c);
    c += strlen(td);
    return g_strndup(c, strchr(c, '<') - c);
}

/* Scripts ran, drew every chart, threw nothing; the numbers are the
 * JSON's, as the page found and as found here. */
static void expect_rendered(const char *html_path, const char *dom, JsonNode *report)
{
    g_autofree char *html = NULL;
    JsonArray *cases = json_object_get_array_member(json_node_get_object(report), "cases");
    guint charts;

    g_assert_true(g_file_get_contents(html_path, &html, NULL, NULL));
    charts = count(html, "<canvas data-chart");
    g_assert_cmpuint(charts, >=, 6);
    g_assert_cmpint(body_attr(dom, "js-errors"), ==, 0);
    g_assert_cmpint(body_attr(dom, "charts-total"), ==, charts);
    g_assert_cmpint(body_attr(dom, "charts-ok"), ==, charts);
    g_assert_cmpint(body_attr(dom, "numbers-checked"), >=, 6);
    g_assert_cmpint(body_attr(dom, "numbers-bad"), ==, 0);
    for (guint i = 0; i < json_array_get_length(cases); i++) {
        JsonObject *m = json_object_get_object_member(json_array_get_object_element(cases, i),
                                                      "metrics");
        const char *keys[] = { "total_ms", "downtime_ms", "observed_downtime_ms",
                               "dirty_sync_count" };
        for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
            g_autofree char *shown = cell(dom, i, keys[k]);
            g_assert_cmpint(g_ascii_strtoll(shown, NULL, 10), ==,
                            json_object_get_int_member(m, keys[k]));
        }
    }
}

static void save_json(JsonNode *root, const char *path)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(report_write_json(path, root, &error));
    g_assert_no_error(error);
}

static gboolean have_chromium(void)
{
    g_autofree char *path = g_find_program_in_path("chromium");

    if (!path)
        g_test_skip("no chromium (scripts/setup installs it)");
    if (path && !report_html_available())
        g_test_skip("built without Chart.js");
    return path && report_html_available();
}

/* The CLI end to end: run --json --html, as a user would. */
static void test_passing_run(Fixture *f, gconstpointer u)
{
    g_autofree char *json = artifact(f, "pass.json");
    g_autofree char *html = artifact(f, "pass.html");
    g_autofree char *png = artifact(f, "pass.png");
    g_autofree char *dom = NULL;
    g_autoptr(JsonNode) report = NULL;
    const char *root = g_getenv("MIGTEST_BUILD_ROOT");
    g_autofree char *migtest = g_build_filename(root ? root : ".", "migtest", NULL);
    const char *argv[] = { migtest, "run", "--arch", "x86_64", "--accel", "tcg", "--case",
                           PASS_CASE, "--results", f->run.results, "--json", json, "--html", html,
                           NULL };
    int status = -1;

    (void)u;
    if (!have_chromium())
        return;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                               NULL, NULL, NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    report = report_json_load(json, NULL);
    g_assert_nonnull(report);
    dom = dump_dom(html, "#render-all", TRUE);
    expect_rendered(html, dom, report);
    screenshot(html, "#render-all", png, "1280,800");
}

static CaseResult *run_poked(Fixture *f, guint64 *gpa)
{
    const ArchDesc *archs[] = { arch_lookup("x86_64"), NULL };
    g_autoptr(GPtrArray) cases = cases_select(archs, FAIL_CASE);
    RunOptions opts = {
        .accel = "tcg", .mem_bytes = MT_DEFAULT_MEM_MIB << 20, .results_dir = f->run.results,
        .timeout_ms = 120000, .poke_src_gpa = archs[0]->ram_base + POKE_OFFSET,
    };

    *gpa = opts.poke_src_gpa;
    g_assert_cmpuint(cases->len, ==, 1);
    return runner_run_case(cases->pdata[0], &opts);
}

/* A failed case: open, its map marks the poked page, scripts or not. */
static void test_failing_run(Fixture *f, gconstpointer u)
{
    g_autofree char *json = artifact(f, "fail.json");
    g_autofree char *html = artifact(f, "fail.html");
    g_autofree char *png = artifact(f, "fail.png");
    g_autoptr(CaseResult) r = NULL;
    g_autoptr(GPtrArray) results = g_ptr_array_new();
    g_autoptr(JsonNode) report = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *dom = NULL, *noscript = NULL, *mark = NULL;
    ReportHost host = { "x86_64", "test", NULL };
    guint64 gpa;

    (void)u;
    if (!have_chromium())
        return;
    r = run_poked(f, &gpa);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "fail");
    g_ptr_array_add(results, r);
    report = report_json_new(results, NULL, &host, NULL);
    save_json(report, json);
    g_assert_true(report_html_write(html, &(ReportRun){ "fail", report }, 1, &error));
    g_assert_no_error(error);
    mark = g_strdup_printf("data-page=\"0x%" G_GINT64_MODIFIER "x\"", gpa & ~(guint64)0xfff);

    dom = dump_dom(html, "#render-all", TRUE);
    expect_rendered(html, dom, report);
    g_assert_cmpuint(count(dom, "<svg class=\"pagemap\""), ==, 1);
    g_assert_cmpuint(count(dom, mark), ==, 1);
    screenshot(html, "#render-all", png, "1280,1800");

    noscript = dump_dom(html, "", FALSE);
    g_assert_cmpint(body_attr(noscript, "charts-total"), ==, -1);      /* no script ran */
    g_assert_cmpuint(count(noscript, mark), ==, 1);
    g_assert_nonnull(strstr(noscript, "<table class=\"summary\">"));
    g_assert_nonnull(strstr(noscript, "<table class=\"samples\">"));
    g_assert_nonnull(strstr(noscript, "<p class=\"noscript\" id=\"no-js\">"));
    g_assert_null(strstr(dom, "id=\"no-js\""));
}

/* migtest report: both saved runs overlaid, both in the summary. */
static void test_compare_runs(Fixture *f, gconstpointer u)
{
    g_autofree char *pass = artifact(f, "pass.json");
    g_autofree char *fail = artifact(f, "fail.json");
    g_autofree char *html = artifact(f, "compare.html");
    g_autofree char *png = artifact(f, "compare.png");
    const char *paths[] = { pass, fail };
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) report = NULL;
    g_autofree char *dom = NULL;

    (void)u;
    if (!have_chromium())
        return;
    if (!g_file_test(pass, G_FILE_TEST_EXISTS) || !g_file_test(fail, G_FILE_TEST_EXISTS)) {
        g_test_skip("needs the reports of the two tests before it");
        return;
    }
    g_assert_true(report_html_from_files(html, paths, 2, &error));
    g_assert_no_error(error);
    report = report_json_load(pass, NULL);
    dom = dump_dom(html, "#render-all", TRUE);
    g_assert_cmpint(body_attr(dom, "js-errors"), ==, 0);
    g_assert_cmpint(body_attr(dom, "charts-ok"), ==, body_attr(dom, "charts-total"));
    g_assert_cmpint(body_attr(dom, "numbers-bad"), ==, 0);
    g_assert_nonnull(strstr(dom, "<tr data-case=\"0\" data-run=\"0\">"));
    g_assert_nonnull(strstr(dom, "<tr data-case=\"0\" data-run=\"1\">"));
    /* One set of timelines for the case, each run's series on it. */
    g_assert_cmpuint(count(dom, "data-chart=\"bytes\" data-case=\"0\""), ==, 1);
    g_assert_nonnull(strstr(dom, "data-chart=\"bytes\" data-case=\"0\" width"));
    g_assert_true(g_regex_match_simple("data-chart=\"bytes\" data-case=\"0\"[^>]* "
                                       "data-datasets=\"4\"", dom, 0, 0));
    screenshot(html, "#render-all", png, "1280,800");
}

/* The page's own checks catch what they exist to catch: a chart that
 * drew no series (its samples made unreadable), and a table number that
 * differs from the JSON (edited after writing). */
static void test_checks_catch_faults(Fixture *f, gconstpointer u)
{
    g_autofree char *pass = artifact(f, "pass.json");
    g_autofree char *html = artifact(f, "broken.html");
    g_autoptr(JsonNode) report = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL, *dom = NULL;
    g_autoptr(GRegex) total = g_regex_new("(data-k=\"total_ms\">)[0-9]+<", 0, 0, NULL);
    g_autofree char *edited = NULL;
    JsonArray *samples;

    (void)u;
    if (!have_chromium())
        return;
    if (!g_file_test(pass, G_FILE_TEST_EXISTS)) {
        g_test_skip("needs the report of /html/passing-run");
        return;
    }
    report = report_json_load(pass, &error);
    g_assert_no_error(error);
    samples = json_object_get_array_member(json_object_get_object_member(
        json_array_get_object_element(json_object_get_array_member(
            json_node_get_object(report), "cases"), 0), "metrics"), "samples");
    for (guint i = 0; i < json_array_get_length(samples); i++) {
        JsonObject *s = json_array_get_object_element(samples, i);
        json_object_set_string_member(s, "transferred", "garbage");
        json_object_set_string_member(s, "remaining", "garbage");
    }
    g_assert_true(report_html_write(html, &(ReportRun){ "broken", report }, 1, &error));
    g_assert_true(g_file_get_contents(html, &text, NULL, NULL));
    edited = g_regex_replace(total, text, -1, 0, "\\g<1>999999<", 0, NULL);
    g_assert_true(g_file_set_contents(html, edited, -1, NULL));

    dom = dump_dom(html, "#render-all", TRUE);
    g_assert_cmpint(body_attr(dom, "js-errors"), ==, 0);
    g_assert_cmpint(body_attr(dom, "charts-ok"), ==, body_attr(dom, "charts-total") - 1);
    g_assert_true(g_regex_match_simple("data-chart=\"bytes\"[^>]* data-ok=\"0\"", dom, 0, 0));
    g_assert_cmpint(body_attr(dom, "numbers-bad"), ==, 1);
}

/* Any page, by hand: MIGTEST_HTML_PAGE=cat.html [MIGTEST_HTML_JSON=cat.json]
 * build/tests/test-html-browser -p /html/given-page.  The same checks as
 * for the runs above (numbers against the JSON when it is given). */
static void test_given_page(gconstpointer page)
{
    const char *json = g_getenv("MIGTEST_HTML_JSON");
    g_autoptr(JsonNode) report = json ? report_json_load(json, NULL) : NULL;
    g_autofree char *dom = NULL, *html = NULL;
    gint64 t0 = g_get_monotonic_time();

    if (!have_chromium())
        return;
    dom = dump_dom(page, "#render-all", TRUE);
    g_test_message("%s: rendered and dumped in %.1f s, page says %" G_GINT64_FORMAT " ms",
                   (const char *)page, (g_get_monotonic_time() - t0) / 1e6,
                   body_attr(dom, "render-ms"));
    if (report) {
        expect_rendered(page, dom, report);
        return;
    }
    g_assert_true(g_file_get_contents(page, &html, NULL, NULL));
    g_assert_cmpint(body_attr(dom, "js-errors"), ==, 0);
    g_assert_cmpint(body_attr(dom, "charts-total"), ==, count(html, "<canvas data-chart"));
    g_assert_cmpint(body_attr(dom, "charts-ok"), ==, body_attr(dom, "charts-total"));
    g_assert_cmpint(body_attr(dom, "numbers-bad"), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (g_getenv("MIGTEST_HTML_PAGE"))
        g_test_add_data_func("/html/given-page", g_getenv("MIGTEST_HTML_PAGE"),
                             test_given_page);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/html/passing-run", test_passing_run);
    ADD("/html/failing-run", test_failing_run);
    ADD("/html/compare-runs", test_compare_runs);
    ADD("/html/checks-catch-faults", test_checks_catch_faults);
    return g_test_run();
}
