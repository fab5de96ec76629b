/*
 * test-catalogue.c (slow suite): the whole catalogue on every
 * architecture, through build/migtest -j 2.  It checks that migtest drives
 * and classifies every case, not that this QEMU is bug-free: no case may
 * end in "error" (migtest itself broke), every fail and skip carries a
 * reason, every fail keeps its logs, and the exit status agrees.
 */
#include <string.h>
#include <sys/wait.h>
#include <json-glib/json-glib.h>

static void test_whole_catalogue(void)
{
    g_autofree char *bin = g_build_filename(g_getenv("MIGTEST_BUILD_ROOT"), "migtest", NULL);
    g_autofree char *dir = g_dir_make_tmp("migtest-catalogue-XXXXXX", NULL);
    g_autofree char *json = g_build_filename(dir, "r.json", NULL);
    g_autofree char *results = g_build_filename(dir, "logs", NULL);
    const char *argv[] = { bin, "run", "--case", "*", "-j", "2", "--timeout", "300",
                           "--results", results, "--json", json, NULL };
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    guint n[4] = { 0 };
    JsonArray *cases;
    int status;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(json_parser_load_from_file(parser, json, &error));
    cases = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
                                         "cases");
    g_assert_cmpuint(json_array_get_length(cases), >, 50);
    for (guint i = 0; i < json_array_get_length(cases); i++) {
        JsonObject *c = json_array_get_object_element(cases, i);
        const char *outcome = json_object_get_string_member(c, "outcome");
        const char *name = json_object_get_string_member(c, "name");

        g_test_message("%s: %s %s", name, outcome,
                       json_object_get_string_member_with_default(c, "reason", ""));
        g_assert_cmpstr(outcome, !=, "error");
        if (g_str_equal(outcome, "pass")) {
            n[0]++;
            continue;
        }
        g_assert_nonnull(json_object_get_string_member_with_default(c, "reason", NULL));
        if (g_str_equal(outcome, "fail")) {
            n[1]++;
            g_assert_true(g_file_test(json_object_get_string_member(c, "log_dir"),
                                      G_FILE_TEST_IS_DIR));
        } else {
            n[2]++;
        }
    }
    g_test_message("%u passed, %u failed (QEMU findings), %u skipped", n[0], n[1], n[2]);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, n[1] ? 1 : 0);
    g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/catalogue/whole", test_whole_catalogue);
    return g_test_run();
}
