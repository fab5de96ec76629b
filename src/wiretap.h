/*
 * wiretap.h: a relay between a migration's source and its destination
 * that proves what crossed the wire.  The source connects to the wiretap
 * instead of the destination (tcp on 127.0.0.1, or a unix socket); every
 * connection it accepts (main stream, multifd channels, the postcopy
 * preempt channel) is relayed byte for byte to the real address, one
 * thread per direction, and each direction is parsed as a sequence of TLS
 * records (type 20..23, version 3.x, 16-bit length).  A stream that is
 * TLS from its first to its last byte was encrypted; a plain migration
 * stream starts with QEMU_VM_FILE_MAGIC ("QEVM", 0x5145564d) and is named
 * as such.  This is the "stream was encrypted" proof for the TLS rows,
 * stronger than reading tls-creds back.
 */
#ifndef MIGTEST_WIRETAP_H
#define MIGTEST_WIRETAP_H

#include <glib.h>

typedef struct Wiretap Wiretap;

/* Relay to @target_uri ("tcp:HOST:PORT" or "unix:PATH").  Listens on
 * tcp:127.0.0.1:<free port>, or on unix:@listen_path when the target is
 * a unix socket.  New; free with wiretap_stop(). */
Wiretap *wiretap_start(const char *target_uri, const char *listen_path, GError **error);

/* The URI the source must connect to. */
const char *wiretap_uri(Wiretap *w);

typedef struct {
    guint connections;          /* accepted from the source */
    guint tls_connections;      /* whose upstream was TLS records throughout */
    guint plain_qevm;           /* whose upstream began with the QEVM magic */
    guint64 bytes_up;           /* source to destination, all connections */
    guint64 bytes_down;
    char *first_bad;            /* the first connection that was not TLS, and why */
} WiretapReport;

void wiretap_report_clear(WiretapReport *r);

/* Close everything, join the threads, fill @out; NULL-safe. */
void wiretap_stop(Wiretap *w, WiretapReport *out);

/* The parser on its own, for tests: feed bytes of one direction. */
typedef struct {
    guint64 offset;             /* bytes seen */
    guint8 header[5];
    guint header_len;           /* bytes of the current header seen */
    guint32 body_left;          /* bytes of the current record still to skip */
    guint64 records;
    gboolean bad;               /* not a TLS record stream */
    gboolean qevm;              /* began with QEMU_VM_FILE_MAGIC */
    guint64 bad_offset;
} TlsRecordParser;

void tls_record_parser_feed(TlsRecordParser *p, const guint8 *buf, gsize len);

#endif
