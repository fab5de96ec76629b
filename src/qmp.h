/*
 * qmp.h: a QMP client.  One JSON object per line over a stream socket:
 * read the greeting, negotiate capabilities, then run commands with ids
 * and wait for the matching reply.  Asynchronous events that arrive
 * meanwhile are queued, so a later qmp_wait_event() can find them.
 *
 * Every call takes an absolute Deadline.  A QMP error reply becomes a
 * GError (MT_ERROR_QMP) carrying the command, the error class and desc;
 * a malformed line, EOF or disconnect is MT_ERROR_PROTOCOL or
 * MT_ERROR_DISCONNECTED.  Never a crash, never a hang.
 */
#ifndef MIGTEST_QMP_H
#define MIGTEST_QMP_H

#include <stdio.h>
#include <json-glib/json-glib.h>
#include "deadline.h"
#include "mt-error.h"

typedef struct QmpClient QmpClient;

/* Connect to the unix socket @path (retrying until it exists or @deadline)
 * and negotiate capabilities.  Returns a new client; free with qmp_free(). */
QmpClient *qmp_connect(const char *path, Deadline deadline, GError **error);

/* Same, but QEMU's @pidfd (-1: none) is watched while waiting for the
 * socket to appear: a QEMU that exits first ends the wait at once with
 * MT_ERROR_PEER_DIED. */
QmpClient *qmp_connect_watching(const char *path, int pidfd, Deadline deadline,
                                GError **error);

/* Same, over an already connected stream socket @fd (taken over). */
QmpClient *qmp_new_from_fd(int fd, Deadline deadline, GError **error);

void qmp_free(QmpClient *qmp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_free)

/* Every line sent and received is appended to @log (borrowed, may be
 * NULL), each prefixed with a timestamp and "<tag> >" or "<tag> <". */
void qmp_set_log(QmpClient *qmp, FILE *log, const char *tag);

/* Also hand every line sent (@dir ">") and received ("<") to @tap, with
 * the log's tag (migtest -vv echoes them to stderr).  NULL: no tap. */
typedef void (*QmpTap)(gpointer opaque, const char *tag, const char *dir, const char *text,
                       gsize len);
void qmp_set_tap(QmpClient *qmp, QmpTap tap, gpointer opaque);

/* Every wait on @qmp also watches @fd (borrowed; -1 is ignored), a pidfd
 * of a process the conversation depends on, such as the other QEMU of a
 * migration: when it exits, the wait ends with MT_ERROR_PEER_DIED naming
 * @what, unless the QMP peer had something to say first.  Unwatch before
 * closing @fd.  A handful of watches at most. */
void qmp_watch(QmpClient *qmp, int fd, const char *what);
void qmp_unwatch(QmpClient *qmp, int fd);

/* The greeting's QEMU version as "major.minor.micro" (owned by @qmp). */
const char *qmp_version(QmpClient *qmp);
/* The version as one comparable number: major * 10000 + minor * 100 + micro. */
int qmp_version_code(QmpClient *qmp);

/* Run @command with @args (borrowed, may be NULL).  Returns a new ref to
 * the reply's "return" member; unref with json_node_unref(). */
JsonNode *qmp_execute(QmpClient *qmp, const char *command, JsonObject *args,
                      Deadline deadline, GError **error);

/* Same, for commands whose return value does not matter. */
gboolean qmp_execute_simple(QmpClient *qmp, const char *command,
                            JsonObject *args, Deadline deadline,
                            GError **error);

/* Send @fd along with @command in the same message (SCM_RIGHTS), as
 * "getfd" and "add-fd" need. */
JsonNode *qmp_execute_with_fd(QmpClient *qmp, const char *command,
                              JsonObject *args, int fd, Deadline deadline,
                              GError **error);

/* Optional filter on an event's "data" object. */
typedef gboolean (*QmpEventMatch)(JsonObject *data, gpointer opaque);

/* Wait for the first queued or future event named @name for which @match
 * (may be NULL) returns TRUE, and remove it from the queue.  Returns a
 * new ref to the whole event object. */
JsonObject *qmp_wait_event(QmpClient *qmp, const char *name,
                           QmpEventMatch match, gpointer opaque,
                           Deadline deadline, GError **error);

/* The first already queued event named @name, removed from the queue,
 * or NULL: never reads the socket (qmp_pump() does). */
JsonObject *qmp_take_queued_event(QmpClient *qmp, const char *name);

/* Read whatever has arrived, without blocking, queueing events.  Returns
 * FALSE with @error if the connection is broken. */
gboolean qmp_pump(QmpClient *qmp, GError **error);

/* Drop every queued event named @name (NULL: all). */
void qmp_discard_events(QmpClient *qmp, const char *name);

/* Typed members of what QEMU sent: a member that is absent or of the
 * wrong type reads as NULL / 0 (json-glib's own getters would treat it as
 * a programming error).  @obj may be NULL. */
JsonObject *qmp_get_object(JsonObject *obj, const char *name);
const char *qmp_get_string(JsonObject *obj, const char *name);
gint64 qmp_get_int(JsonObject *obj, const char *name);

/* Convenience: a MIGRATION event matcher for data.status == @opaque. */
gboolean qmp_match_status(JsonObject *data, gpointer status);

#endif
