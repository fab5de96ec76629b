/*
 * serial.h: the guest's serial stream.  migtest listens on a unix socket
 * that QEMU's chardev connects to, so not a byte is lost before we look;
 * a thread reads it, timestamps every byte on arrival, and decodes the
 * protocol of guest/migtest-abi.h ('A', 'B', 'E' records).
 */
#ifndef MIGTEST_SERIAL_H
#define MIGTEST_SERIAL_H

#include <glib.h>
#include "deadline.h"
#include "migtest-abi.h"

typedef struct {
    guint64 gpa;
    guint64 expected;
    guint64 found;
    gint64 time_us;             /* host monotonic time of arrival */
} SerialError;

/* The protocol decoder, separate from any socket so it can be tested.
 * Byte mode decodes the assembly payloads' protocol (guest/migtest-abi.h);
 * line mode the linux payload's console (docs/linux-guest.md): MTSTART
 * counts as 'A', worker 0's MTPASS as 'B' and worker i's as vCPU i's
 * beat (vcpu_beats), MTERR as an error record, MTHB lines are
 * heartbeats, and any other non-empty line (the kernel at KERN_ERR or
 * worse, with quiet loglevel=4) is junk whose first line is kept. */
typedef struct {
    gboolean lines;             /* line mode */
    guint a_count;
    guint s_count;              /* 'S': the guest is about to suspend (S3) */
    guint r_count;              /* 'R': it started again on the wake-up */
    GArray *b_times;            /* gint64 arrival time of each 'B' */
    /* Several vCPUs: beats per vCPU ([0] counts the 'B's, [i] the
     * MT_SERIAL_VCPU_BEAT(i) bytes), and the arrival of every beat of any
     * vCPU, in order (the guest's finest clock across a switchover). */
    guint vcpu_beats[MT_MAX_VCPUS];
    GArray *beat_times;
    GArray *errors;             /* SerialError */
    guint junk_bytes;           /* bytes outside the protocol */
    guint bad_records;          /* 'E' records that did not parse */
    char rec[64];
    guint rec_len;              /* > 0 while inside an 'E' record */
    GString *line;              /* line mode: the line so far */
    GArray *hb_times;           /* line mode: gint64 arrival of each MTHB */
    GArray *hb_seqs;            /* line mode: guint64 seq of each MTHB */
    GArray *hb_workers;         /* line mode: guint worker of each MTHB (0: none named) */
    char *first_junk;           /* line mode: the first foreign line */
    gboolean first_line_junk;   /* line mode: ... and it was the stream's first */
    guint lines_seen;
} SerialParser;

void serial_parser_init(SerialParser *p);
void serial_parser_init_lines(SerialParser *p);
void serial_parser_clear(SerialParser *p);
void serial_parser_feed(SerialParser *p, const guint8 *buf, gsize len,
                        gint64 now_us);
/* Format an error record for messages: "E at 0x... expected 0x... found 0x...". */
char *serial_error_describe(const SerialError *e);

typedef struct Serial Serial;

/* Listen on @path (created, must not exist) and decode whatever a
 * connecting QEMU sends; the raw stream is also appended to @log_path. */
Serial *serial_listen(const char *path, const char *log_path, GError **error);
/* Same, choosing the decoder: @lines for the linux payload's console. */
Serial *serial_listen_full(const char *path, const char *log_path, gboolean lines,
                           GError **error);
/* A Serial with no socket of its own: its bytes arrive from elsewhere
 * (the libvirt backend's agent relays the guest's socket from another
 * host) through serial_relay_feed(), stamped by the caller on arrival;
 * serial_relay_close() marks the stream ended.  Everything below works on
 * it unchanged. */
Serial *serial_new_relayed(const char *log_path, gboolean lines, GError **error);
void serial_relay_feed(Serial *s, const guint8 *buf, gsize len, gint64 now_us);
void serial_relay_close(Serial *s);
void serial_free(Serial *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Serial, serial_free)

typedef struct {
    guint a;
    guint b;
    guint errors;
    guint junk;
    gboolean closed;            /* QEMU closed its end */
    guint vcpu_b[MT_MAX_VCPUS]; /* beats per vCPU; [0] == b */
    guint suspends;             /* 'S' */
    guint resumes;              /* 'R' */
} SerialCounts;

void serial_counts(Serial *s, SerialCounts *out);

/* Wait until at least @b_target 'B' have arrived.  Fails on deadline or
 * when the stream closes first; the message names @who and the counts. */
gboolean serial_wait_b(Serial *s, guint b_target, const char *who,
                       Deadline deadline, GError **error);

/* Several vCPUs: wait until vCPU i (0 <= i < @nvcpus) has beaten at least
 * @targets[i] times, or @deadline; TRUE if all had.  Not an error either
 * way: the selfcheck names a vCPU that stayed silent. */
gboolean serial_wait_vcpu_beats(Serial *s, guint nvcpus, const guint *targets,
                                Deadline deadline);
/* Several vCPUs (@nvcpus > 1): wait until every vCPU has beaten once,
 * i.e. has written its slice of the window once, or @deadline.  As
 * serial_wait_vcpu_beats: the selfcheck names one that stayed silent. */
void serial_wait_every_vcpu_once(Serial *s, guint nvcpus, Deadline deadline);
/* Wait until at least @target of the guest-suspend bytes @byte
 * (MT_SERIAL_SUSPEND or MT_SERIAL_RESUME) have arrived; as serial_wait_b. */
gboolean serial_wait_suspend_byte(Serial *s, guint8 byte, guint target, const char *who,
                                  Deadline deadline, GError **error);

/* Copies of the decoded records (free with g_array_unref). */
GArray *serial_errors_dup(Serial *s);
GArray *serial_b_times_dup(Serial *s);
/* The arrival (gint64) of every beat of any vCPU ('B' and '1' .. '7'). */
GArray *serial_beat_times_dup(Serial *s);
/* Line mode: heartbeat arrival times (gint64) and sequence numbers
 * (guint64); the first foreign line or NULL (new string). */
GArray *serial_hb_times_dup(Serial *s);
GArray *serial_hb_seqs_dup(Serial *s);
char *serial_first_junk_dup(Serial *s);

/* Line mode, across a migration, for each of @workers /init workers
 * (docs/linux-guest.md): both sides sent heartbeats, the destination's
 * first carries the source's last seq + 1 (else it resumed from older
 * guest state), and none comes from a worker the guest does not run.
 * FALSE with the worker and the seqs named.  serial_hb_continue is the
 * same on the decoded arrays (hb_seqs, hb_workers of two parsers). */
gboolean serial_heartbeats_continue(Serial *src, Serial *dst, guint workers,
                                    const char *dst_name, GError **error);
gboolean serial_hb_continue(GArray *src_seqs, GArray *src_workers, GArray *dst_seqs,
                            GArray *dst_workers, guint workers, const char *dst,
                            GError **error);

/* Line mode, across a migration: the source may have sent the start of a
 * line and the destination its end.  If @dst's first line was foreign and
 * @src's unfinished line joined to it makes a line of ours, decode the
 * joined line on @dst instead; returns TRUE if it did. */
gboolean serial_join_switchover(Serial *src, Serial *dst);

#endif
