"""The insured's journey on a phone (390×844, touch): apply for 门诊绿通 in 上海, upload, track."""

import re
from datetime import date, timedelta

from helpers import JPEG, PDF
from playwright.sync_api import expect

from portal import calendar
from portal.domain.demo import load_demo_data
from portal.extensions import db

# Smallest files whose first bytes say what they are (the server checks content, not names).


def _first_diagnosis(today: date) -> date:
    # after the demo policy's 90-day waiting period (start 2026-03-01), never in the future
    return min(today, max(date(2026, 6, 1), today - timedelta(days=30)))


def test_demo_insured_applies_for_outpatient_green_channel_uploads_and_sees_deadline(
        app, phone_page, browser_login, shot, axe_violations, tmp_path):
    load_demo_data(history=False)
    db.session.commit()
    today = calendar.business_today()
    deadline = calendar.format_cn_date(calendar.add_working_days(today, 5))
    (tmp_path / "门诊病历.pdf").write_bytes(PDF)
    (tmp_path / "身份证.jpg").write_bytes(JPEG)
    page = phone_page

    browser_login(page, "wangjianguo")
    expect(page.get_by_role("heading", name="我的服务")).to_be_visible()
    expect(page.get_by_text("剩余 1/1 次").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    shot(page, "01-home")

    page.get_by_role("link", name="申请服务").first.tap()
    page.get_by_role("link", name=re.compile("就医绿通·门诊预约")).tap()
    expect(page.get_by_role("heading", name="就医绿通·门诊预约")).to_be_visible()
    # htmx is a deferred script: a change made before it has loaded is (rightly) a plain form change
    page.wait_for_load_state("load")
    page.get_by_label("就医城市").select_option("上海")
    # htmx swaps in the hospitals of 上海 only
    expect(page.locator("#hospital_id option", has_text="复旦大学附属中山医院")).to_have_count(1)
    expect(page.locator("#hospital_id option", has_text="北京协和医院")).to_have_count(0)
    page.get_by_label("医院", exact=True).select_option(label="复旦大学附属中山医院")
    page.get_by_label("科室（如：肿瘤科）").fill("肿瘤科")
    page.get_by_label("希望就诊日期").fill((today + timedelta(days=3)).isoformat())
    page.get_by_label("医生给出的诊断").fill("肺腺癌")
    page.get_by_label("初次确诊日期").fill(_first_diagnosis(today).isoformat())
    page.get_by_label("所患疾病（保障范围内的重度疾病）").select_option("恶性肿瘤——重度")
    expect(page.locator("#eligibility")).to_contain_text("符合申请条件")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    shot(page, "02-apply-form")

    page.get_by_role("button", name="提交申请").tap()
    expect(page.get_by_text(re.compile("申请已提交，编号 ZJ"))).to_be_visible()
    expect(page.locator(".promise")).to_contain_text(f"我们将最晚于 {deadline}前为您安排")
    shot(page, "03-case-submitted")

    page.get_by_role("link", name=re.compile("上传资料")).tap()
    checklist = page.locator("#checklist")
    expect(checklist.locator("li.todo")).to_have_count(2)
    page.get_by_label("门诊病历").set_input_files(str(tmp_path / "门诊病历.pdf"))
    page.get_by_label("身份证件").set_input_files(str(tmp_path / "身份证.jpg"))
    shot(page, "04-upload-chosen")
    page.get_by_role("button", name="上传", exact=True).tap()
    expect(page.get_by_text("已上传 2 个文件")).to_be_visible()
    expect(checklist.locator("li.done")).to_have_count(2)
    expect(checklist.locator("li.todo")).to_have_count(0)
    expect(page.get_by_role("link", name="门诊病历.pdf")).to_be_visible()
    expect(page.get_by_role("link", name="身份证.jpg")).to_be_visible()
    shot(page, "05-uploaded-checklist")

    page.get_by_role("link", name="‹ 返回进度").tap()
    expect(page.locator(".promise")).to_contain_text(deadline)
    expect(page.get_by_text("您上传资料：门诊病历、身份证件（共 2 个文件）")).to_be_visible()
    expect(page.get_by_role("link", name="查看或补充资料")).to_be_visible()
    shot(page, "06-case-tracked")

    page.get_by_role("link", name="我的服务").first.tap()
    expect(page.get_by_text("剩余 0/1 次")).to_be_visible()
    expect(page.locator(".case-card")).to_contain_text(deadline)
    shot(page, "07-home-with-case")


def _seed_case(username="wangjianguo"):
    """The demo insured with one submitted 门诊绿通 case in 上海 (through intake, as the portal does)."""
    from sqlalchemy import select

    from portal.domain import consent, intake
    from portal.models import Hospital, User

    load_demo_data(history=False)
    user = db.session.scalar(select(User).where(User.username == username))
    consent.give(user.insured, actor=user, channel="portal")  # as the consent gate records it (SPEC §7)
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "复旦大学附属中山医院"))
    today = calendar.business_today()
    from portal.domain import consent

    if not consent.has_consent(user.insured):  # the i15 gate: she consented on the portal first (SPEC §7)
        consent.give(user.insured, actor=user, channel="portal")
    case = intake.submit_request(insured=user.insured, line_code="green_outpatient", actor=user, data={
        "city": "上海", "hospital_id": hospital.id, "department": "肿瘤科", "diagnosis": "肺腺癌",
        "first_diagnosis_date": _first_diagnosis(today), "illness": "恶性肿瘤——重度"})
    db.session.commit()
    return case


def test_cancel_with_javascript_asks_for_confirmation_first(app, phone_page, browser_login, shot):
    case = _seed_case()
    page = phone_page
    browser_login(page, "wangjianguo")
    page.goto(f"/me/cases/{case.id}")
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("link", name="取消申请").tap()
    expect(page.get_by_text("您的申请已取消，占用的服务次数已退回。")).to_be_visible()
    assert questions and questions[0].startswith("确定要取消这次申请吗")
    expect(page.locator(".status-card .badge")).to_have_text("已取消")
    shot(page, "cancelled")


def test_without_javascript_the_insured_can_apply_upload_and_cancel(
        app, browser, live_server, browser_login, shot, tmp_path):
    load_demo_data(history=False)
    db.session.commit()
    today = calendar.business_today()
    (tmp_path / "病历.pdf").write_bytes(PDF)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        browser_login(page, "wangjianguo")
        page.goto("/me/apply/green_outpatient")
        page.get_by_label("就医城市").select_option("上海")
        page.get_by_role("button", name="检查是否符合条件").tap()  # reloads the form with 上海's hospitals
        expect(page.locator("#hospital_id option", has_text="复旦大学附属中山医院")).to_have_count(1)
        page.get_by_label("医院", exact=True).select_option(label="复旦大学附属中山医院")
        page.get_by_label("科室（如：肿瘤科）").fill("肿瘤科")
        page.get_by_label("希望就诊日期").fill((today + timedelta(days=3)).isoformat())
        page.get_by_label("医生给出的诊断").fill("肺腺癌")
        page.get_by_label("初次确诊日期").fill(_first_diagnosis(today).isoformat())
        page.get_by_label("所患疾病（保障范围内的重度疾病）").select_option("恶性肿瘤——重度")
        page.get_by_role("button", name="检查是否符合条件").tap()
        expect(page.locator("#eligibility")).to_contain_text("符合申请条件")
        shot(page, "01-no-js-apply")
        page.get_by_role("button", name="提交申请").tap()
        expect(page.locator(".promise")).to_contain_text("我们将最晚于")

        page.get_by_role("link", name=re.compile("上传资料")).tap()
        page.get_by_label("门诊病历").set_input_files(str(tmp_path / "病历.pdf"))
        page.get_by_role("button", name="上传", exact=True).tap()
        expect(page.get_by_text("已上传 1 个文件")).to_be_visible()
        expect(page.locator("#checklist li.done")).to_have_count(1)
        shot(page, "02-no-js-uploaded")

        page.get_by_role("link", name="‹ 返回进度").tap()
        page.get_by_role("link", name="取消申请").tap()
        expect(page.get_by_role("heading", name="取消申请")).to_be_visible()
        page.get_by_role("button", name="确认取消申请").tap()
        expect(page.locator(".status-card .badge")).to_have_text("已取消")
        shot(page, "03-no-js-cancelled")
    finally:
        context.close()


def test_pages_fit_a_320_px_phone_without_horizontal_scroll(app, browser, live_server, browser_login, shot):
    case = _seed_case()
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=live_server)
    page = context.new_page()
    try:
        browser_login(page, "wangjianguo")
        for name, path in [("home", "/me/"), ("choose", "/me/apply"), ("apply", "/me/apply/green_inpatient"),
                           ("case", f"/me/cases/{case.id}"), ("documents", f"/me/cases/{case.id}/documents"),
                           ("cancel", f"/me/cases/{case.id}/cancel"), ("inbox", "/me/inbox")]:
            page.goto(path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 320, name
            shot(page, f"320-{name}")
    finally:
        context.close()


def test_case_and_documents_pages_have_no_serious_accessibility_violations(
        app, phone_page, browser_login, axe_violations):
    case = _seed_case()
    browser_login(phone_page, "wangjianguo")
    for path in (f"/me/cases/{case.id}", f"/me/cases/{case.id}/documents", "/me/apply", "/me/inbox"):
        phone_page.goto(path)
        assert axe_violations(phone_page) == [], path


def test_a_refused_upload_shows_its_reason_in_place_with_javascript(app, phone_page, browser_login, shot, tmp_path):
    case = _seed_case()
    (tmp_path / "病历.pdf").write_bytes(b"MZ not really a pdf")
    page = phone_page
    browser_login(page, "wangjianguo")
    page.goto(f"/me/cases/{case.id}/documents")
    page.get_by_label("门诊病历").set_input_files(str(tmp_path / "病历.pdf"))
    page.get_by_role("button", name="上传", exact=True).tap()
    expect(page.locator("#file_medical_record-error")).to_contain_text("不是可接受的文件类型")
    expect(page.locator("#checklist li.todo")).to_have_count(2)
    shot(page, "refused-upload")
