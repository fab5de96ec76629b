#!/bin/sh
# bad-qemu.sh: a QEMU "revision" whose migrations break, for the --bisect
# and --until-fail tests.  It runs the real QEMU ($BAD_QEMU_REAL), but from
# the $BAD_QEMU_FAIL_FROM-th source launch on (counted in the file
# $BAD_QEMU_COUNTER; 1 = every launch) the source gets an extra device
# the destination lacks, so the destination refuses the stream ("Unknown
# savevm section") and the migration fails, as a real regression would.
# Destinations and "-machine help" pass through untouched.
set -eu
for a in "$@"; do
    case $a in -incoming|help) exec "$BAD_QEMU_REAL" "$@" ;; esac
done
n=$(($(cat "$BAD_QEMU_COUNTER" 2>/dev/null || echo 0) + 1))
echo "$n" > "$BAD_QEMU_COUNTER"
if [ "$n" -ge "${BAD_QEMU_FAIL_FROM:-1}" ]; then
    exec "$BAD_QEMU_REAL" "$@" -device virtio-rng-pci
fi
exec "$BAD_QEMU_REAL" "$@"
