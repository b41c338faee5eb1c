"""The load generator's figures, for bench/load.sh (standard library only).

  load.py timed TIME_FILE COMMAND...
      runs COMMAND (its stdin, stdout and stderr are this one's), then writes its wall time,
      user and system CPU seconds to TIME_FILE, to the microsecond (wait4's rusage; GNU time
      prints hundredths); exits as COMMAND did
  load.py report OUT_DIR -- key=value...
      reads what load.sh left in OUT_DIR, prints the tables and writes OUT_DIR/load.md
  load.py record LOAD_MD BENCHMARKS_MD
      puts LOAD_MD between the load markers of BENCHMARKS_MD (bench/report.py keeps them)
"""

import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time

from report import machine
from soak import commit, mib, read_samples

BEGIN, END = "<!-- load -->", "<!-- /load -->"
SETTINGS = ["1x1", "1x32", "4x32"]
# The memory run's warm-up: its RSS after this is what it should stay at.
WARM_UP_S = 10


def timed(time_file, *command):
    started = time.monotonic()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.monotonic() - started
    with open(time_file, "w") as file:
        file.write(f"{elapsed:.6f} {usage.ru_utime:.6f} {usage.ru_stime:.6f}\n")
    child.returncode = os.waitstatus_to_exitcode(status)
    sys.exit(child.returncode if child.returncode >= 0 else 128 - child.returncode)


def h2load_rate(path):
    match = re.search(r"^finished in [^,]*, ([0-9.]+) req/s", open(path).read(), re.M)
    return float(match.group(1))


def greeter_summary(path):
    """The JSON summary on greeter hello's stderr (its last JSON line)."""
    summary = None
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            summary = json.loads(line)
    if summary is None:
        raise SystemExit(f"load.py: no JSON summary in {path}")
    if summary["ok"] != summary["calls"]:
        raise SystemExit(f"load.py: {path}: {summary['calls'] - summary['ok']} calls failed")
    return summary


def cpu_us_per_call(path, calls):
    _elapsed, user, system = (float(field) for field in open(path).read().split()[-3:])
    return (user + system) * 1e6 / calls


def callgrind_total(path):
    total = 0
    for line in open(path):
        if line.startswith("totals:"):
            total += int(line.split()[1])
    return total


def measurements(out, fields):
    """{run: {setting: {tool: [(req/s, CPU us per call) per round]}}}"""
    calls = int(fields["calls"])
    runs = {}
    for run in range(1, int(fields["runs"]) + 1):
        for setting in SETTINGS:
            for tool in ("h2load", "greeter"):
                rows = []
                for round in range(1, int(fields["rounds"]) + 1):
                    at = os.path.join(out, f"run{run}", f"{setting}.{round}.{tool}")
                    if tool == "h2load":
                        rate = h2load_rate(at + ".txt")
                    else:
                        rate = greeter_summary(at + ".json")["rate_per_s"]
                    rows.append((rate, cpu_us_per_call(at + ".time", calls)))
                runs.setdefault(run, {}).setdefault(setting, {})[tool] = rows
    return runs


def instructions(out):
    """{setting: {tool: instructions per call}}, if they were counted."""
    counted = {}
    for setting in SETTINGS:
        for tool in ("h2load", "greeter"):
            small = os.path.join(out, "instructions", f"{setting}.{tool}.2000.callgrind")
            large = os.path.join(out, "instructions", f"{setting}.{tool}.12000.callgrind")
            if os.path.exists(small) and os.path.exists(large):
                per_call = (callgrind_total(large) - callgrind_total(small)) / 10000
                counted.setdefault(setting, {})[tool] = per_call
    return counted


def memory(out):
    rows = read_samples(os.path.join(out, "memory.csv"))
    if not rows:
        return None
    summary = greeter_summary(os.path.join(out, "memory.json"))
    warm = [row for row in rows if row["time_s"] >= WARM_UP_S]
    if len(warm) < 2:
        return None
    after, end = warm[0], rows[-1]
    hours = (end["time_s"] - after["time_s"]) / 3600
    growth = end["rss_kib"] - after["rss_kib"]
    return {
        "first_kib": rows[0]["rss_kib"],
        "warm_kib": after["rss_kib"],
        "warm_s": after["time_s"],
        "end_kib": end["rss_kib"],
        "end_s": end["time_s"],
        "peak_kib": max(row["rss_kib"] for row in rows),
        "growth_kib": growth,
        "per_hour_kib": growth / hours if hours > 0 else 0.0,
        "samples": len(rows),
        "calls": summary["calls"],
        "rate": summary["rate_per_s"],
    }


def ratio(a, b):
    # /usr/bin/time counts in hundredths of a second: a short run may show none.
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def median(rows, index):
    return statistics.median(row[index] for row in rows)


def markdown(out, fields):
    runs = measurements(out, fields)
    counted = instructions(out)
    mem = memory(out)
    calls, rounds = int(fields["calls"]), int(fields["rounds"])
    today = datetime.date.today().isoformat()
    lines = [
        BEGIN,
        "## greeter as a load generator",
        "",
        f"Written by `{fields['command']}` on {today} (commit {commit()}, "
        f"`{os.path.relpath(fields['bin'])}`). Machine: {machine()}.",
        "`greeter serve --workers 1` runs pinned to CPU 0 (a fresh one for each run), the load",
        "pinned to CPU 1. At each setting (connections x streams), each of a run's "
        f"{rounds} rounds makes {calls}",
        "unary SayHello calls with h2load and with `greeter hello`, the one going first changing",
        "each round; the figures are the medians of a run's rounds. req/s is each tool's own; client",
        "CPU is the load process's user and system time over its calls (its rusage).",
        "",
        "| setting | run | h2load req/s | greeter req/s | greeter / h2load | h2load CPU µs/call | "
        "greeter CPU µs/call | CPU greeter / h2load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for setting in SETTINGS:
        for run in sorted(runs):
            h2load, greeter = runs[run][setting]["h2load"], runs[run][setting]["greeter"]
            rate_h, rate_g = median(h2load, 0), median(greeter, 0)
            cpu_h, cpu_g = median(h2load, 1), median(greeter, 1)
            lines.append(
                f"| {setting} | {run} | {rate_h:.0f} | {rate_g:.0f} | **{rate_g / rate_h:.2f}x** | "
                f"{cpu_h:.1f} | {cpu_g:.1f} | {ratio(cpu_g, cpu_h)} |"
            )
    if counted:
        lines += [
            "",
            "Instructions per call of each client (callgrind, 12000 calls less 2000, against a fresh",
            "server each time: start-up left out):",
            "",
            "| setting | h2load | greeter hello | greeter / h2load |",
            "|---|---:|---:|---:|",
        ]
        for setting, tools in counted.items():
            if "h2load" in tools and "greeter" in tools:
                lines.append(
                    f"| {setting} | {tools['h2load']:,.0f} | {tools['greeter']:,.0f} | "
                    f"{tools['greeter'] / tools['h2load']:.2f}x |"
                )
    lines += [
        "",
        "The commands (`ADDR` the server's, `C` and `M` the setting's connections and streams):",
        "",
        "```sh",
        f"h2load -n {calls} -c C -m M -t 1 -d request.bin -H content-type:application/grpc \\",
        "    -H te:trailers http://ADDR/helloworld.Greeter/SayHello",
        f"greeter hello --addr ADDR --count {calls} -q -o json --concurrency $((C * M)) --connections C",
        "```",
        "",
        "`request.bin` is one SayHello request in gRPC framing: bytes `00 00 00 00 07 0a 05 77 6f 72 6c 64`.",
        "Where the client's instructions go, what each change to it saved and what did not pay:",
        "[bench/notes.md](bench/notes.md#the-load-generator-2026-12-02).",
    ]
    if mem:
        seconds = int(fields["memory_s"])
        duration = f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"
        lines += [
            "",
            f"**Memory.** `greeter hello --duration {duration} --concurrency 32 -q` against a fresh",
            f"server: {mem['calls']} calls ({mem['rate']:.0f} req/s), its RSS read from `/proc` every 2 s "
            f"({mem['samples']} samples).",
            "",
            "| first sample | after "
            f"{mem['warm_s']:.0f} s | at the end ({mem['end_s']:.0f} s) | peak | growth after "
            f"{mem['warm_s']:.0f} s | that growth over an hour |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {mib(mem['first_kib'])} MiB | {mib(mem['warm_kib'])} MiB | {mib(mem['end_kib'])} MiB | "
            f"{mib(mem['peak_kib'])} MiB | {mem['growth_kib']:+d} KiB | "
            f"{mem['per_hour_kib'] / 1024:+.1f} MiB |",
        ]
    lines.append(END)
    return "\n".join(lines)


def report(out, *args):
    fields = dict(arg.split("=", 1) for arg in args if arg != "--")
    text = markdown(out, fields)
    with open(os.path.join(out, "load.md"), "w") as file:
        file.write(text + "\n")
    print(text)


def record(load_md, benchmarks_md):
    section = open(load_md).read().rstrip("\n")
    text = open(benchmarks_md).read()
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        # The first time: before the soak's section, which follows the tables bench/run.sh writes.
        at = text.find("<!-- soak -->")
        if at < 0:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        else:
            text = text[:at] + section + "\n\n" + text[at:]
    with open(benchmarks_md, "w") as file:
        file.write(text)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"timed": timed, "report": report, "record": record}[command](*args)
