"""Generate a realistic data set for benchmarks: N cases over all six lines and states.

    python -m bench.generate --cases 100000 --database-url sqlite:////tmp/bench.db

Policies, insured people, entitlements, SLA clocks (deadlines spread around today), documents'
metadata and ~10 hash-chained events per case, inserted with executemany in batches.
"""

import argparse
import random
import secrets
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text

from portal import calendar, create_app
from portal.domain import history, queue_counts, rollups
from portal.domain.demo import load_demo_data
from portal.extensions import db
from portal.models import (
    Case,
    CaseEvent,
    Document,
    Entitlement,
    Hospital,
    InsuredPerson,
    Policy,
    Product,
    SlaClock,
    User,
)

BATCH = 5000
STATUSES = [("completed", 38), ("terminated", 12), ("cancelled", 5), ("submitted", 8), ("verifying", 10),
            ("awaiting_documents", 7), ("in_service", 20)]
ACTIONS = ["submit", "verify", "accept", "request_documents", "documents_received", "note", "confirm_hospital",
           "book_appointment", "record_visit", "complete"]
DOC_KINDS = ["medical_record", "id_document", "pathology", "ct", "blood_test"]


def _id_card(n: int) -> str:
    body = f"3101041970{n % 10**7:07d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def _insert(model, rows: list[dict]) -> None:
    for i in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[i:i + BATCH])


def _demo_consent() -> None:
    """The measured insured has consented (SPEC §7), so the pages measured are his, not the consent gate."""
    from portal.domain import consent
    from portal.models import InsuredPerson

    person = db.session.get(InsuredPerson, db.session.scalar(
        select(User.insured_id).where(User.username == "wangjianguo")))
    if not consent.has_consent(person):
        consent.give(person, actor=db.session.scalar(select(User).where(User.username == "coord1")),
                     channel="hotline")


def generate(n_cases: int, *, seed: int = 7, now: datetime | None = None) -> dict:
    """Fill the current app's (empty, migrated) database; returns counts."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    today = calendar.business_today(now)
    load_demo_data(history=False)
    _demo_consent()
    db.session.commit()
    product = db.session.scalar(select(Product))
    lines = product.lines
    hospitals = db.session.execute(select(Hospital.id, Hospital.city).where(Hospital.overseas.is_(False))).all()
    staff = list(db.session.scalars(select(User.id).where(User.role.in_(["coordinator", "supervisor"]))))
    demo_insured = db.session.scalar(select(User.insured_id).where(User.username == "wangjianguo"))

    n_people = max(1, n_cases // 2)
    policy_start = today - timedelta(days=200)
    first_policy = (db.session.scalar(select(db.func.max(Policy.id))) or 0) + 1
    _insert(Policy, [dict(id=first_policy + i, policy_no=f"BP{i:09d}", product_id=product.id, holder_name=f"客户{i}",
                          start_date=policy_start, end_date=policy_start + timedelta(days=364), waiting_days=90,
                          status="active", created_at=now, updated_at=now) for i in range(n_people)])
    first_person = (db.session.scalar(select(db.func.max(InsuredPerson.id))) or 0) + 1
    _insert(InsuredPerson, [dict(id=first_person + i, policy_id=first_policy + i, name=f"客户{i}", id_type="id_card",
                                 id_number=_id_card(i)) for i in range(n_people)])

    cases, clocks, events, documents, entitlements = [], [], [], [], []
    first_case = (db.session.scalar(select(db.func.max(Case.id))) or 0) + 1
    weights = [w for _, w in STATUSES]
    for i in range(n_cases):
        case_id = first_case + i
        person = first_person + (i % n_people)
        if demo_insured and i < 5:
            person = demo_insured
        policy_id = db.session.get(InsuredPerson, person).policy_id if i < 5 else first_policy + (i % n_people)
        line = lines[i % len(lines)]
        status = rng.choices([s for s, _ in STATUSES], weights)[0]
        submitted = now - timedelta(days=rng.uniform(0, 180), minutes=rng.randint(0, 600))
        hospital = rng.choice(hospitals)
        closed = status in ("completed", "terminated", "cancelled")
        cases.append(dict(
            id=case_id, ref=f"BZ{i:09d}", policy_id=policy_id, insured_id=person, line_code=line.code, status=status,
            milestone=None, channel=rng.choice(["portal", "ys_hotline", "sd_hotline"]),
            city=hospital.city if line.cities else None, country="美国" if line.overseas else None,
            hospital_id=None if line.overseas else hospital.id, department="肿瘤科", diagnosis="肺恶性肿瘤",
            illness=product.covered_illnesses[0], first_diagnosis_date=policy_start + timedelta(days=100),
            request_data={}, eligibility=[], termination_reason="materials_missing" if status == "terminated" else None,
            assignee_id=rng.choice(staff + [None]), policy_year_start=policy_start, submitted_at=submitted,
            # never in the future: a case submitted in the last 8 days closed by now
            closed_at=min(submitted + timedelta(days=8), now) if closed else None, updated_at=submitted, version=1,
        ))
        start_day = calendar.to_business_date(submitted)
        for definition in line.clocks:
            due = calendar.add_working_days(start_day, definition["days"])
            if closed:
                state, outcome = "stopped", rng.choice(["met"] * 9 + ["breached"])
            elif status == "awaiting_documents":
                state, outcome = "paused", None
            else:
                state, outcome = "running", None
                # keep running deadlines around today: most in the future, a few due or overdue
                due = today + timedelta(days=rng.randint(-3, 40))
            clocks.append(dict(
                case_id=case_id, kind=definition["kind"], days=definition["days"], state=state, start_date=start_day,
                started_at=submitted, paused_days=0, due_date=due, deadline=calendar.end_of_business_day(due),
                provisional=False, outcome=outcome, breached=outcome == "breached",
                stopped_at=min(submitted + timedelta(days=7), now) if closed else None,
            ))
        prev = history.ZERO_HASH
        for seq in range(1, 11):
            fields = dict(case_id=case_id, seq=seq, at=submitted + timedelta(hours=seq), actor_id=None,
                          actor_role="coordinator", actor_name="陈晓", kind="transition", action=ACTIONS[seq - 1],
                          from_status="verifying", to_status="in_service", summary=f"第 {seq} 步", data={},
                          internal=seq == 6, prev_hash=prev)
            digest = history.compute_hash(fields)
            events.append({**fields, "hash": digest})
            prev = digest
        for k in range(3):
            documents.append(dict(case_id=case_id, kind=DOC_KINDS[(i + k) % len(DOC_KINDS)],
                                  original_name=f"病历{k}.jpg", stored_name=secrets.token_hex(16) + ".jpg",
                                  content_type="image/jpeg", size=200_000, sha256="0" * 64, uploaded_at=submitted,
                                  review_status="accepted"))
        if len(events) >= 50_000:
            _flush(cases, clocks, events, documents)
    _flush(cases, clocks, events, documents)
    for p in range(n_people):
        for line in lines:
            entitlements.append(dict(policy_id=first_policy + p, insured_id=first_person + p, line_code=line.code,
                                     year_start=policy_start, year_end=policy_start + timedelta(days=364),
                                     total=line.entitlement, reserved=0, consumed=0, lapsed=0))
    _insert(Entitlement, entitlements)
    queue_counts.rebuild(db.session)  # the rows above went in without the ORM: count them once
    rollups.rebuild(db.session)
    db.session.commit()
    return {"cases": n_cases, "events": n_cases * 10, "documents": n_cases * 3, "insured": n_people}


def _flush(cases, clocks, events, documents) -> None:
    _insert(Case, cases)
    _insert(SlaClock, clocks)
    _insert(CaseEvent, events)
    _insert(Document, documents)
    for rows in (cases, clocks, events, documents):
        rows.clear()


def build_database(url: str, n_cases: int) -> dict:
    """Migrate an empty database at `url` and fill it; returns counts and seconds taken."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        counts = generate(n_cases)
        counts["seconds"] = round(time.perf_counter() - started, 1)
        if db.engine.dialect.name == "postgresql":
            # what autovacuum does soon after a bulk load in production: without statistics the planner
            # takes every table for empty and picks nested loops that run for seconds (21 s for the queue)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    print(build_database(args.database_url, args.cases))


if __name__ == "__main__":
    main()
