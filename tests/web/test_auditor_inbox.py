"""Issue 17 item 16: the auditors' inbox of reports sent to 史带, and 已阅 — the one write an auditor makes."""

from sqlalchemy import select

from portal.domain import reports
from portal.extensions import db
from portal.models import AuditLog, InsurerDelivery

HX = {"HX-Request": "true"}


def _weekly_delivery():
    reports.build_weekly("2026-W47", built_by="scheduler")
    db.session.commit()
    return db.session.scalars(select(InsurerDelivery)).one()


def test_the_inbox_lists_what_was_sent_and_an_auditor_marks_it_read(app, product, login_as):
    row = _weekly_delivery()
    client = login_as("auditor")
    page = client.get("/audit/inbox").get_data(as_text=True)
    assert "<html" in page and "英仕每周服务进度报告 2026-W47（第 1 版）" in page
    assert "未阅 <strong>1</strong> 份" in page and "标记已阅" in page
    fragment = client.get("/audit/inbox?page=1", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="inbox-table"' in fragment
    response = client.post(f"/audit/inbox/{row.id}/read")
    assert response.status_code == 303 and response.headers["Location"].endswith("/audit/inbox")
    db.session.refresh(row)
    assert (row.read_by_id, row.read_at is not None) == (client.user.id, True)
    assert db.session.scalars(select(AuditLog.action).where(AuditLog.actor_id == client.user.id)).all() == [
        "insurer_delivery.read"]
    assert "已阅" in client.get("/audit/inbox").get_data(as_text=True)


def test_the_read_mark_is_refused_to_everyone_else(app, product, login_as):
    row = _weekly_delivery()
    for role in ("coordinator", "supervisor"):
        assert login_as(role).post(f"/audit/inbox/{row.id}/read").status_code == 403
    db.session.refresh(row)
    assert row.read_at is None


def test_other_auditor_writes_stay_refused_and_logged(app, product, login_as):
    row = _weekly_delivery()
    client = login_as("auditor")
    assert client.delete(f"/audit/inbox/{row.id}/read").status_code == 403
    assert client.post("/audit/inbox").status_code == 403
    assert [e.detail["method"] for e in db.session.scalars(
        select(AuditLog).where(AuditLog.action == "auditor.write_refused"))] == ["DELETE", "POST"]


def test_the_auditor_sees_each_steps_working_days_and_what_a_clock_waits_for(app, product, login_as, make_policy):
    """Issue 17 item 14: the overseas-treatment clock waits for hospital and visa; steps timed, no SLA."""
    from datetime import timedelta

    from helpers import accept_required_documents

    from portal import calendar
    from portal.domain import intake, lifecycle, transfers
    from portal.models import Hospital

    today = calendar.business_today()
    hospital = Hospital(name="MD Anderson Cancer Center", city="休斯敦", country="美国", overseas=True, level=None)
    db.session.add(hospital)
    db.session.commit()
    coord = login_as("coordinator").user
    insured = make_policy(start=today - timedelta(days=200), end=today + timedelta(days=165), waiting_days=0)
    case = intake.submit_request(insured=insured, line_code="overseas_treatment", actor=coord, channel="ys_hotline",
                                 data={"illness": "恶性肿瘤——重度", "country": "美国",
                                       "first_diagnosis_date": (today - timedelta(days=5)).isoformat()})
    for action, fields in (("verify", {}), ("accept", {}), ("launch_decision", {"launch": True})):
        lifecycle.perform(case, action, actor=coord, **fields)
    accept_required_documents(case, coord)
    for action, fields in (("materials_complete", {}), ("history_translated", {})):
        lifecycle.perform(case, action, actor=coord, **fields)
    transfers.give(case, actor=coord, channel="hotline", hospital_id=hospital.id)  # consent abroad (SPEC §7)
    lifecycle.perform(case, "hospital_accepted", actor=coord, hospital_id=hospital.id)
    db.session.commit()
    page = login_as("auditor").get(f"/audit/cases/{case.id}").get_data(as_text=True)
    assert "安排就医时限（40 个工作日）待“医疗签证已申请”、“医疗签证已获批”后起算" not in page  # applied is no gate
    assert "安排就医时限（40 个工作日）待“医疗签证已获批”后起算" in page
    assert 'id="step-times"' in page and 'id="step-hospital_accepted"' in page and "进行中" in page
    staff_page = login_as(coord).get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "安排就医时限（40 个工作日）待“医疗签证已获批”后起算" in staff_page


def test_the_supervisor_sees_what_is_unsent_or_unread(app, product, login_as):
    row = _weekly_delivery()
    row.email_to, row.email_error = "reports@sd.example", "邮件未能发出（2026-11-30 09:02）：SMTPServerDisconnected"
    db.session.commit()
    boss = login_as("supervisor")
    page = boss.get("/staff/admin/deliveries?open=1").get_data(as_text=True)
    assert "<html" in page and "邮件未送达 <strong>1</strong> 份；史带未阅 <strong>1</strong> 份" in page
    assert "英仕每周服务进度报告 2026-W47（第 1 版）" in page and "SMTPServerDisconnected" in page and "未阅" in page
    fragment = boss.get("/staff/admin/deliveries?page=1", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="delivery-results">')
    assert login_as("coordinator").get("/staff/admin/deliveries").status_code == 403
    assert login_as("auditor").get("/staff/admin/deliveries").status_code == 403
