/* libvirt-domain.c: the domain XML for migtest's payloads (see libvirt-domain.h). */
#include "libvirt-domain.h"

#include <string.h>

static void append_escaped(GString *s, const char *fmt, const char *value)
{
    g_autofree char *esc = g_markup_escape_text(value, -1);

    g_string_append_printf(s, fmt, esc);
}

/* How the payload image is handed over follows the arch's QEMU option:
 * -bios is <loader type='rom'>, -kernel is <kernel>. */
static void append_os(GString *s, const LibvirtDomainSpec *d)
{
    g_string_append_printf(s, "  <os>\n    <type arch='%s' machine='%s'>hvm</type>\n",
                           d->arch->name, d->machine);
    if (d->kernel_path) {
        append_escaped(s, "    <kernel>%s</kernel>\n", d->kernel_path);
        if (d->initrd_path)
            append_escaped(s, "    <initrd>%s</initrd>\n", d->initrd_path);
        if (d->cmdline)
            append_escaped(s, "    <cmdline>%s</cmdline>\n", d->cmdline);
    } else if (g_str_equal(d->arch->load_option, "-bios")) {
        append_escaped(s, "    <loader type='rom'>%s</loader>\n", d->image_path);
    } else {
        append_escaped(s, "    <kernel>%s</kernel>\n", d->image_path);
    }
    g_string_append(s, "  </os>\n");
}

/* QEMU's own -cpu spelling ("max,pauth-impdef=on") has only its model
 * in libvirt 9.0's <model>. */
static void append_cpu(GString *s, const LibvirtDomainSpec *d)
{
    const char *model = d->cpu_model ? d->cpu_model : d->arch->cpu_tcg;
    g_autofree char *name = NULL;

    if (!model || g_str_equal(d->domain_type, "kvm"))
        return;
    name = g_strndup(model, strcspn(model, ","));
    g_string_append_printf(s, "  <cpu mode='custom' match='exact'><model>%s</model></cpu>\n",
                           name);
}

char *libvirt_domain_xml(const LibvirtDomainSpec *d)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "<domain type='%s'>\n", d->domain_type);
    append_escaped(s, "  <name>%s</name>\n", d->name);
    g_string_append_printf(s, "  <uuid>%s</uuid>\n", d->uuid);
    g_string_append_printf(s, "  <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                           d->mem_bytes >> 10);
    g_string_append_printf(s, "  <vcpu>%u</vcpu>\n", MAX(d->vcpus, 1));
    append_os(s, d);
    /* A stock kernel on x86 needs ACPI tables (without, it prints "A valid
     * RSDP was not found", which the linux payload counts as junk); our
     * -bios payload is the firmware and needs none.  libvirt leaves ACPI
     * off unless asked, and on aarch64 ties it to UEFI. */
    if (d->kernel_path && g_str_equal(d->arch->load_option, "-bios"))
        g_string_append(s, "  <features><acpi/></features>\n");
    append_cpu(s, d);
    /* memfd + shared: the agent maps the very pages QEMU migrates, and the
     * mapping outlives the source QEMU libvirt kills after migrating. */
    g_string_append(s, "  <memoryBacking><source type='memfd'/><access mode='shared'/>"
                       "</memoryBacking>\n"
                       "  <clock offset='utc'/>\n"
                       "  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>"
                       "<on_crash>destroy</on_crash>\n  <devices>\n");
    if (d->emulator)
        append_escaped(s, "    <emulator>%s</emulator>\n", d->emulator);
    append_escaped(s, "    <serial type='unix'><source mode='connect' path='%s'/>"
                      "<target port='0'/></serial>\n", d->serial_path);
    g_string_append(s, "    <controller type='usb' model='none'/>\n"
                       "    <memballoon model='none'/>\n  </devices>\n</domain>\n");
    return g_string_free(s, FALSE);
}

char *libvirt_domain_name(const char *run_id, const char *case_name)
{
    g_autofree char *leaf = g_strdelimit(g_strdup(case_name + (case_name[0] == '/')), "/", '-');
    char *name = g_strdup_printf(LIBVIRT_DOMAIN_PREFIX "%s-%s", run_id, leaf);

    /* long case names are cut; the run id keeps them apart within a run,
     * the UUID across runs */
    if (strlen(name) > 64)
        name[64] = '\0';
    return name;
}

char *libvirt_domain_uuid(const char *case_name)
{
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, case_name, -1);

    /* "migt" first, so a migtest domain's UUID is recognisable; the rest
     * from the case name, version 4 / variant 1 bits set. */
    return g_strdup_printf("6d696774-%.4s-4%.3s-8%.3s-%.12s", sum, sum + 4, sum + 7, sum + 10);
}
