/*
 * libvirt-domain.h: the libvirt domain XML that carries migtest's payloads
 * (see docs/libvirt.md): a transient domain with
 * memfd RAM shared so the agent can map it, the payload as <loader
 * type='rom'> (x86_64, becomes -bios) or <kernel> (aarch64, and the linux
 * payload with <initrd> and <cmdline>), one serial port connecting to the
 * agent's socket, nothing else that could touch RAM (no balloon, no USB).
 * Also the domain's name and its fixed UUID, both derived from the case.
 */
#ifndef MIGTEST_LIBVIRT_DOMAIN_H
#define MIGTEST_LIBVIRT_DOMAIN_H

#include "arch.h"

typedef struct {
    const ArchDesc *arch;
    const char *name;           /* migtest-<run id>-<case> */
    const char *uuid;
    const char *domain_type;    /* "qemu" (TCG) or "kvm" */
    const char *machine;        /* "pc", "virt", or the user's */
    const char *emulator;       /* NULL: the host's default for the arch */
    guint64 mem_bytes;
    const char *image_path;     /* payload on the host, or NULL */
    const char *kernel_path;    /* linux payload on the host, or NULL */
    const char *initrd_path;
    const char *cmdline;
    const char *cpu_model;      /* NULL: the arch's TCG default */
    guint vcpus;                /* <vcpu>; 0: 1 */
    const char *serial_path;    /* the agent's socket on the host */
} LibvirtDomainSpec;

/* The <domain> document for @s; new string. */
char *libvirt_domain_xml(const LibvirtDomainSpec *s);

/* "migtest-<run id>-<arch>-<case path with '-'>", at most 64 bytes (a
 * socket path must fit below it); new string. */
char *libvirt_domain_name(const char *run_id, const char *case_name);

/* A UUID fixed by the case name (the same case always gets the same one,
 * so a leftover of a killed run is recognisable); new string. */
char *libvirt_domain_uuid(const char *case_name);

/* Domains of migtest are named with this prefix (cleanup). */
#define LIBVIRT_DOMAIN_PREFIX "migtest-"

#endif
