"""Audit-trail figures (issue 16): checkpoint issue, full verification against a receipt and the incremental
check since the last checkpoint, on the large data set.

    python -m bench.bench_audit [--cases 100000] [--database-url URL]

Without --database-url a fresh SQLite file is generated (bench.generate: ~10 events per case). Adds
AUDIT_ROWS chained audit-log rows, issues checkpoint 1 (anchors everything), verifies against its receipt,
appends NEW_EVENTS events and NEW_AUDIT audit rows, times the incremental check, issues checkpoint 2 and
verifies against both receipts. bench/run.py runs it on its large data set too. Writes bench/RESULTS-audit.md
when run on its own.
"""

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
AUDIT_ROWS, NEW_EVENTS, NEW_AUDIT = 100_000, 1_000, 100
TARGETS = {"full_s": 30.0, "incremental_s": 1.0}


def _chain_audit_rows(n: int) -> None:
    """n document.view rows appended to the audit-log chain in bulk (what months of auditor reads leave)."""
    from portal.domain import auditlog
    from portal.domain.history import ZERO_HASH
    from portal.extensions import db
    from portal.models import AuditLog

    tail = db.session.execute(select(AuditLog.seq, AuditLog.hash).order_by(AuditLog.seq.desc()).limit(1)).first()
    seq, prev = (tail.seq, tail.hash) if tail else (0, ZERO_HASH)
    at = datetime(2026, 6, 1, tzinfo=UTC)
    rows = []
    for n_row in range(n):
        seq += 1
        fields = {"seq": seq, "at": at, "actor_id": None, "actor_role": "auditor", "action": "document.view",
                  "object_type": "document", "object_id": n_row + 1, "case_id": None,
                  "detail": {"kind": "medical_record", "download": False}, "ip": "10.0.0.1", "prev_hash": prev}
        prev = auditlog.compute_hash(fields)
        rows.append({**fields, "hash": prev})
        if len(rows) == 5000:
            db.session.execute(insert(AuditLog), rows)
            rows.clear()
    if rows:
        db.session.execute(insert(AuditLog), rows)
    db.session.commit()


def _timed(work, m: dict, key: str):
    """work() timed by the wall clock (m[key]) and by this process's CPU (m[key + "_cpu"]): on SQLite the
    database works inside this process, so the CPU figure is the cost when the 2 cores are shared."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    m[key], m[key + "_cpu"] = round(time.perf_counter() - started, 3), round(time.process_time() - cpu, 3)
    return result


def _append_new_events(n: int, audit: int) -> None:
    from portal.domain import auditlog, history
    from portal.extensions import db
    from portal.models import Case

    ids = db.session.scalars(select(Case.id).order_by(Case.id)).all()
    chosen = random.Random(16).sample(ids, min(len(ids), n // 2))
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(chosen[:900])))}
    entry = dict(actor=None, kind="note", action="note", summary="基准测试新增记录", now=datetime.now(UTC))
    picked = list(cases.values())
    history.append_many([(picked[i % len(picked)], entry) for i in range(n)])
    for _ in range(audit):
        auditlog.record("case.view", detail={"bench": True})
    db.session.commit()


def run(url: str) -> dict:
    """Every figure on the (already generated) database at `url`; what it writes stays (checkpoints, anchors)."""
    from portal import create_app
    from portal.domain import checkpoints
    from portal.extensions import db
    from portal.models import Case, CaseEvent

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False,
                      "AUDIT_SIGNING_KEY": "ab" * 32})
    m = {}
    with app.app_context():
        _chain_audit_rows(AUDIT_ROWS)
        m["cases"] = db.session.scalar(select(func.count()).select_from(Case))
        m["events"] = db.session.scalar(select(func.count()).select_from(CaseEvent))
        m["audit_rows"] = AUDIT_ROWS
        m["load_before"] = os.getloadavg()[0]
        first = _timed(lambda: checkpoints.issue(reason="bench"), m, "issue_first_s")
        db.session.commit()
        receipt_1 = checkpoints.receipt(first)
        result = _timed(lambda: checkpoints.verify_receipts([receipt_1]), m, "full_s")
        m["full_ok"], m["full_checked"] = result.ok, (result.events_checked, result.audit_checked)
        db.session.rollback()
        _append_new_events(NEW_EVENTS, NEW_AUDIT)
        result = _timed(checkpoints.verify_since_latest, m, "incremental_s")
        m["incremental_ok"], m["incremental_checked"] = result.ok, (result.events_checked, result.audit_checked)
        db.session.rollback()
        second = _timed(lambda: checkpoints.issue(reason="bench"), m, "issue_next_s")
        db.session.commit()
        receipt_2 = checkpoints.receipt(second)
        result = _timed(lambda: checkpoints.verify_receipts([receipt_1, receipt_2]), m, "full_two_s")
        m["full_two_ok"], m["load_after"] = result.ok, os.getloadavg()[0]
        db.session.rollback()
        db.engine.dispose()
    return m


def lines(m: dict, db_kind: str) -> list[str]:
    """Rows for a results table (bench/run.py adds them to RESULTS.md)."""
    ok = lambda passed: "✅" if passed else "❌"  # noqa: E731
    load = f"load average {m['load_before']:.1f} → {m['load_after']:.1f} on {os.cpu_count()} cores"
    return [
        f"| 16 | audit: full verification against a receipt, {m['cases']:,} cases / {m['events']:,} events + "
        f"{m['audit_rows']:,} audit-log rows ({db_kind}; {load}) | **{m['full_s']:.1f} s** wall, "
        f"{m['full_s_cpu']:.1f} s CPU (clean: {m['full_ok']}); against two receipts {m['full_two_s']:.1f} s | "
        f"≤ {TARGETS['full_s']:.0f} s | {ok(m['full_ok'] and m['full_s'] <= TARGETS['full_s'])} |",
        f"| 16 | audit: incremental check since the last checkpoint ({NEW_EVENTS:,} new events, {NEW_AUDIT} audit "
        f"rows) | **{m['incremental_s'] * 1000:.0f} ms** wall, {m['incremental_s_cpu'] * 1000:.0f} ms CPU "
        f"(clean: {m['incremental_ok']}) | ≤ {TARGETS['incremental_s']:.0f} s | "
        f"{ok(m['incremental_ok'] and m['incremental_s'] <= TARGETS['incremental_s'])} |",
        f"| 16 | audit: issuing a checkpoint — the first (anchors every link) / the next (only what is new) | "
        f"{m['issue_first_s']:.1f} s / {m['issue_next_s']:.1f} s wall ({m['issue_first_s_cpu']:.1f} / "
        f"{m['issue_next_s_cpu']:.1f} s CPU) | — (daily job) | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/audit.db"
        from . import generate

        print(f"generating {args.cases} cases …", flush=True)
        generated = generate.build_database(url, args.cases)
        print(f"generated in {generated['seconds']} s; measuring …", flush=True)
        m = run(url)
    db_kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    report = "\n".join([
        "# Audit-trail benchmark (issue 16)", "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python -m bench.bench_audit --cases {args.cases}`.",
        "", "| # | measure | figure | target | |", "|---|---|---|---|---|", *lines(m, db_kind), ""])
    print(report)
    (ROOT / "bench" / ("RESULTS-audit.md" if db_kind == "SQLite" else "RESULTS-audit-postgresql.md")).write_text(
        report, encoding="utf-8")


if __name__ == "__main__":
    main()
