/* vm.c: spawning, watching and stopping one QEMU (see vm.h). */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

/* QEMU exits on SIGTERM within milliseconds; three seconds is for a host
 * loaded by parallel cases.  After SIGKILL only the kernel is involved. */
#define VM_TERM_GRACE_MS 3000
#define VM_KILL_WAIT_MS 5000
/*
 * Shared RAM is a tmpfs file, and QEMU's first migration pass reads every
 * page to find the zero ones: for a file hole each read allocates and
 * zeroes a page, one fault at a time (~9 us here, against ~0.5 us for an
 * anonymous guest's shared zero page), so a 4 GiB guest spent 50 s of its
 * migration faulting in 3.9 GiB it never wrote (docs/findings/007).
 * From 1 GiB on, QEMU preallocates at boot instead (in bulk), and the
 * migration runs at the speed a real guest's would; below, the holes
 * cost less than the prealloc would.
 */
#define VM_PREALLOC_FROM (1ull << 30)

struct VmGroup {
    GMutex lock;
    GHashTable *pids;           /* GPid -> GPid, members alive */
    gint signo;                 /* atomic */
};

VmGroup *vm_group_new(void)
{
    VmGroup *g = g_new0(VmGroup, 1);

    g_mutex_init(&g->lock);
    g->pids = g_hash_table_new(g_direct_hash, g_direct_equal);
    return g;
}

void vm_group_free(VmGroup *g)
{
    if (!g)
        return;
    g_hash_table_unref(g->pids);
    g_mutex_clear(&g->lock);
    g_free(g);
}

void vm_group_interrupt(VmGroup *g, int signo)
{
    GHashTableIter it;
    gpointer pid;

    g_atomic_int_set(&g->signo, signo);
    g_mutex_lock(&g->lock);
    g_hash_table_iter_init(&it, g->pids);
    while (g_hash_table_iter_next(&it, &pid, NULL))
        kill(GPOINTER_TO_INT(pid), SIGTERM);
    g_mutex_unlock(&g->lock);
}

int vm_group_interrupted(VmGroup *g)
{
    return g ? g_atomic_int_get(&g->signo) : 0;
}

void vm_group_watch(VmGroup *g, GPid pid, gboolean member)
{
    if (!g)
        return;
    g_mutex_lock(&g->lock);
    if (member)
        g_hash_table_add(g->pids, GINT_TO_POINTER(pid));
    else
        g_hash_table_remove(g->pids, GINT_TO_POINTER(pid));
    g_mutex_unlock(&g->lock);
}

struct Vm {
    VmGroup *group;
    char *name;
    const ArchDesc *arch;
    guint64 mem_bytes;
    VmRamMode ram_mode;
    RamLayout layout;
    GPid pid;
    int pidfd;
    gboolean reaped;
    int wait_status;
    char *ram_path;
    gboolean ram_path_owned;    /* ours to unlink (not a caller's ram_file) */
    char *stderr_path;
    char *qmp_path;
    char *serial_path;
    char *gdb_path;
    FILE *qmp_log;
    QmpClient *qmp;
    Serial *serial;
};

QmpClient *vm_qmp(Vm *vm) { return vm->qmp; }
Serial *vm_serial(Vm *vm) { return vm->serial; }
const char *vm_name(Vm *vm) { return vm->name; }
GPid vm_pid(Vm *vm) { return vm->pid; }
const RamLayout *vm_ram_layout(Vm *vm) { return &vm->layout; }
const char *vm_gdb_path(Vm *vm) { return vm->gdb_path; }

gboolean vm_kvm_usable(const ArchDesc *arch)
{
    struct utsname u;
    int fd;

    if (uname(&u) < 0 || !g_str_equal(u.machine, arch->kvm_host_arch))
        return FALSE;
    fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return FALSE;
    close(fd);
    return TRUE;
}

static void add(GPtrArray *argv, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void add(GPtrArray *argv, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(argv, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

/* -object for the guest RAM backend "mt-ram" (VmRamMode). */
static void add_ram_backend(GPtrArray *argv, const VmConfig *cfg, const Vm *vm)
{
    switch (cfg->ram_mode) {
    case VM_RAM_SHARED:
        add(argv, "memory-backend-file,id=mt-ram,size=%" G_GUINT64_FORMAT
            ",mem-path=%s,share=on%s", cfg->mem_bytes, vm->ram_path,
            cfg->mem_bytes >= VM_PREALLOC_FROM ? ",prealloc=on" : "");
        return;
    case VM_RAM_MEMFD:
        add(argv, "memory-backend-memfd,id=mt-ram,size=%" G_GUINT64_FORMAT ",share=on",
            cfg->mem_bytes);
        return;
    case VM_RAM_ANON_SHARED:
    case VM_RAM_ANON_PRIVATE:
        add(argv, "memory-backend-ram,id=mt-ram,size=%" G_GUINT64_FORMAT ",share=%s",
            cfg->mem_bytes, cfg->ram_mode == VM_RAM_ANON_SHARED ? "on" : "off");
        return;
    case VM_RAM_PRIVATE:
        break;
    }
    g_assert_not_reached();
}

/* The whole QEMU command line as an argv array. */
static GPtrArray *vm_build_argv(const VmConfig *cfg, const Vm *vm)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    const char *cpu = cfg->cpu ? cfg->cpu
                      : g_str_has_prefix(cfg->accel, "kvm") ? cfg->arch->cpu_kvm
                      : cfg->arch->cpu_tcg;

    add(argv, "%s", cfg->qemu_binary);
    add(argv, "-name");
    add(argv, "migtest-%s,debug-threads=on", cfg->name);
    add(argv, "-machine");
    if (cfg->ram_mode == VM_RAM_PRIVATE) {
        add(argv, "%s", cfg->machine);
    } else {
        add(argv, "%s,memory-backend=mt-ram", cfg->machine);
        add(argv, "-object");
        add_ram_backend(argv, cfg, vm);
    }
    add(argv, "-accel");
    add(argv, "%s", cfg->accel);
    if (cpu) {
        add(argv, "-cpu");
        add(argv, "%s", cpu);
    }
    if (cfg->vcpus > 1) {
        add(argv, "-smp");
        add(argv, "%u", cfg->vcpus);
    }
    add(argv, "-m");
    if (cfg->mem_bytes & ((1 << 20) - 1))   /* a row's odd size (mem_tail_kib) */
        add(argv, "%" G_GUINT64_FORMAT "K", cfg->mem_bytes >> 10);
    else
        add(argv, "%" G_GUINT64_FORMAT "M", cfg->mem_bytes >> 20);
    add(argv, "-nodefaults");
    add(argv, "-no-user-config");
    add(argv, "-display");
    add(argv, "none");
    add(argv, "-chardev");
    add(argv, "socket,id=mt-serial,path=%s", vm->serial_path);
    add(argv, "-serial");
    add(argv, "chardev:mt-serial");
    add(argv, "-qmp");
    add(argv, "unix:%s,server=on,wait=off", vm->qmp_path);
    if (cfg->kernel) {
        add(argv, "-kernel");
        add(argv, "%s", cfg->kernel);
        add(argv, "-initrd");
        add(argv, "%s", cfg->initrd);
        add(argv, "-append");
        add(argv, "%s", cfg->append);
        add(argv, "-no-reboot");        /* a panic ends QEMU, not loops */
    } else {
        add(argv, "%s", cfg->arch->load_option);
        add(argv, "%s", cfg->image_path);
    }
    if (vm->gdb_path) {
        add(argv, "-chardev");
        add(argv, "socket,id=mt-gdb,path=%s,server=on,wait=off", vm->gdb_path);
        add(argv, "-gdb");
        add(argv, "chardev:mt-gdb");
    }
    if (cfg->start_paused)
        add(argv, "-S");
    if (cfg->incoming) {
        add(argv, "-incoming");
        add(argv, "defer");
    }
    for (guint i = 0; cfg->extra_args && cfg->extra_args[i]; i++)
        add(argv, "%s", cfg->extra_args[i]);
    g_ptr_array_add(argv, NULL);
    return argv;
}

static void vm_child_setup(gpointer netns_fd_p)
{
    sigset_t all;

    /* A case over a real link (netns.h): QEMU joins its namespace.  If
     * it cannot, QEMU must not run on the host's network instead. */
    if (netns_fd_p && setns(GPOINTER_TO_INT(netns_fd_p) - 1, CLONE_NEWNET) < 0)
        _exit(126);
    /* migtest blocks the signals its watcher thread waits for; QEMU must
     * get its normal signal mask back. */
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, NULL);
    /* QEMU must not outlive migtest, however migtest dies. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static gboolean vm_write_cmdline(const VmConfig *cfg, GPtrArray *argv, GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s.cmdline", cfg->log_dir, cfg->name);
    g_autoptr(GString) line = g_string_new(NULL);

    for (guint i = 0; i + 1 < argv->len; i++) {
        g_autofree char *q = g_shell_quote(argv->pdata[i]);
        g_string_append_printf(line, "%s%s", i ? " " : "", q);
    }
    g_string_append_c(line, '\n');
    return g_file_set_contents(path, line->str, line->len, error);
}

static gboolean vm_spawn(Vm *vm, const VmConfig *cfg, GError **error)
{
    g_autoptr(GPtrArray) argv = vm_build_argv(cfg, vm);
    g_autofree char *errpath = g_strdup_printf("%s/%s.stderr", cfg->log_dir, cfg->name);
    int errfd, nullfd;
    gboolean ok;

    if (!vm_write_cmdline(cfg, argv, error))
        return FALSE;
    errfd = open(errpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (errfd < 0 || nullfd < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot open '%s': %s",
                    errpath, g_strerror(errno));
        if (errfd >= 0)
            close(errfd);
        if (nullfd >= 0)
            close(nullfd);
        return FALSE;
    }
    ok = g_spawn_async_with_fds(NULL, (char **)argv->pdata, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD,
                                vm_child_setup,
                                cfg->in_netns ? GINT_TO_POINTER(cfg->netns_fd + 1) : NULL,
                                &vm->pid,
                                nullfd, errfd, errfd, error);
    close(errfd);
    close(nullfd);
    if (!ok)
        return FALSE;
    vm_group_watch(vm->group, vm->pid, TRUE);
    vm->pidfd = (int)syscall(SYS_pidfd_open, vm->pid, 0);
    return TRUE;
}

void vm_watch_peer(Vm *vm, Vm *peer)
{
    g_autofree char *what = g_strdup_printf("%s QEMU (pid %d)", peer->name, (int)peer->pid);

    if (vm->qmp)
        qmp_watch(vm->qmp, peer->pidfd, what);
}

void vm_unwatch_peer(Vm *vm, Vm *peer)
{
    if (vm->qmp)
        qmp_unwatch(vm->qmp, peer->pidfd);
}

/* Reap the child if it has exited; TRUE if it has. */
static gboolean vm_try_reap(Vm *vm)
{
    if (!vm->reaped && vm->pid > 0 &&
        waitpid(vm->pid, &vm->wait_status, WNOHANG) == vm->pid) {
        vm->reaped = TRUE;
        vm_group_watch(vm->group, vm->pid, FALSE);
    }
    return vm->reaped;
}

/* Wait for exit until @deadline: pidfd readability is the event. */
static gboolean vm_wait_exit(Vm *vm, Deadline deadline)
{
    while (!vm_try_reap(vm)) {
        struct pollfd pfd = { .fd = vm->pidfd, .events = POLLIN };
        int left = deadline_remaining_ms(deadline);

        if (left == 0)
            return vm_try_reap(vm);
        if (vm->pidfd < 0)
            g_usleep(MIN(left, 10) * 1000);     /* no pidfd: poll the pid */
        else
            poll(&pfd, 1, left);
    }
    return TRUE;
}

gboolean vm_has_exited(Vm *vm)
{
    return vm_try_reap(vm);
}

static char *vm_describe_exit(Vm *vm)
{
    int st = vm->wait_status;

    if (WIFEXITED(st))
        return g_strdup_printf("exited with status %d", WEXITSTATUS(st));
    if (WIFSIGNALED(st))
        return g_strdup_printf("was killed by signal %d (%s)", WTERMSIG(st),
                               g_strsignal(WTERMSIG(st)));
    return g_strdup("ended");
}

gboolean vm_check_alive_within(Vm *vm, gint64 grace_ms, GError **error)
{
    vm_wait_exit(vm, deadline_in_ms(grace_ms));
    return vm_check_alive(vm, error);
}

gboolean vm_check_pair_alive_within(Vm *a, Vm *b, gint64 grace_ms, GError **error)
{
    Deadline d = deadline_in_ms(grace_ms);

    for (;;) {
        struct pollfd pfd[2] = { { .fd = a->pidfd, .events = POLLIN },
                                 { .fd = b->pidfd, .events = POLLIN } };
        int left = deadline_remaining_ms(d);

        if (!vm_check_alive(a, error) || !vm_check_alive(b, error))
            return FALSE;
        if (left == 0)
            return TRUE;
        if (a->pidfd < 0 || b->pidfd < 0)
            g_usleep(MIN(left, 10) * 1000);     /* no pidfd: poll the pids */
        else
            poll(pfd, 2, left);
    }
}

gboolean vm_check_alive(Vm *vm, GError **error)
{
    g_autofree char *how = NULL;

    if (!vm_try_reap(vm))
        return TRUE;
    g_autofree char *last = vm_stderr_tail(vm);

    how = vm_describe_exit(vm);
    g_set_error(error, MT_ERROR, MT_ERROR_PEER_DIED, "%s QEMU (pid %d) %s%s%s",
                vm->name, (int)vm->pid, how, last ? ": " : "", last ? last : "");
    return FALSE;
}

static void vm_kill_and_reap(Vm *vm)
{
    if (vm->pid <= 0 || vm_try_reap(vm))
        return;
    kill(vm->pid, SIGTERM);
    if (vm_wait_exit(vm, deadline_in_ms(VM_TERM_GRACE_MS)))
        return;
    kill(vm->pid, SIGKILL);
    vm_wait_exit(vm, deadline_in_ms(VM_KILL_WAIT_MS));
}

gboolean vm_shutdown(Vm *vm, Deadline deadline)
{
    gboolean clean;

    if (vm->qmp && !vm_try_reap(vm))
        qmp_execute_simple(vm->qmp, "quit", NULL, deadline, NULL);
    clean = vm_wait_exit(vm, deadline);
    vm_kill_and_reap(vm);
    return clean;
}

void vm_free(Vm *vm)
{
    if (!vm)
        return;
    qmp_free(vm->qmp);
    vm_kill_and_reap(vm);
    serial_free(vm->serial);
    if (vm->pidfd >= 0)
        close(vm->pidfd);
    if (vm->qmp_log)
        fclose(vm->qmp_log);
    if (vm->ram_path && vm->ram_path_owned)
        unlink(vm->ram_path);
    if (vm->qmp_path)
        unlink(vm->qmp_path);
    g_free(vm->ram_path);
    g_free(vm->stderr_path);
    g_free(vm->qmp_path);
    g_free(vm->serial_path);
    if (vm->gdb_path)
        unlink(vm->gdb_path);
    g_free(vm->gdb_path);
    g_free(vm->name);
    g_free(vm);
}

char *vm_stderr_tail(Vm *vm)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    const char *last[2] = { NULL, NULL };

    if (!g_file_get_contents(vm->stderr_path, &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++)
        if (*g_strstrip(lines[i]) && !strstr(lines[i], "terminating on signal")) {
            last[0] = last[1];
            last[1] = lines[i];
        }
    /* QEMU's cause is often the line before its summary. */
    if (!last[1])
        return NULL;
    return last[0] ? g_strconcat(last[0], " / ", last[1], NULL) : g_strdup(last[1]);
}

/* QMP failing to connect usually means QEMU died: say so, with its
 * stderr's last line, rather than "connection refused". */
static void vm_explain_launch_failure(Vm *vm, const char *name, GError **error)
{
    g_autofree char *last = NULL;
    g_autofree char *how = NULL;

    vm_wait_exit(vm, deadline_in_ms(200));
    if (!vm->reaped)
        return;
    last = vm_stderr_tail(vm);
    how = vm_describe_exit(vm);
    g_clear_error(error);
    g_set_error(error, MT_ERROR, MT_ERROR_PEER_DIED, "%s QEMU %s at start: %s",
                name, how, last ? last : "(no message; see the .stderr log)");
}

Vm *vm_launch(const VmConfig *cfg, Deadline deadline, GError **error)
{
    g_autoptr(Vm) vm = g_new0(Vm, 1);
    g_autofree char *serial_log = g_strdup_printf("%s/%s.serial", cfg->log_dir, cfg->name);
    g_autofree char *qmp_log = g_strdup_printf("%s/%s.qmp", cfg->log_dir, cfg->name);

    vm->pidfd = -1;
    vm->group = cfg->group;
    vm->name = g_strdup(cfg->name);
    vm->arch = cfg->arch;
    vm->mem_bytes = cfg->mem_bytes;
    vm->ram_mode = cfg->ram_mode;
    cfg->arch->ram_layout(cfg->machine, cfg->mem_bytes, &vm->layout);
    vm->qmp_path = g_strdup_printf("%s/%s.qmp", cfg->run_dir, cfg->name);
    vm->stderr_path = g_strdup_printf("%s/%s.stderr", cfg->log_dir, cfg->name);
    vm->serial_path = g_strdup_printf("%s/%s.serial", cfg->run_dir, cfg->name);
    if (cfg->gdbstub)
        vm->gdb_path = g_strdup_printf("%s/%s.gdb", cfg->run_dir, cfg->name);
    if (cfg->ram_mode == VM_RAM_SHARED) {
        vm->ram_path_owned = cfg->ram_file == NULL;
        vm->ram_path = cfg->ram_file ? g_strdup(cfg->ram_file)
                                     : g_strdup_printf("%s/%s.ram", cfg->run_dir, cfg->name);
    }
    vm->serial = serial_listen_full(vm->serial_path, serial_log, cfg->serial_lines, error);
    if (!vm->serial || !vm_spawn(vm, cfg, error))
        return NULL;
    vm->qmp_log = fopen(qmp_log, "we");
    if (!cfg->defer_qmp && !vm_connect(vm, deadline, error)) {
        vm_explain_launch_failure(vm, cfg->name, error);
        return NULL;
    }
    return g_steal_pointer(&vm);
}

gboolean vm_connect(Vm *vm, Deadline deadline, GError **error)
{
    vm->qmp = qmp_connect_watching(vm->qmp_path, vm->pidfd, deadline, error);
    if (!vm->qmp)
        return FALSE;
    qmp_set_log(vm->qmp, vm->qmp_log, vm->name);
    return TRUE;
}

/* Is @name (of a mapping in /proc/PID/maps) what @mode's backend maps?
 * Anonymous RAM has no name; a memfd is "/memfd:<name> (deleted)";
 * shared anonymous RAM is the kernel's "/dev/zero (deleted)" in QEMU 7.2,
 * and a memfd in 10.0 (made so for cpr). */
static gboolean vm_ram_mapping_name(VmRamMode mode, const char *name)
{
    switch (mode) {
    case VM_RAM_MEMFD:
        return g_str_has_prefix(name, "/memfd:");
    case VM_RAM_ANON_SHARED:
        return g_str_has_prefix(name, "/dev/zero") || g_str_has_prefix(name, "/memfd:");
    default:
        return *name == '\0';
    }
}

/* Find the mapping that holds guest RAM in QEMU's address space: the
 * one rw mapping of the backend's kind exactly as large as the RAM. */
static gboolean vm_find_ram_hva(Vm *vm, guint64 *hva, GError **error)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", (int)vm->pid);
    g_autofree char *maps = NULL;
    g_auto(GStrv) lines = NULL;
    guint found = 0;

    if (!g_file_get_contents(path, &maps, NULL, error))
        return FALSE;
    lines = g_strsplit(maps, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        guint64 lo, hi;
        char perms[8] = "";
        int name_at = 0;

        if (sscanf(lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER
                   "x %7s %*s %*s %*s %n", &lo, &hi, perms, &name_at) < 3)
            continue;
        if (hi - lo == vm->mem_bytes && g_str_has_prefix(perms, "rw") &&
            vm_ram_mapping_name(vm->ram_mode, name_at ? lines[i] + name_at : "")) {
            *hva = lo;
            found++;
        }
    }
    if (found != 1) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV,
                    "cannot locate %s guest RAM in /proc/%d/maps (%u candidate "
                    "mappings of %" G_GUINT64_FORMAT " bytes); use --ram shared",
                    vm->name, (int)vm->pid, found, vm->mem_bytes);
        return FALSE;
    }
    return TRUE;
}

static RamImage *vm_ram_image_private(Vm *vm, GError **error)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/mem", (int)vm->pid);
    g_autoptr(RamImage) img = g_new0(RamImage, 1);
    guint64 hva, done = 0;
    int fd;

    if (!vm_find_ram_hva(vm, &hva, error))
        return NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot open '%s': %s", path,
                    g_strerror(errno));
        return NULL;
    }
    img->layout = vm->layout;
    img->data = g_malloc(vm->mem_bytes);
    while (done < vm->mem_bytes) {
        ssize_t n = pread(fd, img->data + done, vm->mem_bytes - done, hva + done);
        if (n <= 0) {
            g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot read %s RAM at "
                        "offset %" G_GUINT64_FORMAT ": %s", vm->name, done,
                        n < 0 ? g_strerror(errno) : "short read");
            close(fd);
            return NULL;
        }
        done += n;
    }
    close(fd);
    return g_steal_pointer(&img);
}

static RamImage *vm_ram_image_shared(Vm *vm, gboolean writable, GError **error)
{
    RamImage *img = ram_image_map_file(vm->ram_path, vm->mem_bytes, &vm->layout, writable,
                                       error);

    if (!img)
        g_prefix_error(error, "%s: ", vm->name);
    return img;
}

RamImage *vm_ram_image(Vm *vm, gboolean writable, GError **error)
{
    if (vm->ram_mode == VM_RAM_SHARED)
        return vm_ram_image_shared(vm, writable, error);
    g_return_val_if_fail(!writable, NULL);
    return vm_ram_image_private(vm, error);
}

gboolean vm_ram_poke(Vm *vm, guint64 gpa, const void *buf, gsize len,
                     GError **error)
{
    g_autofree char *path = NULL;
    guint64 off, base;
    int fd;
    gboolean ok;

    if (!ram_layout_gpa_to_offset(&vm->layout, gpa, &off)) {
        g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "gpa 0x%" G_GINT64_MODIFIER
                    "x is not %s RAM", gpa, vm->name);
        return FALSE;
    }
    if (vm->ram_mode == VM_RAM_SHARED) {
        path = g_strdup(vm->ram_path);
        base = 0;
    } else {
        path = g_strdup_printf("/proc/%d/mem", (int)vm->pid);
        if (!vm_find_ram_hva(vm, &base, error))
            return FALSE;
    }
    fd = open(path, O_WRONLY | O_CLOEXEC);
    ok = fd >= 0 && pwrite(fd, buf, len, base + off) == (ssize_t)len;
    if (!ok)
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot write %s RAM at gpa 0x%"
                    G_GINT64_MODIFIER "x: %s", vm->name, gpa, g_strerror(errno));
    if (fd >= 0)
        close(fd);
    return ok;
}
