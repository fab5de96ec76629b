/*
 * vm.h: one QEMU process.  Builds its argv from the architecture
 * descriptor (never a shell string), spawns it with PR_SET_PDEATHSIG,
 * connects QMP and the serial listener, exposes its guest RAM, and tears
 * it down: SIGTERM, a bounded wait, then SIGKILL.
 */
#ifndef MIGTEST_VM_H
#define MIGTEST_VM_H

#include <stdio.h>
#include "arch.h"
#include "qmp.h"
#include "serial.h"

typedef enum {
    VM_RAM_SHARED,      /* file on tmpfs in the run dir, mapped by migtest */
    VM_RAM_PRIVATE,     /* anonymous RAM, read through /proc/PID/mem */
    /* The backends x-ignore-shared and cpr distinguish (cases.h CaseRam),
     * each read through /proc/PID/mem at the mapping QEMU made: */
    VM_RAM_MEMFD,       /* memory-backend-memfd,share=on: "/memfd:mt-ram" */
    VM_RAM_ANON_SHARED, /* memory-backend-ram,share=on: "/dev/zero (deleted)" */
    VM_RAM_ANON_PRIVATE,/* memory-backend-ram,share=off */
} VmRamMode;

/*
 * The live QEMU processes of a whole run.  A signal-watching thread calls
 * vm_group_interrupt(): it marks the run interrupted and sends SIGTERM to
 * every member, so each wait in the main thread ends at once (QMP EOF,
 * serial closed) and the normal cleanup path runs.
 */
typedef struct VmGroup VmGroup;
VmGroup *vm_group_new(void);
void vm_group_free(VmGroup *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VmGroup, vm_group_free)
void vm_group_interrupt(VmGroup *g, int signo);
/* The signal that interrupted the run, or 0. */
int vm_group_interrupted(VmGroup *g);
/* Add (@member) or remove a process of ours that an interrupt must stop
 * too (the libvirt backend's agents); NULL-safe. */
void vm_group_watch(VmGroup *g, GPid pid, gboolean member);

typedef struct {
    VmGroup *group;             /* may be NULL */
    const ArchDesc *arch;
    const char *name;           /* "src" or "dst": names files and messages */
    const char *qemu_binary;
    const char *machine;
    const char *accel;          /* "kvm" or "tcg" */
    guint64 mem_bytes;
    VmRamMode ram_mode;
    /* VM_RAM_SHARED: map this file (the caller creates and removes it;
     * two QEMUs may share it) instead of <run_dir>/<name>.ram. */
    const char *ram_file;
    const char *image_path;     /* patched payload image, or NULL with kernel */
    const char *kernel;         /* linux payload: -kernel, -initrd, -append */
    const char *initrd;
    const char *append;
    const char *cpu;            /* overrides the arch's -cpu, may be NULL */
    guint vcpus;                /* -smp N when above 1 */
    gboolean serial_lines;      /* decode the console as lines (linux) */
    const char *run_dir;        /* private 0700 directory on tmpfs */
    const char *log_dir;        /* command line and stderr go here */
    gboolean incoming;          /* -incoming defer */
    /* Do not connect QMP in vm_launch (a cpr-transfer target serves its
     * monitor only once the source sent its state): vm_connect later. */
    gboolean defer_qmp;
    gboolean start_paused;      /* -S */
    gboolean gdbstub;           /* a gdbstub on <run_dir>/<name>.gdb */
    const char *const *extra_args;  /* NULL-terminated, may be NULL */
    int netns_fd;               /* with in_netns: run QEMU in this network namespace */
    gboolean in_netns;
} VmConfig;

typedef struct Vm Vm;

/* Spawn QEMU and connect to it before @deadline.  The exact command line
 * goes to <log_dir>/<name>.cmdline, stderr to <log_dir>/<name>.stderr. */
Vm *vm_launch(const VmConfig *cfg, Deadline deadline, GError **error);

/* Connect QMP to a QEMU launched with defer_qmp, before @deadline. */
gboolean vm_connect(Vm *vm, Deadline deadline, GError **error);

/* Stop the process (SIGTERM, wait up to @grace_ms, SIGKILL) and free. */
void vm_free(Vm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Vm, vm_free)

QmpClient *vm_qmp(Vm *vm);
Serial *vm_serial(Vm *vm);
const char *vm_name(Vm *vm);
GPid vm_pid(Vm *vm);
const RamLayout *vm_ram_layout(Vm *vm);
/* The gdbstub's unix socket, or NULL if started without one. */
const char *vm_gdb_path(Vm *vm);

/* While two QEMUs work together (a migration), every QMP wait on @vm
 * also watches @peer's process, so the peer's death ends it at once
 * (MT_ERROR_PEER_DIED).  Unwatch before either is freed. */
void vm_watch_peer(Vm *vm, Vm *peer);
void vm_unwatch_peer(Vm *vm, Vm *peer);

/* TRUE once the process has exited (it is reaped then); never blocks. */
gboolean vm_has_exited(Vm *vm);

/* FALSE with MT_ERROR_PEER_DIED (naming the side and how it died) when
 * the process has exited. */
gboolean vm_check_alive(Vm *vm, GError **error);

/* Same, but first give a QEMU that is going away (its QMP socket just
 * closed) up to @grace_ms to be reaped. */
gboolean vm_check_alive_within(Vm *vm, gint64 grace_ms, GError **error);

/* Both of a pair: FALSE naming the first of @a, @b to have exited
 * within @grace_ms (TRUE at once if neither has, when @grace_ms is 0). */
gboolean vm_check_pair_alive_within(Vm *a, Vm *b, gint64 grace_ms, GError **error);

/* The last two lines QEMU wrote to stderr (its own error message), or
 * NULL.  New string. */
char *vm_stderr_tail(Vm *vm);

/* Ask QEMU to quit and reap it, then SIGTERM/SIGKILL if it will not;
 * TRUE if it exited by itself within the deadline. */
gboolean vm_shutdown(Vm *vm, Deadline deadline);

/* A view of guest RAM.  Shared RAM is mapped (read-only unless
 * @writable, which fault-injection tests use); private RAM is copied out
 * of /proc/PID/mem and cannot be writable. */
RamImage *vm_ram_image(Vm *vm, gboolean writable, GError **error);

/* Write @len bytes at guest physical @gpa behind QEMU's back
 * (through the RAM file or /proc/PID/mem). */
gboolean vm_ram_poke(Vm *vm, guint64 gpa, const void *buf, gsize len,
                     GError **error);

/* TRUE if /dev/kvm can be opened read-write and the host matches @arch. */
gboolean vm_kvm_usable(const ArchDesc *arch);

#endif
