/*
 * test-case-info.c: migtest list --long / --json.  Every case of the
 * catalogue has a summary, what it exercises and what it asserts; the
 * words follow the row (a version floor, a fixed accelerator, a
 * capability, a fault show up), and the JSON parses with every field.
 */
#include <string.h>
#include <sys/wait.h>
#include <json-glib/json-glib.h>
#include "case-info.h"
#include "watchdog.h"

static gboolean has_item(GPtrArray *items, const char *needle)
{
    for (guint i = 0; i < items->len; i++)
        if (strstr(items->pdata[i], needle))
            return TRUE;
    return FALSE;
}

static void test_every_case_described(void)
{
    g_autoptr(GPtrArray) all = cases_select(arch_table, "*");

    g_assert_cmpuint(all->len, >, 0);
    for (guint i = 0; i < all->len; i++) {
        const CaseInstance *c = all->pdata[i];
        g_autoptr(CaseInfo) info = case_info_new(c);

        g_test_message("%s", c->name);
        g_assert_nonnull(info->summary);
        g_assert_cmpuint(strlen(info->summary), >, 10);
        g_assert_cmpuint(info->exercises->len, >, 0);
        g_assert_cmpuint(info->asserts->len, >, 0);
        for (guint n = 0; n < info->asserts->len; n++)
            g_assert_cmpuint(strlen(info->asserts->pdata[n]), >, 0);
        g_assert_cmpuint(info->accels->len, >, 0);
        g_assert_cmpuint(info->backends->len, >, 0);
    }
}

static CaseInfo *info_for(const char *name)
{
    g_autoptr(GPtrArray) one = cases_select(arch_table, name);

    g_assert_cmpuint(one->len, ==, 1);
    return case_info_new(one->pdata[0]);
}

/* The words are derived from the row: change the row, the words follow. */
static void test_words_follow_the_row(void)
{
    g_autoptr(CaseInfo) file = info_for("/x86_64/precopy/file");
    g_autoptr(CaseInfo) ring = info_for("/x86_64/dirty-ring/tcp");
    g_autoptr(CaseInfo) lnx = info_for("/x86_64/linux/precopy/tcp");
    g_autoptr(CaseInfo) zstd = info_for("/aarch64/multifd/zstd");
    g_autoptr(CaseInfo) bad = info_for("/x86_64/bad-destination/tcp");
    g_autoptr(CaseInfo) post = info_for("/x86_64/postcopy/tcp");
    g_autoptr(CaseInfo) tcp = info_for("/x86_64/precopy/tcp");

    g_assert_cmpstr(file->min_qemu, ==, "8.2.0");
    g_assert_true(has_item(file->exercises, "transport file"));
    g_assert_null(tcp->min_qemu);
    g_assert_cmpuint(ring->accels->len, ==, 1);
    g_assert_cmpstr(ring->accels->pdata[0], ==, "kvm");
    g_assert_true(has_item(ring->qemu_needs, "calc-dirty-rate"));
    g_assert_cmpuint(lnx->accels->len, ==, 1);
    g_assert_cmpstr(lnx->accels->pdata[0], ==, "tcg");
    g_assert_cmpuint(tcp->accels->len, ==, 2);
    g_assert_true(has_item(tcp->backends, "qemu"));
    g_assert_true(has_item(zstd->qemu_needs, "capability multifd"));
    g_assert_true(has_item(zstd->qemu_needs, "multifd compression zstd"));
    g_assert_true(has_item(zstd->asserts, "multifd sent bytes"));
    g_assert_true(has_item(bad->asserts, "ends 'failed'"));
    g_assert_true(has_item(bad->exercises, "nothing listens"));
    g_assert_false(has_item(bad->asserts, "exact:"));
    g_assert_true(has_item(tcp->asserts, "exact:"));
    g_assert_true(has_item(post->asserts, "postcopy-active"));
    g_assert_false(has_item(post->asserts, "exact:"));      /* postcopy: no exact */
    g_assert_true(has_item(post->asserts, "invariant:"));
    {
        g_autoptr(CaseInfo) shared = info_for("/x86_64/ignore-shared/file");
        g_autoptr(CaseInfo) xfer = info_for("/x86_64/cpr-transfer/defer");

        g_assert_true(has_item(shared->asserts, "ram.transferred < 4 MiB"));
        g_assert_true(has_item(shared->asserts, "copy of the source's RAM taken at stop"));
        g_assert_true(has_item(shared->exercises, "one tmpfs file both QEMUs map"));
        g_assert_true(has_item(xfer->exercises, "over a cpr channel"));
        g_assert_true(has_item(xfer->exercises, "aux-ram-share=on"));
        g_assert_cmpstr(xfer->min_qemu, ==, "10.0.0");
    }
}

static void test_json_fields(void)
{
    g_autoptr(GPtrArray) all = cases_select(arch_table, "*");
    g_autofree char *text = case_info_json_dup(all);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    JsonArray *cases;
    const char *arrays[] = { "exercises", "asserts", "accelerators", "backends" };

    g_assert_true(json_parser_load_from_data(parser, text, -1, &error));
    g_assert_no_error(error);
    cases = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
                                         "cases");
    g_assert_cmpuint(json_array_get_length(cases), ==, all->len);
    for (guint i = 0; i < all->len; i++) {
        JsonObject *o = json_array_get_object_element(cases, i);
        JsonObject *q = json_object_get_object_member(o, "qemu");

        g_assert_cmpstr(json_object_get_string_member(o, "name"), ==,
                        ((CaseInstance *)all->pdata[i])->name);
        g_assert_nonnull(json_object_get_string_member(o, "arch"));
        g_assert_true(json_object_has_member(o, "smoke"));
        g_assert_cmpuint(strlen(json_object_get_string_member(o, "summary")), >, 0);
        for (guint a = 0; a < G_N_ELEMENTS(arrays); a++)
            g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, arrays[a])),
                             >, 0);
        g_assert_nonnull(q);
        g_assert_true(json_object_has_member(q, "min_version"));
        g_assert_nonnull(json_object_get_array_member(q, "needs"));
    }
}

/* Run build/migtest with @args; its stdout, stderr and exit status. */
static int run_migtest(const char *const *args, char **out, char **err)
{
    g_autofree char *bin = g_build_filename(g_getenv("MIGTEST_BUILD_ROOT"), "migtest", NULL);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    int status = -1;

    g_ptr_array_add(argv, bin);
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &status, &error));
    g_assert_no_error(error);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The CLI: list --json - is one JSON document on stdout, list --long
 * the words, and an unwritable --json FILE a one-line usage error. */
static void test_cli(void)
{
    const char *json_args[] = { "list", "--json", "-", "--case", "/x86_64/precopy/file", NULL };
    const char *long_args[] = { "list", "--long", "--case", "/x86_64/precopy/file", NULL };
    const char *bad_args[] = { "list", "--json", "/nonexistent-dir/cases.json", NULL };
    g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
    g_autofree char *out3 = NULL, *err3 = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    JsonArray *cases;

    g_assert_cmpint(run_migtest(json_args, &out, &err), ==, 0);
    g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
    g_assert_no_error(error);
    cases = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
                                         "cases");
    g_assert_cmpuint(json_array_get_length(cases), ==, 1);
    g_assert_cmpint(run_migtest(long_args, &out2, &err2), ==, 0);
    g_assert_true(g_str_has_prefix(out2, "/x86_64/precopy/file\n"));
    g_assert_nonnull(strstr(out2, "qemu: >= 8.2.0"));
    g_assert_nonnull(strstr(out2, "passes if: "));
    g_assert_cmpint(run_migtest(bad_args, &out3, &err3), ==, 2);
    g_assert_nonnull(strstr(err3, "cannot write --json '/nonexistent-dir/cases.json'"));
    g_assert_cmpuint(strlen(strchr(err3, '\n')), ==, 1);  /* one line */
}

int main(int argc, char **argv)
{
    static const struct { const char *path; GTestFunc func; } tests[] = {
        { "/case-info/every-case-described", test_every_case_described },
        { "/case-info/words-follow-the-row", test_words_follow_the_row },
        { "/case-info/json-fields", test_json_fields },
        { "/case-info/cli", test_cli },
    };

    g_test_init(&argc, &argv, NULL);
    watchdog_install();
    for (guint i = 0; i < G_N_ELEMENTS(tests); i++)
        g_test_add_data_func(tests[i].path, &tests[i].func, watchdog_run);
    return g_test_run();
}
