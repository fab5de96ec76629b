#!/usr/bin/env python3
"""fake-qemu.py: a stand-in for qemu-system-* in migtest's reliability tests.

It answers "-machine help" like a real binary, connects to migtest's serial
socket and prints 'A' and 'B', greets on QMP and accepts qmp_capabilities,
and then goes silent: every later QMP command waits forever, until migtest
gives up and stops this process.

FAKE_QEMU_MODE makes the source (the side without -incoming) die instead:
  die-at-start  exit 1 with QEMU's message, before creating its QMP socket
  die-in-boot   greet on QMP, print 'A' but never 'B', and exit 3 after 300 ms
Before dying it writes its CLOCK_MONOTONIC time in microseconds to
FAKE_QEMU_DIED_FILE (if set), so a test can time how soon migtest named it.
"""
import json
import os
import socket
import sys
import time

args = sys.argv[1:]
if "-machine" in args and "help" in args:
    print("Supported machines are:\npc  Standard PC\nvirt  QEMU ARM Virtual Machine")
    sys.exit(0)

mode = os.environ.get("FAKE_QEMU_MODE", "") if "-incoming" not in args else ""


def die(status, message):
    died = os.environ.get("FAKE_QEMU_DIED_FILE")
    if died:
        with open(died, "w") as f:
            f.write("%d\n" % (time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000))
    print(message, file=sys.stderr, flush=True)
    os._exit(status)


if mode == "die-at-start":
    die(1, "qemu-system-x86_64: unsupported machine type\n"
           "Use -machine help to list supported machines")

qmp_path = args[args.index("-qmp") + 1][len("unix:"):].split(",")[0]
serial_path = next(a for a in args if a.startswith("socket,id=mt-serial,path="))
serial_path = serial_path.split("path=", 1)[1]

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(qmp_path)
server.listen(1)
serial = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
serial.connect(serial_path)
serial.sendall(b"A" if mode == "die-in-boot" else b"AB")

conn, _ = server.accept()
conn.sendall(b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, '
             b'"package": "fake"}, "capabilities": []}}\r\n')
buf = b""
while b"\n" not in buf:
    chunk = conn.recv(4096)
    if not chunk:
        sys.exit(1)
    buf += chunk
request = json.loads(buf.split(b"\n")[0])
conn.sendall(json.dumps({"return": {}, "id": request.get("id")}).encode() + b"\r\n")
if mode == "die-in-boot":
    time.sleep(0.3)
    die(3, "fake-qemu: guest boot failed")
while True:
    time.sleep(60)
