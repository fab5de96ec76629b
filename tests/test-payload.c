/*
 * test-payload.c: the ABI header's arithmetic, every embedded image's
 * parameter block, and patching round trips.  No QEMU needed.
 */
#include <string.h>
#include "arch.h"
#include "mt-error.h"
#include "payload.h"

static void test_abi_consistent(void)
{
    guint64 magic;

    /* Version 2 appended the zero-run fields after the ranges. */
    g_assert_cmpint(MT_PARAM_VERSION, ==, 6);
    g_assert_cmpint(MT_P_ZERO_EVERY, ==, MT_P_RANGES + MT_MAX_RANGES * MT_P_RANGE_SIZE);
    g_assert_cmpint(MT_P_ZERO_PAGES, ==, MT_P_ZERO_EVERY + 4);
    g_assert_cmpint(MT_P_ZERO_METHOD, ==, MT_P_ZERO_PAGES + 4);
    g_assert_cmpint(MT_P_FILL, ==, MT_P_ZERO_METHOD + 4);
    g_assert_cmpint(MT_P_HOT_OP, ==, MT_P_FILL + 4);
    g_assert_cmpint(MT_P_CANARIES, ==, MT_P_HOT_OP + 4);
    g_assert_cmpint(MT_P_VCPUS, ==, MT_P_CANARIES + 4);
    g_assert_cmpint(MT_P_DEVPROBE, ==, MT_P_VCPUS + 4);
    g_assert_cmpint(MT_P_SUSPEND, ==, MT_P_DEVPROBE + 4);
    g_assert_cmpint(MT_P_SPARE, ==, MT_P_SUSPEND + 4);
    g_assert_cmpint(MT_PARAM_SIZE, ==, MT_P_SPARE + 4);
    g_assert_cmpint(MT_PARAM_OFFSET + MT_PARAM_SIZE, <=, 0x200);
    g_assert_cmpint(MT_ERR_LEN, ==, 1 + 3 * MT_HEX_DIGITS + 2 + 1);
    g_assert_cmpint(1 << MT_PAGE_SHIFT, ==, MT_PAGE_SIZE);
    memcpy(&magic, "MTMPBLK1", 8);
    g_assert_cmphex(GUINT64_FROM_LE(magic), ==, MT_PARAM_MAGIC);
    g_assert_cmpint(MT_DEFAULT_WINDOW_START % MT_PAGE_SIZE, ==, 0);
    g_assert_cmpint(MT_DEFAULT_WINDOW_END % MT_PAGE_SIZE, ==, 0);
    /* The hot word is a whole word clear of the sweep's head and tail. */
    g_assert_cmpint(MT_HOT_WORD_OFFSET % 8, ==, 0);
    g_assert_cmpint(MT_HOT_WORD_OFFSET, >=, 8);
    g_assert_cmpint(MT_HOT_WORD_OFFSET, <=, MT_PAGE_SIZE - 16);
    g_assert_cmpint(MT_MAX_HOT_PAGES, >=, 64);
}

static void test_images_carry_defaults(void)
{
    for (guint a = 0; arch_table[a]; a++) {
        const ArchDesc *arch = arch_table[a];
        for (guint v = 0; arch->variants[v]; v++) {
            g_autoptr(GBytes) img = payload_image_lookup(arch->name, arch->variants[v]);
            g_autoptr(GError) error = NULL;
            PayloadParams p;

            g_test_message("%s/%s", arch->name, arch->variants[v]);
            g_assert_nonnull(img);
            g_assert_true(payload_params_read(img, &p, &error));
            g_assert_no_error(error);
            g_assert_cmpuint(p.nranges, ==, 1);
            g_assert_cmpuint(p.b_every, ==, 1);
            g_assert_cmpuint(p.hot_pages, ==, 0);
            g_assert_cmpuint(p.zero_every, ==, 0);
            g_assert_cmpuint(p.zero_pages, ==, 0);
            g_assert_cmpuint(p.zero_method, ==, MT_ZERO_PLAIN);
            g_assert_cmpuint(p.fill, ==, MT_FILL_HEAD_TAIL);
            g_assert_cmpuint(p.hot_op, ==, MT_HOT_PLAIN);
            g_assert_cmpuint(p.canaries, ==, 0);
            g_assert_cmphex(p.ranges[0].start, ==, arch->ram_base + MT_DEFAULT_WINDOW_START);
            g_assert_cmphex(p.ranges[0].end, ==, arch->ram_base + MT_DEFAULT_WINDOW_END);
            g_assert_cmpuint(p.mmu_off_after, ==,
                             g_str_equal(arch->variants[v], "mmu-off-late") ? 3 : 0);
        }
    }
    g_assert_null(payload_image_lookup("x86_64", "no-such-variant"));
}

static void test_x86_image_is_bios_sized(void)
{
    g_autoptr(GBytes) img = payload_image_lookup("x86_64", "default");

    /* QEMU refuses a -bios image that is not a multiple of 64 KiB. */
    g_assert_cmpuint(g_bytes_get_size(img) % 65536, ==, 0);
}

static void test_patch_round_trip(void)
{
    g_autoptr(GBytes) img = payload_image_lookup("aarch64", "mmu-on");
    g_autoptr(GBytes) patched = NULL;
    g_autoptr(GError) error = NULL;
    PayloadParams in = {
        .flags = 0x5, .b_every = 4, .hot_pages = 64, .mmu_off_after = 9, .nranges = 3,
        .ranges = { { 0x40100000, 0x40280000 }, { 0x40300000, 0x40301000 },
                    { 0x100000000, 0x180000000 } },
        .zero_every = 3, .zero_pages = MT_ZERO_MIN_PAGES, .zero_method = MT_ZERO_ALTERNATE,
        .fill = MT_FILL_FULL, .hot_op = MT_HOT_ATOMIC, .canaries = 1,
    }, out;
    const guint8 *a, *b;
    gsize la, lb;

    patched = payload_image_patch(img, &in, &error);
    g_assert_no_error(error);
    g_assert_true(payload_params_read(patched, &out, &error));
    g_assert_cmpmem(&in, sizeof(in), &out, sizeof(out));
    /* Only the parameter block changed, and the original is untouched. */
    a = g_bytes_get_data(img, &la);
    b = g_bytes_get_data(patched, &lb);
    g_assert_cmpuint(la, ==, lb);
    g_assert_cmpmem(a, MT_PARAM_OFFSET, b, MT_PARAM_OFFSET);
    g_assert_cmpmem(a + MT_PARAM_OFFSET + MT_PARAM_SIZE, la - MT_PARAM_OFFSET - MT_PARAM_SIZE,
                    b + MT_PARAM_OFFSET + MT_PARAM_SIZE, lb - MT_PARAM_OFFSET - MT_PARAM_SIZE);
    g_assert_true(payload_params_read(img, &out, &error));
    g_assert_cmpuint(out.b_every, ==, 1);
}

static void expect_rejected(const PayloadParams *p)
{
    g_autoptr(GBytes) img = payload_image_lookup("x86_64", "default");
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) patched = payload_image_patch(img, p, &error);

    g_assert_null(patched);
    g_assert_error(error, MT_ERROR, MT_ERROR_USAGE);
}

static void test_patch_rejects_bad_params(void)
{
    PayloadParams good = { .b_every = 1, .nranges = 1, .ranges = { { 0x100000, 0x200000 } } };
    PayloadParams p;

    p = good; p.nranges = 0; expect_rejected(&p);
    p = good; p.nranges = MT_MAX_RANGES + 1; expect_rejected(&p);
    p = good; p.b_every = 0; expect_rejected(&p);
    p = good; p.ranges[0].start = 0x100800; expect_rejected(&p);
    p = good; p.ranges[0].end = 0x100000; expect_rejected(&p);
    p = good; p.nranges = 2; p.ranges[1] = (PayloadRange){ 0x1ff000, 0x300000 };
    expect_rejected(&p);    /* overlaps range 0 */
    p = good; p.hot_pages = MT_MAX_HOT_PAGES + 1; p.ranges[0].end = 0x10000000;
    expect_rejected(&p);
    p = good; p.hot_pages = 257;    /* range 0 has 256 pages */
    expect_rejected(&p);
    /* Zero runs: at least MT_ZERO_MIN_PAGES, a known method, two slots
     * after the hot set (range 0 has 256 pages). */
    p = good; p.zero_every = 1; p.zero_pages = MT_ZERO_MIN_PAGES - 1; expect_rejected(&p);
    p = good; p.zero_every = 1; p.zero_pages = 128; p.zero_method = MT_ZERO_METHOD_MAX + 1;
    expect_rejected(&p);
    p = good; p.zero_every = 1; p.zero_pages = 129; expect_rejected(&p);   /* one slot */
    p = good; p.zero_every = 1; p.zero_pages = 128; p.hot_pages = 1; expect_rejected(&p);
    p = good; p.fill = MT_FILL_MAX + 1; expect_rejected(&p);
    p = good; p.hot_op = MT_HOT_OP_MAX + 1; expect_rejected(&p);
    p = good; p.canaries = MT_CANARIES_MAX + 1; expect_rejected(&p);
    p = good; p.devprobe = MT_DEVPROBE_MAX + 1; expect_rejected(&p);
    p = good; p.devprobe = 1; p.suspend = 1; expect_rejected(&p);   /* S3 resets the chipset */
    p = good; p.devprobe = 1; p.vcpus = 2; expect_rejected(&p);     /* shared index ports */
    p = good; p.suspend = 3; p.vcpus = 2; expect_rejected(&p);  /* S3 with one vCPU only */
    p = good; p.zero_every = 0; p.zero_pages = 5; p.zero_method = 99;      /* off: ignored */
    {
        g_autoptr(GBytes) img = payload_image_lookup("x86_64", "default");
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) ok = payload_image_patch(img, &p, &error);
        g_assert_no_error(error);
        g_assert_nonnull(ok);
    }
    p = good; p.hot_pages = 256; p.suspend = 3; p.vcpus = 1;
    {
        g_autoptr(GBytes) img = payload_image_lookup("x86_64", "default");
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) ok = payload_image_patch(img, &p, &error);
        g_assert_no_error(error);
        g_assert_nonnull(ok);
    }
}

/* zero(p, g): slot ((g / E) - 1) mod S after the hot set, none before
 * pass E (migtest-abi.h, "Zero runs"). */
static void test_zero_run_slots(void)
{
    PayloadParams p = { .b_every = 1, .nranges = 1, .hot_pages = 16,
                        .ranges = { { 0x100000, 0x100000 + 600 * MT_PAGE_SIZE } },
                        .zero_every = 2, .zero_pages = 128 };
    const guint64 slot0 = 0x100000 + 16 * MT_PAGE_SIZE, run = 128 * MT_PAGE_SIZE;
    const struct { guint64 g; gboolean any; guint64 slot; } want[] = {
        { 0, FALSE, 0 }, { 1, FALSE, 0 }, { 2, TRUE, 0 }, { 3, TRUE, 0 }, { 4, TRUE, 1 },
        { 9, TRUE, 3 }, { 10, TRUE, 0 },        /* (600 - 16) / 128 = 4 slots */
    };
    guint64 start, end;

    g_assert_cmpuint(payload_zero_slots(&p), ==, 4);
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        g_assert_cmpint(payload_zero_run(&p, want[i].g, &start, &end), ==, want[i].any);
        g_assert_cmphex(start, ==, want[i].any ? slot0 + want[i].slot * run : 0);
        g_assert_cmphex(end, ==, want[i].any ? start + run : 0);
    }
    p.zero_every = 0;
    g_assert_cmpuint(payload_zero_slots(&p), ==, 0);
    g_assert_false(payload_zero_run(&p, 10, &start, &end));
}

static void test_read_rejects_bad_magic(void)
{
    g_autoptr(GBytes) img = payload_image_lookup("x86_64", "default");
    gsize len;
    g_autofree guint8 *copy = g_memdup2(g_bytes_get_data(img, &len), g_bytes_get_size(img));
    g_autoptr(GBytes) broken = NULL;
    g_autoptr(GError) error = NULL;
    PayloadParams p;

    copy[MT_PARAM_OFFSET] ^= 1;
    broken = g_bytes_new(copy, len);
    g_assert_false(payload_params_read(broken, &p, &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_ENV);
    g_assert_nonnull(strstr(error->message, "magic"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/payload/abi", test_abi_consistent);
    g_test_add_func("/payload/images-carry-defaults", test_images_carry_defaults);
    g_test_add_func("/payload/x86-bios-size", test_x86_image_is_bios_sized);
    g_test_add_func("/payload/patch-round-trip", test_patch_round_trip);
    g_test_add_func("/payload/patch-rejects", test_patch_rejects_bad_params);
    g_test_add_func("/payload/read-rejects-bad-magic", test_read_rejects_bad_magic);
    g_test_add_func("/payload/zero-run-slots", test_zero_run_slots);
    return g_test_run();
}
