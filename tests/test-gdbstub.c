/*
 * test-gdbstub.c: the gdbstub client without QEMU.
 *
 * The packet codec and the target-description walk are pure functions,
 * tested directly (known frames, escapes, run-length codes, damaged and
 * impossible frames, random round trips and a byte-level fuzz).  The
 * session is tested against a fake stub in a thread, on a socketpair or
 * behind a temporary unix socket, that answers like QEMU 7.2's: the stop
 * packet on connect when the "VM" runs, target.xml with includes served in
 * chunks, one thread per qfThreadInfo/qsThreadInfo reply, 'p' in target
 * byte order, qThreadExtraInfo, 'D'.  Knobs make it go silent, hang up,
 * refuse, corrupt or nack.  Every wait on either side has a deadline.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "gdbstub.h"
#include "watchdog.h"

#define OK_MS           3000
#define SHORT_MS        300
#define SERVER_WAIT_MS  5000
/* A timeout must come no earlier than this before, and no later than this
 * after, the deadline. */
#define EARLY_SLACK_MS  20
#define LATE_SLACK_MS   1500

/* ---- helpers ------------------------------------------------------------ */

/* "$data#cs" with @data taken as is (no escaping): for hand-made frames. */
static char *raw_frame(const char *data)
{
    return g_strdup_printf("$%s#%02x", data, gdbstub_checksum(data, strlen(data)));
}

static GdbDecode decode_str(const char *s, gsize *consumed, GByteArray **payload,
                            GError **error)
{
    return gdbstub_packet_decode((const guint8 *)s, strlen(s), consumed, payload, error);
}

static void assert_decodes_to(const char *frame, const void *want, gsize want_len)
{
    g_autoptr(GByteArray) p = NULL;
    g_autoptr(GError) error = NULL;
    gsize used = 0;

    g_assert_cmpint(decode_str(frame, &used, &p, &error), ==, GDB_DECODE_PACKET);
    g_assert_no_error(error);
    g_assert_cmpuint(used, ==, strlen(frame));
    g_assert_cmpmem(p->data, p->len, want, want_len);
    g_assert_cmpint(p->data[p->len], ==, 0);     /* NUL after the data */
}

static void assert_decode_fails(const char *frame, GdbDecode want, const char *msg_part)
{
    g_autoptr(GByteArray) p = NULL;
    g_autoptr(GError) error = NULL;
    gsize used = 0;

    g_assert_cmpint(decode_str(frame, &used, &p, &error), ==, want);
    g_assert_null(p);
    g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
    if (msg_part && !strstr(error->message, msg_part))
        g_error("'%s' does not contain '%s'", error->message, msg_part);
    g_assert_cmpuint(used, >, 0);
    g_assert_cmpuint(used, <=, strlen(frame));
}

static void assert_contains(const char *s, const char *part)
{
    if (!strstr(s, part))
        g_error("'%s' does not contain '%s'", s, part);
}

/* ---- packets ------------------------------------------------------------ */

static void test_encode_known(void)
{
    static const struct { const char *in, *out; } cases[] = {
        { "", "$#00" },
        { "OK", "$OK#9a" },
        { "g", "$g#67" },
        { "qSupported", "$qSupported#37" },
        { "p5c", "$p5c#08" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        gsize len;
        g_autofree char *f = gdbstub_packet_encode(cases[i].in, strlen(cases[i].in),
                                                   FALSE, &len);
        g_assert_cmpstr(f, ==, cases[i].out);
        g_assert_cmpuint(len, ==, strlen(cases[i].out));
        assert_decodes_to(f, cases[i].in, strlen(cases[i].in));
    }
}

static void test_checksum(void)
{
    g_assert_cmpuint(gdbstub_checksum("", 0), ==, 0);
    g_assert_cmpuint(gdbstub_checksum("OK", 2), ==, 0x9a);
    /* Wraps modulo 256. */
    g_assert_cmpuint(gdbstub_checksum("\xff\xff\x03", 3), ==, 0x01);
    /* Upper-case checksum digits are accepted. */
    assert_decodes_to("$qSupported#37", "qSupported", 10);
    assert_decodes_to("$Z#5A", "Z", 1);
}

static void test_escapes(void)
{
    static const char in[] = "a#b$c}d*e";
    static const char want[] = "$a}\x03" "b}\x04" "c}]d}\x0a" "e#";
    gsize len;
    g_autofree char *f = gdbstub_packet_encode(in, strlen(in), FALSE, &len);
    g_autofree char *f2 = NULL;
    const guint8 bin[] = { 0, '}', 0xff, '#', '$', '*', 0x7d ^ 0x20, 0 };

    g_assert_true(g_str_has_prefix(f, want));
    assert_decodes_to(f, in, strlen(in));
    /* Binary data, NULs included, survives. */
    f2 = gdbstub_packet_encode(bin, sizeof(bin), FALSE, &len);
    {
        g_autoptr(GByteArray) p = NULL;
        g_autoptr(GError) error = NULL;
        gsize used;

        g_assert_cmpint(gdbstub_packet_decode((const guint8 *)f2, len, &used, &p, &error),
                        ==, GDB_DECODE_PACKET);
        g_assert_cmpmem(p->data, p->len, bin, sizeof(bin));
    }
    /* An escaped character that did not need escaping decodes all the same. */
    g_free(f2);
    f2 = raw_frame("}A");
    assert_decodes_to(f2, "a", 1);
}

static void test_rle_decode(void)
{
    g_autofree char *f1 = raw_frame("0* ");         /* the spec's example */
    g_autofree char *f2 = raw_frame("a*\"b");       /* '"' = 5 more */
    g_autofree char *f3 = raw_frame("x*~");         /* 97 more, the maximum */
    g_autofree char *f4 = raw_frame("}]*!");        /* repeats the unescaped '}' */
    g_autofree char *f5 = raw_frame("00*}");        /* '}' as a count: 96 more */
    char want[128];

    assert_decodes_to(f1, "0000", 4);
    assert_decodes_to(f2, "aaaaaab", 7);
    memset(want, 'x', 98);
    assert_decodes_to(f3, want, 98);
    assert_decodes_to(f4, "}}}}}", 5);
    memset(want, '0', 98);
    assert_decodes_to(f5, want, 98);
}

static void test_rle_encode(void)
{
    for (gsize n = 1; n <= 400; n++) {
        g_autofree char *in = g_strnfill(n, '0');
        gsize len;
        g_autofree char *f = gdbstub_packet_encode(in, n, TRUE, &len);

        /* Data never holds a raw '#' or '$' (6 and 7 repeats avoided). */
        g_assert_null(memchr(f + 1, '$', len - 4));
        g_assert_null(memchr(f + 1, '#', len - 4));
        if (n >= 8)
            g_assert_cmpuint(len - 4, <, n);
        assert_decodes_to(f, in, n);
    }
    {
        /* Runs of a character that needs escaping. */
        g_autofree char *in = g_strnfill(50, '#');
        gsize len;
        g_autofree char *f = gdbstub_packet_encode(in, 50, TRUE, &len);

        assert_decodes_to(f, in, 50);
        g_assert_cmpuint(len, <, 20);
    }
}

static void test_round_trip_random(void)
{
    static const guint8 alphabet[] = "$#}*+-0a ~\x00\xff\x03";

    for (guint iter = 0; iter < 2000; iter++) {
        gsize n = g_test_rand_int_range(0, 300), len, used;
        g_autofree guint8 *in = g_malloc(n + 1);
        gboolean rle = iter & 1;
        g_autofree char *f = NULL;
        g_autoptr(GByteArray) p = NULL;
        g_autoptr(GError) error = NULL;

        for (gsize i = 0; i < n; i++)
            in[i] = g_test_rand_bit() ? alphabet[g_test_rand_int_range(0, sizeof(alphabet) - 1)]
                                      : (guint8)g_test_rand_int_range(0, 256);
        /* Long runs too. */
        if (n > 20 && g_test_rand_bit())
            memset(in + 5, in[4], n - 10);
        f = gdbstub_packet_encode(in, n, rle, &len);
        g_assert_cmpint(gdbstub_packet_decode((const guint8 *)f, len, &used, &p, &error),
                        ==, GDB_DECODE_PACKET);
        g_assert_no_error(error);
        g_assert_cmpuint(used, ==, len);
        g_assert_cmpmem(p->data, p->len, in, n);
    }
}

static void test_acks_and_junk(void)
{
    const char *s = "xx+yy-\x03$OK#9a";
    gsize off = 0, used;
    GByteArray *p = NULL;
    GError *error = NULL;

    g_assert_cmpint(decode_str(s, &used, &p, &error), ==, GDB_DECODE_ACK);
    g_assert_cmpuint(used, ==, 3);
    off += used;
    g_assert_cmpint(decode_str(s + off, &used, &p, &error), ==, GDB_DECODE_NACK);
    g_assert_cmpuint(used, ==, 3);
    off += used;
    g_assert_cmpint(decode_str(s + off, &used, &p, &error), ==, GDB_DECODE_PACKET);
    g_assert_cmpstr((char *)p->data, ==, "OK");
    g_assert_cmpuint(off + used, ==, strlen(s));
    g_byte_array_unref(p);
    /* Junk alone is consumed, and more is needed. */
    g_assert_cmpint(decode_str("junk", &used, &p, &error), ==, GDB_DECODE_NEED_MORE);
    g_assert_cmpuint(used, ==, 4);
    g_assert_cmpint(decode_str("", &used, &p, &error), ==, GDB_DECODE_NEED_MORE);
    g_assert_cmpuint(used, ==, 0);
    g_assert_null(p);
    g_assert_no_error(error);
}

/* Feed a stream one byte at a time: the same events at every split. */
static void test_split_stream(void)
{
    g_autofree char *f1 = gdbstub_packet_encode("T05thread:01;", 13, FALSE, NULL);
    g_autofree char *f2 = gdbstub_packet_encode("0000000000000000", 16, TRUE, NULL);
    g_autofree char *stream = g_strconcat("+", f1, "-", f2, "+", NULL);
    const GdbDecode want[] = { GDB_DECODE_ACK, GDB_DECODE_PACKET, GDB_DECODE_NACK,
                               GDB_DECODE_PACKET, GDB_DECODE_ACK };
    g_autoptr(GByteArray) buf = g_byte_array_new();
    guint got = 0;

    for (gsize i = 0; stream[i]; i++) {
        g_byte_array_append(buf, (const guint8 *)stream + i, 1);
        for (;;) {
            g_autoptr(GByteArray) p = NULL;
            g_autoptr(GError) error = NULL;
            gsize used;
            GdbDecode d = gdbstub_packet_decode(buf->data, buf->len, &used, &p, &error);

            g_assert_no_error(error);
            g_byte_array_remove_range(buf, 0, used);
            if (d == GDB_DECODE_NEED_MORE)
                break;
            if (got >= G_N_ELEMENTS(want))
                g_error("more events than expected at byte %zu", i);
            g_assert_cmpint(d, ==, want[got]);
            if (got == 1)
                g_assert_cmpstr((char *)p->data, ==, "T05thread:01;");
            if (got == 3)
                g_assert_cmpstr((char *)p->data, ==, "0000000000000000");
            got++;
        }
    }
    g_assert_cmpuint(got, ==, G_N_ELEMENTS(want));
    g_assert_cmpuint(buf->len, ==, 0);
}

static void test_corrupt_frames(void)
{
    gsize used;
    g_autoptr(GByteArray) p = NULL;
    g_autoptr(GError) error = NULL;
    const char *cut = "$OK$OK#9a";

    assert_decode_fails("$OK#9b", GDB_DECODE_CORRUPT, "checksum 0x9b");
    assert_decode_fails("$OK#zz", GDB_DECODE_CORRUPT, "non-hex checksum");
    /* A frame cut short by a new '$': drop up to it, then the next decodes. */
    g_assert_cmpint(decode_str(cut, &used, &p, &error), ==, GDB_DECODE_CORRUPT);
    g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
    g_assert_cmpuint(used, ==, 3);
    g_clear_error(&error);
    g_assert_cmpint(decode_str(cut + used, &used, &p, &error), ==, GDB_DECODE_PACKET);
    g_assert_cmpstr((char *)p->data, ==, "OK");
    /* Incomplete frames wait for more. */
    g_clear_pointer(&p, g_byte_array_unref);
    g_assert_cmpint(decode_str("$OK", &used, &p, &error), ==, GDB_DECODE_NEED_MORE);
    g_assert_cmpint(decode_str("$OK#9", &used, &p, &error), ==, GDB_DECODE_NEED_MORE);
    g_assert_cmpuint(used, ==, 0);
    g_assert_null(p);
}

static void test_malformed_frames(void)
{
    static const struct { const char *data, *msg; } cases[] = {
        { "*!", "nothing to repeat" },
        { "a*", "without a count" },
        { "a}", "inside an escape" },
        { "a*\x1f", "invalid run-length count" },
        { "a*\x7f", "invalid run-length count" },
        { "a*\x01", "invalid run-length count" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *f = raw_frame(cases[i].data);
        assert_decode_fails(f, GDB_DECODE_ERROR, cases[i].msg);
    }
    {
        /* No '#' within GDB_MAX_FRAME bytes. */
        g_autofree char *f = g_strnfill(GDB_MAX_FRAME + 10, 'a');
        f[0] = '$';
        assert_decode_fails(f, GDB_DECODE_ERROR, "longer than");
    }
    {
        /* Run-length codes that expand past GDB_MAX_PAYLOAD. */
        GString *d = g_string_new("a");
        g_autofree char *f = NULL;

        while (d->len < 2 * (GDB_MAX_PAYLOAD / 97 + 10))
            g_string_append(d, "*~");
        f = raw_frame(d->str);
        g_string_free(d, TRUE);
        assert_decode_fails(f, GDB_DECODE_ERROR, "expands past");
    }
}

/* Random bytes and mutated frames: the decoder always makes progress,
 * stays in bounds, and sets payload and error consistently. */
static void fuzz_one(const guint8 *buf, gsize len)
{
    gsize off = 0;

    while (off < len) {
        g_autoptr(GByteArray) p = NULL;
        g_autoptr(GError) error = NULL;
        gsize used = G_MAXSIZE;
        GdbDecode d = gdbstub_packet_decode(buf + off, len - off, &used, &p, &error);

        g_assert_cmpuint(used, <=, len - off);
        g_assert_true((p != NULL) == (d == GDB_DECODE_PACKET));
        g_assert_true((error != NULL) == (d == GDB_DECODE_CORRUPT || d == GDB_DECODE_ERROR));
        if (p)
            g_assert_cmpuint(p->len, <=, GDB_MAX_PAYLOAD);
        if (d == GDB_DECODE_NEED_MORE)
            break;
        g_assert_cmpuint(used, >, 0);
        off += used;
    }
}

static void test_fuzz(void)
{
    static const guint8 alphabet[] = "$#+-*}0a9f ~\x03";

    for (guint iter = 0; iter < 20000; iter++) {
        guint8 buf[256];
        gsize len = g_test_rand_int_range(0, sizeof(buf));

        for (gsize i = 0; i < len; i++)
            buf[i] = g_test_rand_bit() ? alphabet[g_test_rand_int_range(0, sizeof(alphabet) - 1)]
                                       : (guint8)g_test_rand_int_range(0, 256);
        fuzz_one(buf, len);
    }
    for (guint iter = 0; iter < 20000; iter++) {
        guint8 data[64];
        gsize n = g_test_rand_int_range(0, sizeof(data)), len;
        g_autofree char *f = NULL;

        for (gsize i = 0; i < n; i++)
            data[i] = alphabet[g_test_rand_int_range(0, sizeof(alphabet) - 1)];
        f = gdbstub_packet_encode(data, n, g_test_rand_bit(), &len);
        for (guint k = g_test_rand_int_range(1, 4); k > 0; k--)
            f[g_test_rand_int_range(0, len)] = alphabet[g_test_rand_int_range(0, sizeof(alphabet) - 1)];
        fuzz_one((const guint8 *)f, len);
    }
}

static void test_reg_decode(void)
{
    static const char *const bad[] = {
        "", "3", "3d1", "xxxxxxxxxxxxxxxx", "xx", "zz", "0011223344556677889a", "3g",
    };
    guint64 v = 0;

    g_assert_true(gdbstub_decode_reg_le("3d18c50000000000", 16, &v, NULL));
    g_assert_cmphex(v, ==, 0xc5183d);
    g_assert_true(gdbstub_decode_reg_le("38", 2, &v, NULL));
    g_assert_cmphex(v, ==, 0x38);
    g_assert_true(gdbstub_decode_reg_le("3808c530", 8, &v, NULL));
    g_assert_cmphex(v, ==, 0x30c50838);
    g_assert_true(gdbstub_decode_reg_le("0123456789ABCDEF", 16, &v, NULL));
    g_assert_cmphex(v, ==, 0xefcdab8967452301);
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;

        g_assert_false(gdbstub_decode_reg_le(bad[i], strlen(bad[i]), &v, &error));
        g_assert_error(error, MT_ERROR, MT_ERROR_PROTOCOL);
    }
}

/* ---- target descriptions ------------------------------------------------ */

#define XML_HEAD "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"

/* QEMU 7.2 -cpu max in miniature: core x0..x30 sp pc cpsr (0..33, no
 * regnum attributes), SVE 34..85 (explicit), system registers from 86
 * with SCTLR at 92.  A comment carries characters that must be escaped. */
static char *make_core_xml(void)
{
    GString *s = g_string_new(XML_HEAD "<!-- #$*} --><feature name=\"org.gnu.gdb.aarch64.core\">");

    for (int i = 0; i < 31; i++)
        g_string_append_printf(s, "<reg name=\"x%d\" bitsize=\"64\"/>", i);
    g_string_append(s, "<reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\"/>"
                       "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\"/>"
                       "<reg name=\"cpsr\" bitsize=\"32\"/></feature>");
    return g_string_free(s, FALSE);
}

static char *make_sve_xml(void)
{
    GString *s = g_string_new(XML_HEAD "<feature name=\"org.gnu.gdb.aarch64.sve\">");

    for (int i = 34; i <= 85; i++)
        g_string_append_printf(s, "<reg name=\"sve%d\" bitsize=\"64\" regnum=\"%d\"/>", i, i);
    g_string_append(s, "</feature>");
    return g_string_free(s, FALSE);
}

static char *make_sysreg_xml(const char *sctlr_name, int sctlr_regnum)
{
    GString *s = g_string_new(XML_HEAD "<feature name=\"org.qemu.gdb.arm.sys.regs\">");

    for (int i = 86; i < 120; i++) {
        if (i == sctlr_regnum && sctlr_name)
            g_string_append_printf(s, "<reg name=\"%s\" bitsize=\"64\" regnum=\"%d\" "
                                   "group=\"cp_regs\"/>", sctlr_name, i);
        else
            g_string_append_printf(s, "<reg name=\"SYSREG_%d\" bitsize=\"64\" "
                                   "regnum=\"%d\" group=\"cp_regs\"/>", i, i);
    }
    g_string_append(s, "</feature>");
    return g_string_free(s, FALSE);
}

#define TARGET_XML XML_HEAD "<target><architecture>aarch64</architecture>"          \
    "<xi:include href=\"aarch64-core.xml\"/><xi:include href=\"sve-registers.xml\"/>" \
    "<xi:include href=\"system-registers.xml\"/></target>"

/* annex -> document */
static GHashTable *qemu_docs(const char *sctlr_name, int sctlr_regnum)
{
    GHashTable *d = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);

    g_hash_table_insert(d, "target.xml", g_strdup(TARGET_XML));
    g_hash_table_insert(d, "aarch64-core.xml", make_core_xml());
    g_hash_table_insert(d, "sve-registers.xml", make_sve_xml());
    g_hash_table_insert(d, "system-registers.xml", make_sysreg_xml(sctlr_name, sctlr_regnum));
    return d;
}

static char *fetch_from_table(const char *annex, gpointer opaque, GError **error)
{
    const char *doc = g_hash_table_lookup(opaque, annex);

    if (!doc) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "no document '%s'", annex);
        return NULL;
    }
    return g_strdup(doc);
}

static void test_tdesc_qemu_like(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    GdbRegs r;

    g_assert_true(gdbstub_find_regs(fetch_from_table, docs, &r, NULL));
    g_assert_cmpint(r.sctlr_regnum, ==, 92);
    g_assert_cmpstr(r.sctlr_name, ==, "SCTLR");
    g_assert_cmpuint(r.sctlr_bits, ==, 64);
    g_assert_cmpint(r.pc_regnum, ==, 32);
    g_assert_cmpuint(r.ndocs, ==, 4);
    g_assert_cmpuint(r.nregs, ==, 34 + 52 + 34);
    gdbstub_regs_clear(&r);
}

/* Registers without regnum count on from the previous one, across
 * includes, in document order. */
static void test_tdesc_sequential(void)
{
    g_autoptr(GHashTable) docs = g_hash_table_new(g_str_hash, g_str_equal);
    GdbRegs r;

    g_hash_table_insert(docs, "target.xml", XML_HEAD "<target>"
                        "<feature name=\"a\"><reg name=\"r0\"/><reg name=\"r1\"/></feature>"
                        "<xi:include href=\"mid.xml\"/>"
                        "<feature name=\"c\"><reg name=\"pc\"/><reg name=\"sctlr_el1\"/></feature>"
                        "</target>");
    g_hash_table_insert(docs, "mid.xml", XML_HEAD "<feature name=\"b\">"
                        "<reg name=\"q\" regnum=\"40\"/><reg name=\"q2\"/>"
                        "<xi:include href=\"deeper.xml\"/></feature>");
    g_hash_table_insert(docs, "deeper.xml", "<feature name=\"d\"><reg name=\"z\"/></feature>");
    g_assert_true(gdbstub_find_regs(fetch_from_table, docs, &r, NULL));
    /* r0=0 r1=1 q=40 q2=41 z=42 pc=43 sctlr_el1=44 */
    g_assert_cmpint(r.pc_regnum, ==, 43);
    g_assert_cmpint(r.sctlr_regnum, ==, 44);
    g_assert_cmpstr(r.sctlr_name, ==, "SCTLR_EL1");
    g_assert_cmpuint(r.sctlr_bits, ==, 0);
    g_assert_cmpuint(r.ndocs, ==, 3);
    gdbstub_regs_clear(&r);
}

static void test_tdesc_prefers_el1(void)
{
    g_autoptr(GHashTable) docs = g_hash_table_new(g_str_hash, g_str_equal);
    GdbRegs r;

    g_hash_table_insert(docs, "target.xml", "<target><feature name=\"x\">"
                        "<reg name=\"SCTLR\" regnum=\"5\" bitsize=\"32\"/>"
                        "<reg name=\"SCTLR_EL1\" regnum=\"9\" bitsize=\"64\"/>"
                        "</feature></target>");
    g_assert_true(gdbstub_find_regs(fetch_from_table, docs, &r, NULL));
    g_assert_cmpint(r.sctlr_regnum, ==, 9);
    g_assert_cmpuint(r.sctlr_bits, ==, 64);
    g_assert_cmpstr(r.sctlr_name, ==, "SCTLR_EL1");
    g_assert_cmpint(r.pc_regnum, ==, -1);
    gdbstub_regs_clear(&r);
}

static void test_tdesc_errors(void)
{
    static const struct {
        const char *target, *other;
        MtErrorCode code;
        const char *msg;
    } cases[] = {
        { "<target><reg name=\"x0\"/></target>", NULL, MT_ERROR_UNSUPPORTED,
          "no SCTLR_EL1 or SCTLR register (1 registers in 1 documents)" },
        { "<target><xi:include href=\"missing.xml\"/></target>", NULL,
          MT_ERROR_PROTOCOL, "no document 'missing.xml'" },
        { "<target><reg name=\"x0\"></target>", NULL, MT_ERROR_PROTOCOL, "malformed 'target.xml'" },
        { "<target><xi:include href=\"other.xml\"/></target>",
          "<feature><reg name=\"SCTLR\" regnum=\"abc\"/></feature>", MT_ERROR_PROTOCOL,
          "bad regnum 'abc'" },
        { "<target><reg name=\"SCTLR\" regnum=\"-1\"/></target>", NULL,
          MT_ERROR_PROTOCOL, "bad regnum" },
        { "<target><reg name=\"SCTLR\" regnum=\"99999999\"/></target>", NULL,
          MT_ERROR_PROTOCOL, "bad regnum" },
        { "<target><reg bitsize=\"64\"/></target>", NULL, MT_ERROR_PROTOCOL, "without a name" },
        { "<target><xi:include/></target>", NULL, MT_ERROR_PROTOCOL, "without href" },
        { "<target><xi:include href=\"a:b\"/></target>", NULL, MT_ERROR_PROTOCOL, "bad name" },
        { "<target><xi:include href=\"target.xml\"/></target>", NULL, MT_ERROR_PROTOCOL,
          "too deep" },
        { "", NULL, MT_ERROR_PROTOCOL, "malformed" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GHashTable) docs = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GError) error = NULL;
        GdbRegs r;

        g_hash_table_insert(docs, "target.xml", (char *)cases[i].target);
        if (cases[i].other)
            g_hash_table_insert(docs, "other.xml", (char *)cases[i].other);
        g_assert_false(gdbstub_find_regs(fetch_from_table, docs, &r, &error));
        g_assert_error(error, MT_ERROR, (int)cases[i].code);
        assert_contains(error->message, cases[i].msg);
        gdbstub_regs_clear(&r);
    }
}

/* ---- policy helpers ----------------------------------------------------- */

static void test_policy_helpers(void)
{
    GdbVcpuSctlr off = { .index = 0, .sctlr = 0x00c50838 };
    GdbVcpuSctlr on = { .index = 3, .sctlr = 0x00c5183d };
    GdbVcpuSctlr late = { .index = 1, .sctlr = 0x00c51838 };
    GdbVcpuSctlr parked = { .index = 2, .sctlr = 0x00c50838, .have_pc = TRUE,
                            .pc = 0, .halted = TRUE };
    g_autofree char *s1 = gdbstub_format_vcpu(&off);
    g_autofree char *s2 = gdbstub_format_vcpu(&on);
    g_autofree char *s3 = gdbstub_format_vcpu(&late);

    g_assert_cmpstr(s1, ==, "vCPU 0 SCTLR_EL1=0x00c50838 (M=0 C=0)");
    g_assert_cmpstr(s2, ==, "vCPU 3 SCTLR_EL1=0x00c5183d (M=1 C=1)");
    g_assert_cmpstr(s3, ==, "vCPU 1 SCTLR_EL1=0x00c51838 (M=0 C=0)");
    g_assert_false(gdbstub_sctlr_cacheable(0));
    g_assert_false(gdbstub_sctlr_cacheable(GDB_SCTLR_M));
    g_assert_false(gdbstub_sctlr_cacheable(GDB_SCTLR_C));
    g_assert_true(gdbstub_sctlr_cacheable(GDB_SCTLR_M | GDB_SCTLR_C));
    g_assert_true(gdbstub_sctlr_cacheable(0x00c5183d));
    g_assert_false(gdbstub_sctlr_cacheable(0x00c50838));
    g_assert_true(gdbstub_vcpu_never_started(&parked));
    g_assert_false(gdbstub_vcpu_never_started(&off));      /* not halted */
    parked.pc = 0x40080000;
    g_assert_false(gdbstub_vcpu_never_started(&parked));   /* has run */
    g_assert_cmpint(gdbstub_vm_state_for_status("running"), ==, GDB_VM_RUNNING);
    for (guint i = 0; i < 6; i++) {
        static const char *const others[] = { "paused", "prelaunch", "inmigrate",
                                              "finish-migrate", "postmigrate", "suspended" };
        g_assert_cmpint(gdbstub_vm_state_for_status(others[i]), ==, GDB_VM_STOPPED);
    }
    g_assert_cmpint(gdbstub_vm_state_for_status(NULL), ==, GDB_VM_STOPPED);
}

/* ---- the fake stub ------------------------------------------------------ */

typedef struct {
    /* what it serves */
    GHashTable *docs;           /* annex -> xml (borrowed) */
    int sctlr_regnum, pc_regnum;
    guint nthreads;
    guint64 sctlr[8], pc[8];
    gboolean halted[8];
    gboolean running;           /* "VM running": stop packet on connect */
    gboolean offer_noack;
    gboolean rle;               /* run-length encode replies */
    gboolean all_threads_at_once;
    guint xfer_max;             /* data bytes per qXfer reply (0: as asked) */
    gboolean nack_first;        /* answer the client's first frame with '-' */
    gboolean corrupt_first;     /* send the first reply with a bad checksum */
    int silent_after;           /* answer no request from this one on (-1: never) */
    int hangup_after;           /* hang up at this request (-1: never) */
    const char *p_reply;        /* answer every 'p' with this */
    const char *first_raw;      /* send these bytes instead of the first reply */
    /* run state */
    int fd;
    char *listen_path;
    GThread *thread;
    GByteArray *in;
    GPtrArray *received;        /* every command, in order */
    char *last_frame;
    gboolean noack, nacked, corrupted, detached, client_gone;
    guint frames_sent;          /* frames the client must ack ('+') */
    guint acks;
    guint cur, qs_next;
    char *failure;
} FakeStub;

static void stub_fail(FakeStub *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void stub_fail(FakeStub *s, const char *fmt, ...)
{
    va_list ap;

    if (s->failure)
        return;
    va_start(ap, fmt);
    s->failure = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static void stub_write(FakeStub *s, const char *buf, gsize len)
{
    while (len > 0 && !s->client_gone) {
        gssize n = send(s->fd, buf, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s->client_gone = TRUE;      /* the client may leave early: not a failure */
            return;
        }
        buf += n;
        len -= n;
    }
}

static void stub_send(FakeStub *s, const char *payload, gsize len)
{
    gsize flen;

    g_free(s->last_frame);
    s->last_frame = gdbstub_packet_encode(payload, len, s->rle, &flen);
    if (s->corrupt_first && !s->corrupted && s->received->len > 0) {
        g_autofree char *bad = g_strdup(s->last_frame);

        s->corrupted = TRUE;
        bad[flen - 1] = bad[flen - 1] == '0' ? '1' : '0';
        stub_write(s, bad, flen);
    } else {
        stub_write(s, s->last_frame, flen);
    }
    if (!s->noack)
        s->frames_sent++;
}

static void stub_send_str(FakeStub *s, const char *payload)
{
    stub_send(s, payload, strlen(payload));
}

static char *hex_le(guint64 v)
{
    GString *s = g_string_new(NULL);

    for (int i = 0; i < 8; i++)
        g_string_append_printf(s, "%02x", (guint)(v >> (8 * i)) & 0xff);
    return g_string_free(s, FALSE);
}

static void stub_xfer(FakeStub *s, const char *args)
{
    g_auto(GStrv) parts = g_strsplit(args, ":", -1);
    const char *doc;
    guint64 off, len;
    gsize dlen;
    g_autoptr(GString) r = NULL;

    if (g_strv_length(parts) != 2 || sscanf(parts[1], "%" G_GINT64_MODIFIER "x,%"
                                            G_GINT64_MODIFIER "x", &off, &len) != 2) {
        stub_fail(s, "bad qXfer arguments '%s'", args);
        stub_send_str(s, "E00");
        return;
    }
    doc = g_hash_table_lookup(s->docs, parts[0]);
    if (!doc) {
        stub_send_str(s, "E00");
        return;
    }
    dlen = strlen(doc);
    if (off > dlen) {
        stub_send_str(s, "E01");
        return;
    }
    if (s->xfer_max)
        len = MIN(len, s->xfer_max);
    r = g_string_new(off + len >= dlen ? "l" : "m");
    g_string_append_len(r, doc + off, MIN(len, dlen - off));
    stub_send(s, r->str, r->len);
}

static void stub_threads(FakeStub *s, gboolean first)
{
    g_autoptr(GString) r = g_string_new(NULL);

    if (first)
        s->qs_next = 0;
    if (s->qs_next >= s->nthreads) {
        stub_send_str(s, "l");
        return;
    }
    g_string_append_c(r, 'm');
    do {
        g_string_append_printf(r, "%s%02x", r->len > 1 ? "," : "", ++s->qs_next);
    } while (s->all_threads_at_once && s->qs_next < s->nthreads);
    stub_send_str(s, r->str);
}

static void stub_extra_info(FakeStub *s, const char *tid)
{
    guint64 n = g_ascii_strtoull(tid, NULL, 16);
    g_autofree char *text = NULL;
    g_autoptr(GString) hex = g_string_new(NULL);

    if (n == 0 || n > s->nthreads) {
        stub_send_str(s, "E22");
        return;
    }
    text = g_strdup_printf("CPU#%u [%s]", (guint)n - 1,
                           s->halted[n - 1] ? "halted " : "running");
    for (const char *p = text; *p; p++)
        g_string_append_printf(hex, "%02x", (guint8)*p);
    stub_send_str(s, hex->str);
}

static void stub_read_reg(FakeStub *s, const char *arg)
{
    guint64 reg = g_ascii_strtoull(arg, NULL, 16);
    g_autofree char *v = NULL;

    if (s->p_reply)
        stub_send_str(s, s->p_reply);
    else if ((int)reg == s->sctlr_regnum)
        stub_send_str(s, (v = hex_le(s->sctlr[s->cur])));
    else if ((int)reg == s->pc_regnum)
        stub_send_str(s, (v = hex_le(s->pc[s->cur])));
    else
        stub_send_str(s, "E14");
}

static void stub_handle(FakeStub *s, const char *cmd)
{
    if (g_str_has_prefix(cmd, "qSupported"))
        stub_send_str(s, s->offer_noack ? "PacketSize=1000;qXfer:features:read+;QStartNoAckMode+"
                                        : "PacketSize=1000;qXfer:features:read+;vContSupported+");
    else if (g_str_equal(cmd, "QStartNoAckMode") && s->offer_noack) {
        stub_send_str(s, "OK");
        s->noack = TRUE;        /* the client still acks this OK */
    } else if (g_str_has_prefix(cmd, "qXfer:features:read:"))
        stub_xfer(s, cmd + strlen("qXfer:features:read:"));
    else if (g_str_equal(cmd, "qfThreadInfo") || g_str_equal(cmd, "qsThreadInfo"))
        stub_threads(s, cmd[1] == 'f');
    else if (g_str_has_prefix(cmd, "Hg")) {
        guint64 n = g_ascii_strtoull(cmd + 2, NULL, 16);

        if (n == 0 || n > s->nthreads) {
            stub_send_str(s, "E22");
            return;
        }
        s->cur = (guint)n - 1;
        stub_send_str(s, "OK");
    } else if (cmd[0] == 'p')
        stub_read_reg(s, cmd + 1);
    else if (g_str_has_prefix(cmd, "qThreadExtraInfo,"))
        stub_extra_info(s, cmd + strlen("qThreadExtraInfo,"));
    else if (g_str_equal(cmd, "D")) {
        s->detached = TRUE;
        stub_send_str(s, "OK");
    } else
        stub_send_str(s, "");
}

/* Read more from the client: FALSE on EOF or after SERVER_WAIT_MS. */
static gboolean stub_fill(FakeStub *s)
{
    struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
    guint8 buf[4096];
    gssize n;

    if (poll(&pfd, 1, SERVER_WAIT_MS) <= 0) {
        stub_fail(s, "stub: the client neither spoke nor hung up");
        return FALSE;
    }
    n = recv(s->fd, buf, sizeof(buf), 0);
    if (n <= 0)
        return FALSE;
    g_byte_array_append(s->in, buf, n);
    return TRUE;
}

/* One decoded client event; TRUE to go on. */
static gboolean stub_event(FakeStub *s, GdbDecode d, GByteArray *p)
{
    guint nreq;

    switch (d) {
    case GDB_DECODE_ACK:
        /* The client acks each frame once, when it reads it (so maybe
         * after sending its next command), and none in no-ack mode. */
        if (++s->acks > s->frames_sent)
            stub_fail(s, "client sent %u acks for %u frames", s->acks, s->frames_sent);
        return TRUE;
    case GDB_DECODE_NACK:
        if (!s->last_frame)
            stub_fail(s, "client nacked before we sent anything");
        else
            stub_write(s, s->last_frame, strlen(s->last_frame));
        return TRUE;
    case GDB_DECODE_PACKET:
        break;
    default:
        stub_fail(s, "client sent a bad frame");
        return FALSE;
    }
    if (!s->noack && s->nack_first && !s->nacked) {
        s->nacked = TRUE;
        stub_write(s, "-", 1);
        return TRUE;
    }
    if (!s->noack)
        stub_write(s, "+", 1);
    g_ptr_array_add(s->received, g_strdup((const char *)p->data));
    nreq = s->received->len - 1;
    if ((int)nreq == s->hangup_after)
        return FALSE;
    if (s->silent_after >= 0 && (int)nreq >= s->silent_after)
        return TRUE;
    if (nreq == 0 && s->first_raw) {
        stub_write(s, s->first_raw, strlen(s->first_raw));
        s->frames_sent++;       /* the client may ack it, if it is a frame */
        return TRUE;
    }
    stub_handle(s, (const char *)p->data);
    return TRUE;
}

static void stub_serve(FakeStub *s)
{
    if (s->running)
        stub_send_str(s, "T02thread:01;");
    for (;;) {
        g_autoptr(GByteArray) p = NULL;
        g_autoptr(GError) error = NULL;
        gsize used;
        GdbDecode d = gdbstub_packet_decode(s->in->data, s->in->len, &used, &p, &error);

        g_byte_array_remove_range(s->in, 0, used);
        if (d == GDB_DECODE_NEED_MORE) {
            if (!stub_fill(s))
                return;
            continue;
        }
        if (!stub_event(s, d, p))
            return;
    }
}

static gboolean stub_accept(FakeStub *s)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct pollfd pfd;
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert(strlen(s->listen_path) < sizeof(sa.sun_path));
    strcpy(sa.sun_path, s->listen_path);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
        stub_fail(s, "cannot listen on '%s': %s", s->listen_path, g_strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return FALSE;
    }
    pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
    if (poll(&pfd, 1, SERVER_WAIT_MS) > 0)
        s->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (s->fd < 0)
        stub_fail(s, "no client connected to '%s'", s->listen_path);
    close(lfd);
    unlink(s->listen_path);
    return s->fd >= 0;
}

static gpointer stub_thread(gpointer opaque)
{
    FakeStub *s = opaque;

    if (!s->listen_path || stub_accept(s))
        stub_serve(s);
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    return NULL;
}

/* A stub like QEMU 7.2 -cpu max with two vCPUs, the VM running. */
static FakeStub *stub_new(GHashTable *docs)
{
    FakeStub *s = g_new0(FakeStub, 1);

    s->docs = docs;
    s->sctlr_regnum = 92;
    s->pc_regnum = 32;
    s->nthreads = 2;
    s->sctlr[0] = 0x00c5183d;
    s->sctlr[1] = 0x00c50838;
    s->pc[0] = 0x4008031c;
    s->pc[1] = 0;
    s->halted[1] = TRUE;
    s->running = TRUE;
    s->rle = TRUE;
    s->xfer_max = 200;          /* several chunks per document */
    s->silent_after = -1;
    s->hangup_after = -1;
    s->fd = -1;
    s->in = g_byte_array_new();
    s->received = g_ptr_array_new_with_free_func(g_free);
    return s;
}

/* Start on one end of a socketpair; the other end is returned. */
static int stub_start_pair(FakeStub *s)
{
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    s->fd = sv[1];
    s->thread = g_thread_new("fake-gdbstub", stub_thread, s);
    return sv[0];
}

static void stub_start_listen(FakeStub *s, const char *path)
{
    s->listen_path = g_strdup(path);
    s->thread = g_thread_new("fake-gdbstub", stub_thread, s);
}

/* Join (bounded by the stub's own waits) and assert it saw no deviation. */
static void stub_join(FakeStub *s)
{
    g_thread_join(s->thread);
    s->thread = NULL;
    g_assert_cmpstr(s->failure, ==, NULL);
}

static void stub_free(FakeStub *s)
{
    if (s->thread)
        g_thread_join(s->thread);
    if (s->fd >= 0)
        close(s->fd);
    g_byte_array_unref(s->in);
    g_ptr_array_unref(s->received);
    g_free(s->listen_path);
    g_free(s->last_frame);
    g_free(s->failure);
    g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeStub, stub_free)

static const char *last_command(FakeStub *s)
{
    return s->received->len ? s->received->pdata[s->received->len - 1] : "";
}

/* After a successful session: every frame acked exactly once. */
static void assert_all_acked(FakeStub *s)
{
    g_assert_cmpuint(s->acks, ==, s->frames_sent);
}

static gboolean received(FakeStub *s, const char *cmd)
{
    for (guint i = 0; i < s->received->len; i++)
        if (g_str_equal(s->received->pdata[i], cmd))
            return TRUE;
    return FALSE;
}

static GdbVcpuSctlr *vcpu(GdbSctlrReport *r, guint i)
{
    return &g_array_index(r->vcpus, GdbVcpuSctlr, i);
}

/* ---- sessions ----------------------------------------------------------- */

static void assert_two_vcpus(GdbSctlrReport *r)
{
    g_assert_cmpuint(r->vcpus->len, ==, 2);
    g_assert_cmpint(vcpu(r, 0)->index, ==, 0);
    g_assert_cmpstr(vcpu(r, 0)->thread_id, ==, "01");
    g_assert_cmphex(vcpu(r, 0)->sctlr, ==, 0x00c5183d);
    g_assert_true(vcpu(r, 0)->have_pc);
    g_assert_cmphex(vcpu(r, 0)->pc, ==, 0x4008031c);
    g_assert_false(vcpu(r, 0)->halted);
    g_assert_cmpint(vcpu(r, 1)->index, ==, 1);
    g_assert_cmpstr(vcpu(r, 1)->thread_id, ==, "02");
    g_assert_cmphex(vcpu(r, 1)->sctlr, ==, 0x00c50838);
    g_assert_cmphex(vcpu(r, 1)->pc, ==, 0);
    g_assert_true(vcpu(r, 1)->halted);
    g_assert_true(gdbstub_vcpu_never_started(vcpu(r, 1)));
    g_assert_cmpint(r->regs.sctlr_regnum, ==, 92);
    g_assert_cmpstr(r->regs.sctlr_name, ==, "SCTLR");
}

static void assert_acked(FakeStub *s)
{
    assert_all_acked(s);
}

/* QEMU 7.2: a running VM, the stop packet on connect, 'D' at the end. */
static void test_read_running(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);
    g_autoptr(GError) error = NULL;
    g_autoptr(GdbSctlrReport) r = gdbstub_read_sctlr_fd(stub_start_pair(s), GDB_VM_RUNNING,
                                                        deadline_in_ms(OK_MS), &error);

    g_assert_no_error(error);
    stub_join(s);
    assert_acked(s);
    assert_two_vcpus(r);
    g_assert_true(r->stop_packet);
    g_assert_true(r->resumed);
    g_assert_true(s->detached);
    g_assert_cmpstr(last_command(s), ==, "D");
    g_assert_cmpint(r->stopped_us, >, 0);
    g_assert_cmpint(r->stopped_us, ==, r->session_us);
    /* target.xml came first, and in chunks. */
    g_assert_true(g_str_has_prefix(s->received->pdata[1], "qXfer:features:read:target.xml:0,"));
    g_assert_true(received(s, "qXfer:features:read:system-registers.xml:c8,ffb"));
    g_assert_true(received(s, "p5c"));
    g_assert_true(received(s, "p20"));
}

/* QEMU 10.0: a running VM is stopped without a stop packet; the caller
 * knows it was running, so 'D' all the same. */
static void test_read_running_no_stop_packet(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);
    g_autoptr(GError) error = NULL;
    g_autoptr(GdbSctlrReport) r = NULL;

    s->running = FALSE;
    r = gdbstub_read_sctlr_fd(stub_start_pair(s), GDB_VM_RUNNING, deadline_in_ms(OK_MS),
                              &error);
    g_assert_no_error(error);
    stub_join(s);
    assert_acked(s);
    assert_two_vcpus(r);
    g_assert_false(r->stop_packet);
    g_assert_true(r->resumed);
    g_assert_true(s->detached);
    g_assert_cmpint(r->stopped_us, ==, r->session_us);
}

/* A VM that was not running: no 'D', nothing stopped by us. */
static void test_read_stopped(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);
    g_autoptr(GError) error = NULL;
    g_autoptr(GdbSctlrReport) r = NULL;

    s->running = FALSE;
    r = gdbstub_read_sctlr_fd(stub_start_pair(s), GDB_VM_STOPPED, deadline_in_ms(OK_MS),
                              &error);
    g_assert_no_error(error);
    stub_join(s);
    assert_acked(s);
    assert_two_vcpus(r);
    g_assert_false(r->stop_packet);
    g_assert_false(r->resumed);
    g_assert_false(s->detached);
    g_assert_cmpint(r->stopped_us, ==, 0);
    g_assert_cmpint(r->session_us, >, 0);
}

/* The caller said stopped but QEMU 7.2's stop packet says it was running:
 * still no 'D' (at pre-switchover a 'D' is fatal); the report says so. */
static void test_read_stopped_but_stop_packet(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);
    g_autoptr(GError) error = NULL;
    g_autoptr(GdbSctlrReport) r = gdbstub_read_sctlr_fd(stub_start_pair(s), GDB_VM_STOPPED,
                                                        deadline_in_ms(OK_MS), &error);

    g_assert_no_error(error);
    stub_join(s);
    assert_acked(s);
    assert_two_vcpus(r);
    g_assert_true(r->stop_packet);
    g_assert_false(r->resumed);
    g_assert_false(s->detached);
    g_assert_cmpint(r->stopped_us, ==, r->session_us);
}

/* Knobs that must not change the result. */
typedef enum { K_NOACK, K_NACK, K_CORRUPT, K_PLAIN, K_ALL_THREADS, K_EL1 } Knob;

static void run_with_knob(Knob k)
{
    g_autoptr(GHashTable) docs = qemu_docs(k == K_EL1 ? "SCTLR_EL1" : "SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);
    g_autoptr(GError) error = NULL;
    g_autoptr(GdbSctlrReport) r = NULL;

    s->offer_noack = k == K_NOACK;
    s->nack_first = k == K_NACK;
    s->corrupt_first = k == K_CORRUPT;
    s->rle = k != K_PLAIN;
    s->xfer_max = k == K_PLAIN ? 0 : s->xfer_max;
    s->all_threads_at_once = k == K_ALL_THREADS;
    r = gdbstub_read_sctlr_fd(stub_start_pair(s), GDB_VM_RUNNING, deadline_in_ms(OK_MS),
                              &error);
    g_assert_no_error(error);
    stub_join(s);
    assert_acked(s);
    if (k == K_EL1) {
        g_assert_cmpstr(r->regs.sctlr_name, ==, "SCTLR_EL1");
        g_assert_cmphex(vcpu(r, 0)->sctlr, ==, 0x00c5183d);
        return;
    }
    assert_two_vcpus(r);
    g_assert_true(s->detached);
    if (k == K_NOACK) {
        g_assert_true(s->noack);
        g_assert_true(received(s, "QStartNoAckMode"));
    } else {
        g_assert_false(received(s, "QStartNoAckMode"));
    }
    if (k == K_NACK)
        g_assert_true(s->nacked);
    if (k == K_CORRUPT)
        g_assert_true(s->corrupted);
}

static void test_read_noack(void) { run_with_knob(K_NOACK); }
static void test_read_nack(void) { run_with_knob(K_NACK); }
static void test_read_corrupt_reply(void) { run_with_knob(K_CORRUPT); }
static void test_read_plain(void) { run_with_knob(K_PLAIN); }
static void test_read_all_threads(void) { run_with_knob(K_ALL_THREADS); }
static void test_read_sctlr_el1(void) { run_with_knob(K_EL1); }

/* Run a session expected to fail with @code before @ms; return the stub. */
static FakeStub *fail_session(FakeStub *s, GdbVmState vm, guint ms, MtErrorCode code,
                              const char *msg_part)
{
    g_autoptr(GError) error = NULL;
    Deadline d = deadline_in_ms(ms);
    gint64 t0 = g_get_monotonic_time();
    GdbSctlrReport *r = gdbstub_read_sctlr_fd(stub_start_pair(s), vm, d, &error);
    gint64 took_ms = (g_get_monotonic_time() - t0) / 1000;

    g_assert_null(r);
    g_assert_error(error, MT_ERROR, (int)code);
    if (msg_part)
        assert_contains(error->message, msg_part);
    g_assert_cmpint(took_ms, <=, (gint64)ms + LATE_SLACK_MS);
    if (code == MT_ERROR_TIMEOUT)
        g_assert_cmpint(took_ms, >=, (gint64)ms - EARLY_SLACK_MS);
    stub_join(s);
    return s;
}

static void test_error_silent(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);

    s->silent_after = 0;
    s->running = FALSE;
    fail_session(s, GDB_VM_STOPPED, SHORT_MS, MT_ERROR_TIMEOUT,
                 "timed out waiting for the reply to 'qSupported");
    g_assert_cmpuint(s->received->len, ==, 1);
}

/* Silent after we stopped the VM: the client still sends 'D' on its way out. */
static void test_error_silent_mid_session(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);

    s->silent_after = 5;
    fail_session(s, GDB_VM_RUNNING, SHORT_MS, MT_ERROR_TIMEOUT, "timed out");
    g_assert_cmpstr(last_command(s), ==, "D");
    g_assert_cmpuint(s->received->len, ==, 7);
}

static void test_error_silent_stopped(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);

    s->silent_after = 5;
    s->running = FALSE;
    fail_session(s, GDB_VM_STOPPED, SHORT_MS, MT_ERROR_TIMEOUT, "timed out");
    g_assert_false(received(s, "D"));
}

static void test_error_no_sctlr(void)
{
    g_autoptr(GHashTable) docs = qemu_docs(NULL, -1);
    g_autoptr(FakeStub) s = stub_new(docs);

    fail_session(s, GDB_VM_RUNNING, OK_MS, MT_ERROR_UNSUPPORTED,
                 "describes no SCTLR_EL1 or SCTLR register (120 registers in 4 documents)");
    g_assert_cmpstr(last_command(s), ==, "D");  /* the VM was resumed all the same */
}

static void test_error_hangup(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);

    s->hangup_after = 3;
    fail_session(s, GDB_VM_RUNNING, OK_MS, MT_ERROR_DISCONNECTED,
                 "closed the connection");
}

static void test_error_p_refused(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);

    s->p_reply = "E14";
    fail_session(s, GDB_VM_RUNNING, OK_MS, MT_ERROR_PROTOCOL,
                 "refused 'p5c': E14");
}

static void test_error_p_unsupported(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);

    s->p_reply = "";
    fail_session(s, GDB_VM_RUNNING, OK_MS, MT_ERROR_PROTOCOL,
                 "does not support 'p5c'");
}

static void test_error_p_unavailable(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);

    s->p_reply = "xxxxxxxxxxxxxxxx";
    fail_session(s, GDB_VM_RUNNING, OK_MS, MT_ERROR_PROTOCOL, "unavailable");
}

static void test_error_bad_frame(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);
    g_autofree char *bad = raw_frame("*x");

    s->first_raw = bad;
    fail_session(s, GDB_VM_RUNNING, OK_MS, MT_ERROR_PROTOCOL, "nothing to repeat");
}

static void test_error_exit_packet(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);
    g_autofree char *w = raw_frame("W00");

    s->first_raw = w;
    s->running = FALSE;
    fail_session(s, GDB_VM_STOPPED, OK_MS, MT_ERROR_DISCONNECTED, "target exited");
}

static void test_error_missing_include(void)
{
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);

    g_hash_table_remove(docs, "sve-registers.xml");
    fail_session(s, GDB_VM_RUNNING, OK_MS, MT_ERROR_PROTOCOL,
                 "refused 'qXfer:features:read:sve-registers.xml:0,ffb': E00");
}

/* ---- with QMP: a fake QMP server that answers query-status ----------------- */

typedef struct {
    int fd;
    GThread *thread;
    const char *const *statuses;   /* answered in turn to query-status */
    guint next;
    GPtrArray *commands;
    char *failure;
} FakeQmp;

static void fake_qmp_reply(FakeQmp *q, const char *json)
{
    g_autofree char *line = g_strconcat(json, "\n", NULL);

    if (send(q->fd, line, strlen(line), MSG_NOSIGNAL) != (gssize)strlen(line) && !q->failure)
        q->failure = g_strdup("fake QMP: send failed");
}

static void fake_qmp_handle(FakeQmp *q, const char *line)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    const char *cmd;

    if (!json_parser_load_from_data(parser, line, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        q->failure = g_strdup_printf("fake QMP: bad line '%s'", line);
        return;
    }
    cmd = json_object_get_string_member(json_node_get_object(json_parser_get_root(parser)),
                                        "execute");
    g_ptr_array_add(q->commands, g_strdup(cmd));
    if (g_str_equal(cmd, "query-status")) {
        g_autofree char *r = g_strdup_printf("{\"return\": {\"status\": \"%s\", "
                                             "\"running\": false}}", q->statuses[q->next]);
        if (q->statuses[q->next + 1])
            q->next++;
        fake_qmp_reply(q, r);
    } else {
        fake_qmp_reply(q, "{\"return\": {}}");
    }
}

static gpointer fake_qmp_thread(gpointer opaque)
{
    FakeQmp *q = opaque;
    g_autoptr(GString) in = g_string_new(NULL);

    fake_qmp_reply(q, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, "
                      "\"major\": 7}, \"package\": \"\"}, \"capabilities\": []}}");
    for (;;) {
        struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
        char buf[1024], *nl;
        gssize n;

        while ((nl = strchr(in->str, '\n'))) {
            g_autofree char *line = g_strndup(in->str, nl - in->str);

            g_string_erase(in, 0, nl - in->str + 1);
            fake_qmp_handle(q, line);
        }
        if (poll(&pfd, 1, SERVER_WAIT_MS) <= 0 || (n = recv(q->fd, buf, sizeof(buf), 0)) <= 0)
            return NULL;
        g_string_append_len(in, buf, n);
    }
}

/* A QMP client talking to a fake server that answers @statuses in turn. */
static QmpClient *fake_qmp_start(FakeQmp *q, const char *const *statuses)
{
    int sv[2];
    g_autoptr(GError) error = NULL;
    QmpClient *client;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    q->fd = sv[1];
    q->statuses = statuses;
    q->commands = g_ptr_array_new_with_free_func(g_free);
    q->thread = g_thread_new("fake-qmp", fake_qmp_thread, q);
    client = qmp_new_from_fd(sv[0], deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    return client;
}

/* Close the client first; returns the commands as one string. */
static char *fake_qmp_finish(FakeQmp *q)
{
    char *all;

    g_thread_join(q->thread);
    close(q->fd);
    g_assert_cmpstr(q->failure, ==, NULL);
    g_ptr_array_add(q->commands, NULL);
    all = g_strjoinv(" ", (char **)q->commands->pdata);
    g_ptr_array_unref(q->commands);
    return all;
}

/* One gdbstub_read_sctlr_qmp() against a fake QMP answering @statuses and
 * a fake stub (stop packet if @running); returns the QMP commands. */
static char *qmp_session(const char *const *statuses, gboolean running, MtErrorCode code,
                         const char *msg_part, FakeStub **stub_out)
{
    g_autofree char *dir = g_dir_make_tmp("mt-gdb-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "gdb.sock", NULL);
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    FakeStub *s = stub_new(docs);
    FakeQmp q = { 0 };
    QmpClient *qmp = fake_qmp_start(&q, statuses);
    g_autoptr(GError) error = NULL;
    g_autoptr(GdbSctlrReport) r = NULL;

    s->running = running;
    stub_start_listen(s, path);
    r = gdbstub_read_sctlr_qmp(qmp, path, deadline_in_ms(OK_MS), &error);
    if (msg_part) {
        g_assert_null(r);
        g_assert_error(error, MT_ERROR, (int)code);
        assert_contains(error->message, msg_part);
    } else {
        g_assert_no_error(error);
        assert_two_vcpus(r);
    }
    qmp_free(qmp);
    stub_join(s);
    s->docs = NULL;
    *stub_out = s;
    g_assert_cmpint(g_rmdir(dir), ==, 0);
    return fake_qmp_finish(&q);
}

static void test_qmp_running(void)
{
    static const char *const st[] = { "running", "running", NULL };
    g_autoptr(FakeStub) s = NULL;
    g_autofree char *cmds = qmp_session(st, FALSE, 0, NULL, &s);

    g_assert_cmpstr(cmds, ==, "qmp_capabilities query-status query-status");
    g_assert_true(s->detached);
}

static void test_qmp_paused(void)
{
    static const char *const st[] = { "paused", "paused", NULL };
    g_autoptr(FakeStub) s = NULL;
    g_autofree char *cmds = qmp_session(st, FALSE, 0, NULL, &s);

    g_assert_cmpstr(cmds, ==, "qmp_capabilities query-status query-status");
    g_assert_false(s->detached);
}

static void test_qmp_pre_switchover(void)
{
    static const char *const st[] = { "finish-migrate", "finish-migrate", NULL };
    g_autoptr(FakeStub) s = NULL;
    g_autofree char *cmds = qmp_session(st, FALSE, 0, NULL, &s);

    g_assert_false(s->detached);
    g_assert_cmpstr(cmds, ==, "qmp_capabilities query-status query-status");
}

/* Running before, paused after: resumed with 'cont', and an error. */
static void test_qmp_left_paused(void)
{
    static const char *const st[] = { "running", "paused", NULL };
    g_autoptr(FakeStub) s = NULL;
    g_autofree char *cmds = qmp_session(st, TRUE, MT_ERROR_PROTOCOL,
                                        "'running' before the gdbstub read and 'paused' "
                                        "after (resumed with QMP cont)", &s);

    g_assert_cmpstr(cmds, ==, "qmp_capabilities query-status query-status cont");
}

/* Stopped before, running after: an error nothing can undo. */
static void test_qmp_started_a_stopped_vm(void)
{
    static const char *const st[] = { "prelaunch", "running", NULL };
    g_autoptr(FakeStub) s = NULL;
    g_autofree char *cmds = qmp_session(st, FALSE, MT_ERROR_PROTOCOL,
                                        "'prelaunch' before the gdbstub read and 'running' after",
                                        &s);

    g_assert_cmpstr(cmds, ==, "qmp_capabilities query-status query-status");
}

/* ---- connecting by path ------------------------------------------------- */

static void test_connect_unix(void)
{
    g_autofree char *dir = g_dir_make_tmp("mt-gdb-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "gdb.sock", NULL);
    g_autoptr(GHashTable) docs = qemu_docs("SCTLR", 92);
    g_autoptr(FakeStub) s = stub_new(docs);
    g_autoptr(GError) error = NULL;
    g_autoptr(GdbSctlrReport) r = NULL;

    stub_start_listen(s, path);
    r = gdbstub_read_sctlr(path, GDB_VM_RUNNING, deadline_in_ms(OK_MS), &error);
    g_assert_no_error(error);
    stub_join(s);
    assert_acked(s);
    assert_two_vcpus(r);
    g_assert_true(s->detached);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_connect_never_appears(void)
{
    g_autofree char *dir = g_dir_make_tmp("mt-gdb-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "gdb.sock", NULL);
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time(), took_ms;
    GdbSctlrReport *r = gdbstub_read_sctlr(path, GDB_VM_RUNNING, deadline_in_ms(SHORT_MS),
                                           &error);

    took_ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_null(r);
    g_assert_error(error, MT_ERROR, MT_ERROR_TIMEOUT);
    assert_contains(error->message, path);
    g_assert_cmpint(took_ms, >=, SHORT_MS - EARLY_SLACK_MS);
    g_assert_cmpint(took_ms, <=, SHORT_MS + LATE_SLACK_MS);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_connect_path_length(void)
{
    g_autofree char *path = g_strnfill(200, 'a');
    g_autoptr(GError) error = NULL;

    g_assert_null(gdbstub_read_sctlr(path, GDB_VM_RUNNING, deadline_in_ms(OK_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_ENV);
}

/* ---- main --------------------------------------------------------------- */

static const struct {
    const char *path;
    GTestFunc func;
} tests[] = {
    { "/gdbstub/packet/encode-known", test_encode_known },
    { "/gdbstub/packet/checksum", test_checksum },
    { "/gdbstub/packet/escapes", test_escapes },
    { "/gdbstub/packet/rle-decode", test_rle_decode },
    { "/gdbstub/packet/rle-encode", test_rle_encode },
    { "/gdbstub/packet/round-trip-random", test_round_trip_random },
    { "/gdbstub/packet/acks-and-junk", test_acks_and_junk },
    { "/gdbstub/packet/split-stream", test_split_stream },
    { "/gdbstub/packet/corrupt", test_corrupt_frames },
    { "/gdbstub/packet/malformed", test_malformed_frames },
    { "/gdbstub/packet/fuzz", test_fuzz },
    { "/gdbstub/packet/reg-decode", test_reg_decode },
    { "/gdbstub/tdesc/qemu-like", test_tdesc_qemu_like },
    { "/gdbstub/tdesc/sequential", test_tdesc_sequential },
    { "/gdbstub/tdesc/prefers-el1", test_tdesc_prefers_el1 },
    { "/gdbstub/tdesc/errors", test_tdesc_errors },
    { "/gdbstub/policy/helpers", test_policy_helpers },
    { "/gdbstub/read/running", test_read_running },
    { "/gdbstub/read/running-no-stop-packet", test_read_running_no_stop_packet },
    { "/gdbstub/read/stopped", test_read_stopped },
    { "/gdbstub/read/stopped-but-stop-packet", test_read_stopped_but_stop_packet },
    { "/gdbstub/read/noack", test_read_noack },
    { "/gdbstub/read/nack", test_read_nack },
    { "/gdbstub/read/corrupt-reply", test_read_corrupt_reply },
    { "/gdbstub/read/plain", test_read_plain },
    { "/gdbstub/read/all-threads-at-once", test_read_all_threads },
    { "/gdbstub/read/sctlr-el1", test_read_sctlr_el1 },
    { "/gdbstub/error/silent", test_error_silent },
    { "/gdbstub/error/silent-mid-session", test_error_silent_mid_session },
    { "/gdbstub/error/silent-stopped", test_error_silent_stopped },
    { "/gdbstub/error/no-sctlr", test_error_no_sctlr },
    { "/gdbstub/error/hangup", test_error_hangup },
    { "/gdbstub/error/p-refused", test_error_p_refused },
    { "/gdbstub/error/p-unsupported", test_error_p_unsupported },
    { "/gdbstub/error/p-unavailable", test_error_p_unavailable },
    { "/gdbstub/error/bad-frame", test_error_bad_frame },
    { "/gdbstub/error/exit-packet", test_error_exit_packet },
    { "/gdbstub/error/missing-include", test_error_missing_include },
    { "/gdbstub/qmp/running", test_qmp_running },
    { "/gdbstub/qmp/paused", test_qmp_paused },
    { "/gdbstub/qmp/pre-switchover", test_qmp_pre_switchover },
    { "/gdbstub/qmp/left-paused", test_qmp_left_paused },
    { "/gdbstub/qmp/started-a-stopped-vm", test_qmp_started_a_stopped_vm },
    { "/gdbstub/connect/unix", test_connect_unix },
    { "/gdbstub/connect/never-appears", test_connect_never_appears },
    { "/gdbstub/connect/path-length", test_connect_path_length },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    watchdog_install();
    for (guint i = 0; i < G_N_ELEMENTS(tests); i++)
        g_test_add_data_func(tests[i].path, &tests[i].func, watchdog_run);
    return g_test_run();
}
