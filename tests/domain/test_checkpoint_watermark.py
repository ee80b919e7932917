"""What an audit checkpoint reads (issue 20; portal.domain.event_watermark): only what its predecessor cannot
have seen, and still every event — also one that commits a lower id after a checkpoint (PostgreSQL)."""

from datetime import UTC, datetime

import pytest
from helpers import case_with_notes, issued_receipt
from sqlalchemy import insert, select, text

from portal.domain import auditlog, checkpoints, event_watermark, history
from portal.extensions import db
from portal.models import AuditAnchor, AuditCheckpoint, AuditLog, Case, CaseEvent

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the xid watermark is PostgreSQL's (SQLite keeps its id watermark)")


@pytest.fixture
def cases(make_policy, make_user):
    """Three cases with two events each, committed."""
    insured, coord = make_policy(), make_user("coordinator")
    made = [case_with_notes(insured, actor=coord, notes=2, now=NOW) for _ in range(3)]
    db.session.commit()
    return made


def _note(case: Case, summary: str) -> CaseEvent:
    event = history.append(case, actor=None, kind="note", action="note", summary=summary, now=NOW)
    db.session.commit()
    return event


def _anchored_by(case_id: int, seq: int) -> int | None:
    return db.session.scalar(select(AuditAnchor.checkpoint_id).where(AuditAnchor.case_id == case_id,
                                                                     AuditAnchor.seq == seq))


def _append_on(connection, case_id: int, summary: str, **columns) -> tuple[int, int]:
    """The next link of a case's chain written on another connection (another transaction): (id, seq)."""
    tail = connection.execute(select(CaseEvent.seq, CaseEvent.hash).where(CaseEvent.case_id == case_id)
                              .order_by(CaseEvent.seq.desc()).limit(1)).one()
    fields = history._fields(case_id, tail, actor=None, kind="note", action="note", summary=summary, now=NOW)
    new_id = connection.execute(insert(CaseEvent.__table__).values(
        **fields, hash=history.compute_hash(fields), **columns).returning(CaseEvent.id)).scalar_one()
    return new_id, fields["seq"]


def test_an_event_that_commits_a_lower_id_after_a_checkpoint_is_anchored_by_the_next(postgres, cases):
    """Transaction A takes an event id and stays open; B takes a higher one and commits; checkpoint N sees B
    only. When A commits, checkpoint N+1 must anchor A's event although its id is below everything N saw."""
    issued_receipt(NOW)  # the daily checkpoint: N-1, so that N and N+1 read from a watermark
    with db.engine.connect() as other:
        late_id, late_seq = _append_on(other, cases[0].id, "先取号、后提交的记录")
        early = _note(cases[1], "后取号、先提交的记录")
        assert early.id > late_id
        first = issued_receipt(NOW)
        assert _anchored_by(cases[1].id, early.seq) == first["checkpoint"]
        assert _anchored_by(cases[0].id, late_seq) is None  # not visible to checkpoint N
        other.commit()
    since = checkpoints.verify_since_latest()
    assert since.ok and since.events_checked == 1  # the late event is "written since" checkpoint N
    second = issued_receipt(NOW)
    assert _anchored_by(cases[0].id, late_seq) == second["checkpoint"]
    assert second["case_history"]["events"] == 8 and second["anchors"]["count"] == 1
    result = checkpoints.verify_receipts([first, second])
    assert result.ok and result.events_checked == 8


def test_an_audit_row_committed_after_a_checkpoint_is_anchored_by_the_next(postgres, cases):
    """The audit log's appends hold their advisory lock until commit, so rows commit in seq order: a checkpoint
    taken while one is open sees the rows before it, and the next checkpoint anchors it."""
    auditlog.record("case.view", case_id=cases[0].id)
    db.session.commit()
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_advisory_xact_lock(16001)"))  # as portal.domain.auditlog.append
        tail = other.execute(select(AuditLog.seq, AuditLog.hash).order_by(AuditLog.seq.desc()).limit(1)).one()
        fields = {"seq": tail.seq + 1, "at": NOW, "actor_id": None, "actor_role": "system", "action": "case.view",
                  "object_type": None, "object_id": None, "case_id": cases[1].id, "detail": {}, "ip": None,
                  "prev_hash": tail.hash}
        other.execute(insert(AuditLog).values(**fields, hash=auditlog.compute_hash(fields)))
        first = issued_receipt(NOW)
        assert first["audit_log"]["length"] == tail.seq
        other.commit()
    second = issued_receipt(NOW)
    assert second["audit_log"]["length"] == tail.seq + 1
    assert checkpoints.verify_receipts([first, second]).ok


def test_a_new_event_records_its_transaction(postgres, cases):
    event = history.append(cases[0], actor=None, kind="note", action="note", summary="新的", now=NOW)
    db.session.flush()
    assert db.session.scalar(text("SELECT xid = pg_current_xact_id()::text::bigint FROM case_event WHERE id = :id"),
                             {"id": event.id})
    db.session.commit()
    assert db.session.get(CaseEvent, event.id).xid > 0


def test_a_checkpoint_stores_its_watermark_outside_the_receipt(cases):
    receipt = issued_receipt(NOW)
    stored = db.session.get(AuditCheckpoint, receipt["checkpoint"])
    if db.engine.dialect.name == "postgresql":
        assert stored.event_xid_from > 0 and stored.pg_cluster is not None
    else:
        assert (stored.event_xid_from, stored.pg_cluster) == (None, None)
    assert set(receipt) == {"type", "version", *checkpoints.HEAD_FIELDS, "head", "key_id", "public_key",
                            "signature"}


def test_the_issuers_own_new_events_are_anchored_by_its_checkpoint(cases):
    issued_receipt(NOW)
    event = history.append(cases[2], actor=None, kind="note", action="note", summary="同一事务", now=NOW)
    checkpoint = checkpoints.issue(reason="test", now=NOW)
    db.session.commit()
    assert _anchored_by(cases[2].id, event.seq) == checkpoint.id


def _event_below_the_watermark(case: Case) -> int:
    """An unanchored event whose xid claims a transaction finished long ago — what the watermark proves
    cannot exist — so a test can see which checkpoints read below it."""
    with db.engine.connect() as other:
        other.execute(text("ALTER TABLE case_event DISABLE TRIGGER case_event_xid"))  # as only the owner can
        _, seq = _append_on(other, case.id, "xid 很小的记录", xid=3)
        other.execute(text("ALTER TABLE case_event ENABLE TRIGGER case_event_xid"))
        other.commit()
    return seq


@pytest.mark.parametrize("named", [3, None])
def test_an_insert_cannot_choose_the_transaction_its_event_records(postgres, cases, named):
    """The app role may INSERT: an event naming a finished transaction (or none) would sit below every later
    watermark, never anchored and never checked by verify_since_latest."""
    issued_receipt(NOW)
    with db.engine.connect() as other:
        _, seq = _append_on(other, cases[0].id, "自报 xid 的记录", xid=named)
        other.commit()
    stored = db.session.scalar(select(CaseEvent.xid).where(CaseEvent.case_id == cases[0].id, CaseEvent.seq == seq))
    assert stored is not None and stored != named
    assert checkpoints.verify_since_latest().events_checked == 1
    second = issued_receipt(NOW)
    assert _anchored_by(cases[0].id, seq) == second["checkpoint"]


def test_a_checkpoint_reads_only_from_its_predecessors_watermark(postgres, cases):
    issued_receipt(NOW)
    seq = _event_below_the_watermark(cases[0])
    issued_receipt(NOW)
    assert _anchored_by(cases[0].id, seq) is None


@pytest.mark.parametrize(("patched", "value"), [("take", None), ("_cluster", None), ("_cluster", 42)],
                         ids=["before-the-migration", "cluster-unreadable", "another-cluster"])
def test_without_a_watermark_of_this_cluster_the_next_checkpoint_checks_every_event(postgres, cases, monkeypatch,
                                                                                    patched, value):
    """A checkpoint issued before migration j21c_event_xid (no watermark stored), by a role that may not read
    pg_control_system(), or on the cluster a dump came from: the one after it anchors every unanchored event."""
    monkeypatch.setattr(event_watermark, patched, lambda: value)
    first = issued_receipt(NOW)
    monkeypatch.undo()
    stored = db.session.get(AuditCheckpoint, first["checkpoint"])
    assert stored.pg_cluster == value and (stored.event_xid_from is None) == (patched == "take")
    seq = _event_below_the_watermark(cases[0])
    second = issued_receipt(NOW)
    assert _anchored_by(cases[0].id, seq) == second["checkpoint"]
    later = _note(cases[1], "之后")
    third = issued_receipt(NOW)  # back on the watermark
    assert third["anchors"]["count"] == 1 and _anchored_by(cases[1].id, later.seq) == third["checkpoint"]
    assert checkpoints.verify_receipts([second, third]).ok


def test_a_role_that_may_not_read_the_cluster_identity_takes_no_watermark(postgres, cases):
    """Revoked from PUBLIC, pg_control_system() would fail the checkpoint; instead it records no cluster, and the
    next checkpoint checks every event (all undone by the rollback: roles and grants are transactional)."""
    db.session.execute(text("CREATE ROLE j21c_no_control NOLOGIN"))
    db.session.execute(text("REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC"))
    db.session.execute(text("SET LOCAL ROLE j21c_no_control"))
    watermark = event_watermark.take()
    db.session.rollback()
    assert watermark.cluster is None and watermark.xmin > 0
    assert event_watermark.take().cluster is not None
