"""The upload reconciler (issue 18 item 4): files no document row references are quarantined, counted, audited."""

import io
import os
import time
from pathlib import Path

from helpers import PDF
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import jobs
from portal.domain import documents, orphans
from portal.extensions import db
from portal.models import AuditLog, Case


def _case(make_policy):
    person = make_policy()
    case = Case(ref="ZJORPHAN-1", policy_id=person.policy_id, insured_id=person.id, line_code="green_outpatient",
                status="in_service")
    db.session.add(case)
    db.session.commit()
    return case


def _stored(root: Path, name: str, *, hours_old: float) -> Path:
    path = root / name[:2] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    stamp = time.time() - hours_old * 3600
    os.utime(path, (stamp, stamp))
    return path


def test_only_old_unreferenced_files_are_quarantined_and_counted_once(app, make_policy):
    case = _case(make_policy)
    kept = documents.save_upload(case, FileStorage(io.BytesIO(PDF), filename="病历.pdf"), kind="medical_record",
                                 actor=None)
    db.session.commit()
    root = documents.upload_root()
    referenced = documents.path_of(kept)
    stamp = time.time() - 3 * 3600
    os.utime(referenced, (stamp, stamp))
    orphan = _stored(root, "ab" + "0" * 30 + ".pdf", hours_old=2)  # written, then the worker was killed
    partial = _stored(root, "cd" + "0" * 30 + ".part", hours_old=2)  # an interrupted write
    fresh = _stored(root, "ef" + "0" * 30 + ".pdf", hours_old=0.1)  # may still be committing

    result = orphans.reconcile()
    db.session.commit()
    assert result == orphans.ReconcileResult(checked=4, quarantined=2)
    assert referenced.exists() and fresh.exists() and not orphan.exists() and not partial.exists()
    assert (root / "quarantine" / "ab" / orphan.name).read_bytes() == PDF  # kept for inspection
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "upload.orphans_quarantined"))
    assert entry.detail["count"] == 2 and entry.actor_role == "system"
    assert orphans.reconcile() == orphans.ReconcileResult(checked=2, quarantined=0)


def test_the_hourly_job_and_the_command_report_the_count(app, runner):
    root = documents.upload_root()
    _stored(root, "ab" + "1" * 30 + ".pdf", hours_old=2)
    assert jobs.reconcile_uploads(app).quarantined == 1
    _stored(root, "ab" + "2" * 30 + ".pdf", hours_old=0.5)
    output = runner.invoke(args=["uploads", "reconcile", "--older-than-minutes", "10"]).output
    assert "隔离无记录引用的文件 1 个" in output
