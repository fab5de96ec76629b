#!/usr/bin/env python3
"""test-verbose: -v and -vv on a real run, with --json -.

Usage: test-verbose.py MIGTEST RESULTS-DIR

Runs /x86_64/precopy/tcp with -v and then -vv, both with --json -, and
checks that stdout is exactly one JSON report saying the case passed,
that stderr has the phases (boot, first pass, migrate, each status,
verify, selfcheck, teardown) in that order, each line stamped, and that
-vv adds QMP lines in both directions (-v has none).  The phase checker
is also handed a stderr with two phases swapped and one with a phase
missing, to show it catches both.  TAP output.
"""
import json
import re
import subprocess
import sys

CASE = "/x86_64/precopy/tcp"
STAMP = r"^\[\d\d:\d\d:\d\d\.\d{3} \+\d+\.\d{3}s\] " + re.escape(CASE) + ": "
# In order; "migrate: status" must show at least setup .. completed.
PHASES = ["boot: ", "first pass: ", "migrate: precopy over tcp", "migrate: status setup",
          "migrate: status active", "migrate: status completed", "migrate: ended 'completed'",
          "verify: ", "selfcheck: ", "teardown: ", "done: pass"]


def phase_problems(stderr):
    """What is wrong with the phase lines of @stderr (empty: nothing)."""
    lines = [re.sub(STAMP, "", l) for l in stderr.splitlines() if re.match(STAMP, l)]
    pos = 0
    for phase in PHASES:
        found = next((i for i in range(pos, len(lines)) if lines[i].startswith(phase)), None)
        if found is None:
            return ["phase %r missing or out of order; lines: %s" % (phase, lines)]
        pos = found + 1
    return []


def run(migtest, results, verbosity):
    p = subprocess.run([migtest, "run", "--case", CASE, verbosity, "--json", "-",
                        "--results", results], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def stdout_problems(stdout):
    try:
        report = json.loads(stdout)
    except ValueError as e:
        return ["stdout is not one JSON document: %s: %r" % (e, stdout[:300])]
    outcomes = [(c["name"], c["outcome"]) for c in report["cases"]]
    return [] if outcomes == [(CASE, "pass")] else ["cases: %s" % outcomes]


def main():
    migtest, results = sys.argv[1], sys.argv[2]
    checks = []
    rc, out, err = run(migtest, results, "-v")
    checks.append(("-v: exit 0", rc == 0, err[-2000:]))
    checks.append(("-v: stdout is exactly the JSON report", not stdout_problems(out),
                   stdout_problems(out)))
    checks.append(("-v: the phases on stderr, stamped, in order", not phase_problems(err),
                   phase_problems(err)))
    checks.append(("-v: no QMP lines", " qmp src " not in err, ""))

    # The checker itself: a swapped pair and a missing phase are caught.
    lines = err.splitlines()
    verify = [l for l in lines if ": verify: " in l]
    last_selfcheck = max(n for n, l in enumerate(lines) if ": selfcheck: " in l)
    swapped = [l for l in lines[:last_selfcheck + 1] if l not in verify] + verify + \
        lines[last_selfcheck + 1:]
    checks.append(("the checker catches verify after selfcheck",
                   bool(phase_problems("\n".join(swapped))), ""))
    dropped = [l for l in lines if ": teardown: " not in l]
    checks.append(("the checker catches a missing teardown",
                   bool(phase_problems("\n".join(dropped))), ""))

    rc, out, err = run(migtest, results, "-vv")
    checks.append(("-vv: exit 0", rc == 0, err[-2000:]))
    checks.append(("-vv: stdout is exactly the JSON report", not stdout_problems(out),
                   stdout_problems(out)))
    checks.append(("-vv: the phases still in order", not phase_problems(err),
                   phase_problems(err)))
    sent = re.search(STAMP + r"qmp (src|dst) > \{\"execute\"", err, re.M)
    got = re.search(STAMP + r"qmp (src|dst) < \{", err, re.M)
    checks.append(("-vv: QMP lines both ways", bool(sent and got), err[:1500]))

    print("1..%d" % len(checks))
    failed = 0
    for n, (name, ok, detail) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
        if not ok:
            failed = 1
            for l in str(detail).splitlines()[:30]:
                print("# " + l)
    return failed


if __name__ == "__main__":
    sys.exit(main())
