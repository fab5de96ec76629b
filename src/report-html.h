/*
 * report-html.h: the HTML report, one self-contained file that needs no
 * network to view.  It is built from JSON reports (what report_json_new
 * makes, or what migtest run --json saved), so the page and the JSON
 * cannot disagree: the JSON is embedded in the page and the charts are
 * drawn from it by Chart.js (Debian's libjs-chart.js, compiled into the
 * binary as a GResource).  Every figure is also written as HTML tables and
 * the page map of a failed case as inline SVG, so the page reads with
 * scripts blocked.  With several reports, the same case from each run is
 * drawn on shared axes and the summary compares the runs side by side.
 */
#ifndef MIGTEST_REPORT_HTML_H
#define MIGTEST_REPORT_HTML_H

#include <json-glib/json-glib.h>

/* One JSON report and the name it goes by on the page. */
typedef struct {
    const char *label;          /* e.g. the file's base name */
    JsonNode *root;             /* borrowed: the report's root object */
} ReportRun;

/* FALSE when this build has no Chart.js to embed (libjs-chart.js was
 * missing at build time): --html then refuses instead of writing a
 * chart-less page. */
gboolean report_html_available(void);

/* The page for @runs (1 or more), as a new string. */
char *report_html_render(const ReportRun *runs, guint nruns, GError **error);

gboolean report_html_write(const char *path, const ReportRun *runs, guint nruns,
                           GError **error);

/* Write @out_path from the JSON reports at @paths, each labelled with its
 * file name less ".json" (the whole path when two names collide). */
gboolean report_html_from_files(const char *out_path, const char *const *paths, guint n,
                                GError **error);

/* Load a report written by migtest run --json.  A file that is not one
 * is MT_ERROR_USAGE naming the file and what is missing. */
JsonNode *report_json_load(const char *path, GError **error);

#endif
