/* serial.c: serial stream listener and protocol decoder (see serial.h). */
#include "serial.h"
#include "devprobe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "migtest-abi.h"
#include "mt-error.h"

void serial_parser_init(SerialParser *p)
{
    memset(p, 0, sizeof(*p));
    p->b_times = g_array_new(FALSE, FALSE, sizeof(gint64));
    p->beat_times = g_array_new(FALSE, FALSE, sizeof(gint64));
    p->errors = g_array_new(FALSE, FALSE, sizeof(SerialError));
}

static gboolean parse_hex16(const char *s, guint64 *out)
{
    guint64 v = 0;

    for (int i = 0; i < MT_HEX_DIGITS; i++) {
        int d = g_ascii_xdigit_value(s[i]);
        if (d < 0 || g_ascii_isupper(s[i]))
            return FALSE;
        v = v << 4 | (guint64)d;
    }
    *out = v;
    return TRUE;
}

void serial_parser_init_lines(SerialParser *p)
{
    serial_parser_init(p);
    p->lines = TRUE;
    p->line = g_string_new(NULL);
    p->hb_times = g_array_new(FALSE, FALSE, sizeof(gint64));
    p->hb_seqs = g_array_new(FALSE, FALSE, sizeof(guint64));
    p->hb_workers = g_array_new(FALSE, FALSE, sizeof(guint));
}

void serial_parser_clear(SerialParser *p)
{
    g_clear_pointer(&p->b_times, g_array_unref);
    g_clear_pointer(&p->beat_times, g_array_unref);
    g_clear_pointer(&p->errors, g_array_unref);
    g_clear_pointer(&p->hb_times, g_array_unref);
    g_clear_pointer(&p->hb_seqs, g_array_unref);
    g_clear_pointer(&p->hb_workers, g_array_unref);
    if (p->line)
        g_string_free(g_steal_pointer(&p->line), TRUE);
    g_clear_pointer(&p->first_junk, g_free);
}

/* "MTERR <va> <expected> <found> <gpa>": 16 lowercase hex digits each. */
static gboolean parse_mterr(const char *args, SerialError *e)
{
    g_auto(GStrv) f = g_strsplit(args, " ", -1);
    guint64 va;

    return g_strv_length(f) == 4 && strlen(f[0]) == MT_HEX_DIGITS &&
           strlen(f[1]) == MT_HEX_DIGITS && strlen(f[2]) == MT_HEX_DIGITS &&
           strlen(f[3]) == MT_HEX_DIGITS && parse_hex16(f[0], &va) &&
           parse_hex16(f[1], &e->expected) && parse_hex16(f[2], &e->found) &&
           parse_hex16(f[3], &e->gpa);
}

/* A heartbeat of vCPU @i ('B' for vCPU 0). */
static void serial_parser_beat(SerialParser *p, guint i, gint64 now_us)
{
    p->vcpu_beats[i]++;
    g_array_append_val(p->beat_times, now_us);
}

/* The worker field of a linux line (docs/linux-guest.md): field @n (from
 * 0, the keyword), present with several workers only; 0 without it, and
 * G_MAXUINT if it is there but not a number. */
static guint line_worker(const char *line, guint n)
{
    g_auto(GStrv) f = g_strsplit(line, " ", -1);
    guint64 w;

    if (g_strv_length(f) <= n)
        return 0;
    if (g_strv_length(f) != n + 1 ||
        !g_ascii_string_to_unsigned(f[n], 10, 0, G_MAXUINT - 1, &w, NULL))
        return G_MAXUINT;
    return (guint)w;
}

static void serial_parser_junk_line(SerialParser *p, const char *line)
{
    p->junk_bytes += strlen(line) + 1;
    if (!p->first_junk) {
        p->first_junk = g_strdup(line);
        p->first_line_junk = p->lines_seen == 1;
    }
}

static void serial_parser_line(SerialParser *p, const char *line, gint64 now_us)
{
    SerialError e = { .time_us = now_us };
    guint64 seq, gen, bad;

    if (!*line)
        return;
    p->lines_seen++;
    if (g_str_has_prefix(line, "MTSTART ") || g_str_equal(line, "MTSTART")) {
        p->a_count++;
    } else if (sscanf(line, "MTPASS %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                      &gen, &bad) == 2) {
        guint w = line_worker(line, 3);

        /* Worker 0's passes are the 'B's; worker i's the beats of vCPU i. */
        if (w == 0)
            g_array_append_val(p->b_times, now_us);
        if (w < MT_MAX_VCPUS)
            serial_parser_beat(p, w, now_us);
        else
            serial_parser_junk_line(p, line);
        if (bad && p->errors->len == 0)     /* the MTERR lines say where */
            p->bad_records++;
    } else if (sscanf(line, "MTHB %" G_GUINT64_FORMAT, &seq) == 1) {
        guint w = line_worker(line, 5);

        g_array_append_val(p->hb_times, now_us);
        g_array_append_val(p->hb_seqs, seq);
        g_array_append_val(p->hb_workers, w);
    } else if (g_str_has_prefix(line, "MTERR ") && parse_mterr(line + 6, &e)) {
        g_array_append_val(p->errors, e);
    } else if (g_str_has_prefix(line, "MTMAP") || g_str_has_prefix(line, "MTMAPEND")) {
        /* the buffer's map: informational */
    } else {
        serial_parser_junk_line(p, line);   /* kernel error, MTFATAL, garbage */
    }
}

static void serial_parser_feed_lines(SerialParser *p, const guint8 *buf, gsize len,
                                     gint64 now_us)
{
    for (gsize i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            g_strchomp(p->line->str);           /* the kernel ends lines \r\n */
            serial_parser_line(p, p->line->str, now_us);
            g_string_truncate(p->line, 0);
        } else if (p->line->len < 4096) {       /* a runaway line is junk anyway */
            g_string_append_c(p->line, (char)buf[i]);
        }
    }
}

/* rec holds MT_ERR_LEN bytes: E<16 hex> <16 hex> <16 hex>\n */
static void serial_parser_finish_record(SerialParser *p, gint64 now_us)
{
    SerialError e = { .time_us = now_us };
    const char *r = p->rec;
    const int f2 = 1 + MT_HEX_DIGITS + 1, f3 = f2 + MT_HEX_DIGITS + 1;

    if (r[f2 - 1] == ' ' && r[f3 - 1] == ' ' && r[MT_ERR_LEN - 1] == '\n' &&
        parse_hex16(r + 1, &e.gpa) && parse_hex16(r + f2, &e.expected) &&
        parse_hex16(r + f3, &e.found))
        g_array_append_val(p->errors, e);
    else
        p->bad_records++;
    p->rec_len = 0;
}

void serial_parser_feed(SerialParser *p, const guint8 *buf, gsize len,
                        gint64 now_us)
{
    if (p->lines) {
        serial_parser_feed_lines(p, buf, len, now_us);
        return;
    }
    for (gsize i = 0; i < len; i++) {
        guint8 c = buf[i];

        if (p->rec_len > 0) {
            p->rec[p->rec_len++] = (char)c;
            if (p->rec_len == MT_ERR_LEN)
                serial_parser_finish_record(p, now_us);
            continue;
        }
        switch (c) {
        case MT_SERIAL_START:
            p->a_count++;
            break;
        case MT_SERIAL_PASS:
            g_array_append_val(p->b_times, now_us);
            serial_parser_beat(p, 0, now_us);
            break;
        case MT_SERIAL_SUSPEND:
            p->s_count++;
            break;
        case MT_SERIAL_RESUME:
            p->r_count++;
            break;
        case MT_SERIAL_ERROR:
            p->rec[0] = (char)c;
            p->rec_len = 1;
            break;
        default:
            if (c > MT_SERIAL_VCPU_BEAT(0) && c < MT_SERIAL_VCPU_BEAT(MT_MAX_VCPUS))
                serial_parser_beat(p, c - MT_SERIAL_VCPU_BEAT(0), now_us);
            else
                p->junk_bytes++;
        }
    }
}

/* CPU-state canary records (migtest-abi.h): the gpa field names a register. */
static char *register_name(guint64 id)
{
    static const struct {
        guint id;
        const char *name;
    } sys[] = {
        { MT_SYS_X86_FCW, "x86 x87 control word" }, { MT_SYS_X86_MXCSR, "x86 MXCSR" },
        { MT_SYS_X86_CS, "x86 CS" }, { MT_SYS_X86_SS, "x86 SS" },
        { MT_SYS_X86_RFLAGS, "x86 RFLAGS (system bits)" },
        { MT_SYS_X86_IDTR_LIMIT, "x86 IDTR limit" }, { MT_SYS_X86_MSW, "x86 CR0[15:0]" },
        { MT_SYS_ARM_TPIDR_EL0, "aarch64 TPIDR_EL0" },
        { MT_SYS_ARM_TPIDRRO_EL0, "aarch64 TPIDRRO_EL0" },
        { MT_SYS_ARM_TPIDR_EL1, "aarch64 TPIDR_EL1" },
        { MT_SYS_ARM_CONTEXTIDR, "aarch64 CONTEXTIDR_EL1" },
        { MT_SYS_ARM_FPCR, "aarch64 FPCR" },
    };
    guint64 r = id - MT_REG_RECORD;

    if (r >= MT_REG_VEC && r < MT_REG_SYS) {
        guint n = (guint)(r - MT_REG_VEC) / 2, half = (guint)(r - MT_REG_VEC) % 2;
        return g_strdup_printf("SIMD register %u (x86 xmm%u, aarch64 v%u) bits %u..%u", n, n,
                               n, half * 64, half * 64 + 63);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(sys); i++)
        if (r == MT_REG_SYS + sys[i].id)
            return g_strdup(sys[i].name);
    return g_strdup_printf("unknown register 0x%" G_GINT64_MODIFIER "x", r);
}

char *serial_error_describe(const SerialError *e)
{
    if (e->gpa == MT_S3_RECORD)
        return g_strdup_printf("guest reported its vCPU still running %" G_GUINT64_FORMAT
                               " loop turns after its S3 request (no suspend, or a resume "
                               "without the wake-up's reset)", e->found);
    if (devprobe_is_record(e->gpa)) {
        g_autofree char *name = devprobe_record_name_new(e->gpa);
        return g_strdup_printf("guest reported device register %s changed: expected 0x%"
                               G_GINT64_MODIFIER "x found 0x%" G_GINT64_MODIFIER "x",
                               name, e->expected, e->found);
    }
    if (e->gpa >= MT_REG_RECORD) {
        g_autofree char *name = register_name(e->gpa);
        return g_strdup_printf("guest reported register %s changed: expected 0x%016"
                               G_GINT64_MODIFIER "x found 0x%016" G_GINT64_MODIFIER "x",
                               name, e->expected, e->found);
    }
    return g_strdup_printf("guest reported E at gpa 0x%" G_GINT64_MODIFIER
                           "x: expected 0x%016" G_GINT64_MODIFIER "x found 0x%016"
                           G_GINT64_MODIFIER "x", e->gpa, e->expected, e->found);
}

struct Serial {
    int listen_fd;
    int wake_pipe[2];           /* written to stop the reader thread */
    char *path;
    FILE *log;
    GThread *thread;
    GMutex lock;
    GCond cond;
    SerialParser parser;        /* under lock */
    gboolean closed;            /* under lock */
};

void serial_relay_feed(Serial *s, const guint8 *buf, gsize len, gint64 now_us)
{
    if (s->log) {
        fwrite(buf, 1, len, s->log);
        fflush(s->log);
    }
    g_mutex_lock(&s->lock);
    serial_parser_feed(&s->parser, buf, len, now_us);
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
}

void serial_relay_close(Serial *s)
{
    g_mutex_lock(&s->lock);
    s->closed = TRUE;
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
}

/* Wait for @fd to be readable; FALSE if asked to stop. */
static gboolean serial_wait_readable(Serial *s, int fd)
{
    struct pollfd pfd[2] = {
        { .fd = fd, .events = POLLIN },
        { .fd = s->wake_pipe[0], .events = POLLIN },
    };

    while (poll(pfd, 2, -1) < 0)
        if (errno != EINTR)
            return FALSE;
    return !(pfd[1].revents & POLLIN);
}

static void serial_read_loop(Serial *s, int fd)
{
    guint8 buf[4096];

    while (serial_wait_readable(s, fd)) {
        ssize_t n = read(fd, buf, sizeof(buf));
        gint64 now = g_get_monotonic_time();

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        serial_relay_feed(s, buf, n, now);
    }
}

/* The reader thread: one connection, then EOF or a stop request. */
static gpointer serial_thread(gpointer opaque)
{
    Serial *s = opaque;
    int fd = -1;

    if (serial_wait_readable(s, s->listen_fd))
        fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0) {
        serial_read_loop(s, fd);
        close(fd);
    }
    serial_relay_close(s);
    return NULL;
}

static int serial_bind(const char *path, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV,
                    "serial socket path '%s' is longer than %zu bytes", path,
                    sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 1) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV,
                    "cannot listen on serial socket '%s': %s", path,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

Serial *serial_listen(const char *path, const char *log_path, GError **error)
{
    return serial_listen_full(path, log_path, FALSE, error);
}

Serial *serial_new_relayed(const char *log_path, gboolean lines, GError **error)
{
    g_autoptr(Serial) s = g_new0(Serial, 1);

    s->listen_fd = -1;
    s->wake_pipe[0] = s->wake_pipe[1] = -1;
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    if (lines)
        serial_parser_init_lines(&s->parser);
    else
        serial_parser_init(&s->parser);
    if (log_path && !(s->log = fopen(log_path, "we"))) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot create '%s': %s",
                    log_path, g_strerror(errno));
        return NULL;
    }
    return g_steal_pointer(&s);
}

Serial *serial_listen_full(const char *path, const char *log_path, gboolean lines,
                           GError **error)
{
    g_autoptr(Serial) s = serial_new_relayed(log_path, lines, error);

    if (!s)
        return NULL;
    s->path = g_strdup(path);
    s->listen_fd = serial_bind(path, error);
    if (s->listen_fd < 0)
        return NULL;
    if (pipe2(s->wake_pipe, O_CLOEXEC) < 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "pipe: %s", g_strerror(errno));
        return NULL;
    }
    s->thread = g_thread_new("serial", serial_thread, s);
    return g_steal_pointer(&s);
}

void serial_free(Serial *s)
{
    if (!s)
        return;
    if (s->thread) {
        (void)!write(s->wake_pipe[1], "x", 1);
        g_thread_join(s->thread);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        unlink(s->path);
    }
    for (int i = 0; i < 2; i++)
        if (s->wake_pipe[i] >= 0)
            close(s->wake_pipe[i]);
    if (s->log)
        fclose(s->log);
    serial_parser_clear(&s->parser);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
    g_free(s->path);
    g_free(s);
}

static void serial_counts_locked(Serial *s, SerialCounts *out)
{
    out->a = s->parser.a_count;
    out->b = s->parser.b_times->len;
    out->errors = s->parser.errors->len;
    out->junk = s->parser.junk_bytes + s->parser.bad_records;
    out->closed = s->closed;
    memcpy(out->vcpu_b, s->parser.vcpu_beats, sizeof(out->vcpu_b));
    if (s->parser.lines)                /* the linux payload: MTPASS lines */
        out->vcpu_b[0] = out->b;
    out->suspends = s->parser.s_count;
    out->resumes = s->parser.r_count;
}

void serial_counts(Serial *s, SerialCounts *out)
{
    g_mutex_lock(&s->lock);
    serial_counts_locked(s, out);
    g_mutex_unlock(&s->lock);
}

gboolean serial_wait_b(Serial *s, guint b_target, const char *who,
                       Deadline deadline, GError **error)
{
    SerialCounts c;
    gboolean timed_out = FALSE;

    g_mutex_lock(&s->lock);
    for (;;) {
        serial_counts_locked(s, &c);
        if (c.b >= b_target || c.closed || timed_out)
            break;
        timed_out = !g_cond_wait_until(&s->cond, &s->lock, deadline);
    }
    g_mutex_unlock(&s->lock);
    if (c.b >= b_target)
        return TRUE;
    g_set_error(error, MT_ERROR, c.closed ? MT_ERROR_DISCONNECTED : MT_ERROR_TIMEOUT,
                "%s serial: %s waiting for %u 'B' (seen: %u 'A', %u 'B', %u 'E', %u junk)",
                who, c.closed ? "stream closed while" : "timed out", b_target,
                c.a, c.b, c.errors, c.junk);
    return FALSE;
}

gboolean serial_wait_vcpu_beats(Serial *s, guint nvcpus, const guint *targets,
                                Deadline deadline)
{
    gboolean all = FALSE, timed_out = FALSE;

    g_mutex_lock(&s->lock);
    for (;;) {
        SerialCounts c;

        serial_counts_locked(s, &c);
        all = TRUE;
        for (guint i = 0; i < nvcpus && i < MT_MAX_VCPUS; i++)
            all = all && c.vcpu_b[i] >= targets[i];
        if (all || c.closed || timed_out)
            break;
        timed_out = !g_cond_wait_until(&s->cond, &s->lock, deadline);
    }
    g_mutex_unlock(&s->lock);
    return all;
}

void serial_wait_every_vcpu_once(Serial *s, guint nvcpus, Deadline deadline)
{
    guint once[MT_MAX_VCPUS];

    if (nvcpus < 2)
        return;
    for (guint i = 0; i < MT_MAX_VCPUS; i++)
        once[i] = 1;
    serial_wait_vcpu_beats(s, MIN(nvcpus, MT_MAX_VCPUS), once, deadline);
}

gboolean serial_wait_suspend_byte(Serial *s, guint8 byte, guint target, const char *who,
                                  Deadline deadline, GError **error)
{
    SerialCounts c;
    gboolean timed_out = FALSE;
    guint seen;

    g_assert(byte == MT_SERIAL_SUSPEND || byte == MT_SERIAL_RESUME);
    g_mutex_lock(&s->lock);
    for (;;) {
        serial_counts_locked(s, &c);
        seen = byte == MT_SERIAL_SUSPEND ? c.suspends : c.resumes;
        if (seen >= target || c.closed || timed_out)
            break;
        timed_out = !g_cond_wait_until(&s->cond, &s->lock, deadline);
    }
    g_mutex_unlock(&s->lock);
    if (seen >= target)
        return TRUE;
    g_set_error(error, MT_ERROR, c.closed ? MT_ERROR_DISCONNECTED : MT_ERROR_TIMEOUT,
                "%s serial: %s waiting for %u '%c' (seen: %u 'A', %u 'B', %u 'S', %u 'R', "
                "%u 'E', %u junk)", who, c.closed ? "stream closed while" : "timed out",
                target, byte, c.a, c.b, c.suspends, c.resumes, c.errors, c.junk);
    return FALSE;
}

static GArray *array_dup(GArray *a)
{
    GArray *copy = g_array_sized_new(FALSE, FALSE, g_array_get_element_size(a), a->len);

    g_array_append_vals(copy, a->data, a->len);
    return copy;
}

/* A copy of one of the parser's arrays, taken under the lock; line-mode
 * arrays are NULL in byte mode and copy as empty. */
static GArray *array_dup_locked(Serial *s, GArray *a)
{
    GArray *copy;

    g_mutex_lock(&s->lock);
    copy = a ? array_dup(a) : g_array_new(FALSE, FALSE, sizeof(gint64));
    g_mutex_unlock(&s->lock);
    return copy;
}

GArray *serial_errors_dup(Serial *s)
{
    return array_dup_locked(s, s->parser.errors);
}

GArray *serial_b_times_dup(Serial *s)
{
    return array_dup_locked(s, s->parser.b_times);
}

GArray *serial_beat_times_dup(Serial *s)
{
    return array_dup_locked(s, s->parser.beat_times);
}

GArray *serial_hb_times_dup(Serial *s)
{
    return array_dup_locked(s, s->parser.hb_times);
}

GArray *serial_hb_seqs_dup(Serial *s)
{
    return array_dup_locked(s, s->parser.hb_seqs);
}

char *serial_first_junk_dup(Serial *s)
{
    char *junk;

    g_mutex_lock(&s->lock);
    junk = g_strdup(s->parser.first_junk);
    g_mutex_unlock(&s->lock);
    return junk;
}

static void move_last_first(GArray *a)
{
    guint8 tmp[16];
    guint sz = g_array_get_element_size(a);

    g_assert(sz <= sizeof(tmp) && a->len > 0);
    memcpy(tmp, a->data + (gsize)(a->len - 1) * sz, sz);
    g_array_remove_index(a, a->len - 1);
    g_array_prepend_vals(a, tmp, 1);
}

gboolean serial_join_switchover(Serial *src, Serial *dst)
{
    g_autofree char *head = NULL;
    g_autofree char *joined = NULL;
    gboolean ok = FALSE;

    g_mutex_lock(&src->lock);
    head = src->parser.line ? g_strdup(src->parser.line->str) : NULL;
    g_mutex_unlock(&src->lock);
    g_mutex_lock(&dst->lock);
    if (head && *head && dst->parser.first_line_junk) {
        joined = g_strconcat(head, dst->parser.first_junk, NULL);
        if (g_str_has_prefix(joined, "MT")) {
            SerialParser *p = &dst->parser;
            guint hb = p->hb_seqs->len, b = p->b_times->len;

            p->junk_bytes -= strlen(p->first_junk) + 1;
            g_clear_pointer(&p->first_junk, g_free);
            p->first_line_junk = FALSE;
            serial_parser_line(p, joined, g_get_monotonic_time());
            /* It was the destination's first line: put it first. */
            if (p->hb_seqs->len > hb) {
                move_last_first(p->hb_seqs);
                move_last_first(p->hb_times);
                move_last_first(p->hb_workers);
            }
            if (p->b_times->len > b)
                move_last_first(p->b_times);
            ok = TRUE;
        }
    }
    g_mutex_unlock(&dst->lock);
    return ok;
}

/* Seq of worker @w's last (@last) or first MTHB in @seqs/@workers. */
static gboolean hb_find(GArray *seqs, GArray *workers, guint w, gboolean last, guint64 *seq)
{
    gboolean found = FALSE;

    for (guint i = 0; i < seqs->len && !(found && !last); i++) {
        if (g_array_index(workers, guint, i) == w) {
            *seq = g_array_index(seqs, guint64, i);
            found = TRUE;
        }
    }
    return found;
}

gboolean serial_hb_continue(GArray *src_seqs, GArray *src_workers, GArray *dst_seqs,
                            GArray *dst_workers, guint workers, const char *dst,
                            GError **error)
{
    for (guint i = 0; i < dst_workers->len; i++) {
        guint w = g_array_index(dst_workers, guint, i);

        if (w >= workers) {
            g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "heartbeats: %s sent one from "
                        "worker %u, but the guest runs %u", dst, w, workers);
            return FALSE;
        }
    }
    for (guint w = 0; w < workers; w++) {
        guint64 last = 0, next = 0;
        g_autofree char *who = workers > 1 ? g_strdup_printf("worker %u of %u: ", w, workers)
                                           : g_strdup("");

        if (!hb_find(src_seqs, src_workers, w, TRUE, &last) ||
            !hb_find(dst_seqs, dst_workers, w, FALSE, &next)) {
            g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "heartbeats: %ssrc sent %s, %s "
                        "sent %s", who, hb_find(src_seqs, src_workers, w, TRUE, &last)
                        ? "some" : "none", dst, hb_find(dst_seqs, dst_workers, w, FALSE,
                                                        &next) ? "some" : "none");
            return FALSE;
        }
        if (next != last + 1) {
            g_set_error(error, MT_ERROR, MT_ERROR_VERIFY, "heartbeats: %ssrc's last was %"
                        G_GUINT64_FORMAT ", %s's first %" G_GUINT64_FORMAT " (expected %"
                        G_GUINT64_FORMAT ")", who, last, dst, next, last + 1);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean serial_heartbeats_continue(Serial *src, Serial *dst, guint workers,
                                    const char *dst_name, GError **error)
{
    g_autoptr(GArray) ss = serial_hb_seqs_dup(src);
    g_autoptr(GArray) sw = array_dup_locked(src, src->parser.hb_workers);
    g_autoptr(GArray) ds = serial_hb_seqs_dup(dst);
    g_autoptr(GArray) dw = array_dup_locked(dst, dst->parser.hb_workers);

    return serial_hb_continue(ss, sw, ds, dw, MAX(workers, 1), dst_name, error);
}
