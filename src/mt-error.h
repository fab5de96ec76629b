/*
 * mt-error.h: the GError domain shared by every migtest module.  The code
 * says what kind of failure it is, so the runner can map it to an outcome
 * (FAIL for the system under test, SKIP for a missing feature, ERROR for
 * the harness) without parsing messages.
 */
#ifndef MIGTEST_MT_ERROR_H
#define MIGTEST_MT_ERROR_H

#include <glib.h>

#define MT_ERROR (mt_error_quark())
GQuark mt_error_quark(void);

typedef enum {
    MT_ERROR_TIMEOUT,       /* a deadline passed: message names what was awaited */
    MT_ERROR_QMP,           /* QEMU answered a command with an error */
    MT_ERROR_PROTOCOL,      /* a peer sent something malformed */
    MT_ERROR_DISCONNECTED,  /* a peer hung up */
    MT_ERROR_PEER_DIED,     /* a QEMU process exited or was killed */
    MT_ERROR_MIGRATION,     /* the migration itself failed */
    MT_ERROR_VERIFY,        /* a verifier found wrong guest memory */
    MT_ERROR_UNSUPPORTED,   /* this QEMU/host cannot run it: a SKIP */
    MT_ERROR_ENV,           /* bad environment: missing binary, no space... */
    MT_ERROR_USAGE,         /* bad command line */
    MT_ERROR_INTERRUPTED,   /* a signal asked us to stop */
} MtErrorCode;

#endif
