#!/bin/sh
# valgrind-smoke.sh MIGTEST RESULTS: one smoke case of migtest under
# memcheck: no definite leak, no invalid access (only migtest runs under
# valgrind, not QEMU), and the case passes.
#
# It tests migtest, so it must not depend on QEMU having or lacking a bug:
# Debian's 7.2 under TCG sometimes loses a dirty page (docs/findings/003,
# 005), so the QEMU 10.0 that scripts/setup fetches is used when it is
# there, and the system's QEMU otherwise.
set -u
migtest=$1 results=$2
prefix=${MIGTEST_QEMU_PREFIX:-/opt/migtest-qemu/bookworm-backports}
qemu=""
if [ -x "$prefix/bin/qemu-system-x86_64" ]; then
    qemu="--src-qemu $prefix/bin/qemu-system-x86_64 --dst-qemu $prefix/bin/qemu-system-x86_64"
    echo "valgrind-smoke: QEMU from $prefix"
fi
# shellcheck disable=SC2086 # $qemu is two options or none
valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
    "$migtest" run --arch x86_64 --accel tcg --case /x86_64/precopy/tcp $qemu --results "$results"
rc=$?
case $rc in
0) echo "valgrind-smoke: clean, and the case passed" ;;
99) echo "valgrind-smoke: memcheck found errors (above)" ;;
*) echo "valgrind-smoke: migtest exited $rc (the case did not pass; see above)" ;;
esac
exit $rc
