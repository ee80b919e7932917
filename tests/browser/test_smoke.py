"""The browser harness itself: the login page renders in Chinese on a phone and passes axe."""

from playwright.sync_api import expect


def test_login_page_on_a_phone_has_no_serious_accessibility_violations(phone_page, shot, axe_violations):
    phone_page.goto("/login")
    expect(phone_page.get_by_role("heading", name="重疾就医保服务")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone_page, "login")
    assert axe_violations(phone_page) == []


def test_staff_login_reaches_the_queue(desk_page, browser_login, make_user):
    make_user("coordinator", username="coordx", password="password123")
    browser_login(desk_page, "coordx", "password123")
    expect(desk_page.get_by_role("heading", name="工作队列")).to_be_visible()
