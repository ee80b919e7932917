"""The work queue's counter rows (issue 20) equal a count over the cases after every kind of write: intake,
transitions, assignment, a rolled-back transaction, a rolled-back savepoint, rows written outside the ORM."""

from datetime import timedelta

from casework import at, make_directory, make_staff, open_case, walk
from sqlalchemy import func, insert, literal_column, select

from portal.domain import queue_counts
from portal.extensions import db
from portal.models import Case, QueueCount


def _counted() -> dict:
    return {(a, s, line, c): n for a, s, line, c, n in db.session.execute(
        select(QueueCount.assignee_id, QueueCount.status, QueueCount.line_code, QueueCount.city, QueueCount.n))
        if n}


def _truth() -> dict:
    key = (func.coalesce(Case.assignee_id, literal_column("0")), Case.status, Case.line_code,
           func.coalesce(Case.city, literal_column("''")))
    return {(a, s, line, c): n for a, s, line, c, n in db.session.execute(select(*key, func.count()).group_by(*key))}


def test_counters_follow_intake_transitions_and_assignment(app, product, make_policy, make_user):
    directory, staff = make_directory(), make_staff(make_user)
    monday = at(2026, 11, 16, 9)
    first = open_case(make_policy, directory, "green_outpatient", monday, staff.coord)
    second = open_case(make_policy, directory, "domestic_escort", monday, None)
    third = open_case(make_policy, directory, "overseas_second_opinion", monday, None)
    assert _counted() == _truth() and sum(_counted().values()) == 3
    walk(first, staff.coord, [("verify", monday + timedelta(hours=1), {}),
                              ("request_documents", monday + timedelta(hours=2),
                               {"kinds": ["medical_record"], "reason": "病历不清晰"})])
    walk(second, staff.boss, [("assign", monday + timedelta(hours=1), {"assignee_id": staff.coord.id})])
    walk(third, staff.coord, [("verify", monday + timedelta(hours=1), {}),
                              ("terminate", monday + timedelta(hours=3), {"reason": "insured_withdrew"})])
    assert _counted() == _truth()
    assert _counted()[(staff.coord.id, "awaiting_documents", "green_outpatient", "北京")] == 1


def test_a_rolled_back_change_counts_nothing(app, product, make_policy, make_user):
    directory, staff = make_directory(), make_staff(make_user)
    case = open_case(make_policy, directory, "green_outpatient", at(2026, 11, 16, 9), staff.coord)
    before = _counted()
    case.status, case.assignee_id = "in_service", staff.boss.id
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert _counted() == before == _truth()


def test_a_rolled_back_savepoint_counts_nothing_but_the_rest_of_the_transaction_does(app, product, make_policy,
                                                                                     make_user):
    directory, staff = make_directory(), make_staff(make_user)
    kept = open_case(make_policy, directory, "green_outpatient", at(2026, 11, 16, 9), staff.coord)
    dropped = open_case(make_policy, directory, "domestic_escort", at(2026, 11, 16, 9), staff.coord)
    kept.city = "上海"
    savepoint = db.session.begin_nested()
    dropped.status = "cancelled"
    db.session.flush()
    savepoint.rollback()
    db.session.commit()
    assert _counted() == _truth()
    assert db.session.get(Case, dropped.id).status == "submitted"


def test_rows_written_outside_the_orm_are_counted_by_rebuild(app, product, make_policy, make_user):
    directory, staff = make_directory(), make_staff(make_user)
    case = open_case(make_policy, directory, "green_outpatient", at(2026, 11, 16, 9), staff.coord)
    db.session.execute(insert(Case), [dict(ref=f"ZJBULK-{i}", policy_id=case.policy_id, insured_id=case.insured_id,
                                           line_code="domestic_escort", status="submitted", city="上海",
                                           submitted_at=case.submitted_at) for i in range(5)])
    db.session.commit()
    assert _counted() != _truth()
    queue_counts.rebuild(db.session)
    db.session.commit()
    assert _counted() == _truth()
