/*
 * version.h: what this migtest is, for migtest --version: its version,
 * the git describe of the tree it was built from (Meson's vcs_tag), the
 * payload ABI (guest/migtest-abi.h), the paths it was configured with,
 * and the library versions it was built with.  Compiled into the CLI
 * only, so a new commit relinks one binary, not every test.
 */
#ifndef MIGTEST_VERSION_H
#define MIGTEST_VERSION_H

#include <stdio.h>

void version_print(FILE *out);

#endif
