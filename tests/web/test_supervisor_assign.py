"""Supervisors assign and reassign cases: the 未分派 list and the per-case assign form."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.domain import intake
from portal.extensions import db
from portal.models import Case, CaseEvent

HX = {"HX-Request": "true"}


@pytest.fixture
def boss(make_user):
    return make_user("supervisor", display_name="何静")


@pytest.fixture
def coord(make_user):
    return make_user("coordinator", display_name="陈晓")


@pytest.fixture
def open_case(make_policy, boss):
    """A domestic second-opinion case submitted on the hotline, unassigned."""

    def make(when=datetime(2026, 6, 1, 2, tzinfo=UTC)):
        insured = make_policy(start=date(2026, 1, 1), end=date(2026, 12, 31), waiting_days=0)
        case = intake.submit_request(insured=insured, line_code="domestic_second_opinion", actor=boss,
                                     channel="ys_hotline", now=when,
                                     data={"illness": "恶性肿瘤——重度", "first_diagnosis_date": "2026-05-01"})
        db.session.commit()
        assert case.status == "submitted" and case.assignee_id is None
        return case

    return make


def _assign(client, case, assignee_id, *, version=None, headers=None, next_url=""):
    return client.post(f"/staff/cases/{case.id}/assign", headers=headers or {},
                       data={"assignee_id": assignee_id, "version": case.version if version is None else version,
                             "next": next_url})


def test_unassigned_list_shows_only_unassigned_open_cases(login_as, boss, coord, open_case):
    waiting, taken = open_case(), open_case()
    taken.assignee_id = coord.id
    db.session.commit()
    page = login_as(boss).get("/staff/admin/assignments")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body
    assert waiting.ref in body and taken.ref not in body
    assert f'id="assign-{waiting.id}"' in body


def test_assignment_filter_answers_the_results_fragment_for_htmx(login_as, boss, coord, open_case):
    case = open_case()
    case.assignee_id = coord.id
    db.session.commit()
    response = login_as(boss).get(f"/staff/admin/assignments?assignee={coord.id}", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="assignment-results">') and case.ref in body
    assert "HX-Request" in response.headers["Vary"]


def test_assigning_by_plain_post_redirects_back_and_records_history(login_as, boss, coord, open_case):
    case = open_case()
    client = login_as(boss)
    response = _assign(client, case, coord.id, next_url="/staff/admin/assignments?page=1")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/admin/assignments?page=1")
    db.session.refresh(case)
    assert case.assignee_id == coord.id
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                               .order_by(CaseEvent.seq.desc())).first()
    assert event.action == "assign" and event.actor_id == boss.id


def test_assigning_by_htmx_returns_the_form_with_a_case_updated_trigger(login_as, boss, coord, open_case):
    case = open_case()
    response = _assign(login_as(boss), case, coord.id, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert response.headers["HX-Trigger"] == "case-updated"
    assert f'id="assign-{case.id}"' in body and "已分派给陈晓" in body and "改派" in body


def test_reassigning_moves_the_case_to_another_person(login_as, boss, coord, make_user, open_case):
    other = make_user("coordinator", display_name="刘洋")
    case = open_case()
    client = login_as(boss)
    assert _assign(client, case, coord.id).status_code == 303
    db.session.refresh(case)
    assert _assign(client, case, other.id).status_code == 303
    assert db.session.get(Case, case.id).assignee_id == other.id


def test_an_offsite_next_is_ignored(login_as, boss, coord, open_case):
    response = _assign(login_as(boss), open_case(), coord.id, next_url="//evil.example/x")
    assert response.headers["Location"].endswith("/staff/admin/assignments")


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "plain"])
def test_a_stale_version_is_refused_with_409(login_as, boss, coord, open_case, headers):
    case = open_case()
    response = _assign(login_as(boss), case, coord.id, version=case.version - 1, headers=headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "该案件已被他人更新，请刷新后重试" in body
    assert ("<html" in body) is (not headers)
    assert db.session.get(Case, case.id).assignee_id is None


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "plain"])
def test_an_inactive_or_unknown_assignee_is_refused_at_the_field(login_as, boss, make_user, open_case, headers):
    gone = make_user("coordinator", active=False)
    case = open_case()
    response = _assign(login_as(boss), case, gone.id, headers=headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请选择负责人" in body and 'aria-invalid="true"' in body
    assert ("<html" in body) is (not headers)
    assert db.session.get(Case, case.id).assignee_id is None


def test_auditor_and_insured_cannot_be_assignees(login_as, boss, make_user, open_case):
    auditor = make_user("auditor")
    response = _assign(login_as(boss), open_case(), auditor.id)
    assert response.status_code == 422


def test_a_coordinator_cannot_assign(login_as, coord, open_case):
    case = open_case()
    assert _assign(login_as(coord), case, coord.id).status_code == 403
    assert db.session.get(Case, case.id).assignee_id is None


def test_a_closed_case_cannot_be_assigned(login_as, boss, coord, open_case):
    case = open_case()
    case.status = "completed"
    db.session.commit()
    response = _assign(login_as(boss), case, coord.id, headers=HX)
    assert response.status_code == 422
    assert db.session.get(Case, case.id).assignee_id is None


def test_unknown_case_is_404(login_as, boss, coord):
    response = login_as(boss).post("/staff/cases/999/assign", data={"assignee_id": coord.id, "version": 1})
    assert response.status_code == 404


def test_assignment_list_does_not_query_per_case(app, login_as, boss, open_case):
    from sqlalchemy import event

    for _ in range(3):
        open_case()
    client = login_as(boss)
    client.get("/staff/admin/assignments")  # warm-up: first-request work is not what we count
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        db.session.expire_all()  # the same state as after the commits below
        client.get("/staff/admin/assignments")
        few = list(statements)
        for _ in range(5):
            open_case()
        statements.clear()
        client.get("/staff/admin/assignments")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == len(few)


def test_a_missing_version_is_refused_as_an_expired_page(login_as, boss, coord, open_case):
    case = open_case()
    response = login_as(boss).post(f"/staff/cases/{case.id}/assign", data={"assignee_id": coord.id}, headers=HX)
    assert response.status_code == 422 and "页面已过期，请刷新后重试。" in response.get_data(as_text=True)
    assert db.session.get(Case, case.id).assignee_id is None
