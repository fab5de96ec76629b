/*
 * case-info.h: a catalogue case in words, for people (migtest list
 * --long) and programs (migtest list --json FILE).  Everything is derived
 * from the case's CaseDesc row in cases.c (transport, capabilities,
 * parameters, fault, expect, verify, observe, only_accel, min_version...)
 * plus the row's one-line summary field: there is no second list of
 * cases to keep in step with the table.
 */
#ifndef MIGTEST_CASE_INFO_H
#define MIGTEST_CASE_INFO_H

#include <stdio.h>
#include "cases.h"

typedef struct {
    const char *summary;        /* the row's summary */
    GPtrArray *exercises;       /* char *: what the run sets up and does */
    GPtrArray *asserts;         /* char *: what must hold for a pass */
    GPtrArray *accels;          /* char *: accelerators that can run it */
    GPtrArray *backends;        /* char *: VM backends that can run it */
    char *min_qemu;             /* "8.2.0", or NULL: any version */
    GPtrArray *qemu_needs;      /* char *: what both QEMUs must offer (probed) */
} CaseInfo;

/* Describe @c.  Free with case_info_free (NULL-safe). */
CaseInfo *case_info_new(const CaseInstance *c);
void case_info_free(CaseInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CaseInfo, case_info_free)

/* migtest list --long: a paragraph per case of @cases (CaseInstance). */
void case_info_print_long(FILE *out, GPtrArray *cases);

/* migtest list --json: {"cases": [{name, arch, smoke, summary, exercises,
 * asserts, accelerators, backends, qemu: {min_version, needs}}...]} as
 * pretty-printed text; the caller frees it. */
char *case_info_json_dup(GPtrArray *cases);

#endif
