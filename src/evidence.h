/*
 * evidence.h: did a QEMU 10-era feature act?  Judged from what migrate.c
 * recorded while driving the migration (MigrateStats), so each rule is a
 * pure function a unit test can feed a run that did not use the feature
 * and see rejected:
 *   wire TLS        every byte the wiretap relayed was a TLS record;
 *   handshake fail  only a TLS handshake's worth crossed, and it failed;
 *   mapped-ram      the file spans all guest RAM and is sparse (a plain
 *                   stream is shorter than RAM: zero pages are 9 bytes);
 *   file offset     the bytes before the offset survived, the stream
 *                   starts there with QEMU_VM_FILE_MAGIC;
 *   refused         QEMU's error names what the row says it must;
 *   dirty-limit     dirty-limit-throttle-time-per-round rose above 0;
 *   blocktime       the destination reported postcopy-blocktime;
 *   no-exit         the destination stayed up and reported 'failed';
 *   ignore-shared   RAM both QEMUs share was not sent (ram.transferred
 *                   < 4 MiB); RAM each has its own is described, and exact
 *                   against the copy at stop judges what arrived.
 */
#ifndef MIGTEST_EVIDENCE_H
#define MIGTEST_EVIDENCE_H

#include "cases.h"

/* A failed TLS handshake, as the wire shows it.  The server's side
 * (destination to source) is its handshake alone: certificates and
 * alerts, a few KiB.  The client's side may be more: under TLS 1.3 the
 * client finishes first and streams RAM into the socket buffers (a few
 * MiB on loopback) before the server's verdict on its certificate or
 * its authz reaches it.  A migration that got past the handshake moves
 * the whole ~99 MiB window, and its destination answers on the return
 * path. */
#define EVIDENCE_HANDSHAKE_MAX_DOWN (64 * 1024)
#define EVIDENCE_HANDSHAKE_MAX_UP (16 * 1024 * 1024)

/* x-ignore-shared and cpr-transfer: RAM both QEMUs share is not sent;
 * device state and the stream's framing are.  QEMU's ignore-shared qtest
 * allows 4 MiB (misc-tests.c); here 110-140 KB cross for 150 MiB. */
#define EVIDENCE_SHARED_MAX_SENT (4 * 1024 * 1024)

/* The observation for @d's observe kind (one of the kinds above), as a
 * new string, or NULL with @error saying what was seen instead.
 * @mem_bytes: guest RAM size. */
char *evidence_judge(const CaseDesc *d, const MigrateStats *m, guint64 mem_bytes,
                     GError **error);

/* The first line of @stderr_path (a QEMU's stderr) naming trace @event,
 * new; NULL with @error if it never fired. */
char *evidence_trace(const char *stderr_path, const char *event, GError **error);

/* background-snapshot.  QEMU's snapshot thread reports 'active', then
 * stops the vCPUs, write-protects RAM and resumes them (migration.c,
 * bg_migration_thread): the image is the guest as of just after
 * 'active'.  It may hold a page of the pass the guest was in then, or of
 * the next (a 'B' reaches us a little after its pass ended): its
 * generation is at most the passes before 'active' + this slack. */
#define EVIDENCE_POINT_IN_TIME_SLACK 2

/* Source passes (@b_times, monotonic us of each 'B') before the source
 * reported @status in @m's events; @fallback if it never did. */
guint evidence_passes_before(const MigrateStats *m, GArray *b_times, const char *status,
                             guint fallback);

/* The observation, or NULL with @error: MT_ERROR_VERIFY if @generation
 * (the loaded image's) is newer than @at_active allows, MT_ERROR_MIGRATION
 * if the source ran too few passes (to @at_end) to date it. */
char *evidence_point_in_time(guint64 generation, guint at_active, guint at_migrate,
                             guint at_end, GError **error);

#endif
