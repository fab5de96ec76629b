/*
 * probe.h: what a QEMU can do, asked at run time: its version, migration
 * capabilities and parameters (query-migrate-capabilities,
 * query-migrate-parameters), its commands and enum values
 * (query-qmp-schema), and its machine types (-machine help).  A case the
 * pair cannot run becomes a SKIP whose reason names the missing feature
 * and the QEMU version.
 */
#ifndef MIGTEST_PROBE_H
#define MIGTEST_PROBE_H

#include "cases.h"
#include "qmp.h"

typedef struct QemuFeatures QemuFeatures;

QemuFeatures *probe_features(QmpClient *qmp, Deadline deadline, GError **error);
void qemu_features_free(QemuFeatures *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuFeatures, qemu_features_free)

gboolean qemu_features_has_capability(QemuFeatures *f, const char *cap);
gboolean qemu_features_has_command(QemuFeatures *f, const char *command);

/* FALSE with MT_ERROR_UNSUPPORTED (reason: feature and versions) when
 * @src and @dst cannot run @d. */
gboolean probe_case(const CaseDesc *d, QemuFeatures *src, QemuFeatures *dst,
                    GError **error);

/* @binary's version code (major * 10000 + minor * 100 + micro) from
 * `@binary --version`, before any QEMU of it starts; *@version gets the
 * version as text (new string).  -1 with @error if it cannot be read. */
int probe_binary_version(const char *binary, char **version, GError **error);

/* The machine types @binary offers (new array of char *). */
GPtrArray *probe_machines(const char *binary, GError **error);

/* The newest versioned machine type of @arch's family ("pc-i440fx-",
 * "virt-") that both binaries offer, or NULL with @error. */
char *probe_common_machine(const char *src_binary, const char *dst_binary,
                           const char *family_prefix, GError **error);

#endif
