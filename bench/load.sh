#!/usr/bin/env bash
# greeter as a load generator: `greeter hello --count` against h2load, both driving the same
# `greeter serve` in the same run, and the client's memory over a long `--duration` run.
#
#   bench/load.sh                  two runs of 1x1, 1x32 and 4x32, then a 10-minute memory run
#   bench/load.sh --record         the same, then its section of BENCHMARKS.md is rewritten
#   bench/load.sh --runs 1 --rounds 3 --memory 1m --instructions
#
# Options: --runs N (2), --rounds N (5), --calls N (60000), --memory DURATION (10m; 0 skips
# it), --instructions (also count each client's instructions per call under callgrind), --bin
# PATH (default target/release/greeter, built first), --out DIR (target/load), --record.
#
# How. Each run starts a fresh `greeter serve --workers 1 --addr 127.0.0.1:0` pinned to CPU 0
# (`taskset -c 0`); the load runs pinned to CPU 1. At each setting (connections x streams),
# each round makes CALLS unary SayHello calls (name "world") with h2load (`-c C -m M -t 1`)
# and with `greeter hello -q --concurrency C*M --connections C`, the one going first changing
# each round, so a slow spell of this shared machine falls on both; a run's figure is the
# median of its rounds. req/s is each tool's own (h2load's `finished in` line, greeter's JSON
# summary); client CPU per call is the load process's user and system time (its rusage, read
# by bench/load.py timed) over its calls. Every h2load run must see every request succeed
# with a 2xx and 18 bytes of data each ("Hello world" in gRPC framing: h2load cannot read
# trailers, so a missing reply is the sign of an error), and every greeter run must end with
# every call OK; otherwise the script fails.
#
# Instructions (--instructions): each client under callgrind (`valgrind --tool=callgrind`, an
# empty environment) makes 2000 calls and then 12000 against a fresh server; the difference
# over 10000 is what one more call costs, start-up left out, as bench/callgrind.sh counts the
# server's.
#
# Memory: `greeter hello --duration D --concurrency 32 -q` against a fresh server, its RSS
# read from /proc every 2 s (bench/soak.py sample); bench/load.py reports it after the first
# 10 s, at the end and its peak, and what its growth after those 10 s would come to in an hour.
set -euo pipefail

command="bench/load.sh $*"
runs=2
rounds=5
calls=60000
memory=10m
instructions=false
record=false
bin=
out=
usage() { echo "usage: bench/load.sh [--runs N] [--rounds N] [--calls N] [--memory DURATION|0] [--instructions] [--bin PATH] [--out DIR] [--record]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=${2:?}; shift 2 ;;
        --rounds) rounds=${2:?}; shift 2 ;;
        --calls) calls=${2:?}; shift 2 ;;
        --memory) memory=${2:?}; shift 2 ;;
        --instructions) instructions=true; shift ;;
        --bin) bin=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --record) record=true; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) usage ;;
    esac
done
for number in "$runs" "$rounds" "$calls"; do [[ $number =~ ^[1-9][0-9]*$ ]] || usage; done
# 0 (no memory run), or 90, 90s, 10m, 1h: seconds, as greeter hello's --duration takes them.
if [[ $memory =~ ^([0-9]+)([smh]?)$ ]]; then
    case "${BASH_REMATCH[2]}" in
        m) memory_s=$((BASH_REMATCH[1] * 60)) ;;
        h) memory_s=$((BASH_REMATCH[1] * 3600)) ;;
        *) memory_s=${BASH_REMATCH[1]} ;;
    esac
else
    usage
fi

# --out and --bin are taken from where the script was started; it then works from the root.
root=$(cd "$(dirname "$0")/.." && pwd)
out=${out:-$root/target/load}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -z "$bin" ] || bin=$(realpath "$bin")
cd "$root"

say() { echo "load: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
export PYTHONDONTWRITEBYTECODE=1 # load.py imports soak.py and report.py: no __pycache__ in bench/
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

need=()
command -v h2load >/dev/null || need+=(nghttp2-client)
command -v taskset >/dev/null || need+=(util-linux)
! $instructions || command -v valgrind >/dev/null || need+=(valgrind)
install_packages ${need[@]+"${need[@]}"}
[ "$(nproc)" -ge 2 ] || { say "needs 2 CPUs: one for the server, one for the load"; exit 1; }
if [ -z "$bin" ]; then
    say "building greeter (release)"
    cargo build --release --quiet
    bin=$root/target/release/greeter
fi
[ -x "$bin" ] || fail "no greeter at $bin"

# --- whatever is running when the script ends is stopped, failure and Ctrl-C included ----------
tmp=$(mktemp -d /tmp/greeter-load.XXXXXXXXXX) # a path of fixed length, for callgrind
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    stop_all
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

server=
addr=
start_server() { # log: sets server and addr
    taskset -c 0 "$bin" serve --workers 1 --addr 127.0.0.1:0 >"$1" 2>"$1.err" &
    server=$!
    pids+=("$server")
    addr=
    for _ in $(seq 200); do
        addr=$(sed -n 's/^listening on //p' "$1")
        [ -n "$addr" ] && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.05
    done
    fail "the server did not start: $(cat "$1.err")"
}
stop_server() {
    stop "$server"
    unset 'pids[${#pids[@]}-1]'
}

# One SayHello request (name "world") in gRPC's length-prefixed framing, as bench/run.sh sends.
printf '\x00\x00\x00\x00\x07\x0a\x05world' >"$tmp/request.bin"
h2load_args() { # connections streams calls
    echo -n "-n $3 -c $1 -m $2 -t 1 -d $tmp/request.bin -H content-type:application/grpc" \
        "-H te:trailers http://$addr/helloworld.Greeter/SayHello"
}
greeter_args() { # connections streams calls
    echo -n "hello --addr $addr --count $3 -q -o json --concurrency $(($1 * $2)) --connections $1"
}

# h2load's summary must account for every call, as bench/callgrind.sh checks it.
check_h2load() { # file calls
    grep -Eq "^requests: $2 total, $2 started, $2 done, $2 succeeded, 0 failed, 0 errored, 0 timeout$" "$1" &&
        grep -Eq "^status codes: $2 2xx, 0 3xx, 0 4xx, 0 5xx$" "$1" &&
        grep -Eq "^traffic: .*\($((18 * $2))\) data$" "$1" && return 0
    tail -5 "$1" >&2
    fail "h2load did not see all $2 calls succeed"
}

measure() { # tool connections streams file-prefix
    local c=$2 m=$3 at=$4 rc=0
    case "$1" in
        h2load)
            # shellcheck disable=SC2046 # the arguments are words
            python3 bench/load.py timed "$at.time" taskset -c 1 h2load $(h2load_args "$c" "$m" "$calls") \
                >"$at.txt" 2>&1 || rc=$?
            [ "$rc" -eq 0 ] || { tail -5 "$at.txt" >&2; fail "h2load exited $rc"; }
            check_h2load "$at.txt" "$calls" ;;
        greeter)
            # shellcheck disable=SC2046
            python3 bench/load.py timed "$at.time" taskset -c 1 "$bin" $(greeter_args "$c" "$m" "$calls") \
                >/dev/null 2>"$at.json" || rc=$?
            [ "$rc" -eq 0 ] || { tail -5 "$at.json" >&2; fail "greeter hello exited $rc"; } ;;
    esac
}

settings="1x1 1x32 4x32"
rm -rf "$out"/run* "$out"/instructions "$out"/memory.* "$out"/load.md
for run in $(seq "$runs"); do
    mkdir -p "$out/run$run"
    start_server "$out/run$run/server.out"
    say "run $run: greeter serve on $addr"
    tools=(h2load greeter)
    for setting in $settings; do
        c=${setting%x*} m=${setting#*x}
        for round in $(seq "$rounds"); do
            for tool in "${tools[@]}"; do
                say "run $run, $setting, round $round: $tool"
                measure "$tool" "$c" "$m" "$out/run$run/$setting.$round.$tool"
            done
            tools=("${tools[1]}" "${tools[0]}")
        done
    done
    stop_server
done

if $instructions; then
    mkdir -p "$out/instructions"
    cp "$bin" "$tmp/greeter"
    valgrind=$(command -v valgrind)
    h2load=$(command -v h2load)
    for setting in $settings; do
        c=${setting%x*} m=${setting#*x}
        for tool in h2load greeter; do
            start_server "$out/instructions/server.out"
            for n in 2000 12000; do
                say "instructions: $tool at $setting, $n calls"
                at=$out/instructions/$setting.$tool.$n
                # shellcheck disable=SC2046
                case "$tool" in
                    h2load) env -i taskset -c 1 "$valgrind" --tool=callgrind --callgrind-out-file="$at.callgrind" \
                        "$h2load" $(h2load_args "$c" "$m" "$n") >"$at.txt" 2>&1
                        check_h2load "$at.txt" "$n" ;;
                    greeter) env -i taskset -c 1 "$valgrind" --tool=callgrind --callgrind-out-file="$at.callgrind" \
                        "$tmp/greeter" $(greeter_args "$c" "$m" "$n") >/dev/null 2>"$at.json" ;;
                esac
            done
            stop_server
        done
    done
fi

if [ "$memory_s" -gt 0 ]; then
    start_server "$out/memory.server.out"
    say "memory: greeter hello --duration ${memory_s}s --concurrency 32 against $addr"
    echo load >"$tmp/phase"
    taskset -c 1 "$bin" hello --addr "$addr" --duration "${memory_s}s" --concurrency 32 -q -o json \
        >/dev/null 2>"$out/memory.json" &
    client=$!
    pids+=("$client")
    python3 bench/soak.py sample "$client" "$out/memory.csv" "$tmp/phase" 2 "$(date +%s.%N)" &
    pids+=($!)
    rc=0
    wait "$client" || rc=$?
    [ "$rc" -eq 0 ] || { tail -5 "$out/memory.json" >&2; fail "greeter hello exited $rc"; }
    wait "${pids[${#pids[@]}-1]}" || true
    unset 'pids[${#pids[@]}-1]' 'pids[${#pids[@]}-1]'
    stop_server
fi

python3 bench/load.py report "$out" -- runs="$runs" rounds="$rounds" calls="$calls" \
    memory_s="$memory_s" bin="$bin" command="$command"
if $record; then
    python3 bench/load.py record "$out/load.md" BENCHMARKS.md
    say "wrote the load generator section of BENCHMARKS.md"
fi
