#!/bin/sh
# scale-8g-slow.sh MIGTEST [SIZE]: the smoke cases with an 8 GiB guest
# (--mem 8G, TCG) must pass, and migtest's own anonymous memory must stay
# flat: its peak RssAnon (sampled every 100 ms from /proc/PID/status) at
# most 64 MiB.  Guest RAM is shared tmpfs that migtest maps: those pages
# count as RssShmem/RssFile, not RssAnon, so "flat beyond the mappings"
# is exactly RssAnon.  Skips (77) when two guests of SIZE do not fit.
set -eu
migtest=$1
size=${2:-8G}
limit_kb=$((64 * 1024))
need_kb=$(( ${size%G} * 2 * 1024 * 1024 + 1024 * 1024 ))
avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
[ "$avail_kb" -ge "$need_kb" ] || { echo "needs $need_kb kB available, has $avail_kb"; exit 77; }
out=$(mktemp -d /tmp/migtest-scale-XXXXXX)
trap 'rm -rf "$out"' EXIT
"$migtest" run --accel tcg --mem "$size" --timeout 900 --results "$out/results" \
    --json "$out/r.json" > "$out/table" 2>&1 &
pid=$!
peak=0
while kill -0 $pid 2>/dev/null; do
    kb=$(awk '/RssAnon/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    [ "${kb:-0}" -le "$peak" ] || peak=$kb
    sleep 0.1
done
wait $pid && rc=0 || rc=$?
cat "$out/table"
echo "migtest peak RssAnon: $peak kB (limit $limit_kb kB)"
[ "$rc" -eq 0 ] && [ "$peak" -le "$limit_kb" ]
