/* logwait.c: wait for a log file to show a string (see logwait.h). */
#include "logwait.h"

#include <string.h>
#include "deadline.h"

/* Fine enough to act within a migration's first milliseconds. */
#define LOGWAIT_POLL_US 500

gboolean logwait_for_text(const char *path, const char *needle, gint64 timeout_ms)
{
    Deadline d = deadline_in_ms(timeout_ms);

    while (!deadline_expired(d)) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(path, &text, NULL, NULL) && strstr(text, needle))
            return TRUE;
        g_usleep(LOGWAIT_POLL_US);
    }
    return FALSE;
}
