"""Uploaded files: checked by content, stored outside static under random names with SHA-256 (issue 4)."""

import hashlib
import os
import secrets
import unicodedata
from datetime import datetime
from pathlib import Path

from flask import current_app

from ..extensions import db
from ..models import STAFF_ROLES, Document
from ..transaction import on_rollback
from . import history
from .errors import DomainError
from .product_data import DOCUMENT_KINDS, REPORT_KINDS
from .sweep import raise_alert

#: content type → extension; anything else is refused
ACCEPTED = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic", "application/pdf": "pdf"}
ACCEPTED_LABEL = "JPG、PNG、HEIC 照片或 PDF"
#: the extensions a name may carry for each accepted type (a name without one is judged by content alone)
EXTENSIONS = {"image/jpeg": {"jpg", "jpeg", "jfif"}, "image/png": {"png"}, "image/heic": {"heic", "heif"},
              "application/pdf": {"pdf"}}
TYPE_LABELS = {"image/jpeg": "JPG 照片", "image/png": "PNG 图片", "image/heic": "HEIC 照片",
               "application/pdf": "PDF 文件"}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_CHUNK = 64 * 1024
MAX_NAME = 120


def sniff(head: bytes) -> str | None:
    """The content type told by the file's first bytes, never by its name."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "image/heic"
    return None


def name_problem(filename: str) -> str | None:
    """Refuse names that hide a path, control or direction-override characters, or run too long."""
    if not filename or not filename.strip():
        return "文件名为空，请重新选择文件。"
    if "/" in filename or "\\" in filename or filename.strip(". ") == "" or ".." in filename:
        return "文件名不能包含路径（如 / \\ ..），请重命名后再上传。"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in filename):
        return "文件名含有不可见或特殊控制字符，请重命名后再上传。"
    if len(filename) > MAX_NAME:
        return f"文件名太长（超过 {MAX_NAME} 个字符），请重命名后再上传。"
    return None


def extension_problem(filename: str, content_type: str) -> str | None:
    """A name whose extension says another type than the content (“x.pdf.exe”, a photo named “.pdf”)."""
    # trailing dots and spaces are dropped by Windows when the file is saved: "x.exe." is an .exe
    stem, dot, suffix = filename.rstrip(". ").rpartition(".")
    if not dot or not stem or suffix.lower() in EXTENSIONS[content_type]:
        return None
    return f"文件扩展名“.{suffix[:10]}”与文件内容（{TYPE_LABELS[content_type]}）不符，请确认文件后重新上传。"


def save_upload(case, file_storage, *, kind: str, actor) -> Document:
    """Check and store one uploaded file for `case`; raises DomainError (nothing written) if refused."""
    if kind not in DOCUMENT_KINDS and kind not in REPORT_KINDS:
        raise DomainError("请选择资料类型。", "kind")
    filename = unicodedata.normalize("NFC", file_storage.filename or "")
    label = filename or "文件"
    if problem := name_problem(filename):
        raise DomainError(f"“{label[:40]}”：{problem}", "files")
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    stream = file_storage.stream
    head = stream.read(_CHUNK)
    if not head:
        raise DomainError(f"“{label}”是空文件，请重新选择。", "files")
    content_type = sniff(head)
    if content_type is None:
        raise DomainError(f"“{label}”不是可接受的文件类型（仅支持 {ACCEPTED_LABEL}）。", "files")
    if kind in REPORT_KINDS and content_type != "application/pdf":
        raise DomainError(f"“{label}”：报告须为 PDF 文件。", "files")
    if problem := extension_problem(filename, content_type):
        raise DomainError(f"“{label}”：{problem}", "files")
    stored_name = f"{secrets.token_hex(16)}.{ACCEPTED[content_type]}"
    target = upload_root() / stored_name[:2] / stored_name
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    partial = target.with_suffix(".part")
    try:
        with open(partial, "wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise DomainError(f"“{label}”超过单个文件 {size_label(limit)} 的上限。", "files")
                digest.update(chunk)
                out.write(chunk)
                chunk = stream.read(_CHUNK)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _remove_on_rollback(db.session, target)
    document = Document(case_id=case.id, kind=kind, original_name=filename, stored_name=stored_name,
                        content_type=content_type, size=size, sha256=digest.hexdigest(),
                        uploaded_by_id=getattr(actor, "id", None))
    db.session.add(document)
    db.session.flush()
    return document


def record_upload(case, documents: list[Document], *, actor, now: datetime | None = None) -> None:
    """Write freshly saved uploads into the case history; when the insured uploaded them, alert whoever
    reviews them (the assigned coordinator, or every supervisor while the case is unassigned)."""
    kinds = "、".join(dict.fromkeys(kind_label(d.kind) for d in documents))
    by_staff = actor.role in STAFF_ROLES
    history.append(case, actor=actor, kind="document", action="documents_uploaded",
                   summary=f"{'代客户' if by_staff else '客户'}上传资料：{kinds}（共 {len(documents)} 个文件）",
                   data={"document_ids": [d.id for d in documents]}, now=now)
    from .waiting import resume_if_supplied  # waiting → lifecycle → handlers → documents

    resumed = resume_if_supplied(case, actor=actor, now=now)
    if by_staff:
        return  # staff filed it themselves: nobody needs to be told
    assignee = case.assignee
    reviewer = assignee if assignee is not None and assignee.active and assignee.role in STAFF_ROLES else None
    raise_alert(key=f"upload:{case.id}:{documents[0].id}", kind="documents_uploaded", case_id=case.id,
                recipient_id=getattr(reviewer, "id", None), now=now,
                message=f"案件 {case.ref} 的客户上传了资料：{kinds}（共 {len(documents)} 个文件），"
                        + ("所要求的资料已齐，服务时限已恢复计算，请尽快审核。" if resumed else "请审核。"))


def size_label(limit: int) -> str:
    """10 MB, 1.5 MB, 500 KB: the limit as people read it."""
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{max(1, limit // 1024)} KB"


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def path_of(document: Document) -> Path:
    """Where the file of `document` lives on disk."""
    return upload_root() / document.stored_name[:2] / document.stored_name


def kind_label(kind: str) -> str:
    return DOCUMENT_KINDS.get(kind) or REPORT_KINDS.get(kind, kind)


def active_documents(case) -> list[Document]:
    return [d for d in case.documents if d.withdrawn_at is None]


def missing_kinds(case, *, accepted_only: bool = False) -> list[str]:
    """Required kinds of the case's line with no upload that is pending or accepted (the checklist);
    with accepted_only, those no coordinator has accepted yet (what materials_complete waits for)."""
    line = case.policy.product.line(case.line_code)
    counted = ("accepted",) if accepted_only else ("pending", "accepted")
    have = {d.kind for d in active_documents(case) if d.review_status in counted}
    return [kind for kind in (line.required_documents if line else []) if kind not in have]


def _remove_on_rollback(session, path: Path) -> None:
    """The row never lands if the transaction rolls back, so the file must not stay behind."""
    on_rollback(session, lambda: path.unlink(missing_ok=True))
