/*
 * agent.h: `migtest agent`, the only piece of migtest that runs on each
 * libvirt host.  The controller (agent-client.h) starts it through a
 * command prefix (`ssh root@hostA migtest agent`, `nsenter -t PID -m -n
 * /path/migtest agent`, or just `migtest agent`) and talks to it over its
 * stdin and stdout; it logs on stderr.  It places the payload files the
 * domain XML names, relays the guest's serial socket, maps the guest's
 * RAM and answers questions about it next to it, so 150 MiB of RAM cross
 * the network as 300 KiB of hashes.
 *
 * Protocol (AGENT_PROTOCOL_VERSION 1), JSON lines, one object per line:
 *
 *   agent -> {"agent":"migtest-agent","version":"0.1","protocol":1}
 *            first, unasked (the banner); the controller refuses another
 *            version or protocol.
 *   ctrl  -> {"id":N,"cmd":"hello","version":V,"protocol":P}
 *            the agent refuses a controller of another version the same way.
 *   every request: {"id":N,"cmd":C,...}; every reply: {"id":N,"ok":true,...}
 *            or {"id":N,"ok":false,"code":MtErrorCode,"error":"message"}.
 *            Requests are answered in order, one at a time.
 *   events:  {"event":"serial","path":P,"data":BASE64} bytes from the guest,
 *            {"event":"serial-closed","path":P}; unasked, between replies.
 *
 * Commands:
 *   put-file {path, data: BASE64}     write a file (parents made); removed
 *                                     again on release or exit.
 *   listen-serial {path}              bind a unix socket there (QEMU connects
 *                                     to it) and relay what arrives as events.
 *   map-ram {layout, name?, uuid?, pid?}
 *                                     find the QEMU (libvirt's pidfile
 *                                     /run/libvirt/qemu/<name>.pid, checked
 *                                     against -uuid in its cmdline; else the
 *                                     process whose cmdline has -uuid <uuid>;
 *                                     or @pid), take the memfd in /proc/PID/fd
 *                                     whose size is layout.total, and map it
 *                                     MAP_SHARED until release: the RAM outlives
 *                                     the QEMU libvirt kills after migrating.
 *                                     Reply: {pid, fd_target}.
 *   hash-pages {}                     XXH3-64 of every 4 KiB page of the
 *                                     mapping in offset order: {pages, hashes:
 *                                     BASE64 of little-endian u64s, elapsed_us}.
 *   read-pages {pages: [index...]}    {data: [BASE64 of 4 KiB...]}, at most
 *                                     AGENT_MAX_READ_PAGES pages.
 *   invariant {params}                verify_invariant() on the mapping:
 *                                     {invariant: InvariantResult} (a failed
 *                                     invariant is ok:true with its evidence).
 *   poke {gpa, data: BASE64}          write bytes into guest RAM behind
 *                                     QEMU's back: migtest's own tests only.
 *   release {}                        unmap, close the serial sockets, remove
 *                                     the files put; the agent stays.
 *   On EOF of stdin the agent releases everything and exits 0.
 */
#ifndef MIGTEST_AGENT_H
#define MIGTEST_AGENT_H

#include <glib.h>

#define AGENT_MAX_READ_PAGES 64

/* `migtest agent [--version]`: serve stdin/stdout until EOF.  Returns the
 * process exit status. */
int agent_main(int argc, char **argv);

#endif
