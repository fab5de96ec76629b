/* arch.c: the architecture descriptor table (see arch.h). */
#include "arch.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "mt-error.h"
#include "migtest-abi.h"

#define GiB (1024ull * 1024 * 1024)

static void ram_split(RamLayout *out, guint64 mem, guint64 base, guint64 lowmem)
{
    memset(out, 0, sizeof(*out));
    out->total = mem;
    out->seg[0] = (RamSegment){ .gpa = base, .offset = 0, .size = MIN(mem, lowmem) };
    out->nsegs = 1;
    if (mem > lowmem) {
        out->seg[1] = (RamSegment){ .gpa = 4 * GiB, .offset = lowmem,
                                    .size = mem - lowmem };
        out->nsegs = 2;
    }
}

/*
 * QEMU 7.2's split (hw/i386/pc_piix.c, pc_q35.c): pc keeps RAM below
 * 3.5 GiB whole, and above that puts 3 GiB low; q35 keeps 2.75 GiB whole
 * and above that puts 2 GiB low.  The rest starts at 4 GiB.
 */
static void x86_ram_layout(const char *machine, guint64 mem, RamLayout *out)
{
    gboolean q35 = strstr(machine, "q35") != NULL;
    guint64 lowmem;

    if (q35)
        lowmem = mem >= 0xb0000000ull ? 2 * GiB : mem;
    else
        lowmem = mem >= 0xe0000000ull ? 3 * GiB : mem;
    ram_split(out, mem, MT_X86_RAM_BASE, lowmem);
}

/* virt: one contiguous bank from MT_ARM_RAM_BASE. */
static void arm_ram_layout(const char *machine, guint64 mem, RamLayout *out)
{
    (void)machine;
    ram_split(out, mem, MT_ARM_RAM_BASE, mem);
}

static const char *const x86_variants[] = { "default", NULL };
static const char *const arm_variants[] = {
    "mmu-on", "mmu-off-dc-civac", "mmu-off", "mmu-off-late", NULL
};

static const ArchDesc arch_x86_64 = {
    .name = "x86_64",
    .qemu_binary = "qemu-system-x86_64",
    .default_machine = "pc",
    .machine_family = "pc-i440fx-",
    .load_option = "-bios",         /* our image is the firmware: no SeaBIOS */
    .cpu_tcg = NULL,
    .cpu_kvm = NULL,
    .kvm_host_arch = "x86_64",
    .ram_base = MT_X86_RAM_BASE,
    .linux_console = "ttyS0",
    .default_variant = "default",
    .variants = x86_variants,
    .devprobe_mailbox = MT_X86_DEVPROBE_MAILBOX,
    .ram_layout = x86_ram_layout,
};

static const ArchDesc arch_aarch64 = {
    .name = "aarch64",
    .qemu_binary = "qemu-system-aarch64",
    .default_machine = "virt",
    .machine_family = "virt-",
    .load_option = "-kernel",
    .cpu_tcg = "max",
    .cpu_kvm = "host",
    .kvm_host_arch = "aarch64",
    .ram_base = MT_ARM_RAM_BASE,
    .linux_console = "ttyAMA0",
    /* Cheap pointer authentication: a stock kernel uses it on every call,
     * and QEMU's architected algorithm is slow under TCG. */
    .linux_cpu_tcg = "max,pauth-impdef=on",
    .default_variant = "mmu-on",
    .coherency_guard = TRUE,
    .variants = arm_variants,
    .devprobe_mailbox = MT_ARM_DEVPROBE_MAILBOX,
    .ram_layout = arm_ram_layout,
};

const ArchDesc *const arch_table[] = { &arch_x86_64, &arch_aarch64, NULL };

const ArchDesc *arch_lookup(const char *name)
{
    for (guint i = 0; arch_table[i]; i++)
        if (g_str_equal(arch_table[i]->name, name))
            return arch_table[i];
    return NULL;
}

gboolean ram_layout_gpa_to_offset(const RamLayout *l, guint64 gpa, guint64 *offset)
{
    for (guint i = 0; i < l->nsegs; i++) {
        const RamSegment *s = &l->seg[i];
        if (gpa >= s->gpa && gpa - s->gpa < s->size) {
            *offset = s->offset + (gpa - s->gpa);
            return TRUE;
        }
    }
    return FALSE;
}

guint64 ram_layout_offset_to_gpa(const RamLayout *l, guint64 offset)
{
    for (guint i = 0; i < l->nsegs; i++) {
        const RamSegment *s = &l->seg[i];
        if (offset >= s->offset && offset - s->offset < s->size)
            return s->gpa + (offset - s->offset);
    }
    return G_MAXUINT64;
}

RamImage *ram_image_map_file(const char *path, guint64 size, const RamLayout *layout,
                             gboolean writable, GError **error)
{
    g_autoptr(RamImage) img = g_new0(RamImage, 1);
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    void *p;

    if (fd < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot open RAM file '%s': %s", path,
                    g_strerror(errno));
        return NULL;
    }
    img->fd = fd;
    img->fd_owned = TRUE;
    p = mmap(NULL, size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot map RAM file '%s': %s", path,
                    g_strerror(errno));
        return NULL;
    }
    img->data = p;
    img->map_len = size;
    img->layout = *layout;
    return g_steal_pointer(&img);
}

void ram_image_free(RamImage *img)
{
    if (!img)
        return;
    if (img->fd_owned)
        close(img->fd);
    if (img->map_len)
        munmap(img->data, img->map_len);
    else
        g_free(img->data);
    g_free(img);
}

/* Chunks of the copy: zero ones are left as holes. */
#define RAM_COPY_CHUNK (64 * 1024)

static gboolean all_zero(const guint8 *p, gsize len)
{
    return p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

static gboolean write_copy(int fd, const RamImage *img, const char *path, GError **error)
{
    guint64 total = img->layout.total;

    if (ftruncate(fd, (off_t)total) < 0)
        goto fail;
    for (guint64 off = 0; off < total; off += RAM_COPY_CHUNK) {
        gsize len = MIN(RAM_COPY_CHUNK, total - off);

        if (all_zero(img->data + off, len))
            continue;
        for (gsize done = 0; done < len;) {
            ssize_t n = pwrite(fd, img->data + off + done, len - done, (off_t)(off + done));
            if (n < 0 && errno != EINTR)
                goto fail;
            done += n > 0 ? (gsize)n : 0;
        }
    }
    return TRUE;
fail:
    g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot write the RAM copy '%s': %s", path,
                g_strerror(errno));
    return FALSE;
}

RamImage *ram_image_copy_to_file(const RamImage *img, const char *path, GError **error)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    RamImage *copy = NULL;

    if (fd < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create the RAM copy '%s': %s",
                    path, g_strerror(errno));
        return NULL;
    }
    if (write_copy(fd, img, path, error))
        copy = ram_image_map_file(path, img->layout.total, &img->layout, FALSE, error);
    close(fd);
    unlink(path);               /* the mapping keeps it; nothing is left behind */
    return copy;
}
