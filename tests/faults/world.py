"""Rows the fault tests need, written in bulk through an in-process app over the test's database."""

from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, text

from portal import calendar
from portal.domain import history
from portal.extensions import db
from portal.models import Case, CaseEvent, InsuredPerson, SlaClock, User, utcnow


def _insured(username: str) -> InsuredPerson:
    user = db.session.scalar(select(User).where(User.username == username))
    return db.session.get(InsuredPerson, user.insured_id)


def add_cases(app, n: int, *, deadline: datetime | None = None, insured: str = "wangjianguo",
              assignee: str | None = None, status: str = "in_service") -> list[int]:
    """`n` open cases of one insured person, each with one history event and, given `deadline`, one running
    clock due then. Returns their ids."""
    now = utcnow()
    with app.app_context():
        person = _insured(insured)
        assignee_id = db.session.scalar(select(User.id).where(User.username == assignee)) if assignee else None
        first = (db.session.scalar(select(func.max(Case.id))) or 0) + 1
        ids = list(range(first, first + n))
        cases, clocks, events = [], [], []
        for case_id in ids:
            cases.append(dict(id=case_id, ref=f"ZJFAULT-{case_id:06d}", policy_id=person.policy_id,
                              insured_id=person.id, line_code="green_outpatient", status=status, channel="portal",
                              city="北京", department="肿瘤科", diagnosis="肺恶性肿瘤", request_data={},
                              eligibility=[], assignee_id=assignee_id, submitted_at=now - timedelta(days=10),
                              updated_at=now, version=1))
            if deadline is not None:
                due = calendar.to_business_date(deadline)
                clocks.append(dict(case_id=case_id, kind="arrange", days=5, state="running",
                                   start_date=due - timedelta(days=7), started_at=now - timedelta(days=10),
                                   paused_days=0, due_date=due, deadline=deadline, provisional=False,
                                   breached=False))
            fields = dict(case_id=case_id, seq=1, at=now - timedelta(days=10), actor_id=None, actor_role="insured",
                          actor_name="王建国", kind="transition", action="submit", from_status=None,
                          to_status=status, summary="提交申请", data={}, internal=False, prev_hash=history.ZERO_HASH)
            events.append({**fields, "hash": history.compute_hash(fields)})
        for model, rows in ((Case, cases), (SlaClock, clocks), (CaseEvent, events)):
            for i in range(0, len(rows), 2000):
                if rows[i:i + 2000]:
                    db.session.execute(insert(model), rows[i:i + 2000])
        if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), "
                                    "(SELECT max(id) FROM \"case\"))"))
        db.session.commit()
    return ids


def scalar(app, sql: str, **params):
    """One value from the test's database (a fresh transaction: sees what the processes committed)."""
    with app.app_context():
        try:
            return db.session.execute(text(sql), params).scalar()
        finally:
            db.session.remove()


def rows(app, sql: str, **params) -> list:
    with app.app_context():
        try:
            return db.session.execute(text(sql), params).all()
        finally:
            db.session.remove()


def verify_history(app) -> bool:
    with app.app_context():
        try:
            return history.verify().ok
        finally:
            db.session.remove()
