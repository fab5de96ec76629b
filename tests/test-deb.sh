#!/bin/bash
# test-deb: the Debian package.  Builds it from a copy of the source tree
# with `dpkg-buildpackage -us -uc -b` (nocheck: scripts/test runs the unit
# suite already), checks it with lintian at the default level (errors and
# warnings fail), shows that the lintian gate fails on a package with a
# fault put in (a man page removed), installs it with dpkg into a
# temporary root, and runs the installed binary's /x86_64/precopy/tcp
# from /, then the autopkgtest script (debian/tests/smoke) against it.
# Prints the build time and the installed size.
# Usage: test-deb.sh SOURCE-ROOT.  TAP output.
set -u
src=$(cd "$1" && pwd)
n=0 failed=0 total=9
ok() {      # ok NAME STATUS [DETAIL]
    n=$((n + 1))
    if [ "$2" = 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; printf '%s\n' "${3:-}" | tail -25 | sed 's/^/# /'; failed=1; fi
}
skip_rest() {
    while [ $n -lt $total ]; do n=$((n + 1)); echo "ok $n - debian package # SKIP $1"; done
    exit 0
}

echo "1..$total"
for tool in dpkg-buildpackage dh lintian dpkg-deb; do
    command -v $tool >/dev/null || skip_rest "no $tool here (scripts/setup installs debhelper, dpkg-dev and lintian)"
done
dpkg-checkbuilddeps "$src/debian/control" 2>/dev/null ||
    skip_rest "build dependencies missing: $(dpkg-checkbuilddeps "$src/debian/control" 2>&1)"

tmp=$(mktemp -d /tmp/migtest-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
tree=$tmp/migtest-$version
mkdir -p "$tree"
# The files git knows (committed or not, less what .gitignore drops):
# no build directories, no results.
if git -C "$src" rev-parse 2>/dev/null; then
    (cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$tree")
else
    (cd "$src" && tar -c --exclude='./build*' --exclude=./migtest-results . | tar -x -C "$tree")
fi

t0=$(date +%s.%N)
log=$( (cd "$tree" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) 2>&1)
rc=$?
t1=$(date +%s.%N)
deb=$(ls "$tmp"/migtest_"$version"_*.deb 2>/dev/null | head -1)
ok "dpkg-buildpackage -us -uc -b builds the package" $((rc || ! ${#deb})) "$log"
echo "# package build: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s wall"
[ -n "$deb" ] || skip_rest "no package was built"

lint=$(lintian --fail-on error,warning "$tmp"/migtest_"$version"_*.changes 2>&1)
ok "lintian: no error or warning" $? "$lint"

# Fault: the same package without its man page must fail the same gate.
dpkg-deb -R "$deb" "$tmp/bad" && rm "$tmp/bad/usr/share/man/man1/migtest.1.gz" &&
    sed -i '/usr\/share\/man\/man1\/migtest.1.gz/d' "$tmp/bad/DEBIAN/md5sums" &&
    dpkg-deb -b "$tmp/bad" "$tmp/bad.deb" >/dev/null
lint=$(lintian --fail-on error,warning "$tmp/bad.deb" 2>&1)
[ $? != 0 ] && echo "$lint" | grep -q "no-manual-page"
ok "lintian fails a package without its man page" $? "$lint"

missing=""
contents=$(dpkg-deb -c "$deb")
for f in usr/bin/migtest usr/bin/migtest-fetch-qemu usr/bin/migtest-fetch-kernel \
         usr/bin/migtest-libvirt-hosts usr/share/man/man1/migtest-libvirt-hosts.1.gz \
         usr/share/man/man1/migtest.1.gz usr/share/man/man1/migtest-fetch-qemu.1.gz \
         usr/share/man/man1/migtest-fetch-kernel.1.gz usr/share/bash-completion/completions/migtest; do
    echo "$contents" | grep -q " \./$f\$" || missing="$missing $f"
done
[ -z "$missing" ]; ok "the package holds the binary, scripts, man pages and completion" $? "missing:$missing"
echo "# installed size: $(dpkg-deb -f "$deb" Installed-Size) KiB"

# dpkg into an empty root: the libraries and QEMU are the host's, which
# that root's database does not know, hence --force-depends.
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
log=$(dpkg --root="$root" --force-depends --force-script-chrootless -i "$deb" 2>&1)
[ "$(dpkg --root="$root" -s migtest 2>/dev/null | sed -n 's/^Status: //p')" = "install ok installed" ]
ok "dpkg installs it into a temporary root" $? "$log"

out=$(cd / && "$root/usr/bin/migtest" --version 2>&1)
echo "$out" | grep -q "^kernel directory: /var/cache/migtest/kernels "
ok "the installed binary has the paths debian/rules configured" $? "$out"

out=$(cd / && env -u MIGTEST_BUILD_ROOT -u MIGTEST_SOURCE_ROOT "$root/usr/bin/migtest" run \
      --case '/x86_64/precopy/tcp' --results "$tmp/results" --json "$tmp/r.json" 2>&1)
ok "the installed binary passes /x86_64/precopy/tcp from /" $? "$out"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["cases"]; sys.exit(not (len(c) == 1 and c[0]["outcome"] == "pass"))' "$tmp/r.json"
ok "its JSON report says pass" $? "$(cat "$tmp/r.json" 2>&1 | head -20)"

# The autopkgtest's own script, as autopkgtest would run it against the
# installed package (all smoke cases).
mkdir -p "$tmp/adt"
out=$(cd / && PATH="$root/usr/bin:$PATH" AUTOPKGTEST_TMP="$tmp/adt" \
      sh "$tree/debian/tests/smoke" 2>&1)
ok "debian/tests/smoke passes against the installed package" $? "$out"
exit $failed
