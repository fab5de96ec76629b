/*
 * test-serial.c: the serial protocol decoder (pure) and the Serial
 * listener on a unix socket in a temporary directory, driven by a client
 * socket that plays the part of QEMU's chardev.  Every wait has a deadline.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "serial.h"
#include "devprobe.h"
#include "mt-error.h"
#include "migtest-abi.h"
#include "watchdog.h"

#define OK_MS           2000
#define SHORT_MS        200
#define EARLY_SLACK_MS  20
#define LATE_SLACK_MS   1500
/* Three fields, as the guest prints them. */
#define REC_GPA      "0000000000100000"
#define REC_EXPECTED "0000000000000002"
#define REC_FOUND    "deadbeefcafef00d"
#define RECORD       "E" REC_GPA " " REC_EXPECTED " " REC_FOUND "\n"

static gint64 elapsed_ms_since(gint64 t0)
{
    return (g_get_monotonic_time() - t0) / 1000;
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        g_error("'%s' does not contain '%s'", haystack, needle);
}

static void feed_str(SerialParser *p, const char *s, gint64 now)
{
    serial_parser_feed(p, (const guint8 *)s, strlen(s), now);
}

static void assert_parser_counts(SerialParser *p, guint a, guint b, guint errors,
                                 guint junk, guint bad)
{
    g_assert_cmpuint(p->a_count, ==, a);
    g_assert_cmpuint(p->b_times->len, ==, b);
    g_assert_cmpuint(p->errors->len, ==, errors);
    g_assert_cmpuint(p->junk_bytes, ==, junk);
    g_assert_cmpuint(p->bad_records, ==, bad);
}

/* ---- the parser ------------------------------------------------------------ */

static void test_parser_a_b(void)
{
    SerialParser p;

    serial_parser_init(&p);
    assert_parser_counts(&p, 0, 0, 0, 0, 0);
    feed_str(&p, "A", 100);
    feed_str(&p, "B", 200);
    feed_str(&p, "B", 350);
    assert_parser_counts(&p, 1, 2, 0, 0, 0);
    g_assert_cmpint(g_array_index(p.b_times, gint64, 0), ==, 200);
    g_assert_cmpint(g_array_index(p.b_times, gint64, 1), ==, 350);

    /* Several in one chunk share the chunk's arrival time. */
    feed_str(&p, "BAB", 900);
    assert_parser_counts(&p, 2, 4, 0, 0, 0);
    g_assert_cmpint(g_array_index(p.b_times, gint64, 2), ==, 900);
    g_assert_cmpint(g_array_index(p.b_times, gint64, 3), ==, 900);
    g_assert_cmpuint(p.rec_len, ==, 0);
    serial_parser_clear(&p);
    g_assert_null(p.b_times);
    g_assert_null(p.errors);
    serial_parser_clear(&p);            /* idempotent */
}

static void assert_record(const SerialError *e, guint64 gpa, guint64 expected,
                          guint64 found, gint64 time_us)
{
    g_assert_cmphex(e->gpa, ==, gpa);
    g_assert_cmphex(e->expected, ==, expected);
    g_assert_cmphex(e->found, ==, found);
    g_assert_cmpint(e->time_us, ==, time_us);
}

static void test_parser_record(void)
{
    SerialParser p;

    g_assert_cmpuint(strlen(RECORD), ==, MT_ERR_LEN);
    serial_parser_init(&p);
    feed_str(&p, "A" RECORD "B", 42);
    assert_parser_counts(&p, 1, 1, 1, 0, 0);
    assert_record(&g_array_index(p.errors, SerialError, 0), 0x100000, 0x2,
                  0xdeadbeefcafef00dULL, 42);

    /* Extremes: all zeros, all ones, every hex digit. */
    feed_str(&p, "E0000000000000000 ffffffffffffffff 0123456789abcdef\n", 43);
    feed_str(&p, "Efedcba9876543210 0000000000000001 8000000000000000\n", 44);
    assert_parser_counts(&p, 1, 1, 3, 0, 0);
    assert_record(&g_array_index(p.errors, SerialError, 1), 0, G_MAXUINT64,
                  0x0123456789abcdefULL, 43);
    assert_record(&g_array_index(p.errors, SerialError, 2), 0xfedcba9876543210ULL, 1,
                  0x8000000000000000ULL, 44);
    serial_parser_clear(&p);
}

static void test_parser_record_bytewise(void)
{
    const char *stream = "AB" RECORD "B" RECORD;
    gsize len = strlen(stream);
    SerialParser p;

    /* One byte per call: the record is stamped with its last byte's time. */
    serial_parser_init(&p);
    for (gsize i = 0; i < len; i++) {
        serial_parser_feed(&p, (const guint8 *)stream + i, 1, 1000 + (gint64)i);
        /* Nothing is reported before the record's final '\n'. */
        if (i < 2 + MT_ERR_LEN - 1)
            g_assert_cmpuint(p.errors->len, ==, 0);
    }
    assert_parser_counts(&p, 1, 2, 2, 0, 0);
    assert_record(&g_array_index(p.errors, SerialError, 0), 0x100000, 0x2,
                  0xdeadbeefcafef00dULL, 1000 + 2 + MT_ERR_LEN - 1);
    assert_record(&g_array_index(p.errors, SerialError, 1), 0x100000, 0x2,
                  0xdeadbeefcafef00dULL, 1000 + (gint64)len - 1);
    g_assert_cmpint(g_array_index(p.b_times, gint64, 0), ==, 1001);
    g_assert_cmpint(g_array_index(p.b_times, gint64, 1), ==, 1000 + 2 + MT_ERR_LEN);
    serial_parser_clear(&p);

    /* Every two-chunk split of a record decodes the same. */
    for (gsize cut = 0; cut <= MT_ERR_LEN; cut++) {
        serial_parser_init(&p);
        serial_parser_feed(&p, (const guint8 *)RECORD, cut, 1);
        serial_parser_feed(&p, (const guint8 *)RECORD + cut, MT_ERR_LEN - cut, 2);
        assert_parser_counts(&p, 0, 0, 1, 0, 0);
        assert_record(&g_array_index(p.errors, SerialError, 0), 0x100000, 0x2,
                      0xdeadbeefcafef00dULL, cut == MT_ERR_LEN ? 1 : 2);
        serial_parser_clear(&p);
    }
}

static void test_parser_malformed(void)
{
    static const char *const bad[] = {
        /* uppercase hex */
        "E00000000001000AB 0000000000000002 deadbeefcafef00d\n",
        "E0000000000100000 0000000000000002 DEADBEEFCAFEF00D\n",
        /* wrong separators */
        "E0000000000100000,0000000000000002 deadbeefcafef00d\n",
        "E0000000000100000 0000000000000002\tdeadbeefcafef00d\n",
        /* no newline where it belongs */
        "E0000000000100000 0000000000000002 deadbeefcafef00d ",
        "E0000000000100000 0000000000000002 deadbeefcafef00d\r",
        /* non-hex digits */
        "E000000000010000g 0000000000000002 deadbeefcafef00d\n",
        "E0000000000100000 00000000000000-2 deadbeefcafef00d\n",
        "E0000000000100000 0000000000000002 deadbeefcafef00 \n",
        "E 000000000100000 0000000000000002 deadbeefcafef00d\n",
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        SerialParser p;

        g_test_message("record %u: %s", i, bad[i]);
        g_assert_cmpuint(strlen(bad[i]), ==, MT_ERR_LEN);
        serial_parser_init(&p);
        feed_str(&p, bad[i], 5);
        assert_parser_counts(&p, 0, 0, 0, 0, 1);
        /* The decoder carries on after it. */
        feed_str(&p, "AB" RECORD "B", 6);
        assert_parser_counts(&p, 1, 2, 1, 0, 1);
        assert_record(&g_array_index(p.errors, SerialError, 0), 0x100000, 0x2,
                      0xdeadbeefcafef00dULL, 6);
        serial_parser_clear(&p);
    }
}

static void test_parser_junk(void)
{
    static const guint8 junk[] = { 'x', '\n', 0, 0xff, 'a', 'b', 'e', ' ', 0x80, 'C' };
    SerialParser p;

    serial_parser_init(&p);
    serial_parser_feed(&p, junk, sizeof(junk), 1);
    assert_parser_counts(&p, 0, 0, 0, sizeof(junk), 0);
    feed_str(&p, "zAzBz" RECORD "zz", 2);
    assert_parser_counts(&p, 1, 1, 1, sizeof(junk) + 5, 0);
    /* An empty feed changes nothing. */
    serial_parser_feed(&p, junk, 0, 3);
    assert_parser_counts(&p, 1, 1, 1, sizeof(junk) + 5, 0);
    serial_parser_clear(&p);
}

static void test_parser_describe(void)
{
    SerialError e = { .gpa = 0x100000, .expected = 2, .found = 0xdeadbeefcafef00dULL };
    g_autofree char *d = serial_error_describe(&e);

    g_assert_cmpstr(d, ==, "guest reported E at gpa 0x100000: expected "
                    "0x0000000000000002 found 0xdeadbeefcafef00d");
}

/* CPU-state canary records name their register instead of an address. */
static void test_parser_describe_register(void)
{
    SerialError v = { .gpa = MT_REG_RECORD + MT_REG_VEC + 2 * 12 + 1, .expected = 1,
                      .found = 2 };
    SerialError x = { .gpa = MT_REG_RECORD + MT_REG_SYS + MT_SYS_X86_MXCSR,
                      .expected = MT_SYS_X86_MXCSR_VALUE, .found = 0x1f80 };
    SerialError a = { .gpa = MT_REG_RECORD + MT_REG_SYS + MT_SYS_ARM_FPCR };
    g_autofree char *dv = serial_error_describe(&v);
    g_autofree char *dx = serial_error_describe(&x);
    g_autofree char *da = serial_error_describe(&a);

    g_assert_cmpstr(dv, ==, "guest reported register SIMD register 12 (x86 xmm12, aarch64 "
                    "v12) bits 64..127 changed: expected 0x0000000000000001 found "
                    "0x0000000000000002");
    g_assert_cmpstr(dx, ==, "guest reported register x86 MXCSR changed: expected "
                    "0x0000000000007f80 found 0x0000000000001f80");
    g_assert_nonnull(strstr(da, "aarch64 FPCR"));
}

/* Device-probe records name the device and register (lock probes too);
 * an id no table knows keeps its numbers; a canary id is not one. */
static void test_parser_describe_device(void)
{
    SerialError c = { .gpa = MT_DEV_RECORD | MT_DEV_CMOS << 16 | 0x38, .expected = 0xa5,
                      .found = 0x55 };
    SerialError l = { .gpa = MT_DEV_RECORD | MT_DEV_Q35_MCH << 16 | 0x9d | MT_DEV_LOCK,
                      .expected = 0x1a, .found = 0xc5 };
    SerialError i = { .gpa = MT_DEV_RECORD | MT_DEV_IOAPIC << 16 | 0x31 };
    SerialError u = { .gpa = MT_DEV_RECORD | 0x77 << 16 | 0x12 };
    g_autofree char *dc = serial_error_describe(&c);
    g_autofree char *dl = serial_error_describe(&l);
    g_autofree char *di = serial_error_describe(&i);
    g_autofree char *du = serial_error_describe(&u);

    g_assert_cmpstr(dc, ==, "guest reported device register RTC/CMOS index 0x38 (NVRAM "
                    "byte) changed: expected 0xa5 found 0x55");
    g_assert_cmpstr(dl, ==, "guest reported device register q35 MCH 00:00.0 config 0x9d "
                    "(SMRAM) lock changed: expected 0x1a found 0xc5");
    g_assert_nonnull(strstr(di, "IOAPIC register 0x31 (redirection entry 16 high half)"));
    g_assert_nonnull(strstr(du, "device 0x77 register 0x12"));
    g_assert_false(devprobe_is_record(MT_REG_RECORD + MT_REG_SYS + MT_SYS_X86_MXCSR));
    g_assert_false(devprobe_is_record(0x100000));
}

/* ---- the listener ------------------------------------------------------------ */

/* serial_wait_b() must succeed; on failure, show why. */
#define WAIT_B_OK(call)                                                       \
    G_STMT_START {                                                          \
        gboolean ok_ = (call);                                              \
        g_assert_no_error(error);                                           \
        g_assert_true(ok_);                                                 \
    } G_STMT_END

typedef struct {
    char *dir;
    char *sock;
    char *log;
    Serial *serial;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gboolean with_log = GPOINTER_TO_INT(data) == 0;

    alarm(WATCHDOG_S);

    f->dir = g_dir_make_tmp("test-serial-XXXXXX", &error);
    g_assert_no_error(error);
    f->sock = g_build_filename(f->dir, "serial.sock", NULL);
    f->log = g_build_filename(f->dir, "serial.log", NULL);
    f->serial = serial_listen(f->sock, with_log ? f->log : NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f->serial);
    g_assert_true(g_file_test(f->sock, G_FILE_TEST_EXISTS));
    if (!with_log)
        g_clear_pointer(&f->log, g_free);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    serial_free(f->serial);
    /* serial_free removes its socket. */
    g_assert_false(g_file_test(f->sock, G_FILE_TEST_EXISTS));
    if (f->log)
        g_assert_cmpint(g_unlink(f->log), ==, 0);
    g_assert_cmpint(g_rmdir(f->dir), ==, 0);
    g_free(f->dir);
    g_free(f->sock);
    g_free(f->log);
    alarm(0);
}

static int client_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        g_error("connect %s: %s", path, g_strerror(errno));
    return fd;
}

static void client_write(int fd, const void *buf, gsize len)
{
    g_assert_cmpint(send(fd, buf, len, MSG_NOSIGNAL), ==, (gssize)len);
}

static void client_write_str(int fd, const char *s)
{
    client_write(fd, s, strlen(s));
}

typedef struct {
    int fd;
    guint count;
    guint gap_ms;
    Serial *serial;             /* if set: each 'B' read before the next is sent */
} Dripper;

/* Until @s has counted @b 'B' (FALSE after OK_MS). */
static gboolean counted_b(Serial *s, guint b)
{
    Deadline deadline = deadline_in_ms(OK_MS);
    SerialCounts c;

    for (serial_counts(s, &c); c.b < b; serial_counts(s, &c)) {
        if (deadline_expired(deadline))
            return FALSE;
        g_usleep(1000);
    }
    return TRUE;
}

/* Send @count 'B', one every @gap_ms.  With d->serial, each waits until
 * the reader has taken the one before: a loaded host may otherwise let two
 * arrive in one read, and share its arrival time. */
static gpointer drip_thread(gpointer opaque)
{
    Dripper *d = opaque;

    for (guint i = 0; i < d->count; i++) {
        if (d->serial && !counted_b(d->serial, i))
            return GINT_TO_POINTER(FALSE);
        g_usleep(d->gap_ms * 1000);
        if (send(d->fd, "B", 1, MSG_NOSIGNAL) != 1)
            return GINT_TO_POINTER(FALSE);
    }
    return GINT_TO_POINTER(TRUE);
}

static void test_listen_wait_b(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) times = NULL;
    Dripper d = { .count = 3, .gap_ms = 40, .serial = f->serial };
    SerialCounts c;
    GThread *thread;
    gint64 t0 = g_get_monotonic_time(), elapsed;

    (void)data;
    d.fd = client_connect(f->sock);
    client_write_str(d.fd, "A");
    thread = g_thread_new("drip", drip_thread, &d);
    WAIT_B_OK(serial_wait_b(f->serial, 3, "src", deadline_in_ms(OK_MS), &error));
    elapsed = elapsed_ms_since(t0);
    g_assert_no_error(error);
    g_assert_true(GPOINTER_TO_INT(g_thread_join(thread)));
    /* It waited for the third 'B' (sent after >= 120 ms), no longer. */
    g_assert_cmpint(elapsed, >=, 100);
    g_assert_cmpint(elapsed, <, OK_MS);

    serial_counts(f->serial, &c);
    g_assert_cmpuint(c.a, ==, 1);
    g_assert_cmpuint(c.b, ==, 3);
    g_assert_cmpuint(c.errors, ==, 0);
    g_assert_cmpuint(c.junk, ==, 0);
    g_assert_false(c.closed);

    /* Arrival times: in order, within the test's lifetime, apart. */
    times = serial_b_times_dup(f->serial);
    g_assert_cmpuint(times->len, ==, 3);
    g_assert_cmpint(g_array_index(times, gint64, 0), >=, t0);
    g_assert_cmpint(g_array_index(times, gint64, 1), >, g_array_index(times, gint64, 0));
    g_assert_cmpint(g_array_index(times, gint64, 2), >, g_array_index(times, gint64, 1));
    g_assert_cmpint(g_array_index(times, gint64, 2), <=, g_get_monotonic_time());

    /* A target already reached returns at once. */
    WAIT_B_OK(serial_wait_b(f->serial, 2, "src", deadline_in_ms(OK_MS), &error));
    WAIT_B_OK(serial_wait_b(f->serial, 0, "src", deadline_in_ms(0), &error));
    close(d.fd);
}

static void test_listen_disconnect(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    SerialCounts c;
    int fd = client_connect(f->sock);
    gint64 t0;

    (void)data;
    client_write_str(fd, "AB");
    close(fd);
    t0 = g_get_monotonic_time();
    g_assert_false(serial_wait_b(f->serial, 5, "dst", deadline_in_ms(OK_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_DISCONNECTED);
    g_assert_cmpint(elapsed_ms_since(t0), <, OK_MS / 2);
    assert_contains(error->message, "dst");
    assert_contains(error->message, "closed");
    assert_contains(error->message, "5 'B'");
    assert_contains(error->message, "1 'A', 1 'B', 0 'E', 0 junk");
    serial_counts(f->serial, &c);
    g_assert_true(c.closed);
    g_assert_cmpuint(c.a, ==, 1);
    g_assert_cmpuint(c.b, ==, 1);
}

static void test_listen_data_before_close(Fixture *f, gconstpointer data)
{
    /* Everything sent before the hang-up is counted, even if it all
     * arrives at once with the EOF. */
    g_autoptr(GError) error = NULL;
    g_autofree char *bs = g_strnfill(1000, 'B');
    int fd = client_connect(f->sock);

    (void)data;
    client_write_str(fd, "A");
    client_write_str(fd, bs);
    close(fd);
    g_assert_false(serial_wait_b(f->serial, 1001, "dst", deadline_in_ms(OK_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_DISCONNECTED);
    assert_contains(error->message, "1 'A', 1000 'B'");
    g_clear_error(&error);
    WAIT_B_OK(serial_wait_b(f->serial, 1000, "dst", deadline_in_ms(OK_MS), &error));
}

static void test_listen_timeout(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    SerialCounts c;
    gint64 t0, elapsed;
    int fd;

    (void)data;
    /* No client at all yet. */
    t0 = g_get_monotonic_time();
    g_assert_false(serial_wait_b(f->serial, 1, "src", deadline_in_ms(SHORT_MS), &error));
    elapsed = elapsed_ms_since(t0);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    g_assert_cmpint(elapsed, >=, SHORT_MS - EARLY_SLACK_MS);
    g_assert_cmpint(elapsed, <, SHORT_MS + LATE_SLACK_MS);
    assert_contains(error->message, "src");
    assert_contains(error->message, "timed out");
    assert_contains(error->message, "0 'A', 0 'B', 0 'E', 0 junk");
    g_clear_error(&error);

    /* A client that sends a little and then nothing. */
    fd = client_connect(f->sock);
    client_write_str(fd, "AxB" RECORD);
    WAIT_B_OK(serial_wait_b(f->serial, 1, "src", deadline_in_ms(OK_MS), &error));
    t0 = g_get_monotonic_time();
    g_assert_false(serial_wait_b(f->serial, 2, "src", deadline_in_ms(SHORT_MS), &error));
    elapsed = elapsed_ms_since(t0);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    g_assert_cmpint(elapsed, >=, SHORT_MS - EARLY_SLACK_MS);
    g_assert_cmpint(elapsed, <, SHORT_MS + LATE_SLACK_MS);
    assert_contains(error->message, "waiting for 2 'B'");
    assert_contains(error->message, "1 'A', 1 'B', 1 'E', 1 junk");
    serial_counts(f->serial, &c);
    g_assert_false(c.closed);
    close(fd);
}

static void test_listen_errors(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) errs = NULL;
    SerialCounts c;
    int fd = client_connect(f->sock);
    gint64 t0 = g_get_monotonic_time();
    const char *second = "Efffffffffffffff8 0000000000000007 0000000000000000\n";

    (void)data;
    g_assert_cmpuint(strlen(second), ==, MT_ERR_LEN);
    client_write_str(fd, "A");
    /* The first record in two writes, split mid-field. */
    client_write(fd, RECORD, 20);
    g_usleep(20 * 1000);
    client_write(fd, RECORD + 20, MT_ERR_LEN - 20);
    client_write_str(fd, "zz");
    client_write_str(fd, "E0000000000100000 0000000000000002 DEADBEEFCAFEF00D\n");
    client_write_str(fd, second);
    client_write_str(fd, "B");
    WAIT_B_OK(serial_wait_b(f->serial, 1, "src", deadline_in_ms(OK_MS), &error));

    errs = serial_errors_dup(f->serial);
    g_assert_cmpuint(errs->len, ==, 2);
    g_assert_cmpuint(g_array_get_element_size(errs), ==, sizeof(SerialError));
    g_assert_cmphex(g_array_index(errs, SerialError, 0).gpa, ==, 0x100000);
    g_assert_cmphex(g_array_index(errs, SerialError, 0).expected, ==, 2);
    g_assert_cmphex(g_array_index(errs, SerialError, 0).found, ==, 0xdeadbeefcafef00dULL);
    g_assert_cmphex(g_array_index(errs, SerialError, 1).gpa, ==, 0xfffffffffffffff8ULL);
    g_assert_cmphex(g_array_index(errs, SerialError, 1).expected, ==, 7);
    g_assert_cmphex(g_array_index(errs, SerialError, 1).found, ==, 0);
    for (guint i = 0; i < errs->len; i++) {
        g_assert_cmpint(g_array_index(errs, SerialError, i).time_us, >=, t0);
        g_assert_cmpint(g_array_index(errs, SerialError, i).time_us, <=,
                        g_get_monotonic_time());
    }
    /* The split record was stamped when its second half arrived. */
    g_assert_cmpint(g_array_index(errs, SerialError, 0).time_us, >=, t0 + 15 * 1000);

    serial_counts(f->serial, &c);
    g_assert_cmpuint(c.a, ==, 1);
    g_assert_cmpuint(c.b, ==, 1);
    g_assert_cmpuint(c.errors, ==, 2);
    g_assert_cmpuint(c.junk, ==, 3);           /* "zz" and one bad record */

    /* The copy is a copy: later records do not show up in it. */
    client_write_str(fd, RECORD "B");
    WAIT_B_OK(serial_wait_b(f->serial, 2, "src", deadline_in_ms(OK_MS), &error));
    g_assert_cmpuint(errs->len, ==, 2);
    g_clear_pointer(&errs, g_array_unref);
    errs = serial_errors_dup(f->serial);
    g_assert_cmpuint(errs->len, ==, 3);
    close(fd);
}

static void test_listen_log(Fixture *f, gconstpointer data)
{
    static const guint8 chunk1[] = { 'A', 0, 0xff, '\n', 'x' };
    static const guint8 chunk2[] = { 0x80, 'E', '0', '\r', 'B' };
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) sent = g_byte_array_new();
    g_autofree char *contents = NULL;
    gsize len = 0;
    int fd = client_connect(f->sock);

    (void)data;
    /* Empty until something arrives. */
    g_assert_true(g_file_get_contents(f->log, &contents, &len, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(len, ==, 0);
    g_clear_pointer(&contents, g_free);

    client_write(fd, chunk1, sizeof(chunk1));
    g_byte_array_append(sent, chunk1, sizeof(chunk1));
    client_write_str(fd, RECORD "B");
    g_byte_array_append(sent, (const guint8 *)RECORD "B", MT_ERR_LEN + 1);
    WAIT_B_OK(serial_wait_b(f->serial, 1, "src", deadline_in_ms(OK_MS), &error));
    g_assert_true(g_file_get_contents(f->log, &contents, &len, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(contents, len, sent->data, sent->len);
    g_clear_pointer(&contents, g_free);

    /* The 'B' at the end of chunk2 falls inside the 'E' record begun
     * before it; close to flush it all through. */
    client_write(fd, chunk2, sizeof(chunk2));
    g_byte_array_append(sent, chunk2, sizeof(chunk2));
    close(fd);
    g_assert_false(serial_wait_b(f->serial, 100, "src", deadline_in_ms(OK_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_DISCONNECTED);
    g_clear_error(&error);
    serial_free(f->serial);
    f->serial = NULL;
    g_assert_true(g_file_get_contents(f->log, &contents, &len, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(contents, len, sent->data, sent->len);
}

static void test_listen_no_log(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    int fd = client_connect(f->sock);
    g_autoptr(GDir) dir = NULL;
    guint entries = 0;

    (void)data;
    g_assert_null(f->log);
    client_write_str(fd, "AB");
    WAIT_B_OK(serial_wait_b(f->serial, 1, "src", deadline_in_ms(OK_MS), &error));
    close(fd);
    /* Only the socket in the directory: no log was written anywhere. */
    dir = g_dir_open(f->dir, 0, &error);
    g_assert_no_error(error);
    while (g_dir_read_name(dir))
        entries++;
    g_assert_cmpuint(entries, ==, 1);
}

static void test_listen_free_no_client(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-serial-XXXXXX", &error);
    g_autofree char *sock = NULL;
    g_autofree char *log = NULL;
    g_autofree char *contents = NULL;
    gsize len = 99;
    Serial *s;
    gint64 t0;

    g_assert_no_error(error);
    sock = g_build_filename(dir, "s.sock", NULL);
    log = g_build_filename(dir, "s.log", NULL);
    s = serial_listen(sock, log, &error);
    g_assert_no_error(error);
    g_assert_nonnull(s);
    t0 = g_get_monotonic_time();
    serial_free(s);
    g_assert_cmpint(elapsed_ms_since(t0), <, SHORT_MS);
    g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
    /* The log exists, empty. */
    g_assert_true(g_file_get_contents(log, &contents, &len, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(len, ==, 0);
    g_assert_cmpint(g_unlink(log), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
    serial_free(NULL);
}

static void test_listen_free_connected(void)
{
    /* A client that is connected and silent does not hold up serial_free;
     * it sees the stream end. */
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-serial-XXXXXX", &error);
    g_autofree char *sock = NULL;
    struct pollfd pfd;
    char byte;
    Serial *s;
    gint64 t0;
    int fd;

    g_assert_no_error(error);
    sock = g_build_filename(dir, "s.sock", NULL);
    s = serial_listen(sock, NULL, &error);
    g_assert_no_error(error);
    fd = client_connect(sock);
    client_write_str(fd, "AB");
    /* Make sure the listener has accepted and is reading. */
    WAIT_B_OK(serial_wait_b(s, 1, "src", deadline_in_ms(OK_MS), &error));
    t0 = g_get_monotonic_time();
    serial_free(s);
    g_assert_cmpint(elapsed_ms_since(t0), <, SHORT_MS);
    pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
    g_assert_cmpint(poll(&pfd, 1, OK_MS), ==, 1);
    g_assert_cmpint(read(fd, &byte, 1), ==, 0);
    close(fd);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_listen_bad_paths(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-serial-XXXXXX", &error);
    g_autofree char *taken = NULL;
    g_autofree char *sock = NULL;
    g_autofree char *nolog = NULL;
    g_autofree char *contents = NULL;
    g_autofree char *pad = g_strnfill(120, 'p');
    g_autofree char *too_long = NULL;
    Serial *s;

    g_assert_no_error(error);

    /* The path exists: refused, and the existing file is left alone. */
    taken = g_build_filename(dir, "taken", NULL);
    g_assert_true(g_file_set_contents(taken, "precious", -1, &error));
    g_assert_no_error(error);
    s = serial_listen(taken, NULL, &error);
    g_assert_null(s);
    g_assert_error(error, MT_ERROR, MT_ERROR_ENV);
    assert_contains(error->message, taken);
    g_clear_error(&error);
    g_assert_true(g_file_get_contents(taken, &contents, NULL, &error));
    g_assert_cmpstr(contents, ==, "precious");
    g_assert_cmpint(g_unlink(taken), ==, 0);

    /* The log cannot be created: refused, and no socket is left behind. */
    sock = g_build_filename(dir, "s.sock", NULL);
    nolog = g_build_filename(dir, "missing-dir", "s.log", NULL);
    s = serial_listen(sock, nolog, &error);
    g_assert_null(s);
    g_assert_error(error, MT_ERROR, MT_ERROR_ENV);
    assert_contains(error->message, nolog);
    g_clear_error(&error);
    g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));

    /* Longer than sun_path. */
    too_long = g_build_filename(dir, pad, NULL);
    s = serial_listen(too_long, NULL, &error);
    g_assert_null(s);
    g_assert_error(error, MT_ERROR, MT_ERROR_ENV);
    assert_contains(error->message, "107");
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static const struct {
    const char *path;
    GTestFunc func;
} tests[] = {
    { "/serial/parser/a-b", test_parser_a_b },
    { "/serial/parser/record", test_parser_record },
    { "/serial/parser/record-bytewise", test_parser_record_bytewise },
    { "/serial/parser/malformed", test_parser_malformed },
    { "/serial/parser/junk", test_parser_junk },
    { "/serial/parser/describe", test_parser_describe },
    { "/serial/parser/describe-register", test_parser_describe_register },
    { "/serial/listen/free-no-client", test_listen_free_no_client },
    { "/serial/listen/free-connected", test_listen_free_connected },
    { "/serial/listen/bad-paths", test_listen_bad_paths },
};

/* Line mode (the linux payload's console): MTSTART counts as 'A', MTPASS
 * as 'B', MTERR as an error with its guest physical address, MTHB as a
 * heartbeat with its sequence number; a kernel line is junk and kept. */
static void test_parser_lines(void)
{
    static const char stream[] =
        "MTSTART v1 mem=64 hot=16 hb_ms=10 step=64 buf=00007f0000000000 hotbuf=00007f0004000000\n"
        "MTMAP 00007f0000000000 0000000001200000 512\nMTMAPEND 1 512\n"
        "MTHB 1 1 5 10\r\nMTPASS 1 0\nMTHB 2 2 9 20\n"
        "MTERR 00007f0000001000 0000000000000002 0000000000000001 0000000001201000\n"
        "[   12.345678] BUG: unable to handle page fault\r\n"
        "MTPASS 2 1\nMTHB 3";                 /* a line cut short: not counted */
    SerialParser p;
    const SerialError *e;

    serial_parser_init_lines(&p);
    /* Feed it in uneven pieces, as a socket would. */
    for (gsize i = 0; i < sizeof(stream) - 1; i += 7)
        serial_parser_feed(&p, (const guint8 *)stream + i, MIN(7, sizeof(stream) - 1 - i),
                           1000 + i);
    g_assert_cmpuint(p.a_count, ==, 1);
    g_assert_cmpuint(p.b_times->len, ==, 2);
    g_assert_cmpuint(p.hb_seqs->len, ==, 2);
    g_assert_cmpuint(g_array_index(p.hb_seqs, guint64, 1), ==, 2);
    g_assert_cmpuint(p.errors->len, ==, 1);
    e = &g_array_index(p.errors, SerialError, 0);
    g_assert_cmphex(e->gpa, ==, 0x1201000);
    g_assert_cmphex(e->expected, ==, 2);
    g_assert_cmphex(e->found, ==, 1);
    g_assert_cmpstr(p.first_junk, ==, "[   12.345678] BUG: unable to handle page fault");
    g_assert_cmpuint(p.junk_bytes, >, 0);
    serial_parser_clear(&p);
}

/* The parser side of a line cut by the switchover: the destination's
 * first line is foreign until joined (serial_join_switchover). */
static void test_parser_first_line_junk(void)
{
    static const char dst_stream[] = "TPASS 356 0\nMTHB 9 9 9 9\n";
    SerialParser p;

    serial_parser_init_lines(&p);
    serial_parser_feed(&p, (const guint8 *)dst_stream, sizeof(dst_stream) - 1, 1);
    g_assert_true(p.first_line_junk);
    g_assert_cmpstr(p.first_junk, ==, "TPASS 356 0");
    g_assert_cmpuint(p.hb_seqs->len, ==, 1);
    serial_parser_clear(&p);
}

/* Two /init workers (migtest.workers=2): worker 0's MTPASS are the 'B's,
 * worker 1's the beats of vCPU 1; each MTHB keeps its worker. */
static void test_parser_lines_workers(void)
{
    static const char stream[] =
        "MTSTART v2 mem=64 hot=16 hb_ms=10 step=64 buf=00007f0000000000 hotbuf=00007f0004000000"
        " workers=2 zero_every=0 zero_pages=256 zero_slots=2 zero_method=1 hot_op=0"
        " atomics=lock zerobuf=0000000000000000\n"
        "MTHB 1 1 1 0 0\nMTHB 1 1 1 0 1\nMTPASS 1 0 1\nMTPASS 1 0 0\nMTPASS 2 0 1\n"
        "MTHB 2 2 3 10 1\nMTPASS 3 0 9\nMTPASS 3 0 x\n";
    SerialParser p;

    serial_parser_init_lines(&p);
    serial_parser_feed(&p, (const guint8 *)stream, sizeof(stream) - 1, 1);
    g_assert_cmpuint(p.a_count, ==, 1);
    g_assert_cmpuint(p.b_times->len, ==, 1);
    g_assert_cmpuint(p.vcpu_beats[0], ==, 1);
    g_assert_cmpuint(p.vcpu_beats[1], ==, 2);
    g_assert_cmpuint(p.hb_workers->len, ==, 3);
    g_assert_cmpuint(g_array_index(p.hb_workers, guint, 2), ==, 1);
    g_assert_cmpuint(g_array_index(p.hb_seqs, guint64, 2), ==, 2);
    /* A worker past MT_MAX_VCPUS or not a number: foreign lines. */
    g_assert_cmpstr(p.first_junk, ==, "MTPASS 3 0 9");
    serial_parser_clear(&p);
}

static void feed_lines(SerialParser *p, const char *s)
{
    serial_parser_init_lines(p);
    serial_parser_feed(p, (const guint8 *)s, strlen(s), 1);
}

static gboolean hb_continue(const char *src, const char *dst, guint workers, GError **error)
{
    SerialParser s, d;
    gboolean ok;

    feed_lines(&s, src);
    feed_lines(&d, dst);
    ok = serial_hb_continue(s.hb_seqs, s.hb_workers, d.hb_seqs, d.hb_workers, workers, "dst",
                            error);
    serial_parser_clear(&s);
    serial_parser_clear(&d);
    return ok;
}

/* Heartbeats across a migration, per worker: clean; a worker that stops
 * beating after the migration; one that resumed from older state; a
 * beat from a worker the guest does not run; and the one-worker form. */
static void test_hb_continue_workers(void)
{
    static const char src[] = "MTHB 7 3 9 70 0\nMTHB 5 3 9 71 1\nMTHB 8 3 9 80 0\n";
    g_autoptr(GError) error = NULL;

    g_assert_true(hb_continue(src, "MTHB 6 4 9 90 1\nMTHB 9 4 9 91 0\n", 2, &error));
    g_assert_no_error(error);
    g_assert_false(hb_continue(src, "MTHB 9 4 9 91 0\nMTHB 10 4 9 92 0\n", 2, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_VERIFY);
    g_assert_nonnull(strstr(error->message, "worker 1 of 2: src sent some, dst sent none"));
    g_clear_error(&error);
    g_assert_false(hb_continue(src, "MTHB 5 4 9 90 1\nMTHB 9 4 9 91 0\n", 2, &error));
    g_assert_nonnull(strstr(error->message, "worker 1 of 2: src's last was 5, dst's first 5 "
                                            "(expected 6)"));
    g_clear_error(&error);
    g_assert_false(hb_continue(src, "MTHB 6 4 9 90 1\nMTHB 9 4 9 91 0\nMTHB 1 1 1 1 2\n", 2,
                               &error));
    g_assert_nonnull(strstr(error->message, "worker 2, but the guest runs 2"));
    g_clear_error(&error);
    g_assert_true(hb_continue("MTHB 3 1 1 1\n", "MTHB 4 1 1 1\n", 1, &error));
    g_assert_false(hb_continue("MTHB 3 1 1 1\n", "MTHB 3 1 1 1\n", 1, &error));
    g_assert_nonnull(strstr(error->message, "src's last was 3, dst's first 3 (expected 4)"));
}

/* Guest suspend: 'S' and 'R' are counted apart from 'A' and 'B', and the
 * "kept running after S3" record says so. */
static void test_parser_suspend(void)
{
    SerialError e = { .gpa = MT_S3_RECORD, .found = MT_X86_S3_SPIN };
    g_autofree char *d = serial_error_describe(&e);
    SerialParser p;

    serial_parser_init(&p);
    feed_str(&p, "ABBBS", 10);
    g_assert_cmpuint(p.s_count, ==, 1);
    g_assert_cmpuint(p.r_count, ==, 0);
    feed_str(&p, "RBB", 20);
    assert_parser_counts(&p, 1, 5, 0, 0, 0);
    g_assert_cmpuint(p.s_count, ==, 1);
    g_assert_cmpuint(p.r_count, ==, 1);
    serial_parser_clear(&p);
    g_assert_nonnull(strstr(d, "still running"));
    g_assert_nonnull(strstr(d, "after its S3 request"));
}

/* Waiting for 'S' / 'R': met at once when they came, a timeout naming
 * the counts when not, and a closed stream says so. */
static void test_wait_suspend_byte(void)
{
    g_autoptr(Serial) s = serial_new_relayed(NULL, FALSE, NULL);
    g_autoptr(GError) error = NULL;

    serial_relay_feed(s, (const guint8 *)"ABBS", 4, 1);
    g_assert_true(serial_wait_suspend_byte(s, MT_SERIAL_SUSPEND, 1, "src", deadline_in_ms(0),
                                           &error));
    g_assert_no_error(error);
    g_assert_false(serial_wait_suspend_byte(s, MT_SERIAL_RESUME, 1, "dst", deadline_in_ms(50),
                                            &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    g_assert_nonnull(strstr(error->message, "dst serial: timed out waiting for 1 'R' (seen: "
                                            "1 'A', 2 'B', 1 'S', 0 'R'"));
    g_clear_error(&error);
    serial_relay_feed(s, (const guint8 *)"RB", 2, 2);
    g_assert_true(serial_wait_suspend_byte(s, MT_SERIAL_RESUME, 1, "dst", deadline_in_ms(0),
                                           &error));
    serial_relay_close(s);
    g_assert_false(serial_wait_suspend_byte(s, MT_SERIAL_SUSPEND, 2, "src", deadline_in_ms(5000),
                                            &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_DISCONNECTED);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    watchdog_install();
    for (guint i = 0; i < G_N_ELEMENTS(tests); i++)
        g_test_add_data_func(tests[i].path, &tests[i].func, watchdog_run);
    g_test_add_func("/serial/parser/describe-device", test_parser_describe_device);
    g_test_add_func("/serial/parser/lines", test_parser_lines);
    g_test_add_func("/serial/parser/suspend", test_parser_suspend);
    g_test_add_func("/serial/wait-suspend-byte", test_wait_suspend_byte);
    g_test_add_func("/serial/parser/first-line-junk", test_parser_first_line_junk);
    g_test_add_func("/serial/parser/lines-workers", test_parser_lines_workers);
    g_test_add_func("/serial/hb-continue/workers", test_hb_continue_workers);
    g_test_add("/serial/listen/wait-b", Fixture, NULL, fixture_setup,
               test_listen_wait_b, fixture_teardown);
    g_test_add("/serial/listen/disconnect", Fixture, NULL, fixture_setup,
               test_listen_disconnect, fixture_teardown);
    g_test_add("/serial/listen/data-before-close", Fixture, NULL, fixture_setup,
               test_listen_data_before_close, fixture_teardown);
    g_test_add("/serial/listen/timeout", Fixture, NULL, fixture_setup,
               test_listen_timeout, fixture_teardown);
    g_test_add("/serial/listen/errors", Fixture, NULL, fixture_setup,
               test_listen_errors, fixture_teardown);
    g_test_add("/serial/listen/log", Fixture, NULL, fixture_setup,
               test_listen_log, fixture_teardown);
    g_test_add("/serial/listen/no-log", Fixture, GINT_TO_POINTER(1), fixture_setup,
               test_listen_no_log, fixture_teardown);

    return g_test_run();
}
