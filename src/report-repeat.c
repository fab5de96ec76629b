/* report-repeat.c: repeated runs in the reports (see report-repeat.h). */
#include "report-repeat.h"

void report_repeat_table(FILE *out, GPtrArray *summaries)
{
    fprintf(out, "\n%-28s %4s %4s %4s %4s %4s %6s %15s %15s %15s %8s\n", "repeated case",
            "runs", "pass", "fail", "skip", "err", "fail%", "95% interval",
            "down p50/95/max", "obs p50/95/max", "total_s");
    for (guint i = 0; i < summaries->len; i++) {
        const RepeatSummary *s = summaries->pdata[i];
        g_autofree char *ci = g_strdup_printf("%.1f-%.1f%%", 100 * s->fail_low,
                                              100 * s->fail_high);
        g_autofree char *down = g_strdup_printf("%.0f/%.0f/%.0f", s->downtime.p50,
                                                s->downtime.p95, s->downtime.max);
        g_autofree char *obs = g_strdup_printf("%.0f/%.0f/%.0f", s->observed.p50,
                                               s->observed.p95, s->observed.max);

        fprintf(out, "%-28s %4u %4u %4u %4u %4u %5.1f%% %15s %15s %15s %8.1f\n", s->name,
                s->runs, s->pass, s->fail, s->skip, s->error, 100 * s->fail_rate, ci,
                s->downtime.n ? down : "-", s->observed.n ? obs : "-", s->wall_ms / 1000.0);
    }
}

static void json_dist(JsonBuilder *b, const char *name, const RepeatDist *d)
{
    json_builder_set_member_name(b, name);
    if (!d->n) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "runs");
    json_builder_add_int_value(b, d->n);
    json_builder_set_member_name(b, "p50");
    json_builder_add_double_value(b, d->p50);
    json_builder_set_member_name(b, "p95");
    json_builder_add_double_value(b, d->p95);
    json_builder_set_member_name(b, "max");
    json_builder_add_double_value(b, d->max);
    json_builder_end_object(b);
}

static void json_uint(JsonBuilder *b, const char *name, gint64 v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, v);
}

static void json_double(JsonBuilder *b, const char *name, double v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, v);
}

void report_repeat_json(JsonBuilder *b, GPtrArray *summaries)
{
    json_builder_set_member_name(b, "repeat");
    json_builder_begin_array(b);
    for (guint i = 0; i < summaries->len; i++) {
        const RepeatSummary *s = summaries->pdata[i];

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, s->name);
        json_uint(b, "runs", s->runs);
        json_uint(b, "pass", s->pass);
        json_uint(b, "fail", s->fail);
        json_uint(b, "skip", s->skip);
        json_uint(b, "error", s->error);
        json_uint(b, "first_failing_run", s->first_fail_run);
        json_double(b, "failure_rate", s->fail_rate);
        json_builder_set_member_name(b, "failure_rate_wilson95");
        json_builder_begin_array(b);
        json_builder_add_double_value(b, s->fail_low);
        json_builder_add_double_value(b, s->fail_high);
        json_builder_end_array(b);
        json_dist(b, "downtime_ms", &s->downtime);
        json_dist(b, "observed_downtime_ms", &s->observed);
        json_uint(b, "total_wall_ms", s->wall_ms);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void junit_property(GString *x, const char *name, double v)
{
    g_string_append_printf(x, "      <property name=\"%s\" value=\"%g\"/>\n", name, v);
}

void report_repeat_junit(GString *x, GPtrArray *summaries)
{
    for (guint i = 0; i < summaries->len; i++) {
        const RepeatSummary *s = summaries->pdata[i];
        g_autofree char *name = g_markup_escape_text(s->name, -1);

        g_string_append_printf(x, "  <testcase classname=\"migtest.repeat\" name=\"%s\" "
                               "time=\"%.3f\">\n    <properties>\n", name, s->wall_ms / 1000.0);
        junit_property(x, "runs", s->runs);
        junit_property(x, "failures", s->fail);
        junit_property(x, "errors", s->error);
        junit_property(x, "skipped", s->skip);
        junit_property(x, "failure_rate", s->fail_rate);
        junit_property(x, "failure_rate_wilson95_low", s->fail_low);
        junit_property(x, "failure_rate_wilson95_high", s->fail_high);
        junit_property(x, "downtime_ms_p50", s->downtime.p50);
        junit_property(x, "downtime_ms_p95", s->downtime.p95);
        junit_property(x, "downtime_ms_max", s->downtime.max);
        junit_property(x, "observed_downtime_ms_p50", s->observed.p50);
        junit_property(x, "observed_downtime_ms_p95", s->observed.p95);
        junit_property(x, "observed_downtime_ms_max", s->observed.max);
        g_string_append(x, "    </properties>\n");
        if (s->fail || s->error)
            g_string_append_printf(x, "    <%s message=\"%u of %u runs failed, %u errored "
                                   "(failure rate %.1f%%, 95%% interval %.1f-%.1f%%); "
                                   "first failing run %d\"/>\n",
                                   s->fail ? "failure" : "error", s->fail, s->runs, s->error,
                                   100 * s->fail_rate, 100 * s->fail_low, 100 * s->fail_high,
                                   s->first_fail_run);
        else if (!s->pass)
            g_string_append(x, "    <skipped message=\"every run was skipped\"/>\n");
        g_string_append(x, "  </testcase>\n");
    }
}

/* The hops' downtimes (QEMU's and, where measured, the guest's). */
static void hop_dists(const CaseResult *r, RepeatDist *down, RepeatDist *obs)
{
    g_autofree gint64 *d = g_new(gint64, r->hops->len + 1);
    g_autofree gint64 *o = g_new(gint64, r->hops->len + 1);
    guint no = 0;

    for (guint i = 0; i < r->hops->len; i++) {
        const HopResult *h = &g_array_index(r->hops, HopResult, i);
        d[i] = h->downtime_ms;
        if (h->observed_downtime_ms >= 0)
            o[no++] = h->observed_downtime_ms;
    }
    repeat_dist(d, r->hops->len, down);
    repeat_dist(o, no, obs);
}

void report_ping_pong_line(FILE *out, const CaseResult *r)
{
    RepeatDist down, obs;

    if (!r->hops)
        return;
    hop_dists(r, &down, &obs);
    fprintf(out, "    ping-pong: %u hops verified%s", r->hops->len,
            r->first_failing_hop ? "" : ", none failed");
    if (r->first_failing_hop)
        fprintf(out, ", hop %u failed", r->first_failing_hop);
    fprintf(out, "; downtime p50/p95/max %.0f/%.0f/%.0f ms, observed %.0f/%.0f/%.0f ms\n",
            down.p50, down.p95, down.max, obs.p50, obs.p95, obs.max);
}

void report_ping_pong_json(JsonBuilder *b, const CaseResult *r)
{
    RepeatDist down, obs;

    json_builder_set_member_name(b, "ping_pong");
    if (!r->hops) {
        json_builder_add_null_value(b);
        return;
    }
    hop_dists(r, &down, &obs);
    json_builder_begin_object(b);
    json_uint(b, "hops_verified", r->hops->len);
    json_uint(b, "first_failing_hop", r->first_failing_hop);
    json_dist(b, "downtime_ms", &down);
    json_dist(b, "observed_downtime_ms", &obs);
    json_builder_set_member_name(b, "per_hop");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->hops->len; i++) {
        const HopResult *h = &g_array_index(r->hops, HopResult, i);
        json_builder_begin_object(b);
        json_uint(b, "downtime_ms", h->downtime_ms);
        json_uint(b, "observed_downtime_ms", h->observed_downtime_ms);
        json_uint(b, "total_ms", h->total_ms);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}
