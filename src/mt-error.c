/* mt-error.c: the migtest GError domain. */
#include "mt-error.h"

G_DEFINE_QUARK(migtest-error-quark, mt_error)
