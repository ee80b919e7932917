"""Case history: append-only rows, a hash chain that `verify` and `flask audit verify` check (issue 3)."""

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from helpers import as_database_owner
from sqlalchemy import event, insert, select, text

from portal.domain import history
from portal.domain.errors import StaleCaseError
from portal.extensions import db
from portal.models import AppendOnlyError, Case, CaseEvent

NOW = datetime(2026, 6, 15, 2, 0, 0, 123456, tzinfo=UTC)
_refs = itertools.count(1)


@pytest.fixture
def case(make_policy):
    insured = make_policy()
    case = Case(ref=f"ZJ20260615-{next(_refs):04d}", policy_id=insured.policy_id, insured_id=insured.id,
                line_code="green_outpatient")
    db.session.add(case)
    db.session.commit()
    return case


def _three_events(case, actor):
    history.append(case, actor=actor, kind="transition", action="submit", summary="提交申请", to_status="submitted",
                   now=NOW)
    history.append(case, actor=None, kind="clock", action="deadline_set", summary="安排时限已设定",
                   data={"due": date(2026, 6, 22), "fee": Decimal("12.50")}, now=NOW)
    history.append(case, actor=actor, kind="note", action="note", summary="内部备注", internal=True, now=NOW)
    db.session.commit()


def test_events_are_numbered_and_each_links_to_the_previous_hash(case, make_user):
    _three_events(case, make_user("coordinator"))
    events = db.session.scalars(select(CaseEvent).order_by(CaseEvent.seq)).all()
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == history.ZERO_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert len({e.hash for e in events}) == 3


def test_many_events_over_several_cases_at_once_chain_exactly_as_one_at_a_time(case, make_policy, make_user):
    """The sweep records its breaches with append_many: two on one case, one on another, after earlier links."""
    other = Case(ref=f"ZJ20260615-{next(_refs):04d}", policy_id=case.policy_id, insured_id=case.insured_id,
                 line_code="green_inpatient")
    db.session.add(other)
    _three_events(case, make_user("coordinator"))
    breach = dict(actor=None, kind="clock", action="breached", summary="已超期", internal=True, now=NOW)
    made = history.append_many([(case, breach), (other, breach), (case, {**breach, "summary": "报告已超期"})])
    db.session.commit()
    assert [(e.case_id, e.seq) for e in made] == [(case.id, 4), (other.id, 1), (case.id, 5)]
    assert made[2].prev_hash == made[0].hash and made[1].prev_hash == history.ZERO_HASH
    assert history.verify().ok and history.verify().checked == 6


def test_system_events_are_recorded_as_system(case):
    event = history.append(case, actor=None, kind="clock", action="breached", summary="已超时", now=NOW)
    assert (event.actor_id, event.actor_role, event.actor_name) == (None, "system", "系统")


def test_an_untouched_chain_verifies_after_a_round_trip_through_the_database(case, make_user):
    _three_events(case, make_user("coordinator"))
    db.session.expire_all()
    result = history.verify()
    assert (result.checked, result.broken, result.ok) == (3, [], True)


def test_data_is_stored_as_plain_json(case):
    event = history.append(case, actor=None, kind="clock", action="x", summary="x",
                           data={"due": date(2026, 6, 22), "fee": Decimal("12.50"), 1: ("a", NOW)}, now=NOW)
    assert event.data == {"due": "2026-06-22", "fee": "12.50", "1": ["a", "2026-06-15T02:00:00.123456+00:00"]}


def test_an_edited_row_fails_verify_and_is_named(case, make_user):
    _three_events(case, make_user("coordinator"))
    second = db.session.scalar(select(CaseEvent).where(CaseEvent.seq == 2))
    with as_database_owner():
        db.session.execute(text("UPDATE case_event SET summary = '改过的' WHERE id = :id"), {"id": second.id})
    result = history.verify()
    assert result.checked == 3
    assert len(result.broken) == 1
    broken = result.broken[0]
    assert (broken.case_id, broken.seq, broken.event_id) == (case.id, 2, second.id)
    assert "hash mismatch" in broken.problem


def test_a_rewritten_row_with_a_fresh_hash_breaks_the_next_link(case, make_user):
    _three_events(case, make_user("coordinator"))
    second = db.session.scalar(select(CaseEvent).where(CaseEvent.seq == 2))
    fields = {name: getattr(second, name) for name in history.HASHED_FIELDS} | {"summary": "改过的"}
    with as_database_owner():
        db.session.execute(text("UPDATE case_event SET summary = '改过的', hash = :hash WHERE id = :id"),
                           {"hash": history.compute_hash(fields), "id": second.id})
    broken = history.verify().broken
    assert [(b.seq, "prev_hash" in b.problem) for b in broken] == [(3, True)]


def test_a_deleted_row_leaves_a_gap_that_verify_reports(case, make_user):
    _three_events(case, make_user("coordinator"))
    with as_database_owner():
        db.session.execute(text("DELETE FROM case_event WHERE seq = 2"))
    broken = history.verify(case_id=case.id).broken
    assert [(b.seq, "seq gap" in b.problem) for b in broken] == [(3, True)]


def test_a_concurrent_append_is_refused_as_stale_instead_of_forking_the_chain(case):
    history.append(case, actor=None, kind="note", action="note", summary="第一条", now=NOW)
    db.session.commit()
    table = CaseEvent.__table__

    def other_writer(mapper, connection, target):
        """Another transaction appends the same seq between our SELECT and our INSERT."""
        connection.execute(insert(table).values(
            {c.name: getattr(target, c.name) for c in table.columns if c.name != "id"} | {"summary": "别人的"}))

    event.listen(CaseEvent, "before_insert", other_writer)
    try:
        with pytest.raises(StaleCaseError):
            history.append(case, actor=None, kind="note", action="note", summary="我的", now=NOW)
    finally:
        event.remove(CaseEvent, "before_insert", other_writer)
    db.session.rollback()


def test_the_orm_refuses_to_update_an_event(case):
    event = history.append(case, actor=None, kind="note", action="note", summary="原文", now=NOW)
    db.session.commit()
    event.summary = "改过的"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_the_orm_refuses_to_delete_an_event(case):
    event = history.append(case, actor=None, kind="note", action="note", summary="原文", now=NOW)
    db.session.commit()
    db.session.delete(event)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_timeline_hides_internal_notes_unless_asked(case, make_user):
    _three_events(case, make_user("coordinator"))
    assert [e.seq for e in history.timeline(case, include_internal=False)] == [1, 2]
    assert [e.seq for e in history.timeline(case, include_internal=True)] == [1, 2, 3]


def test_cli_audit_verify_counts_the_events_and_exits_0(case, make_user, runner):
    _three_events(case, make_user("coordinator"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "checked 3 events" in result.output


def test_cli_audit_verify_exits_1_naming_the_first_broken_link(case, make_user, runner):
    _three_events(case, make_user("coordinator"))
    second = db.session.scalar(select(CaseEvent).where(CaseEvent.seq == 2))
    with as_database_owner():
        db.session.execute(text("UPDATE case_event SET summary = '改过的' WHERE id = :id"), {"id": second.id})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "checked 3 events" in result.output
    assert f"case {case.ref}, seq 2: " in result.output
    assert "hash mismatch" in result.output
