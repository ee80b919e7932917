"""Ownership everywhere: another insured's case, document or report answers exactly like a missing one."""

import pytest
from insured_support import JPEG, PDF, upload
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal.domain import documents
from portal.extensions import db
from portal.models import AuditLog, Document

CASE_URLS = [
    ("get", "/me/cases/{case}"),
    ("get", "/me/cases/{case}/status"),
    ("get", "/me/cases/{case}/cancel"),
    ("post", "/me/cases/{case}/cancel"),
    ("get", "/me/cases/{case}/documents"),
    ("post", "/me/cases/{case}/documents"),
    ("get", "/me/cases/{case}/documents/{document}"),
    ("get", "/me/cases/{case}/documents/{document}?download=1"),
]


@pytest.fixture
def theirs(insured_user, open_case):
    """Another insured's case with an uploaded file; returns (case id, document id)."""
    other = insured_user("别人")
    case = open_case(other)
    document = documents.save_upload(case, FileStorage(*upload(JPEG, "id.jpg")), kind="id_document", actor=other)
    db.session.commit()
    return case.id, document.id


@pytest.mark.parametrize(("method", "url"), CASE_URLS)
def test_another_insureds_case_answers_404(insured_user, client_of, theirs, method, url):
    client = client_of(insured_user("我"))
    case_id, document_id = theirs
    data = {"version": "1", "kind": "other", "files": [upload(PDF, "x.pdf")]} if method == "post" else None
    response = getattr(client, method)(url.format(case=case_id, document=document_id), data=data)
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Document)) == 1  # nothing added
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0  # nothing read


@pytest.mark.parametrize(("method", "url"), CASE_URLS)
def test_a_case_that_does_not_exist_answers_404_the_same_way(insured_user, client_of, method, url):
    client = client_of(insured_user("我"))
    assert getattr(client, method)(url.format(case=999, document=999)).status_code == 404


def test_a_document_id_of_another_case_under_my_own_case_answers_404(insured_user, client_of, open_case, theirs):
    me = insured_user("我")
    mine = open_case(me)
    _, document_id = theirs
    assert client_of(me).get(f"/me/cases/{mine.id}/documents/{document_id}").status_code == 404
