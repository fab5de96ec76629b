#!/bin/sh
# bad-qemu.sh: a QEMU "revision" whose migrations break, for the --bisect
# and --until-fail tests.  It runs the real QEMU ($BAD_QEMU_REAL), but from
# the $BAD_QEMU_FAIL_FROM-th source launch on (counted in the file
# $BAD_QEMU_COUNTER; 1 = every launch) the source gets an extra device
# the destination lacks, so the destination refuses the stream ("Unknown
# savevm section") and the migration fails, as a real regression would.
# Destinations and "-machine help" pass through untouched, except with
# $BAD_QEMU_INCOMING_FROM: from that destination launch on (counted in
# $BAD_QEMU_COUNTER.in) the destination gets the extra device, which it
# accepts, so the ping-pong hop *out* of it fails.
set -eu
for a in "$@"; do
    case $a in help) exec "$BAD_QEMU_REAL" "$@" ;; esac
done
for a in "$@"; do
    [ "$a" = -incoming ] || continue
    n=$(($(cat "$BAD_QEMU_COUNTER.in" 2>/dev/null || echo 0) + 1))
    echo "$n" > "$BAD_QEMU_COUNTER.in"
    if [ -n "${BAD_QEMU_INCOMING_FROM:-}" ] && [ "$n" -ge "$BAD_QEMU_INCOMING_FROM" ]; then
        exec "$BAD_QEMU_REAL" "$@" -device virtio-rng-pci
    fi
    exec "$BAD_QEMU_REAL" "$@"
done
n=$(($(cat "$BAD_QEMU_COUNTER" 2>/dev/null || echo 0) + 1))
echo "$n" > "$BAD_QEMU_COUNTER"
if [ "$n" -ge "${BAD_QEMU_FAIL_FROM:-1}" ]; then
    exec "$BAD_QEMU_REAL" "$@" -device virtio-rng-pci
fi
exec "$BAD_QEMU_REAL" "$@"
