#!/usr/bin/env python3
"""test-man-options: the man page and --help name the same options.

Usage: test-man-options.py MIGTEST MAN.scd SRC-DIR

Every option `migtest --help-all` prints must appear in the man page as a
bold *--option* (or *-x*), and every bold option of the man page must be
one migtest accepts.  The comparison is run once on the real texts and
then on texts with a fault put in (an option dropped from the man page,
an option the binary lacks added to it), to show both directions catch
what they exist to catch.  Likewise every environment variable the
sources read (g_getenv("MIGTEST_...") in SRC-DIR/*.c) must be in the man
page's ENVIRONMENT section.  TAP output.
"""
import glob
import os
import re
import subprocess
import sys


def help_options(text):
    """Options in GOption's --help layout: '  -j, --jobs=N   text'."""
    found = set()
    for line in text.splitlines():
        m = re.match(r"^\s+((?:-\w, )?--[\w-]+)", line)
        if m:
            for opt in m.group(1).split(", "):
                found.add(opt)
    return found


def man_options(text):
    """Bold options of scdoc: *--case*, *-j*."""
    return set(re.findall(r"\*(--?[a-zA-Z][\w-]*)\*", text))


def source_env_vars(src_dir):
    """MIGTEST_* variables the C sources read."""
    found = set()
    for path in glob.glob(os.path.join(src_dir, "*.c")):
        found |= set(re.findall(r'g_getenv\("(MIGTEST_\w+)"\)', open(path).read()))
    return found


def man_env_vars(text):
    """Bold variable names of the ENVIRONMENT section."""
    m = re.search(r"^# ENVIRONMENT$(.*?)^# ", text, re.M | re.S)
    return set(re.findall(r"\*(MIGTEST_\w+)\*", m.group(1) if m else ""))


def compare(help_opts, man_opts):
    """(options --help has that the man page lacks, the reverse)."""
    return sorted(help_opts - man_opts), sorted(man_opts - help_opts)


def main():
    migtest, man_path, src_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    out = subprocess.run([migtest, "--help-all"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    man = open(man_path, encoding="utf-8").read()
    help_opts, man_opts = help_options(out), man_options(man)
    results = []

    results.append(("--help lists options", len(help_opts) >= 10, sorted(help_opts)))
    undocumented, unknown = compare(help_opts, man_opts)
    results.append(("every --help option is in the man page", not undocumented, undocumented))
    results.append(("every man page option exists in --help", not unknown, unknown))

    # Fault: the man page loses --keep; the check must name it.
    dropped = man.replace("*--keep*", "keep")
    missing, _ = compare(help_opts, man_options(dropped))
    results.append(("a dropped man entry is caught", missing == ["--keep"], missing))
    # Fault: the man page documents an option migtest does not have.
    extra = man + "\n*--no-such-option*\n\tNothing.\n"
    _, bogus = compare(help_opts, man_options(extra))
    results.append(("an option migtest lacks is caught", bogus == ["--no-such-option"], bogus))

    env = source_env_vars(src_dir)
    results.append(("the sources read MIGTEST_* variables", len(env) >= 2, sorted(env)))
    undocumented = sorted(env - man_env_vars(man))
    results.append(("every MIGTEST_* variable read is in ENVIRONMENT", not undocumented,
                    undocumented))
    # Fault: the ENVIRONMENT section loses MIGTEST_RUN_BASE.
    dropped = man.replace("*MIGTEST_RUN_BASE*", "MIGTEST_RUN_BASE")
    missing = sorted(env - man_env_vars(dropped))
    results.append(("a dropped variable is caught", missing == ["MIGTEST_RUN_BASE"], missing))

    print("1..%d" % len(results))
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        if not ok:
            failed += 1
            print("# %s" % detail)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
