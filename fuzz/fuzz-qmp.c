/*
 * fuzz-qmp.c: libFuzzer target for the QMP client's reader and dispatcher
 * (src/qmp.c), through its public API and a real socket.
 *
 * Input: one control byte, then the bytes "QEMU" sends.
 *   ctl & 3   what comes before the fuzz bytes on the wire:
 *             0: nothing (the fuzz bytes are the greeting and all replies),
 *             1: a real QEMU 7.2 greeting,
 *             2 or 3: that greeting and the reply to qmp_capabilities.
 *   ctl & 4   wait for MIGRATION with data.status == "completed" (else any
 *             MIGRATION event).
 *   ctl & 8   discard every leftover event (else only STOP events).
 *   ctl & 16  log every line to /dev/null (qmp_set_log).
 * The client's ids are predictable: qmp_capabilities is "mt-1", the
 * command this harness runs ("query-migrate") is "mt-2".
 *
 * All the bytes are written to the server end of a socketpair before the
 * client starts, and the server's sending side is then shut down, so the
 * client always finds EOF behind the data and never waits: each call's
 * deadline (a few ms) is only a safety net.  The server end stays open for
 * reading, so the client's own sends succeed instead of failing with EPIPE
 * before it reads the reply; what it sent is checked afterwards (one JSON
 * object per line, each with an "execute").
 *
 * FUZZ_VERBOSE=1 in the environment prints each call's outcome, for
 * looking at what an input does (build-fuzz/fuzz/fuzz-qmp FILE...).
 *
 * Properties checked besides "no crash, no sanitizer report, no GLib
 * critical or warning": every failure sets a GError of the MT_ERROR domain
 * with a code qmp.h promises; the version string is set after a handshake
 * and the version code is in range.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "qmp.h"
#include "fuzz-common.h"

/* A real QEMU 7.2 (Debian 12) greeting and reply, with its CRLF endings. */
#define GREETING_7_2                                                         \
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, "      \
    "\"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, "     \
    "\"capabilities\": [\"oob\"]}}\r\n"
#define CAPS_REPLY "{\"return\": {}, \"id\": \"mt-1\"}\r\n"

/* Per-call deadlines.  Generous for a client that never really waits, yet
 * short enough that a harness bug that makes it wait cannot stall the
 * fuzzer for long (libFuzzer's -timeout catches a true hang). */
#define CALL_MS 20

/* Larger inputs would not fit the socket buffer without a writer thread. */
#define FUZZ_MAX_INPUT (96 * 1024)

static FILE *devnull;
static gboolean verbose;        /* FUZZ_VERBOSE=1: say what each call did */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    fuzz_glib_init(argv);
    verbose = g_strcmp0(g_getenv("FUZZ_VERBOSE"), "1") == 0;
    devnull = fopen("/dev/null", "we");
    if (!devnull)
        abort();
    return 0;
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* The buffer is full: the input is too large for this harness
             * (FUZZ_MAX_INPUT is meant to prevent that). */
            fprintf(stderr, "fuzz-qmp: cannot queue input: %s\n",
                    n < 0 ? g_strerror(errno) : "short write");
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
}

/* A failure must be reported as one of the errors qmp.h documents. */
static void check_error(const char *call, gboolean ok, GError **error)
{
    if (verbose)
        fprintf(stderr, "fuzz-qmp: %s: %s\n", call,
                ok ? "ok" : *error ? (*error)->message : "failed, no error");
    if (ok) {
        if (*error)
            abort();
        return;
    }
    if (!*error || (*error)->domain != MT_ERROR)
        abort();
    switch ((*error)->code) {
    case MT_ERROR_TIMEOUT:
    case MT_ERROR_QMP:
    case MT_ERROR_PROTOCOL:
    case MT_ERROR_DISCONNECTED:
        break;
    default:
        abort();
    }
    g_clear_error(error);
}

/* Everything the client sent: one JSON object per line, with "execute". */
static void check_sent(int fd)
{
    g_autoptr(GString) sent = g_string_new(NULL);
    char buf[4096];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0)
        g_string_append_len(sent, buf, n);
    if (sent->len && sent->str[sent->len - 1] != '\n')
        abort();
    g_auto(GStrv) lines = g_strsplit(sent->str, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root;

        if (!**l)
            continue;
        if (!json_parser_load_from_data(parser, *l, -1, NULL))
            abort();
        root = json_parser_get_root(parser);
        if (!JSON_NODE_HOLDS_OBJECT(root) ||
            !json_object_has_member(json_node_get_object(root), "execute") ||
            !json_object_has_member(json_node_get_object(root), "id"))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    QmpClient *qmp;
    guint8 ctl;
    int sv[2];

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    ctl = data[0];
    data++;
    size--;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
    if ((ctl & 3) >= 1)
        write_all(sv[1], GREETING_7_2, strlen(GREETING_7_2));
    if ((ctl & 3) >= 2)
        write_all(sv[1], CAPS_REPLY, strlen(CAPS_REPLY));
    write_all(sv[1], data, size);
    shutdown(sv[1], SHUT_WR);

    qmp = qmp_new_from_fd(sv[0], deadline_in_ms(CALL_MS), &error);
    check_error("qmp_new_from_fd", qmp != NULL, &error);
    if (qmp) {
        JsonNode *ret;
        JsonObject *ev;
        const char *version = qmp_version(qmp);
        int code = qmp_version_code(qmp);

        if (!version || code < 0 || code > 9999 * 10000 + 99 * 100 + 99)
            abort();
        if (ctl & 16)
            qmp_set_log(qmp, devnull, "fuzz");

        ret = qmp_execute(qmp, "query-migrate", NULL, deadline_in_ms(CALL_MS),
                          &error);
        check_error("qmp_execute", ret != NULL, &error);
        if (ret)
            json_node_unref(ret);

        ev = qmp_wait_event(qmp, "MIGRATION",
                            (ctl & 4) ? qmp_match_status : NULL, "completed",
                            deadline_in_ms(CALL_MS), &error);
        check_error("qmp_wait_event", ev != NULL, &error);
        if (ev) {
            if (!json_object_has_member(ev, "event"))
                abort();
            json_object_unref(ev);
        }

        /* At EOF by now: pump must report the broken connection. */
        check_error("qmp_pump", qmp_pump(qmp, &error), &error);
        qmp_discard_events(qmp, (ctl & 8) ? NULL : "STOP");
        qmp_free(qmp);          /* closes sv[0] */
    }
    check_sent(sv[1]);
    close(sv[1]);
    return 0;
}
