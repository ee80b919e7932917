"""axe-core on every insured page on a phone — including the states the journeys do not reach: all six
request forms, the cancel confirmation, registration, forms showing their errors and the error page.
Zero serious or critical violations."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import calendar
from portal.domain import consent, intake
from portal.domain.demo import load_demo_data
from portal.extensions import db
from portal.models import Hospital, User

LINES = ["green_outpatient", "green_inpatient", "domestic_escort", "domestic_second_opinion",
         "overseas_second_opinion", "overseas_treatment"]
NOT_A_DOCUMENT = b"MZ\x90\x00 not a document"


@pytest.fixture
def demo_case(app):
    """The demo insured (wangjianguo) with one submitted 门诊绿通 case in 上海."""
    load_demo_data(history=False)
    user = db.session.scalar(select(User).where(User.username == "wangjianguo"))
    consent.give(user.insured, actor=user, channel="portal")  # the i15 gate: no case without it
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "复旦大学附属中山医院"))
    today = calendar.business_today()
    diagnosed = min(today, max(date(2026, 6, 1), today - timedelta(days=30)))  # after the demo waiting period
    case = intake.submit_request(insured=user.insured, line_code="green_outpatient", actor=user, data={
        "city": "上海", "hospital_id": hospital.id, "department": "肿瘤科", "diagnosis": "肺腺癌",
        "first_diagnosis_date": diagnosed, "illness": "恶性肿瘤——重度"})
    db.session.commit()
    return case


def _skip_browser_checks(page):
    """Let the server's validation answer (the browser's `required` checks would stop an empty form first)."""
    page.evaluate("document.querySelectorAll('form').forEach(form => form.noValidate = true)")


def test_every_request_form_passes_axe(app, demo_case, phone_page, browser_login, axe_violations, shot):
    page = browser_login(phone_page, "wangjianguo")
    for code in LINES:
        page.goto(f"/me/apply/{code}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert axe_violations(page) == [], code
        shot(page, f"apply-{code}")


def test_a_request_form_showing_its_errors_passes_axe(app, demo_case, phone_page, browser_login, axe_violations,
                                                      shot):
    page = browser_login(phone_page, "wangjianguo")
    page.goto("/me/apply/green_inpatient")
    _skip_browser_checks(page)
    page.get_by_role("button", name="提交申请").tap()
    expect(page.locator(".field-error, [id$='-error']").first).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "apply-errors")


def test_home_with_a_case_and_the_cancel_confirmation_pass_axe(app, demo_case, phone_page, browser_login,
                                                                axe_violations, shot):
    page = browser_login(phone_page, "wangjianguo")
    expect(page.locator(".case-card")).to_have_count(1)
    assert axe_violations(page) == []
    page.goto(f"/me/cases/{demo_case.id}/cancel")
    expect(page.get_by_role("heading", name="取消申请")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "cancel-confirmation")


def test_the_documents_page_after_a_refused_upload_passes_axe(app, demo_case, phone_page, browser_login,
                                                              axe_violations, tmp_path):
    (tmp_path / "病历.pdf").write_bytes(NOT_A_DOCUMENT)
    page = browser_login(phone_page, "wangjianguo")
    page.goto(f"/me/cases/{demo_case.id}/documents")
    page.get_by_label("门诊病历").set_input_files(str(tmp_path / "病历.pdf"))
    page.get_by_role("button", name="上传", exact=True).tap()
    expect(page.get_by_text(re.compile("不是可接受的文件类型"))).to_be_visible()
    assert axe_violations(page) == []


def test_registration_and_login_pass_axe_also_with_errors(app, demo_case, phone_page, axe_violations, shot):
    page = phone_page
    page.goto("/register")
    expect(page.get_by_role("heading", name="被保险人注册")).to_be_visible()
    assert axe_violations(page) == []
    _skip_browser_checks(page)
    page.get_by_role("button", name="获取验证码").tap()  # step one of the registration
    expect(page.locator(".field-error, [id$='-error']").first).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "register-errors")

    page.goto("/login")
    page.get_by_label("用户名").fill("wangjianguo")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").tap()
    expect(page.locator(".field-error, [id$='-error']").first).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "login-error")


def test_the_not_found_page_passes_axe(app, demo_case, phone_page, browser_login, axe_violations):
    page = browser_login(phone_page, "wangjianguo")
    response = page.goto("/me/cases/999999")
    assert response.status == 404
    expect(page.get_by_text("没有找到您要的页面或记录。")).to_be_visible()
    assert axe_violations(page) == []
