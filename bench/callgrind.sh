#!/usr/bin/env bash
# Instructions per unary call of `greeter serve`, counted by callgrind: the project's measure of
# CPU cost. On this shared 2-core machine wall-clock figures move by 10 % and more from one run
# to the next; an instruction count repeats to 0.1 %, so two builds can be compared.
#
#   bench/callgrind.sh                            target/release/greeter (build it first)
#   bench/callgrind.sh --bin /tmp/greeter-old --json
#   bench/callgrind.sh -- --keepalive-interval 0s     `greeter serve` flags after --
#
# Options: --bin PATH (default target/release/greeter; nothing is built here, so any two
# binaries can be measured the same way), --json (one JSON object instead of a line per shape),
# --out DIR (keep the callgrind files there, for callgrind_annotate).
#
# How. `valgrind --tool=callgrind greeter serve --addr 127.0.0.1:0 --workers 1` says its port
# in its readiness line; h2load makes unary SayHello calls (name "world") at two shapes,
# 4x32 (`-c 4 -m 32 -t 1`) and 100x10 (`-c 100 -m 10 -t 1`); SIGINT stops the server, callgrind
# writes its counts, and the `totals:` lines are summed. Each shape runs on two fresh servers,
# one given 2000 calls and one 22000, over the same connections. Start-up, the connections'
# set-up and tear-down, what the first calls warm (buffers, HPACK tables, the allocator's heap)
# and the shutdown are in both runs, so the difference divided by 20000 is what one more call
# costs a warm server. (Dividing one run's total by its calls, as the figures in bench/notes.md
# before this script did, adds start-up and connections: at 20000 calls about 130 instructions
# per call at 4x32 and 780 at 100x10, whose 100 connections cost some 130k instructions each.)
#
# The server runs as a copy of the binary at a path of fixed length, with an empty environment:
# where its stack starts, and so the alignment of what is copied on it, moves with the length of
# its path, arguments and environment, and that alone moved the count by up to 0.5 % (one
# binary copied to two paths, 28 and 41 characters long: 42434 against 42634 at 4x32). That also
# keeps GREETER_* variables and RUST_LOG out: only the flags on the command line change what is
# counted.
#
# Every h2load run must report every request succeeded with a 2xx status and 18 bytes of data
# each ("Hello world" in gRPC framing): a gRPC error arrives as HTTP 200 with only trailers,
# which h2load cannot read, so a missing reply is the sign of it. Otherwise the script fails.
set -euo pipefail

bin=
json=false
out=
serve_flags=()
usage() { echo "usage: bench/callgrind.sh [--bin PATH] [--json] [--out DIR] [-- SERVE-FLAGS...]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bin=${2:?}; shift 2 ;;
        --json) json=true; shift ;;
        --out) out=${2:?}; shift 2 ;;
        --) shift; serve_flags=("$@"); break ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) usage ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${bin:-$root/target/release/greeter}")
[ -x "$bin" ] || { echo "callgrind: no greeter at $bin (cargo build --release)" >&2; exit 1; }
if [ -n "$out" ]; then mkdir -p "$out" && out=$(cd "$out" && pwd); fi

say() { echo "callgrind: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

need=()
command -v valgrind >/dev/null || need+=(valgrind)
command -v h2load >/dev/null || need+=(nghttp2-client)
install_packages ${need[@]+"${need[@]}"}

# --- whatever is running when the script ends is stopped, failure and Ctrl-C included ----------
tmp=$(mktemp -d /tmp/greeter-callgrind.XXXXXXXXXX) # not $TMPDIR: the path's length is fixed
server=
driver=
stop() { # pid signal: the signal, then SIGKILL if it is still there 5 s later
    kill "-$2" "$1" 2>/dev/null || return 0
    gone_within "$1" 5 || kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    # h2load's `timeout` passes SIGTERM on (a background job ignores SIGINT unless it installs
    # a handler); the server handles SIGINT once it has started, and callgrind then writes.
    [ -z "$driver" ] || stop "$driver" TERM
    [ -z "$server" ] || stop "$server" INT
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

gone_within() { # pid seconds
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

cp "$bin" "$tmp/greeter"
valgrind=$(command -v valgrind)

# One SayHello request (name "world") in gRPC's length-prefixed framing, as bench/run.sh sends.
printf '\x00\x00\x00\x00\x07\x0a\x05world' >"$tmp/request.bin"

# h2load's summary must account for every call: "requests: N total, N started, N done, N
# succeeded, 0 failed, ...", "status codes: N 2xx, ..." and "traffic: ... (18N) data".
check_h2load() { # file calls
    local file=$1 n=$2
    grep -Eq "^requests: $n total, $n started, $n done, $n succeeded, 0 failed, 0 errored, 0 timeout$" "$file" &&
        grep -Eq "^status codes: $n 2xx, 0 3xx, 0 4xx, 0 5xx$" "$file" &&
        grep -Eq "^traffic: .*\($((18 * n))\) data$" "$file" && return 0
    grep -E '^(requests|status codes|traffic):' "$file" >&2 || tail -5 "$file" >&2
    fail "h2load did not see all $n calls succeed"
}

server_errors() { # run: the server's last words, without valgrind's (its lines start ==PID==)
    grep -v '^==[0-9]*==' "$1/server.err" | tail -5
}

# One fresh server under callgrind given `calls` calls of one shape; sets `total` to the
# instructions it ran, start to exit. Not run in $(...): the EXIT trap must see the pids.
total=
count() { # connections streams calls
    local c=$1 m=$2 n=$3 run=$tmp/$1x$2.$3 port='' rc=0 file
    mkdir "$run"
    say "${c}x$m: $n calls"
    env -i "$valgrind" --tool=callgrind --callgrind-out-file="$run/callgrind.out" \
        "$tmp/greeter" serve --addr 127.0.0.1:0 --workers 1 ${serve_flags[@]+"${serve_flags[@]}"} \
        >"$run/server.out" 2>"$run/server.err" &
    server=$!
    # Valgrind may take seconds to load the binary; a minute is a hang.
    for _ in $(seq 600); do
        port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$run/server.out")
        [ -n "$port" ] && break
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] || { server_errors "$run" >&2; fail "the server did not start"; }

    # In the background, so a signal to the script is not held up until h2load ends.
    timeout 300 h2load -n "$n" -c "$c" -m "$m" -t 1 -d "$tmp/request.bin" \
        -H content-type:application/grpc -H te:trailers \
        "http://127.0.0.1:$port/helloworld.Greeter/SayHello" >"$run/h2load.txt" 2>&1 &
    driver=$!
    wait "$driver" || rc=$?
    driver=
    [ "$rc" -eq 0 ] || { tail -5 "$run/h2load.txt" >&2; fail "h2load exited $rc (124: not done within 300 s)"; }
    check_h2load "$run/h2load.txt" "$n"

    # SIGINT, not SIGKILL: callgrind writes its file when the server exits. Nothing is in
    # flight, so the grace period does not apply.
    kill -INT "$server"
    gone_within "$server" 60 || fail "the server did not exit within 60 s of SIGINT"
    rc=0
    wait "$server" || rc=$?
    server=
    [ "$rc" -eq 0 ] || { server_errors "$run" >&2; fail "the server exited $rc"; }
    total=$(awk '$1 == "totals:" { sum += $2; seen = 1 } END { if (seen) printf "%.0f\n", sum }' "$run"/callgrind.out*)
    [ -n "$total" ] || fail "no totals: line in $run/callgrind.out"
    if [ -n "$out" ]; then
        for file in "$run"/callgrind.out*; do cp "$file" "$out/${c}x$m.$n.${file##*/}"; done
    fi
}

baseline_calls=2000
calls=20000
results=()
for shape in 4x32 100x10; do
    count "${shape%x*}" "${shape#*x}" "$baseline_calls"
    baseline=$total
    count "${shape%x*}" "${shape#*x}" $((baseline_calls + calls))
    per_call=$(( (total - baseline + calls / 2) / calls ))
    results+=("$shape" "$per_call" "$baseline" "$total")
    $json || echo "$shape  $per_call instructions/call"
done

if $json; then
    python3 - "$bin" "$baseline_calls" "$calls" "${#serve_flags[@]}" \
        ${serve_flags[@]+"${serve_flags[@]}"} "${results[@]}" <<'EOF'
import json, sys
bin, baseline_calls, calls, n_flags, *rest = sys.argv[1:]
flags, rest = rest[:int(n_flags)], rest[int(n_flags):]
shapes = {
    shape: {
        "instructions_per_call": int(per_call),
        "instructions": {baseline_calls: int(baseline), str(int(baseline_calls) + int(calls)): int(total)},
    }
    for shape, per_call, baseline, total in zip(*[iter(rest)] * 4)
}
print(json.dumps({"bin": bin, "serve_flags": flags, "calls": int(calls), "shapes": shapes}))
EOF
fi
