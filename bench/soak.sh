#!/usr/bin/env bash
# The soak: greeter serve under 1000 connections for minutes, watched from /proc, to show it
# neither leaks nor fails when it is kept busy for long.
#
#   bench/soak.sh                        10 minutes at 1000 connections (release build)
#   bench/soak.sh --record               the same, then its section of BENCHMARKS.md and
#                                        bench/soak.svg are rewritten with the figures
#   bench/soak.sh --duration 20s --connections 1000 --check server --out target/soak
#                                        what CI runs
#
# Options: --duration 10m|20s|1h (default 10m), --connections N (1000), --interval SECONDS
# (whole) between samples (2; 1 under a minute, so each window below holds a few samples), --out DIR
# (target/soak), --bin PATH (default target/release/greeter, built first), --record, and
# --check [all|server|client] (all when bare): exit 1 when a checked bound is not met.
# --rss-bound PCT: the RSS growth allowed after the warm-up (default 5).
#
# The server (`--addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0`) idles for a few samples
# (baseline), then h2load holds the connections, one unary SayHello in flight on each, while a
# `greeter hello --duration D --concurrency 64` run calls the same server (load), then both
# stop and the sampling goes on until the descriptors are back (after). Every few seconds
# the server's and the client's RSS, open descriptors and CPU are read from /proc into
# server.csv and client.csv (time_s,rss_kib,fds,cpu_pct,phase), charted in soak.svg.
#
# The bounds (bench/soak.py judges them; the summary says which failed and by how much):
# - server: no failed request in h2load's count and every call `code="OK"` in the server's
#   greeter_calls_total (h2load cannot read trailers, where a gRPC error arrives); every
#   connection held at once (peak descriptors); RSS growth after the warm-up under 5 % (the
#   median of the last fifth of the load's samples against that of the second fifth); the
#   descriptors back within 2 of the baseline at most 10 s after the load;
# - client: no failed call, and its RSS growth after the warm-up under 5 %, the same way.
#   Today `greeter hello` keeps every latency until the end, so this one fails until the
#   latencies go into a fixed-size histogram; CI checks the server only until then.
set -euo pipefail

command="bench/soak.sh $*"
duration=10m
connections=1000
interval=
out=
bin=
check=none
record=false
usage() { echo "usage: bench/soak.sh [--duration 10m] [--connections 1000] [--interval S] [--out DIR] [--bin PATH] [--check [all|server|client]] [--rss-bound PCT] [--record]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration=${2:?}; shift 2 ;;
        --connections) connections=${2:?}; shift 2 ;;
        --interval) interval=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --bin) bin=${2:?}; shift 2 ;;
        --record) record=true; shift ;;
        --rss-bound) export SOAK_RSS_GROWTH_BOUND=${2:?}; shift 2 ;;
        --check)
            case "${2:-}" in
                all|server|client) check=$2; shift 2 ;;
                *) check=all; shift ;;
            esac ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) usage ;;
    esac
done

# 90, 90s, 10m, 1h: seconds, as both h2load (-D) and greeter hello (--duration) take them.
if [[ $duration =~ ^([0-9]+)([smh]?)$ ]]; then
    case "${BASH_REMATCH[2]}" in
        m) seconds=$((BASH_REMATCH[1] * 60)) ;;
        h) seconds=$((BASH_REMATCH[1] * 3600)) ;;
        *) seconds=${BASH_REMATCH[1]} ;;
    esac
else
    usage
fi
[[ $connections =~ ^[1-9][0-9]*$ ]] || usage
[ "$seconds" -gt 0 ] || usage
if [ -z "$interval" ]; then
    if [ "$seconds" -lt 60 ]; then interval=1; else interval=2; fi
fi
[[ $interval =~ ^[1-9][0-9]*$ ]] || usage

# --out and --bin are taken from where the script was started; it then works from the root.
root=$(cd "$(dirname "$0")/.." && pwd)
out=${out:-$root/target/soak}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -z "$bin" ] || bin=$(realpath "$bin")
cd "$root"

say() { echo "soak: $*" >&2; }
export PYTHONDONTWRITEBYTECODE=1 # soak.py imports report.py: no __pycache__ in bench/
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

command -v h2load >/dev/null || install_packages nghttp2-client
if [ -z "$bin" ]; then
    say "building greeter (release)"
    cargo build --release --quiet
    bin=target/release/greeter
fi
[ -x "$bin" ] || { say "no greeter at $bin"; exit 1; }

# h2load holds one descriptor per connection; its soft limit may be below that. The server
# raises its own soft limit at start.
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((connections + 100)) ] ||
    { say "open-file limit $(ulimit -Hn) is too low for $connections connections"; exit 1; }

# --- every process started here is stopped on the way out, failure and Ctrl-C included ------
tmp=$(mktemp -d)
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    # The drivers and samplers first, the server last, so nothing reconnects to a dying one.
    stop_all
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_until_gone() { # pid seconds: 0 if it exited within the bound, 1 if it had to be stopped
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then stop "$1"; return 1; fi
        sleep 0.2
    done
}

fds_of() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# The samplers read the phase from this file at each sample; a rename, so no read sees it
# half written.
phase() { echo "$1" >"$tmp/phase.new" && mv "$tmp/phase.new" "$tmp/phase"; }

# --- the server ----------------------------------------------------------------------------
rm -f "$out"/*.csv "$out"/h2load.txt "$out"/client.json "$out"/metrics.txt
"$bin" serve --addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0 >"$out/server.out" 2>"$out/server.err" &
server=$!
pids+=("$server")
addr='' metrics=''
for _ in $(seq 200); do
    addr=$(sed -n 's/^listening on //p' "$out/server.out")
    metrics=$(sed -n 's/.*metrics on \(http:[^ ]*\).*/\1/p' "$out/server.err")
    [ -n "$addr" ] && [ -n "$metrics" ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$addr" ] || [ -z "$metrics" ]; then
    say "the server did not start: $(cat "$out/server.err")"
    exit 1
fi
say "greeter serve on $addr (metrics $metrics): $connections connections for ${seconds}s, sampled every ${interval}s"

t0=$(date +%s.%N)
phase baseline
python3 bench/soak.py sample "$server" "$out/server.csv" "$tmp/phase" "$interval" "$t0" &
pids+=($!)
sleep "$((3 * interval))"
baseline_fds=$(fds_of "$server")

# --- the load ------------------------------------------------------------------------------
phase load
# One SayHello request (name "world") in gRPC's length-prefixed framing, as bench/run.sh sends.
printf '\x00\x00\x00\x00\x07\x0a\x05world' >"$tmp/request.bin"
h2load -c "$connections" -m 1 -D "$seconds" -d "$tmp/request.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://$addr/helloworld.Greeter/SayHello" >"$out/h2load.txt" 2>&1 &
h2load=$!
pids+=("$h2load")
"$bin" hello --addr "$addr" --duration "${seconds}s" --concurrency 64 -q -o json \
    >/dev/null 2>"$out/client.json" &
client=$!
pids+=("$client")
python3 bench/soak.py sample "$client" "$out/client.csv" "$tmp/phase" "$interval" "$t0" &
pids+=($!)

# Both stop by themselves at the end of the duration; 60 s more is a hang.
driver_failures=()
wait_until_gone "$h2load" $((seconds + 60)) || driver_failures+=("h2load did not stop")
wait_until_gone "$client" $((seconds + 60)) || driver_failures+=("greeter hello did not stop")
h2load_rc=0; wait "$h2load" || h2load_rc=$?
client_rc=0; wait "$client" || client_rc=$?

# --- after: the descriptors should come back to the baseline ---------------------------------
phase after
load_end=$(date +%s.%N)
fds_after=$(fds_of "$server")
for _ in $(seq 50); do # 10 s
    [ "$fds_after" -le $((baseline_fds + 2)) ] && break
    sleep 0.2
    fds_after=$(fds_of "$server")
done
fds_back_s=$(python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$load_end")
sleep "$((2 * interval))" # a few samples of the after phase for the chart
python3 -c "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())" \
    "$metrics" >"$out/metrics.txt"

# The server and the samplers go now; the report reads what they wrote.
for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
pids=()

status=0
python3 bench/soak.py report "$out" --check "$check" -- \
    connections="$connections" seconds="$seconds" interval="$interval" \
    baseline_fds="$baseline_fds" fds_after="$fds_after" fds_back_s="$fds_back_s" \
    h2load_rc="$h2load_rc" client_rc="$client_rc" bin="$bin" \
    command="$command" || status=$?
for failure in ${driver_failures[@]+"${driver_failures[@]}"}; do say "FAILED: $failure"; status=1; done

if $record; then
    cp "$out/soak.svg" bench/soak.svg
    python3 bench/soak.py record "$out/soak.md" BENCHMARKS.md
    say "wrote the soak section of BENCHMARKS.md and bench/soak.svg"
fi
exit "$status"
