/*
 * devprobe.h: names for the device-state probe records the guest sends
 * (migtest-abi.h, "Device-state probes"): an error record whose gpa field
 * is MT_DEV_RECORD | device << 16 | register names a device register the
 * guest programmed and found changed, not a guest address.
 */
#ifndef MIGTEST_DEVPROBE_H
#define MIGTEST_DEVPROBE_H

#include <glib.h>
#include "backend.h"

/* TRUE if @gpa (an error record's first field) is a device-probe record. */
gboolean devprobe_is_record(guint64 gpa);

/* "q35 MCH config 0x9d (SMRAM) lock" for a device-probe record's @gpa;
 * an id the table does not know is still named by its numbers.  New string. */
char *devprobe_record_name_new(guint64 gpa);

/* The device-probe test mailbox word that makes the guest clobber probe
 * @index of its table (migtest-abi.h). */
guint64 devprobe_mailbox_word(guint index);

/* Fault injection for migtest's own tests (RunOptions.dst_hmp and
 * dst_devprobe_mailbox), on the stopped destination before it runs
 * again: the HMP commands in order (an HMP answer other than silence is
 * an error: the command did not do what the test meant), then the
 * mailbox word.  TRUE at once when @opts asks for neither. */
gboolean devprobe_inject_dst(Pair *p, const ArchDesc *arch, const RunOptions *opts,
                             GError **error);

#endif
