#!/bin/bash
# test-completion: the bash completion (data/migtest.bash-completion)
# completes subcommands, options, choice values and case names, the case
# names coming from the migtest being completed at completion time.
# Usage: test-completion.sh COMPLETION-FILE MIGTEST.  TAP output.
set -u
completion=$1
migtest=$2
n=0 failed=0
ok() {      # ok NAME CONDITION-STATUS [DETAIL]
    n=$((n + 1))
    if [ "$2" = 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; echo "# ${3:-}"; failed=1; fi
}
# complete WORD...: the words typed, the last one being completed.
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    _migtest
    printf '%s\n' "${COMPREPLY[@]}"
}
has() { grep -qx -- "$1"; }

echo "1..10"
# shellcheck source=/dev/null
source "$completion"
complete -p migtest >/dev/null 2>&1; ok "sourcing it registers _migtest for migtest" $?

out=$(complete_words "$migtest" run --case /x86_64/precopy/t)
echo "$out" | has /x86_64/precopy/tcp; ok "--case completes case names" $? "$out"
echo "$out" | grep -q aarch64; [ $? != 0 ]; ok "--case keeps only names with the prefix" $? "$out"
out=$(complete_words "$migtest" list --case = /aarch64/coherency/mmu-off/)
echo "$out" | has /aarch64/coherency/mmu-off/refuse; ok "--case=VALUE (split at '=') completes" $? "$out"
out=$(complete_words "$migtest" --accel "")
[ "$(echo "$out" | sort | tr '\n' ' ')" = "kvm tcg " ]; ok "--accel offers kvm and tcg" $? "$out"
out=$(complete_words "$migtest" --mmu-policy st)
[ "$out" = stop-copy ]; ok "--mmu-policy st completes stop-copy" $? "$out"
out=$(complete_words "$migtest" --ke)
[ "$out" = --keep ]; ok "options complete (--ke: --keep)" $? "$out"
out=$(complete_words "$migtest" -)
for o in --case --json --long --version --verbose --jobs --help; do
    echo "$out" | has "$o" || break
done
ok "every option is offered (--case ... --help)" $? "$out"
out=$(complete_words "$migtest" l)
[ "$out" = list ]; ok "subcommands complete (l: list)" $? "$out"

# Fault: a migtest whose catalogue differs.  Completion must show its
# cases, not a list kept in the completion script.
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
cat > "$fake/migtest" <<FAKE
#!/bin/sh
[ "\$1" = list ] && { echo /fake/only-case; exit 0; }
exec "$migtest" "\$@"
FAKE
chmod +x "$fake/migtest"
out=$(complete_words "$fake/migtest" --case /)
[ "$out" = /fake/only-case ]; ok "case names come from the migtest being completed" $? "$out"
exit $failed
