"""`make bench`: every figure of issue 9 measured side by side in one run; writes bench/RESULTS.md.

    python -m bench.run [--cases 100000] [--small 1000] [--database-url URL] [--seconds 10]

SQLite by default (fresh files in a temp dir); `--database-url` (e.g. from scripts/with-postgres.sh,
`make bench-postgres`) puts the large data set in PostgreSQL instead.
"""

import argparse
import os
import platform
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from . import bench_calendar, bench_sweep, generate, http_load, page_weight, sql_count

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"latency_ratio": 3.0, "sweep_s": 1.0, "calendar_ratio": 100, "report_s": 2.0, "page_kb": 50}


def _weekly_report_seconds(url: str) -> tuple[float, dict]:
    from portal import create_app
    from portal.domain.reports import build_weekly
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        started = time.perf_counter()
        report = build_weekly(None, built_by="bench")
        seconds = time.perf_counter() - started
        db.session.rollback()
        db.engine.dispose()
    return seconds, report.data["total"]


def _machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{platform.node()} · {cpu} · {os.cpu_count()} cores · Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        big_url = args.database_url or f"sqlite:///{tmp}/big.db"
        small_url = f"sqlite:///{tmp}/small.db"
        print(f"generating {args.cases} cases into {big_url.split('@')[-1]} …", flush=True)
        big = generate.build_database(big_url, args.cases)
        small = generate.build_database(small_url, args.small)
        print("SQL statements per page …", flush=True)
        statements = {"small": sql_count.run(small_url), "big": sql_count.run(big_url)}
        print("weekly report …", flush=True)
        report_s, _ = _weekly_report_seconds(big_url)
        print("HTTP latency (gunicorn -w 2, wrk) …", flush=True)
        pages = {"coordinator queue": ("/staff/", "coord1"), "auditor dashboard": ("/audit/", "auditor"),
                 "insured home": ("/me/", "wangjianguo")}
        latency = http_load.run(big_url, pages, seconds=args.seconds)
    print("deadline sweep …", flush=True)
    sweep = bench_sweep.run((args.small, args.cases))
    print("calendar …", flush=True)
    cal = bench_calendar.run()
    print("page weight …", flush=True)
    weight = page_weight.run()
    elapsed = time.perf_counter() - started
    report = render(args, big, small, statements, report_s, latency, sweep, cal, weight, elapsed, big_url)
    print(report)
    (ROOT / "bench" / "RESULTS.md").write_text(report, encoding="utf-8")


def _ok(passed: bool) -> str:
    return "✅" if passed else "❌"


def render(args, big, small, statements, report_s, latency, sweep, cal, weight, elapsed, big_url) -> str:
    db_kind = "PostgreSQL" if big_url.startswith("postgresql") else "SQLite"
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    bare = latency["bare"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}, commit {git.strip() or '?'}; "
        f"`make bench` took {elapsed / 60:.1f} min. Large data set: {args.cases:,} cases on {db_kind} "
        f"({big['events']:,} events, {big['documents']:,} documents' metadata, generated in {big['seconds']} s); "
        f"small: {args.small:,} cases. Every ratio below is measured side by side in this one run.",
        "",
        "| # | measure | figure | target | |",
        "|---|---|---|---|---|",
    ]
    for label in ("coordinator queue", "auditor dashboard", "insured home"):
        figures = latency[label]
        lines.append(
            f"| 2 | {label}: p50 / p95 (ms) at {args.cases // 1000}k, vs bare Flask "
            f"{bare['p50_ms']:.1f} / {bare['p95_ms']:.1f} ms | {figures['p50_ms']:.1f} / {figures['p95_ms']:.1f} ms → "
            f"**p95 {figures['p95_ratio']}×** (p50 {figures['p50_ratio']}×; {figures['rps']} req/s, "
            f"{figures['non2xx']} non-2xx) | p95 ≤ {TARGETS['latency_ratio']}× | "
            f"{_ok(figures['p95_ratio'] <= TARGETS['latency_ratio'])} |")
    for n, figures in sweep.items():
        lines.append(f"| 3 | deadline sweep, {n:,} running clocks ({figures['due']} due) | first "
                     f"{figures['first_sweep_ms'] / 1000:.2f} s, repeat {figures['repeat_sweep_ms'] / 1000:.3f} s; "
                     f"index used: {figures['uses_index']} | ≤ {TARGETS['sweep_s']} s at 100k | "
                     f"{_ok(figures['first_sweep_ms'] / 1000 <= TARGETS['sweep_s'])} |")
    lines.append(f"| 4 | `add_working_days(d, 40)` vs naive `chinese_calendar.is_workday` loop | "
                 f"{cal['fast_us']} µs vs {cal['naive_us']} µs → **{cal['ratio']}×** | "
                 f"≥ {TARGETS['calendar_ratio']}× | {_ok(cal['ratio'] >= TARGETS['calendar_ratio'])} |")
    lines.append(f"| 5 | weekly report build at {args.cases // 1000}k cases | {report_s:.2f} s | "
                 f"≤ {TARGETS['report_s']} s | {_ok(report_s <= TARGETS['report_s'])} |")
    for label, count in statements["big"].items():
        small_count = statements["small"].get(label)
        lines.append(f"| 6 | SQL statements per request: {label} | {small_count} at {args.small // 1000}k, {count} at "
                     f"{args.cases // 1000}k | equal | {_ok(small_count == count and count > 0)} |")
    for path, figures in weight["pages"].items():
        kb = figures["transfer_bytes"] / 1024
        lines.append(f"| 7 | first-load transfer of {figures['label']} (`{path}`), htmx + CSS included | {kb:.1f} KB | "
                     f"≤ {TARGETS['page_kb']} KB | {_ok(kb <= TARGETS['page_kb'])} |")
    lines += [
        "",
        f"Bare Flask hello-world on the same gunicorn settings: before {bare['p50_ms']:.1f} / {bare['p95_ms']:.1f} ms, "
        f"after the portal runs {latency['bare_after']['p50_ms']:.1f} / {latency['bare_after']['p95_ms']:.1f} ms "
        "(p50 / p95) — the drift over the run. Load: `wrk -t2 -c16` for "
        f"{args.seconds} s per page, wrk on the same 2 cores. Gzip sizes: {weight['gzip']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
