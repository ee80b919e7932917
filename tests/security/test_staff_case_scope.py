"""A coordinator reads every case but writes only their own (or an unassigned one), even with a valid form.

The matrix posts empty forms; here coordinator C1 sends complete, correctly versioned requests to
C2's case — the kind a tampered page would send — and nothing may be written: no history entry, no
document row, no file on disk.
"""

from io import BytesIO
from pathlib import Path

import pytest
from security_world import PDF, fingerprint
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditLog

REFUSAL = "该案件由其他协调员负责"


def _files(app) -> set[Path]:
    return {p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()}


def _requests(world):
    case, doc = world.case_b, world.doc_b
    v = str(case.version)
    return {
        "note": (f"/staff/cases/{case.id}/actions/note", {"note-text": "越权备注", "note-version": v}),
        "review": (f"/staff/cases/{case.id}/documents/{doc.id}/review",
                   {f"doc{doc.id}-decision": "accepted", f"doc{doc.id}-version": v}),
        "upload": (f"/staff/cases/{case.id}/documents",
                   {"upload-kind": "medical_record", "upload-version": v, "upload-file": (PDF, "病历.pdf")}),
        "terminate": (f"/staff/cases/{case.id}/actions/terminate",
                      {"terminate-reason": "duplicate", "terminate-version": v}),
    }


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("action", ["note", "review", "upload", "terminate"])
def test_a_coordinator_cannot_write_to_a_colleagues_case(app, login_as, world, action, htmx):
    path, data = _requests(world)[action]
    data = {k: (BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
    before, files = fingerprint(), _files(app)
    response = login_as(world.c1).post(path, data=data, headers={"HX-Request": "true"} if htmx else {},
                                       content_type="multipart/form-data")
    assert response.status_code in (403, 422), response.status_code
    assert REFUSAL in response.get_data(as_text=True) or response.status_code == 403
    assert fingerprint() == before
    assert _files(app) == files


def test_the_same_requests_succeed_for_the_coordinator_who_holds_the_case(app, login_as, world):
    """The refusal above is about whose case it is, not about the requests themselves."""
    client = login_as(world.c2)
    for action in ("note", "review", "upload"):
        path, data = _requests(world)[action]  # rebuilt each time: every write bumps the version
        data = {k: (BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
        response = client.post(path, data=data, content_type="multipart/form-data")
        assert response.status_code == 303, (action, response.status_code)
        db.session.expire_all()


def test_a_coordinator_may_read_a_colleagues_case_and_the_read_is_logged(login_as, world):
    client = login_as(world.c1)
    assert client.get(f"/staff/cases/{world.case_b.id}").status_code == 200
    with client.get(f"/staff/cases/{world.case_b.id}/documents/{world.doc_b.id}") as response:
        assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "document.view", AuditLog.actor_id == world.c1.id)) == 1
