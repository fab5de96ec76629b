/*
 * fuzz-serial.c: libFuzzer target for the serial record decoder
 * (src/serial.c: serial_parser_feed).
 *
 * Input: two bytes (little endian) that choose a split point, then the
 * serial stream.  The stream is decoded three ways: in one feed, in two
 * feeds cut at the split point, and (for small inputs) one byte per feed.
 * A streaming decoder must not care how its input was chunked, so all
 * three must agree on every count, every decoded record and the state
 * left at the end (a partial 'E' record).  Also checked:
 *   - every byte is accounted for exactly once:
 *       a + s + r + beats + junk + MT_ERR_LEN * (errors + bad_records)
 *       + rec_len == len, where beats counts every vCPU's ('B' and '1'..)
 *       and vCPU 0's are exactly the 'B's;
 *   - each decoded error record, printed back in the protocol's format,
 *     occurs in the input (nothing is invented);
 *   - in the two-feed run, a record completed by the first feed carries
 *     the first feed's time and one completed by the second the second's:
 *     the first k 'B' and e errors are exactly those a decoder fed only
 *     the first part finds;
 *   - in the byte-per-feed run (time = offset), each 'B' is stamped with
 *     the offset of a 'B' byte and each record with that of its '\n'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "migtest-abi.h"
#include "serial.h"
#include "fuzz-common.h"

#define T1 1000
#define T2 2000
#define BYTEWISE_MAX 4096

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    fuzz_glib_init(argv);
    return 0;
}

static void check_same(const SerialParser *x, const SerialParser *y)
{
    if (x->a_count != y->a_count || x->s_count != y->s_count ||
        x->r_count != y->r_count || x->beat_times->len != y->beat_times->len ||
        memcmp(x->vcpu_beats, y->vcpu_beats, sizeof(x->vcpu_beats)) != 0 ||
        x->b_times->len != y->b_times->len ||
        x->errors->len != y->errors->len || x->junk_bytes != y->junk_bytes ||
        x->bad_records != y->bad_records || x->rec_len != y->rec_len ||
        memcmp(x->rec, y->rec, x->rec_len) != 0)
        abort();
    for (guint i = 0; i < x->errors->len; i++) {
        const SerialError *ex = &g_array_index(x->errors, SerialError, i);
        const SerialError *ey = &g_array_index(y->errors, SerialError, i);

        if (ex->gpa != ey->gpa || ex->expected != ey->expected ||
            ex->found != ey->found)
            abort();
    }
}

static void check_accounting(const SerialParser *p, const guint8 *data,
                             size_t size)
{
    guint64 total = (guint64)p->a_count + p->s_count + p->r_count +
                    p->beat_times->len + p->junk_bytes +
                    (guint64)MT_ERR_LEN * (p->errors->len + p->bad_records) +
                    p->rec_len;
    guint64 beats = 0;

    for (guint i = 0; i < MT_MAX_VCPUS; i++)
        beats += p->vcpu_beats[i];
    if (total != size || p->rec_len >= MT_ERR_LEN || beats != p->beat_times->len ||
        p->vcpu_beats[0] != p->b_times->len)
        abort();
    if (p->rec_len > 0 && p->rec[0] != MT_SERIAL_ERROR)
        abort();
    for (guint i = 0; i < p->errors->len; i++) {
        const SerialError *e = &g_array_index(p->errors, SerialError, i);
        char rec[MT_ERR_LEN + 1];
        g_autofree char *text = serial_error_describe(e);

        g_snprintf(rec, sizeof(rec), "E%016" G_GINT64_MODIFIER "x %016"
                   G_GINT64_MODIFIER "x %016" G_GINT64_MODIFIER "x\n",
                   e->gpa, e->expected, e->found);
        if (strlen(rec) != MT_ERR_LEN || !memmem(data, size, rec, MT_ERR_LEN))
            abort();
        if (!text || !*text)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SerialParser one, two, head, bytes;
    size_t split;

    if (size < 2)
        return 0;
    split = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2;
    size -= 2;
    split %= size + 1;

    serial_parser_init(&one);
    serial_parser_feed(&one, data, size, T1);
    check_accounting(&one, data, size);

    serial_parser_init(&two);
    serial_parser_feed(&two, data, split, T1);
    serial_parser_feed(&two, data + split, 0, T2);      /* a no-op */
    serial_parser_feed(&two, data + split, size - split, T2);
    check_same(&one, &two);

    /* Records completed within the first part carry T1, the rest T2. */
    serial_parser_init(&head);
    serial_parser_feed(&head, data, split, T1);
    for (guint i = 0; i < two.b_times->len; i++)
        if (g_array_index(two.b_times, gint64, i) != (i < head.b_times->len ? T1 : T2))
            abort();
    for (guint i = 0; i < two.errors->len; i++)
        if (g_array_index(two.errors, SerialError, i).time_us !=
            (i < head.errors->len ? T1 : T2))
            abort();

    if (size <= BYTEWISE_MAX) {
        serial_parser_init(&bytes);
        for (size_t i = 0; i < size; i++)
            serial_parser_feed(&bytes, data + i, 1, (gint64)i);
        check_same(&one, &bytes);
        /* Here a record's time is the offset of its last byte. */
        for (guint i = 0; i < bytes.b_times->len; i++)
            if (data[g_array_index(bytes.b_times, gint64, i)] != MT_SERIAL_PASS)
                abort();
        for (guint i = 0; i < bytes.errors->len; i++) {
            gint64 t = g_array_index(bytes.errors, SerialError, i).time_us;

            if (t < MT_ERR_LEN - 1 || data[t] != '\n' ||
                data[t - (MT_ERR_LEN - 1)] != MT_SERIAL_ERROR)
                abort();
        }
        serial_parser_clear(&bytes);
    }

    serial_parser_clear(&one);
    serial_parser_clear(&two);
    serial_parser_clear(&head);
    return 0;
}
