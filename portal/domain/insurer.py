"""Reports sent to 史带 (SPEC §6): each one a row in the auditors' inbox and an e-mail to 史带's configured
address (the weekly report with its XLSX attached); an auditor marks it 已阅; 英仕's supervisor sees what is
undelivered or unread.

The e-mail leaves from `send_pending` (the scheduler's `insurer_mail` job), never inside the transaction that
records the delivery, so a rolled-back change sends nothing and a failed send is retried and stays visible.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from .. import calendar, mail
from ..extensions import db
from ..models import Case, Document, InsurerDelivery, WeeklyReport, utcnow
from . import auditlog
from .product_data import REPORT_KINDS

KINDS = {"case_report": "服务报告", "weekly_report": "每周服务进度报告"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def local_text(ts: datetime) -> str:
    return ts.astimezone(calendar.BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def _address() -> str | None:
    return (current_app.config.get("INSURER_REPORT_EMAIL") or "").strip() or None


def case_report(case, documents: list, *, now: datetime | None = None) -> InsurerDelivery:
    """A delivered second-opinion report, or the overseas-treatment service report with its bills."""
    names = "、".join(dict.fromkeys(REPORT_KINDS.get(d.kind, d.kind) for d in documents))
    line = case.policy.product.line(case.line_code)
    return _add("case_report", f"{case.ref} {line.name if line else case.line_code}：{names}",
                case_id=case.id, document_ids=[d.id for d in documents], now=now)


def weekly_report(report: WeeklyReport, *, now: datetime | None = None) -> InsurerDelivery:
    """A stored weekly report (every version); its XLSX goes with the e-mail."""
    return _add("weekly_report", f"英仕每周服务进度报告 {report.week}（第 {report.version} 版）",
                weekly_report_id=report.id, now=now)


def _add(kind: str, title: str, *, now: datetime | None, **fields) -> InsurerDelivery:
    row = InsurerDelivery(kind=kind, title=title[:200], created_at=now or utcnow(), email_to=_address(), **fields)
    db.session.add(row)
    db.session.flush()
    return row


def send_pending(weekly_file: Callable[[WeeklyReport], bytes], *, now: datetime | None = None) -> int:
    """E-mail every delivery not yet sent to 史带's address, the weekly report with `weekly_file(report)` (its XLSX)
    attached; returns how many left. The one place these e-mails leave from; the caller commits."""
    now = now or utcnow()
    sent = 0
    for row in db.session.scalars(select(InsurerDelivery).where(
            InsurerDelivery.emailed_at.is_(None), InsurerDelivery.email_to.is_not(None))
            .order_by(InsurerDelivery.id)):
        subject, body, attachments = _message(row, weekly_file)
        try:
            mail.deliver(row.email_to, subject, body, attachments=attachments)
        except mail.DeliveryError as error:  # kept unsent: the next run tries again; the supervisor sees why
            row.email_error = f"邮件未能发出（{local_text(now)}）：{error}"[:300]
            continue
        row.emailed_at, row.email_error = now, None
        sent += 1
    db.session.flush()
    return sent


def _message(row: InsurerDelivery, weekly_file) -> tuple[str, str, list]:
    """Subject, body and attachments; no personal or health data in the e-mail — the portal holds the files."""
    body = [f"{KINDS.get(row.kind, row.kind)}：{row.title}", "",
            "请登录史带服务监督平台查阅，并在“报告收件箱”中标记已阅。", "（本邮件由英仕重疾就医保服务平台自动发送）"]
    attachments = []
    if row.kind == "weekly_report":
        report = db.session.get(WeeklyReport, row.weekly_report_id)
        attachments.append((f"weekly-report-{report.week}-v{report.version}.xlsx", weekly_file(report), XLSX))
        body.insert(2, "报告全文见附件（XLSX）。")
    return f"【重疾就医保】{row.title}", "\n".join(body), attachments


def mark_read(row: InsurerDelivery, *, actor, ip: str | None = None, now: datetime | None = None) -> bool:
    """An auditor marks a delivery 已阅 — the auditor's only write, audited; False when it already was."""
    if row.read_at is not None:
        return False
    row.read_at, row.read_by_id = now or utcnow(), actor.id
    db.session.flush()
    auditlog.record("insurer_delivery.read", obj=row, actor=actor, ip=ip, case_id=row.case_id,
                    detail={"kind": row.kind, "title": row.title})
    return True


@dataclass(frozen=True)
class Status:
    """What the supervisor sees: totals and the deliveries not yet e-mailed or not yet read."""

    unsent: int
    unread: int


def status() -> Status:
    """Counts of deliveries not e-mailed (address configured but not sent) and not read by any auditor."""
    unsent = db.session.scalar(select(func.count(InsurerDelivery.id)).where(
        InsurerDelivery.emailed_at.is_(None), InsurerDelivery.email_to.is_not(None)))
    unread = db.session.scalar(select(func.count(InsurerDelivery.id)).where(InsurerDelivery.read_at.is_(None)))
    return Status(unsent or 0, unread or 0)


def listing(*, only_open: bool = False):
    """Deliveries newest first, with their case (a select to paginate)."""
    stmt = select(InsurerDelivery).order_by(InsurerDelivery.created_at.desc(), InsurerDelivery.id.desc())
    if only_open:
        stmt = stmt.where((InsurerDelivery.read_at.is_(None)) | (InsurerDelivery.emailed_at.is_(None)
                                                                  & InsurerDelivery.email_to.is_not(None)))
    return stmt


def documents_of(row: InsurerDelivery) -> list[Document]:
    if not row.document_ids:
        return []
    return list(db.session.scalars(select(Document).where(Document.id.in_(row.document_ids)).order_by(Document.id)))


def case_of(row: InsurerDelivery) -> Case | None:
    return db.session.get(Case, row.case_id) if row.case_id else None
