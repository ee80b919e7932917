"""我的服务 and the inbox: the insured's own policy, entitlements, cases with promises, and updates."""

import re

from insured_support import fresh_request
from sqlalchemy import event, select

from portal.domain import sla
from portal.extensions import db
from portal.models import Notification, SlaClock, User


def test_home_shows_policy_entitlements_per_line_and_masked_id(insured, client_of):
    page = client_of(insured).get("/me/").get_data(as_text=True)
    assert "我的服务" in page and insured.insured.policy.policy_no in page
    assert "陪诊</span> <strong>剩余 2/2 次" in page
    assert "门诊绿通</span> <strong>剩余 1/1 次" in page
    assert insured.insured.id_number not in page  # masked: 110105********1234
    assert insured.insured.id_number[-4:] in page


def test_home_lists_each_case_with_status_and_plain_promise(insured, client_of, open_case):
    case = open_case(insured)
    page = client_of(insured).get("/me/").get_data(as_text=True)
    assert case.ref in page and "已提交" in page
    assert "我们将最晚于" in page and "前为您安排" in page
    assert re.search(r"门诊绿通</span> <strong[^>]*>剩余 0/1 次", page)


def test_home_marks_a_provisional_promise_as_provisional(insured, client_of, open_case):
    case = open_case(insured)
    db.session.execute(SlaClock.__table__.update().where(SlaClock.case_id == case.id).values(provisional=True))
    db.session.commit()
    promise = sla.promise(case)
    assert promise.provisional and "暂定" not in promise.text  # the flag is data, the badge is the page's
    for url in ("/me/", f"/me/cases/{case.id}"):
        page = client_of(insured).get(url).get_data(as_text=True)
        assert f'{promise.text} <span class="badge provisional"' in page and "（暂定）" not in page


def test_home_never_shows_another_insureds_cases(insured_user, client_of, open_case):
    mine, theirs = insured_user("甲"), insured_user("乙")
    other_case = open_case(theirs)
    page = client_of(mine).get("/me/").get_data(as_text=True)
    assert other_case.ref not in page and "您还没有申请过服务" in page


def test_home_query_count_does_not_grow_with_the_number_of_cases(insured, client_of, open_case, app):
    client, user_id = client_of(insured), insured.id
    open_case(insured, "green_outpatient")
    client.get("/me/")  # the first visit creates the year's entitlement rows
    one = _count_queries(app, lambda: client.get("/me/"))
    for line in ("domestic_escort", "domestic_second_opinion", "overseas_second_opinion"):
        open_case(db.session.get(User, user_id), line)
    assert _count_queries(app, lambda: client.get("/me/")) == one


def test_anonymous_visitors_are_sent_to_login(app):
    assert app.test_client().get("/me/").headers["Location"].startswith("/login")


def test_staff_cannot_open_the_insured_portal(login_as):
    assert login_as("coordinator").get("/me/").status_code == 403


def test_inbox_lists_updates_newest_first_and_marks_them_read(insured, client_of, open_case):
    open_case(insured)
    client = client_of(insured)
    home = client.get("/me/").get_data(as_text=True)
    assert 'aria-label="1 条未读"' in home
    page = client.get("/me/inbox").get_data(as_text=True)
    assert "服务申请已受理" in page and "全部标为已读" in page
    response = client.post("/me/inbox/read")
    assert response.status_code == 303
    assert db.session.scalar(select(Notification).where(Notification.user_id == insured.id)).read_at is not None
    assert "全部标为已读" not in client.get("/me/inbox").get_data(as_text=True)


def test_inbox_shows_only_the_insureds_own_updates(insured_user, client_of, open_case):
    mine, theirs = insured_user("甲"), insured_user("乙")
    case = open_case(theirs)
    page = client_of(mine).get("/me/inbox").get_data(as_text=True)
    assert case.ref not in page and "暂时没有消息" in page
    client_of(mine).post("/me/inbox/read")
    assert db.session.scalar(select(Notification).where(Notification.case_id == case.id)).read_at is None


def test_updates_are_emailed_when_the_insured_gave_an_address(insured_user, open_case, app):
    from portal.mail import outbox

    open_case(insured_user("有邮箱", email="me@example.com"))
    assert [m["To"] for m in outbox()] == ["me@example.com"]
    assert "服务申请已受理" in outbox()[0]["Subject"]


def _count_queries(app, call) -> int:
    statements = []

    def count(*args):
        statements.append(args[2])

    fresh_request()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert call().status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_home_pages_cases_with_their_total(insured, client_of, open_case, app):
    from flask_login import login_user

    from portal.blueprints.insured.queries import my_cases_page

    first, second = open_case(insured), open_case(insured, "domestic_escort")
    with app.test_request_context("/me/"):
        login_user(insured)
        page_one, page_two, past = (my_cases_page(n, per_page=1) for n in (1, 2, 3))
    assert [c.id for c in page_one.items] == [second.id] and [c.id for c in page_two.items] == [first.id]
    assert (page_one.total, page_one.pages, page_one.has_next, page_one.has_prev) == (2, 2, True, False)
    assert page_two.has_prev and not page_two.has_next
    assert past.items == [] and past.total == 2  # past the end: still the total, for the pager
    assert page_one.items[0].promise == sla.promise(second) and page_one.items[0].status_label == "已提交"
