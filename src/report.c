/* report.c: table, JSON and JUnit output (see report.h). */
#include "report.h"

#include <json-glib/json-glib.h>
#include "report-repeat.h"

#define MiB (1024.0 * 1024.0)

void report_table_header(FILE *out)
{
    fprintf(out, "%-28s %-7s %-5s %8s %8s %7s %6s %8s %8s %5s %8s %5s %7s\n",
            "case", "outcome", "accel", "total_ms", "down_ms", "obs_ms", "setup",
            "MiB", "MB/s", "syncs", "pages", "diff", "verify");
}

void report_table_row(FILE *out, const CaseResult *r, gboolean verbose)
{
    fprintf(out, "%-28s %-7s %-5s %8" G_GINT64_FORMAT " %8" G_GINT64_FORMAT " %7" G_GINT64_FORMAT " %6"
            G_GINT64_FORMAT " %8.1f %8.1f %5" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT
            " %5" G_GUINT64_FORMAT " %5" G_GINT64_FORMAT "ms\n",
            r->name, outcome_name(r->outcome), r->accel, r->mig.total_ms,
            r->mig.downtime_ms, r->observed_downtime_ms, r->mig.setup_ms, r->mig.transferred_bytes / MiB,
            r->mig.throughput_mbps, r->mig.dirty_sync_count, r->exact.pages_compared,
            r->exact.pages_differing, r->verify_ms);
    if (r->reason)
        fprintf(out, "    %s: %s\n", outcome_name(r->outcome), r->reason);
    if (r->observed && verbose)
        fprintf(out, "    observed: %s\n", r->observed);
    if (r->coherency.warning)
        fprintf(out, "    warning: %s\n", r->coherency.warning);
    report_ping_pong_line(out, r);
    if (r->log_dir && r->outcome != OUTCOME_PASS)
        fprintf(out, "    logs: %s\n", r->log_dir);
}

void report_summary(FILE *out, GPtrArray *results)
{
    guint n[4] = { 0 };

    for (guint i = 0; i < results->len; i++)
        n[((CaseResult *)results->pdata[i])->outcome]++;
    fprintf(out, "%u passed, %u failed, %u skipped, %u errors\n",
            n[OUTCOME_PASS], n[OUTCOME_FAIL], n[OUTCOME_SKIP], n[OUTCOME_ERROR]);
}

static char *hex(const guint8 *b, guint n)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < n; i++)
        g_string_append_printf(s, "%02x", b[i]);
    return g_string_free(s, FALSE);
}

static void json_int(JsonBuilder *b, const char *k, gint64 v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_int_value(b, v);
}

static void json_str(JsonBuilder *b, const char *k, const char *v)
{
    json_builder_set_member_name(b, k);
    if (v)
        json_builder_add_string_value(b, v);
    else
        json_builder_add_null_value(b);
}

static void json_double(JsonBuilder *b, const char *k, double v)
{
    json_builder_set_member_name(b, k);
    json_builder_add_double_value(b, v);
}

static void json_sample(JsonBuilder *b, const MigrateSample *m)
{
    json_builder_begin_object(b);
    json_int(b, "t_ms", m->t_ms);
    json_str(b, "status", m->status);
    json_int(b, "transferred", m->transferred);
    json_int(b, "remaining", m->remaining);
    json_int(b, "total", m->total);
    json_int(b, "dirty_pages_rate", m->dirty_pages_rate);
    json_double(b, "mbps", m->mbps);
    json_int(b, "cpu_throttle_percentage", m->throttle_pct);
    json_int(b, "dirty_sync_count", m->dirty_sync_count);
    if (m->postcopy_requests >= 0)
        json_int(b, "postcopy_requests", m->postcopy_requests);
    json_int(b, "expected_downtime_ms", m->expected_downtime_ms);
    json_builder_end_object(b);
}

/* The timelines: query-migrate samples and the source's events, on one
 * clock (ms since the migrate command). */
static void json_series(JsonBuilder *b, const MigrateStats *m)
{
    json_builder_set_member_name(b, "samples");
    json_builder_begin_array(b);
    for (guint i = 0; m->samples && i < m->samples->len; i++)
        json_sample(b, &g_array_index(m->samples, MigrateSample, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "events");
    json_builder_begin_array(b);
    for (guint i = 0; m->events && i < m->events->len; i++) {
        const MigrateEvent *e = &g_array_index(m->events, MigrateEvent, i);
        json_builder_begin_object(b);
        json_int(b, "t_ms", e->t_ms);
        if (e->status)
            json_str(b, "status", e->status);
        else
            json_int(b, "pass", e->pass);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* The guest's heartbeat gap (and migtest's hold within it) on the
 * timelines' clock. */
static void json_gap(JsonBuilder *b, const CaseResult *r)
{
    gint64 t0 = r->mig.start_us;

    if (!r->gap_start_us || !t0)
        return;
    json_builder_set_member_name(b, "heartbeat_gap");
    json_builder_begin_object(b);
    json_int(b, "start_ms", (r->gap_start_us - t0) / 1000);
    json_int(b, "end_ms", (r->gap_end_us - t0) / 1000);
    if (r->hold_start_us) {
        json_int(b, "hold_start_ms", (r->hold_start_us - t0) / 1000);
        json_int(b, "hold_end_ms", (r->hold_end_us - t0) / 1000);
    }
    json_builder_end_object(b);
}

static void json_metrics(JsonBuilder *b, const CaseResult *r)
{
    json_builder_set_member_name(b, "metrics");
    json_builder_begin_object(b);
    json_int(b, "total_ms", r->mig.total_ms);
    json_int(b, "downtime_ms", r->mig.downtime_ms);
    json_int(b, "observed_downtime_ms", r->observed_downtime_ms);
    json_int(b, "setup_ms", r->mig.setup_ms);
    json_int(b, "transferred_bytes", (gint64)r->mig.transferred_bytes);
    json_builder_set_member_name(b, "throughput_mbps");
    json_builder_add_double_value(b, r->mig.throughput_mbps);
    json_int(b, "dirty_sync_count", (gint64)r->mig.dirty_sync_count);
    json_int(b, "wall_ms", r->wall_ms);
    json_series(b, &r->mig);
    json_gap(b, r);
    if (r->mig.libvirt) {
        json_builder_set_member_name(b, "libvirt");
        json_builder_add_value(b, json_node_init_object(json_node_alloc(), r->mig.libvirt));
    }
    json_builder_end_object(b);
}

static void json_hex64(JsonBuilder *b, const char *k, guint64 v)
{
    g_autofree char *s = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", v);

    json_str(b, k, s);
}

/* @full: also the page and how many of its bytes differ. */
static void json_diff(JsonBuilder *b, const ExactDiff *d, gboolean full)
{
    g_autofree char *s = hex(d->src, d->shown);
    g_autofree char *t = hex(d->dst, d->shown);

    json_builder_begin_object(b);
    json_hex64(b, "gpa", d->gpa);
    json_str(b, "src", s);
    json_str(b, "dst", t);
    if (full) {
        json_hex64(b, "page", d->gpa & ~(guint64)(MT_PAGE_SIZE - 1));
        json_int(b, "bytes_differing", d->bytes_differing);
    }
    json_builder_end_object(b);
}

/* Where guest RAM sits, for the page map. */
static void json_ram(JsonBuilder *b, const RamLayout *l)
{
    json_builder_set_member_name(b, "ram");
    json_builder_begin_array(b);
    for (guint i = 0; i < l->nsegs; i++) {
        json_builder_begin_object(b);
        json_hex64(b, "gpa", l->seg[i].gpa);
        json_int(b, "bytes", (gint64)l->seg[i].size);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void json_exact(JsonBuilder *b, const CaseResult *r)
{
    json_builder_set_member_name(b, "exact");
    if (!r->exact_ran) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    json_int(b, "pages_compared", (gint64)r->exact.pages_compared);
    json_int(b, "pages_differing", (gint64)r->exact.pages_differing);
    json_int(b, "elapsed_us", r->exact.elapsed_us);
    json_builder_set_member_name(b, "first_differing");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->exact.ndiffs; i++)
        json_diff(b, &r->exact.diffs[i], FALSE);
    json_builder_end_array(b);
    json_int(b, "differing_pages_limit", VERIFY_MAX_PAGES);
    json_builder_set_member_name(b, "differing_pages");
    json_builder_begin_array(b);
    for (guint i = 0; r->exact.pages && i < r->exact.pages->len; i++)
        json_diff(b, &g_array_index(r->exact.pages, ExactDiff, i), TRUE);
    json_builder_end_array(b);
    json_ram(b, &r->exact.layout);
    json_builder_end_object(b);
}

/* The words that broke the invariant, for the page map's second colour. */
static void json_invariant_evidence(JsonBuilder *b, const InvariantResult *inv)
{
    json_int(b, "violations", (gint64)inv->violations);
    if (inv->boundary_gpa)
        json_hex64(b, "boundary_gpa", inv->boundary_gpa);
    json_builder_set_member_name(b, "reported");
    json_builder_begin_array(b);
    for (guint i = 0; i < inv->nreported; i++) {
        json_builder_begin_object(b);
        json_hex64(b, "gpa", inv->reported[i].gpa);
        json_hex64(b, "expected", inv->reported[i].expected);
        json_hex64(b, "found", inv->reported[i].found);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static void json_verify(JsonBuilder *b, const CaseResult *r)
{
    json_builder_set_member_name(b, "verify");
    json_builder_begin_object(b);
    json_exact(b, r);
    json_builder_set_member_name(b, "invariant");
    if (r->invariant_ran) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "ok");
        json_builder_add_boolean_value(b, r->invariant.ok);
        json_str(b, "detail", r->invariant.detail);
        json_invariant_evidence(b, &r->invariant);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "selfcheck");
    if (r->selfcheck_ran) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "ok");
        json_builder_add_boolean_value(b, r->selfcheck.ok);
        json_builder_set_member_name(b, "errors");
        json_builder_begin_array(b);
        for (guint i = 0; i < r->selfcheck.errors->len; i++)
            json_builder_add_string_value(b, r->selfcheck.errors->pdata[i]);
        json_builder_end_array(b);
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_int(b, "elapsed_ms", r->verify_ms);
    json_builder_end_object(b);
}

static void json_coherency(JsonBuilder *b, const CaseResult *r)
{
    const CoherencyResult *co = &r->coherency;

    json_builder_set_member_name(b, "coherency");
    if (!r->coherency_ran) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    json_str(b, "policy", mmu_policy_name(co->policy));
    json_str(b, "fired", co->fired);
    json_str(b, "warning", co->warning);
    json_builder_set_member_name(b, "checks");
    json_builder_begin_array(b);
    for (guint i = 0; co->checks && i < co->checks->len; i++) {
        const CoherencyCheck *c = &g_array_index(co->checks, CoherencyCheck, i);
        json_builder_begin_object(b);
        json_str(b, "when", c->when);
        json_builder_set_member_name(b, "safe");
        json_builder_add_boolean_value(b, c->safe);
        json_str(b, "vcpus", c->detail);
        json_int(b, "vm_stopped_us", c->stopped_us);
        json_int(b, "gdbstub_held_us", c->session_us);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

static void json_window(JsonBuilder *b, const PayloadParams *w)
{
    if (!w->nranges)
        return;
    json_builder_set_member_name(b, "window");
    json_builder_begin_array(b);
    for (guint i = 0; i < w->nranges; i++) {
        json_builder_begin_object(b);
        json_hex64(b, "start", w->ranges[i].start);
        json_hex64(b, "end", w->ranges[i].end);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* The real link a case ran over (netns.h), or null for loopback. */
static void json_link(JsonBuilder *b, const CaseResult *r)
{
    static const char *const cuts[] = {
        [LINK_CUT_NONE] = NULL, [LINK_CUT_PRECOPY] = "precopy",
        [LINK_CUT_POSTCOPY] = "postcopy", [LINK_CUT_RECOVERY] = "postcopy+recovery",
    };

    json_builder_set_member_name(b, "link");
    if (!r->link) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_object(b);
    json_str(b, "kind", "veth between network namespaces");
    json_int(b, "delay_ms_each_way", r->link->delay_ms);
    json_int(b, "rate_mbit", r->link->rate_mbit);
    json_int(b, "loss_pct", r->link->loss_pct);
    json_str(b, "cut", cuts[r->link_cut]);
    json_str(b, "log", r->mig.link_log);
    json_builder_end_object(b);
}

static void json_case(JsonBuilder *b, const CaseResult *r)
{
    json_builder_begin_object(b);
    json_str(b, "name", r->name);
    json_str(b, "arch", r->arch);
    json_str(b, "accel", r->accel);
    json_str(b, "outcome", outcome_name(r->outcome));
    json_str(b, "reason", r->reason);
    json_str(b, "observed", r->observed);
    json_str(b, "src_qemu_version", r->src_version);
    json_str(b, "dst_qemu_version", r->dst_version);
    json_str(b, "migration_status", r->mig.final_status);
    json_window(b, &r->window);
    json_metrics(b, r);
    json_verify(b, r);
    json_coherency(b, r);
    json_link(b, r);
    report_ping_pong_json(b, r);
    json_str(b, "log_dir", r->log_dir);
    json_builder_end_object(b);
}

static void json_pending(JsonBuilder *b, const char *name)
{
    json_builder_begin_object(b);
    json_str(b, "name", name);
    json_str(b, "outcome", "error");
    json_str(b, "reason", "interrupted before it ran");
    json_builder_end_object(b);
}

JsonNode *report_json_new(GPtrArray *results, GPtrArray *pending, const ReportHost *host,
                          GPtrArray *repeat)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_str(b, "tool", "migtest " PROJECT_VERSION);
    json_builder_set_member_name(b, "host");
    json_builder_begin_object(b);
    json_str(b, "arch", host->host_arch);
    json_str(b, "kernel", host->kernel);
    /* Arm KVM hosts differ in FEAT_S2FWB: the CPU says which one this is. */
    json_str(b, "midr", host->midr);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "cases");
    json_builder_begin_array(b);
    for (guint i = 0; i < results->len; i++)
        json_case(b, results->pdata[i]);
    for (guint i = 0; pending && i < pending->len; i++)
        json_pending(b, pending->pdata[i]);
    json_builder_end_array(b);
    if (repeat)
        report_repeat_json(b, repeat);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

gboolean report_write_json(const char *path, JsonNode *root, GError **error)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();

    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    if (g_str_equal(path, "-")) {
        g_autofree char *text = json_generator_to_data(gen, NULL);
        if (printf("%s\n", text) < 0 || fflush(stdout) != 0) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot write the JSON "
                        "report to standard output");
            return FALSE;
        }
        return TRUE;
    }
    return json_generator_to_file(gen, path, error);
}

static void junit_case(GString *x, const CaseResult *r)
{
    g_autofree char *name = g_markup_escape_text(r->name, -1);
    g_autofree char *reason = g_markup_escape_text(r->reason ? r->reason : "", -1);
    static const char *const tag[] = {
        [OUTCOME_FAIL] = "failure", [OUTCOME_SKIP] = "skipped", [OUTCOME_ERROR] = "error",
    };

    g_string_append_printf(x, "  <testcase classname=\"migtest.%s\" name=\"%s\" "
                           "time=\"%.3f\">\n", r->arch, name, r->wall_ms / 1000.0);
    g_string_append_printf(x, "    <properties>\n"
                           "      <property name=\"accel\" value=\"%s\"/>\n"
                           "      <property name=\"downtime_ms\" value=\"%" G_GINT64_FORMAT "\"/>\n"
                           "      <property name=\"observed_downtime_ms\" value=\"%" G_GINT64_FORMAT "\"/>\n"
                           "      <property name=\"total_ms\" value=\"%" G_GINT64_FORMAT "\"/>\n"
                           "      <property name=\"pages_differing\" value=\"%" G_GUINT64_FORMAT "\"/>\n"
                           "    </properties>\n", r->accel, r->mig.downtime_ms,
                           r->observed_downtime_ms,
                           r->mig.total_ms, r->exact.pages_differing);
    if (r->outcome != OUTCOME_PASS)
        g_string_append_printf(x, "    <%s message=\"%s\"/>\n", tag[r->outcome], reason);
    g_string_append(x, "  </testcase>\n");
}

gboolean report_write_junit(const char *path, GPtrArray *results,
                            GPtrArray *pending, GPtrArray *repeat, GError **error)
{
    g_autoptr(GString) x = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    guint n[4] = { 0 }, npending = pending ? pending->len : 0;

    if (repeat) {               /* one testcase per repeated case */
        for (guint i = 0; i < repeat->len; i++) {
            const RepeatSummary *s = repeat->pdata[i];
            n[OUTCOME_FAIL] += s->fail > 0;
            n[OUTCOME_ERROR] += !s->fail && s->error;
            n[OUTCOME_SKIP] += !s->fail && !s->error && !s->pass;
        }
        g_string_append_printf(x, "<testsuite name=\"migtest\" tests=\"%u\" failures=\"%u\" "
                               "errors=\"%u\" skipped=\"%u\">\n", repeat->len,
                               n[OUTCOME_FAIL], n[OUTCOME_ERROR], n[OUTCOME_SKIP]);
        report_repeat_junit(x, repeat);
        g_string_append(x, "</testsuite>\n");
        return g_file_set_contents(path, x->str, x->len, error);
    }

    for (guint i = 0; i < results->len; i++)
        n[((CaseResult *)results->pdata[i])->outcome]++;
    g_string_append_printf(x, "<testsuite name=\"migtest\" tests=\"%u\" failures=\"%u\" "
                           "errors=\"%u\" skipped=\"%u\">\n", results->len + npending,
                           n[OUTCOME_FAIL], n[OUTCOME_ERROR] + npending, n[OUTCOME_SKIP]);
    for (guint i = 0; i < results->len; i++)
        junit_case(x, results->pdata[i]);
    for (guint i = 0; i < npending; i++) {
        g_autofree char *name = g_markup_escape_text(pending->pdata[i], -1);
        g_string_append_printf(x, "  <testcase classname=\"migtest\" name=\"%s\">\n"
                               "    <error message=\"interrupted before it ran\"/>\n"
                               "  </testcase>\n", name);
    }
    g_string_append(x, "</testsuite>\n");
    return g_file_set_contents(path, x->str, x->len, error);
}
