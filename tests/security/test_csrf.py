"""With CSRF on (as in production), every state-changing route refuses a request without a valid token —
plain forms and htmx requests alike — and a token taken from a rendered page lets a real form through."""

import re

import pytest
from security_world import PASSWORD, fingerprint
from test_authorization_matrix import MATRIX, RIGHT_ROLE, build_path, client_for, routes, variants

from portal.extensions import db

WRITES = ("POST", "PUT", "PATCH", "DELETE")
INPUT = re.compile(r"<input\b[^>]*>")
HX_TOKEN = re.compile(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'')


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def form_token(html: str, name: str = "csrf_token") -> str:
    """The value of the hidden token field `name` (forms with a prefix call it e.g. "note-csrf_token")."""
    for tag in INPUT.findall(html):
        if f'name="{name}"' in tag and (value := re.search(r'value="([^"]+)"', tag)):
            return value.group(1)
    raise AssertionError(f"no {name} field on the page")


def header_token(html: str) -> str:
    match = HX_TOKEN.search(html)
    assert match, "no X-CSRFToken in the page's hx-headers"
    return match.group(1)


def _writes(app, world):
    """(endpoint, role, method, path) of every state-changing route, as the role it is meant for."""
    found = []
    for rule in routes(app):
        methods = sorted(set(rule.methods) & set(WRITES))
        if not methods:
            continue
        entry = MATRIX[rule.endpoint]
        role = RIGHT_ROLE[entry.audience]
        path = build_path(app, rule, variants(entry.object, world, role)[0][1])
        found += [(rule.endpoint, role, method, path, entry.query) for method in methods]
    return found


def test_the_write_routes_are_found(csrf_app, world):
    endpoints = {endpoint for endpoint, *_ in _writes(csrf_app, world)}
    assert {"auth.login", "auth.logout", "insured.document_upload", "insured.case_cancel", "insured.inbox_read",
            "coordinator.case_perform", "supervisor.case_assign", "supervisor.staff_deactivate"} <= endpoints
    assert len(endpoints) >= 25


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_every_write_without_a_token_is_refused_with_400(csrf_app, login_as, world, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    before = fingerprint()
    wrong = []
    for endpoint, role, method, path, query in _writes(csrf_app, world):
        client = client_for(csrf_app, login_as, world, role)
        client.get("/login")  # a session with a token in it: only the request lacks one
        response = client.open(path, method=method, query_string=query, headers=headers,
                               data={"version": "1", "note": "x", "csrf_token": ""})
        if response.status_code != 400 or "请求有误" not in response.get_data(as_text=True):
            wrong.append((endpoint, method, response.status_code))
    assert wrong == []
    assert fingerprint() == before


def test_a_token_from_another_session_is_refused(csrf_app, login_as, world):
    mine = client_for(csrf_app, login_as, world, "insured_a")
    token = header_token(mine.get("/me/inbox").get_data(as_text=True))
    theirs = client_for(csrf_app, login_as, world, "insured_b")
    theirs.get("/me/inbox")
    response = theirs.post("/me/inbox/read", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 400


def test_a_real_login_form_passes_with_the_token_from_the_page(csrf_app, world):
    client = csrf_app.test_client()
    token = form_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": world.insured_a.username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/me/")


def test_an_htmx_request_passes_with_the_header_the_page_sends(csrf_app, login_as, world):
    from portal.models import Notification

    client = client_for(csrf_app, login_as, world, "insured_a")
    token = header_token(client.get("/me/inbox").get_data(as_text=True))
    response = client.post("/me/inbox/read", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 303
    db.session.expire_all()
    assert all(n.read_at for n in db.session.query(Notification).filter_by(insured_id=world.person_a.id))


def test_a_staff_action_form_passes_with_its_token(csrf_app, login_as, world):
    client = client_for(csrf_app, login_as, world, "coordinator")
    page = client.get(f"/staff/cases/{world.case_a.id}").get_data(as_text=True)
    response = client.post(f"/staff/cases/{world.case_a.id}/actions/note", data={
        "note-csrf_token": form_token(page, "note-csrf_token"), "note-text": "已电话联系客户",
        "note-version": str(world.case_a.version)})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
