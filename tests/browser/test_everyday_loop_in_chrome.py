"""Issue 14 in a real browser: a double tap on a slow network opens one case, 要求补充资料 submits in Chrome,
the insured's upload resumes the clock, and every tap target on the phone is at least 44×44 px."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal import calendar
from portal.domain import intake, lifecycle
from portal.domain.demo import load_demo_data
from portal.extensions import db
from portal.models import Case, Entitlement, Hospital, InsuredPerson, Policy, User

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SLOW = {"offline": False, "latency": 800, "downloadThroughput": 40_000, "uploadThroughput": 20_000}


@pytest.fixture
def demo(app):
    load_demo_data(history=False)
    db.session.commit()


def _wang():
    return db.session.scalar(select(InsuredPerson).join(Policy).where(Policy.policy_no == "SD2026000101"))


def _fill_outpatient_request(page):
    today = calendar.business_today()
    page.goto("/me/apply/green_outpatient")
    page.wait_for_load_state("load")
    page.get_by_label("就医城市").select_option("上海")
    expect(page.locator("#hospital_id option", has_text="复旦大学附属中山医院")).to_have_count(1)
    page.get_by_label("医院", exact=True).select_option(label="复旦大学附属中山医院")
    page.get_by_label("科室（如：肿瘤科）").fill("肿瘤科")
    page.get_by_label("希望就诊日期").fill((today + timedelta(days=3)).isoformat())
    page.get_by_label("医生给出的诊断").fill("肺腺癌")
    page.get_by_label("初次确诊日期").fill((today - timedelta(days=30)).isoformat())
    page.get_by_label("所患疾病（保障范围内的重度疾病）").select_option("恶性肿瘤——重度")
    expect(page.locator("#eligibility")).to_contain_text("符合申请条件")


def _cases_and_units() -> tuple[int, int]:
    db.session.commit()  # see what the server committed
    person = _wang()
    return (db.session.scalar(select(func.count()).select_from(Case).where(Case.insured_id == person.id)),
            db.session.scalar(select(Entitlement.reserved).where(Entitlement.insured_id == person.id,
                                                                 Entitlement.line_code == "green_outpatient")))


def test_a_double_tap_on_a_throttled_network_opens_exactly_one_case(demo, phone_page, browser_login, shot):
    page = phone_page
    browser_login(page, "wangjianguo")
    _fill_outpatient_request(page)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/apply/green_outpatient")
            else None)
    button = page.get_by_role("button", name="提交申请")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(x, y)
    page.touchscreen.tap(x, y)  # the second tap lands while the first request is still in flight
    expect(page.get_by_text(re.compile("申请已提交，编号 ZJ"))).to_be_visible(timeout=30_000)
    shot(page, "01-after-double-tap")
    assert _cases_and_units() == (1, 1)
    assert len(posts) == 1  # the button was disabled while the request was in flight


def test_without_javascript_a_double_submit_still_opens_one_case(demo, app, browser, live_server, browser_login):
    """No JS to disable the button: both POSTs reach the server with the same key; one case, one unit."""
    with_js = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", base_url=live_server)
    page = with_js.new_page()
    browser_login(page, "wangjianguo")
    _fill_outpatient_request(page)
    form = page.locator("#apply-form").evaluate("f => Object.fromEntries(new FormData(f))")
    cookies = with_js.cookies()
    with_js.close()
    no_js = browser.new_context(java_script_enabled=False, locale="zh-CN", base_url=live_server)
    no_js.add_cookies(cookies)
    page = no_js.new_page()
    for _ in range(2):  # the form exactly as the page rendered it, posted twice (a retry, a second tap)
        response = page.request.post("/me/apply/green_outpatient", form=form, max_redirects=0)
        assert response.status == 303
    no_js.close()
    assert _cases_and_units() == (1, 1)


def _hotline_case(line_code="green_outpatient"):
    coord = db.session.scalar(select(User).where(User.username == "coord1"))
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "北京协和医院"))
    person = _wang()
    from portal.domain import consent

    if not consent.has_consent(person):
        consent.give(person, actor=coord, channel="hotline")
    today = calendar.business_today()
    case = intake.submit_request(insured=person, line_code=line_code, actor=coord, channel="ys_hotline",
                                 data={"illness": "恶性肿瘤——重度", "city": "北京", "hospital_id": hospital.id,
                                       "first_diagnosis_date": (today - timedelta(days=30)).isoformat()})
    lifecycle.perform(case, "verify", actor=coord)
    db.session.commit()
    return case


def test_request_documents_submits_in_chrome_and_the_insureds_upload_resumes_the_clock(
        demo, desk_page, phone_page, browser_login, shot, axe_violations, tmp_path):
    case = _hotline_case()
    page = desk_page
    page.set_viewport_size({"width": 1366, "height": 900})
    browser_login(page, "coord1")
    page.goto(f"/staff/cases/{case.id}")
    form = page.locator("#action-request-documents")
    form.get_by_label("原因（客户可见）").fill("医院需要最近的影像报告")
    with page.expect_response(lambda r: "/actions/request_documents" in r.url) as refused:
        form.get_by_role("button", name="要求补充资料", exact=True).click()  # no kind ticked: the server says so
    assert refused.value.status == 422
    expect(page.locator("#action-request-documents")).to_contain_text("请至少选择一项资料")
    form = page.locator("#action-request-documents")
    form.get_by_label("CT 报告", exact=True).check()
    form.get_by_label("MRI 报告", exact=True).check()
    form.get_by_label("原因（客户可见）").fill("医院需要最近的影像报告")
    with page.expect_response(lambda r: "/actions/request_documents" in r.url) as response:
        form.get_by_role("button", name="要求补充资料", exact=True).click()
    assert response.value.status == 200
    expect(page.locator("#clock-arrange")).to_contain_text("已暂停")
    shot(page, "01-documents-requested")
    assert axe_violations(page) == []

    phone = phone_page
    browser_login(phone, "wangjianguo")
    phone.goto(f"/me/cases/{case.id}")
    expect(phone.get_by_role("link", name=re.compile("还需 .*CT 报告、MRI 报告"))).to_be_visible()
    phone.goto(f"/me/cases/{case.id}/documents")
    (tmp_path / "ct.pdf").write_bytes(PDF)
    (tmp_path / "mri.pdf").write_bytes(PDF)
    phone.get_by_label("CT 报告").set_input_files(str(tmp_path / "ct.pdf"))
    phone.get_by_label("MRI 报告").set_input_files(str(tmp_path / "mri.pdf"))
    phone.get_by_role("button", name="上传").tap()
    expect(phone.get_by_text("已上传 2 个文件")).to_be_visible()
    phone.goto(f"/me/cases/{case.id}")
    expect(phone.locator(".promise")).to_contain_text("我们将最晚于")  # the clock runs again
    expect(phone.locator("#case-news-" + str(case.id))).to_contain_text("资料已补齐")
    shot(phone, "02-insured-after-upload")
    assert axe_violations(phone) == []

    page.reload()
    expect(page.locator("#clock-arrange")).not_to_contain_text("已暂停")
    expect(page.locator(f"#timeline-{case.id}")).to_contain_text("服务时限恢复计算")
    shot(page, "03-workspace-clock-resumed")


#: what counts as a tap target on the phone
TARGETS = """() => [...document.querySelectorAll('a[href], button, summary, label.check, input[type=submit]')]
  .filter(e => !e.classList.contains('skip'))  // the skip link is off-screen until focused by keyboard
  .filter(e => e.offsetParent !== null || e.getClientRects().length)
  .map(e => { const r = e.getBoundingClientRect();
              return {tag: e.tagName, text: (e.innerText || '').trim().slice(0, 30),
                      w: Math.round(r.width), h: Math.round(r.height)}; })
  .filter(t => t.w > 0 && (t.w < 44 || t.h < 44))"""


def test_every_tap_target_on_the_insured_pages_is_at_least_44_px(demo, phone_page, browser_login, shot):
    page = phone_page
    small = {}
    for path in ("/login", "/register"):
        page.goto(path)
        small[path] = page.evaluate(TARGETS)
    case = _hotline_case("domestic_escort")
    browser_login(page, "wangjianguo")
    for path in ("/me/", "/me/apply", "/me/apply/green_inpatient", f"/me/cases/{case.id}",
                 f"/me/cases/{case.id}/documents", "/me/inbox"):
        page.goto(path)
        small[path] = page.evaluate(TARGETS)
    shot(page, "01-inbox")
    assert {path: found for path, found in small.items() if found} == {}




def test_the_insured_enters_the_admission_slip_later_on_the_phone(demo, phone_page, browser_login, shot, axe_violations,
                                                                tmp_path):
    """Issue 14 item 8: applied without the 住院条; once it exists, its date and photo are sent from the phone."""
    page = phone_page
    browser_login(page, "wangjianguo")  # consents at the first sign-in
    db.session.expire_all()
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "复旦大学附属中山医院"))
    today = calendar.business_today()
    user = db.session.scalar(select(User).where(User.username == "wangjianguo"))
    case = intake.submit_request(insured=_wang(), line_code="green_inpatient", actor=user, channel="portal",
                                 data={"illness": "恶性肿瘤——重度", "first_diagnosis_date":
                                       (today - timedelta(days=30)).isoformat(), "city": "上海",
                                       "hospital_id": hospital.id})
    db.session.commit()
    page.goto(f"/me/cases/{case.id}")
    slip = page.locator("#admission-slip")
    expect(slip).to_contain_text("住院条开具后，请在这里提交")
    slip.get_by_label("住院条开具日期").fill(today.isoformat())
    slip.get_by_role("button", name="提交住院条").click()
    expect(page.locator("#admission_slip-error")).to_contain_text("请拍照或选择住院条文件")
    shot(page, "01-slip-without-photo")
    assert axe_violations(page) == []
    photo = tmp_path / "住院条.pdf"
    photo.write_bytes(PDF)
    slip = page.locator("#admission-slip")
    slip.get_by_label("住院条照片或 PDF").set_input_files(str(photo))
    slip.get_by_role("button", name="提交住院条").click()
    expect(page.get_by_text("已收到您的住院条，住院安排时限已开始计算。")).to_be_visible()
    expect(page.locator("#admission-slip")).to_have_count(0)
    expect(page.locator(f"#case-news-{case.id}")).to_contain_text("住院安排时限开始计算")
    shot(page, "02-slip-entered")
    db.session.commit()
    assert db.session.get(Case, case.id).admission_slip_date == today


def test_a_long_hospital_name_is_shown_whole_on_the_phone(demo, phone_page, browser_login, shot):
    """The closed <select> cuts a long name (华中科技大学同济医学院附属同济医院); the chosen one is said in full."""
    page = phone_page
    browser_login(page, "wangjianguo")
    page.goto("/me/apply/green_outpatient")
    page.get_by_label("就医城市").select_option("武汉")
    name = "华中科技大学同济医学院附属同济医院"
    expect(page.locator("#hospital_id option", has_text=name)).to_have_count(1)
    page.get_by_label("医院", exact=True).select_option(label=name)
    expect(page.locator("#hospital_id-chosen")).to_have_text(f"已选择：{name}")
    shot(page, "01-long-hospital-name")
    page.get_by_label("就医城市").select_option("上海")  # the field is swapped whole: no stale name left behind
    expect(page.locator("#hospital_id option", has_text="复旦大学附属中山医院")).to_have_count(1)
    expect(page.locator("#hospital_id-chosen")).to_have_count(1)
    expect(page.locator("#hospital_id-chosen")).to_have_text("")


def test_the_insured_reads_the_no_show_rule_with_the_booking_and_sees_a_corrected_outcome(
        demo, phone_page, browser_login, shot, axe_violations):
    """Issue 14 items 3 and 7 on the phone: the booking card says a no-show uses the service; a corrected
    outcome is what the card, the status and the news then say."""
    from sqlalchemy import update

    from portal.models import Appointment, utcnow

    page = phone_page
    browser_login(page, "wangjianguo")
    db.session.expire_all()
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "复旦大学附属中山医院"))
    coord = db.session.scalar(select(User).where(User.username == "coord1"))
    today = calendar.business_today()
    case = intake.submit_request(insured=_wang(), line_code="green_outpatient", actor=coord, channel="ys_hotline",
                                 data={"illness": "恶性肿瘤——重度", "city": "上海", "hospital_id": hospital.id,
                                       "first_diagnosis_date": (today - timedelta(days=30)).isoformat()})
    for action, fields in [("verify", {}), ("accept", {}), ("confirm_hospital", {"hospital_id": hospital.id}),
                           ("book_appointment", {"hospital_id": hospital.id, "department": "肿瘤科",
                                                 "scheduled_at": utcnow() + timedelta(days=2)})]:
        lifecycle.perform(case, action, actor=coord, **fields)
    db.session.commit()
    page.goto(f"/me/cases/{case.id}")
    expect(page.locator(f"#appt-{case.id}").locator("xpath=..")).to_contain_text("如未在预约时间就诊，本次服务视为已使用。")
    shot(page, "01-booked")
    assert axe_violations(page) == []
    db.session.execute(update(Appointment).where(Appointment.case_id == case.id)
                       .values(scheduled_at=utcnow() - timedelta(hours=2)))
    lifecycle.perform(case, "record_visit", actor=coord, outcome="visited")
    lifecycle.perform(case, "correct_outcome", actor=coord, outcome="no_show", reason="医院回复您当天未到诊")
    db.session.commit()
    page.reload()
    expect(page.locator(f"#outcome-{case.id}")).to_have_text("未按时就医（视为完成）")
    expect(page.locator(f"#status-{case.id}").locator("xpath=..")).to_contain_text("亦视为该次服务已使用")
    expect(page.locator(f"#case-news-{case.id}")).to_contain_text("就医结果已更正")
    shot(page, "02-outcome-corrected")
    assert axe_violations(page) == []
