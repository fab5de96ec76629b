/* version.c: migtest --version (see version.h). */
#include "version.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <xxhash.h>
#include "config.h"
#include "migtest-abi.h"
#include "migtest-vcs.h"

void version_print(FILE *out)
{
    fprintf(out, "migtest %s\n", MIGTEST_VERSION);
    fprintf(out, "git: %s\n", MIGTEST_GIT_DESCRIBE);
    fprintf(out, "payload ABI: parameter block version %d\n", MT_PARAM_VERSION);
    fprintf(out, "kernel directory: %s (MIGTEST_KERNEL_DIR overrides)\n",
            MIGTEST_KERNEL_DIR_DEFAULT);
    fprintf(out, "built with: GLib %d.%d.%d (running %u.%u.%u), json-glib %s, "
            "xxHash %d.%d.%d (running %u.%u.%u), %s\n",
            GLIB_MAJOR_VERSION, GLIB_MINOR_VERSION, GLIB_MICRO_VERSION,
            glib_major_version, glib_minor_version, glib_micro_version, JSON_VERSION_S,
            XXH_VERSION_MAJOR, XXH_VERSION_MINOR, XXH_VERSION_RELEASE,
            XXH_versionNumber() / 10000, XXH_versionNumber() / 100 % 100, XXH_versionNumber() % 100,
            MIGTEST_COMPILER);
}
