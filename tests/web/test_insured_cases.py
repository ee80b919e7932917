"""进度: status, promise, timeline, arrangements, reports; polling; cancel with confirmation."""

from datetime import UTC, datetime, timedelta

from insured_support import PDF, reload, upload
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.domain import documents
from portal.extensions import db
from portal.models import Case as CaseModel
from portal.models import Entitlement, Escort

HX = {"HX-Request": "true"}


def _booked(case, act, hospitals):
    act(case, "verify")
    act(case, "accept")
    act(case, "confirm_hospital", hospital_id=case.hospital_id, department="肿瘤科")
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    return act(case, "book_appointment", hospital_id=case.hospital_id, department="肿瘤科", scheduled_at=when)


def test_case_page_shows_status_promise_timeline_and_next_steps(insured, client_of, open_case):
    case = open_case(insured)
    page = client_of(insured).get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert case.ref in page and "已提交" in page and "我们将最晚于" in page
    assert "提交就医绿通·门诊预约申请" in page  # the history
    assert "已预约并通知您" in page and "通知客户" not in page  # the milestones still ahead, in her words
    assert f'hx-get="/me/cases/{case.id}/status"' in page and "every 30s" in page


def test_case_page_shows_the_appointment_with_hospital_address_department_and_time(
        insured, client_of, open_case, act, hospitals):
    case = _booked(open_case(insured), act, hospitals)
    page = client_of(insured).get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert "就诊安排" in page and "复旦大学附属中山医院" in page and "上海徐汇区枫林路180号" in page
    assert "肿瘤科" in page and "已预约并通知您" in page
    assert "class=\"promise\"" not in page  # the promise is kept: the clock stopped at "arranged"


def test_case_page_shows_the_escort_name_and_phone(insured, client_of, open_case, act, hospitals):
    db.session.add(Escort(name="吴敏", phone="13800010003", city="上海"))
    db.session.commit()
    case = open_case(insured, "domestic_escort")
    act(case, "verify")
    act(case, "accept")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    act(case, "record_escort_request", hospital_id=case.hospital_id, starts_at=start,
        ends_at=start + timedelta(hours=3))
    act(case, "assign_escort", escort_id=db.session.scalar(select(Escort.id)))
    page = client_of(insured).get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert "陪诊安排" in page and "吴敏" in page and 'href="tel:13800010003"' in page


def test_delivered_reports_can_be_downloaded_and_undelivered_ones_cannot(
        insured, client_of, open_case, staff, app):
    case = open_case(insured, "domestic_second_opinion")
    stream, name = upload(PDF, "第二诊疗意见.pdf")
    report = documents.save_upload(case, FileStorage(stream, name), kind="report", actor=staff)
    db.session.commit()
    client = client_of(insured)
    assert client.get(f"/me/cases/{case.id}/documents/{report.id}").status_code == 404
    report.delivered_at = datetime.now(UTC)
    db.session.commit()
    assert "报告下载" in client.get(f"/me/cases/{case.id}").get_data(as_text=True)
    response = client.get(f"/me/cases/{case.id}/documents/{report.id}?download=1")
    body = response.get_data()
    response.close()  # send_file streams from an open file
    assert response.status_code == 200 and body == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_status_fragment_for_htmx_keeps_polling_while_open(insured, client_of, open_case):
    case = open_case(insured)
    response = client_of(insured).get(f"/me/cases/{case.id}/status", headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert page.lstrip().startswith(f'<div id="case-{case.id}"') and "every 30s" in page


def test_status_without_htmx_is_the_full_case_page(insured, client_of, open_case):
    case = open_case(insured)
    response = client_of(insured).get(f"/me/cases/{case.id}/status")
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)


def test_status_fragment_of_a_closed_case_answers_286_and_stops_polling(insured, client_of, open_case, act):
    case = act(open_case(insured), "terminate", reason="duplicate")
    response = client_of(insured).get(f"/me/cases/{case.id}/status", headers=HX)
    assert response.status_code == 286
    assert "every 30s" not in response.get_data(as_text=True)


def test_cancel_confirmation_page_posts_a_form_without_javascript(insured, client_of, open_case):
    case = open_case(insured)
    page = client_of(insured).get(f"/me/cases/{case.id}/cancel").get_data(as_text=True)
    assert f'action="/me/cases/{case.id}/cancel"' in page and "确认取消申请" in page
    assert f'name="version" type="hidden" value="{case.version}"' in page


def test_cancel_before_the_service_starts_releases_the_unit(insured, client_of, open_case):
    case = open_case(insured)
    client = client_of(insured)
    response = client.post(f"/me/cases/{case.id}/cancel", data={"version": case.version, "note": "已自行预约"})
    assert response.status_code == 303 and response.headers["Location"] == f"/me/cases/{case.id}"
    case = reload(case.id)
    assert case.status == "cancelled"
    assert db.session.scalar(select(Entitlement).where(Entitlement.line_code == "green_outpatient")).reserved == 0
    assert "您的申请已取消" in client.get(f"/me/cases/{case.id}").get_data(as_text=True)


def test_cancel_with_htmx_redirects_the_page_and_offers_hx_confirm(insured, client_of, open_case):
    case = open_case(insured)
    client = client_of(insured)
    assert 'hx-confirm="确定要取消这次申请吗' in client.get(f"/me/cases/{case.id}").get_data(as_text=True)
    response = client.post(f"/me/cases/{case.id}/cancel", data={"version": case.version}, headers=HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/me/cases/{case.id}"
    assert reload(case.id).status == "cancelled"


def test_cancel_with_a_stale_version_answers_409(insured, client_of, open_case):
    case = open_case(insured)
    response = client_of(insured).post(f"/me/cases/{case.id}/cancel", data={"version": case.version - 1})
    assert response.status_code == 409
    assert "该案件已被他人更新，请刷新后重试" in response.get_data(as_text=True)
    assert reload(case.id).status == "submitted"


def test_cancel_after_the_appointment_is_booked_is_refused(insured, client_of, open_case, act, hospitals):
    case = _booked(open_case(insured), act, hospitals)
    client = client_of(insured)
    page = client.get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert "取消申请" not in page
    assert "已无法在线取消" in client.get(f"/me/cases/{case.id}/cancel").get_data(as_text=True)
    response = client.post(f"/me/cases/{case.id}/cancel", data={"version": case.version})
    assert response.status_code == 422 and "不能再执行“取消申请”" in response.get_data(as_text=True)
    assert db.session.get(CaseModel, case.id).status == "in_service"


def test_the_insured_never_sees_internal_notes(insured, client_of, open_case, act):
    case = act(open_case(insured), "note", text="客户情绪紧张，需耐心沟通")
    assert "情绪紧张" not in client_of(insured).get(f"/me/cases/{case.id}").get_data(as_text=True)
