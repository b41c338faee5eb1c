#!/usr/bin/env bash
# The benchmark: greeter against grpc-go (Debian's 1.33, GOMAXPROCS=1) and an untuned tonic
# 0.14 greeter, side by side on this machine in the same run, then BENCHMARKS.md and a chart;
# then greeter hello as a load generator against h2load, and its memory over 10 minutes
# (bench/load.sh, which writes its own section of BENCHMARKS.md).
#
#   bench/run.sh                 two runs, 8 s per server and setting after a 2 s warm-up,
#                                in slices of 2 s with the servers taking turns
#   bench/run.sh --runs 1 --seconds 3
#
# Each server is pinned to CPU 0 and h2load (unary SayHello, name "world") to CPU 1, at 1x1,
# 4x32 and 100x10 (connections x concurrent streams). h2load cannot read trailers, so every
# server's answer is checked with `greeter hello` before and after the load. Everything it needs
# is installed here (Debian packages), idempotently. Results land in target/bench/.
set -euo pipefail

runs=2
seconds=8
warmup=2
slice_seconds=2
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        *) echo "usage: bench/run.sh [--runs N] [--seconds S]" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/target/bench
bin=$out/bin
mkdir -p "$bin"
cd "$root"

say() { echo "bench: $*" >&2; }
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

# --- what it needs ----------------------------------------------------------------------------
need=()
command -v h2load >/dev/null || need+=(nghttp2-client)
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/google.golang.org/grpc ] || need+=(golang-google-grpc-dev)
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v taskset >/dev/null || need+=(util-linux)
[ -x /usr/bin/time ] || need+=(time)
install_packages "${need[@]}"
[ "$(nproc)" -ge 2 ] || { say "needs 2 CPUs: one for the server, one for h2load"; exit 1; }

# --- builds ---------------------------------------------------------------------------------
say "building greeter, the tonic baseline and the grpc-go peer (release)"
cargo build --release --quiet
cargo build --release --quiet --manifest-path bench/plain-tonic/Cargo.toml \
    --target-dir target/bench-plain-tonic
for part in server client; do
    (cd "bench/grpc-go/$part" &&
        GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$out/go-cache" go build -o "$bin/grpc-go-$part" .)
done
greeter=$root/target/release/greeter

# --- one server at a time ---------------------------------------------------------------------
# All three servers run side by side (each pinned to CPU 0, idle but for its turn), so each
# setting measures them one after another: a slow spell of this shared machine then hits the
# servers of one setting alike instead of whichever server's block it fell in.
declare -A pids addrs
start_server() { # name
    local log=$out/$1.server.log pid addr
    case "$1" in
        greeter) taskset -c 0 "$greeter" serve --addr 127.0.0.1:0 >"$log" 2>"$log.err" & ;;
        grpc-go) GOMAXPROCS=1 taskset -c 0 "$bin/grpc-go-server" -addr 127.0.0.1:0 >"$log" 2>"$log.err" & ;;
        plain-tonic) taskset -c 0 target/bench-plain-tonic/release/plain-tonic-greeter 127.0.0.1:0 >"$log" 2>"$log.err" & ;;
    esac
    pid=$!
    pids[$1]=$pid
    for _ in $(seq 200); do
        addr=$(sed -n 's/^listening on //p' "$log")
        if [ -n "$addr" ]; then addrs[$1]=$addr; return 0; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    say "$1 did not start: $(cat "$log.err")"
    exit 1
}

stop_servers() {
    local name
    for name in "${!pids[@]}"; do
        kill "${pids[$name]}" 2>/dev/null || true
        wait "${pids[$name]}" 2>/dev/null || true
        unset "pids[$name]"
    done
}
trap stop_servers EXIT

check_answer() { # name when
    local answer
    answer=$("$greeter" hello --addr "${addrs[$1]}" --timeout 2s bench) ||
        { say "$1 gave no answer $2 the load"; exit 1; }
    [ "$answer" = "Hello bench" ] || { say "$1 answered '$answer' $2 the load"; exit 1; }
}

proc_field() { # pid field (kB fields of /proc/PID/status)
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

cpu_ticks() { # pid: user + system clock ticks
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

printf '\x00\x00\x00\x00\x07\x0a\x05world' >"$out/request.bin"
h2load_run() { # address seconds connections streams [log]
    taskset -c 1 h2load -D "$2" -c "$3" -m "$4" -t 1 \
        -H 'content-type: application/grpc' -H 'te: trailers' \
        -d "$out/request.bin" ${5:+--log-file="$5"} \
        "http://$1/helloworld.Greeter/SayHello"
}

slices=$(( (seconds + slice_seconds - 1) / slice_seconds ))
results=$out/results.jsonl
: >"$results"
settings="1x1 4x32 100x10"
servers=(greeter grpc-go plain-tonic)
for run in $(seq "$runs"); do
    declare -A idle_rss=()
    for server in "${servers[@]}"; do
        start_server "$server"
        check_answer "$server" before
        idle_rss[$server]=$(proc_field "${pids[$server]}" VmRSS)
    done
    for setting in $settings; do
        connections=${setting%x*}
        streams=${setting#*x}
        declare -A ticks=()
        for server in "${servers[@]}"; do
            say "run $run: $server at $setting"
            h2load_run "${addrs[$server]}" "$warmup" "$connections" "$streams" >/dev/null
            rm -f "$out/latency.$server.tsv" "$out/h2load.$server".*.txt # h2load appends to its log
            ticks[$server]=0
        done
        # The measured time comes in slices of 2 s, the servers taking turns (the order turning
        # each slice), so a slow spell of the machine falls on all of them rather than on one.
        for slice in $(seq "$slices"); do
            for server in "${servers[@]}"; do
                pid=${pids[$server]}
                ticks_before=$(cpu_ticks "$pid")
                h2load_run "${addrs[$server]}" "$slice_seconds" "$connections" "$streams" \
                    "$out/latency.$server.tsv" >"$out/h2load.$server.$slice.txt"
                ticks[$server]=$((ticks[$server] + $(cpu_ticks "$pid") - ticks_before))
            done
            servers=("${servers[@]:1}" "${servers[0]}")
        done
        for server in "${servers[@]}"; do
            python3 bench/report.py record "$results" "$out/latency.$server.tsv" \
                "$out/h2load.$server".*.txt -- \
                run="$run" server="$server" setting="$setting" \
                cpu_ticks="${ticks[$server]}" hz="$(getconf CLK_TCK)" \
                idle_rss_kib="${idle_rss[$server]}" peak_rss_kib="$(proc_field "${pids[$server]}" VmHWM)"
        done
    done
    for server in "${!pids[@]}"; do check_answer "$server" after; done
    stop_servers
done

# --- one-shot client: process start to exit --------------------------------------------------
say "one-shot clients against greeter serve"
start_server greeter
check_answer greeter before
# Five rounds of 20 runs each, the two clients taking turns (the first one changing each
# round), so a slow spell falls on both; the medians are over all 100 runs of each.
clients=("greeter hello" "$greeter hello --addr ${addrs[greeter]}"
    "grpc-go client" "$bin/grpc-go-client -addr ${addrs[greeter]}")
oneshots=()
for round in 1 2 3 4 5; do
    hyperfine -N --warmup 3 --runs 20 --style basic --export-json "$out/oneshot.$round.json" \
        -n "${clients[0]}" "${clients[1]}" -n "${clients[2]}" "${clients[3]}" >&2
    oneshots+=("$out/oneshot.$round.json")
    clients=("${clients[@]:2}" "${clients[@]:0:2}")
done
python3 bench/report.py peak-rss "$out/oneshot-rss.json" 20 \
    "greeter hello=$greeter hello --addr ${addrs[greeter]}" \
    "grpc-go client=$bin/grpc-go-client -addr ${addrs[greeter]}"
stop_servers

python3 bench/report.py write "$results" "$(IFS=,; echo "${oneshots[*]}")" "$out/oneshot-rss.json" \
    "$root/BENCHMARKS.md" "$root/bench/chart.svg" "bench/run.sh --runs $runs --seconds $seconds"
say "wrote BENCHMARKS.md and bench/chart.svg"

# --- greeter as a load generator: greeter hello against h2load, and its memory -----------------
bench/load.sh --runs "$runs" --bin "$greeter" --instructions --record
