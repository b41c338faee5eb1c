#!/usr/bin/env bash
# Sets up the official Node gRPC implementation (@grpc/grpc-js, with @grpc/proto-loader) as a
# second independent peer for the interop tests: `npm ci` of tests/peer/node/package-lock.json
# into target/node-peer/node_modules. The scripts (tests/peer/greeter_*.js) load
# proto/helloworld.proto at run time, so nothing is generated here.
#
# Idempotent and cached: a second run with nothing changed returns at once without touching the
# network. Safe to run from several test processes at once (flock). Prints the directory that
# holds node_modules on stdout as its last line; progress and errors go to stderr.
#
# To move to other versions: edit tests/peer/node/package.json, then in tests/peer/node run
#   npm install --package-lock-only --omit-lockfile-registry-resolved --no-audit --no-fund
# and commit both files (no node_modules is made there).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${GREETER_NODE_PEER_DIR:-$repo/target/node-peer}
pkg=$here/node

fail() {
    echo "tests/peer/node-setup.sh: $*" >&2
    exit 1
}

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock -w 600 9 || fail "another set-up held $dir/.lock for 10 minutes; remove it and retry"

# Everything the result depends on; a change to any of it redoes the set-up. The node version is
# part of it so that the fast path also proves node is still there.
stamp_of() {
    { cat "$pkg/package.json" "$pkg/package-lock.json" "$0"; node --version 2>/dev/null || true; } |
        sha256sum | cut -d' ' -f1
}
stamp=$(stamp_of)
if [ -f "$dir/node_modules/@grpc/grpc-js/package.json" ] && [ -f "$dir/.stamp" ] &&
    [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    echo "$dir"
    exit 0
fi

# Debian packages node and npm separately; install whichever is missing when we can.
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing ${missing[*]} with apt-get" >&2
        { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >&2 ||
            fail "could not install ${missing[*]} with apt-get"
        stamp=$(stamp_of)
    else
        fail "missing the Debian package(s) ${missing[*]}: install Node.js 18 or later with npm (Debian: apt-get install -y nodejs npm) and retry"
    fi
fi
# The scripts parse their arguments with node:util's parseArgs (Node 18.3 and later).
node -e 'if (typeof require("node:util").parseArgs !== "function") process.exit(1)' 2>/dev/null ||
    fail "node $(node --version) is too old for the peer scripts: install Node.js 18 or later and retry"

echo "setting up the Node @grpc/grpc-js peer in $dir (once)" >&2
rm -rf "$dir/node_modules" "$dir/.stamp"
cp "$pkg/package.json" "$pkg/package-lock.json" "$dir/"
# --ignore-scripts: everything here is plain JavaScript, and the one install script (protobufjs's
# postinstall) only warns about version ranges. The cache stays under target/ like the rest.
(cd "$dir" && npm ci --no-audit --no-fund --no-update-notifier --ignore-scripts \
    --cache "$dir/npm-cache" --loglevel warn) >&2 ||
    fail "npm ci could not install tests/peer/node/package-lock.json (is the npm registry reachable?); run tests/peer/node-setup.sh again to retry"

NODE_PATH=$dir/node_modules node -e 'require("@grpc/grpc-js"); require("@grpc/proto-loader")' >&2 ||
    fail "the installed @grpc/grpc-js or @grpc/proto-loader does not load with node $(node --version)"

echo "$stamp" >"$dir/.stamp"
echo "$dir"
