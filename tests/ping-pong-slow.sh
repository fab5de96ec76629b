#!/bin/sh
# ping-pong-slow.sh MIGTEST: one guest per architecture migrated 200 times
# back and forth (--ping-pong 200) on QEMU 10.0 from scripts/fetch-qemu
# bookworm-backports, every hop verified (exact, invariant, selfcheck).
# Skips (77) when that QEMU has not been fetched.  Slow suite: ~15 min.
set -eu
migtest=$1
prefix=${MIGTEST_QEMU_PREFIX:-/opt/migtest-qemu/bookworm-backports}
[ -x "$prefix/bin/qemu-system-x86_64" ] || { echo "no QEMU under $prefix; run scripts/fetch-qemu bookworm-backports"; exit 77; }
out=$(mktemp -d /tmp/migtest-pingpong-XXXXXX)
trap 'rm -rf "$out"' EXIT
for arch in x86_64 aarch64; do
    start=$(date +%s)
    "$migtest" run --arch $arch --accel tcg --case "/$arch/precopy/tcp" --ping-pong 200 \
        --src-qemu "$prefix/bin/qemu-system-$arch" --dst-qemu "$prefix/bin/qemu-system-$arch" \
        --timeout 120 --results "$out/results" --json "$out/$arch.json"
    echo "$arch: 200 hops in $(($(date +%s) - start)) s"
    grep -q '"hops_verified" : 200' "$out/$arch.json"
done
