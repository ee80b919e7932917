"""Crafted `next=`, page, id and cursor values: never an open redirect, never a 500 (issue 13 items 5, 6)."""

import pytest
from security_world import PASSWORD

from portal.web.params import MAX_ID, clean_next, parse_int

EVIL_NEXT = ["/%09/evil.example/", "//evil", "\\\\evil", "/\\evil", "https://evil", "%2F%2Fevil",
             "/\t/evil.example/", "/\n/evil", " //evil", "/%5Cevil", "javascript:alert(1)", "/%252F%252Fevil",
             "\u202e//evil", "http:/evil", "///evil"]
HUGE = str(10**20)


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_clean_next_refuses_every_way_off_site(target):
    assert clean_next(target) is None


@pytest.mark.parametrize("target", ["/staff/", "/audit/cases?q=1&page=2", "/me/cases/3#top"])
def test_clean_next_keeps_local_paths(target):
    assert clean_next(target) == target


def test_parse_int_bounds():
    assert parse_int("7") == 7
    assert parse_int(HUGE) is None and parse_int(str(MAX_ID + 1)) is None and parse_int(str(MAX_ID)) == MAX_ID
    assert parse_int("-1") is None and parse_int("1e3") is None and parse_int("٣") is None and parse_int("") is None


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_login_never_redirects_off_site(client, world, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "sec_c1", "password": PASSWORD})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_login_follows_a_local_next(client, world):
    response = client.post("/login?next=/staff/admin/users", data={"username": "sec_c1", "password": PASSWORD})
    assert response.headers["Location"] == "/staff/admin/users"


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_supervisor_forms_never_redirect_off_site(login_as, world, target):
    client = login_as(world.supervisor)
    response = client.post(f"/staff/admin/users/{world.c3.id}/deactivate", data={"next": target})
    assert response.status_code == 303
    assert "evil" not in response.headers["Location"] and not response.headers["Location"].startswith("//")


#: the lists paged by number (the work queue pages by keyset cursor: see the cursor tests)
LISTS = {
    "insured": ["/me/", "/me/inbox"],
    "supervisor": ["/staff/admin/assignments", "/staff/admin/users", "/staff/admin/directory/hospital",
                   "/staff/admin/holidays/provisional"],
    "auditor": ["/audit/cases", "/audit/reports", "/audit/log", "/audit/weekly"],
}


def _client(login_as, world, role):
    return login_as({"insured": world.insured_a, "coordinator": world.c1, "supervisor": world.supervisor,
                     "auditor": world.auditor}[role])


@pytest.mark.parametrize(("role", "path"), [(r, p) for r, paths in LISTS.items() for p in paths])
def test_every_list_route_answers_huge_pages_with_404_and_junk_with_the_first(login_as, world, role, path):
    client = _client(login_as, world, role)
    assert client.get(path, query_string={"page": HUGE}).status_code == 404
    for junk in ("abc", "-3", "0", "", "1.5", "２"):
        assert client.get(path, query_string={"page": junk}).status_code == 200, junk


@pytest.mark.parametrize("value", [HUGE, "abc", "-1", "1e9"])
def test_id_and_cursor_parameters_answer_4xx(login_as, world, value):
    coordinator, supervisor = login_as(world.c1), login_as(world.supervisor)
    assert coordinator.get("/staff/", query_string={"tab": "all", "assignee": value}).status_code == 404
    assert coordinator.get("/staff/", query_string={"after": f"n_{value}"}).status_code == 404
    assert coordinator.get("/staff/", query_string={"after": f"d_20260101T000000000000_{value}"}).status_code == 404
    assert supervisor.get("/staff/admin/assignments", query_string={"assignee": value}).status_code == 404
    assert supervisor.get("/staff/admin/holidays", query_string={"year": value}).status_code == 200


def test_junk_cursor_is_a_404(login_as, world):
    client = login_as(world.c1)
    for cursor in ("zzz", "d_notadate_1", "n_", "d__"):
        assert client.get("/staff/", query_string={"after": cursor}).status_code == 404, cursor


def test_path_ids_beyond_any_row_are_404_on_every_route(app, login_as, world):
    clients = {"insured": _client(login_as, world, "insured"), "staff": login_as(world.supervisor),
               "audit": login_as(world.auditor)}
    checked = 0
    for rule in app.url_map.iter_rules():
        if "int" not in str(rule) or "<" not in rule.rule:
            continue
        values = {arg: HUGE for arg in rule.arguments}
        values.update({k: "hospital" for k in rule.arguments if k == "kind"})
        values.update({k: "domestic_second_opinion" for k in rule.arguments if k in ("code", "line_code")})
        path = rule.rule
        for arg, value in values.items():
            path = path.replace(f"<int:{arg}>", value).replace(f"<{arg}>", value)
        client = clients.get(path.split("/")[1], clients["staff"])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method)
            # an auditor's write to a URL no route matches is refused (and logged) before routing answers 404
            answers = (403, 404, 405) if client is clients["audit"] and method == "POST" else (404, 405)
            assert response.status_code in answers, (method, path, response.status_code)
            checked += 1
    assert checked > 25


def test_assign_form_with_a_huge_assignee_is_refused_not_500(login_as, world):
    client = login_as(world.supervisor)
    response = client.post(f"/staff/cases/{world.case_a.id}/assign",
                           data={"assignee_id": HUGE, "version": world.case_a.version})
    assert response.status_code in (409, 422)
