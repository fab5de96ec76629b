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

static gboolean make_dir(const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create '%s'", dir);
        return FALSE;
    }
    return TRUE;
}

static gboolean have_certtool(GError **error)
{
    g_autofree char *tool = g_find_program_in_path("certtool");

    if (!tool)
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED,
                    "x509 needs certtool; install Debian's gnutls-bin");
    return tool != NULL;
}

static gboolean make_server_cert(const char *dir, const char *names, GError **error)
{
    g_autofree char *info = g_strdup_printf("organization = migtest\n%s"
                                            "tls_www_server\nencryption_key\nsigning_key\n"
                                            "expiration_days = 2\n", names);

    return make_cert(dir, "server", info, error);
}

gboolean tlscreds_make_x509_for(const char *dir, const char *server_names, GError **error)
{
    const char *ca_args[] = { "--generate-self-signed", "--load-privkey", "ca-key.pem",
                              "--template", "ca.info", "--outfile", "ca-cert.pem", NULL };

    return have_certtool(error) && make_dir(dir, error) &&
           write_template(dir, "ca.info", "cn = migtest CA\nca\ncert_signing_key\n"
                          "expiration_days = 2\n", error) &&
           make_key(dir, "ca-key.pem", error) && certtool(dir, ca_args, error) &&
           make_server_cert(dir, server_names, error) &&
           make_cert(dir, "client", "organization = migtest\ncn = migtest client\n"
                     "tls_www_client\nencryption_key\nsigning_key\n"
                     "expiration_days = 2\n", error);
}

gboolean tlscreds_make_x509(const char *dir, GError **error)
{
    return tlscreds_make_x509_for(dir, TLSCREDS_NAMES_LOCAL, error);
}

static gboolean copy_file(const char *from_dir, const char *to_dir, const char *name,
                          GError **error)
{
    g_autofree char *from = g_build_filename(from_dir, name, NULL);
    g_autofree char *to = g_build_filename(to_dir, name, NULL);
    g_autofree char *data = NULL;
    gsize len;

    return g_file_get_contents(from, &data, &len, error) &&
           g_file_set_contents(to, data, len, error);
}

gboolean tlscreds_make_x509_server_variant(const char *ca_dir, const char *dir,
                                           const char *server_names, GError **error)
{
    return make_dir(dir, error) && copy_file(ca_dir, dir, "ca-cert.pem", error) &&
           copy_file(ca_dir, dir, "ca-key.pem", error) &&
           make_server_cert(dir, server_names, error);
}

gboolean tlscreds_make_x509_anon_client(const char *ca_dir, const char *dir, GError **error)
{
    return make_dir(dir, error) && copy_file(ca_dir, dir, "ca-cert.pem", error);
}

char *tlscreds_object(gboolean x509, gboolean server, const char *dir)
{
    return g_strdup_printf("%s,id=" TLSCREDS_ID ",endpoint=%s,dir=%s",
                           x509 ? "tls-creds-x509" : "tls-creds-psk",
                           server ? "server" : "client", dir);
}

char *tlscreds_x509_server_object(const char *dir, gboolean verify_peer)
{
    return g_strdup_printf("tls-creds-x509,id=" TLSCREDS_ID ",endpoint=server,dir=%s,"
                           "verify-peer=%s", dir, verify_peer ? "on" : "off");
}

char *tlscreds_authz_object(const char *identity)
{
    g_autoptr(GString) escaped = g_string_new(NULL);

    /* QEMU's option syntax: a comma inside a value is written twice. */
    for (const char *c = identity; *c; c++) {
        if (*c == ',')
            g_string_append_c(escaped, ',');
        g_string_append_c(escaped, *c);
    }
    return g_strdup_printf("authz-simple,id=" TLSCREDS_AUTHZ_ID ",identity=%s", escaped->str);
}
