#!/bin/bash
# test-install: `meson install` gives a migtest that works with no build
# or source tree.  Installs the build into a DESTDIR under a temporary
# directory, checks what was installed (binary, scripts named as
# migtest's, man pages, bash completion), that `man migtest` finds the
# page, that the completion completes case names, and then runs the
# installed binary's smoke cases from / in a mount namespace where the
# source and build trees are hidden behind empty tmpfs mounts, so
# nothing can be read from them.
# Usage: test-install.sh SOURCE-ROOT BUILD-ROOT.  TAP output.
set -u
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
n=0 failed=0
ok() {      # ok NAME STATUS [DETAIL]
    n=$((n + 1))
    if [ "$2" = 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; echo "# ${3:-}" | head -20; failed=1; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

tmp=$(mktemp -d /tmp/migtest-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
prefix=$(meson introspect --buildoptions "$build" |
         python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
mandir=$(meson introspect --buildoptions "$build" |
         python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "mandir"][0])')
case $mandir in /*) ;; *) mandir=$prefix/$mandir ;; esac
bin=$root$prefix/bin

echo "1..10"
log=$(meson install -C "$build" --no-rebuild --destdir "$root" 2>&1)
ok "meson install into a DESTDIR" $? "$log"
missing=""
for f in "$bin/migtest" "$bin/migtest-fetch-qemu" "$bin/migtest-fetch-kernel" \
         "$bin/migtest-libvirt-hosts" \
         "$root$prefix/share/bash-completion/completions/migtest"; do
    [ -x "$f" ] || [ -f "$f" ] || missing="$missing $f"
done
[ -z "$missing" ]; ok "binary, migtest-fetch-qemu, migtest-fetch-kernel and completion installed" $? "missing:$missing"
[ -x "$bin/migtest-fetch-kernel" ] && [ -x "$bin/migtest-fetch-qemu" ]
ok "the scripts are executable" $?

# The installed script defaults to the kernel directory the binary uses.
kdir=$("$bin/migtest" --version | sed -n 's/^kernel directory: \(.*\) (MIGTEST_KERNEL_DIR overrides)$/\1/p')
out=$(env -u MIGTEST_KERNEL_DIR "$bin/migtest-fetch-kernel" --help)
[ -n "$kdir" ] && echo "$out" | grep -qF "default $kdir" && ! echo "$out" | grep -q "scripts/"
ok "migtest-fetch-kernel names itself and the binary's kernel directory" $? "kdir=$kdir; $out"

if [ -f "$root$mandir/man1/migtest.1" ]; then
    if command -v man >/dev/null; then
        out=$(MANPATH=$root$mandir MANWIDTH=80 man -P cat migtest 2>&1)
        echo "$out" | grep -q "EXIT STATUS" && echo "$out" | grep -q -- "--case"
        ok "man migtest shows the installed page" $? "$out"
    else
        skip "man migtest shows the installed page" "no man(1) on this host"
    fi
else
    skip "man migtest shows the installed page" "built without scdoc (-Dman)"
fi

out=$(PATH=$bin:$PATH bash -c '
    source "$1"; COMP_WORDS=(migtest run --case /x86_64/precopy/t); COMP_CWORD=3
    _migtest; printf "%s\n" "${COMPREPLY[@]}"' _ "$root$prefix/share/bash-completion/completions/migtest")
echo "$out" | grep -qx /x86_64/precopy/tcp
ok "the installed completion completes case names" $? "$out"

# From /, with the source and build trees hidden.
hide="mount -t tmpfs migtest-hidden '$src'"
case $build in "$src"/*) ;; *) hide="$hide && mount -t tmpfs migtest-hidden '$build'" ;; esac
if ! unshare --mount --propagation private true 2>/dev/null; then
    skip "inside the namespace the source and build trees are empty" "cannot create a mount namespace here"
    skip "--version from / with no build tree" "cannot create a mount namespace here"
    skip "the smoke cases pass from / with no build tree" "cannot create a mount namespace here"
    skip "the JSON report says they passed" "cannot create a mount namespace here"
    exit $failed
fi
run_hidden() {
    unshare --mount --propagation private sh -c "$hide && cd / && exec env -u MIGTEST_BUILD_ROOT \
        -u MIGTEST_SOURCE_ROOT \"\$@\"" _ "$@"
}
# The fault this step exists to catch is a read from those trees: show
# that inside the namespace they are really empty.
run_hidden test -e "$build/build.ninja" -o -e "$src/meson.build"
[ $? != 0 ]; ok "inside the namespace the source and build trees are empty" $?
out=$(run_hidden "$bin/migtest" --version 2>&1)
echo "$out" | grep -q "^migtest " && echo "$out" | grep -q "^payload ABI"
ok "--version from / with no build tree" $? "$out"
out=$(run_hidden "$bin/migtest" run --results "$tmp/results" --json "$tmp/report.json" 2>&1)
rc=$?
ok "the smoke cases pass from / with no build tree (exit $rc)" $rc "$out"
python3 - "$tmp/report.json" <<'PY'
import json, sys
cases = json.load(open(sys.argv[1]))["cases"]
names = sorted(c["name"] for c in cases)
assert "/x86_64/precopy/tcp" in names, names
assert all(c["outcome"] in ("pass", "skip") for c in cases), cases
assert any(c["outcome"] == "pass" for c in cases), cases
PY
ok "the JSON report says they passed" $? "$(cat "$tmp/report.json" 2>&1 | head -20)"
exit $failed
