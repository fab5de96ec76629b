/* unix-socket.c: connect to a socket QEMU has yet to create (see unix-socket.h). */
#include "unix-socket.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* How often to retry while QEMU creates its socket. */
#define CONNECT_RETRY_US (10 * 1000)

/* Sleep up to @us, or less if @watch_fd becomes readable; TRUE if it did. */
static gboolean watch_fd_fired(int watch_fd, gint64 us)
{
    struct pollfd pfd = { .fd = watch_fd, .events = POLLIN };

    if (watch_fd < 0) {
        g_usleep(us);
        return FALSE;
    }
    return poll(&pfd, 1, (int)((us + 999) / 1000)) > 0 && (pfd.revents & (POLLIN | POLLHUP));
}

int unix_socket_connect(const char *path, const char *what, int watch_fd,
                        Deadline deadline, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "%s path '%s' is longer than %zu bytes",
                    what, path, sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0) {
            g_set_error(error, MT_ERROR, MT_ERROR_ENV, "socket: %s", g_strerror(errno));
            return -1;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        close(fd);
        if ((errno != ENOENT && errno != ECONNREFUSED) || deadline_expired(deadline)) {
            g_set_error(error, MT_ERROR, errno == ENOENT || errno == ECONNREFUSED
                        ? MT_ERROR_TIMEOUT : MT_ERROR_DISCONNECTED,
                        "cannot connect to %s '%s': %s", what, path, g_strerror(errno));
            return -1;
        }
        /* QEMU has not created its socket yet: no event says when it
         * does, but its pidfd says at once if it exited instead. */
        if (watch_fd_fired(watch_fd, MIN(CONNECT_RETRY_US,
                                         (gint64)deadline_remaining_ms(deadline) * 1000))) {
            g_set_error(error, MT_ERROR, MT_ERROR_PEER_DIED, "the process serving %s '%s' "
                        "exited before creating it", what, path);
            return -1;
        }
    }
}
