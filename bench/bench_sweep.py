"""Benchmark: one deadline sweep over N running clocks (1k and 100k), ~10% of them due, in a temp SQLite DB.

Run from the repository root: ``python -m bench.bench_sweep`` (or call ``run()``).

The sweep reads only the due clocks through ix_sla_clock_state_deadline, so its cost should follow the
10% due (10,000 alerts at 100k, issue 20's sweep target), not N. Reported per N: the first sweep (raises every
alert, records every breach; in the caller's transaction, committed once), a repeat sweep (nothing new: the
range query and the look-up of those clocks' alert keys, 500 a query), the range query alone, and for
comparison what loading every running clock would cost (what a sweep without the range predicate would do).
Then the same first sweep on a copy of the same data as the scheduler's job runs it — each batch committed on
its own — with its longest batch from SAVEPOINT to COMMIT (how long one batch may hold SQLite's write lock: it
is taken at the batch's first write).
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, select, text

from portal import calendar, create_app
from portal.domain.sweep import BATCH as BATCH_SIZE
from portal.domain.sweep import due_horizon, sweep
from portal.extensions import db
from portal.models import Case, InsuredPerson, Policy, Product, SlaClock, User

SIZES = (1_000, 100_000)
DUE_SHARE = 0.1  # half of it already breached, half due by the end of the next working day: 10,000 alerts at 100k
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 Asia/Shanghai
BATCH = 10_000


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _fill(n: int, rng: random.Random) -> int:
    """N cases with one running clock each; returns how many clocks are due."""
    product = Product(code="BENCH", name="bench")
    db.session.add(product)
    db.session.flush()
    policy = Policy(policy_no="BENCH-1", product_id=product.id, holder_name="甲", start_date=date(2026, 1, 1),
                    end_date=date(2026, 12, 31))
    db.session.add(policy)
    db.session.flush()
    person = InsuredPerson(policy_id=policy.id, name="甲", id_number="110101199001011237")
    staff = [User(username=f"coord{i}", password_hash="x", role="coordinator", display_name=f"协调员{i}")
             for i in range(20)]
    db.session.add_all([person, *staff])
    db.session.flush()
    today = calendar.business_today(NOW)
    soon = calendar.add_working_days(today, 1)
    due = 0
    for first in range(0, n, BATCH):
        cases, clocks = [], []
        for i in range(first, min(first + BATCH, n)):
            roll = rng.random()
            if roll < DUE_SHARE / 2:
                due_date = today - timedelta(days=rng.randint(1, 5))
            elif roll < DUE_SHARE:
                due_date = rng.choice([today, soon])
            else:
                due_date = calendar.add_working_days(soon, rng.randint(1, 40))
            due += roll < DUE_SHARE
            cases.append(dict(id=i + 1, ref=f"BS{i:08d}", policy_id=policy.id, insured_id=person.id,
                              line_code="green_outpatient", status="in_service", submitted_at=NOW,
                              updated_at=NOW, version=1, request_data={}, eligibility=[],
                              assignee_id=rng.choice([None, *(u.id for u in staff)])))
            clocks.append(dict(case_id=i + 1, kind="arrange", days=5, state="running",
                               start_date=due_date - timedelta(days=7), started_at=NOW, paused_days=0,
                               due_date=due_date, deadline=calendar.end_of_business_day(due_date),
                               provisional=False, breached=False))
        db.session.execute(insert(Case), cases)
        db.session.execute(insert(SlaClock), clocks)
    db.session.commit()
    return due


def _uses_index() -> bool:
    """SQLite's plan for the sweep's range query names the (state, deadline) index."""
    plan = db.session.execute(text(
        "EXPLAIN QUERY PLAN SELECT id FROM sla_clock WHERE state = 'running' AND deadline <= :h"),
        {"h": due_horizon(NOW).replace(tzinfo=None)}).all()
    return any("ix_sla_clock_state_deadline" in str(row) for row in plan)


def _app(path: Path, workdir: Path):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench", "MAIL_BACKEND": "none",
                       "SCHEDULER_IN_PROCESS": False, "UPLOAD_DIR": str(workdir / "up")})


def _committed_sweep(path: Path, workdir: Path) -> dict:
    """The first sweep as `jobs.deadline_sweep` runs it (commit after each batch): total, and the longest write
    transaction — from a batch's SAVEPOINT (where the SQLite transaction begins) to its COMMIT."""
    app = _app(path, workdir)
    with app.app_context():
        began, held = [], []

        def savepoint(*_args):
            began.append(time.perf_counter())

        def commit():
            db.session.commit()
            held.append(time.perf_counter() - began[-1])

        event.listen(db.engine, "savepoint", savepoint)
        start = time.perf_counter()
        result = sweep(NOW, commit=commit, batch_size=BATCH_SIZE)
        total = time.perf_counter() - start
        event.remove(db.engine, "savepoint", savepoint)
        db.session.remove()
        db.engine.dispose()
    return {"committed_sweep_ms": round(total * 1000, 1), "commits": len(held),
            "longest_batch_ms": round(max(held) * 1000, 1), "committed_alerts": result.due_soon + result.breached}


def measure(n: int, workdir: Path) -> dict:
    """Fill a fresh database with n clocks and time the sweeps."""
    app = _app(workdir / f"sweep_{n}.db", workdir)
    copy = workdir / f"sweep_{n}_job.db"
    with app.app_context():
        db.create_all()
        fill_s, due = _timed(lambda: _fill(n, random.Random(n)))
        source, target = db.engine.raw_connection(), sqlite3.connect(copy)
        try:  # the same data, for the job-style sweep below
            source.driver_connection.backup(target)
        finally:
            target.close()
            source.close()
        range_s, rows = _timed(lambda: db.session.scalars(select(SlaClock.id).where(
            SlaClock.state == "running", SlaClock.deadline <= due_horizon(NOW))).all())
        db.session.rollback()
        first_s, first = _timed(lambda: (sweep(NOW), db.session.commit())[0])
        db.session.expire_all()
        repeat_s, repeat = _timed(lambda: (sweep(NOW + timedelta(minutes=10)), db.session.commit())[0])
        db.session.expire_all()
        all_s, _ = _timed(lambda: db.session.scalars(select(SlaClock).where(SlaClock.state == "running")).all())
        result = {
            "clocks": n, "due": due, "range_rows": len(rows), "uses_index": _uses_index(), "fill_s": round(fill_s, 2),
            "range_query_ms": round(range_s * 1000, 2), "first_sweep_ms": round(first_s * 1000, 1),
            "first_alerts": first.due_soon + first.breached, "repeat_sweep_ms": round(repeat_s * 1000, 1),
            "batch": BATCH_SIZE,
            "repeat_alerts": repeat.due_soon + repeat.breached, "load_all_running_ms": round(all_s * 1000, 1),
        }
        db.session.remove()
        db.engine.dispose()
    result.update(_committed_sweep(copy, workdir))
    calendar.reset()
    return result


def run(sizes=SIZES) -> dict:
    """Measure every size in a temporary directory; returns {n: figures}."""
    with tempfile.TemporaryDirectory() as tmp:
        return {n: measure(n, Path(tmp)) for n in sizes}


def main() -> int:
    figures = run()
    print(f"{'clocks':>8} {'due':>5} {'index':>5} {'range q ms':>10} {'1st sweep ms':>12} {'alerts':>6} "
          f"{'repeat ms':>9} {'load all ms':>11} {'as job ms':>9} {'commits':>7} {'longest batch ms':>16}")
    for f in figures.values():
        print(f"{f['clocks']:>8} {f['due']:>5} {str(f['uses_index']):>5} {f['range_query_ms']:>10} "
              f"{f['first_sweep_ms']:>12} {f['first_alerts']:>6} {f['repeat_sweep_ms']:>9} "
              f"{f['load_all_running_ms']:>11} {f['committed_sweep_ms']:>9} {f['commits']:>7} "
              f"{f['longest_batch_ms']:>16}")
    return 0 if all(f["uses_index"] and f["repeat_alerts"] == 0 and f["committed_alerts"] == f["first_alerts"]
                    for f in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
