/*
 * test-guest-smp.c: the x86_64 payload on several vCPUs (MT_P_VCPUS,
 * guest/x86_64/smp.S), one QEMU each, no migration.
 *   boot        2 and 4 vCPUs (pc and q35 under TCG, pc under KVM when
 *               usable; one run with hot set, zero runs, fill=full and
 *               canaries on vCPU 0; 2 vCPUs in a 4-CPU QEMU, whose spare
 *               CPUs must park): exactly one 'A', first; then only
 *               heartbeats, 'B' from vCPU 0 and MT_SERIAL_VCPU_BEAT(i) from
 *               vCPU i, each vCPU at least BOOT_BEATS; no record.  A paused
 *               snapshot satisfies the invariant on every slice (slice i
 *               checked on its own, with vCPU i's options), and each
 *               vCPU's beat count matches the passes its slice shows;
 *   corrupt     a page of slice 3 changed behind a paused 4-vCPU guest's
 *               back (stale page, tail word) is reported by the guest at
 *               the exact word, with the exact values, once;
 *   race        the tails of 16 pages changed in every slice at once: all
 *               vCPUs report together through the one UART, and every
 *               record arrives whole, exactly once;
 *   param-fault vcpus above MT_MAX_VCPUS, vcpus 2 with two ranges, a hot
 *               set larger than slice 0, vcpus 2 with guest suspend each
 *               yield 'A' and exactly one
 *               record naming the field, and no beat; 4 vCPUs asked for
 *               with only 2 given to QEMU (an AP that never comes) the
 *               record alone (expected 4, found 2).
 * The serial stream is decoded here from the raw log (the heartbeat
 * bytes '1'..'7' are this payload's), so a record torn by another vCPU's
 * byte shows up as junk.
 */
#include <string.h>
#include "guest-harness.h"

#define BOOT_MS 30000           /* launch to the first beats */
#define BOOT_BEATS 3            /* beats every vCPU must show */
#define RECORD_MS 30000
#define POLL_MS 20
#define TAIL_FLIP 0x100
/* An AP that never comes is reported after MT_SMP_UP_WAIT_MS at a 4 GHz
 * TSC (smp.S): 15 s at this host's 2.6 GHz, 40 s at 1 GHz. */
#define MISSING_AP_MS 60000
#define PARAM_QUIET_MS 300

typedef HarnessFixture Fixture;

/* ---- the serial stream, decoded from the raw log ---------------------- */

typedef struct {
    guint a;
    gboolean a_first;
    guint beats[MT_MAX_VCPUS];
    GArray *errors;             /* SerialError, time 0 */
    guint junk;                 /* bytes outside the protocol */
    char first_junk;
} SmpStream;

static void smp_stream_clear(SmpStream *s)
{
    g_clear_pointer(&s->errors, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SmpStream, smp_stream_clear)

/* One 'E' record at @p (MT_ERR_LEN bytes): TRUE and @e if well formed. */
static gboolean parse_record(const char *p, SerialError *e)
{
    guint64 v[3];

    for (guint f = 0; f < 3; f++) {
        const char *field = p + 1 + f * (MT_HEX_DIGITS + 1);
        char sep = field[MT_HEX_DIGITS];

        v[f] = 0;
        for (guint d = 0; d < MT_HEX_DIGITS; d++) {
            char c = field[d];
            if (!g_ascii_isxdigit(c) || g_ascii_isupper(c))
                return FALSE;
            v[f] = v[f] << 4 | (guint64)g_ascii_xdigit_value(c);
        }
        if (sep != (f == 2 ? '\n' : ' '))
            return FALSE;
    }
    *e = (SerialError){ v[0], v[1], v[2], 0 };
    return TRUE;
}

static void smp_stream_read(Guest *g, SmpStream *s)
{
    gsize len;
    g_autofree char *text = guest_serial_text(g, &len);

    smp_stream_clear(s);
    memset(s, 0, sizeof(*s));
    s->errors = g_array_new(FALSE, TRUE, sizeof(SerialError));
    for (gsize i = 0; i < len; i++) {
        char c = text[i];
        SerialError e;

        if (c == MT_SERIAL_START) {
            s->a_first = s->a_first || i == 0;
            s->a++;
        } else if (c == MT_SERIAL_PASS) {
            s->beats[0]++;
        } else if (c >= MT_SERIAL_VCPU_BEAT(1) && c < MT_SERIAL_VCPU_BEAT(MT_MAX_VCPUS)) {
            s->beats[c - MT_SERIAL_VCPU_BEAT(0)]++;
        } else if (c == MT_SERIAL_ERROR && i + MT_ERR_LEN > len) {
            break;                      /* a record still on its way */
        } else if (c == MT_SERIAL_ERROR && parse_record(text + i, &e)) {
            g_array_append_val(s->errors, e);
            i += MT_ERR_LEN - 1;
        } else {
            s->first_junk = s->junk++ ? s->first_junk : c;
        }
    }
}

static guint min_beats(const SmpStream *s, guint vcpus)
{
    guint m = G_MAXUINT;

    for (guint i = 0; i < vcpus; i++)
        m = MIN(m, s->beats[i]);
    return m;
}

/* Wait until every one of @vcpus vCPUs has sent at least @beats beats. */
static void wait_beats(Guest *g, SmpStream *s, guint vcpus, guint beats, gint64 timeout_ms)
{
    Deadline d = deadline_in_ms(timeout_ms);

    for (;;) {
        smp_stream_read(g, s);
        if (min_beats(s, vcpus) >= beats)
            return;
        if (deadline_expired(d) || s->errors->len || s->junk)
            g_error("%s: waiting for %u beats from each of %u vCPUs: 'A' %u, beats %u %u "
                    "%u %u, %u records, %u junk", g->label, beats, vcpus, s->a, s->beats[0],
                    s->beats[1], s->beats[2], s->beats[3], s->errors->len, s->junk);
        g_usleep(POLL_MS * 1000);
    }
}

/* Wait until each of @vcpus vCPUs has sent @more beats beyond what @s
 * holds now (records and junk are the caller's to judge). */
static void wait_more_beats(Guest *g, SmpStream *s, guint vcpus, guint more, gint64 timeout_ms)
{
    Deadline d = deadline_in_ms(timeout_ms);
    guint target[MT_MAX_VCPUS];
    gboolean done;

    for (guint i = 0; i < vcpus; i++)
        target[i] = s->beats[i] + more;
    do {
        g_usleep(POLL_MS * 1000);
        smp_stream_read(g, s);
        done = TRUE;
        for (guint i = 0; i < vcpus; i++)
            if (s->beats[i] < target[i]) {
                if (deadline_expired(d))
                    g_error("%s: vCPU %u stopped beating (%u beats, waiting for %u)",
                            g->label, i, s->beats[i], target[i]);
                done = FALSE;
            }
    } while (!done);
}

/* One 'A', first; beats only from vCPUs below @vcpus; no record, no junk. */
static void assert_clean(Guest *g, const SmpStream *s, guint vcpus)
{
    if (s->junk)
        g_error("%s: %u junk byte(s), the first 0x%02x", g->label, s->junk,
                (guint)(guchar)s->first_junk);
    g_assert_cmpuint(s->a, ==, 1);
    g_assert_true(s->a_first);
    g_assert_cmpuint(s->errors->len, ==, 0);
    for (guint i = vcpus; i < MT_MAX_VCPUS; i++)
        g_assert_cmpuint(s->beats[i], ==, 0);
}

/* ---- slices ------------------------------------------------------------ */

/* The parameters vCPU @i runs with (smp.S, payload_params_slice). */
static PayloadParams slice_params(const Guest *g, guint i)
{
    PayloadParams p;

    g_assert_true(payload_params_slice(&g->params, i, &p));
    p.vcpus = 0;
    return p;
}

/* The invariant on slice @i of @img; asserts it holds. */
static void assert_slice_invariant(Guest *g, const RamImage *img, guint i, InvariantResult *r)
{
    PayloadParams p = slice_params(g, i);
    g_autoptr(GError) error = NULL;
    gboolean ok = verify_invariant(img, &p, r, &error);

    g_test_message("%s: slice %u [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER
                   "x): %s", g->label, i, p.ranges[0].start, p.ranges[0].end, r->detail);
    g_assert_no_error(error);
    g_assert_true(ok && r->ok);
    g_assert_cmpuint(r->pages_checked, ==, payload_params_pages(&p));
    g_assert_cmpuint(r->generation, >=, 1);
}

/* Paused: every slice consistent, and vCPU i's beats = the passes its
 * slice completed / b_every (as guest_assert_b_count, per vCPU). */
static void assert_paused_state(Guest *g)
{
    g_auto(SmpStream) s = { 0 };
    g_autoptr(RamImage) img = NULL;
    guint N = g->params.vcpus;

    guest_settle(g, 100, 5000);
    smp_stream_read(g, &s);
    img = guest_ram(g, FALSE);
    {
        g_auto(InvariantResult) all = { 0 };   /* the host's, all slices */
        guest_assert_invariant(g, img, &all);
    }
    for (guint i = 0; i < N; i++) {
        g_auto(InvariantResult) inv = { 0 };
        guint64 H, every = g->params.b_every, lo, hi;

        assert_slice_invariant(g, img, i, &inv);
        H = inv.generation;
        lo = (H - 1) / every;
        hi = inv.boundary_gpa ? lo : H / every;
        g_test_message("%s: vCPU %u at generation %" G_GUINT64_FORMAT ": %u beats", g->label,
                       i, H, s.beats[i]);
        g_assert_cmpuint(s.beats[i], >=, lo);
        g_assert_cmpuint(s.beats[i], <=, hi);
    }
}

/* ---- boot -------------------------------------------------------------- */

typedef struct {
    const char *machine;
    const char *accel;
    guint vcpus;
    gboolean options;           /* hot set, zero runs, fill=full, canaries */
    guint smp;                  /* QEMU's -smp; 0: vcpus */
} SmpCase;

static const SmpCase boot_cases[] = {
    { "pc", "tcg", 2, FALSE, 0 },
    { "pc", "tcg", 4, FALSE, 0 },
    { "q35", "tcg", 4, FALSE, 0 },
    { "pc", "tcg", 4, TRUE, 0 },
    { "pc", "kvm", 2, FALSE, 0 },
    { "pc", "kvm", 4, FALSE, 0 },
    { "pc", "kvm", 4, TRUE, 0 },
    { "pc", "tcg", 2, FALSE, 4 },      /* two CPUs more than vCPUs: parked */
};

static gboolean smp_skip(const SmpCase *sc)
{
    if (g_str_equal(sc->accel, "kvm") && !vm_kvm_usable(arch_lookup("x86_64"))) {
        g_test_skip("KVM is not usable on this host");
        return TRUE;
    }
    return FALSE;
}

static Guest *smp_start(const SmpCase *sc)
{
    GuestSpec spec = {
        .arch = "x86_64", .machine = sc->machine, .accel = sc->accel, .vcpus = sc->vcpus,
        .smp = sc->smp,
    };

    if (sc->options) {
        spec.hot_pages = 16;
        spec.hot_op = MT_HOT_ATOMIC;
        spec.zero_every = 2;
        spec.zero_pages = MT_ZERO_MIN_PAGES;
        spec.zero_method = MT_ZERO_ALTERNATE;
        spec.fill = MT_FILL_FULL;
        spec.canaries = 1;
    }
    return guest_start(&spec, BOOT_MS);
}

static void test_boot(Fixture *f, gconstpointer data)
{
    const SmpCase *sc = data;
    g_auto(SmpStream) s = { 0 };
    guint before;
    Guest *g;

    (void)f;
    if (smp_skip(sc))
        return;
    g = smp_start(sc);
    wait_beats(g, &s, sc->vcpus, BOOT_BEATS, BOOT_MS);
    assert_clean(g, &s, sc->vcpus);
    guest_stop(g);
    assert_paused_state(g);
    guest_cont(g);
    smp_stream_read(g, &s);
    before = min_beats(&s, sc->vcpus);
    wait_beats(g, &s, sc->vcpus, before + 2, BOOT_MS);
    assert_clean(g, &s, sc->vcpus);
    guest_free(g);
}

/* ---- corruption in slice 3 --------------------------------------------- */

#define CORRUPT_SLICE 3

typedef enum { CORRUPT_STALE, CORRUPT_TAIL } Corruption;

/* Pause; pick a page of slice 3 half a slice away from its sweep position
 * (vCPU 3 is not in the middle of it), of generation G; corrupt it; the
 * guest must report exactly the predicted records, once. */
static void corrupt_once(Guest *g, Corruption kind)
{
    g_auto(InvariantResult) inv = { 0 };
    g_auto(SmpStream) s = { 0 };
    g_autoptr(RamImage) img = NULL;
    PayloadParams sp = slice_params(g, CORRUPT_SLICE);
    guint64 start = sp.ranges[0].start, n = (sp.ranges[0].end - start) / MT_PAGE_SIZE;
    guint64 k, p, G, tail;
    SerialError want[2];
    guint nwant = 0, before;
    Deadline d;

    guest_stop(g);
    guest_settle(g, 100, 5000);
    smp_stream_read(g, &s);
    before = s.errors->len;
    img = guest_ram(g, TRUE);
    assert_slice_invariant(g, img, CORRUPT_SLICE, &inv);
    k = inv.boundary_gpa ? (inv.boundary_gpa - start) / MT_PAGE_SIZE : 0;
    p = start + (k + n / 2) % n * MT_PAGE_SIZE;
    tail = p + MT_PAGE_SIZE - 8;
    G = ram_get64(img, p);
    g_assert_cmpuint(G, >=, 2);
    g_assert_cmphex(ram_get64(img, tail), ==, verify_tail(G, p));
    g_test_message("%s: corruption %d at 0x%" G_GINT64_MODIFIER "x (slice %d, generation %"
                   G_GUINT64_FORMAT ")", g->label, kind, p, CORRUPT_SLICE, G);
    if (kind == CORRUPT_STALE) {
        ram_put64(img, p, G - 1);
        ram_put64(img, tail, verify_tail(G - 1, p));
        want[nwant++] = (SerialError){ p, G, G - 1, 0 };
        want[nwant++] = (SerialError){ tail, verify_tail(G, p), verify_tail(G - 1, p), 0 };
    } else {
        ram_put64(img, tail, verify_tail(G, p) ^ TAIL_FLIP);
        want[nwant++] = (SerialError){ tail, verify_tail(G, p), verify_tail(G, p) ^ TAIL_FLIP,
                                       0 };
    }
    g_clear_pointer(&img, ram_image_free);
    guest_cont(g);

    /* The records, then two more beats of vCPU 3 (the rest of its pass and
     * a whole one: the page checked again after the repair), no others. */
    d = deadline_in_ms(RECORD_MS);
    do {
        g_usleep(POLL_MS * 1000);
        smp_stream_read(g, &s);
        if (deadline_expired(d))
            g_error("%s: %u of %u records after %d ms (%u junk bytes: a torn record?)",
                    g->label, s.errors->len - before, nwant, RECORD_MS, s.junk);
    } while (s.errors->len < before + nwant);
    wait_more_beats(g, &s, CORRUPT_SLICE + 1, 2, RECORD_MS);
    g_assert_cmpuint(s.errors->len, ==, before + nwant);
    for (guint j = 0; j < nwant; j++) {
        const SerialError *e = &g_array_index(s.errors, SerialError, before + j);
        g_assert_cmphex(e->gpa, ==, want[j].gpa);
        g_assert_cmphex(e->expected, ==, want[j].expected);
        g_assert_cmphex(e->found, ==, want[j].found);
    }
    g_assert_cmpuint(s.junk, ==, 0);
    g_assert_cmpuint(s.a, ==, 1);
}

static void test_corrupt(Fixture *f, gconstpointer data)
{
    const SmpCase *sc = data;
    g_auto(SmpStream) s = { 0 };
    Guest *g;

    (void)f;
    if (smp_skip(sc))
        return;
    g = smp_start(sc);
    wait_beats(g, &s, sc->vcpus, BOOT_BEATS, BOOT_MS);
    corrupt_once(g, CORRUPT_STALE);
    corrupt_once(g, CORRUPT_TAIL);
    /* Repaired: every slice consistent again. */
    guest_stop(g);
    assert_paused_state(g);
    guest_free(g);
}

/* ---- every vCPU reporting at once ---------------------------------------- */

#define RACE_PAGES 16           /* tails changed per slice */

static gint cmp_gpa(gconstpointer a, gconstpointer b)
{
    guint64 x = ((const SerialError *)a)->gpa, y = ((const SerialError *)b)->gpa;

    return x < y ? -1 : x > y;
}

/* Pause; change the tails of RACE_PAGES pages half a slice away from each
 * vCPU's sweep position, in every slice; resume.  All vCPUs send their
 * records at about the same time through the one UART: every record must
 * arrive whole (a byte of another vCPU inside one would make it junk),
 * exactly once, with the predicted values. */
static void test_race(Fixture *f, gconstpointer data)
{
    const SmpCase *sc = data;
    g_auto(SmpStream) s = { 0 };
    g_autoptr(RamImage) img = NULL;
    g_autoptr(GArray) want = g_array_new(FALSE, FALSE, sizeof(SerialError));
    Deadline d;
    Guest *g;

    (void)f;
    if (smp_skip(sc))
        return;
    g = smp_start(sc);
    wait_beats(g, &s, sc->vcpus, BOOT_BEATS, BOOT_MS);
    guest_stop(g);
    guest_settle(g, 100, 5000);
    img = guest_ram(g, TRUE);
    for (guint i = 0; i < sc->vcpus; i++) {
        g_auto(InvariantResult) inv = { 0 };
        PayloadParams sp = slice_params(g, i);
        guint64 start = sp.ranges[0].start, n = (sp.ranges[0].end - start) / MT_PAGE_SIZE;
        guint64 k;

        assert_slice_invariant(g, img, i, &inv);
        k = inv.boundary_gpa ? (inv.boundary_gpa - start) / MT_PAGE_SIZE : 0;
        for (guint j = 0; j < RACE_PAGES; j++) {
            guint64 p = start + (k + n / 2 + j) % n * MT_PAGE_SIZE, tail = p + MT_PAGE_SIZE - 8;
            guint64 good = verify_tail(ram_get64(img, p), p);
            SerialError e = { tail, good, good ^ TAIL_FLIP, 0 };

            g_assert_cmphex(ram_get64(img, tail), ==, good);
            ram_put64(img, tail, good ^ TAIL_FLIP);
            g_array_append_val(want, e);
        }
    }
    g_clear_pointer(&img, ram_image_free);
    guest_cont(g);
    d = deadline_in_ms(RECORD_MS);
    do {
        g_usleep(POLL_MS * 1000);
        smp_stream_read(g, &s);
        if (deadline_expired(d) || s.junk)
            g_error("%s: %u of %u records, %u junk bytes (the first 0x%02x: a torn record?)",
                    g->label, s.errors->len, want->len, s.junk, (guint)(guchar)s.first_junk);
    } while (s.errors->len < want->len);
    /* Two more beats of every vCPU (the rest of its pass and a whole
     * one): every page checked again after the repair, no new record. */
    wait_more_beats(g, &s, sc->vcpus, 2, RECORD_MS);
    g_array_sort(want, cmp_gpa);
    g_array_sort(s.errors, cmp_gpa);
    g_assert_cmpuint(s.errors->len, ==, want->len);
    for (guint j = 0; j < want->len; j++) {
        const SerialError *e = &g_array_index(s.errors, SerialError, j);
        const SerialError *w = &g_array_index(want, SerialError, j);
        g_assert_cmphex(e->gpa, ==, w->gpa);
        g_assert_cmphex(e->expected, ==, w->expected);
        g_assert_cmphex(e->found, ==, w->found);
    }
    g_test_message("%s: %u records from %u vCPUs, all whole", g->label, want->len, sc->vcpus);
    guest_free(g);
}

/* ---- bad parameters ----------------------------------------------------- */

typedef struct {
    const char *name;
    guint32 vcpus;              /* MT_P_VCPUS, set past the host's checks */
    guint smp;                  /* QEMU's -smp */
    guint nranges;
    guint32 hot_pages;
    guint32 suspend;
    guint32 field;              /* the record: gpa = this field */
    guint64 expected, found;
    gint64 timeout_ms;
    guint a;                    /* 'A' before the record: 1, bad block;
                                 * 0, a vCPU that did not come up */
} ParamFault;

#define HOT_SLICE_PAGES 600     /* range 0 of 1200 pages, 2 vCPUs */

static const ParamFault param_faults[] = {
    { "vcpus-above-max", MT_MAX_VCPUS + 1, 2, 1, 0, 0, MT_P_VCPUS, MT_MAX_VCPUS,
      MT_MAX_VCPUS + 1, BOOT_MS, 1 },
    { "two-ranges", 2, 2, 2, 0, 0, MT_P_NRANGES, 1, 2, BOOT_MS, 1 },
    { "hot-set-beyond-slice-0", 2, 2, 1, HOT_SLICE_PAGES + 1, 0, MT_P_HOT_PAGES,
      HOT_SLICE_PAGES, HOT_SLICE_PAGES + 1, BOOT_MS, 1 },
    { "suspend", 2, 2, 1, 0, 3, MT_P_SUSPEND, 0, 3, BOOT_MS, 1 },
    { "missing-ap", 4, 2, 1, 0, 0, MT_P_VCPUS, 4, 2, MISSING_AP_MS, 0 },
};

static void test_param_fault(Fixture *f, gconstpointer data)
{
    const ParamFault *pf = data;
    guint64 base = MT_X86_RAM_BASE + MT_DEFAULT_WINDOW_START;
    GuestSpec spec = {
        .arch = "x86_64", .smp = pf->smp, .hot_pages = pf->hot_pages, .suspend = pf->suspend,
        .raw_field = MT_P_VCPUS, .raw_value = pf->vcpus,
    };
    g_auto(SmpStream) s = { 0 };
    const SerialError *e;
    Deadline d = deadline_in_ms(pf->timeout_ms);
    Guest *g;

    (void)f;
    if (pf->nranges == 2) {
        spec.nranges = 2;
        spec.ranges[0] = (PayloadRange){ base, base + 16 * GH_MIB };
        spec.ranges[1] = (PayloadRange){ base + 32 * GH_MIB, base + 48 * GH_MIB };
    } else if (pf->hot_pages) {
        spec.nranges = 1;
        spec.ranges[0] = (PayloadRange){ base, base + 2 * HOT_SLICE_PAGES * MT_PAGE_SIZE };
    }
    g = guest_start(&spec, BOOT_MS);
    do {
        g_usleep(POLL_MS * 1000);
        smp_stream_read(g, &s);
        if (deadline_expired(d))
            g_error("%s: no record within %" G_GINT64_FORMAT " ms", g->label,
                    pf->timeout_ms);
    } while (!s.errors->len);
    g_usleep(PARAM_QUIET_MS * 1000);
    smp_stream_read(g, &s);
    g_assert_cmpuint(s.a, ==, pf->a);
    g_assert_true(s.a_first || !pf->a);
    g_assert_cmpuint(s.errors->len, ==, 1);
    g_assert_cmpuint(s.junk, ==, 0);
    for (guint i = 0; i < MT_MAX_VCPUS; i++)
        g_assert_cmpuint(s.beats[i], ==, 0);
    e = &g_array_index(s.errors, SerialError, 0);
    g_assert_cmphex(e->gpa, ==, MT_X86_PARAM_GPA + pf->field);
    g_assert_cmphex(e->expected, ==, pf->expected);
    g_assert_cmphex(e->found, ==, pf->found);
    guest_free(g);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    harness_init();
    for (guint i = 0; i < G_N_ELEMENTS(boot_cases); i++) {
        const SmpCase *sc = &boot_cases[i];
        g_autofree char *path = g_strdup_printf("/guest-smp/boot/x86_64/%s/%s/%u%s%s",
                                                sc->machine, sc->accel, sc->vcpus,
                                                sc->options ? "/options" : "",
                                                sc->smp ? "/of-4-cpus" : "");
        g_test_add(path, Fixture, sc, harness_fixture_check, test_boot, harness_fixture_check);
    }
    g_test_add("/guest-smp/corrupt/x86_64/tcg", Fixture, &boot_cases[1],
               harness_fixture_check, test_corrupt, harness_fixture_check);
    g_test_add("/guest-smp/corrupt/x86_64/kvm", Fixture, &boot_cases[5],
               harness_fixture_check, test_corrupt, harness_fixture_check);
    g_test_add("/guest-smp/race/x86_64/tcg", Fixture, &boot_cases[1],
               harness_fixture_check, test_race, harness_fixture_check);
    g_test_add("/guest-smp/race/x86_64/kvm", Fixture, &boot_cases[5],
               harness_fixture_check, test_race, harness_fixture_check);
    for (guint i = 0; i < G_N_ELEMENTS(param_faults); i++) {
        g_autofree char *path = g_strdup_printf("/guest-smp/param-fault/x86_64/%s",
                                                param_faults[i].name);
        g_test_add(path, Fixture, &param_faults[i], harness_fixture_check, test_param_fault,
                   harness_fixture_check);
    }
    return g_test_run();
}
