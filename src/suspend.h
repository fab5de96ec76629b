/*
 * suspend.h: guest suspend (x86 ACPI S3) across a migration, for rows
 * with CaseDesc.suspend (guest/migtest-abi.h, "Guest suspend").
 *
 * Before the migration the source guest must have suspended itself: its
 * 'S' on the serial line, QEMU's SUSPEND event, runstate "suspended".
 * After it both guests must still be asleep (the source sent nothing
 * since its 'S', the destination nothing at all: QEMU before 9.0 wakes
 * the guest during the migration); then, after exact and the invariant,
 * the destination must hold the guest suspended (QEMU >= 9.0 keeps it
 * "paused" under -S until "cont" puts it back to "suspended"), take
 * system_wakeup (WAKEUP), and the guest must come back ('R') and run its
 * passes, the first of which checks every page against the generation
 * it saved before the suspend.
 */
#ifndef MIGTEST_SUSPEND_H
#define MIGTEST_SUSPEND_H

#include "backend.h"

/* What the runner does with a destination in @runstate before waking
 * it (pure). */
typedef enum {
    SUSPEND_DST_CONT,       /* "paused" (-S): cont, which must give "suspended" */
    SUSPEND_DST_WAKE,       /* "suspended": system_wakeup */
    SUSPEND_DST_LOST,       /* anything else: the suspended state was lost */
} SuspendDstStep;

SuspendDstStep suspend_dst_step(const char *runstate);

/* A guest (@who: "src", "dst") from its serial counts since its 'S' (its
 * 'B' count then: @b_asleep; the destination's stream starts empty, so
 * 0): NULL if it stayed asleep, else why not (new string; pure). */
char *suspend_guest_woke(const SerialCounts *now, guint b_asleep, const char *who);

/* Wait until the source guest has suspended: 'S', SUSPEND, runstate
 * "suspended".  *@b_at_suspend gets its 'B' count then.  Appends what it
 * saw to @observed. */
gboolean suspend_source_asleep(Pair *p, guint *b_at_suspend, GString *observed,
                               GError **error);

/* With the migration completed, before exact: FAIL if either guest ran
 * (suspend_guest_woke): a source woken by the migration runs behind the
 * destination's back, a destination woken without system_wakeup ran
 * before exact could compare it. */
gboolean suspend_both_asleep(Pair *p, guint b_at_suspend, GError **error);

/* Wake the destination (see the top) and wait for @passes passes after
 * the guest's 'R'; appends what it saw to @observed. */
gboolean suspend_wake_destination(Pair *p, guint passes, GString *observed, GError **error);

#endif
