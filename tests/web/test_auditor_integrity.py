"""The auditor's checkpoint page (issue 16): 英仕's public key, signed checkpoints with receipts to download,
the check of receipts 史带 kept (result in plain Chinese, nothing stored but an audit-log row), and each case's
anchoring on its page."""

import io
import json
from datetime import UTC, datetime

import pytest
from helpers import as_database_owner, case_with_notes
from sqlalchemy import func, select, text

from portal import audit_keys
from portal.domain import checkpoints, history
from portal.extensions import db
from portal.models import AuditAnchor, AuditCheckpoint, AuditLog

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


@pytest.fixture
def case(make_policy, make_user):
    insured = make_policy()
    case = case_with_notes(insured, actor=None, notes=3, now=NOW)
    db.session.commit()
    return case


def _issue():
    checkpoint = checkpoints.issue(reason="daily", now=NOW)
    db.session.commit()
    return checkpoint


def _upload(client, *files, htmx=False):
    data = {"files": [(io.BytesIO(body), name) for name, body in files]}
    return client.post("/audit/integrity/verify", data=data, content_type="multipart/form-data",
                       headers={"HX-Request": "true"} if htmx else {})


def _counts():
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(AuditCheckpoint)),
            db.session.scalar(select(func.count()).select_from(AuditAnchor)),
            db.session.scalar(select(func.count()).select_from(AuditLog)))


def test_the_page_shows_the_public_key_and_every_checkpoint(case, login_as):
    checkpoint = _issue()
    html = login_as("auditor").get("/audit/integrity").get_data(as_text=True)
    assert audit_keys.public_hex() in html and audit_keys.key_id() in html
    assert "第 1 号" in html and "每日" in html and checkpoint.head[:16] in html
    assert "/audit/integrity/checkpoints/1.json" in html


def test_a_receipt_downloads_as_signed_json(case, login_as):
    _issue()
    response = login_as("auditor").get("/audit/integrity/checkpoints/1.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="checkpoint-000001.json"'
    receipt = json.loads(response.data)
    assert checkpoints.check_signature(receipt) is None
    assert login_as("auditor").get("/audit/integrity/checkpoints/9.json").status_code == 404


def test_uploading_a_kept_receipt_says_it_verifies_and_stores_only_a_log_row(case, login_as):
    _issue()
    client = login_as("auditor")
    receipt = client.get("/audit/integrity/checkpoints/1.json").data
    before = _counts()
    response = _upload(client, ("checkpoint-000001.json", receipt))
    assert response.status_code == 200
    assert "校验通过" in response.get_data(as_text=True)
    assert _counts() == (before[0], before[1], before[2] + 1)
    entry = db.session.scalar(select(AuditLog).order_by(AuditLog.seq.desc()).limit(1))
    assert (entry.action, entry.actor_id, entry.detail["checkpoints"], entry.detail["ok"]) == (
        "receipt.verify", client.user.id, [1], True)


def test_after_tampering_the_page_names_the_first_case_and_sequence(case, login_as):
    receipt = checkpoints.receipt_json(_issue()).encode()
    with as_database_owner():
        db.session.execute(text("DELETE FROM case_event WHERE case_id = :c AND seq = 3"), {"c": case.id})
    html = _upload(login_as("auditor"), ("r.json", receipt)).get_data(as_text=True)
    assert "校验未通过" in html and f"案件 {case.ref} 第 3 条记录已被删除" in html


def test_a_forged_receipt_is_rejected_in_chinese(case, login_as):
    receipt = json.loads(checkpoints.receipt_json(_issue()))
    receipt["case_history"]["events"] = 2
    html = _upload(login_as("auditor"), ("r.json", json.dumps(receipt).encode())).get_data(as_text=True)
    assert "校验未通过" in html and "签名无效" in html


def test_a_file_that_is_not_a_receipt_is_refused_at_the_field(case, login_as):
    client = login_as("auditor")
    before = _counts()
    response = _upload(client, ("notes.json", b"hello"))
    assert response.status_code == 422
    assert "notes.json：文件不是有效的 JSON 回执。" in response.get_data(as_text=True)
    response = client.post("/audit/integrity/verify", data={})
    assert response.status_code == 422 and "请选择要校验的回执文件。" in response.get_data(as_text=True)
    assert _counts() == before


def test_htmx_gets_the_check_fragment_only(case, login_as):
    receipt = checkpoints.receipt_json(_issue()).encode()
    client = login_as("auditor")
    fragment = _upload(client, ("r.json", receipt), htmx=True)
    assert "<html" not in fragment.get_data(as_text=True) and "校验通过" in fragment.get_data(as_text=True)
    page = client.get("/audit/integrity", headers={"HX-Request": "true"})
    assert "<html" not in page.get_data(as_text=True)
    assert "<html" in client.get("/audit/integrity").get_data(as_text=True)


def test_the_case_page_says_whether_its_history_is_anchored(case, login_as):
    client = login_as("auditor")
    assert "尚未锚定" in client.get(f"/audit/cases/{case.id}").get_data(as_text=True)
    _issue()
    history.append(case, actor=None, kind="note", action="note", summary="之后", now=NOW)
    db.session.commit()
    html = client.get(f"/audit/cases/{case.id}").get_data(as_text=True)
    assert "已由第 1 号校验点锚定" in html and "第 1–3 条" in html and "第 4–4 条尚未锚定" in html
