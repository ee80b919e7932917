"""While a case waits on the insured (SPEC §4, issue 14): reminders on working days after the product's
numbers of working days, and at its limit an alert asking the coordinator to terminate with materials_missing
(seed: 因无法提交相应医疗资料导致无法进行服务，则服务终止).

Run by the scheduler once each working day; safe to run any number of times: every reminder has a unique
notification key (`reminder:<request>:<n>`) and the alert a unique alert key (`materials_missing:<request>`),
so a second run, or a racing one, sends nothing. A run after days off sends each reminder that fell due once.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import calendar
from ..extensions import db
from ..models import Case, DocumentRequest, Policy, utcnow
from . import notify
from .handlers.base import service_name
from .product_data import DOCUMENT_KINDS, HOTLINE
from .sweep import raise_alert


@dataclass(frozen=True)
class ReminderResult:
    """What this run newly sent: reminders to the insured, materials-missing alerts to coordinators."""

    reminders: int = 0
    alerts: int = 0


def run(now: datetime | None = None) -> ReminderResult:
    """Send what is due today; nothing on a day off (the caller commits)."""
    now = now or utcnow()
    today = calendar.business_today(now)
    if not calendar.is_working_day(today):
        return ReminderResult()
    reminders = alerts = 0
    for case, request in _waiting(now):
        product = case.policy.product
        asked_on = calendar.to_business_date(request.requested_at)
        waited = calendar.working_days_between(asked_on, today)
        limit = product.materials_limit_days
        last_day = calendar.add_working_days(asked_on, limit)
        for days in sorted(d for d in product.reminder_days or [] if d < limit):
            if waited >= days:
                reminders += _tell(case, f"reminder:{request.id}:{days}", "请尽快补充资料",
                                   f"您的{service_name(case)}仍在等待您补充：{_kinds(request)}。"
                                   f"请于 {calendar.format_cn_date(last_day, today=today)}前上传；"
                                   f"逾期仍无法提供的，根据服务细则，服务将终止。如有困难请致电 {HOTLINE}。")
        if waited >= limit:
            reminders += _tell(case, f"reminder:{request.id}:limit", "补充资料已逾期",
                               f"您的{service_name(case)}所需资料（{_kinds(request)}）已超过补充期限。"
                               "协调员将与您联系；如仍无法提供，服务将终止。")
            alerts += raise_alert(
                key=f"materials_missing:{request.id}", kind="materials_missing", case_id=case.id, now=now,
                recipient_id=case.assignee_id if case.assignee is not None and case.assignee.active else None,
                message=f"案件 {case.ref} 等待客户补充资料已满 {limit} 个工作日（{_kinds(request)}），"
                        "请联系客户，如仍无法提供请以“无法提供服务所需的医疗资料”终止服务。")
    return ReminderResult(reminders, alerts)


def _waiting(now: datetime) -> list[tuple[Case, DocumentRequest]]:
    """Each case awaiting documents with its oldest unanswered request."""
    rows = db.session.execute(
        select(Case, DocumentRequest).join(DocumentRequest, DocumentRequest.case_id == Case.id)
        .where(Case.status == "awaiting_documents", DocumentRequest.resolved_at.is_(None),
               DocumentRequest.requested_at <= now)
        .options(selectinload(Case.policy).selectinload(Policy.product), selectinload(Case.assignee))
        .order_by(Case.id, DocumentRequest.id)).all()
    oldest = {}
    for case, request in rows:
        oldest.setdefault(case.id, (case, request))
    return list(oldest.values())


def _kinds(request: DocumentRequest) -> str:
    return "、".join(DOCUMENT_KINDS.get(kind, kind) for kind in request.kinds)


def _tell(case, key: str, title: str, body: str) -> int:
    """The one place reminders reach the insured (inbox and e-mail through notify); 1 when newly sent."""
    return int(notify.insured(case, title, body, key=key) is not None)
