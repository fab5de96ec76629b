/* progress.c: -v and -vv (see progress.h). */
#include "progress.h"

#include <stdarg.h>

/* Enough for any command and most replies on a 80-column terminal screen. */
#define PROGRESS_QMP_MAX 2000

Progress progress_start(int level, const char *case_name)
{
    return (Progress){ .level = level, .case_name = case_name,
                       .t0_us = g_get_monotonic_time(), .out = stderr };
}

/* "[12:34:56.789 +1.234s] <case>: " */
static void stamp(const Progress *p, GString *line)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *hms = g_date_time_format(now, "%H:%M:%S");

    g_string_append_printf(line, "[%s.%03d +%.3fs] %s: ", hms,
                           g_date_time_get_microsecond(now) / 1000,
                           (g_get_monotonic_time() - p->t0_us) / 1e6, p->case_name);
}

static void emit(const Progress *p, GString *line)
{
    g_string_append_c(line, '\n');
    fwrite(line->str, 1, line->len, p->out);    /* one call: one whole line */
    fflush(p->out);
}

void progress_phase(const Progress *p, const char *fmt, ...)
{
    g_autoptr(GString) line = NULL;
    va_list ap;

    if (!p || p->level < PROGRESS_PHASES)
        return;
    line = g_string_new(NULL);
    stamp(p, line);
    va_start(ap, fmt);
    g_string_append_vprintf(line, fmt, ap);
    va_end(ap);
    emit(p, line);
}

void progress_qmp(gpointer opaque, const char *tag, const char *dir, const char *text,
                  gsize len)
{
    const Progress *p = opaque;
    g_autoptr(GString) line = NULL;

    if (!p || p->level < PROGRESS_QMP)
        return;
    line = g_string_new(NULL);
    stamp(p, line);
    /* A schema reply is ~200 KB on one line: the .qmp log keeps it whole. */
    g_string_append_printf(line, "qmp %s %s %.*s", tag ? tag : "?", dir,
                           (int)MIN(len, PROGRESS_QMP_MAX), text);
    if (len > PROGRESS_QMP_MAX)
        g_string_append_printf(line, " ... (%" G_GSIZE_FORMAT " bytes in all; see the .qmp log)",
                               len);
    emit(p, line);
}
