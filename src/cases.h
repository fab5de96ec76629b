/*
 * cases.h: the scenario catalogue as data.  A case is an architecture
 * crossed with a row of case_table; its name is hierarchical and stable
 * ("/x86_64/precopy/tcp") and is what --case filters on, what the JSON and
 * JUnit reports carry, and what the case's log directory is called.
 */
#ifndef MIGTEST_CASES_H
#define MIGTEST_CASES_H

#include "arch.h"
#include "migrate.h"

typedef struct {
    const char *name;               /* below the arch: "precopy/tcp" */
    const char *only_arch;          /* NULL: every architecture */
    Transport transport;
    const char *const *capabilities;
    gboolean smoke;                 /* part of the default run */
} CaseDesc;

typedef struct {
    const ArchDesc *arch;
    const CaseDesc *desc;
    char *name;                     /* "/<arch>/<desc->name>" */
} CaseInstance;

/* Every case instance for the architectures in @archs (NULL-terminated),
 * filtered by shell-style @glob (NULL: smoke cases only).  Free with
 * g_ptr_array_unref. */
GPtrArray *cases_select(const ArchDesc *const *archs, const char *glob);

#endif
