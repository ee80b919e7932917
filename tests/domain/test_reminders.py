"""Reminders while a case waits on the insured, and the materials-missing alert (issue 14 item 5): sent by the
scheduler on working days only, after the product's numbers of working days, each exactly once."""

from datetime import date, timedelta

import pytest
from casework import at, make_directory, make_staff, open_case
from sqlalchemy import func, select

from portal import jobs
from portal.domain import lifecycle, reminders
from portal.domain.reminders import ReminderResult
from portal.extensions import db
from portal.models import Alert, Notification

ASKED = at(2026, 9, 28)  # Monday; 国庆 1–7 October 2026, Saturday 10 October a 调休 working day


@pytest.fixture
def waiting(make_policy, make_user):
    directory, staff = make_directory(), make_staff(make_user)
    case = open_case(make_policy, directory, "green_outpatient", at(2026, 9, 25, 9), staff.coord)
    for action, fields in (("verify", {}), ("request_documents", {"kinds": ["ct"], "reason": "需要 CT 报告"})):
        lifecycle.perform(case, action, actor=staff.coord, now=ASKED, **fields)
    db.session.commit()
    return case, staff


def _reminders() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(Notification.key.is_not(None)))


def test_reminders_and_the_alert_go_out_on_their_working_days_once_each(app, waiting):
    """Working days after Monday 28 September, by the State Council notice: 29, 30 Sep; 8 (3rd), 9, 10 (调休),
    12, 13 (7th) … 23 October (15th). Run at 09:30 every calendar day, twice: each once, nothing on days off."""
    case, staff = waiting
    sent = {}
    day = date(2026, 9, 28)
    while day <= date(2026, 10, 27):
        when = at(day.year, day.month, day.day, 9, 30)
        first = jobs.document_reminders(app, now=when)
        again = jobs.document_reminders(app, now=when + timedelta(minutes=5))
        if day.weekday() >= 5 and day != date(2026, 10, 10) or date(2026, 10, 1) <= day <= date(2026, 10, 7):
            assert first is None and again is None, day  # days off: the job does not run
        else:
            assert again == ReminderResult(0, 0), day
            if first != ReminderResult(0, 0):
                sent[day] = first
        day += timedelta(days=1)
    assert sent == {date(2026, 10, 8): ReminderResult(1, 0), date(2026, 10, 13): ReminderResult(1, 0),
                    date(2026, 10, 23): ReminderResult(1, 1)}
    titles = list(db.session.scalars(select(Notification.title).where(Notification.key.is_not(None))
                                     .order_by(Notification.id)))
    assert titles == ["请尽快补充资料", "请尽快补充资料", "补充资料已逾期"]
    first_body = db.session.scalar(select(Notification.body).where(Notification.key.is_not(None)))
    assert "CT 报告" in first_body and "10月23日（周五）前上传" in first_body and "服务将终止" in first_body
    alert = db.session.scalars(select(Alert).where(Alert.kind == "materials_missing")).one()
    assert alert.recipient_id == staff.coord.id and "无法提供服务所需的医疗资料" in alert.message


def test_a_run_after_days_off_sends_each_missed_reminder_once(app, waiting):
    assert reminders.run(at(2026, 10, 14, 9, 30)) == ReminderResult(2, 0)  # the 3rd and 7th working days passed
    assert reminders.run(at(2026, 10, 15, 9, 30)) == ReminderResult(0, 0)
    assert _reminders() == 2


def test_nothing_is_sent_once_the_documents_arrived(app, waiting):
    case, staff = waiting
    lifecycle.perform(case, "documents_received", actor=staff.coord, now=at(2026, 9, 29))
    db.session.commit()
    assert reminders.run(at(2026, 10, 26, 9, 30)) == ReminderResult(0, 0)


def test_the_numbers_of_working_days_are_product_data(app, waiting):
    case, _ = waiting
    product = case.policy.product
    product.reminder_days, product.materials_limit_days = [1], 2
    db.session.commit()
    assert reminders.run(at(2026, 9, 29, 9, 30)) == ReminderResult(1, 0)
    assert reminders.run(at(2026, 9, 30, 9, 30)) == ReminderResult(1, 1)


def test_the_scheduler_runs_the_reminders_at_0930(app):
    from portal import scheduler

    job = {j.id: j for j in scheduler.build_scheduler(app).get_jobs()}["document_reminders"]
    assert job.trigger.get_next_fire_time(None, at(2026, 11, 25, 10)) == at(2026, 11, 26, 9, 30)
