"""A coordinator at a 1366×768 laptop carries a case of every service line from the hotline call to its end."""

import io
import re
from datetime import datetime, time, timedelta

import helpers
import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update
from werkzeug.datastructures import FileStorage

from portal import calendar
from portal.domain import documents, lifecycle, transfers
from portal.domain import intake as cases
from portal.domain.demo import load_demo_data
from portal.extensions import db
from portal.models import Appointment, Case, Escort, EscortAssignment, Expert, Hospital, User, utcnow

PDF = {"name": "report.pdf", "mimeType": "application/pdf", "buffer": helpers.PDF}


@pytest.fixture
def desk(app, make_policy, desk_page, browser_login):
    """The demo directory and logins, an insured covered today, and coord1 logged in on the laptop."""
    load_demo_data(history=False)
    db.session.commit()
    today = calendar.business_today()
    insured = make_policy(name="周红", start=today - timedelta(days=200), end=today + timedelta(days=165),
                          waiting_days=0)
    browser_login(desk_page, "coord1")
    return desk_page, insured


def _id(model, **where) -> str:
    return str(db.session.scalar(select(model.id).filter_by(**where)))


def _iso(days: int = 0) -> str:
    return (calendar.business_today() + timedelta(days=days)).isoformat()


def _tomorrow_at(hour: int) -> str:
    return datetime.combine(calendar.business_today() + timedelta(days=1), time(hour)).strftime("%Y-%m-%dT%H:%M")


def intake(page, insured, line_name: str, *, channel="英仕热线", select=None, fill=None) -> int:
    """Take the call: find the caller, choose the line, fill in the request, check eligibility, submit."""
    page.goto("/staff/intake")
    page.get_by_label("姓名", exact=True).fill(insured.name)
    page.get_by_label("证件号码", exact=True).fill(insured.id_number)
    page.get_by_role("button", name="查找被保险人").click()
    page.get_by_role("link", name="为其受理").click()
    page.get_by_role("link", name=re.compile(re.escape(line_name))).click()
    form = page.locator("#intake-form")
    form.get_by_label(channel).check()
    form.get_by_label("来电人自报姓名").fill(insured.name)
    form.get_by_label("来电人自报证件号码").fill(insured.id_number)
    form.get_by_label("所患重度疾病").select_option("恶性肿瘤——重度")
    form.get_by_label("初次确诊日期").fill(_iso(-10))
    for label, value in (select or {}).items():
        form.get_by_label(label).select_option(value)
    for label, value in (fill or {}).items():
        form.get_by_label(label).fill(value)
    page.get_by_role("button", name="3. 核实资格").click()
    expect(page.locator("#intake-eligibility")).to_contain_text("全部通过，可以受理。")
    page.get_by_role("button", name="4. 提交申请").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(line_name)
    return int(re.search(r"/staff/cases/(\d+)", page.url).group(1))


def consent_abroad(case_id: int, hospital_name: str) -> None:
    """The insured's consent to send the case's records to this overseas hospital (given in the portal)."""
    case = db.session.get(Case, case_id)
    user = db.session.scalar(select(User).where(User.insured_id == case.insured_id))  # made by insured_sent
    transfers.give(case, hospital_id=_id(Hospital, name=hospital_name), actor=user, channel="portal")
    db.session.commit()


def step(page, code: str, label: str, *, fill=None, select=None, check=(), files=None) -> None:
    """Fill one action form of the workspace, post it (htmx) and wait for the refreshed workspace."""
    form = page.locator(f"#action-{code.replace('_', '-')}")
    for name, value in (fill or {}).items():
        form.get_by_label(name, exact=True).fill(value)
    for name, value in (select or {}).items():
        form.get_by_label(name, exact=True).select_option(value)
    for name in check:
        form.get_by_label(name, exact=True).check()
    for name, value in (files or {}).items():
        form.get_by_label(name, exact=True).set_input_files(value)
    with page.expect_response(lambda r: f"/actions/{code}" in r.url) as response:
        form.get_by_role("button", name=label, exact=True).click()
    assert response.value.status == 200, response.value.text()[:500]
    expect(page.locator(".flash", has_text=f"已完成：{label}")).to_be_visible()


def refused(page, code: str, label: str, field: str, message: str, *, fill=None, select=None) -> None:
    """Post an action that the rules refuse: 422, the message at its field, the typed values kept."""
    form = page.locator(f"#action-{code.replace('_', '-')}")
    for name, value in (fill or {}).items():
        form.get_by_label(name, exact=True).fill(value)
    for name, value in (select or {}).items():
        form.get_by_label(name, exact=True).select_option(value)
    with page.expect_response(lambda r: f"/actions/{code}" in r.url) as response:
        form.get_by_role("button", name=label, exact=True).click()
    assert response.value.status == 422
    expect(page.locator(f"#{code}-{field}-error")).to_contain_text(message)


def insured_sent(page, make_user, case_id: int, *kinds: str) -> None:
    """The insured uploaded these documents from the phone portal (seeded through the domain), then the page reloads."""
    case = db.session.get(Case, case_id)
    user = db.session.scalar(select(User).where(User.insured_id == case.insured_id)) or \
        make_user("insured", insured=case.insured, display_name=case.insured.name)
    saved = [documents.save_upload(case, FileStorage(io.BytesIO(PDF["buffer"]), filename=f"{kind}.pdf"),
                                   kind=kind, actor=user) for kind in kinds]
    documents.record_upload(case, saved, actor=user)
    db.session.commit()
    page.reload()


def accept_on_screen(page, *names: str) -> None:
    """Review each uploaded file in the 资料 panel and accept it (htmx swaps the workspace each time)."""
    for name in names:
        document = page.locator(".doc", has_text=name)
        document.get_by_label("接受").check()
        document.get_by_role("button", name="提交审核").click()
        expect(page.locator(".doc", has_text=name)).to_contain_text("已接受")


def materials_refused(page, message: str) -> None:
    """确认资料齐全 while documents are missing or unreviewed: 422 and the checklist's verdict on the form."""
    form = page.locator("#action-materials-complete")
    with page.expect_response(lambda r: "/actions/materials_complete" in r.url) as response:
        form.get_by_role("button", name="确认资料齐全", exact=True).click()
    assert response.value.status == 422
    expect(page.locator("#action-materials-complete")).to_contain_text(message)


def time_passes(page, model, case_id: int, column: str) -> None:
    """The booked hour has come: move the booking into the past (the server runs on the real clock)."""
    db.session.execute(update(model).where(model.case_id == case_id).values({column: utcnow() - timedelta(hours=1)}))
    db.session.commit()
    page.reload()


def start_service(page) -> None:
    step(page, "verify", "开始核实")
    step(page, "accept", "核实通过，开始服务")


def assert_completed(page, case_id: int, line_code: str, remaining: str, *history: str) -> None:
    """Completed, its history in the timeline, the unit consumed in the balances."""
    workspace = page.locator(f"#case-{case_id}")
    expect(workspace.locator(".case-title")).to_contain_text("已完成")
    timeline = page.locator(f"#timeline-{case_id}")
    for summary in history:
        expect(timeline).to_contain_text(summary)
    expect(page.locator(f"#balance-{line_code.replace('_', '-')}")).to_contain_text(remaining)
    assert db.session.get(Case, case_id).status == "completed"


def test_green_outpatient_from_hotline_to_visit(desk, shot, axe_violations):
    page, insured = desk
    case_id = intake(page, insured, "就医绿通·门诊预约", channel="史带热线转接", select={"就医城市": "北京"})
    shot(page, "01-workspace-submitted")
    assert axe_violations(page) == []
    start_service(page)
    hospital = _id(Hospital, name="北京协和医院")
    step(page, "confirm_hospital", "确认就诊医院", select={"医院": hospital}, fill={"科室（选填）": "肿瘤内科"})
    step(page, "book_appointment", "预约挂号", select={"医院": hospital},
         fill={"科室": "肿瘤内科", "就诊日期与时间": _tomorrow_at(9)})
    expect(page.locator("#clock-arrange")).to_contain_text("按时完成")
    time_passes(page, Appointment, case_id, "scheduled_at")
    step(page, "record_visit", "登记就医结果", check=["已按时就医"])
    shot(page, "02-workspace-completed")
    assert_completed(page, case_id, "green_outpatient", "0/1", "提交就医绿通·门诊预约申请", "预约挂号：北京协和医院",
                     "登记就医结果：已按时就医")


def test_green_inpatient_with_admission_slip_and_no_show(desk):
    page, insured = desk
    case_id = intake(page, insured, "就医绿通·住院预约", select={"就医城市": "北京"})
    start_service(page)
    hospital = _id(Hospital, name="北京大学第一医院")
    step(page, "confirm_hospital", "确认就诊医院", select={"医院": hospital},
         fill={"科室（选填）": "心内科", "住院条开具日期": _iso()})
    expect(page.locator("#clock-arrange")).to_contain_text("剩 10 个工作日")
    step(page, "book_appointment", "预约挂号", select={"医院": hospital},
         fill={"科室": "心内科", "就诊日期与时间": _tomorrow_at(8)})
    time_passes(page, Appointment, case_id, "scheduled_at")
    step(page, "record_visit", "登记就医结果", check=["未按时就医（视为完成）"])
    assert_completed(page, case_id, "green_inpatient", "0/1", "住院条开具于", "未按时就医（视为完成）")


def _escort_booked_elsewhere(make_policy, escort_name: str, starts: str, ends: str) -> None:
    """Another insured's escort case books `escort_name` for the window (through intake and the lifecycle)."""
    today = calendar.business_today()
    other = make_policy(name="钱多", start=today - timedelta(days=200), end=today + timedelta(days=165),
                        waiting_days=0)
    coordinator = db.session.scalar(select(User).where(User.username == "coord2"))
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "北京协和医院"))
    case = cases.submit_request(insured=other, line_code="domestic_escort", actor=coordinator, channel="ys_hotline",
                                data={"illness": "恶性肿瘤——重度", "first_diagnosis_date": _iso(-10), "city": "北京"})
    window = {"starts_at": datetime.fromisoformat(starts).replace(tzinfo=calendar.BUSINESS_TZ),
              "ends_at": datetime.fromisoformat(ends).replace(tzinfo=calendar.BUSINESS_TZ)}
    for action, fields in (("verify", {}), ("accept", {}),
                           ("record_escort_request", {"hospital_id": hospital.id, **window}),
                           ("assign_escort", {"escort_id": int(_id(Escort, name=escort_name))})):
        lifecycle.perform(case, action, actor=coordinator, **fields)
    db.session.commit()


def test_escort_assigned_from_the_roster_then_escorted(desk, shot, make_policy):
    page, insured = desk
    _escort_booked_elsewhere(make_policy, "周丽", _tomorrow_at(9), _tomorrow_at(11))
    case_id = intake(page, insured, "国内就医陪诊", select={"就医城市": "北京"})
    start_service(page)
    step(page, "record_escort_request", "记录陪诊需求", select={"医院": _id(Hospital, name="北京协和医院")},
         fill={"陪诊开始时间": _tomorrow_at(8), "陪诊结束时间": _tomorrow_at(12)})
    roster = page.locator(f"#escort-roster-{case_id}")
    zhou, sun = _id(Escort, name="周丽"), _id(Escort, name="孙强")
    expect(roster.locator(f"#escort-{zhou}")).to_contain_text("已有安排")
    expect(roster.locator(f"#escort-{sun}")).to_contain_text("空闲")
    shot(page, "escort-roster")
    refused(page, "assign_escort", "安排陪诊员", "escort_id", "该陪诊员在该时段已有其他安排", select={"陪诊员": zhou})
    step(page, "assign_escort", "安排陪诊员", select={"陪诊员": sun})
    expect(roster).to_contain_text("已安排：孙强（13800010002）")
    time_passes(page, EscortAssignment, case_id, "starts_at")
    step(page, "record_escort_outcome", "登记陪诊结果", check=["已完成陪诊"])
    assert_completed(page, case_id, "domestic_escort", "1/2", "安排陪诊员：孙强", "登记陪诊结果：已完成陪诊")


def test_domestic_second_opinion_documents_expert_report_delivery(desk, make_user):
    page, insured = desk
    case_id = intake(page, insured, "国内第二诊疗意见")
    start_service(page)
    materials_refused(page, "资料尚未齐全：缺少 门诊病历、病理报告、身份证件")
    insured_sent(page, make_user, case_id, "medical_record", "id_document")
    materials_refused(page, "资料尚未齐全：缺少 病理报告；待审核 门诊病历、身份证件")
    upload = page.locator(".staff-upload")
    upload.locator("summary").click()
    upload.get_by_label("资料类型").select_option("pathology")
    upload.get_by_label("文件（JPG、PNG、HEIC 或 PDF）").set_input_files({**PDF, "name": "病理报告.pdf"})
    upload.get_by_role("button", name="上传").click()
    document = page.locator(".doc", has_text="病理报告.pdf")
    document.get_by_label("接受").check()
    document.get_by_role("button", name="提交审核").click()
    expect(page.locator(".doc", has_text="病理报告.pdf")).to_contain_text("已接受")
    accept_on_screen(page, "medical_record.pdf", "id_document.pdf")
    expect(page.locator(".checklist")).not_to_contain_text("待审核")
    step(page, "materials_complete", "确认资料齐全")
    expect(page.locator("#clock-report")).to_contain_text("剩 10 个工作日")
    step(page, "assign_expert", "指派专家", select={"专家": _id(Expert, name="刘振华")})
    step(page, "issue_report", "出具报告", files={"上传第二诊疗意见报告（PDF）": {**PDF, "name": "专家意见.pdf"}})
    step(page, "deliver", "交付报告")
    expect(page.locator(f"#reports-{case_id}")).to_contain_text("已交付客户及史带")
    assert_completed(page, case_id, "domestic_second_opinion", "0/1", "资料审核：病理报告“病理报告.pdf”接受",
                     "指派专家：刘振华", "交付第二诊疗意见报告")


def test_overseas_second_opinion_from_launch_to_translated_report(desk, make_user):
    page, insured = desk
    case_id = intake(page, insured, "海外第二诊疗意见", select={"就医国家": "美国"})
    step(page, "verify", "开始核实")
    step(page, "launch_decision", "告知启动决定", check=["启动服务"])
    expect(page.locator("#clock-decision")).to_contain_text("按时完成")
    insured_sent(page, make_user, case_id, "medical_record", "pathology", "id_document")
    accept_on_screen(page, "medical_record.pdf", "pathology.pdf", "id_document.pdf")
    for code, label in (("materials_complete", "确认资料齐全"), ("history_translated", "病史翻译完成"),
                        ("imaging_transferred", "影像传输完成")):
        step(page, code, label)
    consent_abroad(case_id, "MD Anderson Cancer Center")
    step(page, "choose_provider", "选定海外医院与专家",
         select={"国家": "美国", "医院": _id(Hospital, name="MD Anderson Cancer Center"),
                 "海外专家（选填）": _id(Expert, name="Dr. Emily Carter")})
    step(page, "report_received", "收到海外报告", files={"上传第二诊疗意见报告（PDF）": PDF})
    step(page, "report_translated", "报告翻译完成",
         files={"上传报告中文译本（PDF）": {**PDF, "name": "报告中文译本.pdf"}})
    step(page, "deliver", "交付报告")
    assert_completed(page, case_id, "overseas_second_opinion", "0/1", "决定启动服务",
                     "选定海外医院：美国 MD Anderson Cancer Center，专家 Dr. Emily Carter", "交付报告中文译本")


def _overseas_treatment_to_visa(page, insured, make_user) -> int:
    case_id = intake(page, insured, "海外就医综合服务", select={"就医国家": "美国"})
    step(page, "verify", "开始核实")
    step(page, "launch_decision", "告知启动决定", check=["启动服务"])
    kinds = ("medical_record", "pathology", "discharge_summary", "id_document")
    insured_sent(page, make_user, case_id, *kinds)
    accept_on_screen(page, *(f"{kind}.pdf" for kind in kinds))
    step(page, "materials_complete", "确认资料齐全")
    step(page, "history_translated", "病史翻译完成")
    consent_abroad(case_id, "MD Anderson Cancer Center")
    step(page, "hospital_accepted", "海外医院同意接收",
         select={"医院": _id(Hospital, name="MD Anderson Cancer Center")})
    step(page, "visa_applied", "已申请医疗签证", fill={"签证申请日期": _iso()})
    return case_id


def test_overseas_treatment_with_visa_hours_bills_and_service_report(desk, shot, axe_violations, make_user):
    page, insured = desk
    case_id = _overseas_treatment_to_visa(page, insured, make_user)
    step(page, "visa_granted", "医疗签证获批", fill={"签证决定日期": _iso()})
    step(page, "local_escort_arranged", "安排当地陪诊", fill={"当地陪诊人员": "Anna Li"})
    step(page, "treatment_arranged", "海外就医已安排")
    expect(page.locator("#clock-treatment")).to_contain_text("按时完成")
    step(page, "departed", "客户已出发", fill={"日期": _iso()})
    for hours in ("20", "16"):
        step(page, "log_escort_hours", "登记当地陪诊时长", fill={"时长（小时）": hours, "当地陪诊人员": "Anna Li"})
    expect(page.locator("#hours-left")).to_have_text("4")
    refused(page, "log_escort_hours", "登记当地陪诊时长", "hours", "当地陪诊累计不得超过 40 小时",
            fill={"时长（小时）": "5", "当地陪诊人员": "Anna Li"})
    expect(page.locator("#hours-left")).to_have_text("4")
    step(page, "add_bill", "登记医疗账单", fill={"医院": "MD Anderson", "金额": "12000.50"})
    step(page, "add_bill", "登记医疗账单", fill={"医院": "MD Anderson", "金额": "800"})
    step(page, "add_bill", "登记医疗账单", select={"币种": "EUR"}, fill={"医院": "Apotheke", "金额": "45.2"})
    expect(page.locator("#bill-total-usd")).to_have_text("12,800.50")
    expect(page.locator("#bill-total-eur")).to_have_text("45.20")
    shot(page, "overseas-treatment-bills")
    assert axe_violations(page) == []
    step(page, "returned", "客户已回国", fill={"日期": _iso()})
    step(page, "deliver", "交付报告", files={"上传海外就医服务报告（PDF）": {**PDF, "name": "服务报告.pdf"},
                                        "医疗账单汇总（PDF，选填）": {**PDF, "name": "账单汇总.pdf"}})
    assert_completed(page, case_id, "overseas_treatment", "0/1", "医疗签证获批", "累计 36 小时",
                     "登记医疗账单：MD Anderson USD 12000.50", "交付海外就医服务报告：服务报告.pdf（客户及史带）")


def test_overseas_treatment_is_terminated_when_the_visa_is_refused(desk, shot, make_user):
    page, insured = desk
    case_id = _overseas_treatment_to_visa(page, insured, make_user)
    step(page, "visa_refused", "医疗签证被拒", fill={"签证决定日期": _iso()})
    workspace = page.locator(f"#case-{case_id}")
    expect(workspace.locator(".case-title")).to_contain_text("已终止")
    expect(page.locator("#next-step")).to_contain_text("医疗签证被拒")
    expect(page.locator(f"#visa-{case_id}")).to_contain_text("被拒")
    expect(page.locator(f"#timeline-{case_id}")).to_contain_text("医疗签证被拒")
    expect(page.locator("#balance-overseas-treatment")).to_contain_text("1/1")  # the unit was released
    shot(page, "visa-refused")
    case = db.session.get(Case, case_id)
    assert (case.status, case.termination_reason) == ("terminated", "visa_refused")


def test_queue_and_intake_pages_pass_axe(desk, axe_violations):
    page, insured = desk
    intake(page, insured, "就医绿通·门诊预约", select={"就医城市": "北京"})
    page.goto("/staff/?tab=all")
    expect(page.get_by_role("heading", name="工作队列")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("服务项目").select_option("green_outpatient")
    expect(page).to_have_url(re.compile(r"line=green_outpatient"))
    page.reload()
    expect(page.get_by_label("服务项目")).to_have_value("green_outpatient")
    page.goto("/staff/intake")
    assert axe_violations(page) == []


def test_without_javascript_actions_post_and_errors_show_at_the_field(app, browser, live_server, browser_login,
                                                                      make_policy):
    load_demo_data(history=False)
    db.session.commit()
    today = calendar.business_today()
    insured = make_policy(name="吴刚", start=today - timedelta(days=200), end=today + timedelta(days=165),
                          waiting_days=0)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live_server,
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        browser_login(page, "coord1")
        case_id = intake(page, insured, "就医绿通·门诊预约", select={"就医城市": "北京"})
        for code, label in (("verify", "开始核实"), ("accept", "核实通过，开始服务")):
            page.locator(f"#action-{code}").get_by_role("button", name=label).click()
            expect(page.locator(".flash", has_text=f"已完成：{label}")).to_be_visible()
        hospital = _id(Hospital, name="北京协和医院")
        form = page.locator("#action-confirm-hospital")
        form.get_by_label("医院", exact=True).select_option(hospital)
        form.get_by_role("button", name="确认就诊医院").click()
        form = page.locator("#action-book-appointment")
        form.get_by_label("医院", exact=True).select_option(hospital)
        form.get_by_label("科室", exact=True).fill("肿瘤内科")
        form.get_by_label("就诊日期与时间").fill(_tomorrow_at(9).replace(_iso(1), _iso(-1)))
        form.get_by_role("button", name="预约挂号").click()
        expect(page.locator("#book_appointment-scheduled_at-error")).to_have_text("预约时间必须晚于当前时间")
        form = page.locator("#action-book-appointment")
        expect(form.get_by_label("科室", exact=True)).to_have_value("肿瘤内科")  # nothing typed is lost
        form.get_by_label("就诊日期与时间").fill(_tomorrow_at(9))
        form.get_by_role("button", name="预约挂号").click()
        expect(page.locator(".flash", has_text="已完成：预约挂号")).to_be_visible()
        expect(page.locator(f"#case-{case_id} .case-title")).to_contain_text("已预约并通知客户")
    finally:
        context.close()


def test_the_later_of_two_saves_is_refused_on_screen_and_keeps_what_was_typed(desk, browser, live_server,
                                                                             browser_login):
    page, insured = desk
    case_id = intake(page, insured, "就医绿通·门诊预约", select={"就医城市": "北京"})
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live_server)
    other = context.new_page()
    try:
        browser_login(other, "supervisor")
        other.goto(f"/staff/cases/{case_id}")
        step(page, "note", "添加内部备注", fill={"内部备注": "客户下午方便接电话"})
        form = other.locator("#action-note")
        form.get_by_label("内部备注", exact=True).fill("主管：请优先处理")
        with other.expect_response(lambda r: "/actions/note" in r.url) as response:
            form.get_by_role("button", name="添加内部备注").click()
        assert response.value.status == 409
        expect(other.get_by_role("alert").first).to_contain_text("该案件已被他人更新，请刷新后重试")
        expect(other.locator("#action-note").get_by_label("内部备注", exact=True)).to_have_value("主管：请优先处理")
        other.get_by_role("link", name="刷新案件").click()
        expect(other.locator(f"#timeline-{case_id}")).to_contain_text("客户下午方便接电话")
        expect(other.locator(f"#timeline-{case_id}")).not_to_contain_text("主管：请优先处理")
    finally:
        context.close()
