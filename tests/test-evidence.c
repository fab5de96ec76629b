/*
 * test-evidence.c: the proofs behind the QEMU 10 coverage rows, without
 * QEMU.  The wiretap's TLS record parser accepts record streams and names
 * a plain migration stream; the wiretap itself relays both ways and
 * reports a plain connection among TLS ones; each evidence rule rejects
 * a run whose feature did not act (a plain stream, a sequential file, a
 * failure after the handshake, an uncapped throttle, a missing second
 * cancel) and accepts one where it did; the channels syntax is what QEMU's
 * MigrationAddress says.
 */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "evidence.h"
#include "migaddr.h"
#include "wiretap.h"

/* Three TLS records: a handshake, a change_cipher_spec, application data. */
static GByteArray *tls_stream(void)
{
    static const guint8 hs[] = { 22, 3, 1, 0, 4, 'a', 'b', 'c', 'd' };
    static const guint8 ccs[] = { 20, 3, 3, 0, 1, 1 };
    GByteArray *b = g_byte_array_new();
    guint8 app[5 + 300] = { 23, 3, 3, 300 >> 8, 300 & 0xff };

    g_byte_array_append(b, hs, sizeof(hs));
    g_byte_array_append(b, ccs, sizeof(ccs));
    g_byte_array_append(b, app, sizeof(app));
    return b;
}

static void test_parser_tls(void)
{
    g_autoptr(GByteArray) b = tls_stream();
    TlsRecordParser p = { 0 };

    /* Byte by byte: records split across reads are still records. */
    for (guint i = 0; i < b->len; i++)
        tls_record_parser_feed(&p, &b->data[i], 1);
    g_assert_false(p.bad);
    g_assert_false(p.qevm);
    g_assert_cmpuint(p.records, ==, 3);
}

static void test_parser_plain(void)
{
    static const guint8 plain[] = { 0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3, 5, 1, 2 };
    static const guint8 garbage[] = { 22, 3, 1, 0, 1, 'x', 99, 3, 3, 0, 0 };
    TlsRecordParser p = { 0 }, q = { 0 };

    tls_record_parser_feed(&p, plain, sizeof(plain));
    g_assert_true(p.bad);
    g_assert_true(p.qevm);
    g_assert_cmpuint(p.bad_offset, ==, 0);
    /* A valid record, then a content type TLS does not have. */
    tls_record_parser_feed(&q, garbage, sizeof(garbage));
    g_assert_true(q.bad);
    g_assert_false(q.qevm);
    g_assert_cmpuint(q.bad_offset, ==, 6);
}

/* A "destination" that echoes one reply and reads to EOF. */
static gpointer sink_main(gpointer data)
{
    int lfd = GPOINTER_TO_INT(data);

    for (int i = 0; i < 2; i++) {
        int fd = accept(lfd, NULL, NULL);
        guint8 buf[4096];
        static const guint8 reply[] = { 22, 3, 3, 0, 1, 'r' };

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(write(fd, reply, sizeof(reply)), ==, sizeof(reply));
        while (read(fd, buf, sizeof(buf)) > 0)
            ;
        close(fd);
    }
    return NULL;
}

static int connect_unix(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    strcpy(a.sun_path, path);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    return fd;
}

static void send_and_close(const char *path, const guint8 *data, gsize len)
{
    int fd = connect_unix(path);
    guint8 reply[6];

    g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
    g_assert_cmpint(read(fd, reply, sizeof(reply)), ==, sizeof(reply));
    shutdown(fd, SHUT_WR);
    while (read(fd, reply, sizeof(reply)) > 0)
        ;
    close(fd);
}

/* One TLS connection and one plain one: the report names the plain. */
static void test_wiretap_relays_and_judges(void)
{
    g_autofree char *dir = g_dir_make_tmp("migtest-wiretap-XXXXXX", NULL);
    g_autofree char *dst = g_build_filename(dir, "dst.sock", NULL);
    g_autofree char *tap_path = g_build_filename(dir, "tap.sock", NULL);
    g_autofree char *target = g_strdup_printf("unix:%s", dst);
    g_autoptr(GByteArray) tls = tls_stream();
    static const guint8 plain[] = { 0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3 };
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_autoptr(GError) error = NULL;
    WiretapReport r;
    Wiretap *w;
    GThread *sink;

    strcpy(a.sun_path, dst);
    g_assert_cmpint(bind(lfd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(lfd, 4), ==, 0);
    sink = g_thread_new("sink", sink_main, GINT_TO_POINTER(lfd));
    w = wiretap_start(target, tap_path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(wiretap_uri(w) + 5, ==, tap_path);
    send_and_close(tap_path, tls->data, tls->len);
    send_and_close(tap_path, plain, sizeof(plain));
    g_thread_join(sink);
    wiretap_stop(w, &r);
    g_assert_cmpuint(r.connections, ==, 2);
    g_assert_cmpuint(r.tls_connections, ==, 1);
    g_assert_cmpuint(r.plain_qevm, ==, 1);
    g_assert_cmpuint(r.bytes_up, ==, tls->len + sizeof(plain));
    g_assert_cmpuint(r.bytes_down, ==, 12);
    g_assert_nonnull(strstr(r.first_bad, "connection 1"));
    g_assert_nonnull(strstr(r.first_bad, "QEVM"));
    wiretap_report_clear(&r);
    close(lfd);
    unlink(dst);
    g_assert_cmpint(rmdir(dir), ==, 0);
}

static void test_wiretap_bad_target(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_null(wiretap_start("udp:1.2.3.4:5", NULL, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_USAGE);
}

static void expect_rejected(const CaseDesc *d, const MigrateStats *m, const char *why)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *seen = evidence_judge(d, m, 150 * 1024 * 1024, &error);

    g_assert_null(seen);
    g_assert_nonnull(error);
    if (!strstr(error->message, why))
        g_error("'%s' does not say '%s'", error->message, why);
}

static void expect_accepted(const CaseDesc *d, const MigrateStats *m)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *seen = evidence_judge(d, m, 150 * 1024 * 1024, &error);

    g_assert_no_error(error);
    g_assert_nonnull(seen);
}

static void test_evidence_wire(void)
{
    const CaseDesc d = { .name = "x", .observe = OBSERVE_WIRE_TLS };
    static const char *const multifd[] = { "multifd", NULL };
    CaseDesc dm = { .name = "x", .observe = OBSERVE_WIRE_TLS, .capabilities = multifd };
    MigrateStats m = { .wire_ran = TRUE, .wire_all_tls = FALSE, .wire_connections = 1,
                       .wire_summary = (char *)"1 connection, 0 all TLS records" };

    expect_rejected(&d, &m, "not encrypted on the wire");
    m.wire_all_tls = TRUE;
    expect_accepted(&d, &m);
    /* Multifd over TLS: one TLS connection alone is not multifd. */
    expect_rejected(&dm, &m, "multifd over TLS");
    m.wire_connections = 5;
    m.multifd_bytes = 1 << 20;
    expect_accepted(&dm, &m);
    m.wire_ran = FALSE;
    expect_rejected(&d, &m, "did not run");
}

static void test_evidence_handshake(void)
{
    const CaseDesc d = { .name = "x", .observe = OBSERVE_HANDSHAKE_FAILED };
    MigrateStats m = { .wire_ran = TRUE, .wire_all_tls = TRUE, .wire_bytes = 400,
                       .wire_bytes_down = 1500, .error_desc = (char *)"TLS handshake failed",
                       .wire_summary = (char *)"" };

    expect_accepted(&d, &m);
    m.wire_bytes = 99ull << 20;            /* RAM crossed: past the handshake */
    expect_rejected(&d, &m, "failed after the handshake");
    m.wire_bytes = 400;
    m.wire_bytes_down = 1 << 20;           /* the destination answered */
    expect_rejected(&d, &m, "failed after the handshake");
    m.wire_bytes_down = 1500;
    m.wire_all_tls = FALSE;                /* a plain stream that failed */
    expect_rejected(&d, &m, "not TLS");
}

static void test_evidence_file(void)
{
    const CaseDesc d = { .name = "x", .observe = OBSERVE_MAPPED_RAM };
    const CaseDesc off = { .name = "x", .observe = OBSERVE_MAPPED_RAM, .file_offset = 4096 };
    /* A plain stream of this guest: ~99 MiB written densely. */
    MigrateStats m = { .file_size = 104 << 20, .file_allocated = 104 << 20 };

    expect_rejected(&d, &m, "not mapped-ram");
    m.file_size = 151 << 20;               /* spans RAM, but dense */
    m.file_allocated = 151 << 20;
    expect_rejected(&d, &m, "not sparse");
    m.file_allocated = 100 << 20;
    expect_accepted(&d, &m);
    expect_rejected(&off, &m, "overwritten");
    m.file_prefix_kept = TRUE;
    expect_rejected(&off, &m, "no QEMU_VM_FILE_MAGIC");
    m.file_magic_at_offset = TRUE;
    expect_accepted(&off, &m);
}

/* direct-io: a file written through the page cache is rejected; the
 * fdset rows: a set QEMU still holds after remove-fd is rejected, and a
 * run whose fdsets were never checked cannot pass either. */
static void test_evidence_file_dio_fdset(void)
{
    const CaseDesc dio = { .name = "x", .observe = OBSERVE_MAPPED_RAM, .file_direct_io = TRUE };
    const CaseDesc fdset = { .name = "x", .observe = OBSERVE_MAPPED_RAM, .file_fdset = TRUE };
    const CaseDesc both = { .name = "x", .observe = OBSERVE_MAPPED_RAM, .file_fdset = TRUE,
                            .file_direct_io = TRUE };
    MigrateStats m = { .file_size = 151 << 20, .file_allocated = 100 << 20,
                       .file_cached = 100 << 20 };
    g_autoptr(GError) error = NULL;
    g_autofree char *seen = NULL;

    expect_rejected(&dio, &m, "not with O_DIRECT");
    m.file_cached = 26 << 20;              /* just over a quarter */
    expect_rejected(&dio, &m, "not with O_DIRECT");
    m.file_cached = 64 << 10;              /* the device state, buffered */
    expect_accepted(&dio, &m);
    expect_rejected(&fdset, &m, "never checked");
    m.fdset_checked = TRUE;
    m.fdset_left_dst = TRUE;
    expect_rejected(&fdset, &m, "on the destination");
    m.fdset_left_src = TRUE;
    expect_rejected(&both, &m, "source and destination");
    m.fdset_left_src = m.fdset_left_dst = FALSE;
    seen = evidence_judge(&both, &m, 150 * 1024 * 1024, &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(seen, "O_DIRECT"));
    g_assert_nonnull(strstr(seen, "fdsets released"));
}

static GPtrArray *statuses(const char *const *list)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);

    for (; *list; list++)
        g_ptr_array_add(a, g_strdup(*list));
    return a;
}

/* The double failure: the source's first resume failed (paused twice,
 * recover seen) and the destination's first recovery failed back to
 * paused; either half missing is rejected. */
static void test_evidence_recovered_again(void)
{
    const CaseDesc d = { .name = "x", .observe = OBSERVE_RECOVERED_AGAIN };
    static const char *const once[] = { "active", "postcopy-active", "postcopy-paused",
                                        "postcopy-recover", "postcopy-active", "completed",
                                        NULL };
    static const char *const twice[] = { "active", "postcopy-active", "postcopy-paused",
                                         "postcopy-recover", "postcopy-paused",
                                         "postcopy-recover", "postcopy-active", "completed",
                                         NULL };
    static const char *const dst_ok[] = { "postcopy-recover-setup", "postcopy-recover",
                                          "postcopy-paused", NULL };
    static const char *const dst_never[] = { "postcopy-recover-setup", "postcopy-paused",
                                             NULL };
    MigrateStats m = { .statuses = statuses(once), .dst_statuses = statuses(dst_ok) };

    expect_rejected(&d, &m, "no failed resume");
    g_ptr_array_unref(m.statuses);
    m.statuses = statuses(twice);
    expect_accepted(&d, &m);
    g_ptr_array_unref(m.dst_statuses);
    m.dst_statuses = statuses(dst_never);
    expect_rejected(&d, &m, "destination's first recovery");
    g_clear_pointer(&m.dst_statuses, g_ptr_array_unref);
    expect_rejected(&d, &m, "destination's first recovery");
    migrate_stats_clear(&m);
}

static void test_evidence_counters(void)
{
    const CaseDesc twice = { .name = "x", .observe = OBSERVE_CANCELLED_TWICE,
                             .cancel_at = "active", .cancel_again_at = "cancelling" };
    const CaseDesc cap = { .name = "x", .observe = OBSERVE_THROTTLE_CAPPED, .throttle_cap = 50 };
    const CaseDesc refused = { .name = "x", .observe = OBSERVE_REFUSED, .refused_with = "offset" };
    const CaseDesc channels = { .name = "x", .observe = OBSERVE_CHANNELS };
    const CaseDesc no_exit = { .name = "x", .observe = OBSERVE_DST_NO_EXIT };
    const CaseDesc limit = { .name = "x", .observe = OBSERVE_DIRTY_LIMIT };
    const CaseDesc blocktime = { .name = "x", .observe = OBSERVE_BLOCKTIME };
    MigrateStats m = { .cancelled_in = (char *)"active", .max_throttle_pct = 70,
                       .error_desc = (char *)"Parameter 'uri' is missing",
                       .channels_accepted = 1, .dst_status = (char *)"active",
                       .dst_blocktime_ms = -1 };

    expect_rejected(&twice, &m, "expected 'active' and 'cancelling'");
    m.cancelled_again_in = (char *)"cancelling";
    expect_accepted(&twice, &m);
    expect_rejected(&cap, &m, "peaked at 70");
    m.max_throttle_pct = 50;
    expect_accepted(&cap, &m);
    expect_rejected(&refused, &m, "expected 'offset'");
    m.error_desc = (char *)"Invalid offset";
    expect_accepted(&refused, &m);
    expect_rejected(&channels, &m, "only 1");
    m.channels_accepted = 2;
    expect_accepted(&channels, &m);
    expect_rejected(&no_exit, &m, "says 'active'");
    m.dst_status = (char *)"failed";
    m.dst_error_desc = (char *)"load of migration failed";
    expect_accepted(&no_exit, &m);
    expect_rejected(&limit, &m, "stayed 0");
    m.dirty_limit_us = 1200;
    expect_accepted(&limit, &m);
    expect_rejected(&blocktime, &m, "no postcopy-blocktime");
    m.dst_blocktime_ms = 0;
    expect_accepted(&blocktime, &m);
}

/* background-snapshot's dating: an image newer than the start, or a
 * source that hardly ran, is rejected. */
/* x-ignore-shared / cpr-transfer: shared RAM must not be sent.  Figures
 * from real runs on 10.0.2: 138401 bytes with one file, 112844 with
 * cpr-transfer's memfd; a run that copied the RAM sent ~200 MB. */
static void test_evidence_ignore_shared(void)
{
    const CaseDesc file = { .name = "x", .observe = OBSERVE_IGNORE_SHARED,
                            .ram = CASE_RAM_FILE_COMMON };
    const CaseDesc xfer = { .name = "x", .observe = OBSERVE_IGNORE_SHARED,
                            .ram = CASE_RAM_MEMFD, .cpr = CPR_TRANSFER };
    const CaseDesc memfd = { .name = "x", .observe = OBSERVE_IGNORE_SHARED,
                             .ram = CASE_RAM_MEMFD };
    MigrateStats m = { .transferred_bytes = 138401 };
    g_autoptr(GError) error = NULL;
    g_autofree char *seen = NULL;

    expect_accepted(&file, &m);
    m.transferred_bytes = 112844;
    expect_accepted(&xfer, &m);
    /* The feature did not act: the whole RAM crossed. */
    m.transferred_bytes = 150 * 1024 * 1024;
    expect_rejected(&file, &m, "copied, not shared");
    expect_rejected(&xfer, &m, "copied, not shared");
    m.transferred_bytes = EVIDENCE_SHARED_MAX_SENT;
    expect_rejected(&file, &m, "copied, not shared");
    /* Unshared RAM: described either way; exact judges what arrived. */
    m.transferred_bytes = 205722607;
    seen = evidence_judge(&memfd, &m, 150 * 1024 * 1024, &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(seen, "QEMU sent it"));
    g_free(seen);
    m.transferred_bytes = 21298;
    seen = evidence_judge(&memfd, &m, 150 * 1024 * 1024, &error);
    g_assert_nonnull(strstr(seen, "did not send it"));
}

static void test_point_in_time(void)
{
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    g_autofree char *ok = evidence_point_in_time(11, 10, 9, 35, &e1);
    g_autofree char *late = evidence_point_in_time(19, 10, 9, 35, &e2);
    g_autofree char *idle = evidence_point_in_time(11, 10, 9, 12, &e3);

    g_assert_no_error(e1);
    g_assert_nonnull(strstr(ok, "generation 11"));
    g_assert_null(late);
    g_assert_error(e2, MT_ERROR, MT_ERROR_VERIFY);
    g_assert_null(idle);
    g_assert_nonnull(strstr(e3->message, "too few"));
}

static char *channel_json(const char *uri)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) o = migaddr_channel_from_uri(uri, &error);
    g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);

    g_assert_no_error(error);
    json_node_set_object(n, o);
    return json_to_string(n, FALSE);
}

static void test_channels_syntax(void)
{
    struct { const char *uri, *json; } cases[] = {
        { "tcp:127.0.0.1:4444",
          "{\"transport\":\"socket\",\"type\":\"inet\",\"host\":\"127.0.0.1\",\"port\":\"4444\"}" },
        { "unix:/run/x.sock", "{\"transport\":\"socket\",\"type\":\"unix\",\"path\":\"/run/x.sock\"}" },
        { "fd:mt-mig", "{\"transport\":\"socket\",\"type\":\"fd\",\"str\":\"mt-mig\"}" },
        { "exec:cat > 'f'", "{\"transport\":\"exec\",\"args\":[\"/bin/sh\",\"-c\",\"cat > 'f'\"]}" },
        { "file:/tmp/s,offset=4096",
          "{\"transport\":\"file\",\"filename\":\"/tmp/s\",\"offset\":4096}" },
    };
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = channel_json(cases[i].uri);
        g_assert_cmpstr(got, ==, cases[i].json);
    }
    g_assert_null(migaddr_channel_from_uri("rdma:1.2.3.4:5", &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_USAGE);
    {
        g_autoptr(JsonObject) both = migaddr_args("unix:/x", MIGRATE_ADDR_BOTH, NULL);
        g_autoptr(JsonObject) none = migaddr_args("unix:/x", MIGRATE_ADDR_NEITHER, NULL);
        g_assert_true(json_object_has_member(both, "uri"));
        g_assert_true(json_object_has_member(both, "channels"));
        g_assert_cmpuint(json_object_get_size(none), ==, 0);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/evidence/parser/tls", test_parser_tls);
    g_test_add_func("/evidence/parser/plain", test_parser_plain);
    g_test_add_func("/evidence/wiretap/relay", test_wiretap_relays_and_judges);
    g_test_add_func("/evidence/wiretap/bad-target", test_wiretap_bad_target);
    g_test_add_func("/evidence/wire", test_evidence_wire);
    g_test_add_func("/evidence/handshake", test_evidence_handshake);
    g_test_add_func("/evidence/file", test_evidence_file);
    g_test_add_func("/evidence/file/dio-fdset", test_evidence_file_dio_fdset);
    g_test_add_func("/evidence/counters", test_evidence_counters);
    g_test_add_func("/evidence/recovered-again", test_evidence_recovered_again);
    g_test_add_func("/evidence/channels", test_channels_syntax);
    g_test_add_func("/evidence/point-in-time", test_point_in_time);
    g_test_add_func("/evidence/ignore-shared", test_evidence_ignore_shared);
    return g_test_run();
}
