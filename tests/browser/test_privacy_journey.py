"""PIPL on a phone (390×844): register → separate consent → apply for an overseas second opinion → consent to send
the records to the hospital the insured names → the coordinator proceeds with that hospital (SPEC §7)."""

import re
from datetime import date, timedelta

from helpers import accept_required_documents
from playwright.sync_api import expect
from sqlalchemy import select

from portal import calendar
from portal.domain import lifecycle
from portal.domain.demo import load_demo_data
from portal.extensions import db
from portal.models import Case, ConsentRecord, Hospital, Transfer, User


def _first_diagnosis(today: date) -> date:
    # after the demo policy's 90-day waiting period (start 2026-03-01), never in the future
    return min(today, max(date(2026, 6, 1), today - timedelta(days=30)))


def _narrow(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def _last_code(live_app, phone: str) -> str:
    texts = [m["text"] for m in live_app.extensions.get("sms_outbox", []) if m["to"] == phone]
    return re.search(r"验证码为 (\d{6})", texts[-1]).group(1)


def test_register_consent_overseas_second_opinion_cross_border_consent_then_coordinator_proceeds(
        app, live_app, browser, live_server, phone_page, browser_login, shot, axe_violations):
    load_demo_data()
    db.session.commit()
    live_app.extensions.pop("sms_outbox", None)
    page = phone_page

    # 1. 赵敏 registers (policy SD2026000104, the code sent to the register's phone) …
    page.goto("/register")
    page.get_by_label("被保险人姓名").fill("赵敏")
    page.get_by_label("证件号码").fill("110108198001015676")
    page.get_by_label("保单号").fill("SD2026000104")
    page.get_by_role("button", name="获取验证码").tap()
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    page.get_by_label("短信验证码（6 位数字）").fill(_last_code(live_app, "13800000104"))
    page.get_by_label("设置用户名").fill("zhaomin")
    page.get_by_label(re.compile("设置密码")).fill("Zhao-min-2026!")
    page.get_by_label("再次输入密码").fill("Zhao-min-2026!")
    page.get_by_role("button", name="完成注册并登录").tap()

    # … and lands on the consent gate: summary first, the full text one tap away, an unticked box
    expect(page).to_have_url(re.compile(r"/me/consent"))
    expect(page.get_by_role("heading", name="使用服务前，请确认个人信息处理")).to_be_visible()
    box = page.get_by_label(re.compile("单独同意"))
    expect(box).not_to_be_checked()
    _narrow(page)
    assert axe_violations(page) == []
    shot(page, "01-consent-gate")
    page.get_by_role("button", name="同意并继续").tap()
    expect(page.get_by_text("请勾选同意后继续")).to_be_visible()  # not ticked: refused at the box
    page.get_by_text("阅读告知书全文").tap()
    expect(page.get_by_text("一、谁处理您的个人信息")).to_be_visible()
    shot(page, "02-consent-full-text")
    page.get_by_label(re.compile("单独同意")).check()
    page.get_by_role("button", name="同意并继续").tap()
    expect(page.get_by_role("heading", name="我的服务")).to_be_visible()
    insured_id = db.session.scalar(select(User.insured_id).where(User.username == "zhaomin"))
    record = db.session.scalar(select(ConsentRecord).where(ConsentRecord.insured_id == insured_id))
    assert (record.channel, record.action, record.purpose) == ("portal", "given", "processing")

    # 2. apply for an overseas second opinion
    today = calendar.business_today()
    page.get_by_role("link", name="申请服务").first.tap()
    page.get_by_role("link", name=re.compile("海外第二诊疗意见")).tap()
    page.wait_for_load_state("load")
    page.get_by_label("希望前往的国家").select_option("美国")
    page.get_by_label("医生给出的诊断").fill("肺腺癌")
    page.get_by_label("初次确诊日期").fill(_first_diagnosis(today).isoformat())
    page.get_by_label("所患疾病（保障范围内的重度疾病）").select_option("恶性肿瘤——重度")
    page.get_by_role("button", name="提交申请").tap()
    expect(page.get_by_text(re.compile("申请已提交，编号 ZJ"))).to_be_visible()
    case_id = int(re.search(r"/me/cases/(\d+)", page.url).group(1))

    # 英仕 works the case up to the transfer (seeded through the domain, as the coordinator journey does on screen)
    coordinator = db.session.scalar(select(User).where(User.username == "coord1"))
    case = db.session.get(Case, case_id)
    for action, fields in (("verify", {}), ("launch_decision", {"launch": True})):
        lifecycle.perform(case, action, actor=coordinator, **fields)
    accept_required_documents(case, coordinator)
    for action in ("materials_complete", "history_translated", "imaging_transferred"):
        lifecycle.perform(case, action, actor=coordinator)
    db.session.commit()

    # 3. the case asks for the cross-border consent; the insured names the hospital
    page.reload()
    expect(page.get_by_role("heading", name="资料出境需要您同意")).to_be_visible()
    shot(page, "03-case-asks-cross-border")
    page.get_by_role("link", name="查看并确认出境同意").tap()
    expect(page.get_by_role("heading", name="资料出境同意")).to_be_visible()
    expect(page.get_by_text("个人信息出境告知书")).to_be_visible()
    expect(page.get_by_role("heading", name="将发送的资料")).to_be_visible()
    page.get_by_label("接收资料的海外医院").select_option(label="美国 · 休斯敦 · MD Anderson Cancer Center")
    page.get_by_label(re.compile("我同意英仕健康把上面列出的资料")).check()
    _narrow(page)
    assert axe_violations(page) == []
    shot(page, "04-cross-border-form")
    page.get_by_role("button", name="同意发送").tap()
    expect(page.get_by_text("已记录您的出境同意")).to_be_visible()
    expect(page.get_by_role("heading", name="资料出境需要您同意")).to_have_count(0)
    shot(page, "05-cross-border-recorded")

    # 4. the coordinator proceeds with exactly that hospital
    desk = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live_server)
    desk.set_default_timeout(15_000)
    try:
        staff = browser_login(desk.new_page(), "coord1")
        staff.goto(f"/staff/cases/{case_id}")
        form = staff.locator("#action-choose-provider")
        form.get_by_label("国家").select_option("美国")
        form.get_by_label("医院", exact=True).select_option(str(db.session.scalar(
            select(Hospital.id).where(Hospital.name == "MD Anderson Cancer Center"))))
        form.get_by_role("button", name="选定海外医院与专家").click()
        expect(staff.get_by_text(re.compile("已按客户的出境同意发送资料"))).to_be_visible()
        shot(staff, "06-coordinator-proceeded")
    finally:
        desk.close()
    db.session.expire_all()
    transfer = db.session.scalar(select(Transfer).where(Transfer.case_id == case_id))
    assert transfer.recipient == "MD Anderson Cancer Center" and transfer.country == "美国"
    assert db.session.get(Case, case_id).milestone == "provider_chosen"

    # 5. the insured's own data page lists both consents
    page.goto("/me/privacy")
    expect(page.get_by_role("heading", name="我的资料与授权")).to_be_visible()
    expect(page.locator(".consent-records li")).to_have_count(2)
    _narrow(page)
    assert axe_violations(page) == []
    shot(page, "07-privacy-page")
