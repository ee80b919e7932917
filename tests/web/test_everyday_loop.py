"""Issue 14: the everyday loop — forms the browser can submit, no duplicates, the pause, what the insured reads."""

import re

import pytest
from coordinator_support import act, advance, make_directory, open_case
from coordinator_support import covered_insured as insured_for

from portal.extensions import db


@pytest.fixture
def world(make_policy, make_user):
    directory = make_directory()
    coord = make_user("coordinator", display_name="陈晓")
    case = open_case(insured_for(make_policy), "green_outpatient", directory)
    return directory, coord, case


def test_document_kind_checkboxes_are_not_each_required(world, login_as):
    """Chrome demanded all nine boxes: `required` on a checkbox group means every box (issue 14 item 1)."""
    _, coord, case = world
    advance(case, coord, "verify")
    html = login_as(coord).get(f"/staff/cases/{case.id}").get_data(as_text=True)
    form = re.search(r'<form[^>]+id="action-request-documents".*?</form>', html, re.S).group(0)
    boxes = re.findall(r'<input[^>]+type="checkbox"[^>]*>', form)
    assert len(boxes) == 9 and not any("required" in box for box in boxes)


def test_request_documents_without_a_kind_is_refused_in_chinese(world, login_as):
    _, coord, case = world
    advance(case, coord, "verify")
    client = login_as(coord)
    response = act(client, case, "request_documents", reason="请补充")
    assert response.status_code == 422 and "请至少选择一项资料" in response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "verifying"


# ---- item 2: a double submit creates one case, one unit, one set of documents ----------------------------

def _key(html: str) -> str:
    return re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', html).group(1)


def test_the_apply_form_posted_twice_opens_one_case(make_policy, make_user, login_as):
    from insured_support import answers
    from sqlalchemy import func, select

    from portal import calendar
    from portal.models import Case, Entitlement, Hospital

    directory = make_directory()
    person = insured_for(make_policy)
    client = login_as(make_user("insured", insured=person))
    hospital = db.session.get(Hospital, directory.bj.id)
    key = _key(client.get("/me/apply/green_outpatient").get_data(as_text=True))
    data = {**answers(calendar.business_today(), hospital, city="北京"), "submission_key": key}
    first = client.post("/me/apply/green_outpatient", data=data)
    second = client.post("/me/apply/green_outpatient", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1
    assert db.session.scalar(select(Entitlement.reserved).where(Entitlement.line_code == "green_outpatient")) == 1


def test_the_hotline_intake_posted_twice_opens_one_case(make_policy, make_user, login_as):
    from sqlalchemy import func, select

    from portal import calendar
    from portal.models import Case

    make_directory()
    person = insured_for(make_policy)
    client = login_as(make_user("coordinator"))
    html = client.get(f"/staff/intake/{person.id}?line=domestic_second_opinion").get_data(as_text=True)
    data = {"submission_key": _key(html), "channel": "ys_hotline", "name": person.name, "id_type": "id_card",
            "id_number": person.id_number, "illness": "恶性肿瘤——重度",
            "first_diagnosis_date": calendar.business_today().isoformat()}
    url = f"/staff/intake/{person.id}?line=domestic_second_opinion"
    first, second = client.post(url, data=data), client.post(url, data=data)
    assert first.status_code == second.status_code == 303, first.get_data(as_text=True)[:2000]
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_an_upload_posted_twice_stores_the_files_once(world, make_user, login_as):
    import io

    from sqlalchemy import func, select

    from portal.models import Document

    _, _, case = world
    client = login_as(make_user("insured", insured=case.insured))
    key = _key(client.get(f"/me/cases/{case.id}/documents").get_data(as_text=True))

    def post():
        return client.post(f"/me/cases/{case.id}/documents", content_type="multipart/form-data", data={
            "submission_key": key, "file_id_document": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "证件.pdf")})

    assert post().status_code == post().status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Document)) == 1


# ---- item 4: the pause ends when the insured uploads what was asked ------------------------------------

def _insured_uploads(case, user, *kinds):
    import io

    from werkzeug.datastructures import FileStorage

    from portal.domain import documents

    saved = [documents.save_upload(case, FileStorage(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), filename=f"{k}.pdf"),
                                   kind=k, actor=user) for k in kinds]
    documents.record_upload(case, saved, actor=user)
    db.session.commit()
    return saved


def test_an_upload_of_every_requested_kind_resumes_the_clock_at_once(world, make_user):
    from sqlalchemy import select

    from portal.models import Alert, CaseEvent, Notification

    _, coord, case = world
    insured = make_user("insured", insured=case.insured)
    advance(case, coord, "verify", ("request_documents", {"kinds": ["ct", "mri"], "reason": "需要影像报告"}))
    assert case.status == "awaiting_documents" and case.clocks[0].state == "paused"
    _insured_uploads(case, insured, "ct")
    assert case.status == "awaiting_documents" and case.clocks[0].state == "paused"  # MRI still missing
    _insured_uploads(case, insured, "mri")
    assert case.status == "verifying" and case.clocks[0].state == "running"
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.action == "documents_received")).one()
    assert event.actor_role == "insured" and "服务时限恢复计算" in event.summary
    alert = db.session.scalars(select(Alert).order_by(Alert.id.desc())).first()
    assert alert.recipient_id == coord.id and "已恢复计算" in alert.message
    assert db.session.scalar(select(Notification).where(Notification.title == "资料已补齐")) is not None


def test_a_rejected_document_that_answered_the_request_pauses_the_clock_again(world, make_user):
    from portal.domain import review

    _, coord, case = world
    insured = make_user("insured", insured=case.insured)
    advance(case, coord, "verify", ("request_documents", {"kinds": ["ct"], "reason": "需要 CT"}))
    (document,) = _insured_uploads(case, insured, "ct")
    assert case.status == "verifying"
    review.review_document(document, decision="rejected", reason="看不清", actor=coord)
    db.session.commit()
    assert case.status == "awaiting_documents" and case.clocks[0].state == "paused"
    _insured_uploads(case, insured, "ct")
    assert case.status == "verifying" and case.clocks[0].state == "running"


# ---- item 7: what the insured is told --------------------------------------------------------------------

def test_the_case_page_speaks_to_the_insured_names_the_coordinator_and_lists_news_newest_first(world, make_user,
                                                                                              login_as):
    _, coord, case = world
    insured = make_user("insured", insured=case.insured)
    advance(case, coord, "verify", ("request_documents", {"kinds": ["ct", "mri"], "reason": "需要影像"}))
    _insured_uploads(case, insured, "ct")
    page = login_as(insured).get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert "您的专属协调员：陈晓" in page and 'href="tel:4006065033"' in page
    assert "已预约并通知您" in page and "客户" not in page.split('id="steps-')[1].split("</section>")[0]
    assert "我们承诺在合作医院为您安排就诊，但不承诺指定医生" in page and "视为已使用" in page
    news = page.split('id="case-news-')[1].split("</ul>")[0]
    assert news.index("请补充资料") < news.index("服务申请已受理")  # newest first
    timeline = page.split('class="timeline"')[1].split("</ol>")[0]
    assert timeline.index("您上传资料") < timeline.index("提交就医绿通")
    # the checklist follows the request: CT and MRI were asked for, the MRI is still owed
    assert "还需 3 项" in page and "MRI 报告" in page.split("还需 3 项")[1].split("</a>")[0]
    documents_page = login_as(insured).get(f"/me/cases/{case.id}/documents").get_data(as_text=True)
    checklist = documents_page.split('id="checklist"')[1].split("</ul>")[0]
    assert "CT 报告" in checklist and "MRI 报告" in checklist


def test_overseas_treatment_has_no_doubled_service_word_and_cannot_be_cancelled_once_launched(make_policy, make_user):
    from sqlalchemy import select

    from portal.domain import lifecycle
    from portal.domain.errors import DomainError
    from portal.models import Notification

    directory = make_directory()
    coord = make_user("coordinator")
    case = open_case(insured_for(make_policy), "overseas_treatment", directory)
    insured = make_user("insured", insured=case.insured)
    advance(case, coord, "verify", ("launch_decision", {"launch": True}))
    bodies = " ".join(db.session.scalars(select(Notification.body)))
    assert "海外就医综合服务服务" not in bodies and "启动海外就医综合服务" in bodies
    with pytest.raises(DomainError):
        lifecycle.perform(case, "cancel", actor=insured)


def test_a_provisional_promise_is_explained_in_visible_text(world, make_user, login_as):
    from portal.models import SlaClock

    _, _, case = world
    clock = db.session.scalars(db.select(SlaClock).where(SlaClock.case_id == case.id)).one()
    clock.provisional = True
    db.session.commit()
    page = login_as(make_user("insured", insured=case.insured)).get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert "暂定：该年度的法定节假日安排尚未公布" in page and 'title="该年度' not in page


def test_visa_steps_and_a_starting_report_clock_are_told_to_the_insured(make_policy, make_user):
    from helpers import accept_required_documents
    from sqlalchemy import select

    from portal import calendar
    from portal.domain import transfers
    from portal.models import Notification

    directory = make_directory()
    coord = make_user("coordinator")
    case = open_case(insured_for(make_policy), "domestic_second_opinion", directory)
    advance(case, coord, "verify", "accept", accept_required_documents, "materials_complete")
    assert "服务时限开始计算" in set(db.session.scalars(select(Notification.title)))
    other = open_case(insured_for(make_policy), "overseas_treatment", directory)
    today = calendar.business_today()
    advance(other, coord, "verify", ("launch_decision", {"launch": True}), accept_required_documents,
            "materials_complete", "history_translated",
            lambda case, actor: transfers.give(case, hospital_id=directory.us.id, actor=actor, channel="hotline"),
            ("hospital_accepted", {"hospital_id": directory.us.id}),
            ("visa_applied", {"applied_on": today}), ("visa_granted", {"decided_on": today}))
    titles = set(db.session.scalars(select(Notification.title).where(Notification.case_id == other.id)))
    assert {"医疗签证已申请", "医疗签证已获批"} <= titles


# ---- item 9: 服务评价 ------------------------------------------------------------------------------------

def _completed(world):
    from datetime import timedelta

    from sqlalchemy import update

    from portal.models import Appointment, utcnow

    directory, coord, case = world
    advance(case, coord, "verify", "accept", ("confirm_hospital", {"hospital_id": directory.bj.id}),
            ("book_appointment", {"hospital_id": directory.bj.id, "department": "肿瘤内科",
                                  "scheduled_at": utcnow() + timedelta(hours=2)}))
    db.session.execute(update(Appointment).values(scheduled_at=utcnow() - timedelta(hours=1)))
    advance(case, coord, ("record_visit", {"outcome": "visited"}))
    return case


def test_the_insured_rates_a_completed_service_once_and_史带_sees_it_per_line_and_week(world, make_user, login_as):
    from sqlalchemy import select

    from portal.domain import ratings, reports
    from portal.models import ServiceRating

    case = _completed(world)
    client = login_as(make_user("insured", insured=case.insured))
    page = client.get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert 'id="rating-form"' in page and "服务评价（选填）" in page
    assert client.post(f"/me/cases/{case.id}/rating", data={"score": "9"}).status_code == 422
    response = client.post(f"/me/cases/{case.id}/rating", data={"score": "4", "comment": "很及时"})
    assert response.status_code == 303
    again = client.post(f"/me/cases/{case.id}/rating", data={"score": "1"})
    assert again.status_code == 422 and "已评价过" in again.get_data(as_text=True)
    assert [(r.score, r.comment) for r in db.session.scalars(select(ServiceRating))] == [(4, "很及时")]
    page = client.get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert "您的评价：4 分（满意）" in page and 'id="rating-form"' not in page
    week = reports.week_of(__import__("portal").calendar.business_today())
    report = reports.build_weekly(week, built_by="test")
    row = next(r for r in report.data["ratings"] if r["line_code"] == "green_outpatient")
    assert (row["count"], row["average"]) == (1, "4.0")
    assert ratings.figures([reports.week_period(week)])[0]["green_outpatient"].count == 1
    sections = {s.key: s for s in reports.report_rows(report)}
    assert ["就医绿通·门诊预约", 1, "4.0", 0] in sections["ratings"].rows


def test_an_open_case_cannot_be_rated(world, make_user, login_as):
    _, _, case = world
    client = login_as(make_user("insured", insured=case.insured))
    assert 'id="rating-form"' not in client.get(f"/me/cases/{case.id}").get_data(as_text=True)
    response = client.post(f"/me/cases/{case.id}/rating", data={"score": "5"})
    assert response.status_code == 422 and "服务完成后才能评价" in response.get_data(as_text=True)


def test_the_dashboard_shows_ratings_per_line_and_week(world, make_user, login_as):
    from portal.domain import ratings

    case = _completed(world)
    ratings.rate(case, actor=make_user("insured", insured=case.insured), score=2, comment="等太久")
    db.session.commit()
    page = login_as("auditor").get("/audit/").get_data(as_text=True)
    table = page.split('id="rating-table"')[1].split("</table>")[0]
    assert "就医绿通·门诊预约" in table and "2.0 分" in table and "低分 1" in table


# ---- item 3: a recorded visit outcome corrected; item 7: the no-show rule said when booking -------------------

def test_the_booking_notice_and_case_page_say_a_no_show_counts_as_used(world, make_user, login_as):
    from sqlalchemy import select

    from portal.models import Notification, OutboundMessage, utcnow

    directory, coord, case = world
    case.insured.phone = "13800000999"
    insured = make_user("insured", insured=case.insured)
    from datetime import timedelta
    advance(case, coord, "verify", "accept", ("confirm_hospital", {"hospital_id": directory.bj.id}),
            ("book_appointment", {"hospital_id": directory.bj.id, "department": "肿瘤内科",
                                  "scheduled_at": utcnow() + timedelta(days=2)}))
    note = db.session.scalar(select(Notification).where(Notification.title == "就医预约已安排"))
    assert "如未在预约时间就诊，本次服务视为已使用" in note.body
    sms = db.session.scalar(select(OutboundMessage.body).where(OutboundMessage.notification_id == note.id))
    assert "如未在预约时间就诊，本次服务视为已使用" in sms
    page = login_as(insured).get(f"/me/cases/{case.id}").get_data(as_text=True)
    card = page.split(f'id="appt-{case.id}"')[1].split("</section>")[0]
    assert "如未在预约时间就诊，本次服务视为已使用" in card


def test_a_coordinator_corrects_a_visit_to_a_no_show_and_the_insured_sees_it(world, make_user, login_as):
    from sqlalchemy import select

    from portal.models import OutcomeCorrection

    case = _completed(world)
    _, coord, _ = world
    client = login_as(coord)
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    form = re.search(r'<form[^>]+id="action-correct-outcome".*?</form>', page, re.S).group(0)
    assert "更正原因（客户可见）" in form and "未按时就医" in form
    assert f'id="appointment-{case.id}"' in page and page.index('id="action-correct-outcome"') > page.index(
        f'id="appointment-{case.id}"')  # in the booking's panel
    missing = act(client, case, "correct_outcome", outcome="no_show", reason="")
    assert missing.status_code == 422 and "请说明更正原因" in missing.get_data(as_text=True)
    same = act(client, case, "correct_outcome", outcome="visited", reason="核对")
    assert same.status_code == 422 and "无需更正" in same.get_data(as_text=True)
    done = act(client, case, "correct_outcome", htmx=True, outcome="no_show", reason="医院回复未到诊")
    assert done.status_code == 200 and "<html" not in done.get_data(as_text=True)
    assert "更正就医结果" in done.get_data(as_text=True)
    assert db.session.scalar(select(OutcomeCorrection.to_outcome)) == "no_show"
    insured = login_as(make_user("insured", insured=case.insured))
    mine = insured.get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert "未按时就医（视为完成）" in mine.split(f'id="outcome-{case.id}"')[1].split("</dd>")[0]
    assert "您未在约定时间就诊" in mine and "亦视为该次服务已使用" in mine
    assert "医院回复未到诊" in mine  # the reason, in the news and the timeline
    auditor = login_as(make_user("auditor"))
    assert "未按时就医" in auditor.get(f"/audit/cases/{case.id}").get_data(as_text=True)


def test_a_no_show_is_told_as_used_not_as_a_plain_completion(world, make_user):
    from datetime import timedelta

    from sqlalchemy import select, update

    from portal.models import Appointment, Notification, utcnow

    directory, coord, case = world
    advance(case, coord, "verify", "accept", ("confirm_hospital", {"hospital_id": directory.bj.id}),
            ("book_appointment", {"hospital_id": directory.bj.id, "department": "肿瘤内科",
                                  "scheduled_at": utcnow() + timedelta(hours=2)}))
    db.session.execute(update(Appointment).values(scheduled_at=utcnow() - timedelta(hours=1)))
    advance(case, coord, ("record_visit", {"outcome": "no_show"}))
    note = db.session.scalar(select(Notification).order_by(Notification.id.desc()))
    assert note.title == "服务已完成（未按时就诊）" and "视为该次服务已使用" in note.body
    assert "感谢您的信任" not in note.body
