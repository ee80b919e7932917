"""A newcomer registers on a phone (390×844): the register's details, the SMS code, username and password."""

import re

from playwright.sync_api import expect

from portal.domain import registration
from portal.domain.demo import load_demo_data
from portal.extensions import db

PASSWORD = "Zhao-min-2026!"


def _last_code(live_app) -> str:
    texts = [m["text"] for m in live_app.extensions.get("sms_outbox", []) if m["to"] == "13800000104"]
    return re.search(r"验证码为 (\d{6})", texts[-1]).group(1)


def test_a_newcomer_registers_with_the_code_sent_to_the_register_phone(app, live_app, phone_page, shot,
                                                                       axe_violations):
    load_demo_data()
    db.session.commit()
    live_app.extensions.pop("sms_outbox", None)
    page = phone_page

    page.goto("/login")
    page.get_by_role("link", name="被保险人注册").tap()
    expect(page.get_by_role("heading", name="被保险人注册")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    shot(page, "01-register")
    page.get_by_label("被保险人姓名").fill("赵敏")
    page.get_by_label("证件类型").select_option("id_card")
    page.get_by_label("证件号码").fill("110108198001015676")
    page.get_by_label("保单号").fill("SD2026000104")
    page.get_by_role("button", name="获取验证码").tap()

    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    expect(page.locator("#register-answer")).to_have_text(registration.UNIFORM_ANSWER)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    shot(page, "02-code")

    # a wrong code first: refused at the field, no account
    code = _last_code(live_app)
    page.get_by_label("短信验证码（6 位数字）").fill("000000" if code != "000000" else "111111")
    page.get_by_label("设置用户名").fill("zhaomin")
    page.get_by_label(re.compile("设置密码")).fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    page.get_by_role("button", name="完成注册并登录").tap()
    expect(page.get_by_text("验证码不正确或已失效")).to_be_visible()

    # a new code, then the right one
    page.get_by_role("button", name="没有收到？重新发送验证码").tap()
    expect(page.get_by_text("新的验证码已发送")).to_be_visible()
    page.get_by_label("短信验证码（6 位数字）").fill(_last_code(live_app))
    page.get_by_label("设置用户名").fill("zhaomin")
    page.get_by_label(re.compile("设置密码")).fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    page.get_by_label(re.compile("电子邮箱")).fill("zhaomin@example.com")
    page.get_by_role("button", name="完成注册并登录").tap()

    # registered and signed in: the separate consent (SPEC §7) comes before any page of the portal
    page.wait_for_url(re.compile(r"/me/consent"))
    expect(page.get_by_text("注册成功")).to_be_visible()
    # the PIPL consent step (issue 15) comes right after registration
    page.get_by_label(re.compile("单独同意")).check()
    page.get_by_role("button", name="同意并继续").tap()
    page.wait_for_url(re.compile(r"/me/(?!consent)"))
    expect(page.get_by_text("赵敏").first).to_be_visible()
    expect(page.get_by_text("110108********5676")).to_be_visible()
    shot(page, "03-home")

    # logging out ends the session; the password works on the login form
    page.get_by_role("button", name="退出").first.tap()
    page.wait_for_url(re.compile(r"/login"))
    page.get_by_label("用户名").fill("zhaomin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").tap()
    page.wait_for_url(re.compile(r"/me/"))
