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

/* The server certificate's names (certtool template lines): 127.0.0.1
 * as the source dials it; another address (a mismatch); a DNS name only
 * reachable through tls-hostname. */
#define TLSCREDS_NAMES_LOCAL "cn = 127.0.0.1\nip_address = 127.0.0.1\ndns_name = localhost\n"
#define TLSCREDS_NAMES_OTHER "cn = 10.0.0.1\nip_address = 10.0.0.1\n"
#define TLSCREDS_HOSTNAME "migtest.example"
#define TLSCREDS_NAMES_HOSTNAME "cn = " TLSCREDS_HOSTNAME "\ndns_name = " TLSCREDS_HOSTNAME "\n"
/* The client certificate's distinguished name, as gnutls prints it. */
#define TLSCREDS_CLIENT_DN "O=migtest,CN=migtest client"

/* tlscreds_make_x509 with a server certificate for @server_names. */
gboolean tlscreds_make_x509_for(const char *dir, const char *server_names, GError **error);

/* In @dir: @ca_dir's CA and a server certificate it signs for @server_names. */
gboolean tlscreds_make_x509_server_variant(const char *ca_dir, const char *dir,
                                           const char *server_names, GError **error);

/* In @dir: only @ca_dir's CA certificate: a client without a certificate. */
gboolean tlscreds_make_x509_anon_client(const char *ca_dir, const char *dir, GError **error);

/* An x509 server endpoint with verify-peer on or off. */
char *tlscreds_x509_server_object(const char *dir, gboolean verify_peer);

/* "-object" value of an authz-simple that admits @identity (a DN). */
#define TLSCREDS_AUTHZ_ID "mt-authz"
char *tlscreds_authz_object(const char *identity);

/* "-object" value for a side: tls-creds-psk or tls-creds-x509, endpoint
 * client (source) or server (destination). */
char *tlscreds_object(gboolean x509, gboolean server, const char *dir);

#endif
