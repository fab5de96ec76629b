/*
 * fuzz-common.h: set-up shared by the fuzz targets' LLVMFuzzerInitialize.
 */
#ifndef MIGTEST_FUZZ_COMMON_H
#define MIGTEST_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib.h>

static inline void fuzz_glib_init(char ***argv)
{
    /* GLib 2.74 serves g_slice allocations (JsonNode, JsonObject, GArray,
     * hash tables...) from its own magazines, where LeakSanitizer cannot
     * see a leaked one.  G_SLICE=always-malloc makes them plain mallocs,
     * but GLib reads it at its first allocation, before any of our code
     * runs: start again with it set.  scripts/fuzz sets it already. */
    if (!g_getenv("G_SLICE")) {
        g_setenv("G_SLICE", "always-malloc", TRUE);
        execv("/proc/self/exe", *argv);
        fprintf(stderr, "fuzz: cannot re-exec with G_SLICE set; leaks of "
                "g_slice memory will go unseen\n");
    }
    /* A g_critical (a g_return_if_fail in GLib or json-glib: a wrong-typed
     * JSON member, a NULL where none may be) or a g_warning is a bug: make
     * it abort, which libFuzzer reports as a crash. */
    g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL |
                           G_LOG_LEVEL_WARNING);
}

#endif
