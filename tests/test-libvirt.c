/*
 * test-libvirt.c: the libvirt backend end to end, on two libvirt "hosts"
 * this test brings up on this machine (scripts/libvirt-hosts: network
 * namespaces mtlvA/mtlvB, a libvirtd each) and always tears down.
 *   smoke      precopy p2p passes with exact verification on x86_64 and
 *              aarch64 under TCG; the JSON has metrics.libvirt
 *   poke       a source byte changed behind QEMU's back, through the agent,
 *              is a FAIL naming its GPA and both bytes
 *   leftovers  after pass, fail and SIGTERM: no migtest domain, QEMU,
 *              agent, file or socket on either host
 *   bad input  each exits 2 with one line naming problem and fix: an
 *              unreachable URI, the same host twice, a missing agent, an
 *              agent of another version, a domain left by a killed run
 *              (then `migtest cleanup` removes it), a machine type the
 *              hosts lack
 * Skipped, with the reason, when this machine cannot host them (not root,
 * no libvirtd, no network namespaces).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "backend.h"
#include "libvirt-conn.h"
#include "libvirt-domain.h"
#include "leftovers.h"
#include "runner.h"

#define POKE_OFFSET 0x345678
/* A case takes 5-15 s under TCG here; two minutes is for a loaded host. */
#define CASE_TIMEOUT_MS 120000

/* The two hosts, up for the whole test program (set in main). */
typedef struct {
    char *dir;
    char *src_uri;
    char *dst_uri;
    char *src_agent;
    char *dst_agent;
    char *migtest;
    char *results;
    char *skip;                 /* why the hosts could not come up */
} Hosts;

static Hosts hosts;

static char *env_value(const char *env, const char *key)
{
    g_autofree char *pat = g_strdup_printf("%s='", key);
    const char *p = strstr(env, pat), *end;

    g_assert_nonnull(p);
    p += strlen(pat);
    end = strchr(p, '\'');
    return g_strndup(p, end - p);
}

static gboolean script(const char *verb)
{
    g_autofree char *path = g_build_filename(g_getenv("MIGTEST_SOURCE_ROOT"), "scripts",
                                             "libvirt-hosts", NULL);
    const char *argv[] = { path, verb, hosts.dir, NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = -1;

    return g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &err, &status, NULL) &&
           g_spawn_check_wait_status(status, NULL);
}

/* A failed assertion aborts (g_error traps): the hosts still come down
 * (tests only). */
static char down_command[4096];

static void down_on_abort(int sig)
{
    if (down_command[0])
        (void)!system(down_command);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The hosts' network namespaces have fixed names: one test-libvirt at a
 * time on a machine (other sessions may run scripts/test too). */
#define LOCK_PATH "/run/lock/migtest-libvirt-hosts.lock"
#define LOCK_WAIT_MS (15 * 60 * 1000)

static gboolean take_lock(void)
{
    int fd = open(LOCK_PATH, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    Deadline d = deadline_in_ms(LOCK_WAIT_MS);

    while (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (deadline_expired(d))
            return FALSE;
        g_usleep(500 * 1000);
    }
    return fd >= 0;     /* held until the process exits */
}

static void hosts_up(void)
{
    g_autofree char *env = NULL;
    g_autofree char *envf = NULL;
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;

    hosts.dir = g_build_filename(g_getenv("MIGTEST_BUILD_ROOT"), "libvirt-hosts", NULL);
    hosts.migtest = g_build_filename(g_getenv("MIGTEST_BUILD_ROOT"), "migtest", NULL);
    hosts.results = g_build_filename(g_getenv("MIGTEST_BUILD_ROOT"), "libvirt-results", NULL);
    if (getuid() != 0) {
        hosts.skip = g_strdup("needs root (network namespaces, libvirtd)");
        return;
    }
    if (!g_file_test("/usr/sbin/libvirtd", G_FILE_TEST_IS_EXECUTABLE)) {
        hosts.skip = g_strdup("no /usr/sbin/libvirtd: run scripts/setup");
        return;
    }
    if (!take_lock()) {
        hosts.skip = g_strdup("another test-libvirt held " LOCK_PATH " for 15 minutes");
        return;
    }
    envf = g_build_filename(hosts.dir, "env", NULL);
    g_snprintf(down_command, sizeof(down_command), "'%s/scripts/libvirt-hosts' down '%s' "
               ">/dev/null 2>&1", g_getenv("MIGTEST_SOURCE_ROOT"), hosts.dir);
    signal(SIGABRT, down_on_abort);     /* g_assert */
    signal(SIGTRAP, down_on_abort);     /* g_error */
    if (!script("up") || !g_file_get_contents(envf, &env, NULL, NULL)) {
        hosts.skip = g_strdup_printf("scripts/libvirt-hosts up failed (network namespaces "
                                     "or libvirtd): see %s", hosts.dir);
        return;
    }
    hosts.src_uri = env_value(env, "MIGTEST_SRC_URI");
    hosts.dst_uri = env_value(env, "MIGTEST_DST_URI");
    a = env_value(env, "MIGTEST_SRC_AGENT_PREFIX");
    b = env_value(env, "MIGTEST_DST_AGENT_PREFIX");
    hosts.src_agent = g_strdup_printf("%s %s agent", a, hosts.migtest);
    hosts.dst_agent = g_strdup_printf("%s %s agent", b, hosts.migtest);
}

static gboolean skip_without_hosts(void)
{
    if (hosts.skip)
        g_test_skip(hosts.skip);
    return hosts.skip != NULL;
}

/* ---- what may be left ---- */

static guint migtest_domains(const char *uri)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(virConnect) c = libvirt_conn_open(uri, "test", &error);
    virDomainPtr *doms = NULL;
    int n;
    guint found = 0;

    g_assert_no_error(error);
    n = virConnectListAllDomains(c, &doms, 0);
    g_assert_cmpint(n, >=, 0);
    for (int i = 0; i < n; i++) {
        found += g_str_has_prefix(virDomainGetName(doms[i]), LIBVIRT_DOMAIN_PREFIX);
        virDomainFree(doms[i]);
    }
    free(doms);
    return found;
}

/* QEMUs of migtest domains anywhere on this machine (both "hosts"). */
static guint migtest_qemus(void)
{
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    const char *ent;
    guint n = 0;

    while ((ent = g_dir_read_name(proc))) {
        g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", ent);
        g_autofree char *cmd = NULL;
        gsize len = 0;

        if (!g_ascii_isdigit(ent[0]) || !g_file_get_contents(path, &cmd, &len, NULL))
            continue;
        for (gsize i = 0; i + 1 < len; i++)
            if (!cmd[i])
                cmd[i] = ' ';
        n += strstr(cmd, "guest=" LIBVIRT_DOMAIN_PREFIX) != NULL;
    }
    return n;
}

static void expect_nothing_left(void)
{
    for (const char *h = "A"; *h; h = *h == 'A' ? "B" : "") {
        g_autofree char *files = g_build_filename(hosts.dir, h, "lib", "migtest", NULL);
        g_assert_cmpuint(leftovers_entries(files), ==, 0);
    }
    g_assert_cmpuint(migtest_domains(hosts.src_uri), ==, 0);
    g_assert_cmpuint(migtest_domains(hosts.dst_uri), ==, 0);
    g_assert_cmpuint(migtest_qemus(), ==, 0);
    g_assert_cmpuint(leftovers_children(getpid(), NULL, NULL), ==, 0);
}

/* ---- in-process cases ---- */

static CaseResult *run_one(const char *arch, const char *name, guint64 poke_offset)
{
    const ArchDesc *archs[] = { arch_lookup(arch), NULL };
    g_autoptr(GPtrArray) cases = cases_select(archs, name);
    RunOptions opts = {
        .backend = BACKEND_LIBVIRT,
        .accel = "tcg",
        .mem_bytes = MT_DEFAULT_MEM_MIB << 20,
        .results_dir = hosts.results,
        .timeout_ms = CASE_TIMEOUT_MS,
        .poke_src_gpa = poke_offset ? archs[0]->ram_base + poke_offset : 0,
        .src_uri = hosts.src_uri,
        .dst_uri = hosts.dst_uri,
        .src_agent = hosts.src_agent,
        .dst_agent = hosts.dst_agent,
    };

    g_assert_cmpuint(cases->len, ==, 1);
    return runner_run_case(cases->pdata[0], &opts);
}

static void expect_pass(const char *arch)
{
    g_autofree char *name = g_strdup_printf("/%s/precopy/tcp", arch);
    g_autoptr(CaseResult) r = NULL;

    if (skip_without_hosts())
        return;
    r = run_one(arch, name, 0);
    if (r->outcome != OUTCOME_PASS)
        g_printerr("%s: %s: %s\n", r->name, outcome_name(r->outcome), r->reason);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "pass");
    g_assert_true(r->exact_ran && r->invariant_ran && r->selfcheck_ran);
    g_assert_cmpuint(r->exact.pages_compared, ==, (MT_DEFAULT_MEM_MIB << 20) / MT_PAGE_SIZE);
    g_assert_cmpuint(r->exact.pages_differing, ==, 0);
    g_assert_true(r->invariant.ok);
    g_assert_cmpstr(r->mig.final_status, ==, "completed");
    g_assert_cmpint(r->mig.total_ms, >, 0);
    g_assert_cmpuint(r->mig.transferred_bytes, >, 90u << 20);
    g_assert_true(migrate_stats_saw(&r->mig, "completed"));
    /* libvirt's own figures, for metrics.libvirt */
    g_assert_nonnull(r->mig.libvirt);
    g_assert_true(json_object_has_member(r->mig.libvirt, "downtime"));
    g_assert_cmpint(r->observed_downtime_ms, >=, 0);
    expect_nothing_left();
}

static void test_pass_x86(void)
{
    expect_pass("x86_64");
}

static void test_pass_aarch64(void)
{
    expect_pass("aarch64");
}

static void test_poke_caught(void)
{
    g_autoptr(CaseResult) r = NULL;
    guint64 gpa = arch_lookup("x86_64")->ram_base + POKE_OFFSET;
    g_autofree char *addr = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", gpa);

    if (skip_without_hosts())
        return;
    r = run_one("x86_64", "/x86_64/precopy/tcp", POKE_OFFSET);
    g_assert_cmpstr(outcome_name(r->outcome), ==, "fail");
    g_assert_true(r->exact_ran);
    g_assert_cmpuint(r->exact.pages_differing, ==, 1);
    g_assert_cmphex(r->exact.diffs[0].gpa, ==, gpa);
    g_assert_cmphex(r->exact.diffs[0].src[0], ==, r->exact.diffs[0].dst[0] ^ 0xff);
    g_assert_cmpuint(g_array_index(r->exact.pages, ExactDiff, 0).bytes_differing, ==, 1);
    g_assert_nonnull(strstr(r->reason, addr));
    expect_nothing_left();
}

/* ---- the CLI ---- */

static GPtrArray *cli_args(const char *first, ...)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    va_list ap;

    g_ptr_array_add(a, g_strdup(hosts.migtest));
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        g_ptr_array_add(a, g_strdup(s));
    va_end(ap);
    g_ptr_array_add(a, NULL);
    return a;
}

/* Run migtest; its exit status and stderr. */
static int run_cli(GPtrArray *argv, char **err)
{
    g_autofree char *out = NULL;     /* kept off the TAP stream */
    int status = -1;

    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, 0, NULL, NULL, &out, err,
                               &status, NULL));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void expect_usage(GPtrArray *argv, const char *needle)
{
    g_autofree char *err = NULL;
    int rc = run_cli(argv, &err);

    if (rc != 2 || !strstr(err, needle))
        g_error("exit %d, expected 2 with '%s'; stderr: %s", rc, needle, err);
    /* one line */
    g_assert_cmpint(strchr(err, '\n') - err, ==, (long)strlen(err) - 1);
    g_ptr_array_unref(argv);
}

#define LV_ARGS "run", "--backend", "libvirt", "--accel", "tcg", "--arch", "x86_64", \
                "--case", "/x86_64/precopy/tcp"

static void test_bad_inputs(void)
{
    g_autofree char *bad_version = NULL;

    if (skip_without_hosts())
        return;
    expect_usage(cli_args(LV_ARGS, "--src-uri", "qemu+unix:///system?socket=/nonexistent/sock",
                          "--dst-uri", hosts.dst_uri, NULL), "cannot connect to the src host");
    expect_usage(cli_args(LV_ARGS, "--src-uri", hosts.src_uri, "--dst-uri", hosts.src_uri,
                          NULL), "the same host");
    expect_usage(cli_args(LV_ARGS, "--src-uri", hosts.src_uri, "--dst-uri", hosts.dst_uri,
                          "--src-agent", "/nonexistent/migtest agent", "--dst-agent",
                          hosts.dst_agent, NULL), "fix --src-agent");
    bad_version = g_strdup("sh -c 'echo \"{\\\"agent\\\":\\\"migtest-agent\\\",\\\"version\\\""
                           ":\\\"9.9\\\",\\\"protocol\\\":1}\"; exec cat >/dev/null'");
    expect_usage(cli_args(LV_ARGS, "--src-uri", hosts.src_uri, "--dst-uri", hosts.dst_uri,
                          "--src-agent", hosts.src_agent, "--dst-agent", bad_version, NULL),
                 "install the same migtest");
    expect_usage(cli_args(LV_ARGS, "--src-uri", hosts.src_uri, "--dst-uri", hosts.dst_uri,
                          "--src-agent", hosts.src_agent, "--dst-agent", hosts.dst_agent,
                          "--machine", "no-such-machine", NULL), "cannot run x86_64 machine");
    expect_usage(cli_args(LV_ARGS, "--src-uri", hosts.src_uri, "--dst-uri", hosts.dst_uri,
                          "--libvirt-mode", "carrier-pigeon", NULL), "unknown --libvirt-mode");
    expect_nothing_left();
}

/* A domain a killed run left: refused with the fix, which then works. */
static void test_leftover_domain(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(virConnect) c = NULL;
    g_autofree char *out = NULL;
    const char *xml = "<domain type='qemu'><name>migtest-killed-run</name><memory unit='MiB'>"
                      "16</memory><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>";
    virDomainPtr d;

    if (skip_without_hosts())
        return;
    c = libvirt_conn_open(hosts.dst_uri, "dst", &error);
    g_assert_no_error(error);
    d = virDomainDefineXML(c, xml);     /* defined, never started: cheap */
    g_assert_nonnull(d);
    virDomainFree(d);
    expect_usage(cli_args(LV_ARGS, "--src-uri", hosts.src_uri, "--dst-uri", hosts.dst_uri,
                          "--src-agent", hosts.src_agent, "--dst-agent", hosts.dst_agent, NULL),
                 "'migtest-killed-run' is already defined on the dst host");
    g_assert_cmpint(run_cli(cli_args("cleanup", "--src-uri", hosts.src_uri, "--dst-uri",
                                     hosts.dst_uri, NULL), &out), ==, 0);
    expect_nothing_left();
}

/* SIGTERM while the case runs: exit 128+15, and nothing left anywhere. */
static void test_sigterm(void)
{
    g_autoptr(GPtrArray) argv = NULL;
    GPid pid;
    int status = 0;
    Deadline d;

    if (skip_without_hosts())
        return;
    argv = cli_args(LV_ARGS, "--src-uri", hosts.src_uri, "--dst-uri", hosts.dst_uri,
                    "--src-agent", hosts.src_agent, "--dst-agent", hosts.dst_agent,
                    "--results", hosts.results, NULL);
    g_assert_true(g_spawn_async(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD |
                                G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, NULL));
    /* the source domain is up: the run is in the middle of the case */
    d = deadline_in_ms(CASE_TIMEOUT_MS);
    while (migtest_domains(hosts.src_uri) == 0 && !deadline_expired(d))
        g_usleep(100 * 1000);
    g_assert_false(deadline_expired(d));
    g_usleep(1000 * 1000);
    kill(pid, SIGTERM);
    d = deadline_in_ms(CASE_TIMEOUT_MS);
    while (waitpid(pid, &status, WNOHANG) == 0 && !deadline_expired(d))
        g_usleep(100 * 1000);
    g_assert_false(deadline_expired(d));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 128 + SIGTERM);
    expect_nothing_left();
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    hosts_up();
    g_test_add_func("/libvirt/pass/x86_64", test_pass_x86);
    g_test_add_func("/libvirt/pass/aarch64", test_pass_aarch64);
    g_test_add_func("/libvirt/poke-caught", test_poke_caught);
    g_test_add_func("/libvirt/bad-inputs", test_bad_inputs);
    g_test_add_func("/libvirt/leftover-domain", test_leftover_domain);
    g_test_add_func("/libvirt/sigterm", test_sigterm);
    rc = g_test_run();
    if (!hosts.skip)
        script("down");
    return rc;
}
