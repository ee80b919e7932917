"""The audit trail 史带 can verify without trusting 英仕's database (issue 16; SPEC §7 "Audit", §8).

Append-only triggers on every record table; the audit log chained like a case history; signed checkpoints
whose receipts, kept by 史带, catch every deletion, truncation, rewrite and recomputed chain older than them —
naming the first case (or audit-log row) and sequence number affected. Tampering is done as the database
owner would: triggers dropped (helpers.as_database_owner), raw SQL, hashes recomputed where that helps."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from helpers import as_database_owner, case_with_notes, issued_receipt
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from portal import audit_keys, db_guards
from portal.domain import auditlog, checkpoints, history, reports
from portal.extensions import db
from portal.models import (
    AuditAnchor,
    AuditCheckpoint,
    AuditLog,
    CaseEvent,
    ConsentRecord,
    Document,
    Entitlement,
    EntitlementEntry,
    FormSubmission,
    InsurerDelivery,
    OutcomeCorrection,
    Restriction,
    ServiceRating,
    Transfer,
    WeeklyReport,
)

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(make_policy, make_user):
    """Two cases with three events each, an auditor's document views and refused writes in the audit log."""
    insured = make_policy()
    coord, auditor = make_user("coordinator"), make_user("auditor")
    cases = [case_with_notes(insured, actor=coord, notes=3, now=NOW) for _ in range(2)]
    for n in range(3):
        auditlog.record("document.view", actor=auditor, case_id=cases[0].id, detail={"n": n})
        auditlog.record("auditor.write_refused", actor=auditor, detail={"method": "POST", "path": f"/x/{n}"})
    db.session.commit()
    return cases


def _first(result):
    assert not result.ok
    return result.first


# ---- append-only in the database ---------------------------------------------------------------

def _one_row_of_every_guarded_table(world, make_user):
    """A row in each guarded table (the weekly report brings its checkpoint and anchors)."""
    case = world[0]
    entitlement = Entitlement(policy_id=case.policy_id, insured_id=case.insured_id, line_code="green_outpatient",
                              year_start=date(2026, 1, 1), year_end=date(2026, 12, 31), total=1)
    db.session.add(entitlement)
    db.session.flush()
    db.session.add(EntitlementEntry(entitlement_id=entitlement.id, case_id=case.id, kind="reserve", at=NOW))
    db.session.add(Document(case_id=case.id, kind="report", original_name="r.pdf", stored_name="delivered.pdf",
                            content_type="application/pdf", size=1, sha256="0" * 64, delivered_at=NOW))
    report = reports.build_weekly("2026-W23", built_by="test", now=NOW)
    db.session.add(InsurerDelivery(kind="weekly_report", weekly_report_id=report.id, title="2026-W23 周报",
                                   created_at=NOW))
    # issue 15: the insured's consent (made with the policy), a transfer abroad resting on it, a restriction
    consent_id = db.session.scalar(select(ConsentRecord.id).where(ConsentRecord.insured_id == case.insured_id))
    db.session.add(Transfer(case_id=case.id, consent_id=consent_id, recipient="Mayo Clinic", country="美国",
                            documents=[], action="choose_provider", at=NOW))
    db.session.add(Restriction(object_type="case_text", object_id=case.id, case_id=case.id,
                               reason="retention_expired", at=NOW))
    # issue 14: a rating, an outcome correction, an idempotency key
    db.session.add(ServiceRating(case_id=case.id, insured_id=case.insured_id, line_code=case.line_code, score=5,
                                 created_at=NOW))
    db.session.add(OutcomeCorrection(case_id=case.id, from_outcome="visited", to_outcome="no_show", reason="r",
                                     corrected_at=NOW))
    db.session.add(FormSubmission(key="0" * 32, purpose="case", created_at=NOW))
    db.session.commit()


#: what each UPDATE below changes: a frozen column (insurer_delivery freezes only what was delivered)
_CHANGE = {"insurer_delivery": "title = 'x'", "form_submission": "purpose = 'x'"}


@pytest.mark.parametrize("table", sorted(db_guards.GUARDED))
@pytest.mark.parametrize("statement", ["UPDATE {t} SET {change}", "DELETE FROM {t}"])
def test_raw_update_and_delete_are_refused_on_every_guarded_table(world, make_user, table, statement):
    _one_row_of_every_guarded_table(world, make_user)
    statement = statement.replace("{change}", _CHANGE.get(table, "id = id"))
    where = " WHERE delivered_at IS NOT NULL" if table == "document" else ""
    assert db.session.execute(text(f'SELECT count(*) FROM "{table}"{where}')).scalar() >= 1
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement.format(t=f'"{table}"') + where))
    db.session.rollback()


def test_postgresql_also_refuses_truncate(world, make_user):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("TRUNCATE case_event CASCADE"))
    db.session.rollback()


def test_documents_under_review_still_change_but_a_delivered_report_does_not(world):
    document = Document(case_id=world[0].id, kind="report", original_name="r.pdf", stored_name="r1.pdf",
                        content_type="application/pdf", size=1, sha256="0" * 64)
    db.session.add(document)
    db.session.commit()
    db.session.execute(text("UPDATE document SET review_status = 'accepted' WHERE id = :id"), {"id": document.id})
    db.session.execute(text("UPDATE document SET delivered_at = :now WHERE id = :id"),
                       {"id": document.id, "now": NOW.replace(tzinfo=None)})
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE document SET original_name = 'x.pdf' WHERE id = :id"), {"id": document.id})
    db.session.rollback()


def test_a_delivery_to_the_insurer_keeps_what_was_sent_but_takes_its_read_mark(world, make_user):
    _one_row_of_every_guarded_table(world, make_user)
    db.session.execute(text("UPDATE insurer_delivery SET read_at = :now, emailed_at = :now"),
                       {"now": NOW.replace(tzinfo=None)})
    db.session.commit()
    for change in ("document_ids = '[1]'", "case_id = :case", "created_at = :now"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(f"UPDATE insurer_delivery SET {change}"),
                               {"case": world[0].id, "now": datetime(2020, 1, 1)})
        db.session.rollback()


def test_an_idempotency_key_takes_the_case_it_made_but_keeps_its_key_and_owner(world):
    db.session.add(FormSubmission(key="1" * 32, purpose="case", created_at=NOW))
    db.session.commit()
    db.session.execute(text("UPDATE form_submission SET case_id = :case"), {"case": world[0].id})
    db.session.commit()
    for change in ("key = 'x'", "user_id = 1", "created_at = :now"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(f"UPDATE form_submission SET {change}"), {"now": datetime(2020, 1, 1)})
        db.session.rollback()


def test_every_guarded_table_has_its_triggers_at_head(app):
    postgres = db.engine.dialect.name == "postgresql"
    present = db_guards.installed(db.session)
    for table in db_guards.GUARDED:
        assert db_guards.expected_names(table, postgres=postgres) <= present, table


# ---- the audit log is a chain ------------------------------------------------------------------

def test_the_audit_log_is_chained_and_verifies(world):
    rows = db.session.scalars(select(AuditLog).order_by(AuditLog.seq)).all()
    assert [r.seq for r in rows] == list(range(1, 7))
    assert rows[0].prev_hash == history.ZERO_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    db.session.expire_all()
    assert auditlog.verify().ok and auditlog.verify().checked == 6


def test_an_edited_audit_row_is_named_by_the_chain_alone(world):
    with as_database_owner():
        db.session.execute(text("UPDATE audit_log SET action = 'case.view' WHERE seq = 4"))
    result = auditlog.verify()
    assert (result.broken[0].seq, "hash mismatch" in result.broken[0].problem) == (4, True)


# ---- receipts ------------------------------------------------------------------------------------

def test_an_untouched_database_verifies_clean_against_its_receipt(world):
    receipt = issued_receipt(NOW)
    assert (receipt["checkpoint"], receipt["case_history"], receipt["audit_log"]["length"]) == (
        1, {"cases": 2, "events": 6}, 6)
    assert receipt["public_key"] == audit_keys.public_hex()
    history.append(world[1], actor=None, kind="note", action="note", summary="之后的记录", now=NOW)
    db.session.commit()
    result = checkpoints.verify_receipts([receipt])
    assert result.ok, result.findings
    assert (result.events_checked, result.audit_checked) == (7, 6)
    assert result.summary().startswith("校验通过")


def test_each_checkpoint_covers_the_previous_one_and_anchors_only_what_is_new(world):
    first = issued_receipt(NOW)
    history.append(world[0], actor=None, kind="note", action="note", summary="新的", now=NOW)
    db.session.commit()
    second = issued_receipt(NOW)
    assert second["previous_head"] == first["head"]
    assert (second["anchors"]["count"], second["case_history"]["events"]) == (1, 7)
    assert checkpoints.verify_receipts([first, second]).ok


def test_scenario_1_deleting_the_last_event_of_a_case_is_named(world):
    receipt = issued_receipt(NOW)
    with as_database_owner():
        db.session.execute(text("DELETE FROM case_event WHERE case_id = :c AND seq = 3"), {"c": world[1].id})
    first = _first(checkpoints.verify_receipts([receipt]))
    assert (first.where, first.case_ref, first.seq) == ("case", world[1].ref, 3)
    assert f"案件 {world[1].ref} 第 3 条记录已被删除" in first.message


def test_scenario_2_deleting_a_whole_case_history_is_named(world):
    receipt = issued_receipt(NOW)
    with as_database_owner():
        db.session.execute(text("DELETE FROM case_event WHERE case_id = :c"), {"c": world[0].id})
    first = _first(checkpoints.verify_receipts([receipt]))
    assert (first.case_ref, first.seq) == (world[0].ref, 1)


def _rewrite_case_event_and_recompute(case_id: int, seq: int, summary: str) -> None:
    """Edit one event and recompute its hash and every later link, so the chain alone looks intact."""
    events = db.session.execute(select(*CaseEvent.__table__.c).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.seq)).mappings().all()
    prev = None
    with as_database_owner():
        for row in events:
            fields = dict(row)
            if row["seq"] == seq:
                fields["summary"] = summary
            if prev is not None:
                fields["prev_hash"] = prev
            if row["seq"] >= seq:
                fields["hash"] = history.compute_hash(fields)
                db.session.execute(text("UPDATE case_event SET summary = :s, prev_hash = :p, hash = :h WHERE id = :id"),
                                   {"s": fields["summary"], "p": fields["prev_hash"], "h": fields["hash"],
                                    "id": row["id"]})
            prev = fields["hash"]


def test_scenario_3_an_edited_event_with_a_recomputed_chain_is_named(world):
    receipt = issued_receipt(NOW)
    _rewrite_case_event_and_recompute(world[1].id, 2, "从未发生过")
    assert history.verify().ok  # the unkeyed chain alone no longer sees it
    first = _first(checkpoints.verify_receipts([receipt]))
    assert (first.case_ref, first.seq) == (world[1].ref, 2)
    assert "已被改写" in first.message


def test_scenario_4a_deleted_document_views_in_the_audit_log_are_named(world):
    receipt = issued_receipt(NOW)
    views = db.session.scalars(select(AuditLog.seq).where(AuditLog.action == "document.view")).all()
    with as_database_owner():
        db.session.execute(text("DELETE FROM audit_log WHERE action = 'document.view'"))
    first = _first(checkpoints.verify_receipts([receipt]))
    assert (first.where, first.seq) == ("audit_log", min(views))
    assert f"审计日志第 {min(views)} 条已被删除" in first.message


def test_scenario_4b_rewritten_refusals_with_a_recomputed_chain_are_named(world):
    receipt = issued_receipt(NOW)
    rows = db.session.execute(select(*AuditLog.__table__.c).order_by(AuditLog.seq)).mappings().all()
    refused = [r["seq"] for r in rows if r["action"] == "auditor.write_refused"]
    prev = None
    with as_database_owner():
        for row in rows:
            fields = dict(row)
            if row["action"] == "auditor.write_refused":
                fields["detail"] = {"method": "GET", "path": "/audit/"}
            if prev is not None:
                fields["prev_hash"] = prev
            fields["hash"] = auditlog.compute_hash(fields)
            db.session.execute(AuditLog.__table__.update().where(AuditLog.id == row["id"]).values(
                detail=fields["detail"], prev_hash=fields["prev_hash"], hash=fields["hash"]))
            prev = fields["hash"]
    assert auditlog.verify().ok
    first = _first(checkpoints.verify_receipts([receipt]))
    assert (first.where, first.seq) == ("audit_log", min(refused))
    assert "已被改写" in first.message


def test_rewriting_the_anchors_and_checkpoints_too_is_caught_by_the_receipt(world):
    receipt = issued_receipt(NOW)
    _rewrite_case_event_and_recompute(world[0].id, 1, "改写")
    with as_database_owner():  # the owner also throws away the checkpoint and issues a fresh one
        db.session.execute(text("DELETE FROM audit_anchor"))
        db.session.execute(text("DELETE FROM audit_checkpoint"))
    issued_receipt(NOW)
    first = _first(checkpoints.verify_receipts([receipt]))
    assert first.where == "checkpoint" and "与史带保存的回执不符" in first.message


def test_deleting_anchors_with_the_events_names_the_checkpoint(world):
    receipt = issued_receipt(NOW)
    with as_database_owner():
        db.session.execute(text("DELETE FROM case_event WHERE case_id = :c"), {"c": world[0].id})
        db.session.execute(text("DELETE FROM audit_anchor WHERE case_id = :c"), {"c": world[0].id})
    first = _first(checkpoints.verify_receipts([receipt]))
    assert (first.where, first.checkpoint) == ("checkpoint", 1)


def test_a_receipt_with_a_forged_signature_or_content_is_rejected(world):
    receipt = issued_receipt(NOW)
    forged = {**receipt, "case_history": {"cases": 2, "events": 5}}
    assert "签名无效" in _first(checkpoints.verify_receipts([forged])).message
    other = Ed25519PrivateKey.generate()
    resigned = {**receipt, "signature": other.sign(b"anything").hex()}
    assert "签名无效" in _first(checkpoints.verify_receipts([resigned])).message
    foreign_key = {**receipt, "key_id": audit_keys.key_id(other.public_key())}
    assert "不是用英仕当前公布的公钥签发的" in _first(checkpoints.verify_receipts([foreign_key])).message


def test_a_file_that_is_not_a_receipt_is_refused_in_chinese():
    with pytest.raises(checkpoints.ReceiptError, match="不是有效的 JSON"):
        checkpoints.parse_receipt(b"\xff not json")
    with pytest.raises(checkpoints.ReceiptError, match="不是本系统签发的校验点回执"):
        checkpoints.parse_receipt(b'{"type": "other"}')


def test_nightly_check_uses_the_stored_checkpoints(app, world):
    from portal import jobs

    issued_receipt(NOW)
    assert jobs.audit_verify(app, now=NOW + timedelta(days=1)).ok
    with as_database_owner():
        db.session.execute(text("DELETE FROM case_event WHERE case_id = :c AND seq = 3"), {"c": world[0].id})
    result = jobs.audit_verify(app, now=NOW + timedelta(days=2))
    assert (result.first.case_ref, result.first.seq) == (world[0].ref, 3)


def test_incremental_check_covers_what_was_written_since_the_last_checkpoint(world):
    issued_receipt(NOW)
    event = history.append(world[0], actor=None, kind="note", action="note", summary="新的", now=NOW)
    auditlog.record("case.view", case_id=world[0].id)
    db.session.commit()
    result = checkpoints.verify_since_latest()
    assert result.ok and (result.events_checked, result.audit_checked) == (1, 1)
    with as_database_owner():
        db.session.execute(text("UPDATE case_event SET summary = '改' WHERE id = :id"), {"id": event.id})
    first = _first(checkpoints.verify_since_latest())
    assert (first.case_ref, first.seq) == (world[0].ref, 4)


def test_the_weekly_report_carries_its_checkpoint(world):
    report = reports.build_weekly("2026-W23", built_by="test", now=NOW)
    db.session.commit()
    checkpoint = db.session.get(AuditCheckpoint, report.checkpoint_id)
    assert checkpoint.reason == "weekly 2026-W23" and checkpoint.event_count == 6


def test_a_case_shows_which_checkpoint_anchors_its_history(world):
    assert checkpoints.anchoring(world[0].id) is None
    issued_receipt(NOW)
    history.append(world[0], actor=None, kind="note", action="note", summary="新的", now=NOW)
    db.session.commit()
    assert checkpoints.anchoring(world[0].id) == (1, 3)
    assert db.session.query(AuditAnchor).count() == 12


# ---- the command line (SPEC §8) ------------------------------------------------------------------

def test_cli_checkpoint_writes_a_receipt_and_verify_checks_against_the_folder(world, runner, tmp_path):
    result = runner.invoke(args=["audit", "checkpoint", "--out", str(tmp_path / "r1.json")])
    assert result.exit_code == 0, result.output
    assert "第 1 号校验点已签发" in result.output
    result = runner.invoke(args=["audit", "verify", "--receipts", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "校验通过" in result.output and "against checkpoint 1" in result.output
    _rewrite_case_event_and_recompute(world[0].id, 2, "改写")
    result = runner.invoke(args=["audit", "verify", "--receipts", str(tmp_path)])
    assert result.exit_code == 1
    assert f"first broken link: case {world[0].ref}, seq 2" in result.output


def test_cli_checkpoint_without_out_prints_the_receipt(world, runner):
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0
    assert json.loads(result.output)["checkpoint"] == 1
    assert db.session.scalar(select(WeeklyReport)) is None


def test_cli_prints_the_public_key(runner):
    result = runner.invoke(args=["audit", "public-key"])
    assert result.exit_code == 0
    assert audit_keys.public_hex() in result.output and "BEGIN PUBLIC KEY" in result.output


def test_a_development_key_is_generated_once_in_the_instance_folder(tmp_path, monkeypatch):
    from portal import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True,
                      "AUDIT_SIGNING_KEY": None, "AUDIT_SIGNING_KEY_FILE": None})
    app.instance_path = str(tmp_path)
    with app.app_context():
        first = audit_keys.public_hex()
    assert (tmp_path / "audit_signing_key.pem").stat().st_mode & 0o777 == 0o600
    app.extensions.pop("audit_signing_key")
    with app.app_context():
        assert audit_keys.public_hex() == first
        monkeypatch.setenv("APP_ENV", "production")
        app.extensions.pop("audit_signing_key")
        (tmp_path / "audit_signing_key.pem").unlink()
        with pytest.raises(audit_keys.SigningKeyMissing):
            audit_keys.signing_key()
