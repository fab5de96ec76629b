/*
 * test-bisect.c: --bisect, --repeat and --until-fail on the command line,
 * with the real QEMU and a "bad revision" of it (tests/bad-qemu.sh: its
 * migrations fail from a chosen launch on).  --bisect must exit 0 for a
 * pass, 1 for the bad revision, 125 when every case was skipped or the
 * QEMU cannot run; --until-fail must stop at the first failing run, keep
 * that run's logs and report no unrun case as an error; --repeat must
 * put the per-case summary in the JSON and JUnit reports; --ping-pong
 * must verify every hop and name the first that fails.
 */
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

typedef struct {
    char *dir;
    char *counter;
    char *json;
    char *junit;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer unused)
{
    (void)unused;
    f->dir = g_dir_make_tmp("migtest-bisect-XXXXXX", NULL);
    f->counter = g_build_filename(f->dir, "launches", NULL);
    f->json = g_build_filename(f->dir, "r.json", NULL);
    f->junit = g_build_filename(f->dir, "r.xml", NULL);
}

static void fixture_teardown(Fixture *f, gconstpointer unused)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

    (void)unused;
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
    g_free(f->counter);
    g_free(f->json);
    g_free(f->junit);
}

static int run_migtest_full(Fixture *f, guint fail_from, guint incoming_from,
                            const char *const *extra);

/* Run migtest with @extra; the source QEMU is bad-qemu.sh breaking from
 * launch @fail_from on (0: the real QEMU).  Returns the exit status. */
static int run_migtest(Fixture *f, guint fail_from, const char *const *extra)
{
    return run_migtest_full(f, fail_from, 0, extra);
}

/* Same; with @incoming_from, the destination QEMU is bad-qemu.sh too and
 * its @incoming_from-th destination launch gets the extra device. */
static int run_migtest_full(Fixture *f, guint fail_from, guint incoming_from,
                            const char *const *extra)
{
    g_autofree char *in_from = g_strdup_printf("%u", incoming_from);
    g_autofree char *in_counter = g_strconcat(f->counter, ".in", NULL);
    g_autofree char *bin = g_build_filename(g_getenv("MIGTEST_BUILD_ROOT"), "migtest", NULL);
    g_autofree char *bad = g_build_filename(g_getenv("MIGTEST_SOURCE_ROOT"), "tests",
                                            "bad-qemu.sh", NULL);
    g_autofree char *real = g_find_program_in_path("qemu-system-x86_64");
    g_autofree char *from = g_strdup_printf("%u", fail_from);
    g_autofree char *results = g_build_filename(f->dir, "results", NULL);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) env = g_get_environ();
    int status;

    env = g_environ_setenv(env, "BAD_QEMU_REAL", real, TRUE);
    env = g_environ_setenv(env, "BAD_QEMU_COUNTER", f->counter, TRUE);
    env = g_environ_setenv(env, "BAD_QEMU_FAIL_FROM", from, TRUE);
    g_unlink(f->counter);
    g_unlink(in_counter);
    if (incoming_from)
        env = g_environ_setenv(env, "BAD_QEMU_INCOMING_FROM", in_from, TRUE);
    g_ptr_array_add(argv, bin);
    g_ptr_array_add(argv, (gpointer)"run");
    g_ptr_array_add(argv, (gpointer)"--arch");
    g_ptr_array_add(argv, (gpointer)"x86_64");
    g_ptr_array_add(argv, (gpointer)"--accel");
    g_ptr_array_add(argv, (gpointer)"tcg");
    g_ptr_array_add(argv, (gpointer)"--results");
    g_ptr_array_add(argv, results);
    g_ptr_array_add(argv, (gpointer)"--json");
    g_ptr_array_add(argv, f->json);
    g_ptr_array_add(argv, (gpointer)"--junit");
    g_ptr_array_add(argv, f->junit);
    if (fail_from) {
        g_ptr_array_add(argv, (gpointer)"--src-qemu");
        g_ptr_array_add(argv, bad);
    }
    if (incoming_from) {
        g_ptr_array_add(argv, (gpointer)"--dst-qemu");
        g_ptr_array_add(argv, bad);
    }
    for (guint i = 0; extra[i]; i++)
        g_ptr_array_add(argv, (gpointer)extra[i]);
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_bisect_pass(Fixture *f, gconstpointer u)
{
    const char *extra[] = { "--case", "/x86_64/precopy/tcp", "--bisect", NULL };

    (void)u;
    g_assert_cmpint(run_migtest(f, 0, extra), ==, 0);
}

static void test_bisect_bad_revision(Fixture *f, gconstpointer u)
{
    const char *extra[] = { "--case", "/x86_64/precopy/tcp", "--bisect", NULL };

    (void)u;
    g_assert_cmpint(run_migtest(f, 1, extra), ==, 1);
}

/* The dirty ring is KVM's: under TCG every selected case is a skip. */
static void test_bisect_all_skipped(Fixture *f, gconstpointer u)
{
    const char *extra[] = { "--case", "/x86_64/dirty-ring/tcp", "--bisect", NULL };
    const char *plain[] = { "--case", "/x86_64/dirty-ring/tcp", NULL };

    (void)u;
    g_assert_cmpint(run_migtest(f, 0, extra), ==, 125);
    g_assert_cmpint(run_migtest(f, 0, plain), ==, 0);      /* without --bisect: 0 */
}

/* A revision whose QEMU does not run at all cannot be judged. */
static void test_bisect_qemu_missing(Fixture *f, gconstpointer u)
{
    const char *extra[] = { "--case", "/x86_64/precopy/tcp", "--bisect",
                            "--src-qemu", "/nonexistent/qemu-system-x86_64", NULL };

    (void)u;
    g_assert_cmpint(run_migtest(f, 0, extra), ==, 125);
}

static JsonObject *repeat_entry(JsonNode *root, guint i)
{
    JsonArray *rep = json_object_get_array_member(json_node_get_object(root), "repeat");

    g_assert_nonnull(rep);
    return json_array_get_object_element(rep, i);
}

/* Runs 1 and 2 pass, run 3 fails: --until-fail stops there. */
static void test_until_fail(Fixture *f, gconstpointer u)
{
    const char *extra[] = { "--case", "/x86_64/precopy/tcp", "--until-fail", "--repeat", "6", NULL };
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *kept = g_build_filename(f->dir, "results", "run-3", "x86_64-precopy-tcp",
                                             "src.cmdline", NULL);
    g_autofree char *none = g_build_filename(f->dir, "results", "run-4", NULL);
    g_autofree char *xml = NULL;
    JsonObject *s;
    JsonArray *cases;

    (void)u;
    g_assert_cmpint(run_migtest(f, 3, extra), ==, 1);
    g_assert_true(json_parser_load_from_file(p, f->json, &error));
    g_assert_no_error(error);
    cases = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "cases");
    g_assert_cmpuint(json_array_get_length(cases), ==, 3);  /* no unrun run as an error */
    s = repeat_entry(json_parser_get_root(p), 0);
    g_assert_cmpint(json_object_get_int_member(s, "runs"), ==, 3);
    g_assert_cmpint(json_object_get_int_member(s, "pass"), ==, 2);
    g_assert_cmpint(json_object_get_int_member(s, "fail"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(s, "first_failing_run"), ==, 3);
    g_assert_true(g_file_test(kept, G_FILE_TEST_EXISTS));  /* the failure's logs */
    g_assert_false(g_file_test(none, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_get_contents(f->junit, &xml, NULL, NULL));
    g_assert_nonnull(strstr(xml, "1 of 3 runs failed"));
    g_assert_nonnull(strstr(xml, "first failing run 3"));
}

/* --repeat of a clean case: a zero failure rate with its interval. */
static void test_repeat_summary(Fixture *f, gconstpointer u)
{
    const char *extra[] = { "--case", "/x86_64/precopy/tcp", "--repeat", "3", NULL };
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) error = NULL;
    JsonObject *s, *down;
    JsonArray *ci;

    (void)u;
    g_assert_cmpint(run_migtest(f, 0, extra), ==, 0);
    g_assert_true(json_parser_load_from_file(p, f->json, &error));
    g_assert_no_error(error);
    s = repeat_entry(json_parser_get_root(p), 0);
    g_assert_cmpint(json_object_get_int_member(s, "runs"), ==, 3);
    g_assert_cmpint(json_object_get_int_member(s, "pass"), ==, 3);
    ci = json_object_get_array_member(s, "failure_rate_wilson95");
    g_assert_cmpfloat(json_array_get_double_element(ci, 0), ==, 0.0);
    g_assert_cmpfloat_with_epsilon(json_array_get_double_element(ci, 1), 0.561497, 1e-4);
    down = json_object_get_object_member(s, "downtime_ms");
    g_assert_cmpint(json_object_get_int_member(down, "runs"), ==, 3);
    g_assert_cmpfloat(json_object_get_double_member(down, "p50"), >, 0);
    g_assert_cmpfloat(json_object_get_double_member(down, "max"), >=,
                      json_object_get_double_member(down, "p95"));
}

static JsonObject *only_case(JsonParser *p, const char *path)
{
    g_autoptr(GError) error = NULL;
    JsonArray *cases;

    g_assert_true(json_parser_load_from_file(p, path, &error));
    g_assert_no_error(error);
    cases = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "cases");
    g_assert_cmpuint(json_array_get_length(cases), ==, 1);
    return json_array_get_object_element(cases, 0);
}

/* Three hops A->B->A->B, each verified. */
static void test_ping_pong(Fixture *f, gconstpointer u)
{
    const char *extra[] = { "--case", "/x86_64/precopy/tcp", "--ping-pong", "3", NULL };
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *pp;

    (void)u;
    g_assert_cmpint(run_migtest(f, 0, extra), ==, 0);
    pp = json_object_get_object_member(only_case(p, f->json), "ping_pong");
    g_assert_cmpint(json_object_get_int_member(pp, "hops_verified"), ==, 3);
    g_assert_cmpint(json_object_get_int_member(pp, "first_failing_hop"), ==, 0);
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(pp, "per_hop")), ==, 3);
}

/* The second destination launch (the guest's home after hop 3) gets a
 * device the next destination lacks: hop 4, out of it, must fail and be
 * named, after three verified hops. */
static void test_ping_pong_failing_hop(Fixture *f, gconstpointer u)
{
    const char *extra[] = { "--case", "/x86_64/precopy/tcp", "--ping-pong", "6", NULL };
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *c, *pp;

    (void)u;
    g_assert_cmpint(run_migtest_full(f, 0, 2, extra), ==, 1);
    c = only_case(p, f->json);
    pp = json_object_get_object_member(c, "ping_pong");
    g_test_message("reason: %s", json_object_get_string_member(c, "reason"));
    g_assert_cmpint(json_object_get_int_member(pp, "first_failing_hop"), ==, 4);
    g_assert_cmpint(json_object_get_int_member(pp, "hops_verified"), ==, 3);
    g_assert_nonnull(strstr(json_object_get_string_member(c, "reason"), "ping-pong hop 4"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/bisect/pass", test_bisect_pass);
    ADD("/bisect/bad-revision", test_bisect_bad_revision);
    ADD("/bisect/all-skipped", test_bisect_all_skipped);
    ADD("/bisect/qemu-missing", test_bisect_qemu_missing);
    ADD("/repeat/until-fail", test_until_fail);
    ADD("/repeat/summary", test_repeat_summary);
    ADD("/ping-pong/three-hops", test_ping_pong);
    ADD("/ping-pong/failing-hop", test_ping_pong_failing_hop);
    return g_test_run();
}
