"""Issue 18 item 9 in Chromium: an htmx form whose request fails on the network (a connection reset, as when
gunicorn stops with requests still queued) is sent again with the same form data — the same idempotency key —
its button disabled meanwhile; whether the lost request had landed or not, exactly one record is written and
the result is shown. A plain form without JavaScript needs nothing (test_everyday_loop_in_chrome.py)."""

import re
from datetime import timedelta

import pytest
from helpers import PDF
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal import calendar
from portal.domain import consent, intake, lifecycle
from portal.domain.demo import load_demo_data
from portal.extensions import db
from portal.models import Document, Hospital, InsuredPerson, Policy, User


@pytest.fixture
def case(app):
    load_demo_data(history=False)
    coord = db.session.scalar(select(User).where(User.username == "coord1"))
    person = db.session.scalar(select(InsuredPerson).join(Policy).where(Policy.policy_no == "SD2026000101"))
    consent.give(person, actor=coord, channel="hotline")
    hospital = db.session.scalar(select(Hospital).where(Hospital.name == "北京协和医院"))
    case = intake.submit_request(insured=person, line_code="green_outpatient", actor=coord, channel="ys_hotline",
                                 data={"illness": "恶性肿瘤——重度", "city": "北京", "hospital_id": hospital.id,
                                       "first_diagnosis_date": (calendar.business_today()
                                                                - timedelta(days=30)).isoformat()})
    lifecycle.perform(case, "verify", actor=coord)
    db.session.commit()
    return case


def _documents(case) -> int:
    db.session.commit()  # see what the server committed
    return db.session.scalar(select(func.count()).select_from(Document).where(Document.case_id == case.id))


def _upload_page(page, browser_login, case, tmp_path):
    browser_login(page, "wangjianguo")
    page.goto(f"/me/cases/{case.id}/documents")
    (tmp_path / "病历.pdf").write_bytes(PDF)
    page.get_by_label("资料类型").select_option(label="门诊病历")
    page.get_by_label("选择文件（可多选）").set_input_files(str(tmp_path / "病历.pdf"))
    return page.get_by_role("button", name="上传")


@pytest.mark.parametrize("lost", ["before the server", "after the server wrote it", "as the proxy's 503"])
def test_an_upload_reset_on_the_network_is_sent_again_and_lands_once(case, phone_page, browser_login, shot,
                                                                     tmp_path, lost):
    page = phone_page
    button = _upload_page(page, browser_login, case, tmp_path)
    posts = []

    def reset_the_first(route):
        # the form's fields as sent (Chromium leaves the files' bytes out of what it shows of the body)
        posts.append(re.sub(rb"WebKitFormBoundary\w+", b"B", route.request.post_data_buffer))
        if len(posts) > 1:
            route.continue_()
            return
        if lost == "as the proxy's 503":  # nginx while gunicorn restarts (deploy/nginx.conf @unavailable)
            route.fulfill(status=503, content_type="text/html; charset=utf-8", body="系统暂时无法访问")
            return
        if lost == "after the server wrote it":  # the request lands; its answer is lost on the way back
            body = route.request.post_data_buffer  # as the browser sent it, its file put back in (see above)
            route.fetch(post_data=body.replace(b"application/pdf\r\n\r\n\r\n", b"application/pdf\r\n\r\n" + PDF
                                               + b"\r\n", 1))
        route.abort("connectionreset")

    page.route(f"**/me/cases/{case.id}/documents", lambda route: reset_the_first(route)
               if route.request.method == "POST" else route.continue_())
    button.tap()
    expect(button).to_be_disabled()  # between the two tries, too
    expect(page.get_by_role("status")).to_contain_text(
        "这些文件已经上传过了" if lost == "after the server wrote it" else "已上传 1 个文件", timeout=15_000)
    shot(page, "01-after-retry")
    assert len(posts) == 2 and posts[0] == posts[1] and b"submission_key" in posts[0]  # the same key
    assert _documents(case) == 1
    expect(page.locator("#documents-" + str(case.id))).to_contain_text("病历.pdf")
    expect(page.get_by_role("button", name="上传")).to_be_enabled()


def test_after_the_last_retry_the_user_is_told_and_may_send_again(case, phone_page, browser_login, tmp_path):
    page = phone_page
    button = _upload_page(page, browser_login, case, tmp_path)
    posts = []

    def offline(route):
        posts.append(1)
        route.abort("connectionreset") if len(posts) <= 3 else route.continue_()

    page.route(f"**/me/cases/{case.id}/documents",
               lambda route: offline(route) if route.request.method == "POST" else route.continue_())
    button.tap()
    expect(page.locator("[data-network-error]")).to_have_text("网络连接中断，无法确认是否已提交。请刷新页面查看是否已保存，未保存再重新提交。",
                                                              timeout=20_000)
    assert len(posts) == 3 and _documents(case) == 0  # the first try and two retries, then it stops
    expect(button).to_be_enabled()
    button.tap()  # the network is back: the user sends it again
    expect(page.get_by_role("status")).to_contain_text("已上传 1 个文件")
    assert _documents(case) == 1
    expect(page.locator("[data-network-error]")).to_have_count(0)


def test_an_action_whose_answer_was_lost_is_not_reported_as_a_colleagues_change(case, desk_page, browser_login,
                                                                                shot):
    """The note lands, its answer is lost on the way back; the page sends it again (X-Resubmit), the case has
    moved on: the coordinator reads that the action may well be saved, not "该案件已被他人更新", and the
    timeline has the note once."""
    page = desk_page
    browser_login(page, "coord1")
    page.goto(f"/staff/cases/{case.id}")
    posts = []

    def lose_the_first_answer(route):
        posts.append(route.request.headers.get("x-resubmit"))
        if len(posts) > 1:
            route.continue_()
            return
        route.fetch()  # it reaches the server and is written
        route.abort("connectionreset")

    page.route(f"**/staff/cases/{case.id}/actions/note",
               lambda route: lose_the_first_answer(route) if route.request.method == "POST" else route.continue_())
    form = page.locator("#action-note")
    form.get_by_label("内部备注", exact=True).fill("客户下午方便接电话")
    form.get_by_role("button", name="添加内部备注").click()
    expect(page.get_by_role("alert").first).to_contain_text("您的操作可能已经保存", timeout=15_000)
    expect(page.get_by_role("alert").first).not_to_contain_text("该案件已被他人更新")
    shot(page, "01-resent-action")
    assert posts == [None, "1"]
    page.get_by_role("link", name="刷新案件").click()
    expect(page.locator(f"#timeline-{case.id}").get_by_text("客户下午方便接电话")).to_have_count(1)
