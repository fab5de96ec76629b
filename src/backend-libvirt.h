/*
 * backend-libvirt.h: the libvirt backend (see backend.h for the interface
 * it implements): a transient domain `migtest-<run id>-<case>` with a UUID
 * fixed per case, created paused on the source host through libvirt's C
 * API and migrated to the destination host (libvirt-migrate.h); a
 * `migtest agent` on each host (agent-client.h) places the payload,
 * relays the serial socket and holds the guest's RAM mapped, so the exact
 * check compares page hashes of both hosts and the invariant runs next to
 * the RAM.  Every domain it created is destroyed on both hosts whatever
 * the outcome; never AUTODESTROY, which libvirt refuses to migrate.
 */
#ifndef MIGTEST_BACKEND_LIBVIRT_H
#define MIGTEST_BACKEND_LIBVIRT_H

#include "backend.h"

/* A pair for @spec; nothing starts before pair_boot(). */
Pair *backend_libvirt_pair_new(const PairSpec *spec);

#endif
