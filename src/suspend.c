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

char *suspend_source_woke(const SerialCounts *now, guint b_at_suspend)
{
    if (now->resumes == 0 && now->b == b_at_suspend && now->errors == 0)
        return NULL;
    return g_strdup_printf("the source guest woke up after the migration: since its 'S' it "
                           "sent %u 'R', %u 'B' and %u 'E' (a suspended guest sends "
                           "nothing)", now->resumes, now->b - MIN(now->b, b_at_suspend),
                           now->errors);
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

gboolean suspend_source_still_asleep(Pair *p, guint b_at_suspend, GError **error)
{
    g_autofree char *why = NULL;
    SerialCounts c;

    serial_counts(pair_serial(p, SIDE_SRC), &c);
    why = suspend_source_woke(&c, b_at_suspend);
    if (why)
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "%s", why);
    return why == NULL;
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
        g_set_error(error, MT_ERROR, MT_ERROR_MIGRATION, "dst: runstate '%s'%s%s%s after "
                    "migrating a suspended guest, expected 'suspended': the destination "
                    "lost the guest's suspended state", before, after ? ", then '" : "",
                    after ? after : "", after ? "' after cont" : "");
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
