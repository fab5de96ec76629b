/* suspend.c: guest suspend across a migration (see suspend.h). */
#include "suspend.h"

#include "migtest-abi.h"

SuspendDstStep suspend_dst_step(const char *runstate)
{
    if (g_strcmp0(runstate, "paused") == 0)
        return SUSPEND_DST_CONT;
    if (g_strcmp0(runstate, "suspended") == 0)
        return SUSPEND_DST_WAKE;
    return SUSPEND_DST_LOST;
}

char *suspend_guest_woke(const SerialCounts *now, guint b_asleep, const char *who)
{
    if (now->resumes == 0 && now->b == b_asleep && now->errors == 0)
        return NULL;
    return g_strdup_printf("the %s guest ran while it should sleep: it sent %u 'R', %u 'B' "
                           "and %u 'E' since %s (a suspended guest sends nothing)", who,
                           now->resumes, now->b - MIN(now->b, b_asleep), now->errors,
                           b_asleep ? "its 'S'" : "the migration");
}

gboolean suspend_source_asleep(Pair *p, guint *b_at_suspend, GString *observed,
                               GError **error)
{
    Serial *src = pair_serial(p, SIDE_SRC);
    g_autofree char *state = NULL;
    SerialCounts c;

    if (!serial_wait_suspend_byte(src, MT_SERIAL_SUSPEND, 1, pair_side_name(p, SIDE_SRC),
                                  p->spec->deadline, error) ||
        !pair_wait_event(p, SIDE_SRC, "SUSPEND", error) ||
        !(state = pair_runstate(p, SIDE_SRC, error)))
        return FALSE;
    if (!g_str_equal(state, "suspended")) {
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "src: runstate '%s' after the "
                    "guest's S3 request and QEMU's SUSPEND event, expected 'suspended'",
                    state);
        return FALSE;
    }
    serial_counts(src, &c);
    *b_at_suspend = c.b;
    g_string_append_printf(observed, "src suspended after pass %u (SUSPEND, runstate "
                           "suspended)", c.b);
    return TRUE;
}

gboolean suspend_both_asleep(Pair *p, guint b_at_suspend, GError **error)
{
    g_autofree char *src = NULL;
    g_autofree char *dst = NULL;
    g_autofree char *state = NULL;
    SerialCounts c;

    serial_counts(pair_serial(p, SIDE_SRC), &c);
    src = suspend_guest_woke(&c, b_at_suspend, "src");
    serial_counts(pair_serial(p, SIDE_DST), &c);
    dst = suspend_guest_woke(&c, 0, "dst");
    if (!src && !dst)
        return TRUE;
    state = pair_runstate(p, SIDE_DST, NULL);
    g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "%s%s%s, before any system_wakeup "
                "(dst runstate '%s')", src ? src : "", src && dst ? "; " : "",
                dst ? dst : "", state ? state : "?");
    return FALSE;
}

/* A destination that lost the suspended state: how long to watch what
 * the guest does (its S3 spin is ~3 s under TCG, then 3 passes of ~10 ms). */
#define LOST_WATCH_MS 15000
#define LOST_WATCH_PASSES 3

static gboolean is_s3_record(const SerialError *e)
{
    return e->gpa == MT_S3_RECORD;
}

/* The evidence for a finding: QEMU's answer to system_wakeup, and what
 * the guest sent while it ran on without the wake-up (all of the
 * destination's stream: it ran only since cont).  New string. */
static char *lost_guest_did(Pair *p)
{
    Serial *dst = pair_serial(p, SIDE_DST);
    Deadline watch = deadline_min(p->spec->deadline, deadline_in_ms(LOST_WATCH_MS));
    g_autoptr(GError) wake_err = NULL;
    g_autoptr(GArray) errs = NULL;
    gboolean s3_record = FALSE;
    SerialCounts c;

    pair_wakeup(p, SIDE_DST, &wake_err);
    serial_wait_b(dst, LOST_WATCH_PASSES, pair_side_name(p, SIDE_DST), watch, NULL);
    serial_counts(dst, &c);
    errs = serial_errors_dup(dst);
    for (guint i = 0; i < errs->len; i++)
        s3_record = s3_record || is_s3_record(&g_array_index(errs, SerialError, i));
    return g_strdup_printf("system_wakeup: %s; since cont the guest sent %u 'R', %u 'B', "
                           "%u 'E'%s", wake_err ? wake_err->message : "accepted", c.resumes,
                           c.b, c.errors,
                           s3_record ? " (its vCPU kept running after the S3 request: no "
                                       "wake-up, no reset)" : "");
}

/* The destination back to "suspended": "cont" for one -S held paused. */
static gboolean dst_suspended(Pair *p, GString *observed, GError **error)
{
    g_autofree char *before = pair_runstate(p, SIDE_DST, error);
    g_autofree char *after = NULL;

    if (!before)
        return FALSE;
    switch (suspend_dst_step(before)) {
    case SUSPEND_DST_CONT:
        if (!pair_resume(p, SIDE_DST, error) || !(after = pair_runstate(p, SIDE_DST, error)))
            return FALSE;
        break;
    case SUSPEND_DST_WAKE:
        after = g_strdup(before);
        break;
    case SUSPEND_DST_LOST:
        break;
    }
    if (suspend_dst_step(after) != SUSPEND_DST_WAKE) {
        g_autofree char *did = g_strcmp0(after, "running") == 0 ? lost_guest_did(p) : NULL;

        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "dst: runstate '%s'%s%s%s after "
                    "migrating a suspended guest, expected 'suspended': the destination "
                    "lost the guest's suspended state%s%s", before, after ? ", then '" : "",
                    after ? after : "", after ? "' after cont" : "", did ? "; " : "",
                    did ? did : "");
        return FALSE;
    }
    g_string_append_printf(observed, "; dst %s%s", before,
                           g_str_equal(before, after) ? "" : ", suspended after cont");
    return TRUE;
}

gboolean suspend_wake_destination(Pair *p, guint passes, GString *observed, GError **error)
{
    Serial *dst = pair_serial(p, SIDE_DST);
    const char *name = pair_side_name(p, SIDE_DST);
    SerialCounts c;

    if (!dst_suspended(p, observed, error))
        return FALSE;
    serial_counts(dst, &c);
    if (!pair_wakeup(p, SIDE_DST, error) || !pair_wait_event(p, SIDE_DST, "WAKEUP", error) ||
        !serial_wait_suspend_byte(dst, MT_SERIAL_RESUME, 1, name, p->spec->deadline, error) ||
        !serial_wait_b(dst, c.b + passes, name, p->spec->deadline, error))
        return FALSE;
    g_string_append_printf(observed, "; system_wakeup: WAKEUP, the guest resumed ('R') and "
                           "ran %u passes", passes);
    return TRUE;
}
