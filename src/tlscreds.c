/* tlscreds.c: TLS credentials for the TLS cases (see tlscreds.h). */
#include "tlscreds.h"

#include <glib/gstdio.h>
#include "mt-error.h"

gboolean tlscreds_make_psk(const char *dir, const char *key_hex, GError **error)
{
    g_autofree char *path = g_build_filename(dir, "keys.psk", NULL);
    g_autofree char *text = g_strdup_printf("qemu:%s\n", key_hex);

    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create '%s'", dir);
        return FALSE;
    }
    return g_file_set_contents(path, text, -1, error);
}

static gboolean certtool(const char *dir, const char *const *args, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *err = NULL;
    int status;

    g_ptr_array_add(argv, (gpointer)"certtool");
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(dir, (char **)argv->pdata, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                      NULL, &err, &status, error))
        return FALSE;
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "certtool %s failed: %s", args[0],
                    err ? g_strstrip(err) : "");
        return FALSE;
    }
    return TRUE;
}

static gboolean write_template(const char *dir, const char *name, const char *text,
                               GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    return g_file_set_contents(path, text, -1, error);
}

static gboolean make_key(const char *dir, const char *out, GError **error)
{
    /* RSA, not ECDSA: QEMU >= 8 insists that a certificate whose key usage
     * is critical permits key encipherment, which ECDSA keys cannot do.
     * 2048 bits: generated in well under a second. */
    const char *args[] = { "--generate-privkey", "--key-type=rsa", "--bits=2048",
                           "--outfile", out, NULL };

    return certtool(dir, args, error);
}

static gboolean make_cert(const char *dir, const char *who, const char *info, GError **error)
{
    g_autofree char *key = g_strdup_printf("%s-key.pem", who);
    g_autofree char *cert = g_strdup_printf("%s-cert.pem", who);
    g_autofree char *tmpl = g_strdup_printf("%s.info", who);
    const char *args[] = { "--generate-certificate", "--load-privkey", key,
                           "--load-ca-certificate", "ca-cert.pem",
                           "--load-ca-privkey", "ca-key.pem",
                           "--template", tmpl, "--outfile", cert, NULL };

    return write_template(dir, tmpl, info, error) && make_key(dir, key, error) &&
           certtool(dir, args, error);
}

gboolean tlscreds_make_x509(const char *dir, GError **error)
{
    g_autofree char *tool = g_find_program_in_path("certtool");
    const char *ca_args[] = { "--generate-self-signed", "--load-privkey", "ca-key.pem",
                              "--template", "ca.info", "--outfile", "ca-cert.pem", NULL };

    if (!tool) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED,
                    "x509 needs certtool; install Debian's gnutls-bin");
        return FALSE;
    }
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create '%s'", dir);
        return FALSE;
    }
    return write_template(dir, "ca.info", "cn = migtest CA\nca\ncert_signing_key\n"
                          "expiration_days = 2\n", error) &&
           make_key(dir, "ca-key.pem", error) && certtool(dir, ca_args, error) &&
           make_cert(dir, "server", "organization = migtest\ncn = 127.0.0.1\n"
                     "ip_address = 127.0.0.1\ndns_name = localhost\ntls_www_server\n"
                     "encryption_key\nsigning_key\nexpiration_days = 2\n", error) &&
           make_cert(dir, "client", "organization = migtest\ncn = migtest client\n"
                     "tls_www_client\nencryption_key\nsigning_key\n"
                     "expiration_days = 2\n", error);
}

char *tlscreds_object(gboolean x509, gboolean server, const char *dir)
{
    return g_strdup_printf("%s,id=" TLSCREDS_ID ",endpoint=%s,dir=%s",
                           x509 ? "tls-creds-x509" : "tls-creds-psk",
                           server ? "server" : "client", dir);
}
