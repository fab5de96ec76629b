#!/usr/bin/env python3
"""fake-qemu.py: a stand-in for qemu-system-* in migtest's reliability tests.

It answers "-machine help" like a real binary, connects to migtest's serial
socket and prints 'A' and 'B', greets on QMP and accepts qmp_capabilities,
and then goes silent: every later QMP command waits forever, until migtest
gives up and stops this process.
"""
import json
import socket
import sys
import time

args = sys.argv[1:]
if "-machine" in args and "help" in args:
    print("Supported machines are:\npc  Standard PC\nvirt  QEMU ARM Virtual Machine")
    sys.exit(0)

qmp_path = args[args.index("-qmp") + 1][len("unix:"):].split(",")[0]
serial_path = next(a for a in args if a.startswith("socket,id=mt-serial,path="))
serial_path = serial_path.split("path=", 1)[1]

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(qmp_path)
server.listen(1)
serial = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
serial.connect(serial_path)
serial.sendall(b"AB")

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
while True:
    time.sleep(60)
