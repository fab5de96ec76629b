#!/usr/bin/env python3
"""try-migration.py: boot the `linux` payload in two QEMUs and live-migrate
it once, by hand, the way migtest's runner would (docs/linux-guest.md).

  guest/linux/try-migration.py --arch x86_64|aarch64 \
      [--kernel K] [--initramfs CPIO] [--buf MiB] [--hot K] [--mem MiB]

Source and destination RAM are memory-backend-file objects on /dev/shm
(share=on); the destination starts with -S -incoming defer.  Once the
source has completed --passes passes it migrates over a unix socket
(max-bandwidth 10 GiB/s, downtime-limit 500 ms, as the runner uses), then,
with both sides stopped, compares the two RAM files byte for byte, checks
the destination's RAM against the guest's VA->GPA map (MTMAP) and the
pattern, resumes the destination ("cont") and waits for --dst-passes more
MTPASS lines.  Prints the timings, the heartbeat gap across the switchover
and every console line that is not part of the protocol.  Exit status 0
only if everything matched and no kernel error line appeared.
"""
import argparse
import json
import mmap
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

MT_TAIL_MUL = 0x9e3779b97f4a7c15
M64 = (1 << 64) - 1
PAGE = 4096
KERNEL_DIR = os.environ.get("MIGTEST_KERNEL_DIR", "/opt/migtest-kernels")
HERE = os.path.dirname(os.path.abspath(__file__))

ARCH = {
    "x86_64": dict(qemu="qemu-system-x86_64", machine="pc", cpu=None,
                   console="ttyS0", kernel="vmlinux", ram_base=0),
    "aarch64": dict(qemu="qemu-system-aarch64", machine="virt",
                    cpu="max,pauth-impdef=on", console="ttyAMA0",
                    kernel="vmlinuz", ram_base=0x40000000),
}


class Console:
    """Reads one QEMU's -serial stdio, stamps each line on arrival."""

    def __init__(self, name, proc, t0):
        self.name, self.t0, self.lines, self.closed = name, t0, [], False
        self.cv = threading.Condition()
        self.thread = threading.Thread(target=self._run, args=(proc.stdout,), daemon=True)
        self.thread.start()

    def _run(self, f):
        buf = b""
        while True:
            d = os.read(f.fileno(), 65536)
            if not d:
                with self.cv:
                    self.closed = True
                    self.cv.notify_all()
                break
            buf += d
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                s = raw.decode(errors="replace").rstrip("\r")
                with self.cv:
                    self.lines.append((time.monotonic() - self.t0, s))
                    self.cv.notify_all()

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        with self.cv:
            while not pred(self.lines):
                left = end - time.monotonic()
                if left <= 0 or self.closed:
                    for t, s in self.lines[-15:]:
                        print("  %s %.3f %s" % (self.name, t, s))
                    raise TimeoutError("%s: %s waiting for %s" % (
                        self.name, "QEMU exited" if self.closed else "timed out", what))
                self.cv.wait(left)

    def snapshot(self):
        with self.cv:
            return list(self.lines)


def count(lines, prefix):
    return sum(1 for _, s in lines if s.startswith(prefix))


class Qmp:
    def __init__(self, path, timeout=30):
        end = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)
        self.f = self.s.makefile("rw")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError("%s: %s" % (name, r["error"]))


def qemu_argv(a, args, ram_path, qmp_path, incoming, binary):
    append = "console=%s quiet loglevel=4 panic=-1 migtest.mem=%d migtest.hot=%d migtest.hb_ms=%d" % (
        a["console"], args.buf, args.hot, args.hb_ms)
    argv = [binary or a["qemu"], "-machine", "%s,memory-backend=mt-ram" % (args.machine or a["machine"]),
            "-object", "memory-backend-file,id=mt-ram,size=%dM,mem-path=%s,share=on"
            % (args.mem, ram_path),
            "-accel", "tcg", "-m", "%dM" % args.mem]
    if a["cpu"]:
        argv += ["-cpu", a["cpu"]]
    argv += ["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
             "-serial", "stdio", "-qmp", "unix:%s,server=on,wait=off" % qmp_path,
             "-kernel", args.kernel, "-initrd", args.initramfs, "-append", append]
    if incoming:
        argv += ["-S", "-incoming", "defer"]
    return argv


def parse_map(lines):
    """The last complete MTMAP block: list of (va, gpa, pages)."""
    runs, cur = [], None
    for _, s in lines:
        f = s.split()
        if s.startswith("MTMAP "):
            cur = (cur or []) + [(int(f[1], 16), int(f[2], 16), int(f[3]))]
        elif s.startswith("MTMAPEND") and cur is not None:
            runs, cur = cur, None
    return runs


def check_pattern(ram, ram_base, runs, buf_va, hot_va):
    """Every buf/hot page of the stopped destination: head h, tail
    MT_TAIL(h, va); buf heads form one step (g then g-1 in VA order)."""
    bad, heads = [], {}
    for va, gpa, n in runs:
        for i in range(n):
            off = gpa - ram_base + i * PAGE
            h, = struct.unpack_from("<Q", ram, off)
            t, = struct.unpack_from("<Q", ram, off + PAGE - 8)
            v = va + i * PAGE
            if t != (v ^ (h * MT_TAIL_MUL)) & M64:
                bad.append((v, h, t))
            heads[v] = h
    buf = [heads[v] for v in sorted(heads) if v < hot_va]
    hot = [heads[v] for v in sorted(heads) if v >= hot_va]
    steps = sum(1 for x, y in zip(buf, buf[1:]) if x != y)
    ok_buf = steps == 0 or (steps == 1 and buf[0] == buf[-1] + 1)
    return bad, ok_buf, (buf[0], buf[-1]) if buf else None, (min(hot), max(hot)) if hot else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", required=True, choices=sorted(ARCH))
    ap.add_argument("--kernel")
    ap.add_argument("--machine", help="machine type (default pc / virt); e.g. pc-i440fx-7.2 across versions")
    ap.add_argument("--src-qemu", help="QEMU binary for the source (default: the system's)")
    ap.add_argument("--dst-qemu", help="QEMU binary for the destination")
    ap.add_argument("--initramfs")
    ap.add_argument("--mem", type=int, default=512, help="guest RAM, MiB")
    ap.add_argument("--buf", type=int, default=64, help="migtest.mem, MiB")
    ap.add_argument("--hot", type=int, default=16, help="migtest.hot, pages")
    ap.add_argument("--hb-ms", type=int, default=10)
    ap.add_argument("--passes", type=int, default=20, help="source passes before migrating")
    ap.add_argument("--dst-passes", type=int, default=3)
    ap.add_argument("--dst-timeout", type=float, default=60,
                    help="seconds to wait for --dst-passes after cont")
    ap.add_argument("--downtime-ms", type=int, default=500)
    ap.add_argument("--boot-timeout", type=float, default=120)
    ap.add_argument("--keep", action="store_true", help="keep the RAM files")
    ap.add_argument("--poke", action="store_true",
                    help="corrupt one buf word in the stopped destination; expect one MTERR for it")
    ap.add_argument("--show-diff", type=int, default=8, help="differing pages to detail")
    args = ap.parse_args()
    a = ARCH[args.arch]
    args.kernel = args.kernel or os.path.join(KERNEL_DIR, args.arch, a["kernel"])
    args.initramfs = args.initramfs or os.path.join(
        os.getcwd(), "build/guest/linux/initramfs-%s.cpio" % args.arch)
    for p in (args.kernel, args.initramfs):
        if not os.path.exists(p):
            sys.exit("missing %s (scripts/fetch-kernel, meson/ninja)" % p)

    d = tempfile.mkdtemp(prefix="mt-linux-", dir="/dev/shm")
    procs = []
    ok = True
    try:
        t0 = time.monotonic()
        src = subprocess.Popen(qemu_argv(a, args, d + "/src.ram", d + "/src.qmp", False, args.src_qemu),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        dst = subprocess.Popen(qemu_argv(a, args, d + "/dst.ram", d + "/dst.qmp", True, args.dst_qemu),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        procs = [src, dst]
        sc, dc = Console("src", src, t0), Console("dst", dst, t0)
        qs, qd = Qmp(d + "/src.qmp"), Qmp(d + "/dst.qmp")

        sc.wait(lambda l: count(l, "MTHB"), args.boot_timeout, "the first MTHB")
        L = sc.snapshot()
        t_start = next(t for t, s in L if s.startswith("MTSTART"))
        t_hb = next(t for t, s in L if s.startswith("MTHB"))
        print("src: MTSTART at %.2f s, first MTHB at %.2f s" % (t_start, t_hb))
        sc.wait(lambda l: count(l, "MTPASS") >= args.passes, 300, "%d MTPASS" % args.passes)

        qd.cmd("migrate-incoming", uri="unix:%s/mig.sock" % d)
        qs.cmd("migrate-set-parameters", **{"max-bandwidth": 10 << 30,
                                            "downtime-limit": args.downtime_ms})
        t_mig = time.monotonic() - t0
        qs.cmd("migrate", uri="unix:%s/mig.sock" % d)
        while True:
            info = qs.cmd("query-migrate")
            if info.get("status") in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.02)
        t_done = time.monotonic() - t0
        ram = info.get("ram", {})
        print("migration %s in %.2f s: downtime %s ms, %s passes over RAM (dirty-sync-count), "
              "%s bytes transferred" % (info["status"], t_done - t_mig, info.get("downtime"),
                                        ram.get("dirty-sync-count"), ram.get("transferred")))
        if info["status"] != "completed":
            sys.exit("migration did not complete: %s" % info)
        # Wait until the destination has loaded everything and is paused.
        while qd.cmd("query-status")["status"] not in ("paused", "prelaunch"):
            time.sleep(0.02)
        print("states: src %s, dst %s" % (qs.cmd("query-status")["status"],
                                          qd.cmd("query-status")["status"]))

        # Exact compare, both stopped.
        with open(d + "/src.ram", "rb") as fs, open(d + "/dst.ram", "rb") as fd:
            ms = mmap.mmap(fs.fileno(), 0, access=mmap.ACCESS_READ)
            md = mmap.mmap(fd.fileno(), 0, access=mmap.ACCESS_READ)
            diff_pages = []
            if ms[:] != md[:]:
                for off in range(0, len(ms), PAGE):
                    if ms[off:off + PAGE] != md[off:off + PAGE]:
                        diff_pages.append(off)
            for off in diff_pages[:args.show_diff]:
                w = [i for i in range(0, PAGE, 8) if ms[off + i:off + i + 8] != md[off + i:off + i + 8]]
                print("  page 0x%x: %d words differ, first +0x%x src %s dst %s" % (
                    off, len(w), w[0], ms[off + w[0]:off + w[0] + 8].hex(), md[off + w[0]:off + w[0] + 8].hex()))
            print("exact compare of %d MiB: %s" % (
                len(ms) >> 20, "identical" if not diff_pages else
                "%d pages differ, first at offset 0x%x" % (len(diff_pages), diff_pages[0])))
            ok &= not diff_pages
            L = sc.snapshot()
            start = [s for _, s in L if s.startswith("MTSTART")][0].split()
            buf_va = int(start[6].split("=")[1], 16)
            hot_va = int(start[7].split("=")[1], 16)
            runs = parse_map(L)
            if runs:
                bad, ok_buf, brange, hrange = check_pattern(md, a["ram_base"], runs, buf_va, hot_va)
                print("dst RAM vs pattern (MTMAP: %d runs): %d bad pages, buf heads %s (%s), hot heads %s"
                      % (len(runs), len(bad), brange, "one step" if ok_buf else "NOT MONOTONE", hrange))
                ok &= not bad and ok_buf
            ms.close()
            md.close()

        poke = None
        if args.poke and runs:
            # Fault injection: flip a bit of the 100th buf page's head word
            # in the destination's RAM; the guest must report exactly it.
            va, gpa, n = next((v + 99 * PAGE, g + 99 * PAGE, n) for v, g, n in runs if n > 99)
            with open(d + "/dst.ram", "r+b") as f:
                f.seek(gpa - a["ram_base"])
                w, = struct.unpack("<Q", f.read(8))
                f.seek(gpa - a["ram_base"])
                f.write(struct.pack("<Q", w ^ 1))
            poke = (va, gpa)
            print("poked dst: va %016x gpa %016x head %x -> %x" % (va, gpa, w, w ^ 1))
        n_src_hb = count(sc.snapshot(), "MTHB")
        t_cont = time.monotonic() - t0
        qd.cmd("cont")
        try:
            dc.wait(lambda l: count(l, "MTPASS") >= args.dst_passes, args.dst_timeout,
                    "%d MTPASS after cont" % args.dst_passes)
            time.sleep(0.5)
        except TimeoutError as e:
            print(e)
            ok = False
        S, D = sc.snapshot(), dc.snapshot()
        src_hb = [(t, s) for t, s in S if s.startswith("MTHB")]
        dst_hb = [(t, s) for t, s in D if s.startswith("MTHB")] or [(-1, "MTHB - - - -")]
        last, first = src_hb[-1], dst_hb[0]
        if first[1].split()[1] != "%d" % (int(last[1].split()[1]) + 1):
            print("heartbeat sequence did not continue: src last %s, dst first %s"
                  % (last[1], first[1]))
            ok = False
        print("src: %d MTHB, %d MTPASS; last MTHB at %.3f s: %s"
              % (n_src_hb, count(S, "MTPASS"), last[0], last[1]))
        print("dst: cont at %.3f s, first MTHB at %.3f s: %s; %d MTHB, %d MTPASS by %.3f s"
              % (t_cont, first[0], first[1], count(D, "MTHB"), count(D, "MTPASS"),
                 D[-1][0] if D else -1))
        if first[0] >= 0:
            print("heartbeat gap across the switchover: %.0f ms host time (incl. the compare), "
                  "%d ms guest time, seq %s -> %s"
                  % (1000 * (first[0] - last[0]), int(first[1].split()[4]) - int(last[1].split()[4]),
                     last[1].split()[1], first[1].split()[1]))
        gaps = [b - a_ for (a_, _), (b, _) in zip(dst_hb, dst_hb[1:])]
        if gaps:
            print("dst heartbeat interval: avg %.1f ms, max %.1f ms"
                  % (1000 * sum(gaps) / len(gaps), 1000 * max(gaps)))
        errs = [s for _, s in S + D if s.startswith(("MTERR", "MTFATAL", "MTMAPCHG"))
                or (s.startswith("MTPASS ") and s.split()[2] != "0")]
        if poke:
            want = "MTERR %016x " % poke[0]
            hit = [s for s in errs if s.startswith(want) and s.endswith("%016x" % poke[1])]
            print("poke detected: %s" % (hit or "NO"))
            ok &= bool(hit) and len([s for s in errs if s.startswith("MTERR")]) == 1
            errs = [s for s in errs if s not in hit and not s.startswith("MTPASS ")]
        other = [(n, s) for n, L_ in (("src", S), ("dst", D)) for _, s in L_
                 if not s.startswith("MT") and s.strip()]
        # With loglevel=4 the kernel prints only KERN_ERR and worse: any
        # such line is a failure.
        print("MTERR/MTFATAL/MTMAPCHG/bad MTPASS lines: %d" % len(errs))
        for s in errs[:10]:
            print("  " + s)
        print("non-protocol console lines: %d" % len(other))
        for n, s in other[:20]:
            print("  %s: %s" % (n, s))
        ok &= not errs and not other
    finally:
        for p in procs:
            p.kill()
            p.wait()
        if args.keep:
            print("kept", d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    print("RESULT:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
