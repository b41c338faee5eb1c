"""The soak's sampling, judging and chart, for bench/soak.sh (standard library only).

  soak.py sample PID CSV PHASE_FILE INTERVAL T0
      every INTERVAL seconds until PID exits, one CSV row of its RSS, open descriptors and
      CPU (% of one core since the previous row), with the phase PHASE_FILE names
  soak.py report OUT_DIR --check all|server|client|none -- key=value...
      reads what soak.sh left in OUT_DIR, prints a summary, writes soak.svg and soak.md;
      exits 1 if a bound of the checked side is not met
  soak.py record SOAK_MD BENCHMARKS_MD
      puts SOAK_MD between the soak markers of BENCHMARKS_MD (bench/report.py keeps them)
"""

import datetime
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time

from report import machine

COLUMNS = ["time_s", "rss_kib", "fds", "cpu_pct", "phase"]
# Percent, after the warm-up; soak.sh --rss-bound sets another.
RSS_GROWTH_BOUND = float(os.environ.get("SOAK_RSS_GROWTH_BOUND", "5"))
# The warm-up is the load's first fifth, and at least this long: at 1000 connections the debug
# build that CI soaks grows for 10-15 s (longer the slower it runs, by about 3.5 MiB to the same
# plateau every time), then stays flat to a few KiB; the release build was flat after 4 s.
WARM_UP_MIN_S = 10
FDS_SLACK = 2  # descriptors over the baseline still counted as "back"
BEGIN, END = "<!-- soak -->", "<!-- /soak -->"
COLOURS = {"server": "#d9480f", "client": "#1c7ed6"}


# --- sampling ---------------------------------------------------------------------------------

def read_proc(pid):
    """RSS in KiB, open descriptors, user+system clock ticks; None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            rss = next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), None)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        with open(f"/proc/{pid}/stat") as stat:
            # The command name may hold spaces and parentheses: count fields after the last ')'.
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    if rss is None:  # a zombie has no memory left to report
        return None
    return rss, fds, ticks


def sample(pid, csv_path, phase_path, interval, t0):
    interval, t0, hz = float(interval), float(t0), os.sysconf("SC_CLK_TCK")
    phase, previous = "", None
    with open(csv_path, "w") as out:
        out.write(",".join(COLUMNS) + "\n")
        next_at = time.monotonic()
        while True:
            now = time.time()
            reading = read_proc(pid)
            if reading is None:
                return
            rss, fds, ticks = reading
            try:
                phase = open(phase_path).read().strip() or phase
            except FileNotFoundError:
                pass
            cpu = ""
            if previous is not None:
                cpu = f"{100.0 * (ticks - previous[1]) / hz / (now - previous[0]):.1f}"
            previous = (now, ticks)
            out.write(f"{now - t0:.2f},{rss},{fds},{cpu},{phase}\n")
            out.flush()
            # Steps on a fixed grid, so a slow read does not stretch every interval after it; after
            # a stall (a busy machine) the missed steps are skipped, not taken back to back.
            next_at += interval
            behind = time.monotonic() - next_at
            if behind > 0:
                next_at += math.ceil(behind / interval) * interval
            time.sleep(max(0.0, next_at - time.monotonic()))


# --- judging ----------------------------------------------------------------------------------

def read_samples(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as lines:
        next(lines, None)
        for line in lines:
            time_s, rss, fds, cpu, phase = line.rstrip("\n").split(",")
            rows.append({"time_s": float(time_s), "rss_kib": int(rss), "fds": int(fds),
                         "cpu_pct": float(cpu) if cpu else None, "phase": phase})
    return rows


def rss_growth(rows, interval):
    """RSS after the warm-up (the median of the fifth of the load's samples that follows it), at
    the end (the median of the last fifth) and the growth between them in percent; None if the
    load is too short for both."""
    load = [row["rss_kib"] for row in rows if row["phase"] == "load"]
    n, fifth = len(load), len(load) // 5
    warm_up = max(fifth, math.ceil(WARM_UP_MIN_S / interval))
    if fifth == 0 or warm_up + fifth > n - fifth:
        return None
    warm = statistics.median(load[warm_up: warm_up + fifth])
    end = statistics.median(load[n - fifth:])
    return {"start_kib": load[0], "warm_kib": warm, "end_kib": end, "peak_kib": max(load),
            "growth_pct": 100.0 * (end - warm) / warm, "samples": n}


def h2load_counts(path):
    text = open(path).read() if os.path.exists(path) else ""
    requests = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                         r"(\d+) failed, (\d+) errored, (\d+) timeout", text)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    finished = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", text)
    if not (requests and codes and finished):
        return None
    names = ["total", "started", "done", "succeeded", "failed", "errored", "timeout"]
    counts = dict(zip(names, map(int, requests.groups())))
    counts.update(zip(["2xx", "3xx", "4xx", "5xx"], map(int, codes.groups())))
    counts["seconds"], counts["rate"] = map(float, finished.groups())
    return counts


def calls_by_code(path):
    codes = {}
    if os.path.exists(path):
        for line in open(path):
            match = re.match(r"greeter_calls_total\{([^}]*)\}\s+(\d+)", line)
            if match:
                code = re.search(r'code="([^"]*)"', match.group(1))
                name = code.group(1) if code else "?"
                codes[name] = codes.get(name, 0) + int(match.group(2))
    return codes


def client_summary(path):
    """The last JSON summary `greeter hello -o json` wrote on stderr, or None."""
    summary = None
    if os.path.exists(path):
        for line in open(path):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict) and "calls" in value:
                summary = value
    return summary


def mib(kib):
    return f"{kib / 1024:.1f}"


def judge(out_dir, fields):
    """Every figure of the run, and each bound as (side, what, passed, how far)."""
    server_rows = read_samples(os.path.join(out_dir, "server.csv"))
    client_rows = read_samples(os.path.join(out_dir, "client.csv"))
    h2load = h2load_counts(os.path.join(out_dir, "h2load.txt"))
    codes = calls_by_code(os.path.join(out_dir, "metrics.txt"))
    client = client_summary(os.path.join(out_dir, "client.json"))
    connections = int(fields["connections"])
    baseline_fds, fds_after = int(fields["baseline_fds"]), int(fields["fds_after"])
    checks = []

    if h2load is None:
        checks.append(("server", "h2load's result", False, "h2load printed no result (h2load.txt)"))
    else:
        bad = h2load["failed"] + h2load["errored"] + h2load["timeout"]
        not_2xx = h2load["3xx"] + h2load["4xx"] + h2load["5xx"]
        passed = bad == 0 and not_2xx == 0 and h2load["succeeded"] > 0 and fields["h2load_rc"] == "0"
        checks.append(("server", "h2load errors", passed,
                       f"{h2load['succeeded']} succeeded, {h2load['failed']} failed, "
                       f"{h2load['errored']} errored, {h2load['timeout']} timeout, {not_2xx} not 2xx"
                       + ("" if fields["h2load_rc"] == "0" else f", exit {fields['h2load_rc']}")))
    not_ok = {code: n for code, n in codes.items() if code != "OK"}
    checks.append(("server", "gRPC status", codes.get("OK", 0) > 0 and not not_ok,
                   f"greeter_calls_total: {codes.get('OK', 0)} OK"
                   + "".join(f", {n} {code}" for code, n in sorted(not_ok.items()))))
    load_fds = [row["fds"] for row in server_rows if row["phase"] == "load"]
    peak_fds = max(load_fds, default=0)
    checks.append(("server", "connections held", peak_fds - baseline_fds >= connections,
                   f"peak {peak_fds} descriptors, {peak_fds - baseline_fds} over the baseline "
                   f"of {baseline_fds}, for {connections} connections"))
    interval = float(fields["interval"])
    server_rss = rss_growth(server_rows, interval)
    checks.append(rss_check("server", server_rss))
    back = fds_after <= baseline_fds + FDS_SLACK
    checks.append(("server", "descriptors after the load", back,
                   f"{fds_after} after {fields['fds_back_s']} s against a baseline of {baseline_fds}"
                   + ("" if back else f" ({fds_after - baseline_fds - FDS_SLACK} too many)")))

    if client is None:
        checks.append(("client", "client errors", False, "greeter hello wrote no summary (client.json)"))
    else:
        failed = sum(client["errors"].values()) if isinstance(client["errors"], dict) else client["errors"]
        checks.append(("client", "client errors", failed == 0 and fields["client_rc"] == "0",
                       f"{client['ok']} ok, {failed} failed, exit {fields['client_rc']}"))
    client_rss = rss_growth(client_rows, interval)
    checks.append(rss_check("client", client_rss))

    cpu = [row["cpu_pct"] for row in server_rows if row["phase"] == "load" and row["cpu_pct"] is not None]
    baseline_rss = [row["rss_kib"] for row in server_rows if row["phase"] == "baseline"]
    return {
        "fields": fields, "checks": checks, "h2load": h2load, "codes": codes, "client": client,
        "server_rss": server_rss, "client_rss": client_rss, "peak_fds": peak_fds,
        "idle_rss_kib": statistics.median(baseline_rss) if baseline_rss else None,
        "cpu_mean": statistics.mean(cpu) if cpu else None, "cpu_max": max(cpu, default=None),
        "server_rows": server_rows, "client_rows": client_rows,
        "workers": workers(os.path.join(out_dir, "server.err")),
    }


def rss_check(side, rss):
    if rss is None:
        return (side, f"{side} RSS growth", False, "too few samples under load to tell")
    growth = rss["growth_pct"]
    detail = (f"{mib(rss['warm_kib'])} MiB after the warm-up, {mib(rss['end_kib'])} at the end: "
              f"{growth:+.1f} %")
    if growth >= RSS_GROWTH_BOUND:
        detail += f", {growth - RSS_GROWTH_BOUND:.1f} points over the bound of {RSS_GROWTH_BOUND:.0f} %"
    return (side, f"{side} RSS growth", growth < RSS_GROWTH_BOUND, detail)


def workers(server_err):
    if os.path.exists(server_err):
        match = re.search(r"with (\d+) workers?", open(server_err).read())
        if match:
            return int(match.group(1))
    return None


# --- the summary, the chart and the section of BENCHMARKS.md -----------------------------------

def summary_lines(run, check):
    """A few lines for a CI log: the figures and the count of bounds met; then every bound, and
    the ones not met."""
    fields, h2load, client = run["fields"], run["h2load"], run["client"]
    not_ok = sum(n for code, n in run["codes"].items() if code != "OK")
    drivers = []
    if h2load:
        drivers.append(f"h2load {h2load['rate']:.0f} req/s, {h2load['failed']} failed")
    if client:
        failed = client["calls"] - client["ok"]
        drivers.append(f"greeter hello {client['rate_per_s']:.0f} req/s, {failed} failed")
    lines = [f"{fields['connections']} connections for {fields['seconds']} s: "
             f"{sum(run['codes'].values())} calls served, {not_ok} not OK ({'; '.join(drivers)})"]
    srss, crss = run["server_rss"], run["client_rss"]
    if srss:
        lines.append(f"server: RSS {mib(run['idle_rss_kib'] or 0)} MiB idle, {mib(srss['warm_kib'])} after "
                     f"the warm-up, {mib(srss['end_kib'])} at the end ({srss['growth_pct']:+.1f} %); "
                     f"descriptors {fields['baseline_fds']} idle, {run['peak_fds']} peak, "
                     f"{fields['fds_after']} {fields['fds_back_s']} s after; "
                     f"CPU {run['cpu_mean'] or 0:.0f} % of a core (max {run['cpu_max'] or 0:.0f} %)")
    if crss:
        lines.append(f"client: RSS {mib(crss['start_kib'])} MiB at first, {mib(crss['warm_kib'])} after "
                     f"the warm-up, {mib(crss['end_kib'])} at the end ({crss['growth_pct']:+.1f} %)")
    bounds = []
    for side, what, passed, detail in run["checks"]:
        checked = check in ("all", side)
        verdict = "met" if passed else ("FAILED" if checked else "not met (not checked)")
        bounds.append((passed, f"{verdict}: {what}: {detail}"))
    met = sum(passed for passed, _ in bounds)
    lines.append(f"{met} of {len(bounds)} bounds met (checked: {check})")
    return lines, [line for _, line in bounds], [line for passed, line in bounds if not passed]


def nice_top(value):
    """The smallest 1, 2 or 5 times a power of ten at or above value."""
    if value <= 0:
        return 1
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def panel(y0, title, series, key, scale, unit, x_end, shading, width=900, height=170, x0=60):
    """One chart panel: a line per series over time, the baseline and after phases shaded."""
    values = [row[key] for rows in series.values() for row in rows if row[key] is not None]
    top = nice_top(max(values, default=1) * scale)
    sx = lambda t: x0 + width * t / x_end  # noqa: E731
    sy = lambda v: y0 + height - height * v * scale / top  # noqa: E731
    parts = [f'<text x="{x0}" y="{y0 - 8}" font-size="13" font-weight="bold">{title}</text>']
    for start, end in shading:
        parts.append(f'<rect x="{sx(start):.1f}" y="{y0}" width="{sx(end) - sx(start):.1f}" '
                     f'height="{height}" fill="#f1f3f5"/>')
    for fraction in (0, 0.5, 1):
        y = y0 + height - height * fraction
        parts.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + width}" y2="{y:.1f}" stroke="#dee2e6"/>')
        parts.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10">'
                     f'{top * fraction:g}{unit}</text>')
    for name, rows in series.items():
        points = " ".join(f"{sx(row['time_s']):.1f},{sy(row[key]):.1f}" for row in rows if row[key] is not None)
        if points:
            parts.append(f'<polyline points="{points}" fill="none" stroke="{COLOURS[name]}" stroke-width="1.5"/>')
    return parts


def chart(run, path):
    server, client = run["server_rows"], run["client_rows"]
    x_end = max([row["time_s"] for row in server + client], default=1) or 1
    # The phases' time spans from the server's samples, shaded where the load is off.
    shading, start, phase = [], 0.0, None
    for row in server:
        if row["phase"] != phase:
            if phase in ("baseline", "after"):
                shading.append((start, row["time_s"]))
            start, phase = row["time_s"], row["phase"]
    if phase in ("baseline", "after"):
        shading.append((start, x_end))
    both = {"server": server, "client": client}
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="980" height="700" font-family="sans-serif">',
             '<rect width="100%" height="100%" fill="white"/>']
    parts += panel(40, "RSS (MiB)", both, "rss_kib", 1 / 1024, "", x_end, shading)
    parts += panel(260, "Open descriptors", both, "fds", 1, "", x_end, shading)
    parts += panel(480, "CPU (% of one core)", both, "cpu_pct", 1, "%", x_end, shading)
    step = nice_top(x_end / 8)  # five to ten ticks of 1, 2 or 5 times a power of ten seconds
    for tick in range(0, int(x_end) + 1, max(1, int(step))):
        parts.append(f'<text x="{60 + 900 * tick / x_end:.1f}" y="668" text-anchor="middle" font-size="10">'
                     f'{tick} s</text>')
    legend = [("server", "greeter serve"), ("client", "greeter hello, 64 calls in flight")]
    for i, (name, label) in enumerate(legend):
        x = 60 + i * 220
        parts.append(f'<rect x="{x}" y="680" width="12" height="12" fill="{COLOURS[name]}"/>')
        parts.append(f'<text x="{x + 18}" y="691" font-size="12">{label}</text>')
    parts.append('<rect x="520" y="680" width="12" height="12" fill="#f1f3f5" stroke="#dee2e6"/>')
    parts.append('<text x="538" y="691" font-size="12">no load: baseline, then after</text>')
    parts.append("</svg>")
    with open(path, "w") as file:
        file.write("\n".join(parts) + "\n")


def commit():
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        return done.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def markdown(run, path):
    fields, h2load, client = run["fields"], run["h2load"], run["client"]
    srss, crss = run["server_rss"], run["client_rss"]
    seconds = int(fields["seconds"])
    workers = f"{run['workers']} workers" if run["workers"] else "default workers"
    calls = sum(run["codes"].values())

    def rss(figures, key):
        return f"{mib(figures[key])} MiB" if figures else "?"

    def growth(figures):
        return f"{figures['growth_pct']:+.1f} %" if figures else "?"

    def cpu(rows):
        values = [row["cpu_pct"] for row in rows if row["phase"] == "load" and row["cpu_pct"] is not None]
        return f"{statistics.mean(values):.0f} % ({max(values):.0f} %)" if values else "?"

    not_ok = ", ".join(f"{n} {code}" for code, n in sorted(run["codes"].items()) if code != "OK")
    if h2load:
        server_calls = f"{calls} (h2load {h2load['succeeded']} of them)"
        server_rate = f"{calls / seconds:.0f} req/s (h2load {h2load['rate']:.0f})"
        server_errors = (f"{not_ok or 0} not `OK`; h2load {h2load['failed']} failed, "
                         f"{h2load['errored']} errored, {h2load['timeout']} timed out")
    else:
        server_calls, server_rate, server_errors = str(calls), "?", f"{not_ok or 0} not `OK`; h2load ?"
    if client:
        errors = client["errors"]
        if isinstance(errors, dict):
            errors = ", ".join(f"{n} {code}" for code, n in errors.items()) or 0
        client_calls, client_rate, client_errors = client["calls"], f"{client['rate_per_s']:.0f} req/s", errors
    else:
        client_calls = client_rate = client_errors = "?"
    out = [
        BEGIN,
        "## Soak",
        "",
        f"Written by `{fields['command'].strip()}` on {datetime.date.today().isoformat()}",
        f"(commit {commit()}, `{fields['bin']}`). Machine: {machine()}.",
        f"`greeter serve` (default flags, {workers}) idles, then h2load holds {fields['connections']} connections",
        f"with one unary SayHello in flight on each for {seconds} s while `greeter hello --duration {seconds}s",
        "--concurrency 64` calls the same server, then both stop. Every "
        f"{fields['interval']} s the RSS, open descriptors",
        "and CPU of both processes are read from `/proc` (shaded in the chart: no load). The RSS growth",
        "compares the median of the last fifth of the load's samples with that of the fifth after the",
        f"warm-up (the first fifth, and at least {WARM_UP_MIN_S} s).",
        "",
        "![RSS, descriptors and CPU of server and client over the soak](bench/soak.svg)",
        "",
        "| | greeter serve | greeter hello |",
        "|---|---:|---:|",
        f"| calls | {server_calls} | {client_calls} |",
        f"| rate | {server_rate} | {client_rate} |",
        f"| errors | {server_errors} | {client_errors} |",
        f"| RSS idle (server), first sample (client) | {mib(run['idle_rss_kib'] or 0)} MiB | {rss(crss, 'start_kib')} |",
        f"| RSS after the warm-up | {rss(srss, 'warm_kib')} | {rss(crss, 'warm_kib')} |",
        f"| RSS at the end of the load | {rss(srss, 'end_kib')} | {rss(crss, 'end_kib')} |",
        f"| RSS growth after the warm-up (bound {RSS_GROWTH_BOUND:.0f} %) | {growth(srss)} | {growth(crss)} |",
        f"| RSS peak | {rss(srss, 'peak_kib')} | {rss(crss, 'peak_kib')} |",
        f"| descriptors: baseline / peak / after the load | {fields['baseline_fds']} / {run['peak_fds']} / "
        f"{fields['fds_after']} ({fields['fds_back_s']} s after) | |",
        f"| CPU under load, % of one core: mean (max) | {cpu(run['server_rows'])} | {cpu(run['client_rows'])} |",
        "",
        "The bounds:",
        "",
    ]
    for side, what, passed, detail in run["checks"]:
        out.append(f"- {'met' if passed else '**not met**'}: {what}: {detail}")
    out.append(END)
    with open(path, "w") as file:
        file.write("\n".join(out) + "\n")


def report(out_dir, *args):
    check = args[args.index("--check") + 1] if "--check" in args else "none"
    pairs = args[args.index("--") + 1:]
    fields = dict(pair.split("=", 1) for pair in pairs)
    run = judge(out_dir, fields)
    chart(run, os.path.join(out_dir, "soak.svg"))
    markdown(run, os.path.join(out_dir, "soak.md"))
    lines, bounds, unmet = summary_lines(run, check)
    with open(os.path.join(out_dir, "summary.txt"), "w") as file:
        file.write("\n".join(lines + bounds) + "\n")
    for line in lines + unmet:
        print(f"soak: {line}", file=sys.stderr)
    failed = [what for side, what, passed, _ in run["checks"] if not passed and check in ("all", side)]
    if failed:
        print(f"soak: FAILED: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)
    print(f"soak: every bound in {out_dir}/summary.txt; samples in server.csv and client.csv, "
          "chart in soak.svg", file=sys.stderr)


def record(soak_md, benchmarks_md):
    section = open(soak_md).read().rstrip("\n")
    text = open(benchmarks_md).read()
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        # The first time: where bench/report.py puts it, before the notes it copies in.
        notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")
        first = open(notes).readline().rstrip("\n") if os.path.exists(notes) else ""
        at = text.find(first + "\n") if first else -1
        if at < 0:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        else:
            text = text[:at] + section + "\n\n" + text[at:]
    with open(benchmarks_md, "w") as file:
        file.write(text)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"sample": sample, "report": report, "record": record}[command](*args)
