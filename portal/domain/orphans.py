"""Stored upload files that no document row references (issue 18): quarantined, never served, never lost.

An upload is written to disk before its transaction commits (the row needs the stored name and checksum);
a rollback removes the file (portal.transaction.on_rollback), but a worker killed between the write and the
COMMIT leaves it behind. The hourly reconciler of the scheduler moves every such file — and every stale
`.part` of an interrupted write — that is older than ORPHAN_UPLOAD_MINUTES into UPLOAD_DIR/quarantine/
(kept for inspection: nothing is hard-deleted) and records how many it moved in the audit log.
"""

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from ..extensions import db
from ..models import Document, utcnow
from . import auditlog
from .batching import chunks
from .documents import upload_root

QUARANTINE = "quarantine"


@dataclass(frozen=True)
class ReconcileResult:
    """How many stored files were looked at and how many of them were orphans moved to quarantine."""

    checked: int
    quarantined: int


def reconcile(now: datetime | None = None, *, older_than: timedelta = timedelta(hours=1)) -> ReconcileResult:
    """Quarantine stored files older than `older_than` that no document row references; the caller commits."""
    root = upload_root()
    cutoff = (now or utcnow()).timestamp() - older_than.total_seconds()
    candidates: dict[str, Path] = {}
    checked = 0
    for path in root.glob("*/*"):  # the layout of documents.save_upload: <first two characters>/<stored name>
        if path.parent.name == QUARANTINE or not path.is_file():
            continue
        checked += 1
        if path.stat().st_mtime < cutoff:
            candidates[path.name] = path
    referenced: set[str] = set()
    for chunk in chunks(sorted(candidates)):
        referenced.update(db.session.scalars(select(Document.stored_name).where(Document.stored_name.in_(chunk))))
    moved = []
    for name, path in sorted(candidates.items()):
        if name in referenced:
            continue
        target = root / QUARANTINE / path.parent.name / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        moved.append(f"{path.parent.name}/{name}")
    if moved:
        auditlog.record("upload.orphans_quarantined", detail={"count": len(moved), "files": moved[:100]})
    return ReconcileResult(checked, len(moved))
