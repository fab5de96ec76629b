/* case-info.c: a catalogue case in words (see case-info.h). */
#include "case-info.h"

#include <json-glib/json-glib.h>
#include "backend.h"

#define MiB ((guint64)1024 * 1024)

static const BackendKind all_backends[] = { BACKEND_QEMU, BACKEND_LIBVIRT };

G_GNUC_PRINTF(2, 3)
static void add(GPtrArray *list, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(list, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static char *join_caps(const char *const *caps)
{
    return g_strjoinv(", ", (char **)caps);
}

static const char *fault_words(CaseFault f)
{
    static const char *const words[] = {
        [FAULT_NONE] = NULL,
        [FAULT_BAD_DESTINATION] = "fault: the source connects where nothing listens",
        [FAULT_UUID_MISMATCH] = "fault: the two sides have different -uuid",
        [FAULT_TLS_MISMATCH] = "fault: the two sides hold different pre-shared keys",
        [FAULT_CANCEL_BEFORE] = "migrate_cancel is sent before any migration",
        [FAULT_CANCEL_AFTER] = "migrate_cancel is sent after the migration completed",
        [FAULT_X509] = "fault: the x509 policy (host name, client certificate, authz) "
                       "refuses the handshake",
    };
    return words[f];
}

static void exercises_channel(const CaseDesc *d, GPtrArray *out)
{
    add(out, "transport %s", transport_name(d->transport));
    /* A suspended guest dirties nothing: its row switches during pass 1. */
    add(out, "%s%s", !d->postcopy ? "precopy"
                     : d->suspend ? "postcopy (migrate-start-postcopy during the first pass)"
                                  : "postcopy (migrate-start-postcopy after the first pass)",
        d->postcopy_recover ? ", paused with migrate-pause and resumed with migrate-recover"
                            : "");
    if (d->suspend)
        add(out, "the guest suspends itself (ACPI S3) after pass %u and migrates asleep; "
            "system_wakeup on the destination", d->suspend);
    if (d->stop_source_first)
        add(out, "the source is paused (stop) before migrate");
    if (d->capabilities) {
        g_autofree char *caps = join_caps(d->capabilities);
        add(out, "capabilities: %s", caps);
    }
    for (const MigrateParam *p = d->params; p && p->name; p++) {
        if (p->str)
            add(out, "parameter %s=%s%s", p->name, p->str, p->both_sides ? " (both sides)" : "");
        else
            add(out, "parameter %s=%" G_GINT64_FORMAT "%s", p->name, p->num,
                p->both_sides ? " (both sides)" : "");
    }
    if (d->max_bandwidth)
        add(out, "max-bandwidth %" G_GUINT64_FORMAT " MiB/s%s", d->max_bandwidth / MiB,
            d->release_when || d->release_after_mmu_off
            ? ", lifted once the feature has acted" : "");
    if (d->downtime_limit_ms)
        add(out, "downtime-limit %" G_GUINT64_FORMAT " ms", d->downtime_limit_ms);
    if (d->tls != TLS_NONE)
        add(out, "TLS credentials: %s", d->tls == TLS_PSK ? "pre-shared key" : "x509");
    if (d->uuid)
        add(out, "both sides get a -uuid");
}

/* x-ignore-shared and cpr rows: the RAM backend and what happens to it. */
static void exercises_ram(const CaseDesc *d, GPtrArray *out)
{
    static const char *const ram[] = {
        [CASE_RAM_FILE_COMMON] = "one tmpfs file both QEMUs map (memory-backend-file "
                                 "share=on)",
        [CASE_RAM_MEMFD] = "memory-backend-memfd share=on", [CASE_RAM_ANON_SHARED] =
        "memory-backend-ram share=on", [CASE_RAM_ANON_PRIVATE] = "memory-backend-ram share=off",
    };

    if (d->ram != CASE_RAM_DEFAULT)
        add(out, "guest RAM: %s", ram[d->ram]);
    if (d->cpr == CPR_REBOOT)
        add(out, "the source quits after saving; a QEMU started only then loads the file "
            "onto the same RAM");
    if (d->cpr == CPR_TRANSFER || d->cpr == CPR_TRANSFER_DEFER)
        add(out, "a target started while the source runs gets its memfd over a cpr channel"
            "%s", d->cpr == CPR_TRANSFER_DEFER ? ", main channel by migrate-incoming" : "");
    if (d->machine_props)
        add(out, "-machine %s", d->machine_props);
}

static void exercises_guest(const CaseInstance *c, GPtrArray *out)
{
    const CaseDesc *d = c->desc;

    if (d->linux_guest)
        add(out, "guest: Debian's stock kernel with migtest's /init (migtest-fetch-kernel)");
    else
        add(out, "guest: payload variant %s", d->variant ? d->variant : c->arch->default_variant);
    if (d->hot_pages)
        add(out, "a hot set of %u pages rewritten between sweep steps%s", d->hot_pages,
            d->hot_op == MT_HOT_ATOMIC ? ", with atomic read-modify-writes" : "");
    if (d->linux_guest && d->hot_op == MT_HOT_ATOMIC)
        add(out, "/init's hot set (16 pages) updated with atomic read-modify-writes");
    if (d->zero_every)
        add(out, "runs of %u pages zeroed every %u passes (method %u, %s) and "
            "written back later", d->zero_pages, d->zero_every, d->zero_method,
            d->linux_guest ? "docs/linux-guest.md: madvise or stores" : "migtest-abi.h");
    if (d->canaries)
        add(out, "the guest checks canaries in SIMD and control registers every pass");
    if (d->devprobe)
        add(out, "the guest programs device and chipset registers and checks them every "
            "pass (docs/payloads.md)");
    if (d->machine)
        add(out, "machine %s (unless --machine says otherwise)", d->machine);
    if (d->fill == MT_FILL_FULL)
        add(out, "every word of every page is a function of its address and generation "
            "(fill=full), so the invariant checks whole pages");
    if (d->mmu_off_after)
        add(out, "the guest turns its MMU off after %u passes", d->mmu_off_after);
    if (d->coherency_case)
        add(out, "coherency guard policy %s", mmu_policy_name(d->mmu_policy));
    if (d->cancel_at)
        add(out, "migrate_cancel on reaching '%s'", d->cancel_at);
    if (d->hold_active_ms)
        add(out, "held active for %" G_GINT64_FORMAT " ms, then cancelled", d->hold_active_ms);
    if (d->continue_at_pre_switchover)
        add(out, "migrate-continue from pre-switchover");
    if (fault_words(d->fault))
        add(out, "%s", fault_words(d->fault));
    exercises_ram(d, out);
}

static const char *observe_words(CaseObserve o)
{
    static const char *const words[] = {
        [OBSERVE_NOTHING] = NULL,
        [OBSERVE_STOPPED_SOURCE] = "the source's vCPUs were stopped before migrate",
        [OBSERVE_THROTTLE] = "cpu-throttle-percentage rose above 0",
        [OBSERVE_XBZRLE] = "xbzrle encoded at least one page",
        [OBSERVE_MULTIFD] = "multifd sent bytes",
        [OBSERVE_POSTCOPY] = "the status went through postcopy-active",
        [OBSERVE_RECOVERED] = "the status went through postcopy-paused, then postcopy-recover",
        [OBSERVE_PRE_SWITCHOVER] = "the status reached pre-switchover",
        [OBSERVE_DIRTY_RING] = "calc-dirty-rate in dirty-ring mode measured a rate",
        [OBSERVE_STAYED_ACTIVE] = "the migration was still active after the hold",
        [OBSERVE_CANCELLED_IN] = "migrate_cancel was issued in the named state",
        [OBSERVE_TLS] = "tls-creds was in force on the source",
        [OBSERVE_WIRE_TLS] = "every byte relayed between the sides was a TLS record",
        [OBSERVE_HANDSHAKE_FAILED] = "only a TLS handshake crossed the wire before it failed",
        [OBSERVE_MAPPED_RAM] = "the file spans all RAM and is sparse (mapped-ram), or the "
                               "bytes before the offset survived",
        [OBSERVE_REFUSED] = "QEMU's error names what the row expects",
        [OBSERVE_DIRTY_LIMIT] = "dirty-limit-throttle-time-per-round rose above 0",
        [OBSERVE_BLOCKTIME] = "the destination reported postcopy-blocktime",
        [OBSERVE_DST_NO_EXIT] = "the destination stayed up and reported 'failed'",
        [OBSERVE_CANCELLED_TWICE] = "a second migrate_cancel was sent in the named state",
        [OBSERVE_THROTTLE_CAPPED] = "cpu-throttle-percentage reached max-cpu-throttle, "
                                    "never more",
        [OBSERVE_CHANNELS] = "migrate and migrate-incoming took 'channels'",
        [OBSERVE_ZERO_PAGES] = "ram.duplicate is 0 with zero-page-detection none, above 0 "
                               "otherwise",
        [OBSERVE_TRACE] = "the named trace event fired on the source",
        [OBSERVE_POINT_IN_TIME] = "the image the destination loaded holds the generation "
                                  "of when migrate started, while the source ran on",
        [OBSERVE_CANCEL_REFUSED] = "QEMU refused migrate_cancel in the named state",
        [OBSERVE_RECOVERED_AGAIN] = "a failed resume went back to postcopy-paused, then "
                                    "the recovery completed",
        [OBSERVE_IGNORE_SHARED] = "RAM both QEMUs share was not sent (ram.transferred "
                                  "< 4 MiB); RAM nobody shares must still arrive",
        [OBSERVE_SUSPENDED] = "the guest suspended (S3) on the source and was woken on the "
                              "destination",
    };
    /* A kind added without words here reads as none, never past the end. */
    return (guint)o < G_N_ELEMENTS(words) ? words[o] : NULL;
}

static void asserts_verifiers(const CaseDesc *d, GPtrArray *out)
{
    CaseVerify mask = d->verify ? d->verify : VERIFY_ALL;

    if (mask & VERIFY_EXACT && d->ram != CASE_RAM_DEFAULT)
        add(out, "exact: with the destination stopped, every byte of its RAM equals a copy "
            "of the source's RAM taken at stop (one shared RAM compared with itself would "
            "prove nothing)");
    else if (mask & VERIFY_EXACT)
        add(out, "exact: with both sides stopped, every byte of guest RAM is equal");
    if (mask & VERIFY_INVARIANT)
        add(out, "invariant: the destination's window is one consistent state of the sweep");
    if (mask & VERIFY_SELFCHECK)
        add(out, "selfcheck: the resumed destination checks every page itself and "
            "reports no mismatch");
    if (d->linux_guest)
        add(out, "the kernel logs no error line and its heartbeats continue across the "
            "switchover");
}

static void asserts_for(const CaseDesc *d, GPtrArray *out)
{
    static const char *const end[] = {
        [EXPECT_COMPLETED] = "completed", [EXPECT_FAILED] = "failed",
        [EXPECT_CANCELLED] = "cancelled", [EXPECT_REFUSED] = "refused (migrate errs)",
    };

    if (d->fault == FAULT_CANCEL_BEFORE)
        add(out, "QEMU accepts migrate_cancel with no migration");
    if (d->coherency_case && d->mmu_policy == MMU_POLICY_REFUSE && d->expect_fired) {
        add(out, "the coherency guard refuses the migration at %s (a skip naming the vCPU "
            "and its SCTLR) and the source runs on", d->expect_fired);
        return;
    }
    add(out, "the migration ends '%s'", end[d->expect]);
    if (d->fault == FAULT_CANCEL_AFTER)
        add(out, "migrate_cancel afterwards leaves it completed");
    if (d->cancel_after_end)
        add(out, "migrate_cancel afterwards leaves it %s", end[d->expect]);
    if (observe_words(d->observe))
        add(out, "%s", observe_words(d->observe));
    if (d->coherency_case)
        add(out, d->expect_fired ? "the coherency guard acts at %s"
                                 : "the coherency guard does not act%s",
            d->expect_fired ? d->expect_fired : "");
    if (d->expect == EXPECT_COMPLETED) {
        asserts_verifiers(d, out);
    } else {
        add(out, "the source keeps running and its selfcheck is clean");
        add(out, "a second migration to a fresh destination then completes");
    }
}

/* What probe_side() (probe.c) asks of both QEMUs before the case runs. */
static void qemu_needs(const CaseDesc *d, CaseInfo *info)
{
    if (d->min_version)
        info->min_qemu = g_strdup_printf("%d.%d.%d", d->min_version / 10000,
                                         d->min_version / 100 % 100, d->min_version % 100);
    for (guint i = 0; d->capabilities && d->capabilities[i]; i++)
        add(info->qemu_needs, "capability %s", d->capabilities[i]);
    for (const MigrateParam *p = d->params; p && p->name; p++)
        add(info->qemu_needs, "parameter %s", p->name);
    for (const MigrateParam *p = d->params; p && p->name; p++)
        if (p->str && g_str_equal(p->name, "multifd-compression"))
            add(info->qemu_needs, "multifd compression %s built in", p->str);
    if (d->postcopy_recover)
        add(info->qemu_needs, "command migrate-recover");
    if (d->observe == OBSERVE_DIRTY_RING)
        add(info->qemu_needs, "command calc-dirty-rate");
}

CaseInfo *case_info_new(const CaseInstance *c)
{
    const CaseDesc *d = c->desc;
    CaseInfo *info = g_new0(CaseInfo, 1);

    info->summary = d->summary;
    info->exercises = g_ptr_array_new_with_free_func(g_free);
    info->asserts = g_ptr_array_new_with_free_func(g_free);
    info->accels = g_ptr_array_new_with_free_func(g_free);
    info->backends = g_ptr_array_new_with_free_func(g_free);
    info->qemu_needs = g_ptr_array_new_with_free_func(g_free);
    exercises_channel(d, info->exercises);
    exercises_guest(c, info->exercises);
    asserts_for(d, info->asserts);
    /* A stock kernel runs under TCG only: write_linux_payload (runner.c)
     * skips it under KVM. */
    if (d->only_accel)
        add(info->accels, "%s", d->only_accel);
    else if (!d->linux_guest)
        add(info->accels, "kvm");
    if (!d->only_accel)
        add(info->accels, "tcg");
    for (guint i = 0; i < G_N_ELEMENTS(all_backends); i++)
        if (!backend_cannot_run(all_backends[i], d))
            add(info->backends, "%s", backend_name(all_backends[i]));
    qemu_needs(d, info);
    return info;
}

void case_info_free(CaseInfo *info)
{
    if (!info)
        return;
    g_ptr_array_unref(info->exercises);
    g_ptr_array_unref(info->asserts);
    g_ptr_array_unref(info->accels);
    g_ptr_array_unref(info->backends);
    g_ptr_array_unref(info->qemu_needs);
    g_free(info->min_qemu);
    g_free(info);
}

static void print_list(FILE *out, const char *label, GPtrArray *items, const char *sep)
{
    fprintf(out, "    %s", label);
    for (guint i = 0; i < items->len; i++)
        fprintf(out, "%s%s", i ? sep : "", (char *)items->pdata[i]);
    fputc('\n', out);
}

void case_info_print_long(FILE *out, GPtrArray *cases)
{
    for (guint i = 0; i < cases->len; i++) {
        const CaseInstance *c = cases->pdata[i];
        g_autoptr(CaseInfo) info = case_info_new(c);

        fprintf(out, "%s%s\n    %s\n", c->name, c->desc->smoke ? "  (smoke)" : "",
                info->summary);
        print_list(out, "exercises: ", info->exercises, "; ");
        print_list(out, "passes if: ", info->asserts, "; ");
        print_list(out, "accelerators: ", info->accels, ", ");
        print_list(out, "backends: ", info->backends, ", ");
        fprintf(out, "    qemu: %s%s", info->min_qemu ? ">= " : "any version",
                info->min_qemu ? info->min_qemu : "");
        for (guint n = 0; n < info->qemu_needs->len; n++)
            fprintf(out, "%s%s", n ? ", " : " with ", (char *)info->qemu_needs->pdata[n]);
        fputc('\n', out);
    }
}

static void json_strings(JsonBuilder *b, const char *member, GPtrArray *items)
{
    json_builder_set_member_name(b, member);
    json_builder_begin_array(b);
    for (guint i = 0; i < items->len; i++)
        json_builder_add_string_value(b, items->pdata[i]);
    json_builder_end_array(b);
}

static void json_case_info(JsonBuilder *b, const CaseInstance *c)
{
    g_autoptr(CaseInfo) info = case_info_new(c);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, c->name);
    json_builder_set_member_name(b, "arch");
    json_builder_add_string_value(b, c->arch->name);
    json_builder_set_member_name(b, "smoke");
    json_builder_add_boolean_value(b, c->desc->smoke);
    json_builder_set_member_name(b, "summary");
    json_builder_add_string_value(b, info->summary);
    json_strings(b, "exercises", info->exercises);
    json_strings(b, "asserts", info->asserts);
    json_strings(b, "accelerators", info->accels);
    json_strings(b, "backends", info->backends);
    json_builder_set_member_name(b, "qemu");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "min_version");
    if (info->min_qemu)
        json_builder_add_string_value(b, info->min_qemu);
    else
        json_builder_add_null_value(b);
    json_strings(b, "needs", info->qemu_needs);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

char *case_info_json_dup(GPtrArray *cases)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "cases");
    json_builder_begin_array(b);
    for (guint i = 0; i < cases->len; i++)
        json_case_info(b, cases->pdata[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    return json_generator_to_data(gen, NULL);
}
