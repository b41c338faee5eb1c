#!/usr/bin/env bash
# Installs the real infrastructure tests/infrastructure.rs and tests/alert_rules.rs run greeter
# behind: Debian's nginx-light, haproxy and prometheus (which brings promtool).
#
# Idempotent: when nginx, haproxy, prometheus and promtool are all there at the pinned versions
# it returns at once without touching apt. The versions are pinned by major.minor, those of
# Debian 12 (bookworm), because the tests' configurations are written for them: another
# version is an error that says what to do, never a silent pass.
#
# No daemon is left running: Debian's maintainer scripts start nginx, haproxy and prometheus on
# install, and the tests start their own, on their own configuration, on loopback. A
# policy-rc.d that refuses every start is in place while apt runs (any one the machine had is
# put back), and whatever started anyway is stopped.
#
# Where it cannot install (not root, no apt-get) it prints one line saying why and exits 0:
# the tests then skip, each saying what is missing. Progress goes to stderr; the last line on
# stdout says what is installed, or why nothing is.
set -euo pipefail

want_nginx=1.22
want_haproxy=2.6
want_prometheus=2.42
packages=(nginx-light haproxy prometheus)

fail() {
    echo "tests/infra/setup.sh: $*" >&2
    exit 1
}

# Where Debian puts each: nginx and haproxy in /usr/sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

# The version each binary reports (x.y.z), or nothing when it is missing or says none.
full_version_of() {
    local out
    case $1 in
    nginx) out=$(nginx -v 2>&1) || return 0 ;;                  # nginx version: nginx/1.22.1
    haproxy) out=$(haproxy -v 2>&1) || return 0 ;;              # HAProxy version 2.6.12-1+deb12u4 ...
    prometheus | promtool) out=$("$1" --version 2>&1) || return 0 ;; # prometheus, version 2.42.0+ds ...
    esac
    { grep -o -E '[0-9]+\.[0-9]+\.[0-9]+' <<<"$out" || true; } | head -n1
}

# What the pins compare: major.minor.
version_of() {
    full_version_of "$1" | cut -d. -f1,2
}

# Whether every binary is there; a version other than the pinned one fails loudly.
all_pinned() {
    local missing=0 binary want have
    for binary in nginx haproxy prometheus promtool; do
        case $binary in
        nginx) want=$want_nginx ;;
        haproxy) want=$want_haproxy ;;
        *) want=$want_prometheus ;;
        esac
        if ! command -v "$binary" >/dev/null; then
            missing=1
            continue
        fi
        have=$(version_of "$binary")
        [ "$have" = "$want" ] || fail "$(command -v "$binary") is version ${have:-unknown}; the" \
            "tests are written for $want (Debian 12's). Install Debian 12's package" \
            "(apt-get install ${packages[*]}), or move the pin in tests/infra/setup.sh and check" \
            "the configurations in tests/common/proxy.rs and deploy/prometheus/ against the new version"
    done
    return $missing
}

summary() {
    echo "nginx $(full_version_of nginx), HAProxy $(full_version_of haproxy), Prometheus $(full_version_of prometheus), promtool $(full_version_of promtool)"
}

if all_pinned; then
    summary
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "not root, so cannot apt-get install ${packages[*]}: the infrastructure tests will skip"
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "no apt-get to install ${packages[*]} with: the infrastructure tests will skip"
    exit 0
fi

# Daemons running before the install are not ours to stop; any other one is the install's.
# (One pgrep a name: pgrep refuses a pattern longer than a process name's 15 characters.)
daemons() {
    local name
    for name in nginx haproxy prometheus; do
        pgrep -x "$name" || true
    done
}
before=$(daemons)

# invoke-rc.d and deb-systemd-invoke ask /usr/sbin/policy-rc.d before starting a service, and
# 101 means "not allowed". A policy the machine has (Debian's container images ship one) is
# kept aside and put back, whatever happens.
policy=/usr/sbin/policy-rc.d
kept=
if [ -e "$policy" ]; then
    kept=$(mktemp "$policy.kept.XXXXXX")
    mv "$policy" "$kept"
fi
restore_policy() {
    rm -f "$policy"
    if [ -n "$kept" ]; then
        mv "$kept" "$policy"
    fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# tests/infra/setup.sh is installing: no service may start.\nexit 101\n' >"$policy"
chmod 755 "$policy"

echo "installing ${packages[*]} with apt-get (once)" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt may hold dpkg's lock for a while (unattended upgrades): wait for it, bounded.
apt=(apt-get -qq -o DPkg::Lock::Timeout=300)
"${apt[@]}" update >&2 || fail "apt-get update failed; run tests/infra/setup.sh again to retry"
"${apt[@]}" install -y --no-install-recommends "${packages[@]}" >&2 ||
    fail "apt-get could not install ${packages[*]}; run tests/infra/setup.sh again to retry"

restore_policy
trap - EXIT

# Whatever started despite the policy (a service manager that does not ask it) is stopped:
# SIGTERM, then SIGKILL for any still there after 10 s.
started=$(comm -13 <(sort <<<"$before") <(daemons | sort) | sed '/^$/d')
if [ -n "$started" ]; then
    echo "stopping what the install started: $(tr '\n' ' ' <<<"$started")" >&2
    # shellcheck disable=SC2086 # one pid a word
    kill $started 2>/dev/null || true
    for _ in $(seq 100); do
        alive=$(for pid in $started; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done || true)
        [ -z "$alive" ] && break
        sleep 0.1
    done
    if [ -n "$alive" ]; then
        # shellcheck disable=SC2086
        kill -KILL $alive 2>/dev/null || true
    fi
fi

all_pinned || fail "apt-get installed ${packages[*]}, yet one of nginx, haproxy, prometheus, promtool is still missing"
summary
