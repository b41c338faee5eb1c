"""The benchmark's bookkeeping for bench/run.sh (standard library only).

  report.py record RESULTS LATENCY_TSV H2LOAD_OUTPUT... -- key=value...
      appends one measurement (req/s, latency percentiles, CPU per call, RSS) to RESULTS,
      from the h2load outputs of its slices and their common latency log
  report.py peak-rss OUT RUNS name=command...
      runs each command RUNS times under GNU time and records the median of its peak RSS
  report.py write RESULTS ONESHOT_JSONS ONESHOT_RSS BENCHMARKS_MD CHART_SVG COMMAND
      (ONESHOT_JSONS: hyperfine's exports of the rounds, comma-separated)
      writes the tables of every run, the ratios and the chart, keeping the load generator's
      and the soak's sections (bench/load.sh --record, bench/soak.sh --record) of the
      BENCHMARKS_MD it replaces
"""

import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys

SERVERS = ["greeter", "grpc-go", "plain-tonic"]
SETTINGS = ["1x1", "4x32", "100x10"]
COLOURS = {"greeter": "#d9480f", "grpc-go": "#1c7ed6", "plain-tonic": "#868e96"}


def percentile(sorted_values, fraction):
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def record(results, latency_tsv, *rest):
    split = rest.index("--")
    outputs, pairs = rest[:split], rest[split + 1:]
    fields = dict(pair.split("=", 1) for pair in pairs)
    seconds = succeeded = failed = done = 0.0
    for output in outputs:
        text = open(output).read()
        duration, rate = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", text).groups()
        counts = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed", text)
        seconds += float(duration)
        done += float(rate) * float(duration)
        succeeded += int(counts.group(3))
        failed += int(counts.group(4))
    rps = done / seconds
    succeeded, failed = int(succeeded), int(failed)
    latencies = []
    with open(latency_tsv) as lines:
        for line in lines:
            columns = line.split()
            if len(columns) >= 3 and columns[1] == "200":
                latencies.append(int(columns[2]) / 1000.0)  # microseconds -> ms
    latencies.sort()
    cpu_seconds = int(fields["cpu_ticks"]) / int(fields["hz"])
    row = {
        "run": int(fields["run"]),
        "server": fields["server"],
        "setting": fields["setting"],
        "rps": rps,
        "succeeded": succeeded,
        "failed": failed,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "p999_ms": percentile(latencies, 0.999),
        "cpu_percent": 100.0 * cpu_seconds / seconds,
        "cpu_us_per_call": 1e6 * cpu_seconds / max(1, succeeded),
        "idle_rss_mib": int(fields["idle_rss_kib"]) / 1024.0,
        "peak_rss_mib": int(fields["peak_rss_kib"]) / 1024.0,
    }
    with open(results, "a") as out:
        out.write(json.dumps(row) + "\n")
    print(
        f"  {row['server']:12} {row['setting']:7} {rps:10.0f} req/s  p50 {row['p50_ms']:.2f} ms"
        f"  p99 {row['p99_ms']:.2f} ms  p99.9 {row['p999_ms']:.2f} ms  {row['cpu_us_per_call']:.1f} us/call"
        f"  failed {failed}",
        file=sys.stderr,
    )


def peak_rss(out, runs, *named):
    # GNU time forks from a process of about 1 MiB; a fork from Python would make every child
    # report Python's own peak (ru_maxrss survives exec).
    peaks = {}
    for entry in named:
        name, command = entry.split("=", 1)
        samples = []
        for _ in range(int(runs)):
            done = subprocess.run(
                ["/usr/bin/time", "-f", "%M", *shlex.split(command)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )
            if done.returncode != 0:
                sys.exit(f"{command} failed while measuring its memory: {done.stderr}")
            samples.append(int(done.stderr.strip().splitlines()[-1]) / 1024.0)  # KiB -> MiB
        peaks[name] = statistics.median(samples)
    with open(out, "w") as file:
        json.dump(peaks, file)


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}"


def median_by(rows, key):
    groups = {}
    for row in rows:
        groups.setdefault((row["server"], row["setting"]), []).append(row[key])
    return {group: statistics.median(values) for group, values in groups.items()}


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "n/a"


def run_table(rows):
    lines = [
        "| server | setting | req/s | p50 ms | p99 ms | p99.9 ms | server CPU | CPU us/call | idle RSS MiB | peak RSS MiB | failed |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    order = {(s, t): i for i, (s, t) in enumerate((s, t) for s in SERVERS for t in SETTINGS)}
    for row in sorted(rows, key=lambda r: order.get((r["server"], r["setting"]), 99)):
        lines.append(
            f"| {row['server']} | {row['setting']} | {row['rps']:.0f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['p999_ms']:.2f} | {row['cpu_percent']:.0f}% | "
            f"{row['cpu_us_per_call']:.1f} | {row['idle_rss_mib']:.1f} | {row['peak_rss_mib']:.1f} | "
            f"{row['failed']} |"
        )
    return lines


def run_ratios(rows, key, numerator, denominator, setting):
    """The ratio within each run (both measured minutes apart), in run order."""
    values = {}
    for row in rows:
        if row["setting"] == setting:
            values[(row["run"], row["server"])] = row[key]
    ratios = []
    for run in sorted({row["run"] for row in rows}):
        a, b = values.get((run, numerator)), values.get((run, denominator))
        if a is not None and b:
            ratios.append(a / b)
    return ratios


def ratio_cell(ratios):
    if not ratios:
        return "n/a"
    spread = ", ".join(f"{r:.2f}" for r in ratios)
    return f"**{statistics.median(ratios):.2f}x** ({spread})" if len(ratios) > 1 else f"{ratios[0]:.2f}x"


def ratio_table(rows):
    columns = [
        ("req/s greeter/grpc-go", "rps", "grpc-go"),
        ("p99 greeter/grpc-go", "p99_ms", "grpc-go"),
        ("req/s greeter/plain-tonic", "rps", "plain-tonic"),
        ("p99 greeter/plain-tonic", "p99_ms", "plain-tonic"),
        ("peak RSS greeter/grpc-go", "peak_rss_mib", "grpc-go"),
    ]
    lines = [
        "| setting | " + " | ".join(title for title, _, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for setting in SETTINGS:
        cells = [ratio_cell(run_ratios(rows, key, "greeter", peer, setting)) for _, key, peer in columns]
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    return lines


def bar_panel(x0, title, unit, values, width=420, height=260):
    """One grouped bar chart as SVG elements: a group per setting, a bar per server."""
    top = max(values.values()) if values else 1
    parts = [f'<text x="{x0 + width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">{title}</text>']
    base_y, plot_h = 40 + height, height
    group_w = width / len(SETTINGS)
    bar_w = group_w / (len(SERVERS) + 1)
    for i, setting in enumerate(SETTINGS):
        gx = x0 + i * group_w
        for j, server in enumerate(SERVERS):
            value = values.get((server, setting))
            if value is None:
                continue
            h = plot_h * value / top
            x = gx + bar_w * (j + 0.5)
            parts.append(f'<rect x="{x:.1f}" y="{base_y - h:.1f}" width="{bar_w * 0.9:.1f}" height="{h:.1f}" fill="{COLOURS[server]}"/>')
            label = f"{value / 1000:.0f}k" if unit == "req/s" else f"{value:.1f}"
            parts.append(f'<text x="{x + bar_w * 0.45:.1f}" y="{base_y - h - 4:.1f}" text-anchor="middle" font-size="10">{label}</text>')
        parts.append(f'<text x="{gx + group_w / 2:.1f}" y="{base_y + 16}" text-anchor="middle" font-size="12">{setting}</text>')
    parts.append(f'<line x1="{x0}" y1="{base_y}" x2="{x0 + width}" y2="{base_y}" stroke="#333"/>')
    parts.append(f'<text x="{x0 + width / 2}" y="{base_y + 34}" text-anchor="middle" font-size="11">connections x streams ({unit}, median of runs)</text>')
    return parts


def chart(rows, path):
    rps = median_by(rows, "rps")
    p99 = median_by(rows, "p99_ms")
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="960" height="380" font-family="sans-serif">',
             '<rect width="100%" height="100%" fill="white"/>']
    parts += bar_panel(30, "Throughput (higher is better)", "req/s", rps)
    parts += bar_panel(510, "p99 latency in ms (lower is better)", "ms", p99)
    for j, server in enumerate(SERVERS):
        x = 300 + j * 140
        parts.append(f'<rect x="{x}" y="352" width="12" height="12" fill="{COLOURS[server]}"/>')
        parts.append(f'<text x="{x + 18}" y="363" font-size="12">{server}</text>')
    parts.append("</svg>")
    with open(path, "w") as file:
        file.write("\n".join(parts) + "\n")


def oneshot_stats(exports):
    """Each client's run times over every round, in the order the first round ran them."""
    times = {}
    for export in exports:
        for result in json.load(open(export))["results"]:
            times.setdefault(result["command"], []).extend(result["times"])
    return {
        name: {"median": statistics.median(t), "mean": statistics.mean(t), "min": min(t),
               "max": max(t), "runs": len(t)}
        for name, t in times.items()
    }


def write(results, oneshot_json, oneshot_rss, markdown, svg, command):
    rows = [json.loads(line) for line in open(results) if line.strip()]
    runs = sorted({row["run"] for row in rows})
    oneshot = oneshot_stats(oneshot_json.split(","))
    rss = json.load(open(oneshot_rss))
    chart(rows, svg)
    out = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {datetime.date.today().isoformat()}. Machine: {machine()}.",
        "Each server is pinned to CPU 0 (`taskset -c 0`; grpc-go with `GOMAXPROCS=1`), h2load to",
        "CPU 1: unary `SayHello` with the name \"world\", a 2 s warm-up, then the measured period,",
        "at 1x1, 4x32 and 100x10 (connections x concurrent streams). The three servers run side by",
        "side, idle but for their turn; the measured period comes in slices of 2 s, the servers",
        "taking turns slice by slice (the order turning), so a slow spell of the machine falls on all",
        "of them rather than on one. Latency percentiles come from",
        "h2load's per-request log; server CPU from `/proc/PID/stat`; RSS from `/proc/PID/status`",
        "(idle: after start; peak: `VmHWM` after the load). Every server's answer is checked with",
        "`greeter hello` before and after the load (h2load cannot read trailers).",
        "",
        "- **greeter**: `greeter serve` with default flags (release build; one worker, as the",
        "  process may use one CPU).",
        "- **grpc-go**: grpc-go 1.33 (Debian 12's `golang-google-grpc-dev`), `bench/grpc-go/server`.",
        "- **plain-tonic**: tonic 0.14's helloworld with `#[tokio::main]` defaults,",
        "  `bench/plain-tonic`, same release profile.",
        "",
        "These machines are shared and noisy: compare ratios within a run, not absolute numbers",
        "across runs.",
        "",
        "![req/s and p99 per server and setting](bench/chart.svg)",
        "",
        "## Ratios",
        "",
        "Each ratio is taken within a run; bold is the median over the runs, the runs follow in",
        "brackets.",
        "",
    ]
    out += ratio_table(rows)
    for run in runs:
        out += ["", f"## Run {run}", ""]
        out += run_table([row for row in rows if row["run"] == run])
    out += ["", "## One-shot client", "",
            "Process start to exit of one call against `greeter serve` on loopback: `hyperfine -N",
            "--warmup 3 --runs 20` in five rounds, the clients taking turns (statistics over all",
            f"{min(r['runs'] for r in oneshot.values())} runs of each), and the median peak RSS of 20 runs.", "",
            "| client | median ms | mean ms | min ms | max ms | peak RSS MiB |", "|---|---:|---:|---:|---:|---:|"]
    for name, result in oneshot.items():
        out.append(
            f"| {name} | {result['median'] * 1000:.2f} | {result['mean'] * 1000:.2f} | "
            f"{result['min'] * 1000:.2f} | {result['max'] * 1000:.2f} | {rss.get(name, 0):.1f} |"
        )
    names = list(oneshot)
    if len(names) == 2:
        a, b = oneshot[names[0]], oneshot[names[1]]
        out += ["", f"{names[0]} / {names[1]} median wall time: {ratio(a['median'], b['median'])}."]
    # bench/load.sh --record and bench/soak.sh --record write their sections between these
    # markers; they are not measured here, so they are carried over from the file being
    # replaced (bench/run.sh runs load.sh once this is written).
    if os.path.exists(markdown):
        old = open(markdown).read()
        for section in ("load", "soak"):
            begin, end = old.find(f"<!-- {section} -->"), old.find(f"<!-- /{section} -->")
            if 0 <= begin < end:
                out += ["", old[begin:end + len(f"<!-- /{section} -->")]]
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")
    if os.path.exists(notes):
        out += ["", open(notes).read().rstrip()]
    with open(markdown, "w") as file:
        file.write("\n".join(out) + "\n")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"record": record, "peak-rss": peak_rss, "write": write}[command](*args)
