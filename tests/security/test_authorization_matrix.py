"""The authorisation matrix: every route × every role × own and someone else's objects (issue 8).

MATRIX names, for each endpoint, who it is for and what kind of object its URL addresses. The test
builds one world, then sends every method of the route as anonymous, insured A, insured B, coordinator
C1 (who holds A's case; B's belongs to C2), the supervisor and the auditor, at their own objects and at
someone else's, and checks the answer: the login for visitors, 403 for the wrong role, 404 for another
insured's objects, no write at all for a coordinator on a colleague's case, 403 plus an
`auditor.write_refused` entry for any auditor write — and never the other person's data in a refusal.
POSTs carry an empty form: the access decision must come before validation.
"""

from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest
from security_world import audit_count, fingerprint, secrets_of
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditLog
from portal.web.access import AUDITOR_POSTS

PUBLIC, SIGNED_IN, INSURED, STAFF, SUPERVISOR, AUDITOR = "public", "signed in", "insured", "staff", "supervisor", \
    "auditor"
AUDITOR_ADMIN = "auditor admin"
ROLES = ("anonymous", "auditor", "auditor_admin", "insured_b", "insured_a", "coordinator", "supervisor")
#: answers of the right role to an empty or plain request: a page, a redirect, or a validation refusal
OK = {200, 204, 286, 302, 303, 409, 422}
#: how a coordinator's write on a colleague's case may be refused (the domain refuses it; see the test below)
NO_WRITE = {403, 404, 409, 422}


class Entry(NamedTuple):
    audience: str
    #: what the URL arguments address: case, document, file, line, insured person, directory kind,
    #: directory item, user, weekly report, alert, action — or None
    object: str | None = None
    #: query arguments the route needs to do its work
    query: dict | None = None


LINE = {"line": "green_outpatient"}
MATRIX: dict[str, Entry] = {
    "auth.index": Entry(PUBLIC),
    "auth.login": Entry(PUBLIC),
    "auth.register": Entry(PUBLIC),
    "auth.register_code": Entry(PUBLIC),
    "auth.register_resend": Entry(PUBLIC),
    "auth.logout": Entry(SIGNED_IN),
    "healthz": Entry(PUBLIC),
    # the insured's phone portal: their own objects only, someone else's answer 404
    "insured.home": Entry(INSURED),
    "insured.inbox_list": Entry(INSURED),
    "insured.inbox_read": Entry(INSURED),  # the inbox of the one signed in; scope checked below
    "insured.apply_choose": Entry(INSURED),
    "insured.apply_form": Entry(INSURED, "line"),
    "insured.apply_submit": Entry(INSURED, "line"),
    "insured.apply_check": Entry(INSURED, "line"),
    "insured.apply_hospitals": Entry(INSURED, "line"),
    "insured.case_detail": Entry(INSURED, "case"),
    "insured.case_status": Entry(INSURED, "case"),
    "insured.case_cancel_confirm": Entry(INSURED, "case"),
    "insured.case_cancel": Entry(INSURED, "case"),
    "insured.case_rate": Entry(INSURED, "case"),
    "insured.case_admission_slip": Entry(INSURED, "case"),
    "insured.document_list": Entry(INSURED, "case"),
    "insured.document_upload": Entry(INSURED, "case"),
    "insured.document_view": Entry(INSURED, "document"),
    "insured.consent_form": Entry(INSURED),
    "insured.consent_give": Entry(INSURED),
    "insured.privacy_overview": Entry(INSURED),
    "insured.privacy_withdraw": Entry(INSURED),  # the consent of the one signed in
    "insured.privacy_download": Entry(INSURED),  # exactly the data of the one signed in
    "insured.privacy_request": Entry(INSURED),
    "insured.cross_border_form": Entry(INSURED, "case"),
    "insured.cross_border_give": Entry(INSURED, "case"),
    "insured.cross_border_withdraw": Entry(INSURED, "case"),
    # casework: coordinators and supervisors read every case; a coordinator writes only their own
    "coordinator.queue": Entry(STAFF),
    "coordinator.queue_deadline_counts": Entry(STAFF),
    "coordinator.alert_read": Entry(STAFF, "alert"),
    "coordinator.case_detail": Entry(STAFF, "case"),
    "coordinator.case_perform": Entry(STAFF, "action"),
    "coordinator.document_upload": Entry(STAFF, "case"),
    "coordinator.document_view": Entry(STAFF, "document"),
    "coordinator.document_review": Entry(STAFF, "document"),
    "coordinator.intake_search": Entry(STAFF),
    "coordinator.intake_new": Entry(STAFF, "insured person", LINE),
    "coordinator.intake_check": Entry(STAFF, "insured person", LINE),
    "coordinator.intake_submit": Entry(STAFF, "insured person", LINE),
    "coordinator.case_cross_border": Entry(STAFF, "case"),
    "coordinator.case_cross_border_record": Entry(STAFF, "case"),
    "coordinator.insured_privacy": Entry(STAFF, "insured person"),
    "coordinator.insured_privacy_withdraw": Entry(STAFF, "insured person"),
    "coordinator.insured_privacy_request": Entry(STAFF, "insured person"),
    # supervisor screens
    "supervisor.case_assign": Entry(SUPERVISOR, "case"),
    "supervisor.assignment_list": Entry(SUPERVISOR),
    "supervisor.directory_list": Entry(SUPERVISOR, "directory kind"),
    "supervisor.directory_new": Entry(SUPERVISOR, "directory kind"),
    "supervisor.directory_import": Entry(SUPERVISOR, "directory kind"),
    "supervisor.directory_template": Entry(SUPERVISOR, "directory kind"),
    "supervisor.directory_edit": Entry(SUPERVISOR, "directory item"),
    "supervisor.directory_deactivate": Entry(SUPERVISOR, "directory item"),
    "supervisor.directory_reactivate": Entry(SUPERVISOR, "directory item"),
    "supervisor.holiday_list": Entry(SUPERVISOR),
    "supervisor.holiday_add": Entry(SUPERVISOR),
    "supervisor.holiday_import": Entry(SUPERVISOR),
    "supervisor.provisional_list": Entry(SUPERVISOR),
    "supervisor.policy_import": Entry(SUPERVISOR),
    "supervisor.staff_list": Entry(SUPERVISOR),
    "supervisor.staff_new": Entry(SUPERVISOR),
    "supervisor.staff_deactivate": Entry(SUPERVISOR, "user"),
    "supervisor.staff_reactivate": Entry(SUPERVISOR, "user"),
    "supervisor.staff_password_reset": Entry(SUPERVISOR, "user"),
    "supervisor.privacy_admin": Entry(SUPERVISOR),
    "supervisor.privacy_restrict": Entry(SUPERVISOR),
    "supervisor.privacy_request_decide": Entry(SUPERVISOR, "data request"),
    "supervisor.privacy_legal_hold": Entry(SUPERVISOR),
    # 史带's read-only oversight
    "auditor.dashboard": Entry(AUDITOR),
    "auditor.case_list": Entry(AUDITOR),
    "auditor.case_detail": Entry(AUDITOR, "case"),
    "auditor.case_export": Entry(AUDITOR, "case"),
    "auditor.document_view": Entry(AUDITOR, "file"),
    "auditor.report_list": Entry(AUDITOR),
    "auditor.log_list": Entry(AUDITOR),
    "auditor.weekly_list": Entry(AUDITOR),
    "auditor.weekly_detail": Entry(AUDITOR, "weekly report"),
    "auditor.weekly_csv": Entry(AUDITOR, "weekly report"),
    "auditor.weekly_xlsx": Entry(AUDITOR, "weekly report"),
    "auditor.integrity": Entry(AUDITOR),
    "auditor.receipt_download": Entry(AUDITOR, "checkpoint"),
    # the auditor's one POST: checks uploaded receipts, writes only its audit-log row (issue 16)
    "auditor.receipt_verify": Entry(AUDITOR),
    "auditor_search.by_id_number": Entry(AUDITOR),  # a POST that only reads (the ID stays out of the URL)
    "auditor.inbox_list": Entry(AUDITOR),
    "supervisor.delivery_list": Entry(SUPERVISOR),
    "auditor.inbox_read": Entry(AUDITOR, "delivery"),  # the auditor's one write: 已阅 (web.access.AUDITOR_WRITES)
    # 史带's own accounts: managed by 史带's auditor_admin, never by the 英仕 supervisor (issue 13 item 9)
    "oversight.account_list": Entry(AUDITOR_ADMIN),
    "oversight.account_new": Entry(AUDITOR_ADMIN),
    "oversight.account_password": Entry(AUDITOR_ADMIN, "史带 user"),
    "oversight.account_active": Entry(AUDITOR_ADMIN, "史带 user change"),
}
AUDIENCE_ROLES = {INSURED: {"insured_a", "insured_b"}, STAFF: {"coordinator", "supervisor"},
                  SUPERVISOR: {"supervisor"}, AUDITOR: {"auditor"}, AUDITOR_ADMIN: {"auditor_admin"}}


#: one role each audience is for (the CSRF and header suites act as it)
RIGHT_ROLE = {PUBLIC: "anonymous", SIGNED_IN: "insured_a", INSURED: "insured_a", STAFF: "coordinator",
              SUPERVISOR: "supervisor", AUDITOR: "auditor", AUDITOR_ADMIN: "auditor_admin"}


def routes(app):
    """Every rule but static files."""
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def build_path(app, rule, args: dict) -> str:
    with app.test_request_context():
        return rule.build(args, append_unknown=False)[1]


def test_every_route_has_a_matrix_entry(app):
    endpoints = {rule.endpoint for rule in routes(app)}
    assert endpoints - MATRIX.keys() == set(), "new routes need an entry in MATRIX"
    assert MATRIX.keys() - endpoints == set(), "MATRIX names routes that no longer exist"


def _mine(role: str) -> str:
    """Whose objects count as the role's own: B for insured B, A for everyone else (C1 holds A's case)."""
    return "b" if role == "insured_b" else "a"


def variants(kind, world, role) -> list[tuple[str, dict]]:
    """(whose, URL arguments) to try: the role's own object, someone else's, and mixed-up pairs."""
    mine, theirs = _mine(role), "a" if _mine(role) == "b" else "b"

    def of(key, attr):
        return getattr(world, f"{attr}_{key}")

    if kind is None:
        return [("own", {})]
    if kind == "line":
        return [("own", {"line_code": "green_outpatient"})]
    if kind in ("case", "action"):
        extra = {"code": "note"} if kind == "action" else {}
        return [(whose, {"case_id": of(key, "case").id, **extra}) for whose, key in (("own", mine), ("other", theirs))]
    if kind == "document":
        found = []
        for whose, key in (("own", mine), ("other", theirs)):
            found += [(whose, {"case_id": of(key, "case").id, "document_id": of(key, attr).id})
                      for attr in ("doc", "report")]
        # my own case with someone else's document id
        return [*found, ("crossed", {"case_id": of(mine, "case").id, "document_id": of(theirs, "doc").id})]
    if kind == "file":
        return [("own", {"document_id": of(key, attr).id}) for key in "ab" for attr in ("doc", "report")]
    if kind == "insured person":
        return [("own", {"insured_id": of(mine, "person").id}), ("own", {"insured_id": of(theirs, "person").id})]
    if kind == "directory kind":
        return [("own", {"kind": code}) for code in ("hospital", "escort", "expert")]
    if kind == "directory item":
        return [("own", {"kind": "hospital", "item_id": world.hospital.id}),
                ("own", {"kind": "escort", "item_id": world.escort.id}),
                # an id of one directory under another directory's name
                ("crossed", {"kind": "expert", "item_id": world.escort.id + 1000})]
    if kind == "user":
        # 英仕 staff accounts are managed here; an insured person's login and 史带's auditor accounts are not
        return [("own", {"user_id": world.c3.id}), ("other", {"user_id": world.insured_a.id}),
                ("other", {"user_id": world.auditor.id})]
    if kind in ("史带 user", "史带 user change"):
        extra = {"change": "deactivate"} if kind.endswith("change") else {}
        return [("own", {"user_id": world.auditor.id, **extra}), ("other", {"user_id": world.c3.id, **extra}),
                ("other", {"user_id": world.insured_a.id, **extra})]
    if kind == "delivery":
        return [("own", {"delivery_id": world.delivery.id})]
    if kind == "data request":
        return [("own", {"request_id": world.data_request.id})]
    if kind == "weekly report":
        return [("own", {"report_id": world.weekly.id})]
    if kind == "checkpoint":
        return [("own", {"checkpoint_id": world.weekly.checkpoint_id})]
    if kind == "alert":
        own = world.alert_all if role == "supervisor" else world.alert_c1
        return [("own", {"alert_id": own.id}), ("other", {"alert_id": world.alert_c2.id})]
    raise AssertionError(f"no variants for object kind {kind!r}")


def expected(endpoint: str, entry: Entry, role: str, whose: str, method: str):
    """The answer the rules demand: "ok", "login", "auditor refused", "no write", 403 or 404."""
    if role == "anonymous":
        return "ok" if entry.audience == PUBLIC else "login"
    if role == "auditor" and method != "GET" and endpoint not in AUDITOR_POSTS:
        return "auditor refused"
    if entry.audience in (PUBLIC, SIGNED_IN):
        return "ok"
    if role not in AUDIENCE_ROLES[entry.audience]:
        return 403
    if whose == "crossed":
        return 404
    if whose == "other":
        if role.startswith("insured") or entry.object in ("alert", "user", "史带 user", "史带 user change"):
            return 404
        if role == "coordinator" and method != "GET":
            return "no write"
    return "ok"


def client_for(app, login_as, world, role):
    """A test client signed in as `role` of the world (anonymous: signed in as nobody)."""
    users = {"insured_a": world.insured_a, "insured_b": world.insured_b, "coordinator": world.c1,
             "supervisor": world.supervisor, "auditor": world.auditor, "auditor_admin": world.auditor_admin}
    return app.test_client() if role == "anonymous" else login_as(users[role])


def _check(response, outcome, *, role, whose, world, before, refused_before, path):
    status, body = response.status_code, response.get_data()
    where = f"{response.request.method} {path} as {role} ({whose}): {status}"
    if outcome == "ok":
        assert status in OK, where
        if status in (302, 303) and not response.request.path.startswith(("/login", "/logout", "/register")) \
                and response.request.path != "/":
            assert not urlsplit(response.headers["Location"]).path.startswith("/login"), where
        return
    if outcome == "login":
        assert status == 302 and urlsplit(response.headers["Location"]).path == "/login", where
    elif outcome == "no write":
        assert status in NO_WRITE, where
    elif outcome == "auditor refused":
        assert status == 403, where
        assert audit_count("auditor.write_refused") == refused_before + 1, where
    else:
        assert status == outcome, where
    assert fingerprint() == before, f"{where} changed data"
    if outcome != "no write":  # staff may read a colleague's case; refusals elsewhere show nobody's data
        leaked = [s for key in ("a", "b") for s in secrets_of(world, key)
                  if s.encode() in body and not (role.startswith("insured") and key == _mine(role))]
        assert leaked == [], f"{where} shows {leaked}"


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_every_role_gets_the_right_answer(app, login_as, world, endpoint):
    entry = MATRIX[endpoint]
    rule = next(r for r in routes(app) if r.endpoint == endpoint)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    checked = 0
    for role in ROLES:
        for whose, args in variants(entry.object, world, role):
            path = build_path(app, rule, args)
            for method in methods:
                outcome = expected(endpoint, entry, role, whose, method)
                before, refused_before = fingerprint(), audit_count("auditor.write_refused")
                response = client_for(app, login_as, world, role).open(
                    path, method=method, query_string=entry.query, data={} if method == "POST" else None)
                with response:
                    _check(response, outcome, role=role, whose=whose, world=world, before=before,
                           refused_before=refused_before, path=path)
                checked += 1
    assert checked >= len(methods) * len(ROLES)


def test_visitors_are_sent_to_the_login_also_from_htmx(app, world):
    wrong = []
    for rule in routes(app):
        entry = MATRIX[rule.endpoint]
        if entry.audience == PUBLIC:
            continue
        path = build_path(app, rule, variants(entry.object, world, "anonymous")[0][1])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            page = f"http://localhost/me?from={method}"
            response = app.test_client().open(path, method=method, headers={"HX-Request": "true",
                                                                              "HX-Current-URL": page})
            target = urlsplit(response.headers.get("HX-Redirect", ""))
            # 401, never a login page swapped into the panel; the whole page goes to the login and comes back
            if (response.status_code, target.path, parse_qs(target.query).get("next")) != \
                    (401, "/login", [f"/me?from={method}"]) or response.get_data():
                wrong.append((method, path, response.status_code, response.headers.get("HX-Redirect")))
    assert wrong == []


def test_an_auditor_write_to_any_url_is_refused_and_logged(app, login_as, world):
    """Also where the route only knows GET (Flask would answer 405): the attempt is still on record."""
    client = login_as(world.auditor)
    before = fingerprint()
    tried = set()
    for rule in routes(app):
        path = build_path(app, rule, variants(MATRIX[rule.endpoint].object, world, "auditor")[0][1])
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            if method == "POST" and rule.endpoint in AUDITOR_POSTS:
                continue
            with client.open(path, method=method) as response:
                assert response.status_code == 403, (method, path)
            tried.add((method, path))
    assert fingerprint() == before
    logged = {(e.detail["method"], e.detail["path"]) for e in db.session.scalars(
        select(AuditLog).where(AuditLog.action == "auditor.write_refused"))}
    assert logged == tried
