/*
 * unix-socket.h: connecting to the unix sockets QEMU serves (QMP, the
 * gdbstub), which appear only some time after QEMU starts.
 */
#ifndef MIGTEST_UNIX_SOCKET_H
#define MIGTEST_UNIX_SOCKET_H

#include "deadline.h"
#include "mt-error.h"

/* Connect to @path, retrying while it does not exist yet or refuses,
 * until @deadline.  @what names the socket in errors ("QMP socket").
 * @watch_fd (-1: none) is the pidfd of the process that will create the
 * socket: the wait between retries is a poll on it, so a process that
 * exits first ends the wait at once (MT_ERROR_PEER_DIED), not at the
 * deadline.  Returns a new close-on-exec fd, or -1 with @error:
 * MT_ERROR_ENV for a path over the kernel's limit, MT_ERROR_TIMEOUT when
 * it never came up. */
int unix_socket_connect(const char *path, const char *what, int watch_fd,
                        Deadline deadline, GError **error);

#endif
