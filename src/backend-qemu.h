/*
 * backend-qemu.h: the qemu backend: two QEMU processes spawned by migtest
 * and driven over QMP (see backend.h for the interface it implements).
 */
#ifndef MIGTEST_BACKEND_QEMU_H
#define MIGTEST_BACKEND_QEMU_H

#include "backend.h"

/* A pair for @spec; nothing starts before pair_boot(). */
Pair *backend_qemu_pair_new(const PairSpec *spec);

#endif
