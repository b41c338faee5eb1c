#!/usr/bin/env bash
# Sets up the official Python gRPC implementation (grpcio) as an independent peer for the
# interop tests: a virtualenv with pinned packages, and stubs generated from proto/.
#
# Idempotent and cached: a second run with nothing changed returns at once without touching the
# network. Safe to run from several test processes at once (flock). Prints the venv's python on
# stdout as its last line; progress and errors go to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${GREETER_PEER_DIR:-$repo/target/python-peer}
proto_dir=${GREETER_PROTO_DIR:-$repo/proto}
venv=$dir/venv
python=$venv/bin/python
gen=$dir/gen

fail() {
    echo "tests/peer/setup.sh: $*" >&2
    exit 1
}

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock -w 600 9 || fail "another set-up held $dir/.lock for 10 minutes; remove it and retry"

# Everything the result depends on; a change to any of it redoes the set-up.
stamp_of() {
    cat "$here/requirements.txt" "$0" \
        "$proto_dir/helloworld.proto" "$proto_dir/grpc/health/v1/health.proto" | sha256sum | cut -d' ' -f1
}
stamp=$(stamp_of)
if [ -x "$python" ] && [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    echo "$python"
    exit 0
fi

command -v python3 >/dev/null || fail "python3 is not installed (Debian: apt-get install -y python3 python3-venv)"
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing python3-venv with apt-get" >&2
        { apt-get update -qq && apt-get install -y -qq python3-venv; } >&2 ||
            fail "could not install python3-venv with apt-get"
    else
        fail "python3 cannot create virtualenvs: install python3-venv (Debian) and retry"
    fi
fi

echo "setting up the Python grpcio peer in $dir (once)" >&2
rm -rf "$venv" "$gen" "$dir/.stamp"
python3 -m venv "$venv" >&2 || fail "python3 -m venv $venv failed"
"$python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2 ||
    fail "pip could not install tests/peer/requirements.txt (is PyPI reachable?); run tests/peer/setup.sh again to retry"

mkdir -p "$gen"
"$python" -m grpc_tools.protoc -I"$proto_dir" --python_out="$gen" --grpc_python_out="$gen" \
    "$proto_dir/helloworld.proto" >&2 || fail "grpc_tools.protoc could not compile helloworld.proto"

echo "$stamp" >"$dir/.stamp"
echo "$python"
