"""Benchmark: portal.calendar.add_working_days(d, 40) against a naive chinese_calendar.is_workday loop.

Run from the repository root: ``python -m bench.bench_calendar`` (or call ``run()``).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar

N_DAYS = 40
FAST_CALLS = 10_000
NAIVE_CALLS = 300  # the naive loop is slow; time fewer calls and compare per-call figures
# Starting dates the library fully covers, so the naive loop never leaves 2004–2026.
FIRST, LAST = date(2004, 1, 1), date(2026, 9, 30)


def _dates(count: int, seed: int = 40) -> list[date]:
    """Seeded, varied starting dates between FIRST and LAST."""
    rng = random.Random(seed)
    span = (LAST - FIRST).days
    return [FIRST + timedelta(days=rng.randrange(span + 1)) for _ in range(count)]


def _naive_add(d: date, n: int) -> date:
    """What code without the table would do: ask chinese_calendar about every day."""
    while n:
        d += timedelta(days=1)
        n -= chinese_calendar.is_workday(d)
    return d


def _per_call_us(fn, dates: list[date]) -> tuple[float, list[date]]:
    """Mean microseconds per fn(d, N_DAYS) call, and the results."""
    start = time.perf_counter()
    results = [fn(d, N_DAYS) for d in dates]
    return (time.perf_counter() - start) / len(dates) * 1e6, results


def run() -> dict:
    """Time both versions; returns fast_us, naive_us (per call) and ratio (naive / fast)."""
    # Imported here so the script also runs when started by path (repo root then on sys.path).
    from portal.calendar import add_working_days

    dates = _dates(FAST_CALLS)
    fast_us, fast_results = _per_call_us(add_working_days, dates)
    naive_us, naive_results = _per_call_us(_naive_add, dates[:NAIVE_CALLS])
    if naive_results != fast_results[:NAIVE_CALLS]:
        raise AssertionError("fast and naive add_working_days disagree")
    return {"fast_us": round(fast_us, 3), "naive_us": round(naive_us, 1), "ratio": round(naive_us / fast_us)}


def main() -> None:
    """Print a one-line result."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    r = run()
    print(
        f"add_working_days(d, {N_DAYS}): fast {r['fast_us']} µs/call ({FAST_CALLS} calls), "
        f"naive chinese_calendar loop {r['naive_us']} µs/call ({NAIVE_CALLS} calls), {r['ratio']}× faster"
    )


if __name__ == "__main__":
    main()
