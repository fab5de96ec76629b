/*
 * main.c: the migtest command line.  Parses options, picks the cases,
 * hands each to the runner and writes the reports; nothing else.
 * Exit status: 0 all passed or skipped, 1 a case failed or errored,
 * 2 usage or environment error, 128+N interrupted by signal N.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "agent.h"
#include "case-info.h"
#include "libvirt-conn.h"
#include "libvirt-migrate.h"
#include "cases.h"
#include <glib/gstdio.h>
#include "migtest-abi.h"
#include "probe.h"
#include "repeat.h"
#include "report.h"
#include "report-repeat.h"
#include "report-html.h"
#include "runner.h"
#include "version.h"

#define EXIT_USAGE 2

/* A case ends within this even if QEMU hangs: boot (≤60 s), migration
 * and verification of the default guest take seconds under TCG. */
#define DEFAULT_TIMEOUT_S 180
/* --until-fail without --repeat: a soak that ends by itself overnight. */
#define UNTIL_FAIL_RUNS 1000
/* git bisect run: this revision cannot be tested. */
#define EXIT_BISECT_SKIP 125

typedef struct {
    char *arch;
    char *accel;
    char *case_glob;
    char *mem;
    char *src_qemu;
    char *dst_qemu;
    char *machine;
    char *ram;
    char *json;
    char *junit;
    char *html;
    char *results;
    gboolean keep;
    gint verbose;               /* -v count: progress.h */
    gint timeout_s;
    gint jobs;
    char *mmu_policy;
    char *backend;
    char *src_uri;              /* libvirt backend */
    char *dst_uri;
    char *src_agent;
    char *dst_agent;
    char *libvirt_mode;
    gboolean version;
    gboolean long_list;
    gint repeat;                /* runs of each case */
    gint ping_pong;             /* migrations of one guest, back and forth */
    gboolean until_fail;
    gboolean bisect;
} CliOptions;

static void cli_options_clear(CliOptions *o)
{
    g_free(o->arch); g_free(o->accel); g_free(o->case_glob); g_free(o->mem);
    g_free(o->src_qemu); g_free(o->dst_qemu); g_free(o->machine); g_free(o->ram);
    g_free(o->json); g_free(o->junit); g_free(o->html); g_free(o->results); g_free(o->mmu_policy);
    g_free(o->backend);
    g_free(o->src_uri); g_free(o->dst_uri); g_free(o->src_agent); g_free(o->dst_agent);
    g_free(o->libvirt_mode);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CliOptions, cli_options_clear)

G_GNUC_PRINTF(1, 2)
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "migtest: error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static gboolean parse_size(const char *s, guint64 *out)
{
    char *end;
    guint64 v = g_ascii_strtoull(s, &end, 10);

    if (end == s)
        return FALSE;
    switch (g_ascii_toupper(*end)) {
    case 'G': v <<= 30; end++; break;
    case 'M': case '\0': v <<= 20; end += *end != '\0'; break;
    default: return FALSE;
    }
    if (g_ascii_toupper(*end) == 'I' && g_ascii_toupper(end[1]) == 'B')
        end += 2;
    *out = v;
    return *end == '\0';
}

static guint64 host_mem_available(void)
{
    g_autofree char *text = NULL;
    const char *p;

    if (!g_file_get_contents("/proc/meminfo", &text, NULL, NULL) ||
        !(p = strstr(text, "MemAvailable:")))
        return G_MAXUINT64;
    return g_ascii_strtoull(p + strlen("MemAvailable:"), NULL, 10) << 10;
}

/* --arch: a comma list of names from the arch table, default all. */
static int select_archs(const char *list, const ArchDesc **out)
{
    g_auto(GStrv) names = g_strsplit(list ? list : "", ",", -1);
    guint n = 0;

    if (!list) {
        for (guint i = 0; arch_table[i]; i++)
            out[n++] = arch_table[i];
        out[n] = NULL;
        return 0;
    }
    for (guint i = 0; names[i]; i++) {
        const ArchDesc *a = arch_lookup(names[i]);
        if (!a)
            return usage_error("unknown --arch '%s'; use x86_64 or aarch64", names[i]);
        out[n++] = a;
    }
    out[n] = NULL;
    return 0;
}

static int check_qemu_path(const char *opt, const char *path)
{
    g_autofree char *found = path ? g_find_program_in_path(path) : NULL;

    if (path && !found)
        return usage_error("%s '%s' is not an executable; give the path of a "
                           "qemu-system binary", opt, path);
    return 0;
}

/* An explicit binary must be of the architecture and offer the machine:
 * asked of the binary itself, through -machine help. */
static int check_qemu_machine(const char *opt, const char *path, const ArchDesc *arch,
                              const char *machine)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) machines = NULL;
    const char *want = machine ? machine : arch->default_machine;
    g_autofree char *full = path ? g_find_program_in_path(path) : NULL;

    if (!full)
        return 0;
    machines = probe_machines(full, &error);
    if (!machines)
        return usage_error("%s '%s' does not run: %s; give a working qemu-system binary",
                           opt, path, error->message);
    for (guint i = 0; i < machines->len; i++)
        if (g_str_equal(machines->pdata[i], want))
            return 0;
    if (machine)
        return usage_error("machine type '%s' is not offered by %s '%s'; pick one from "
                           "'%s -machine help'", machine, opt, path, path);
    return usage_error("%s '%s' has no '%s' machine: it is not a %s binary; pass %s or "
                       "restrict --arch", opt, path, want, arch->name, arch->qemu_binary);
}

/* --machine with the default binaries: each installed one must offer it. */
static int check_machines(const CliOptions *o, const ArchDesc *const *archs)
{
    int rc;

    for (guint a = 0; archs[a]; a++) {
        g_autofree char *def = g_find_program_in_path(archs[a]->qemu_binary);
        const char *src = o->src_qemu ? o->src_qemu : (o->machine ? def : NULL);
        const char *dst = o->dst_qemu ? o->dst_qemu : (o->machine ? def : NULL);

        if ((rc = check_qemu_machine("--src-qemu", src, archs[a], o->machine)) ||
            (rc = check_qemu_machine("--dst-qemu", dst, archs[a], o->machine)))
            return rc;
    }
    return 0;
}

static int check_results_dir(const char *dir)
{
    g_autofree char *probe = g_build_filename(dir, ".migtest-write-test", NULL);

    if (g_mkdir_with_parents(dir, 0700) < 0 || !g_file_set_contents(probe, "", 0, NULL))
        return usage_error("cannot write --results '%s': %s; choose a writable directory",
                           dir, g_strerror(errno));
    g_unlink(probe);
    return 0;
}

/* Fail now, not after an hour of cases, if a report cannot be written. */
static int check_writable(const char *opt, const char *path)
{
    FILE *f;

    if (!path || g_str_equal(path, "-"))
        return 0;
    f = fopen(path, "a");
    if (!f)
        return usage_error("cannot write %s '%s': %s; choose a writable path",
                           opt, path, g_strerror(errno));
    fclose(f);
    return 0;
}

static int check_html(const char *path)
{
    if (path && !report_html_available())
        return usage_error("--html: this migtest was built without Chart.js; run "
                           "scripts/setup (libjs-chart.js), then meson setup --wipe build");
    return check_writable("--html", path);
}

/* The libvirt backend's options, then its hosts and agents, before any case. */
static int validate_libvirt(CliOptions *o, const ArchDesc *const *archs, RunOptions *run)
{
    g_autoptr(GError) error = NULL;
    LibvirtMode mode;

    run->src_uri = o->src_uri;
    run->dst_uri = o->dst_uri;
    run->src_agent = o->src_agent;
    run->dst_agent = o->dst_agent;
    run->libvirt_mode = o->libvirt_mode;
    if (run->backend != BACKEND_LIBVIRT) {
        if (o->src_uri || o->dst_uri || o->src_agent || o->dst_agent || o->libvirt_mode)
            return usage_error("--src-uri, --dst-uri, --src-agent, --dst-agent and "
                               "--libvirt-mode need --backend libvirt");
        return 0;
    }
    if (o->libvirt_mode && !libvirt_mode_parse(o->libvirt_mode, &mode))
        return usage_error("unknown --libvirt-mode '%s'; use p2p, managed or tunnelled",
                           o->libvirt_mode);
    if (o->ram && g_str_equal(o->ram, "private"))
        return usage_error("--ram private: the libvirt backend maps shared memfd RAM; "
                           "drop --ram");
    if (!libvirt_preflight(run, archs, &error))
        return usage_error("%s", error->message);
    return 0;
}

/* migtest cleanup: what a killed libvirt run left on both hosts. */
static int cmd_cleanup(const CliOptions *o)
{
    g_autoptr(GError) error = NULL;
    guint n = 0;

    if (!o->src_uri || !o->dst_uri)
        return usage_error("cleanup needs --src-uri and --dst-uri");
    if (!libvirt_cleanup(o->src_uri, o->dst_uri, &n, &error))
        return usage_error("%s", error->message);
    printf("migtest cleanup: destroyed %u migtest-* domain(s) on the two hosts\n", n);
    return 0;
}

static int validate(CliOptions *o, const ArchDesc *const *archs, RunOptions *run)
{
    int rc;

    if (o->backend && !backend_parse(o->backend, &run->backend))
        return usage_error("unknown --backend '%s'; use qemu or libvirt", o->backend);
    if (!o->backend)
        run->backend = BACKEND_QEMU;
    if (o->accel && !g_str_equal(o->accel, "kvm") && !g_str_equal(o->accel, "tcg"))
        return usage_error("unknown --accel '%s'; use kvm or tcg", o->accel);
    if (o->mmu_policy && !mmu_policy_parse(o->mmu_policy, &run->mmu_policy))
        return usage_error("unknown --mmu-policy '%s'; use refuse, warn, stop-copy or ignore",
                           o->mmu_policy);
    if (o->ram && !g_str_equal(o->ram, "shared") && !g_str_equal(o->ram, "private"))
        return usage_error("unknown --ram '%s'; use shared or private", o->ram);
    if (!parse_size(o->mem ? o->mem : "150M", &run->mem_bytes))
        return usage_error("cannot parse --mem '%s'; use a size like 150M or 2G", o->mem);
    /* The default window ends at 100 MiB; the guest needs RAM beyond it. */
    if (run->mem_bytes < MT_DEFAULT_WINDOW_END + (16 << 20))
        return usage_error("--mem %s is too small for the test window (ends at "
                           "%d MiB); use at least %d M", o->mem,
                           MT_DEFAULT_WINDOW_END >> 20, (MT_DEFAULT_WINDOW_END >> 20) + 16);
    /* Two guests run at once, source and destination. */
    if (run->mem_bytes * 2 > host_mem_available())
        return usage_error("--mem %s: two guests of that size do not fit in this "
                           "host's available memory; use a smaller --mem", o->mem);
    if (o->timeout_s <= 0)
        return usage_error("--timeout must be a positive number of seconds");
    if (o->jobs < 1 || o->jobs > 64)
        return usage_error("-j %d is out of range; use 1 to 64 parallel cases", o->jobs);
    if (o->repeat < 1 || o->repeat > 1000000)
        return usage_error("--repeat %d is out of range; use 1 to 1000000 runs", o->repeat);
    if (o->until_fail && o->repeat == 1)
        o->repeat = UNTIL_FAIL_RUNS;
    /* libvirt: the QEMUs are the hosts', checked by validate_libvirt() */
    if ((run->backend != BACKEND_LIBVIRT &&
         ((rc = check_qemu_path("--src-qemu", o->src_qemu)) ||
          (rc = check_qemu_path("--dst-qemu", o->dst_qemu)))) ||
        (rc = check_writable("--json", o->json)) ||
        (rc = check_writable("--junit", o->junit)) ||
        (rc = check_html(o->html)) ||
        (rc = check_results_dir(o->results)) ||
        (run->backend != BACKEND_LIBVIRT && (rc = check_machines(o, archs))))
        return rc;
    run->src_qemu = o->src_qemu;
    run->dst_qemu = o->dst_qemu;
    run->accel = o->accel;
    run->machine = o->machine;
    run->ram_mode = o->ram && g_str_equal(o->ram, "private") ? VM_RAM_PRIVATE : VM_RAM_SHARED;
    run->results_dir = o->results;
    run->keep = o->keep;
    if (o->ping_pong < 0 || o->ping_pong > 100000)
        return usage_error("--ping-pong %d is out of range; use 1 to 100000 migrations",
                           o->ping_pong);
    run->ping_pong = o->ping_pong;
    run->timeout_ms = (gint64)o->timeout_s * 1000;
    run->verbosity = o->verbose;
    return validate_libvirt(o, archs, run);
}

/* The stop signals, plus SIGUSR1 by which the run ends the watcher. */
static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
}

static void *signal_thread(void *group)
{
    sigset_t set;
    int sig;

    stop_signals(&set);
    while (sigwait(&set, &sig) == 0 && sig != SIGUSR1)
        vm_group_interrupt(group, sig);
    return NULL;
}

/* Block the stop signals in every thread, and turn them into
 * vm_group_interrupt() on a thread of their own, until unwatch_signals():
 * the group must outlive the watcher. */
static pthread_t watch_signals(VmGroup *group)
{
    sigset_t set;
    pthread_t tid;

    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_create(&tid, NULL, signal_thread, group);
    return tid;
}

static void unwatch_signals(pthread_t tid)
{
    pthread_kill(tid, SIGUSR1);
    pthread_join(tid, NULL);
}

/* --json - goes to stdout once, at the end: stdout then holds one JSON
 * document and nothing else.  The HTML page is written only then too. */
static void write_reports(const CliOptions *o, GPtrArray *results, GPtrArray *pending,
                          gboolean final)
{
    g_autoptr(GPtrArray) repeat = o->repeat > 1 ? repeat_summarize(results) : NULL;
    struct utsname u;
    ReportHost host = { "unknown", "unknown", NULL };
    g_autoptr(GError) error = NULL;
    g_autofree char *midr = NULL;
    g_autoptr(JsonNode) root = NULL;

    if (uname(&u) == 0) {
        host.host_arch = u.machine;
        host.kernel = u.release;
    }
    if (g_file_get_contents("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1",
                            &midr, NULL, NULL))
        host.midr = g_strstrip(midr);
    root = report_json_new(results, pending, &host, repeat);
    if (o->json && (final || !g_str_equal(o->json, "-")) &&
        !report_write_json(o->json, root, &error))
        g_printerr("migtest: cannot write '%s': %s\n", o->json, error->message);
    g_clear_error(&error);
    if (o->junit && !report_write_junit(o->junit, results, pending, repeat, &error))
        g_printerr("migtest: cannot write '%s': %s\n", o->junit, error->message);
    g_clear_error(&error);
    if (o->html && final &&
        !report_html_write(o->html, &(ReportRun){ "run", root }, 1, &error))
        g_printerr("migtest: %s\n", error->message);
}

/* One run of many cases, possibly on several worker threads. */
typedef struct {
    const CliOptions *o;
    RunOptions *run;
    GPtrArray *cases;           /* CaseInstance */
    GPtrArray *slots;           /* CaseResult * or NULL, by run index */
    GPtrArray *run_results;     /* --repeat: results dir of each run (char *) */
    gboolean stopped;           /* --until-fail: a run failed, start no more */
    GMutex lock;
    guint done;
    GHashTable *running;        /* case names in flight */
    gint64 t0;
    gboolean tty;
    FILE *table;                /* stderr when the JSON report is on stdout */
} Batch;

static void write_reports_locked(Batch *b, gboolean final)
{
    g_autoptr(GPtrArray) results = g_ptr_array_new();
    g_autoptr(GPtrArray) pending = g_ptr_array_new();

    for (guint i = 0; i < b->slots->len; i++) {
        if (b->slots->pdata[i])
            g_ptr_array_add(results, b->slots->pdata[i]);
        else if (final && !b->stopped)
            g_ptr_array_add(pending, ((CaseInstance *)b->cases->pdata[i % b->cases->len])->name);
    }
    write_reports(b->o, results, pending, final);
}

/* On a terminal: cases done/total, those running, time so far. */
static void progress_locked(Batch *b)
{
    GHashTableIter it;
    gpointer name;
    g_autoptr(GString) line = NULL;

    if (!b->tty)
        return;
    line = g_string_new(NULL);
    g_string_printf(line, "[%u/%u %lds]", b->done, b->slots->len,
                    (long)((g_get_monotonic_time() - b->t0) / G_USEC_PER_SEC));
    g_hash_table_iter_init(&it, b->running);
    while (g_hash_table_iter_next(&it, &name, NULL))
        g_string_append_printf(line, " %s", (char *)name);
    fprintf(stderr, "\r\033[K%.*s", 160, line->str);
    fflush(stderr);
}

static void batch_run_one(gpointer index_p, gpointer batch)
{
    Batch *b = batch;
    guint i = GPOINTER_TO_UINT(index_p) - 1;
    const CaseInstance *c = b->cases->pdata[i % b->cases->len];
    RunOptions run = *b->run;
    CaseResult *r;

    if (vm_group_interrupted(b->run->group) || g_atomic_int_get(&b->stopped))
        return;
    /* Each run of a repeated case keeps its logs apart: run-K/<case>. */
    if (b->run_results)
        run.results_dir = b->run_results->pdata[i / b->cases->len];
    g_mutex_lock(&b->lock);
    g_hash_table_add(b->running, c->name);
    progress_locked(b);
    g_mutex_unlock(&b->lock);
    r = runner_run_case(c, &run);
    g_mutex_lock(&b->lock);
    if (b->o->until_fail && (r->outcome == OUTCOME_FAIL || r->outcome == OUTCOME_ERROR))
        g_atomic_int_set(&b->stopped, TRUE);
    g_hash_table_remove(b->running, c->name);
    b->slots->pdata[i] = r;
    b->done++;
    if (b->tty)
        fprintf(stderr, "\r\033[K");
    report_table_row(b->table, r, b->o->verbose > 0);
    fflush(b->table);
    write_reports_locked(b, FALSE);
    progress_locked(b);
    g_mutex_unlock(&b->lock);
}

static int batch_exit_code(Batch *b)
{
    int rc = 0;

    for (guint i = 0; i < b->slots->len; i++) {
        CaseResult *r = b->slots->pdata[i];
        if (r && (r->outcome == OUTCOME_FAIL || r->outcome == OUTCOME_ERROR))
            rc = 1;
    }
    if (vm_group_interrupted(b->run->group))
        return 128 + vm_group_interrupted(b->run->group);
    if (b->o->bisect) {
        g_autoptr(GPtrArray) done = g_ptr_array_new();
        for (guint i = 0; i < b->slots->len; i++)
            if (b->slots->pdata[i])
                g_ptr_array_add(done, b->slots->pdata[i]);
        return repeat_bisect_status(done);
    }
    return rc;
}

static int run_cases(const CliOptions *o, RunOptions *run, GPtrArray *cases)
{
    g_autoptr(VmGroup) group = vm_group_new();
    Batch b = { .o = o, .run = run, .cases = cases, .t0 = g_get_monotonic_time(),
                .tty = isatty(STDERR_FILENO) && !o->verbose,   /* -v lines own stderr */
                .table = o->json && g_str_equal(o->json, "-") ? stderr : stdout };
    g_autoptr(GPtrArray) done = g_ptr_array_new();
    GThreadPool *pool;
    pthread_t watcher = watch_signals(group);
    int rc;

    run->group = group;
    g_mutex_init(&b.lock);
    b.slots = g_ptr_array_new_with_free_func((GDestroyNotify)case_result_free);
    g_ptr_array_set_size(b.slots, cases->len * o->repeat);
    if (o->repeat > 1) {
        b.run_results = g_ptr_array_new_with_free_func(g_free);
        for (gint k = 0; k < o->repeat; k++)
            g_ptr_array_add(b.run_results, g_strdup_printf("%s/run-%d", o->results, k + 1));
    }
    b.running = g_hash_table_new(g_str_hash, g_str_equal);
    report_table_header(b.table);
    pool = g_thread_pool_new(batch_run_one, &b, o->jobs, TRUE, NULL);
    /* Run by run: every case once, then again, so a soak interleaves them. */
    for (guint i = 0; i < b.slots->len; i++)
        g_thread_pool_push(pool, GUINT_TO_POINTER(i + 1), NULL);
    g_thread_pool_free(pool, FALSE, TRUE);      /* waits for every case */
    write_reports_locked(&b, TRUE);
    for (guint i = 0; i < b.slots->len; i++)
        if (b.slots->pdata[i])
            g_ptr_array_add(done, b.slots->pdata[i]);
    if (o->repeat > 1) {
        g_autoptr(GPtrArray) summaries = repeat_summarize(done);
        report_repeat_table(b.table, summaries);
    }
    report_summary(b.table, done);
    rc = batch_exit_code(&b);
    unwatch_signals(watcher);
    g_hash_table_unref(b.running);
    g_ptr_array_unref(b.slots);
    if (b.run_results)
        g_ptr_array_unref(b.run_results);
    g_mutex_clear(&b.lock);
    return rc;
}

/* migtest report A.json [B.json ...] --html OUT */
static int cmd_report(const CliOptions *o, int nfiles, char **files)
{
    g_autoptr(GError) error = NULL;

    if (nfiles < 1)
        return usage_error("report needs JSON reports: migtest report A.json [B.json ...] --html OUT");
    if (!o->html)
        return usage_error("report writes HTML only; add --html FILE");
    if (check_html(o->html))
        return EXIT_USAGE;
    if (!report_html_from_files(o->html, (const char *const *)files, (guint)nfiles, &error))
        return usage_error("%s", error->message);
    return 0;
}

/* list: names; --long: each case in words; --json FILE ("-": stdout). */
static int cmd_list(const CliOptions *o, GPtrArray *cases)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *json = o->json ? case_info_json_dup(cases) : NULL;

    if (json && g_str_equal(o->json, "-"))
        printf("%s\n", json);
    else if (json && !g_file_set_contents(o->json, json, -1, &error))
        return usage_error("cannot write --json '%s': %s; choose a writable path",
                           o->json, error->message);
    if (json && g_str_equal(o->json, "-"))
        return 0;
    if (o->long_list)
        case_info_print_long(stdout, cases);
    else if (!json)
        for (guint i = 0; i < cases->len; i++)
            printf("%s\n", ((CaseInstance *)cases->pdata[i])->name);
    return 0;
}

/* -v, repeatable: -v the phases, -vv also the QMP traffic (progress.h). */
static gboolean count_verbose(const char *name, const char *value, gpointer options,
                              GError **error)
{
    (void)name; (void)value; (void)error;
    ((CliOptions *)options)->verbose++;
    return TRUE;
}

/* The tail of --help: what the README and migtest(1) say at more length. */
static const char help_description[] =
    "Commands:\n"
    "  run   run the cases (the default command; default cases: the smoke cases)\n"
    "  list  print the catalogue; --long says what each case exercises, asserts\n"
    "        and needs; --json FILE writes that as JSON (FILE '-': stdout)\n"
    "  report A.json [B.json ...] --html OUT\n"
    "        the HTML page of saved JSON reports; several are overlaid\n"
    "\n"
    "Examples:\n"
    "  migtest list --long --case '/x86_64/cancel/*'\n"
    "  migtest run\n"
    "  migtest run --case '/x86_64/*' -j 2 --json r.json --junit r.xml\n"
    "  migtest run --arch aarch64 --accel tcg --case '*coherency*' -v\n"
    "  migtest run --json kvm.json --html kvm.html\n"
    "  migtest report kvm.json tcg.json --html compare.html\n"
    "\n"
    "Exit status: 0 every case passed or was skipped; 1 a case failed or errored;\n"
    "2 usage or environment error; 128+N interrupted by signal N.\n"
    "See migtest(1) for outcomes, environment variables and the files written.";

int main(int argc, char **argv)
{
    g_auto(CliOptions) o = { .timeout_s = DEFAULT_TIMEOUT_S, .jobs = 1, .repeat = 1 };
    GOptionEntry entries[] = {
        { "backend", 0, 0, G_OPTION_ARG_STRING, &o.backend, "What drives the VM pair (default qemu)", "qemu|libvirt" },
        { "src-uri", 0, 0, G_OPTION_ARG_STRING, &o.src_uri, "libvirt: the source host's URI", "URI" },
        { "dst-uri", 0, 0, G_OPTION_ARG_STRING, &o.dst_uri, "libvirt: the destination host's URI", "URI" },
        { "src-agent", 0, 0, G_OPTION_ARG_STRING, &o.src_agent, "libvirt: command starting migtest agent on the source host (default: this migtest)", "CMD" },
        { "dst-agent", 0, 0, G_OPTION_ARG_STRING, &o.dst_agent, "libvirt: command starting migtest agent on the destination host", "CMD" },
        { "libvirt-mode", 0, 0, G_OPTION_ARG_STRING, &o.libvirt_mode, "libvirt: how to migrate (default p2p)", "p2p|managed|tunnelled" },
        { "arch", 0, 0, G_OPTION_ARG_STRING, &o.arch, "Architectures (comma list; default: all)", "x86_64,aarch64" },
        { "accel", 0, 0, G_OPTION_ARG_STRING, &o.accel, "Accelerator (default: kvm if usable, else tcg)", "kvm|tcg" },
        { "case", 0, 0, G_OPTION_ARG_STRING, &o.case_glob, "Cases to run (shell glob; default: the smoke cases)", "GLOB" },
        { "mem", 0, 0, G_OPTION_ARG_STRING, &o.mem, "Guest RAM (default 150M)", "SIZE" },
        { "src-qemu", 0, 0, G_OPTION_ARG_FILENAME, &o.src_qemu, "Source QEMU binary", "PATH" },
        { "dst-qemu", 0, 0, G_OPTION_ARG_FILENAME, &o.dst_qemu, "Destination QEMU binary", "PATH" },
        { "machine", 0, 0, G_OPTION_ARG_STRING, &o.machine, "Machine type (default: pc, virt)", "TYPE" },
        { "ram", 0, 0, G_OPTION_ARG_STRING, &o.ram, "Guest RAM backend (default shared)", "shared|private" },
        { "json", 0, 0, G_OPTION_ARG_FILENAME, &o.json, "Write a JSON report", "FILE" },
        { "junit", 0, 0, G_OPTION_ARG_FILENAME, &o.junit, "Write a JUnit XML report", "FILE" },
        { "html", 0, 0, G_OPTION_ARG_FILENAME, &o.html, "Write a self-contained HTML report", "FILE" },
        { "results", 0, 0, G_OPTION_ARG_FILENAME, &o.results, "Per-case log directory (default migtest-results)", "DIR" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &o.timeout_s, "Per-case deadline in seconds (default 180)", "S" },
        { "mmu-policy", 0, 0, G_OPTION_ARG_STRING, &o.mmu_policy, "Arm guests with MMU/cache off (default refuse)", "refuse|warn|stop-copy|ignore" },
        { "jobs", 'j', 0, G_OPTION_ARG_INT, &o.jobs, "Cases to run in parallel (default 1)", "N" },
        { "keep", 0, 0, G_OPTION_ARG_NONE, &o.keep, "Keep run and log directories of passing cases", NULL },
        { "verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer)count_verbose, "Say what is happening, phase by phase, on stderr (-vv: with the QMP traffic)", NULL },
        { "long", 0, 0, G_OPTION_ARG_NONE, &o.long_list, "list: say what each case exercises, asserts and needs", NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &o.version, "Print the version, payload ABI and libraries", NULL },
        { "ping-pong", 0, 0, G_OPTION_ARG_INT, &o.ping_pong, "Migrate one guest N times back and forth, verifying after every hop; report per-hop downtime and the first failing hop", "N" },
        { "repeat", 0, 0, G_OPTION_ARG_INT, &o.repeat, "Run each case N times; report failure rates (95% Wilson interval) and downtime percentiles", "N" },
        { "until-fail", 0, 0, G_OPTION_ARG_NONE, &o.until_fail, "Repeat (up to --repeat N, default 1000) until a run fails or errors; keep its logs", NULL },
        { "bisect", 0, 0, G_OPTION_ARG_NONE, &o.bisect, "Exit for git bisect run: 0 passed, 1 failed, 125 all skipped/errored or cannot test", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[run|list|report] - prove live migration kept every byte");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) cases = NULL;
    const ArchDesc *archs[8];
    RunOptions run = { 0 };
    const char *cmd;
    int rc;

    /* The agent has its own protocol on stdin/stdout (agent.h). */
    if (argc > 1 && g_str_equal(argv[1], "agent"))
        return agent_main(argc - 1, argv + 1);
    GOptionGroup *main_group = g_option_group_new(NULL, NULL, NULL, &o, NULL);

    g_option_group_add_entries(main_group, entries);
    g_option_context_set_main_group(ctx, main_group);   /* count_verbose gets &o */
    g_option_context_set_description(ctx, help_description);
    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        return usage_error("%s; see migtest --help", error->message);
    if (o.version) {
        version_print(stdout);
        return 0;
    }
    if (!o.results)     /* GOption does not free a default it replaces */
        o.results = g_strdup("migtest-results");
    cmd = argc > 1 ? argv[1] : "run";
    if (g_str_equal(cmd, "report"))
        return cmd_report(&o, argc - 2, argv + 2);
    if (g_str_equal(cmd, "cleanup") && argc == 2)
        return cmd_cleanup(&o);
    if (argc > 2 || (!g_str_equal(cmd, "run") && !g_str_equal(cmd, "list")))
        return usage_error("unknown command '%s'; use 'run', 'list', 'report', 'cleanup' or "
                           "'agent'", argc > 2 ? argv[2] : cmd);
    if (!cases_validate(&error)) {
        g_printerr("migtest: internal error: %s\n", error->message);
        return EXIT_USAGE;
    }
    if ((rc = select_archs(o.arch, archs)))
        return rc;
    /* list shows the whole catalogue; run defaults to the smoke cases. */
    cases = cases_select(archs, o.case_glob ? o.case_glob
                                : g_str_equal(cmd, "list") ? "*" : NULL);
    if (g_str_equal(cmd, "list"))
        return cmd_list(&o, cases);
    if (cases->len == 0) {
        rc = usage_error("no case matches --case '%s'; see migtest list", o.case_glob);
        return o.bisect ? EXIT_BISECT_SKIP : rc;
    }
    /* A revision whose QEMU does not build or run cannot be judged. */
    if ((rc = validate(&o, archs, &run)))
        return o.bisect ? EXIT_BISECT_SKIP : rc;
    return run_cases(&o, &run, cases);
}
