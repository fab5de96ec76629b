/* gdbstub.c: the GDB remote protocol client that reads SCTLR_EL1 (see gdbstub.h). */
#include "gdbstub.h"
#include "unix-socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Run-length counts: the count character is n + 29, printable, so n runs
 * from 3 (' ') to 97 ('~'); 6 and 7 would be '#' and '$'. */
#define RLE_BASE        29
#define RLE_MIN         3
#define RLE_MAX         97
#define ESCAPE_CHAR     '}'
#define ESCAPE_XOR      0x20

/* Bounds on what a stub may make us do. */
#define XML_MAX_BYTES   (1024 * 1024)   /* one target-description document */
#define XML_MAX_DEPTH   4
#define XML_MAX_DOCS    32
#define XML_MAX_REGNUM  100000
#define XML_CHUNK       0xffb           /* qXfer request size (what gdb asks) */
#define ANNEX_MAX       128
#define MAX_VCPUS       4096
#define MAX_RETRANSMIT  3               /* '-' answers to one frame */
#define MAX_CORRUPT     8               /* damaged frames in one session */

/* ---- packets ------------------------------------------------------------ */

guint8 gdbstub_checksum(const void *data, gsize len)
{
    const guint8 *p = data;
    guint8 sum = 0;

    for (gsize i = 0; i < len; i++)
        sum += p[i];
    return sum;
}

static gboolean needs_escape(guint8 c)
{
    return c == '$' || c == '#' || c == ESCAPE_CHAR || c == '*';
}

static void append_escaped(GString *out, guint8 c)
{
    if (needs_escape(c)) {
        g_string_append_c(out, ESCAPE_CHAR);
        g_string_append_c(out, (char)(c ^ ESCAPE_XOR));
    } else {
        g_string_append_c(out, (char)c);
    }
}

/* @c, already written once, repeats @more times: as copies when short, as
 * "*n" counts otherwise. */
static void append_repeats(GString *out, guint8 c, gsize more)
{
    while (more > 0) {
        gsize n = MIN(more, (gsize)RLE_MAX);

        if (n < RLE_MIN) {
            append_escaped(out, c);
            more--;
            continue;
        }
        if (n + RLE_BASE == '#' || n + RLE_BASE == '$')
            n = '#' - RLE_BASE - 1;     /* 5: the rest goes in the next round */
        g_string_append_c(out, '*');
        g_string_append_c(out, (char)(n + RLE_BASE));
        more -= n;
    }
}

char *gdbstub_packet_encode(const void *payload, gsize len, gboolean rle,
                            gsize *out_len)
{
    const guint8 *p = payload;
    GString *out = g_string_sized_new(len + 5);
    gsize i = 0;
    guint8 sum;

    g_string_append_c(out, '$');
    while (i < len) {
        gsize run = 1;

        while (rle && i + run < len && p[i + run] == p[i])
            run++;
        append_escaped(out, p[i]);
        append_repeats(out, p[i], run - 1);
        i += run;
    }
    sum = gdbstub_checksum(out->str + 1, out->len - 1);
    g_string_append_printf(out, "#%02x", sum);
    if (out_len)
        *out_len = out->len;
    return g_string_free(out, FALSE);
}

/* Unescape and expand the data of one frame. */
static GByteArray *frame_expand(const guint8 *data, gsize len, GError **error)
{
    g_autoptr(GByteArray) out = g_byte_array_sized_new(len + 1);

    for (gsize i = 0; i < len; i++) {
        guint8 c = data[i];

        if (c == ESCAPE_CHAR) {
            if (++i == len) {
                g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                            "gdbstub frame ends inside an escape");
                return NULL;
            }
            c = data[i] ^ ESCAPE_XOR;
        } else if (c == '*') {
            guint n;

            if (out->len == 0 || i + 1 == len) {
                g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                            "gdbstub frame has a run-length code %s",
                            out->len == 0 ? "with nothing to repeat" : "without a count");
                return NULL;
            }
            i++;
            if (data[i] < RLE_MIN + RLE_BASE || data[i] > RLE_MAX + RLE_BASE) {
                g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                            "gdbstub frame has an invalid run-length count 0x%02x",
                            data[i]);
                return NULL;
            }
            n = (guint)data[i] - RLE_BASE;
            if (out->len + n > GDB_MAX_PAYLOAD) {
                g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                            "gdbstub packet expands past %d bytes", GDB_MAX_PAYLOAD);
                return NULL;
            }
            c = out->data[out->len - 1];    /* a copy: appending may move data */
            for (guint k = 0; k < n; k++)
                g_byte_array_append(out, &c, 1);
            continue;
        }
        g_byte_array_append(out, &c, 1);
    }
    /* A NUL after the data, not counted, so text replies are C strings. */
    g_byte_array_append(out, (const guint8 *)"", 1);
    g_byte_array_set_size(out, out->len - 1);
    return g_steal_pointer(&out);
}

static int hexval(guint8 c)
{
    return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

/* A complete frame "$data#cs" of @flen bytes at @f. */
static GdbDecode frame_decode(const guint8 *f, gsize flen, GByteArray **payload,
                              GError **error)
{
    gsize dlen = flen - 4;
    int hi = hexval(f[flen - 2]), lo = hexval(f[flen - 1]);
    guint8 sum = gdbstub_checksum(f + 1, dlen);

    if (hi < 0 || lo < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub frame has a non-hex checksum '%c%c'",
                    g_ascii_isprint(f[flen - 2]) ? f[flen - 2] : '?',
                    g_ascii_isprint(f[flen - 1]) ? f[flen - 1] : '?');
        return GDB_DECODE_CORRUPT;
    }
    if ((guint8)(hi << 4 | lo) != sum) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub frame checksum 0x%02x, data sums to 0x%02x",
                    hi << 4 | lo, sum);
        return GDB_DECODE_CORRUPT;
    }
    *payload = frame_expand(f + 1, dlen, error);
    return *payload ? GDB_DECODE_PACKET : GDB_DECODE_ERROR;
}

GdbDecode gdbstub_packet_decode(const guint8 *buf, gsize len, gsize *consumed,
                                GByteArray **payload, GError **error)
{
    gsize i = 0, j;

    *payload = NULL;
    while (i < len && buf[i] != '$' && buf[i] != '+' && buf[i] != '-')
        i++;
    *consumed = i;
    if (i == len)
        return GDB_DECODE_NEED_MORE;
    if (buf[i] != '$') {
        *consumed = i + 1;
        return buf[i] == '+' ? GDB_DECODE_ACK : GDB_DECODE_NACK;
    }
    for (j = i + 1; j < len && buf[j] != '#' && buf[j] != '$'; j++)
        if (j - i > GDB_MAX_FRAME) {
            *consumed = j;
            g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                        "gdbstub frame longer than %d bytes", GDB_MAX_FRAME);
            return GDB_DECODE_ERROR;
        }
    if (j < len && buf[j] == '$') {
        *consumed = j;
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub frame cut short by a new '$'");
        return GDB_DECODE_CORRUPT;
    }
    if (j + 2 >= len)
        return GDB_DECODE_NEED_MORE;
    *consumed = j + 3;
    return frame_decode(buf + i, j + 3 - i, payload, error);
}

gboolean gdbstub_decode_reg_le(const char *hex, gsize len, guint64 *value,
                               GError **error)
{
    guint64 v = 0;

    if (len >= 2 && (hex[0] == 'x' || hex[1] == 'x')) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub says the register value is unavailable");
        return FALSE;
    }
    if (len == 0 || len % 2 || len > 16) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub register value '%.*s' is not 1 to 8 hex bytes",
                    (int)MIN(len, 40), hex);
        return FALSE;
    }
    for (gsize i = 0; i < len; i += 2) {
        int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);

        if (hi < 0 || lo < 0) {
            g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                        "gdbstub register value '%.*s' is not hex",
                        (int)MIN(len, 40), hex);
            return FALSE;
        }
        v |= (guint64)(hi << 4 | lo) << (4 * i);
    }
    *value = v;
    return TRUE;
}

/* ---- target descriptions ------------------------------------------------ */

void gdbstub_regs_clear(GdbRegs *r)
{
    g_clear_pointer(&r->sctlr_name, g_free);
}

typedef struct {
    GdbXferFetch fetch;
    gpointer opaque;
    GdbRegs *regs;
    guint next_regnum;
    guint depth;
    int sctlr_el1;              /* regnum of "SCTLR_EL1", or -1 */
    int sctlr;                  /* regnum of "SCTLR", or -1 */
    guint sctlr_el1_bits, sctlr_bits;
    const char *want;           /* gdbstub_write_reg: the register sought */
    int want_regnum;            /* its number, or -1 */
    guint want_bits;
} TdescWalk;

static gboolean tdesc_parse_doc(TdescWalk *w, const char *annex, GError **error);

static const char *attr(const char **names, const char **values, const char *name)
{
    for (guint i = 0; names[i]; i++)
        if (g_str_equal(names[i], name))
            return values[i];
    return NULL;
}

static gboolean tdesc_reg(TdescWalk *w, const char **names, const char **values,
                          GError **error)
{
    const char *name = attr(names, values, "name");
    const char *regnum = attr(names, values, "regnum");
    const char *bitsize = attr(names, values, "bitsize");
    guint64 n = w->next_regnum, bits = 0;

    if (!name) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub target description has a <reg> without a name");
        return FALSE;
    }
    if (regnum && !g_ascii_string_to_unsigned(regnum, 10, 0, XML_MAX_REGNUM, &n, NULL)) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub register '%s' has a bad regnum '%s'", name, regnum);
        return FALSE;
    }
    if (bitsize && !g_ascii_string_to_unsigned(bitsize, 10, 0, 4096, &bits, NULL))
        bits = 0;
    w->next_regnum = (guint)n + 1;
    w->regs->nregs++;
    if (w->want && w->want_regnum < 0 && g_ascii_strcasecmp(name, w->want) == 0) {
        w->want_regnum = (int)n;
        w->want_bits = (guint)bits;
    }
    if (g_ascii_strcasecmp(name, "SCTLR_EL1") == 0 && w->sctlr_el1 < 0) {
        w->sctlr_el1 = (int)n;
        w->sctlr_el1_bits = (guint)bits;
    } else if (g_ascii_strcasecmp(name, "SCTLR") == 0 && w->sctlr < 0) {
        w->sctlr = (int)n;
        w->sctlr_bits = (guint)bits;
    } else if (g_ascii_strcasecmp(name, "pc") == 0 && w->regs->pc_regnum < 0) {
        w->regs->pc_regnum = (int)n;
    }
    return TRUE;
}

static void tdesc_start(GMarkupParseContext *ctx, const char *element,
                        const char **names, const char **values,
                        gpointer opaque, GError **error)
{
    TdescWalk *w = opaque;
    const char *href;

    (void)ctx;
    if (g_str_equal(element, "reg")) {
        tdesc_reg(w, names, values, error);
        return;
    }
    if (!g_str_equal(element, "xi:include"))
        return;
    href = attr(names, values, "href");
    if (!href) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub target description has an <xi:include> without href");
        return;
    }
    tdesc_parse_doc(w, href, error);
}

static const GMarkupParser tdesc_parser = { .start_element = tdesc_start };

static gboolean annex_valid(const char *annex)
{
    gsize len = strlen(annex);

    if (len == 0 || len > ANNEX_MAX)
        return FALSE;
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isgraph(annex[i]) || strchr(":,#$}*", annex[i]))
            return FALSE;
    return TRUE;
}

static gboolean tdesc_parse_doc(TdescWalk *w, const char *annex, GError **error)
{
    g_autoptr(GMarkupParseContext) ctx = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *xml = NULL;

    if (w->depth >= XML_MAX_DEPTH || w->regs->ndocs >= XML_MAX_DOCS) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub target description nests too deep or includes too "
                    "many documents (at '%s')", annex);
        return FALSE;
    }
    if (!annex_valid(annex)) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub target description includes a bad name '%.40s'", annex);
        return FALSE;
    }
    xml = w->fetch(annex, w->opaque, error);
    if (!xml)
        return FALSE;
    w->regs->ndocs++;
    w->depth++;
    ctx = g_markup_parse_context_new(&tdesc_parser, 0, w, NULL);
    if (!g_markup_parse_context_parse(ctx, xml, -1, &local) ||
        !g_markup_parse_context_end_parse(ctx, &local)) {
        w->depth--;
        if (local->domain == MT_ERROR) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "gdbstub sent a malformed '%s': %s", annex, local->message);
        return FALSE;
    }
    w->depth--;
    return TRUE;
}

gboolean gdbstub_find_regs(GdbXferFetch fetch, gpointer opaque, GdbRegs *out,
                           GError **error)
{
    TdescWalk w = { .fetch = fetch, .opaque = opaque, .regs = out,
                    .sctlr_el1 = -1, .sctlr = -1 };

    memset(out, 0, sizeof(*out));
    out->sctlr_regnum = -1;
    out->pc_regnum = -1;
    if (!tdesc_parse_doc(&w, "target.xml", error))
        return FALSE;
    if (w.sctlr_el1 < 0 && w.sctlr < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED,
                    "the gdbstub describes no SCTLR_EL1 or SCTLR register "
                    "(%u registers in %u documents): not an aarch64 QEMU with "
                    "system registers over gdb?", out->nregs, out->ndocs);
        return FALSE;
    }
    out->sctlr_regnum = w.sctlr_el1 >= 0 ? w.sctlr_el1 : w.sctlr;
    out->sctlr_bits = w.sctlr_el1 >= 0 ? w.sctlr_el1_bits : w.sctlr_bits;
    out->sctlr_name = g_strdup(w.sctlr_el1 >= 0 ? "SCTLR_EL1" : "SCTLR");
    return TRUE;
}

/* ---- the connection ----------------------------------------------------- */

typedef struct {
    int fd;
    GByteArray *in;
    Deadline deadline;
    gboolean noack;
    gboolean got_reply;         /* a reply to one of our commands arrived */
    gboolean saw_stop;          /* a stop packet came before the first reply */
    guint corrupt;              /* damaged frames so far */
    gint64 t_connect;
} GdbConn;

static void conn_free(GdbConn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    g_byte_array_unref(c->in);
    g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GdbConn, conn_free)

static gboolean conn_poll(GdbConn *c, short events, const char *what, GError **error)
{
    for (;;) {
        struct pollfd pfd = { .fd = c->fd, .events = events };
        int n = poll(&pfd, 1, deadline_remaining_ms(c->deadline));

        if (n > 0)
            return TRUE;
        if (n == 0) {
            g_set_error(error, MT_ERROR, MT_ERROR_TIMEOUT,
                        "timed out waiting for %s from the gdbstub", what);
            return FALSE;
        }
        if (errno != EINTR) {
            g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED,
                        "poll on the gdbstub socket failed: %s", g_strerror(errno));
            return FALSE;
        }
    }
}

static gboolean conn_write(GdbConn *c, const char *buf, gsize len, GError **error)
{
    while (len > 0) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

        if (n > 0) {
            buf += n;
            len -= n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!conn_poll(c, POLLOUT, "room to send", error))
                return FALSE;
            continue;
        }
        g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED,
                    "cannot send to the gdbstub: %s", g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

static gboolean conn_fill(GdbConn *c, const char *what, GError **error)
{
    guint8 buf[16384];
    ssize_t n;

    if (!conn_poll(c, POLLIN, what, error))
        return FALSE;
    n = recv(c->fd, buf, sizeof(buf), 0);
    if (n > 0) {
        g_byte_array_append(c->in, buf, n);
        return TRUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return TRUE;
    g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED,
                "the gdbstub %s while we waited for %s",
                n == 0 ? "closed the connection" : g_strerror(errno), what);
    return FALSE;
}

/* The next ack, nack or packet; answers damaged frames with '-'. */
static GdbDecode conn_next(GdbConn *c, const char *what, GByteArray **payload,
                           GError **error)
{
    for (;;) {
        g_autoptr(GError) local = NULL;
        gsize used = 0;
        GdbDecode d = gdbstub_packet_decode(c->in->data, c->in->len, &used,
                                            payload, &local);

        g_byte_array_remove_range(c->in, 0, used);
        switch (d) {
        case GDB_DECODE_NEED_MORE:
            if (!conn_fill(c, what, error))
                return GDB_DECODE_ERROR;
            continue;
        case GDB_DECODE_CORRUPT:
            if (c->noack || ++c->corrupt > MAX_CORRUPT) {
                g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                           "waiting for %s: ", what);
                return GDB_DECODE_ERROR;
            }
            if (!conn_write(c, "-", 1, error))
                return GDB_DECODE_ERROR;
            continue;
        case GDB_DECODE_ERROR:
            g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                       "waiting for %s: ", what);
            return d;
        default:
            if (d == GDB_DECODE_PACKET && !c->noack && !conn_write(c, "+", 1, error)) {
                g_clear_pointer(payload, g_byte_array_unref);
                return GDB_DECODE_ERROR;
            }
            return d;
        }
    }
}

/* Stop replies ("T05...", "S05") come unsolicited; "W"/"X" say the
 * target is gone.  None of our commands has a reply starting so. */
static gboolean is_stop_reply(const GByteArray *p)
{
    return p->len >= 3 && (p->data[0] == 'T' || p->data[0] == 'S') &&
           g_ascii_isxdigit(p->data[1]) && g_ascii_isxdigit(p->data[2]);
}

static gboolean is_exit_reply(const GByteArray *p)
{
    return p->len >= 3 && (p->data[0] == 'W' || p->data[0] == 'X') &&
           g_ascii_isxdigit(p->data[1]) && g_ascii_isxdigit(p->data[2]);
}

/* Send @cmd and return its reply (NUL-terminated), acking as we go and
 * setting aside stop packets. */
static GByteArray *conn_request(GdbConn *c, const char *cmd, GError **error)
{
    gsize flen;
    g_autofree char *frame = gdbstub_packet_encode(cmd, strlen(cmd), FALSE, &flen);
    g_autofree char *what = g_strdup_printf("the reply to '%.80s'", cmd);
    guint resent = 0;

    if (!conn_write(c, frame, flen, error))
        return NULL;
    for (;;) {
        GByteArray *p = NULL;
        GdbDecode d = conn_next(c, what, &p, error);

        if (d == GDB_DECODE_ERROR)
            return NULL;
        if (d == GDB_DECODE_NACK) {
            if (c->noack)
                continue;
            if (++resent > MAX_RETRANSMIT) {
                g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                            "the gdbstub rejected '%.80s' %u times", cmd, resent);
                return NULL;
            }
            if (!conn_write(c, frame, flen, error))
                return NULL;
            continue;
        }
        if (d != GDB_DECODE_PACKET)
            continue;           /* an ack: the reply follows */
        if (is_stop_reply(p)) {
            if (!c->got_reply)
                c->saw_stop = TRUE;
            g_byte_array_unref(p);
            continue;
        }
        if (is_exit_reply(p)) {
            g_set_error(error, MT_ERROR, MT_ERROR_DISCONNECTED,
                        "the gdbstub says the target exited ('%.20s')", p->data);
            g_byte_array_unref(p);
            return NULL;
        }
        c->got_reply = TRUE;
        return p;
    }
}

/* A reply that must be "OK". */
static gboolean conn_request_ok(GdbConn *c, const char *cmd, GError **error)
{
    g_autoptr(GByteArray) r = conn_request(c, cmd, error);

    if (!r)
        return FALSE;
    if (g_strcmp0((const char *)r->data, "OK") != 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "the gdbstub answered '%.80s' with '%.40s'", cmd, r->data);
        return FALSE;
    }
    return TRUE;
}

/* Error replies "Exx" and empty (unsupported) replies, for messages. */
static gboolean reply_refused(const GByteArray *r, const char *cmd, GError **error)
{
    if (r->len == 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "the gdbstub does not support '%.80s'", cmd);
        return TRUE;
    }
    if (r->len == 3 && r->data[0] == 'E' && g_ascii_isxdigit(r->data[1]) &&
        g_ascii_isxdigit(r->data[2])) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "the gdbstub refused '%.80s': %s", cmd, r->data);
        return TRUE;
    }
    return FALSE;
}

/* qSupported; then QStartNoAckMode if offered (QEMU 7.2 does not). */
static gboolean conn_handshake(GdbConn *c, GError **error)
{
    g_autoptr(GByteArray) r = conn_request(c, "qSupported:xmlRegisters=aarch64", error);
    g_auto(GStrv) features = NULL;
    gboolean noack = FALSE;

    if (!r)
        return FALSE;
    features = g_strsplit((const char *)r->data, ";", -1);
    for (guint i = 0; features[i]; i++)
        noack |= g_str_equal(features[i], "QStartNoAckMode+");
    if (noack) {
        if (!conn_request_ok(c, "QStartNoAckMode", error))
            return FALSE;
        c->noack = TRUE;
    }
    return TRUE;
}

static char *conn_fetch_xml(const char *annex, gpointer opaque, GError **error)
{
    GdbConn *c = opaque;
    g_autoptr(GString) doc = g_string_new(NULL);

    for (;;) {
        g_autofree char *cmd = g_strdup_printf("qXfer:features:read:%s:%" G_GSIZE_MODIFIER "x,%x",
                                               annex, doc->len, XML_CHUNK);
        g_autoptr(GByteArray) r = conn_request(c, cmd, error);

        if (!r)
            return NULL;
        if (reply_refused(r, cmd, error))
            return NULL;
        if ((r->data[0] != 'm' && r->data[0] != 'l') ||
            (r->data[0] == 'm' && r->len == 1) ||
            memchr(r->data, '\0', r->len)) {
            g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                        "the gdbstub answered '%.80s' with '%.40s'", cmd, r->data);
            return NULL;
        }
        g_string_append_len(doc, (const char *)r->data + 1, r->len - 1);
        if (doc->len > XML_MAX_BYTES) {
            g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                        "gdbstub document '%s' is larger than %d bytes", annex,
                        XML_MAX_BYTES);
            return NULL;
        }
        if (r->data[0] == 'l')
            return g_string_free(g_steal_pointer(&doc), FALSE);
    }
}

/* "1f" or "p1.1f" (multiprocess form): the thread part as a number. */
static gboolean parse_thread_id(const char *tid, guint64 *num)
{
    const char *dot = tid[0] == 'p' ? strchr(tid, '.') : NULL;
    const char *t = dot ? dot + 1 : tid;

    return *t && strlen(t) <= 8 &&
           g_ascii_string_to_unsigned(t, 16, 0, G_MAXUINT32, num, NULL);
}

/* qfThreadInfo, then qsThreadInfo until 'l'. */
static GPtrArray *conn_threads(GdbConn *c, GError **error)
{
    g_autoptr(GPtrArray) tids = g_ptr_array_new_with_free_func(g_free);
    const char *cmd = "qfThreadInfo";

    for (;;) {
        g_autoptr(GByteArray) r = conn_request(c, cmd, error);
        g_auto(GStrv) list = NULL;

        if (!r || reply_refused(r, cmd, error))
            return NULL;
        if (r->data[0] == 'l')
            break;
        if (r->data[0] != 'm' || r->len == 1) {
            g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                        "the gdbstub answered '%s' with '%.40s'", cmd, r->data);
            return NULL;
        }
        list = g_strsplit((const char *)r->data + 1, ",", -1);
        for (guint i = 0; list[i]; i++) {
            guint64 n;

            if (!parse_thread_id(list[i], &n)) {
                g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                            "the gdbstub lists a bad thread id '%.20s'", list[i]);
                return NULL;
            }
            if (tids->len >= MAX_VCPUS) {
                g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                            "the gdbstub lists more than %d threads", MAX_VCPUS);
                return NULL;
            }
            g_ptr_array_add(tids, g_strdup(list[i]));
        }
        cmd = "qsThreadInfo";
    }
    if (tids->len == 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL, "the gdbstub lists no threads");
        return NULL;
    }
    return g_steal_pointer(&tids);
}

static gboolean conn_read_reg(GdbConn *c, int regnum, guint64 *value, GError **error)
{
    g_autofree char *cmd = g_strdup_printf("p%x", regnum);
    g_autoptr(GByteArray) r = conn_request(c, cmd, error);
    g_autoptr(GError) local = NULL;

    if (!r || reply_refused(r, cmd, error))
        return FALSE;
    if (!gdbstub_decode_reg_le((const char *)r->data, r->len, value, &local)) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local), "'%s': ", cmd);
        return FALSE;
    }
    return TRUE;
}

/* qThreadExtraInfo: QEMU answers hex of "CPU#0 [running]" or "... [halted ]";
 * a stub without it (empty reply) leaves *halted FALSE. */
static gboolean conn_thread_halted(GdbConn *c, const char *tid, gboolean *halted,
                                   GError **error)
{
    g_autofree char *cmd = g_strdup_printf("qThreadExtraInfo,%s", tid);
    g_autoptr(GByteArray) r = conn_request(c, cmd, error);
    g_autoptr(GString) text = g_string_new(NULL);

    if (!r)
        return FALSE;
    for (guint i = 0; i + 1 < r->len; i += 2) {
        int hi = hexval(r->data[i]), lo = hexval(r->data[i + 1]);

        if (hi < 0 || lo < 0)
            break;
        g_string_append_c(text, (char)(hi << 4 | lo));
    }
    *halted = strstr(text->str, "[halted") != NULL;
    return TRUE;
}

static void vcpu_clear(gpointer p)
{
    GdbVcpuSctlr *v = p;

    g_free(v->thread_id);
}

static gboolean conn_read_vcpu(GdbConn *c, const GdbRegs *regs, const char *tid,
                               GdbVcpuSctlr *v, GError **error)
{
    g_autofree char *hg = g_strdup_printf("Hg%s", tid);
    guint64 num = 0;

    parse_thread_id(tid, &num);
    v->index = num > 0 ? (int)(num - 1) : 0;
    v->thread_id = g_strdup(tid);
    if (!conn_request_ok(c, hg, error) ||
        !conn_read_reg(c, regs->sctlr_regnum, &v->sctlr, error))
        return FALSE;
    if (regs->pc_regnum >= 0) {
        if (!conn_read_reg(c, regs->pc_regnum, &v->pc, error))
            return FALSE;
        v->have_pc = TRUE;
    }
    return conn_thread_halted(c, tid, &v->halted, error);
}

static gboolean conn_read_all(GdbConn *c, GdbSctlrReport *rep, GError **error)
{
    g_autoptr(GPtrArray) tids = NULL;

    if (!conn_handshake(c, error) ||
        !gdbstub_find_regs(conn_fetch_xml, c, &rep->regs, error))
        return FALSE;
    tids = conn_threads(c, error);
    if (!tids)
        return FALSE;
    for (guint i = 0; i < tids->len; i++) {
        GdbVcpuSctlr v = { 0 };
        gboolean ok = conn_read_vcpu(c, &rep->regs, tids->pdata[i], &v, error);

        g_array_append_val(rep->vcpus, v);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* On failure after we stopped the VM: 'D' without waiting for an answer. */
static void conn_detach_best_effort(GdbConn *c)
{
    gsize flen;
    g_autofree char *frame = gdbstub_packet_encode("D", 1, FALSE, &flen);

    (void)!send(c->fd, frame, flen, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void gdbstub_report_free(GdbSctlrReport *r)
{
    if (!r)
        return;
    if (r->vcpus)
        g_array_unref(r->vcpus);
    gdbstub_regs_clear(&r->regs);
    g_free(r);
}

GdbSctlrReport *gdbstub_read_sctlr_fd(int fd, GdbVmState vm, Deadline deadline,
                                      GError **error)
{
    g_autoptr(GdbConn) c = g_new0(GdbConn, 1);
    g_autoptr(GdbSctlrReport) rep = g_new0(GdbSctlrReport, 1);
    gboolean ok;

    c->fd = fd;
    c->in = g_byte_array_new();
    c->deadline = deadline;
    c->t_connect = g_get_monotonic_time();
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    rep->vcpus = g_array_new(FALSE, TRUE, sizeof(GdbVcpuSctlr));
    g_array_set_clear_func(rep->vcpus, vcpu_clear);

    ok = conn_read_all(c, rep, error);
    rep->stop_packet = c->saw_stop;
    if (ok && vm == GDB_VM_RUNNING) {
        ok = conn_request_ok(c, "D", error);
        rep->resumed = ok;
    } else if (!ok && vm == GDB_VM_RUNNING) {
        conn_detach_best_effort(c);
    }
    rep->session_us = g_get_monotonic_time() - c->t_connect;
    rep->stopped_us = vm == GDB_VM_RUNNING || c->saw_stop ? rep->session_us : 0;
    if (!ok)
        return NULL;
    return g_steal_pointer(&rep);
}

GdbSctlrReport *gdbstub_read_sctlr(const char *socket_path, GdbVmState vm,
                                   Deadline deadline, GError **error)
{
    int fd = unix_socket_connect(socket_path, "the gdbstub socket", -1, deadline, error);

    if (fd < 0)
        return NULL;
    return gdbstub_read_sctlr_fd(fd, vm, deadline, error);
}

/* ---- writing a register (fault injection) -------------------------------- */

static gboolean conn_write_reg(GdbConn *c, const char *name, const guint8 *value, gsize len,
                               GError **error)
{
    GdbRegs regs = { .pc_regnum = -1 };
    TdescWalk w = { .fetch = conn_fetch_xml, .opaque = c, .regs = &regs, .sctlr_el1 = -1,
                    .sctlr = -1, .want = name, .want_regnum = -1 };
    g_autoptr(GString) cmd = g_string_new(NULL);

    if (!conn_handshake(c, error) || !tdesc_parse_doc(&w, "target.xml", error))
        return FALSE;
    if (w.want_regnum < 0 || w.want_bits < len * 8 || w.want_bits % 8) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "the gdbstub describes no "
                    "register '%s' of at least %" G_GSIZE_FORMAT " bits (%s)", name, len * 8,
                    w.want_regnum < 0 ? "no such name" : "a smaller one");
        return FALSE;
    }
    g_string_printf(cmd, "P%x=", w.want_regnum);
    for (gsize i = 0; i < w.want_bits / 8; i++)
        g_string_append_printf(cmd, "%02x", i < len ? value[i] : 0);
    return conn_request_ok(c, "Hg1", error) && conn_request_ok(c, cmd->str, error);
}

gboolean gdbstub_write_reg(const char *socket_path, const char *name, const guint8 *value,
                           gsize len, Deadline deadline, GError **error)
{
    g_autoptr(GdbConn) c = g_new0(GdbConn, 1);

    c->in = g_byte_array_new();
    c->fd = unix_socket_connect(socket_path, "the gdbstub socket", -1, deadline, error);
    if (c->fd < 0)
        return FALSE;
    c->deadline = deadline;
    c->t_connect = g_get_monotonic_time();
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    if (!conn_write_reg(c, name, value, len, error)) {
        g_prefix_error(error, "writing register '%s' through the gdbstub: ", name);
        return FALSE;
    }
    return TRUE;
}

GdbVmState gdbstub_vm_state_for_status(const char *qmp_status)
{
    return g_strcmp0(qmp_status, "running") == 0 ? GDB_VM_RUNNING : GDB_VM_STOPPED;
}

/* QMP query-status's "status", as a new string. */
static char *qmp_runstate(QmpClient *qmp, Deadline deadline, GError **error)
{
    g_autoptr(JsonNode) ret = qmp_execute(qmp, "query-status", NULL, deadline, error);
    JsonNode *st;

    if (!ret)
        return NULL;
    st = JSON_NODE_HOLDS_OBJECT(ret)
         ? json_object_get_member(json_node_get_object(ret), "status") : NULL;
    if (!st || !JSON_NODE_HOLDS_VALUE(st) || json_node_get_value_type(st) != G_TYPE_STRING) {
        g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                    "QMP query-status returned no status string");
        return NULL;
    }
    return g_strdup(json_node_get_string(st));
}

/* The runstate after the read must be the one before; a running VM left
 * stopped is resumed with 'cont' (best effort), and the call fails. */
static gboolean check_runstate_kept(QmpClient *qmp, const char *before,
                                    Deadline deadline, GError **error)
{
    g_autofree char *after = qmp_runstate(qmp, deadline, error);
    gboolean was_running = g_str_equal(before, "running");

    if (!after || g_str_equal(after, before))
        return after != NULL;
    if (was_running && g_str_equal(after, "paused"))
        qmp_execute_simple(qmp, "cont", NULL, deadline, NULL);
    g_set_error(error, MT_ERROR, MT_ERROR_PROTOCOL,
                "the VM was '%s' before the gdbstub read and '%s' after%s", before,
                after, was_running ? " (resumed with QMP cont)" : "");
    return FALSE;
}

GdbSctlrReport *gdbstub_read_sctlr_qmp(QmpClient *qmp, const char *socket_path,
                                       Deadline deadline, GError **error)
{
    g_autofree char *before = qmp_runstate(qmp, deadline, error);
    g_autoptr(GdbSctlrReport) rep = NULL;

    if (!before)
        return NULL;
    rep = gdbstub_read_sctlr(socket_path, gdbstub_vm_state_for_status(before),
                             deadline, error);
    if (!rep) {
        /* Our best-effort 'D' may still be in flight: 'cont' is harmless. */
        if (g_str_equal(before, "running"))
            qmp_execute_simple(qmp, "cont", NULL, deadline, NULL);
        return NULL;
    }
    if (!check_runstate_kept(qmp, before, deadline, error))
        return NULL;
    return g_steal_pointer(&rep);
}

/* ---- policy helpers ----------------------------------------------------- */

gboolean gdbstub_sctlr_cacheable(guint64 sctlr)
{
    return (sctlr & GDB_SCTLR_M) && (sctlr & GDB_SCTLR_C);
}

gboolean gdbstub_vcpu_never_started(const GdbVcpuSctlr *v)
{
    return v->halted && v->have_pc && v->pc == 0 &&
           !(v->sctlr & (GDB_SCTLR_M | GDB_SCTLR_C));
}

char *gdbstub_format_vcpu(const GdbVcpuSctlr *v)
{
    return g_strdup_printf("vCPU %d SCTLR_EL1=0x%08" G_GINT64_MODIFIER "x (M=%d C=%d)",
                           v->index, v->sctlr, (v->sctlr & GDB_SCTLR_M) != 0,
                           (v->sctlr & GDB_SCTLR_C) != 0);
}
