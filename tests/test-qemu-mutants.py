#!/usr/bin/env python3
"""Unit tests of scripts/qemu-mutants' own logic, without QEMU: a tiny fake
source tree with a fake configure, a fake ninja that "compiles" the tree's
state into fake binaries, a fake migtest and a fake migration-test that
fail when the planted state says their oracle would see the bug.  Run in
the unit suite; the real campaign is run by hand (docs/oracle-strength.md).
"""

import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "scripts", "qemu-mutants")


def load_script():
    loader = importlib.machinery.SourceFileLoader("qemu_mutants", SCRIPT)
    spec = importlib.util.spec_from_loader("qemu_mutants", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


qm = load_script()

RAM_C = textwrap.dedent("""\
    /* fake migration/ram.c */
    baseline_fixed = 0
    migtest_sees = 0
    qtest_sees = 0
    racy = 0
    compiles = 1
    comment = "an unused string"
    """)

CONFIGURE = """#!/bin/sh
echo "src=$(dirname "$0")" > build.ninja
"""

# ninja -C BDIR -jN targets: "compiles" the source's ram.c into BDIR.
NINJA = r"""#!/usr/bin/env python3
import os, sys
bdir = sys.argv[sys.argv.index("-C") + 1]
src = open(os.path.join(bdir, "build.ninja")).read().split("=", 1)[1].strip()
state = open(os.path.join(src, "migration", "ram.c")).read()
with open(os.path.join(bdir, "ninja.count"), "a") as f:
    f.write("x\n")
if "compiles = 0" in state:
    print("ram.c:3: error: planted build error")
    sys.exit(1)
for t in sys.argv[1:]:
    if t.startswith("qemu-system-") or t.startswith("tests/"):
        path = os.path.join(bdir, t)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path + ".state", "w").write(state)
        if t.startswith("tests/"):
            os.symlink(os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "fake-qtest"), path) \
                if not os.path.exists(path) else None
        else:
            open(path, "w").write("#!/bin/sh\nexit 0\n")
            os.chmod(path, 0o755)
"""

QTEST = r"""#!/usr/bin/env python3
import os, sys
state = open(os.environ["QTEST_QEMU_BINARY"] + ".state").read()
if "-l" in sys.argv:
    print("/x86_64/migration/precopy/unix/plain\n/x86_64/migration/postcopy/plain\n/x86_64/migration/tls/psk")
    sys.exit(0)
path = sys.argv[sys.argv.index("-p") + 1]
bad = "qtest_sees = 1" in state or "baseline_fixed = 0" in state
print("TAP version 13\n%s 1 %s" % ("not ok" if bad else "ok", path))
sys.exit(1 if bad else 0)
"""

# migtest list|run: fails the rows when the state says migtest sees the bug.
MIGTEST = r"""#!/usr/bin/env python3
import fnmatch, json, os, sys
ROWS = ["/x86_64/precopy/tcp", "/x86_64/precopy/tcp/hot", "/aarch64/precopy/tcp"]
argv = sys.argv[1:]
opt = lambda name: argv[argv.index(name) + 1]
rows = [r for r in ROWS if fnmatch.fnmatchcase(r, opt("--case")) and r.startswith("/" + opt("--arch") + "/")]
if argv[0] == "list":
    print("\n".join(rows))
    sys.exit(0)
with open(os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "migtest.count"), "a") as f:
    f.write("run\n")
state = open(opt("--src-qemu") + ".state").read()
cases = []
for r in rows:
    for i in range(int(opt("--repeat"))):
        bad = "migtest_sees = 1" in state or "baseline_fixed = 0" in state or ("racy = 1" in state and i == 1)
        cases.append({"name": r, "outcome": "fail" if bad else "pass",
                      "reason": "exact: 64 of 38400 pages differ; first at gpa 0x100000" if bad else None})
json.dump({"cases": cases}, open(opt("--json"), "w"))
sys.exit(1 if any(c["outcome"] == "fail" for c in cases) else 0)
"""


def mutant(name, old, new, extra="", directory=None):
    header = (f"Mutant: {name} changes {old!r}\nFile: migration/ram.c\nFunction: fake_{name}\n"
              f"Area: ram-save\n{extra}---\n")
    diff = textwrap.dedent(f"""\
        --- a/migration/ram.c
        +++ b/migration/ram.c
        @@ -1,7 +1,7 @@
        """)
    body = ""
    for line in RAM_C.splitlines():
        if line == old:
            body += f"-{old}\n+{new}\n"
        else:
            body += f" {line}\n"
    return header + diff + body


class Fixture:
    def __init__(self, test):
        self.dir = tempfile.mkdtemp(prefix="qm-test-")
        test.addCleanup(shutil.rmtree, self.dir)
        self.src = os.path.join(self.dir, "src")
        self.tools = os.path.join(self.dir, "tools")
        self.mutants = os.path.join(self.dir, "mutants")
        for d in (os.path.join(self.src, "migration"), self.tools, os.path.join(self.mutants, "baseline")):
            os.makedirs(d)
        self.write(os.path.join(self.src, "migration", "ram.c"), RAM_C)
        self.write(os.path.join(self.src, "configure"), CONFIGURE, exe=True)
        for name, text in (("ninja", NINJA), ("fake-qtest", QTEST), ("migtest", MIGTEST)):
            self.write(os.path.join(self.tools, name), text, exe=True)
        self.baseline = os.path.join(self.mutants, "baseline", "fix.patch")
        self.write(self.baseline, mutant("fix", "baseline_fixed = 0", "baseline_fixed = 1")
                   .replace("Mutant:", "Baseline:"))
        self.json = os.path.join(self.dir, "out.json")

    @staticmethod
    def write(path, text, exe=False):
        with open(path, "w") as f:
            f.write(text)
        if exe:
            os.chmod(path, 0o755)

    def add_mutant(self, name, old, new, extra=""):
        self.write(os.path.join(self.mutants, name + ".patch"),
                   mutant(name, old, new, extra).replace(" baseline_fixed = 0\n", " baseline_fixed = 1\n"))

    def argv(self, *extra, baseline=True, repeat=2):
        a = ["--source", self.src, "--mutants", self.mutants, "--cases", "*/precopy/tcp*",
             "--repeat", str(repeat), "--json", self.json, "--no-setup",
             "--ninja", os.path.join(self.tools, "ninja"), "--migtest", os.path.join(self.tools, "migtest"),
             "--qtest", "*/precopy/*", "--qtest", "*/postcopy/*"]
        if baseline:
            a += ["--baseline", self.baseline]
        return a + list(extra)

    def run(self, *extra, **kw):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = qm.main(self.argv(*extra, **kw))
        return rc, err.getvalue()

    def ram_c(self):
        with open(os.path.join(self.src, "migration", "ram.c")) as f:
            return f.read()

    def result(self):
        with open(self.json) as f:
            return json.load(f)

    def count(self, name):
        path = os.path.join(self.tools, name)
        if not os.path.exists(path):
            return 0
        with open(path) as f:
            return len(f.read().splitlines())


def standard_mutants(fx):
    fx.add_mutant("m1-both", "migtest_sees = 0", "migtest_sees = 1")
    # m1 also flips qtest_sees: a second hunk line
    path = os.path.join(fx.mutants, "m1-both.patch")
    with open(path) as f:
        text = f.read().replace(" qtest_sees = 0\n", "-qtest_sees = 0\n+qtest_sees = 1\n")
    fx.write(path, text)
    fx.add_mutant("m2-migtest-only", "migtest_sees = 0", "migtest_sees = 1")
    fx.add_mutant("m3-survivor", 'comment = "an unused string"', 'comment = "another string"')
    fx.add_mutant("m4-equivalent", 'comment = "an unused string"', 'comment = "an unused string!"',
                  extra="Equivalent: the string is never read\n")
    fx.add_mutant("m5-stillborn", "compiles = 1", "compiles = 0")
    fx.add_mutant("m6-racy", "racy = 0", "racy = 1")
    fx.write(os.path.join(fx.mutants, "m7-conflict.patch"),
             "Mutant: does not apply\nFile: migration/ram.c\nFunction: none\n---\n"
             "--- a/migration/ram.c\n+++ b/migration/ram.c\n@@ -1,1 +1,1 @@\n-no such line\n+x\n")


class PatchFiles(unittest.TestCase):
    def test_header_fields_and_continuation(self):
        fx = Fixture(self)
        fx.add_mutant("m4-equivalent", "racy = 0", "racy = 1",
                      extra="Equivalent: the value\n is never read\n")
        m = qm.parse_patch(os.path.join(fx.mutants, "m4-equivalent.patch"))
        self.assertEqual(m["name"], "m4-equivalent")
        self.assertEqual(m["file"], "migration/ram.c")
        self.assertEqual(m["function"], "fake_m4-equivalent")
        self.assertEqual(m["equivalent"], "the value is never read")

    def test_discovery_sorted_and_skips_baseline_dir(self):
        fx = Fixture(self)
        standard_mutants(fx)
        names = [m["name"] for m in qm.discover_mutants(fx.mutants)]
        self.assertEqual(names, ["m1-both", "m2-migtest-only", "m3-survivor", "m4-equivalent",
                                 "m5-stillborn", "m6-racy", "m7-conflict"])

    def test_header_missing_function_is_usage_error(self):
        fx = Fixture(self)
        fx.write(os.path.join(fx.mutants, "bad.patch"), "Mutant: x\nFile: y\n---\n")
        with self.assertRaisesRegex(qm.UsageError, "Function:"):
            qm.discover_mutants(fx.mutants)

    def test_apply_revert_restores_tree(self):
        fx = Fixture(self)
        before = fx.ram_c()
        self.assertEqual(qm.patch_state(fx.src, fx.baseline), "unapplied")
        qm.apply_patch(fx.src, fx.baseline)
        self.assertIn("baseline_fixed = 1", fx.ram_c())
        self.assertEqual(qm.patch_state(fx.src, fx.baseline), "applied")
        qm.revert_patch(fx.src, fx.baseline)
        self.assertEqual(fx.ram_c(), before)
        self.assertEqual(os.listdir(os.path.join(fx.src, "migration")), ["ram.c"])  # no .orig/.rej

    def test_baseline_applied_once(self):
        fx = Fixture(self)
        qm.ensure_baselines(fx.src, [fx.baseline])
        qm.ensure_baselines(fx.src, [fx.baseline])
        self.assertEqual(fx.ram_c().count("baseline_fixed = 1"), 1)


class Campaign(unittest.TestCase):
    def test_kill_matrix(self):
        fx = Fixture(self)
        standard_mutants(fx)
        rc, err = fx.run()
        self.assertEqual(rc, 0, err)
        r = fx.result()
        self.assertTrue(r["baseline"]["clean"])
        self.assertEqual(r["plan"]["x86_64"]["rows"], ["/x86_64/precopy/tcp", "/x86_64/precopy/tcp/hot"])
        self.assertEqual(r["plan"]["x86_64"]["qtest"],
                         ["/x86_64/migration/precopy/unix/plain", "/x86_64/migration/postcopy/plain"])
        m = r["mutants"]
        v = {n: (qm.verdict(e, "migtest"), qm.verdict(e, "qtest")) for n, e in m.items()}
        self.assertEqual(v["m1-both"], ("killed", "killed"))
        self.assertEqual(v["m2-migtest-only"], ("killed", "survived"))
        self.assertEqual(v["m3-survivor"], ("survived", "survived"))
        self.assertEqual(v["m4-equivalent"], (None, None))
        self.assertEqual(m["m5-stillborn"]["status"], "build-failed")
        self.assertEqual(m["m7-conflict"]["status"], "apply-failed")
        self.assertEqual(v["m6-racy"], ("killed", "survived"))
        row = m["m2-migtest-only"]["arches"]["x86_64"]["migtest"]["rows"]["/x86_64/precopy/tcp/hot"]
        self.assertEqual((row["runs"], row["fail"], row["verifiers"]), (2, 2, ["exact"]))
        self.assertEqual(r["score"]["migtest"], {"killed": 3, "scored": 4, "percent": 75.0})
        self.assertEqual(r["score"]["qtest"], {"killed": 1, "scored": 4, "percent": 25.0})
        self.assertEqual(r["score"]["equivalent"], 1)
        self.assertEqual(r["score"]["stillborn"], 2)
        # Every mutant reverted: the tree is the baseline, and no marker is left.
        self.assertEqual(fx.ram_c(), RAM_C.replace("baseline_fixed = 0", "baseline_fixed = 1"))
        self.assertFalse(os.path.exists(fx.json + ".applied"))

    def test_first_kill_stops_each_oracle(self):
        fx = Fixture(self)
        fx.add_mutant("m1-both", "migtest_sees = 0", "migtest_sees = 1")
        path = os.path.join(fx.mutants, "m1-both.patch")
        with open(path) as f:
            text = f.read().replace(" qtest_sees = 0\n", "-qtest_sees = 0\n+qtest_sees = 1\n")
        fx.write(path, text)
        argv = [a if a != "*/precopy/tcp*" else "*/precopy/tcp/hot" for a in fx.argv()]
        argv += ["--cases", "*/precopy/tcp", "--first-kill"]
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(qm.main(argv), 0)
        a = fx.result()["mutants"]["m1-both"]["arches"]["x86_64"]
        self.assertEqual(list(a["migtest"]["rows"]), ["/x86_64/precopy/tcp/hot"])
        self.assertEqual(a["qtest"]["paths"], {"/x86_64/migration/precopy/unix/plain": "fail"})
        self.assertTrue(a["migtest"]["killed"] and a["qtest"]["killed"])

    def test_racy_mutant_needs_repeat(self):
        fx = Fixture(self)
        fx.add_mutant("m6-racy", "racy = 0", "racy = 1")
        rc, err = fx.run(repeat=1)
        self.assertEqual(rc, 0, err)
        self.assertEqual(qm.verdict(fx.result()["mutants"]["m6-racy"], "migtest"), "survived")

    def test_resume_skips_mutants_already_in_out(self):
        fx = Fixture(self)
        standard_mutants(fx)
        self.assertEqual(fx.run()[0], 0)
        runs = fx.count("migtest.count")
        fx.add_mutant("m8-new", "migtest_sees = 0", "migtest_sees = 1")
        self.assertEqual(fx.run()[0], 0)
        # Only the new mutant's two rows run: the baseline and the others are kept.
        self.assertEqual(fx.count("migtest.count") - runs, 1)
        self.assertEqual(qm.verdict(fx.result()["mutants"]["m8-new"], "migtest"), "killed")
        self.assertIn("m1-both", fx.result()["mutants"])

    def test_only_runs_in_glob_order(self):
        fx = Fixture(self)
        standard_mutants(fx)
        rc, err = fx.run("--only", "m6-*", "--only", "m2-*", "--only", "m*-racy")
        self.assertEqual(rc, 0, err)
        self.assertEqual(list(fx.result()["mutants"]), ["m2-migtest-only", "m6-racy"])   # sorted keys
        order = [line.split("] ")[1].split(":")[0] for line in err.splitlines() if "] m" in line]
        self.assertEqual(order, ["m6-racy", "m2-migtest-only"])

    def test_arch_header_limits_a_mutant_to_its_arches(self):
        fx = Fixture(self)
        fx.add_mutant("m1-x86", "migtest_sees = 0", "migtest_sees = 1")
        fx.add_mutant("m2-arm-device", "migtest_sees = 0", "migtest_sees = 1", extra="Arch: aarch64\n")
        fx.add_mutant("m3-both", "migtest_sees = 0", "migtest_sees = 1", extra="Arch: x86_64, aarch64\n")
        rc, err = fx.run("--arch", "x86_64")
        self.assertEqual(rc, 0, err)
        # Neither run nor scored on x86_64: a survivor there would be a free one.
        self.assertEqual(sorted(fx.result()["mutants"]), ["m1-x86", "m3-both"])
        self.assertNotIn("m2-arm-device", err)
        self.assertTrue(qm.mutant_applies_to({"arch": "aarch64"}, "aarch64"))
        self.assertFalse(qm.mutant_applies_to({"arch": "aarch64"}, "x86_64"))
        self.assertTrue(qm.mutant_applies_to({}, "x86_64"))

    def test_rerun_replaces_one_entry(self):
        fx = Fixture(self)
        standard_mutants(fx)
        self.assertEqual(fx.run()[0], 0)
        runs = fx.count("migtest.count")
        self.assertEqual(fx.run("--rerun", "m2-*")[0], 0)
        self.assertEqual(fx.count("migtest.count") - runs, 1)
        self.assertEqual(qm.verdict(fx.result()["mutants"]["m2-migtest-only"], "migtest"), "killed")

    def test_interrupted_run_is_repaired(self):
        fx = Fixture(self)
        fx.add_mutant("m2-migtest-only", "migtest_sees = 0", "migtest_sees = 1")
        qm.apply_patch(fx.src, fx.baseline)
        path = os.path.join(fx.mutants, "m2-migtest-only.patch")
        qm.apply_patch(fx.src, path)          # as if killed mid-mutant
        qm.AppliedMarker(fx.json).set(path)
        rc, err = fx.run()
        self.assertEqual(rc, 0, err)
        self.assertIn("left applied by an interrupted run", err)
        self.assertEqual(qm.verdict(fx.result()["mutants"]["m2-migtest-only"], "migtest"), "killed")
        self.assertNotIn("migtest_sees = 1", fx.ram_c())

    def test_dirty_baseline_stops_before_mutants(self):
        fx = Fixture(self)
        standard_mutants(fx)
        rc, err = fx.run(baseline=False)
        self.assertEqual(rc, 1)
        self.assertIn("baseline is not clean", err)
        r = fx.result()
        self.assertFalse(r["baseline"]["clean"])
        self.assertEqual(r["mutants"], {})

    def test_matrix_markdown(self):
        fx = Fixture(self)
        standard_mutants(fx)
        self.assertEqual(fx.run()[0], 0)
        md = qm.matrix_markdown(fx.result())
        self.assertIn("| m2-migtest-only | ram-save | migration/ram.c: fake_m2-migtest-only | **killed** "
                      "| /x86_64/precopy/tcp 2/2 (exact); /x86_64/precopy/tcp/hot 2/2 (exact) | survived |  |", md)
        self.assertIn("- migtest: 3 of 4 scored mutants killed (75.0%)", md)
        self.assertIn("| m4-equivalent | ram-save | migration/ram.c: fake_m4-equivalent | equivalent |", md)

    def test_overlay_merges_a_catches_run(self):
        def entry(rows_killed, qtest_paths):
            rows = {"/x86_64/r": {"runs": 2, "pass": 2 - rows_killed, "fail": rows_killed, "skip": 0,
                                  "error": 0, "reasons": [], "verifiers": ["exact"] if rows_killed else []}}
            return {"status": "run", "mutant": "m", "file": "f", "function": "g",
                    "arches": {"x86_64": {"migtest": {"rows": rows, "killed": bool(rows_killed), "tool_error": None},
                                          "qtest": {"paths": qtest_paths, "killed": "fail" in qtest_paths.values()}}}}
        campaign = {"mutants": {"a": entry(0, {"/p": "pass"}), "b": entry(0, {"/p": "fail"}),
                                "c": entry(0, {"/p": "pass"})}}
        # the catches ran migtest only (--qtest none: no paths)
        catches = {"mutants": {"a": entry(1, {}), "c": entry(0, {})}}
        merged = qm.merge_results([campaign, catches])
        self.assertEqual(qm.verdict(merged["mutants"]["a"], "migtest"), "killed")
        self.assertEqual(qm.verdict(merged["mutants"]["a"], "qtest"), "survived")     # the campaign's
        self.assertEqual(qm.verdict(merged["mutants"]["b"], "qtest"), "killed")
        self.assertEqual(qm.verdict(merged["mutants"]["c"], "migtest"), "survived")
        self.assertEqual(merged["mutants"]["c"]["arches"]["x86_64"]["migtest"]["rows"]["/x86_64/r"]["runs"], 4)
        self.assertEqual(qm.score(merged)["migtest"], {"killed": 1, "scored": 3, "percent": 33.3})
        # a mutant only the catches ran, qtest never: not scored for qtest
        only = qm.merge_results([{"mutants": {}}, catches])
        self.assertIsNone(qm.verdict(only["mutants"]["a"], "qtest"))


class Usage(unittest.TestCase):
    def run_main(self, argv):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = qm.main(argv)
        return rc, err.getvalue()

    def test_missing_source(self):
        rc, err = self.run_main(["--mutants", "m", "--json", "o.json", "--cases", "x"])
        self.assertEqual(rc, 2)
        self.assertEqual(err, "qemu-mutants: error: --source is required; see scripts/qemu-mutants --help\n")

    def test_missing_baseline_file(self):
        fx = Fixture(self)
        rc, err = self.run_main(fx.argv("--baseline", "/nonexistent.patch"))
        self.assertEqual(rc, 2)
        self.assertIn("--baseline /nonexistent.patch: no such patch file", err)

    def test_source_not_a_qemu_tree(self):
        fx = Fixture(self)
        os.unlink(os.path.join(fx.src, "configure"))
        fx.add_mutant("m2", "migtest_sees = 0", "migtest_sees = 1")
        rc, err = fx.run()
        self.assertEqual(rc, 2)
        self.assertIn("is not a QEMU source tree", err)

    def test_private_apt_config_leaves_system_sources_alone(self):
        sources, options = qm.private_apt_config("/tmp/x.apt")
        self.assertTrue(all(line.startswith("deb-src ") for line in sources.splitlines()))
        joined = " ".join(options)
        self.assertIn("Dir::Etc::sourcelist=/tmp/x.apt/sources.list", joined)
        self.assertIn("Dir::Etc::sourceparts=-", joined)
        self.assertIn("Dir::State::Lists=/tmp/x.apt/lists", joined)
        self.assertNotIn("/etc/apt", joined)


if __name__ == "__main__":
    unittest.main(verbosity=2)
