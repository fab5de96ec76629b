#!/usr/bin/env python3
"""Per-pass cost of the linux payload's options (docs/linux-guest.md).

Boots the stock kernel with our initramfs (no migration), once per
configuration and run, configurations alternating so that host load
falls on all of them alike; from the heartbeats (MTHB: the guest's own
clock and the generation being written, so the serial line's buffering
on a loaded host does not matter) it takes, per worker, the guest time
per pass between the first and the last heartbeat after --skip seconds
of warm-up, and reports per configuration the median over runs.  Prints one table row per configuration:
median (min-max) over the runs, in ms.

    guest/linux/pass-cost.py --arch x86_64 --runs 3
    guest/linux/pass-cost.py --arch aarch64 --qemu /opt/migtest-qemu/bookworm-backports/bin/qemu-system-aarch64
"""
import argparse
import os
import selectors
import signal
import statistics
import subprocess
import sys
import time

BASE = "quiet loglevel=4 panic=-1 no_timer_check migtest.mem=64 migtest.hot=16 migtest.hb_ms=200"
CONFIGS = [
    ("baseline", "", 1),
    ("zero runs E=2 R=1024 alternate", "migtest.zero_every=2 migtest.zero_pages=1024 migtest.zero_method=2", 1),
    ("zero runs E=2 R=1024 madvise", "migtest.zero_every=2 migtest.zero_pages=1024 migtest.zero_method=1", 1),
    ("zero runs E=2 R=1024 stores", "migtest.zero_every=2 migtest.zero_pages=1024 migtest.zero_method=0", 1),
    ("atomic hot set (16 pages)", "migtest.hot_op=1", 1),
    ("baseline, -smp 2", "", 2),
    ("2 workers, -smp 2", "migtest.workers=2", 2),
]
ARCH = {
    "x86_64": dict(console="ttyS0", args=["-M", "pc"]),
    "aarch64": dict(console="ttyAMA0", args=["-M", "virt", "-cpu", "max,pauth-impdef=on"]),
}


def one_run(a, qemu, accel, extra, smp, seconds, skip, kernel_dir, initrd):
    spec = ARCH[a]
    cmd = [qemu, *spec["args"], "-accel", accel, "-smp", str(smp), "-m", "512M",
           "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
           "-serial", "stdio", "-kernel", os.path.join(kernel_dir, a, "kernel"),
           "-initrd", initrd, "-append", "console=%s %s %s" % (spec["console"], BASE, extra)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    beats = {}              # worker -> [(guest ms, gen)]
    other = []
    start = None
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if start and time.monotonic() > start + skip + seconds:
                break
            if not sel.select(timeout=1):
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            now = time.monotonic()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                s = raw.decode(errors="replace").rstrip("\r")
                f = s.split()
                if s.startswith("MTHB ") and len(f) >= 5:
                    start = start or now
                    if now >= start + skip:
                        beats.setdefault(int(f[5]) if len(f) > 5 else 0, []).append(
                            (int(f[4]), int(f[2])))
                elif s.startswith("MTPASS ") and f[2] != "0":
                    other.append(s)
                elif s and not s.startswith(("MTPASS", "MTSTART", "MTMAP")):
                    other.append(s)
    finally:
        p.terminate()
        p.wait(10)
    if other:
        print("  unexpected: %s" % other[:3], file=sys.stderr)
    return {w: (t[-1][0] - t[0][0]) / (t[-1][1] - t[0][1])
            for w, t in beats.items() if len(t) > 2 and t[-1][1] > t[0][1]}


def main():
    # SIGTERM: leave through the finally that stops QEMU.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="x86_64", choices=ARCH)
    ap.add_argument("--qemu")
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--skip", type=float, default=2)
    ap.add_argument("--only", help="substring of the configurations to run")
    ap.add_argument("--kernel-dir", default=os.environ.get("MIGTEST_KERNEL_DIR", "/opt/migtest-kernels"))
    ap.add_argument("--initrd", help="default: build/guest/linux/initramfs-<arch>.cpio")
    a = ap.parse_args()
    qemu = a.qemu or "qemu-system-" + a.arch
    initrd = a.initrd or "build/guest/linux/initramfs-%s.cpio" % a.arch
    configs = [c for c in CONFIGS if not a.only or a.only in c[0]]
    res = {c[0]: {} for c in configs}
    for r in range(a.runs):
        for name, extra, smp in configs:
            got = one_run(a.arch, qemu, a.accel, extra, smp, a.seconds, a.skip, a.kernel_dir, initrd)
            print("run %d %-32s %s" % (r + 1, name, " ".join("w%d=%.2f" % kv for kv in sorted(got.items()))),
                  file=sys.stderr)
            for w, ms in got.items():
                res[name].setdefault(w, []).append(ms)
    print("| option | accel | worker | ms per pass, median (min-max) of %d runs |" % a.runs)
    for name, _, _ in configs:
        for w, v in sorted(res[name].items()):
            print("| %s | %s %s | %d | %.2f (%.2f-%.2f) |" % (name, a.arch, a.accel.upper(), w,
                                                            statistics.median(v), min(v), max(v)))


if __name__ == "__main__":
    main()
