/* watchdog.c: per-test alarm for the unit tests (see watchdog.h). */
#include "watchdog.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static void watchdog_fired(int sig)
{
    static const char msg[] = "Bail out! watchdog: test still running after "
                              G_STRINGIFY(WATCHDOG_S) " s\n";

    (void)sig;
    (void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
    abort();
}

void watchdog_install(void)
{
    signal(SIGALRM, watchdog_fired);
}

void watchdog_run(gconstpointer data)
{
    GTestFunc func = *(const GTestFunc *)data;

    alarm(WATCHDOG_S);
    func();
    alarm(0);
}
