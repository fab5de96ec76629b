/*
 * test-agent.c: `migtest agent` and its client, with no QEMU and no
 * libvirt: the real agent binary runs on this machine over pipes and maps
 * memfds this test makes (as QEMU's would be).  Each fault the agent path
 * exists to report (a poked byte, a stale page, a torn stream, another
 * version, a missing agent, garbage, silence) is injected and must be
 * found; identical RAM must pass.
 */
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <gio/gio.h>
#include <xxhash.h>
#include "agent-client.h"
#include "agent-proto.h"
#include "mt-error.h"
#include "verify.h"
#include "watchdog.h"

#define RAM_SIZE (8u << 20)
#define WIN_START (1u << 20)
#define WIN_END (4u << 20)
#define NPAGES ((WIN_END - WIN_START) / MT_PAGE_SIZE)
#define GEN 7
#define BOUNDARY 300
/* Every request here is local and small: a second is generous. */
#define REPLY_MS 10000

static char *agent_command(void)
{
    const char *root = g_getenv("MIGTEST_BUILD_ROOT");

    g_assert_nonnull(root);
    return g_strdup_printf("%s/migtest agent", root);
}

typedef struct {
    guint8 *data;
    RamLayout layout;
    AgentClient *agent;
    char *log;
} Side;

typedef struct {
    Side src;
    Side dst;
    PayloadParams params;
    char *tmp;
} Fixture;

static guint64 page_gpa(guint i)
{
    return MT_ARM_RAM_BASE + WIN_START + (guint64)i * MT_PAGE_SIZE;
}

static guint8 *at(Side *s, guint64 gpa)
{
    guint64 off;

    g_assert_true(ram_layout_gpa_to_offset(&s->layout, gpa, &off));
    return s->data + off;
}

static void write_page(Side *s, guint i, guint64 g)
{
    guint64 tail = verify_tail(g, page_gpa(i));

    memcpy(at(s, page_gpa(i)), &g, 8);
    memcpy(at(s, page_gpa(i) + MT_PAGE_SIZE - 8), &tail, 8);
}

/* A memfd like QEMU's RAM, filled with a consistent sweep, and an agent
 * that has mapped it.  The test's own fd is closed before the next side
 * is made, so each agent finds exactly one memfd of that size here. */
static void side_setup(Fixture *f, Side *s, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *cmd = agent_command();
    int fd = memfd_create(name, MFD_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, RAM_SIZE), ==, 0);
    s->data = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    g_assert_true(s->data != MAP_FAILED);
    arch_lookup("aarch64")->ram_layout("virt", RAM_SIZE, &s->layout);
    for (guint i = 0; i < WIN_START; i++)
        s->data[i] = (guint8)(i * 31);
    for (guint i = 0; i < NPAGES; i++)
        write_page(s, i, i < BOUNDARY ? GEN : GEN - 1);
    s->log = g_build_filename(f->tmp, name, NULL);
    s->agent = agent_client_new(cmd, name, s->log, deadline_in_ms(REPLY_MS), &error);
    g_assert_no_error(error);
    g_assert_true(agent_client_map_ram(s->agent, &s->layout, NULL, NULL, getpid(),
                                       deadline_in_ms(REPLY_MS), &error));
    g_assert_no_error(error);
    close(fd);
}

static void fixture_setup(Fixture *f, gconstpointer unused)
{
    (void)unused;
    f->tmp = g_dir_make_tmp("test-agent-XXXXXX", NULL);
    g_assert_nonnull(f->tmp);
    side_setup(f, &f->src, "src");
    side_setup(f, &f->dst, "dst");
    memset(&f->params, 0, sizeof(f->params));
    f->params.b_every = 1;
    f->params.nranges = 1;
    f->params.ranges[0].start = page_gpa(0);
    f->params.ranges[0].end = page_gpa(NPAGES);
}

static void fixture_teardown(Fixture *f, gconstpointer unused)
{
    (void)unused;
    for (Side *s = &f->src; s <= &f->dst; s++) {
        agent_client_free(s->agent);
        munmap(s->data, RAM_SIZE);
        unlink(s->log);
        g_free(s->log);
    }
    g_assert_cmpint(rmdir(f->tmp), ==, 0);      /* nothing left inside */
    g_free(f->tmp);
}

static void test_hash_pages(Fixture *f, gconstpointer unused)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) h = agent_client_hash_pages(f->src.agent, deadline_in_ms(REPLY_MS), &error);

    (void)unused;
    g_assert_no_error(error);
    g_assert_cmpuint(h->len, ==, RAM_SIZE / MT_PAGE_SIZE);
    for (guint i = 0; i < h->len; i++)
        g_assert_cmphex(g_array_index(h, guint64, i), ==,
                        XXH3_64bits(f->src.data + (gsize)i * MT_PAGE_SIZE, MT_PAGE_SIZE));
}

static void test_read_pages(Fixture *f, gconstpointer unused)
{
    g_autoptr(GError) error = NULL;
    guint64 pages[] = { 0, 300, RAM_SIZE / MT_PAGE_SIZE - 1 };
    guint64 bad = RAM_SIZE / MT_PAGE_SIZE;
    g_autoptr(GPtrArray) got = agent_client_read_pages(f->src.agent, pages, 3,
                                                       deadline_in_ms(REPLY_MS), &error);
    g_autoptr(GPtrArray) none = NULL;

    (void)unused;
    g_assert_no_error(error);
    g_assert_cmpuint(got->len, ==, 3);
    for (guint i = 0; i < 3; i++)
        g_assert_cmpmem(g_bytes_get_data(got->pdata[i], NULL), MT_PAGE_SIZE,
                        f->src.data + pages[i] * MT_PAGE_SIZE, MT_PAGE_SIZE);
    /* a page past the end is refused, and the agent goes on serving */
    none = agent_client_read_pages(f->src.agent, &bad, 1, deadline_in_ms(REPLY_MS), &error);
    g_assert_null(none);
    g_assert_error(error, MT_ERROR, MT_ERROR_USAGE);
    g_assert_nonnull(strstr(error->message, "outside"));
    g_clear_error(&error);
    g_ptr_array_unref(agent_client_read_pages(f->src.agent, pages, 1,
                                              deadline_in_ms(REPLY_MS), &error));
    g_assert_no_error(error);
}

static void test_exact_clean(Fixture *f, gconstpointer unused)
{
    g_autoptr(GError) error = NULL;
    g_auto(ExactResult) r = { 0 };

    (void)unused;
    g_assert_true(agent_verify_exact(f->src.agent, f->dst.agent, &f->src.layout, &r,
                                     deadline_in_ms(REPLY_MS), &error));
    g_assert_no_error(error);
    g_assert_cmpuint(r.pages_compared, ==, RAM_SIZE / MT_PAGE_SIZE);
    g_assert_cmpuint(r.pages_differing, ==, 0);
}

/* The poke goes through the agent into the shared memory; the exact
 * check must then name its GPA and both bytes. */
static void test_exact_poked(Fixture *f, gconstpointer unused)
{
    g_autoptr(GError) error = NULL;
    guint64 gpa = page_gpa(123) + 77;
    guint8 was = *at(&f->dst, gpa), now = was ^ 0x5a;
    g_auto(ExactResult) r = { 0 };
    g_autofree char *want = NULL;

    (void)unused;
    g_assert_true(agent_client_poke(f->dst.agent, gpa, &now, 1, deadline_in_ms(REPLY_MS),
                                    &error));
    g_assert_no_error(error);
    g_assert_cmpuint(*at(&f->dst, gpa), ==, now);
    g_assert_false(agent_verify_exact(f->src.agent, f->dst.agent, &f->src.layout, &r,
                                      deadline_in_ms(REPLY_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_VERIFY);
    g_assert_cmpuint(r.pages_differing, ==, 1);
    g_assert_cmpuint(r.ndiffs, ==, 1);
    g_assert_cmphex(r.diffs[0].gpa, ==, gpa);
    g_assert_cmphex(r.diffs[0].src[0], ==, was);
    g_assert_cmphex(r.diffs[0].dst[0], ==, now);
    g_assert_cmpmem(r.diffs[0].src + 1, r.diffs[0].shown - 1, at(&f->src, gpa + 1),
                    r.diffs[0].shown - 1);
    want = g_strdup_printf("first at gpa 0x%" G_GINT64_MODIFIER "x: src %02x", gpa, was);
    g_assert_nonnull(strstr(error->message, want));
}

static void test_exact_many(Fixture *f, gconstpointer unused)
{
    g_autoptr(GError) error = NULL;
    g_auto(ExactResult) r = { 0 };

    (void)unused;
    for (guint i = 0; i < 20; i++)
        *at(&f->src, page_gpa(i * 7) + 9) ^= 1;
    g_assert_false(agent_verify_exact(f->src.agent, f->dst.agent, &f->src.layout, &r,
                                      deadline_in_ms(REPLY_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_VERIFY);
    g_assert_cmpuint(r.pages_differing, ==, 20);
    g_assert_cmpuint(r.ndiffs, ==, VERIFY_MAX_REPORTED);
    for (guint i = 0; i < r.ndiffs; i++)
        g_assert_cmphex(r.diffs[i].gpa, ==, page_gpa(i * 7) + 9);
    g_assert_cmpuint(r.pages->len, ==, 20);
    for (guint i = 0; i < r.pages->len; i++) {
        g_assert_cmphex(g_array_index(r.pages, ExactDiff, i).gpa, ==, page_gpa(i * 7) + 9);
        g_assert_cmpuint(g_array_index(r.pages, ExactDiff, i).bytes_differing, ==, 1);
    }
}

static void assert_same_invariant(const InvariantResult *a, const InvariantResult *b)
{
    g_assert_cmpint(a->ok, ==, b->ok);
    g_assert_cmpuint(a->pages_checked, ==, b->pages_checked);
    g_assert_cmpuint(a->generation, ==, b->generation);
    g_assert_cmphex(a->boundary_gpa, ==, b->boundary_gpa);
    g_assert_cmpuint(a->violations, ==, b->violations);
    g_assert_cmpuint(a->nreported, ==, b->nreported);
    for (guint i = 0; i < a->nreported; i++) {
        g_assert_cmphex(a->reported[i].gpa, ==, b->reported[i].gpa);
        g_assert_cmphex(a->reported[i].expected, ==, b->reported[i].expected);
        g_assert_cmphex(a->reported[i].found, ==, b->reported[i].found);
    }
    g_assert_cmpstr(a->detail, ==, b->detail);
}

/* The agent's verdict is verify_invariant()'s, clean and with a stale page. */
static void test_invariant(Fixture *f, gconstpointer unused)
{
    RamImage img = { .data = f->dst.data, .layout = f->dst.layout };

    (void)unused;
    for (guint round = 0; round < 2; round++) {
        g_autoptr(GError) error = NULL;
        InvariantResult remote, local;

        if (round == 1)
            write_page(&f->dst, 10, GEN - 1);   /* stale: before the boundary */
        g_assert_true(agent_client_invariant(f->dst.agent, &f->params, &remote,
                                             deadline_in_ms(REPLY_MS), &error));
        g_assert_no_error(error);
        g_assert_cmpint(verify_invariant(&img, &f->params, &local, NULL), ==, round == 0);
        g_assert_cmpint(remote.ok, ==, round == 0);
        assert_same_invariant(&remote, &local);
        if (round == 1)
            g_assert_cmphex(remote.reported[0].gpa, ==, page_gpa(10));
        invariant_result_clear(&remote);
        invariant_result_clear(&local);
    }
}

/* Bytes written into the agent's socket arrive, decoded, in the Serial;
 * closing the socket ends the stream. */
static void test_serial_relay(Fixture *f, gconstpointer unused)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(f->tmp, "sub", "serial.sock", NULL);
    g_autoptr(Serial) sink = serial_new_relayed(NULL, FALSE, &error);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    SerialCounts c;
    int fd;

    (void)unused;
    g_assert_true(agent_client_listen_serial(f->src.agent, path, sink,
                                             deadline_in_ms(REPLY_MS), &error));
    g_assert_no_error(error);
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(write(fd, "ABB", 3), ==, 3);
    g_assert_true(serial_wait_b(sink, 2, "src", deadline_in_ms(REPLY_MS), &error));
    g_assert_no_error(error);
    close(fd);
    g_assert_false(serial_wait_b(sink, 3, "src", deadline_in_ms(REPLY_MS), &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_DISCONNECTED);
    serial_counts(sink, &c);
    g_assert_cmpuint(c.a, ==, 1);
    g_assert_cmpuint(c.b, ==, 2);
    g_assert_true(c.closed);
    /* release removes the socket and the directory the agent made */
    g_clear_error(&error);
    g_assert_true(agent_client_release(f->src.agent, deadline_in_ms(REPLY_MS), &error));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_free(path);
    path = g_build_filename(f->tmp, "sub", NULL);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

/* put-file makes its parents; release, and failing that the agent's exit,
 * removes them again; a file that exists is refused, not overwritten. */
static void test_put_file(Fixture *f, gconstpointer unused)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *top = g_build_filename(f->tmp, "a", NULL);
    g_autofree char *path = g_build_filename(top, "b", "payload.bin", NULL);
    g_autoptr(GBytes) data = g_bytes_new_static("\x01\x02payload", 9);
    g_autofree char *got = NULL;
    gsize len = 0;

    (void)unused;
    g_assert_true(agent_client_put_file(f->dst.agent, path, data, deadline_in_ms(REPLY_MS),
                                        &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(path, &got, &len, NULL));
    g_assert_cmpmem(got, len, "\x01\x02payload", 9);
    g_assert_false(agent_client_put_file(f->dst.agent, path, data, deadline_in_ms(REPLY_MS),
                                         &error));
    g_assert_error(error, MT_ERROR, MT_ERROR_ENV);
    g_assert_nonnull(strstr(error->message, "exists already"));
    g_clear_error(&error);
    /* the agent's exit (EOF on its stdin) cleans up too */
    g_clear_pointer(&f->dst.agent, agent_client_free);
    g_assert_false(g_file_test(top, G_FILE_TEST_EXISTS));
}

static void expect_start_error(const char *command, gint code, const char *needle,
                               gint64 deadline_ms)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("test-agent-XXXXXX", NULL);
    g_autofree char *log = g_build_filename(tmp, "agent.log", NULL);
    gint64 t0 = g_get_monotonic_time();
    AgentClient *a = agent_client_new(command, "src", log, deadline_in_ms(deadline_ms), &error);

    g_assert_null(a);
    g_assert_error(error, MT_ERROR, code);
    if (!strstr(error->message, needle))
        g_error("'%s' not in '%s'", needle, error->message);
    /* the deadline held: not much later than asked */
    g_assert_cmpint(g_get_monotonic_time() - t0, <, (deadline_ms + 6000) * 1000);
    unlink(log);
    g_assert_cmpint(rmdir(tmp), ==, 0);
}

static void test_missing(void)
{
    expect_start_error("/nonexistent/migtest agent", MT_ERROR_ENV, "fix --src-agent", REPLY_MS);
    expect_start_error("sh -c 'echo migtest: command not found >&2; exit 127'", MT_ERROR_ENV,
                       "command not found", REPLY_MS);
    expect_start_error("sh -c 'echo hello world'", MT_ERROR_ENV, "printed 'hello world'", REPLY_MS);
}

static void test_version_mismatch_controller(void)
{
    expect_start_error("sh -c 'echo \"{\\\"agent\\\":\\\"migtest-agent\\\",\\\"version\\\":"
                       "\\\"9.9\\\",\\\"protocol\\\":1}\"; exec cat >/dev/null'",
                       MT_ERROR_ENV, "9.9 protocol 1, this is migtest", REPLY_MS);
}

/* An agent that greets and then never answers: the hello's deadline ends it. */
static void test_silent_agent(void)
{
    expect_start_error("sh -c 'echo \"{\\\"agent\\\":\\\"migtest-agent\\\",\\\"version\\\":"
                       "\\\"" PROJECT_VERSION "\\\",\\\"protocol\\\":1}\"; exec sleep 30'",
                       MT_ERROR_TIMEOUT, "no the reply to 'hello' within the deadline", 500);
}

/* ---- the raw protocol, as another controller would speak it ---- */

typedef struct {
    GSubprocess *proc;
    GOutputStream *in;
    GDataInputStream *out;
} Raw;

static void raw_start(Raw *r)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *cmd = agent_command();
    g_auto(GStrv) argv = NULL;
    g_autoptr(JsonObject) banner = NULL;
    g_autofree char *line = NULL;

    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    r->proc = g_subprocess_newv((const char *const *)argv, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
    g_assert_no_error(error);
    r->in = g_subprocess_get_stdin_pipe(r->proc);
    r->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(r->proc));
    line = g_data_input_stream_read_line(r->out, NULL, NULL, NULL);
    banner = agent_proto_parse(line, strlen(line), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(json_object_get_string_member(banner, "version"), ==, PROJECT_VERSION);
    g_assert_cmpint(json_object_get_int_member(banner, "protocol"), ==, AGENT_PROTOCOL_VERSION);
}

/* Send @line, return the reply. */
static JsonObject *raw_ask(Raw *r, const char *line)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *reply = NULL;
    JsonObject *o;

    g_assert_true(g_output_stream_write_all(r->in, line, strlen(line), NULL, NULL, &error));
    g_assert_true(g_output_stream_write_all(r->in, "\n", 1, NULL, NULL, &error));
    reply = g_data_input_stream_read_line(r->out, NULL, NULL, &error);
    g_assert_nonnull(reply);
    o = agent_proto_parse(reply, strlen(reply), &error);
    g_assert_no_error(error);
    return o;
}

static void raw_expect(Raw *r, const char *line, gboolean ok, const char *needle)
{
    g_autoptr(JsonObject) o = raw_ask(r, line);

    g_assert_cmpint(json_object_get_boolean_member(o, "ok"), ==, ok);
    if (needle && !strstr(json_object_get_string_member(o, "error"), needle))
        g_error("'%s' not in '%s'", needle, json_object_get_string_member(o, "error"));
}

static void raw_stop(Raw *r)
{
    g_autoptr(GError) error = NULL;

    g_output_stream_close(r->in, NULL, NULL);
    g_assert_true(g_subprocess_wait_check(r->proc, NULL, &error));     /* exit 0 at EOF */
    g_object_unref(r->out);
    g_object_unref(r->proc);
}

static void test_version_mismatch_agent(void)
{
    Raw r;

    raw_start(&r);
    raw_expect(&r, "{\"id\":1,\"cmd\":\"hello\",\"version\":\"9.9\",\"protocol\":1}", FALSE,
               "the controller migtest 9.9");
    raw_expect(&r, "{\"id\":2,\"cmd\":\"hello\",\"version\":\"" PROJECT_VERSION
               "\",\"protocol\":99}", FALSE, "install the same migtest");
    raw_expect(&r, "{\"id\":3,\"cmd\":\"hash-pages\"}", FALSE, "before hello");
    raw_stop(&r);
}

/* Every garbage line gets exactly one error reply; the agent then still works. */
static void test_garbage(void)
{
    static const char *const garbage[] = {
        "not json at all", "[1, 2, 3]", "{\"cmd\":\"hello\"}", "{\"id\":\"x\",\"cmd\":\"hello\"}",
        "{\"id\":4}", "{\"id\":5,\"cmd\":42}", "{\"id\":6,\"cmd\":\"format-disk\"}",
        "{\"id\":7,\"cmd\":\"hello\",\"version\":7}", "\x01\x02\xff\xfe",
    };
    Raw r;

    raw_start(&r);
    for (guint i = 0; i < G_N_ELEMENTS(garbage); i++)
        raw_expect(&r, garbage[i], FALSE, NULL);
    raw_expect(&r, "{\"id\":8,\"cmd\":\"hello\",\"version\":\"" PROJECT_VERSION
               "\",\"protocol\":1}", TRUE, NULL);
    raw_expect(&r, "{\"id\":9,\"cmd\":\"hash-pages\"}", FALSE, "no RAM mapped");
    raw_expect(&r, "{\"id\":10,\"cmd\":\"put-file\",\"path\":\"relative\",\"data\":\"\"}",
               FALSE, "not an absolute path");
    raw_expect(&r, "{\"id\":11,\"cmd\":\"map-ram\",\"layout\":{\"total\":4096,\"segments\":"
               "[]},\"uuid\":\"00000000-dead-beef-0000-000000000000\"}", FALSE,
               "no process runs -uuid");
    raw_stop(&r);
}

int main(int argc, char **argv)
{
    static const GTestFunc missing = test_missing, vm_ctl = test_version_mismatch_controller,
        vm_agent = test_version_mismatch_agent, garbage = test_garbage,
        silent = test_silent_agent;

    g_test_init(&argc, &argv, NULL);
    watchdog_install();
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/agent/hash-pages", test_hash_pages);
    ADD("/agent/read-pages", test_read_pages);
    ADD("/agent/exact/clean", test_exact_clean);
    ADD("/agent/exact/poked", test_exact_poked);
    ADD("/agent/exact/many", test_exact_many);
    ADD("/agent/invariant", test_invariant);
    ADD("/agent/serial-relay", test_serial_relay);
    ADD("/agent/put-file", test_put_file);
#undef ADD
    g_test_add_data_func("/agent/missing", &missing, watchdog_run);
    g_test_add_data_func("/agent/version-mismatch/controller", &vm_ctl, watchdog_run);
    g_test_add_data_func("/agent/version-mismatch/agent", &vm_agent, watchdog_run);
    g_test_add_data_func("/agent/garbage", &garbage, watchdog_run);
    g_test_add_data_func("/agent/silent", &silent, watchdog_run);
    return g_test_run();
}
