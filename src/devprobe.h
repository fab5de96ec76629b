/*
 * devprobe.h: names for the device-state probe records the guest sends
 * (migtest-abi.h, "Device-state probes"): an error record whose gpa field
 * is MT_DEV_RECORD | device << 16 | register names a device register the
 * guest programmed and found changed, not a guest address.
 */
#ifndef MIGTEST_DEVPROBE_H
#define MIGTEST_DEVPROBE_H

#include <glib.h>

/* TRUE if @gpa (an error record's first field) is a device-probe record. */
gboolean devprobe_is_record(guint64 gpa);

/* "q35 MCH config 0x9d (SMRAM) lock" for a device-probe record's @gpa;
 * an id the table does not know is still named by its numbers.  New string. */
char *devprobe_record_name_new(guint64 gpa);

#endif
