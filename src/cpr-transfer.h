/*
 * cpr-transfer.h: driving a cpr-transfer migration (QEMU >= 10.0,
 * migrate-set-parameters mode=cpr-transfer).  The target QEMU is started
 * while the source runs, with two -incoming: a "cpr" channel on a unix
 * socket, over which the source passes the file descriptors of its RAM
 * (memfd, -machine aux-ram-share=on), and the main channel (a unix socket,
 * or "defer").  The target serves no monitor until the source's migrate
 * has sent that state, so its QMP is connected only afterwards; its
 * MIGRATION events come from -global migration.x-events=on, and with
 * defer its migrate-incoming follows.  The RAM itself is not sent: the
 * target maps the same memfd.
 */
#ifndef MIGTEST_CPR_TRANSFER_H
#define MIGTEST_CPR_TRANSFER_H

#include "migrate.h"

/* Starts the target with these extra arguments (NULL-terminated) and
 * without connecting its QMP (VmConfig.defer_qmp); the callee owns it. */
typedef Vm *(*CprLaunchTarget)(gpointer opaque, const char *const *args, GError **error);

/* The -incoming arguments of a target whose cpr channel is @cpr_path and
 * whose main channel is unix:@main_path, or "defer" (@defer); new. */
GStrv cpr_transfer_target_args(const char *cpr_path, const char *main_path, gboolean defer);

/* Migrate @src (running, prepared by nothing yet) in cpr-transfer mode
 * to a target that @launch starts (and its caller owns).  Like
 * migrate_run(): TRUE when the
 * migration reached a final state (stats->final_status), FALSE when
 * driving it went wrong.  A migrate that QEMU refuses (a cpr blocker) is
 * MT_ERROR_UNSUPPORTED naming QEMU's reason.  @cfg's at_pre_switchover
 * hook runs with the source's vCPUs stopped, as in migrate_run(). */
gboolean cpr_transfer_run(Vm *src, const MigrateConfig *cfg, gboolean defer,
                          CprLaunchTarget launch, gpointer launch_opaque,
                          const char *run_dir, Deadline deadline, MigrateStats *stats,
                          GError **error);

#endif
