#!/usr/bin/env python3
"""test-man-options: the man page and --help name the same options.

Usage: test-man-options.py MIGTEST MAN.scd

Every option `migtest --help-all` prints must appear in the man page as a
bold *--option* (or *-x*), and every bold option of the man page must be
one migtest accepts.  The comparison is run once on the real texts and
then on texts with a fault put in (an option dropped from the man page,
an option the binary lacks added to it), to show both directions catch
what they exist to catch.  TAP output.
"""
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


def compare(help_opts, man_opts):
    """(options --help has that the man page lacks, the reverse)."""
    return sorted(help_opts - man_opts), sorted(man_opts - help_opts)


def main():
    migtest, man_path = sys.argv[1], sys.argv[2]
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
