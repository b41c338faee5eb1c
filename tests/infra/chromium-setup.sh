#!/usr/bin/env bash
# Installs the browser tests/load_report.rs opens `hello --report`'s HTML page in: Debian's
# chromium, run headless by tests/common/chromium.rs (no display, no daemon).
#
# Idempotent: when chromium is there at the pinned major version it returns at once without
# touching apt. The pin is the major version Debian 12 (bookworm) ships, from bookworm-security
# (`apt-cache policy chromium`): Debian moves stable's chromium to each new major release, so
# when the archive no longer has this one the install fails saying so; move the pin to the
# major it offers, run tests/load_report.rs and look at its screenshot. Another major already
# installed is an error that says what to do, never a silent pass.
#
# Nothing is left running: installing chromium starts no service, and the tests start and end
# each browser themselves.
#
# Where it cannot install (not root, no apt-get) it prints one line saying why and exits 0:
# the tests then skip, saying what is missing. Progress goes to stderr; the last line on stdout
# says what is installed, or why nothing is.
set -euo pipefail

want_major=156

fail() {
    echo "tests/infra/chromium-setup.sh: $*" >&2
    exit 1
}

# The version chromium reports (x.y.z.w), or nothing when it is missing or says none.
version() {
    local out
    out=$(chromium --version 2>/dev/null) || return 0 # Chromium 156.0.8078.114 built on Debian ...
    { grep -o -E '[0-9]+(\.[0-9]+){3}' <<<"$out" || true; } | head -n1
}

# Whether chromium is there; a major version other than the pinned one fails loudly.
pinned() {
    command -v chromium >/dev/null || return 1
    local have
    have=$(version)
    [ "${have%%.*}" = "$want_major" ] || fail "$(command -v chromium) is version ${have:-unknown};" \
        "the tests are pinned to major $want_major (Debian 12's). Install it" \
        "(apt-get install 'chromium=$want_major.*'), or move the pin in" \
        "tests/infra/chromium-setup.sh, run cargo test --test load_report and look at" \
        "target/tmp/load-report.png"
}

if pinned; then
    echo "Chromium $(version)"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "not root, so cannot apt-get install chromium: the report's browser test will skip"
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "no apt-get to install chromium with: the report's browser test will skip"
    exit 0
fi

echo "installing chromium $want_major with apt-get (once)" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt may hold dpkg's lock for a while (unattended upgrades): wait for it, bounded.
apt=(apt-get -qq -o DPkg::Lock::Timeout=300)
"${apt[@]}" update >&2 || fail "apt-get update failed; run tests/infra/chromium-setup.sh again to retry"
# chromium-common must be the same version; apt picks it from chromium's exact dependency.
"${apt[@]}" install -y --no-install-recommends "chromium=$want_major.*" >&2 ||
    fail "apt-get could not install chromium $want_major (the archive has" \
        "$(apt-cache policy chromium | sed -n 's/^ *Candidate: //p'));" \
        "move the pin in tests/infra/chromium-setup.sh to that major, or retry"

pinned || fail "apt-get installed chromium, yet there is no chromium on PATH"
echo "Chromium $(version)"
