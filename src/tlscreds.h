/*
 * tlscreds.h: TLS credentials for the TLS cases, made fresh in the run
 * directory: a PSK file per side, or an x509 CA with a server and a
 * client certificate made at run time by certtool (gnutls-bin).  Returns
 * the -object arguments QEMU needs (id "mt-tls").
 */
#ifndef MIGTEST_TLSCREDS_H
#define MIGTEST_TLSCREDS_H

#include <glib.h>

/* Write keys.psk under @dir (created) holding @key_hex for user "qemu". */
gboolean tlscreds_make_psk(const char *dir, const char *key_hex, GError **error);

/* Make ca-cert.pem, server-{cert,key}.pem, client-{cert,key}.pem under
 * @dir with certtool; MT_ERROR_UNSUPPORTED if certtool is missing. */
gboolean tlscreds_make_x509(const char *dir, GError **error);

/* The id of the credentials object, as migrate-set-parameters names it. */
#define TLSCREDS_ID "mt-tls"

/* "-object" value for a side: tls-creds-psk or tls-creds-x509, endpoint
 * client (source) or server (destination). */
char *tlscreds_object(gboolean x509, gboolean server, const char *dir);

#endif
