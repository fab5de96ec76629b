/*
 * progress.h: what -v and -vv say while a case runs, on stderr, so that
 * stdout keeps the table or the --json - report.  -v: each phase of a
 * case (boot, first pass, migrate, every migration status change,
 * verify, selfcheck, teardown) as one line with the wall-clock time and
 * the seconds since the case began; -vv adds every QMP message, both
 * directions.  A Progress belongs to one case and is read-only once
 * made: the level comes from RunOptions (the parsed -v count), so there
 * is no global state, and each line is written with one stdio call, so
 * lines of cases run in parallel (-j) do not mix.
 */
#ifndef MIGTEST_PROGRESS_H
#define MIGTEST_PROGRESS_H

#include <stdio.h>
#include <glib.h>

#define PROGRESS_PHASES 1       /* -v */
#define PROGRESS_QMP 2          /* -vv */

typedef struct {
    int level;                  /* 0: silent */
    const char *case_name;      /* borrowed */
    gint64 t0_us;               /* monotonic time the case began */
    FILE *out;                  /* stderr; a test may pass another */
} Progress;

/* A Progress for @case_name at @level, starting now, writing to stderr. */
Progress progress_start(int level, const char *case_name);

/* One phase line, if -v: "[12:34:56.789 +1.234s] /x86_64/precopy/tcp:
 * migrate: status active".  @p may be NULL (silent). */
G_GNUC_PRINTF(2, 3)
void progress_phase(const Progress *p, const char *fmt, ...);

/* One QMP message, if -vv.  @dir is ">" (to QEMU) or "<" (from QEMU);
 * @tag names the side.  Has the signature of a QmpTap, with @opaque the
 * Progress. */
void progress_qmp(gpointer opaque, const char *tag, const char *dir, const char *text,
                  gsize len);

#endif
