"""The benchmark floor (bench/floor.py) shows what the pages it is the floor of show: the same markup and text,
so the ratio of a page to its floor measures the portal's structure, not a page that does less."""

import html
import re

from bench.floor import attach


def _visible(response) -> list[str]:
    """Tags (attributes included) and texts in order, whitespace and CSRF tokens aside."""
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    page = re.sub(r'(value="|"X-CSRFToken": ")[A-Za-z0-9._-]{40,}"', r'\1CSRF"', page)
    found = []
    for token in re.findall(r"<[^>]+>|[^<]+", page):
        token = re.sub(r"\s+", " ", token).replace(" >", ">") if token.startswith("<") else " ".join(token.split())
        if token:
            found.append(html.unescape(token))
    return found


def test_the_floors_show_the_queue_and_the_home_as_the_pages_do(app, insured, client_of, open_case, make_user):
    attach(app)  # before the first request
    coordinator = make_user("coordinator", display_name="陈协调")
    open_case(insured)
    open_case(insured, "overseas_second_opinion")
    staff = client_of(coordinator)
    assert _visible(staff.get("/staff/?tab=all")) == _visible(staff.get(f"/_floor/queue/{coordinator.id}"))
    swap = {"HX-Request": "true"}
    assert _visible(staff.get("/staff/?tab=all", headers=swap)) == \
        _visible(staff.get(f"/_floor/queue/{coordinator.id}", headers=swap))
    me = client_of(insured)
    assert _visible(me.get("/me/")) == _visible(me.get(f"/_floor/home/{insured.insured_id}"))


def test_the_floors_check_the_user_as_the_pages_do(app, insured, make_user):
    attach(app)
    client = app.test_client()
    assert client.get(f"/_floor/queue/{insured.id}").status_code == 403  # not staff
    assert client.get(f"/_floor/home/{insured.insured_id + 1000}").status_code == 403  # nobody's
