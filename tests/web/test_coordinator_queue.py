"""The work queue: tabs with counts, filters that push the URL, nearest deadline first, keyset pages, alerts."""

import re
from datetime import datetime, time, timedelta

import pytest
from coordinator_support import SH, advance, make_directory, open_case, request_data, today
from coordinator_support import covered_insured as insured_for
from sqlalchemy import event

from portal import calendar
from portal.blueprints.coordinator import worklist
from portal.domain import intake
from portal.extensions import db
from portal.models import Alert


@pytest.fixture
def world(make_policy, make_user):
    return make_directory(), make_user("coordinator", display_name="陈晓"), make_policy


def _submitted_days_ago(insured, line_code, directory, days_before_due: int, actor=None):
    """A case whose 5-working-day arrange clock is due `days_before_due` working days from today (<0: overdue)."""
    target = calendar.add_working_days(today(), days_before_due) if days_before_due >= 0 else None
    for back in range(0, 40):
        day = today() - timedelta(days=back)
        due = calendar.add_working_days(day, 5)
        if (target and due == target) or (target is None and
                                          calendar.working_days_between(due, today()) == -days_before_due):
            when = datetime.combine(day, time(10), SH)
            case = intake.submit_request(insured=insured, line_code=line_code, actor=actor, channel="ys_hotline",
                                         data=request_data(line_code, directory), now=when)
            db.session.commit()
            return case
    raise AssertionError("no submission day found")


def _ids(body: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="queue-case-(\d+)"', body)]


def test_deadline_tab_counts_from_the_clocks_alone_equal_the_counts_through_the_cases(world):
    """Without filters the two deadline tabs count running clocks from the index alone (issue 9); a filter
    that keeps every case goes through the cases: both must agree, a terminated case counted by neither."""
    directory, coord, make_policy = world
    for days in (-3, -1, 0, 1):
        advance(_submitted_days_ago(insured_for(make_policy), "green_outpatient", directory, days), coord, "verify")
    ended = _submitted_days_ago(insured_for(make_policy), "green_outpatient", directory, -2)
    advance(ended, coord, "verify", ("terminate", {"reason": "insured_withdrew"}))
    now = datetime.now(SH)
    plain = worklist.counts(worklist.Filters(), coord, now=now)
    through_cases = worklist.counts(worklist.Filters(line="green_outpatient"), coord, now=now)
    assert (plain["overdue"], plain["due_soon"]) == (2, 2)
    assert {tab: plain[tab] for tab in ("due_soon", "overdue")} == \
        {tab: through_cases[tab] for tab in ("due_soon", "overdue")}


def test_queue_page_and_fragment(world, login_as):
    directory, coord, make_policy = world
    open_case(insured_for(make_policy), "green_outpatient", directory)
    client = login_as(coord)
    page = client.get("/staff/?tab=unassigned")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get("/staff/?tab=unassigned", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert 'id="queue-results"' in body and 'hx-swap-oob="true"' in body  # the tab input follows the swap
    assert 'hx-push-url="true"' in body


def test_tabs_hold_mine_unassigned_due_soon_overdue_and_waiting_with_counts(world, login_as, make_user):
    directory, coord, make_policy = world
    other = make_user("coordinator", display_name="刘洋")
    overdue = _submitted_days_ago(insured_for(make_policy), "green_outpatient", directory, -3)
    soon = _submitted_days_ago(insured_for(make_policy), "green_outpatient", directory, 1)
    relaxed = open_case(insured_for(make_policy), "green_outpatient", directory)
    waiting = open_case(insured_for(make_policy), "domestic_escort", directory)
    advance(overdue, coord, "verify")
    advance(soon, other, "verify")
    advance(waiting, coord, "verify", ("request_documents", {"kinds": ["id_document"], "reason": "证件模糊"}))

    client = login_as(coord)
    counts = worklist.counts(worklist.Filters(), coord, now=datetime.now(SH))
    assert counts == {"mine": 2, "unassigned": 1, "due_soon": 1, "overdue": 1, "waiting": 1, "all": 4}
    assert _ids(client.get("/staff/").get_data(as_text=True)) == [overdue.id, waiting.id]
    assert _ids(client.get("/staff/?tab=unassigned").get_data(as_text=True)) == [relaxed.id]
    assert _ids(client.get("/staff/?tab=due_soon").get_data(as_text=True)) == [soon.id]
    assert _ids(client.get("/staff/?tab=overdue").get_data(as_text=True)) == [overdue.id]
    assert _ids(client.get("/staff/?tab=waiting").get_data(as_text=True)) == [waiting.id]
    body = client.get("/staff/?tab=all").get_data(as_text=True)
    # nearest deadline first; the case waiting on the insured (clock paused) after every running clock
    assert _ids(body) == [overdue.id, soon.id, relaxed.id, waiting.id]
    assert re.search(r'等待客户\s*<span class="count">1</span>', body)
    # the two time-dependent counts come in a request of their own that the page makes once shown
    counts_url = re.search(r'hx-get="([^"]*deadline-counts[^"]*)" hx-trigger="load"', body).group(1)
    oob = client.get(counts_url.replace("&amp;", "&"), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert re.search(r'<span class="count hot" id="count-overdue" hx-swap-oob="true">1</span>', oob)
    assert re.search(r'<span class="count" id="count-due-soon" hx-swap-oob="true">1</span>', oob)
    assert 'id="count-overdue">…</span>' in body
    assert "已超时 3 个工作日" in body and "已暂停·等待客户" in body


def test_filters_by_line_status_city_coordinator_and_reference(world, login_as, make_user):
    directory, coord, make_policy = world
    other = make_user("coordinator", display_name="刘洋")
    green = open_case(insured_for(make_policy), "green_outpatient", directory)
    escort = open_case(insured_for(make_policy, name="李四"), "domestic_escort", directory)
    overseas = open_case(insured_for(make_policy), "overseas_second_opinion", directory)
    advance(escort, other, "verify")
    client = login_as(coord)

    def ids(query):
        return _ids(client.get(f"/staff/?tab=all&{query}").get_data(as_text=True))

    assert ids("line=domestic_escort") == [escort.id]
    assert ids("status=verifying") == [escort.id]
    assert sorted(ids("city=北京")) == sorted([green.id, escort.id])
    assert ids(f"assignee={other.id}") == [escort.id]
    assert ids(f"q={overseas.ref}") == [overseas.id]
    assert ids("q=李四") == [escort.id]
    assert ids("status=nonsense&line=green_outpatient") == [green.id]


def test_filtered_view_reloads_as_a_full_page_and_links_keep_the_filters(world, login_as):
    directory, coord, make_policy = world
    open_case(insured_for(make_policy), "green_outpatient", directory)
    client = login_as(coord)
    body = client.get("/staff/?tab=all&line=green_outpatient&city=北京").get_data(as_text=True)
    assert "<html" in body
    assert re.search(r'<option value="green_outpatient" selected>', body)
    tab_link = re.search(r'href="([^"]*tab=overdue[^"]*)"', body).group(1)
    assert "line=green_outpatient" in tab_link and "city=" in tab_link


def test_keyset_pages_walk_running_clocks_then_the_rest_without_repeats(world, login_as, monkeypatch):
    directory, coord, make_policy = world
    expected = [_submitted_days_ago(insured_for(make_policy), "green_outpatient", directory, d).id
                for d in (-2, 0, 3)]
    expected.append(open_case(insured_for(make_policy), "domestic_second_opinion", directory).id)  # no clock yet
    expected.append(open_case(insured_for(make_policy), "domestic_second_opinion", directory).id)
    monkeypatch.setattr(worklist, "PAGE_SIZE", 2)
    client = login_as(coord)
    seen, url = [], "/staff/?tab=all"
    while url:
        body = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        seen += _ids(body)
        match = re.search(r'href="([^"]*after=[^"]*)"[^>]*rel="next"', body)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == expected
    assert "回到第一页" in body


def test_malformed_cursor_is_a_404_not_a_guess(world, login_as):
    directory, coord, make_policy = world
    open_case(insured_for(make_policy), "green_outpatient", directory)
    client = login_as(coord)
    assert client.get("/staff/?tab=all&after=d_garbage").status_code == 404  # issue 13: junk cursor → 4xx


def test_queue_needs_the_same_number_of_queries_for_three_or_twelve_cases(world, login_as, app):
    directory, coord, make_policy = world
    client = login_as(coord)

    def queries():
        count = 0

        def bump(*args):
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", bump)
        try:
            assert client.get("/staff/?tab=all").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", bump)
        return count

    queries()  # the first view reads the product's line names, kept per process from then on
    for _ in range(3):
        open_case(insured_for(make_policy), "green_outpatient", directory)
    few = queries()
    for _ in range(9):
        open_case(insured_for(make_policy), "domestic_escort", directory)
    assert queries() == few <= 10


def test_alerts_for_me_are_listed_and_counted_and_can_be_marked_read(world, login_as, make_user):
    directory, coord, make_policy = world
    other = make_user("coordinator")
    case = open_case(insured_for(make_policy), "green_outpatient", directory)
    mine = Alert(key="a1", kind="due_soon", case_id=case.id, recipient_id=coord.id, message=f"{case.ref} 明天到期")
    theirs = Alert(key="a2", kind="breached", case_id=case.id, recipient_id=other.id, message="别人的提醒")
    everyone = Alert(key="a3", kind="breached", case_id=case.id, recipient_id=None, message="主管提醒")
    db.session.add_all([mine, theirs, everyone])
    db.session.commit()
    client = login_as(coord)
    body = client.get("/staff/").get_data(as_text=True)
    assert f"{case.ref} 明天到期" in body and "别人的提醒" not in body and "主管提醒" not in body
    assert re.search(r'id="alert-count-value">1<', body)

    response = client.post(f"/staff/alerts/{mine.id}/read", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert 'id="alert-count-value" hx-swap-oob="true">0<' in response.get_data(as_text=True)
    assert mine.read_at is not None
    assert client.post(f"/staff/alerts/{theirs.id}/read").status_code == 404
    assert client.post(f"/staff/alerts/{everyone.id}/read").status_code == 404


def test_supervisors_see_alerts_addressed_to_all_supervisors(world, login_as):
    directory, _, make_policy = world
    case = open_case(insured_for(make_policy), "green_outpatient", directory)
    alert = Alert(key="s1", kind="breached", case_id=case.id, recipient_id=None, message="已超时：请跟进")
    db.session.add(alert)
    db.session.commit()
    client = login_as("supervisor")
    assert "已超时：请跟进" in client.get("/staff/").get_data(as_text=True)
    response = client.post(f"/staff/alerts/{alert.id}/read")
    assert response.status_code == 303 and alert.read_at is not None


def test_queue_refuses_insured_and_auditors(login_as):
    assert login_as("insured").get("/staff/").status_code == 403
    assert login_as("auditor").get("/staff/").status_code == 403


def test_a_case_with_two_running_clocks_is_listed_once_under_its_nearest(world, login_as):
    directory, coord, make_policy = world
    case = open_case(insured_for(make_policy), "overseas_treatment", directory)
    decision, treatment = sorted(case.clocks, key=lambda c: c.kind)
    treatment.state, treatment.start_date = "running", decision.start_date
    treatment.due_date = calendar.add_working_days(decision.start_date, 40)
    treatment.deadline = calendar.end_of_business_day(treatment.due_date)
    db.session.commit()
    client = login_as(coord)
    body = client.get("/staff/?tab=all").get_data(as_text=True)
    assert _ids(body) == [case.id]
    assert "启动决定时限" in body and "安排就医时限" not in body
    assert worklist.counts(worklist.Filters(), coord, now=datetime.now(SH))["all"] == 1


def test_search_lists_matches_nearest_deadline_first(world, login_as):
    directory, coord, make_policy = world
    insured = insured_for(make_policy, name="王五")
    later_case = open_case(insured, "green_outpatient", directory)
    sooner = _submitted_days_ago(insured, "domestic_escort", directory, 1)
    clockless = open_case(insured, "domestic_second_opinion", directory)
    open_case(insured_for(make_policy, name="赵六"), "green_outpatient", directory)
    client = login_as(coord)
    assert _ids(client.get("/staff/?tab=all&q=王五").get_data(as_text=True)) == [sooner.id, later_case.id, clockless.id]
    assert _ids(client.get("/staff/?tab=due_soon&q=王五").get_data(as_text=True)) == [sooner.id]
    assert _ids(client.get(f"/staff/?tab=all&q={later_case.ref[:-1].lower()}").get_data(as_text=True))


def test_tab_counts_from_the_counter_rows_equal_counts_over_the_cases_under_every_filter(world, make_user):
    """The four counted tabs come from queue_count (issue 20); under any filter they equal a count of the cases."""
    from sqlalchemy import func, select

    from portal.models import Case

    directory, coord, make_policy = world
    other = make_user("coordinator", display_name="刘洋")
    mine = open_case(insured_for(make_policy), "green_outpatient", directory)
    theirs = open_case(insured_for(make_policy), "domestic_escort", directory)
    open_case(insured_for(make_policy), "overseas_second_opinion", directory)
    advance(mine, coord, "verify", ("request_documents", {"kinds": ["id_document"], "reason": "证件模糊"}))
    advance(theirs, other, "verify")
    filters = [worklist.Filters(), worklist.Filters(line="domestic_escort"), worklist.Filters(status="verifying"),
               worklist.Filters(city="北京"), worklist.Filters(assignee=other.id),
               worklist.Filters(line="green_outpatient", city="北京", assignee=coord.id)]
    for f in filters:
        expected = {tab: db.session.scalar(select(func.count()).select_from(Case).where(
            *worklist._case_conditions(f, coord, tab=tab))) for tab in worklist.COUNTED_TABS}
        assert worklist.tab_counts(f, coord) == expected, f
