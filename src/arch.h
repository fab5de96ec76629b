/*
 * arch.h: the per-architecture descriptor table.  Everything that differs
 * between x86_64 and aarch64 (QEMU binary, machine, CPU, RAM base and the
 * split of RAM around the 4 GiB hole, how the payload is loaded) is a field
 * here, so scenario code never compares architecture names.
 */
#ifndef MIGTEST_ARCH_H
#define MIGTEST_ARCH_H

#include <glib.h>

/* Where each part of the RAM backend appears in the guest physical space. */
typedef struct {
    guint64 gpa;
    guint64 offset;             /* byte offset in the RAM backend */
    guint64 size;
} RamSegment;

typedef struct {
    guint nsegs;
    RamSegment seg[2];
    guint64 total;              /* backend size */
} RamLayout;

typedef struct ArchDesc {
    const char *name;
    const char *qemu_binary;    /* default binary, looked up in PATH */
    const char *default_machine;
    const char *load_option;    /* how QEMU is handed the payload image */
    const char *cpu_tcg;        /* -cpu under TCG, NULL for QEMU's default */
    const char *cpu_kvm;
    const char *kvm_host_arch;  /* KVM only when the host is this arch */
    guint64 ram_base;
    const char *machine_family;  /* versioned machine types: "pc-i440fx-" */
    const char *default_variant;
    gboolean coherency_guard;   /* guests can run uncached: check SCTLR */
    const char *linux_console;  /* the linux payload's console device */
    const char *linux_cpu_tcg;  /* -cpu for a stock kernel under TCG */
    const char *const *variants;    /* NULL-terminated payload variant names */
    guint64 devprobe_mailbox;   /* the payload's device-probe test mailbox */
    /* Fill @out for @machine with @mem bytes of RAM. */
    void (*ram_layout)(const char *machine, guint64 mem, RamLayout *out);
} ArchDesc;

/* All supported architectures, NULL-terminated. */
extern const ArchDesc *const arch_table[];

const ArchDesc *arch_lookup(const char *name);

/* Translate between guest physical addresses and backend offsets.
 * Return FALSE when the address is not RAM. */
gboolean ram_layout_gpa_to_offset(const RamLayout *l, guint64 gpa, guint64 *offset);
guint64 ram_layout_offset_to_gpa(const RamLayout *l, guint64 offset);

/* Guest RAM as the host sees it: the backend's bytes and where they sit
 * in the guest physical space.  Built by vm.c, read by verify.c. */
typedef struct {
    guint8 *data;               /* the backend, offset 0 .. layout.total */
    RamLayout layout;
    gsize map_len;              /* > 0: data is an mmap of this length */
    /* The mapped file, kept open so the verifier can find its holes
     * (SEEK_DATA); valid when fd_owned. */
    int fd;
    gboolean fd_owned;
} RamImage;

/* Map @size bytes of the file @path shared (read-only unless @writable),
 * without populating it: the exact verifier populates in bulk, block by
 * block on several threads, and skips holes. */
RamImage *ram_image_map_file(const char *path, guint64 size, const RamLayout *layout,
                             gboolean writable, GError **error);
/* A private copy of @img in the file @path (on tmpfs: not in migtest's own
 * memory, however large the guest), zero chunks left as holes, mapped
 * read-only; @path is unlinked at once, the mapping keeps the data. */
RamImage *ram_image_copy_to_file(const RamImage *img, const char *path, GError **error);
void ram_image_free(RamImage *img);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RamImage, ram_image_free)
#endif
