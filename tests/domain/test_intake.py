"""Intake (SPEC §1, §3): hotline search, a preview that writes nothing, and submission on record either way."""

import os
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal import calendar
from portal.domain import history, intake, ledger
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import (
    Case,
    CaseEvent,
    Entitlement,
    EntitlementEntry,
    Hospital,
    InsuredPerson,
    Notification,
    SlaClock,
    User,
)

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)            # Monday 15 June 2026, 10:00 in Shanghai
TODAY = date(2026, 6, 15)


@pytest.fixture
def insured(make_policy):
    return make_policy(name="王测试")


@pytest.fixture
def hospital(app):
    row = Hospital(name="北京协和医院", city="北京")
    db.session.add(row)
    db.session.commit()
    return row


def _data(hospital, **changes) -> dict:
    return {"illness": "恶性肿瘤——重度", "first_diagnosis_date": date(2026, 5, 1), "city": "北京",
            "hospital_id": hospital.id, "department": "肿瘤内科", "diagnosis": "肺腺癌",
            "preferred_dates": [date(2026, 6, 18)], "note": "上午为宜", **changes}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _submit(insured, hospital, line_code="green_outpatient", *, actor=None, now=NOW, **changes) -> Case:
    case = intake.submit_request(insured=insured, line_code=line_code, data=_data(hospital, **changes),
                                 actor=actor, channel="ys_hotline", now=now)
    db.session.commit()
    return case


def test_an_eligible_request_is_submitted_with_a_unit_reserved_and_its_clock_running(insured, hospital,
                                                                                    make_user):
    coordinator = make_user("coordinator")
    case = _submit(insured, hospital, actor=coordinator, name="王测试", id_number=insured.id_number)
    assert (case.ref, case.status, case.channel, case.created_by_id) == (
        "ZJ20260615-0001", "submitted", "ys_hotline", coordinator.id)
    assert (case.city, case.hospital_id, case.department, case.illness, case.first_diagnosis_date) == (
        "北京", hospital.id, "肿瘤内科", "恶性肿瘤——重度", date(2026, 5, 1))
    assert case.request_data == {"preferred_dates": ["2026-06-18"], "note": "上午为宜"}   # no ID number kept
    assert case.policy_year_start == date(2026, 1, 1)
    assert [(r["code"], r["passed"]) for r in case.eligibility] == [
        ("identity", True), ("policy_in_force", True), ("waiting_period", True), ("illness_covered", True),
        ("entitlement_available", True), ("location", True)]
    entitlement = db.session.scalar(select(Entitlement).filter_by(insured_id=insured.id, line_code=case.line_code))
    assert (entitlement.reserved, entitlement.remaining) == (1, 0)
    clock = db.session.scalar(select(SlaClock).filter_by(case_id=case.id))
    assert (clock.kind, clock.days, clock.state, clock.start_date) == ("arrange", 5, "running", TODAY)
    assert clock.due_date == calendar.add_working_days(TODAY, 5)
    event = db.session.scalar(select(CaseEvent).filter_by(case_id=case.id))
    assert (event.seq, event.actor_id, event.action, event.to_status) == (1, coordinator.id, "submit", "submitted")
    note = db.session.scalar(select(Notification).filter_by(case_id=case.id))
    assert note.title == "服务申请已受理"
    assert case.ref in note.body
    assert "我们将最晚于 6月23日（周二）前为您安排" in note.body     # 19 June 2026 is 端午节
    assert history.verify().ok


def test_an_inpatient_clock_counts_from_the_later_of_request_and_admission_slip(insured, hospital):
    """Seed: 客户申请且住院条开具之日起 — a slip issued before the request counts from the request day."""
    case = _submit(insured, hospital, "green_inpatient", admission_slip_date="2026-06-12")
    clock = db.session.scalar(select(SlaClock).filter_by(case_id=case.id))
    # 10 working days after Monday 15 June 2026; 端午 (19 June) is off: 16,17,18,22,23,24,25,26,29,30
    assert (case.admission_slip_date, clock.days, clock.state, clock.start_date, clock.due_date) == (
        date(2026, 6, 12), 10, "running", TODAY, date(2026, 6, 30))


def test_an_inpatient_clock_waits_for_the_admission_slip(insured, hospital):
    case = _submit(insured, hospital, "green_inpatient")
    clock = db.session.scalar(select(SlaClock).filter_by(case_id=case.id))
    assert (clock.state, clock.start_date, clock.due_date) == ("pending", None, None)


def test_an_overseas_request_has_both_clocks_and_only_the_decision_clock_runs(insured, hospital):
    case = _submit(insured, hospital, "overseas_treatment", city=None, hospital_id=None, country="美国")
    clocks = db.session.execute(select(SlaClock.kind, SlaClock.days, SlaClock.state)
                                .filter_by(case_id=case.id).order_by(SlaClock.id)).all()
    assert clocks == [("decision", 3, "running"), ("treatment", 40, "pending")]
    assert (case.country, case.city) == ("美国", None)


def test_an_ineligible_request_is_terminated_not_eligible_and_kept_on_record(insured, hospital):
    case = _submit(insured, hospital, "domestic_escort", illness="感冒", city="拉萨", hospital_id=None)
    case_id = case.id
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert (case.status, case.termination_reason, case.closed_at) == ("terminated", "not_eligible", NOW)
    failed = [(r["code"], r["reason"]) for r in case.eligibility if not r["passed"]]
    assert failed == [("illness_covered", "“感冒”不在本产品保障的重度疾病范围内。"),
                      ("location", "所选城市“拉萨”不在陪诊服务城市范围内。")]
    event = db.session.scalar(select(CaseEvent).filter_by(case_id=case.id))
    assert (event.to_status, event.data["termination_reason"]) == ("terminated", "not_eligible")
    assert [f["reason"] for f in event.data["failed"]] == [reason for _, reason in failed]
    assert _count(EntitlementEntry) == 0
    assert _count(SlaClock) == 0                                 # no promise was made
    note = db.session.scalar(select(Notification).filter_by(case_id=case.id))
    assert "所选城市“拉萨”不在陪诊服务城市范围内。" in note.body


def test_a_rolled_back_submission_leaves_no_trace(insured, hospital):
    """The ref savepoint must not commit anything early (pysqlite did, before SQLAlchemy owned BEGIN)."""
    intake.submit_request(insured=insured, line_code="domestic_escort", data=_data(hospital), actor=None, now=NOW)
    db.session.rollback()
    assert [_count(model) for model in (Case, Entitlement, EntitlementEntry, CaseEvent, Notification)] == [0] * 5


def test_case_refs_count_per_business_day_in_shanghai(insured, hospital):
    first = _submit(insured, hospital, "domestic_escort")
    second = _submit(insured, hospital, "green_outpatient")
    next_day = _submit(insured, hospital, "domestic_second_opinion", now=datetime(2026, 6, 15, 16, 30, tzinfo=UTC))
    assert [first.ref, second.ref, next_day.ref] == ["ZJ20260615-0001", "ZJ20260615-0002", "ZJ20260616-0001"]


def test_preview_evaluates_every_rule_and_writes_nothing(insured, hospital):
    results = intake.preview(insured=insured, line_code="domestic_escort", data=_data(hospital, city="拉萨"), now=NOW)
    assert [(r.code, r.passed) for r in results][-1] == ("location", False)
    assert not (db.session.new or db.session.dirty)
    db.session.commit()
    assert [_count(model) for model in (Case, Entitlement, CaseEvent, Notification, SlaClock)] == [0, 0, 0, 0, 0]


def test_find_insured_matches_every_criterion_given(make_policy):
    wang = make_policy(name="王测试", id_number="11010519491231002X", policy_no="SD0001")
    make_policy(name="王测试", policy_no="SD0002")
    assert {p.id for p in intake.find_insured(name="王测试")} == {wang.id, wang.id + 1}
    assert intake.find_insured(id_number="110105 19491231 002x") == [wang]
    assert intake.find_insured(name="王测试", policy_no="SD0001") == [wang]
    assert intake.find_insured(name="李四", policy_no="SD0001") == []
    assert intake.find_insured() == []


def test_simultaneous_requests_for_the_last_unit_leave_one_submitted_and_the_rest_on_record(app, insured, hospital):
    used = _submit(insured, hospital, "domestic_escort")         # one of the two escort units is used up
    ledger.consume(used, actor=None, now=NOW)
    used.status = "completed"                                    # (one open request per line: issue 14)
    workers = 8
    insured_id, data = insured.id, _data(hospital)              # read here: these rows belong to this thread
    db.session.commit()                                          # and hold no transaction open while they run
    barrier = threading.Barrier(workers, timeout=30)
    outcomes, lock = [], threading.Lock()

    def worker():
        with app.app_context():                                  # its own scoped session and connection
            try:
                barrier.wait()
                person = db.session.get(InsuredPerson, insured_id)
                case = intake.submit_request(insured=person, line_code="domestic_escort", data=data, actor=None,
                                             now=NOW)
                db.session.commit()
                outcome = (case.ref, case.status, case.eligibility[4]["reason"])
            except Exception as error:  # noqa: BLE001 — any failure must show in the assertion
                db.session.rollback()
                outcome = repr(error)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A request that already sees the winner open is refused as a second open request (nothing kept, issue 14);
    # one that raced past that check meets the exhausted ledger and is kept on record as terminated.
    kept = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if not isinstance(o, tuple)]
    assert len(outcomes) == workers and all("已有一项进行中的国内就医陪诊申请" in o for o in refused), outcomes
    assert len({ref for ref, _, _ in kept}) == len(kept)
    assert sorted(status for _, status, _ in kept) == ["submitted"] + ["terminated"] * (len(kept) - 1)
    assert {reason for _, status, reason in kept if status == "terminated"} <= {
        "本保单年度“国内就医陪诊”服务次数已用完。"}
    entitlement = db.session.scalar(select(Entitlement).filter_by(insured_id=insured_id, line_code="domestic_escort"))
    assert (entitlement.total, entitlement.reserved, entitlement.consumed) == (2, 1, 1)
    assert history.verify().ok


def test_a_second_open_request_for_the_same_line_is_refused_with_the_first_ones_ref(insured, hospital):
    first = _submit(insured, hospital, "domestic_escort")
    with pytest.raises(DomainError, match=f"已有一项进行中的国内就医陪诊申请（编号 {first.ref}）"):
        _submit(insured, hospital, "domestic_escort")
    db.session.rollback()
    assert _count(Case) == 1 and db.session.scalar(select(Entitlement.reserved)) == 1


def test_a_repeat_of_the_same_submission_returns_the_first_case_and_takes_no_second_unit(insured, hospital,
                                                                                         make_user):
    user = make_user("insured", insured=insured)
    key = "a" * 32
    first = intake.submit_request(insured=insured, line_code="domestic_escort", data=_data(hospital), actor=user,
                                  now=NOW, submission_key=key)
    db.session.commit()
    again = intake.submit_request(insured=insured, line_code="domestic_escort", data=_data(hospital), actor=user,
                                  now=NOW, submission_key=key)
    assert again.id == first.id and again.is_repeat
    db.session.commit()
    assert _count(Case) == 1 and db.session.scalar(select(Entitlement.reserved)) == 1
    with pytest.raises(DomainError, match="页面已过期"):
        intake.submit_request(insured=insured, line_code="domestic_escort", data=_data(hospital), actor=user,
                              now=NOW, submission_key="not-a-key")


def test_two_simultaneous_posts_of_one_form_open_one_case(app, insured, hospital, make_user):
    """Two POSTs 31 ms apart with the same key, racing in two sessions: one case, one unit (issue 14)."""
    user_id, insured_id, data = make_user("insured", insured=insured).id, insured.id, _data(hospital)
    db.session.commit()
    barrier, outcomes, lock = threading.Barrier(2, timeout=30), [], threading.Lock()

    def worker():
        with app.app_context():
            try:
                barrier.wait()
                case = intake.submit_request(insured=db.session.get(InsuredPerson, insured_id),
                                             line_code="domestic_escort", data=data, now=NOW,
                                             actor=db.session.get(User, user_id), submission_key="b" * 32)
                db.session.commit()
                outcome = case.id
            except Exception as error:  # noqa: BLE001 — any failure must show in the assertion
                db.session.rollback()
                outcome = repr(error)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(outcomes)) == 1 and isinstance(outcomes[0], int), outcomes
    assert _count(Case) == 1 and db.session.scalar(select(Entitlement.reserved)) == 1


def test_case_numbers_continue_the_day_and_never_repeat(insured, hospital, make_policy):
    """Issue 17 item 8: numbers come from a per-day counter row, after any case already on record that day."""
    db.session.add(Case(ref="ZJ20260615-0041", policy_id=insured.policy_id, insured_id=insured.id,
                        line_code="green_outpatient", status="cancelled"))
    db.session.commit()
    first = _submit(insured, hospital, "green_outpatient")
    second = _submit(make_policy(name="李测试"), hospital, "green_outpatient")
    assert (first.ref, second.ref) == ("ZJ20260615-0042", "ZJ20260615-0043")
    assert intake.next_ref(date(2026, 6, 16)) == "ZJ20260616-0001"


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="50 processes writing at once: a PostgreSQL test (SQLite serialises writers)")
def test_fifty_processes_applying_at_once_all_get_a_case_number(app, database_url, make_policy, hospital):
    """Issue 17 item 8: 50 simultaneous applications (10 people × 5) → 10 accepted, 40 refused on record for
    the used-up unit, 50 distinct numbers, no request failing."""
    import multiprocessing

    from concurrent_apply import apply_once

    people = [make_policy(name=f"并发{n}") for n in range(10)]
    jobs = [(p.id, _data(hospital)) for p in people for _ in range(5)]
    db.session.commit()
    db.engine.dispose()                                       # no pooled connection crosses the fork
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(jobs), timeout=120), context.Queue()
    children = [context.Process(target=apply_once, args=(database_url, insured_id, data, barrier, results))
                for insured_id, data in jobs]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=180) for _ in children]
    for child in children:
        child.join(timeout=60)
    assert [o for o in outcomes if o[0] != "ok"] == []
    assert len({ref for _, ref, _, _ in outcomes}) == 50
    assert sorted(status for _, _, status, _ in outcomes) == ["submitted"] * 10 + ["terminated"] * 40
    assert {tuple(failed) for _, _, status, failed in outcomes if status == "terminated"} == {
        ("本保单年度“就医绿通·门诊预约”服务次数已用完。",)}
    assert db.session.scalar(select(func.count()).select_from(Case)) == 50
