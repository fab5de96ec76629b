#!/usr/bin/env python3
"""mkcpio.py OUTPUT INIT: write the migtest linux initramfs, an uncompressed
cpio "newc" archive holding /init (the file INIT), /dev/console (char 5:1),
and the empty mount points /dev, /proc, /sys.  Owner root, mtime 0, so the
archive is reproducible and needs neither cpio(1) nor root to build."""
import stat
import sys

def entry(out, ino, name, mode, data=b"", rdev=(0, 0)):
    nameb = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1 if not stat.S_ISDIR(mode) else 2, 0,
              len(data), 0, 0, rdev[0], rdev[1], len(nameb), 0]
    hdr = b"070701" + b"".join(b"%08x" % f for f in fields)
    out += hdr + nameb
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)

def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkcpio.py OUTPUT INIT")
    with open(sys.argv[2], "rb") as f:
        init = f.read()
    out = bytearray()
    entry(out, 1, "dev", stat.S_IFDIR | 0o755)
    entry(out, 2, "dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
    entry(out, 3, "proc", stat.S_IFDIR | 0o555)
    entry(out, 4, "sys", stat.S_IFDIR | 0o555)
    entry(out, 5, "init", stat.S_IFREG | 0o755, init)
    entry(out, 0, "TRAILER!!!", 0)
    out += b"\0" * (-len(out) % 512)
    with open(sys.argv[1], "wb") as f:
        f.write(out)

main()
