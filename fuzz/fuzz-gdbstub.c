/*
 * fuzz-gdbstub.c: libFuzzer target for the GDB remote protocol packet
 * codec (src/gdbstub.c: gdbstub_packet_decode/encode, and
 * gdbstub_decode_reg_le on what comes out).
 *
 * Input: one control byte, then bytes "the stub" sends.
 *   ctl & 1   encode with run-length compression.
 * The bytes are decoded as a stream, the way the client does: decode,
 * drop *consumed bytes, again, until NEED_MORE.  Checked for every step:
 *   - *consumed never exceeds what is left, and the stream always makes
 *     progress (only NEED_MORE may consume nothing);
 *   - an error is set exactly for CORRUPT and ERROR, a payload exactly for
 *     PACKET, and a payload has the promised NUL after its last byte;
 *   - round trip: every decoded payload, encoded again (with and without
 *     run-length compression), decodes in one step to a PACKET with the
 *     same bytes, consuming exactly the encoded frame, and the encoding
 *     holds no bare '#', '$' or '*' between its '$' and '#';
 *   - register replies: a payload gdbstub_decode_reg_le accepts is 1..8
 *     bytes of hex whose value, written back little endian, gives the same
 *     digits (ignoring case).
 * And the other way round: the raw input itself, as a payload, survives
 * encode then decode unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gdbstub.h"
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    fuzz_glib_init(argv);
    return 0;
}

/* encode(@payload) must decode, in one step, to exactly @payload. */
static void check_round_trip(const guint8 *payload, gsize len, gboolean rle)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) again = NULL;
    gsize flen = 0, consumed = 0;
    g_autofree char *frame = gdbstub_packet_encode(payload, len, rle, &flen);
    GdbDecode d;

    if (!frame || flen < 4 || frame[0] != '$' || frame[flen - 3] != '#' ||
        frame[flen] != '\0')
        abort();
    for (gsize i = 1; i < flen - 3; i++) {
        /* '$' and '#' never appear inside; a '*' only as a run-length code,
         * so never right after another code's count or at the start. */
        if (frame[i] == '$' || frame[i] == '#')
            abort();
        if (frame[i] == '}')
            i++;                        /* the escaped byte */
        else if (frame[i] == '*' && (!rle || i == 1))
            abort();
        else if (frame[i] == '*')
            i++;                        /* the count */
    }
    if (flen - 4 > GDB_MAX_FRAME)
        return;                         /* decode refuses frames this long */
    d = gdbstub_packet_decode((const guint8 *)frame, flen, &consumed, &again,
                              &error);
    if (d != GDB_DECODE_PACKET || error || consumed != flen || !again ||
        again->len != len || memcmp(again->data, payload, len) != 0)
        abort();
}

/* A register value gdbstub_decode_reg_le accepted must print back. */
static void check_reg(const GByteArray *p)
{
    g_autoptr(GError) error = NULL;
    guint64 value = 0;
    char hex[17];

    if (!gdbstub_decode_reg_le((const char *)p->data, p->len, &value, &error)) {
        if (!error || error->domain != MT_ERROR)
            abort();
        return;
    }
    if (error || p->len == 0 || p->len > 16 || p->len % 2)
        abort();
    for (guint i = 0; i < p->len / 2; i++)
        g_snprintf(hex + 2 * i, 3, "%02x", (guint)(value >> (8 * i)) & 0xff);
    if (p->len < 16 && value >> (4 * p->len))
        abort();                        /* more bits than digits */
    if (g_ascii_strncasecmp(hex, (const char *)p->data, p->len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gboolean rle;
    gsize off = 0;

    if (size < 1)
        return 0;
    rle = data[0] & 1;
    data++;
    size--;

    for (;;) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GByteArray) payload = NULL;
        gsize consumed = (gsize)-1;
        GdbDecode d = gdbstub_packet_decode(data + off, size - off, &consumed,
                                            &payload, &error);

        if (consumed > size - off)
            abort();
        switch (d) {
        case GDB_DECODE_NEED_MORE:
            /* What is left is nothing or the start of a frame. */
            if (error || payload ||
                (off + consumed < size && data[off + consumed] != '$'))
                abort();
            break;
        case GDB_DECODE_ACK:
        case GDB_DECODE_NACK:
            if (error || payload || consumed == 0)
                abort();
            break;
        case GDB_DECODE_PACKET:
            if (error || !payload || consumed < 4 ||
                payload->len > GDB_MAX_PAYLOAD || payload->data[payload->len] != 0)
                abort();
            check_round_trip(payload->data, payload->len, FALSE);
            check_round_trip(payload->data, payload->len, TRUE);
            check_reg(payload);
            break;
        case GDB_DECODE_CORRUPT:
        case GDB_DECODE_ERROR:
            if (!error || error->domain != MT_ERROR || payload || consumed == 0)
                abort();
            break;
        default:
            abort();
        }
        off += consumed;
        if (d == GDB_DECODE_NEED_MORE)
            break;
    }

    if (size <= GDB_MAX_PAYLOAD)
        check_round_trip(data, size, rle);
    return 0;
}
