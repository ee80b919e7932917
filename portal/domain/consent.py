"""Separate consent (单独同意) to process health data and ID numbers, and its withdrawal (SPEC §7 Consent).

Every record is a new append-only row: the current state is the newest row of the insured's `processing`
consents. A consent counts only for the notice version in effect today, so a new version asks again.
"""

from datetime import datetime

from sqlalchemy import bindparam, select

from ..calendar import business_today
from ..extensions import db
from ..models import OPEN_STATUSES, Case, ConsentRecord, Notice, utcnow
from .errors import DomainError
from .product_data import HOTLINE

PROCESSING = "processing"
CROSS_BORDER = "cross_border"
#: the message every channel shows when a case would be created without consent
NO_CONSENT = ("尚未取得被保险人对处理健康信息和证件号码的单独同意，不能创建案件。"
              "请先阅读《个人信息处理告知书》并勾选同意（热线：向来电人宣读后记录其口头同意）。")
WITHDRAWN_REASON = "consent_withdrawn"


def current_notice(kind: str = "privacy", now: datetime | None = None) -> Notice | None:
    """The newest version of the notice whose effective date has come (Asia/Shanghai)."""
    return db.session.scalar(select(Notice).where(Notice.kind == kind,
                                                  Notice.effective_from <= business_today(now))
                             .order_by(Notice.version.desc()).limit(1))


def latest(insured, purpose: str = PROCESSING) -> ConsentRecord | None:
    """The insured's newest processing consent record (given or withdrawn), or None."""
    return db.session.scalar(select(ConsentRecord).where(ConsentRecord.insured_id == insured.id,
                                                         ConsentRecord.purpose == purpose)
                             .order_by(ConsentRecord.id.desc()).limit(1))


def has_consent(insured, now: datetime | None = None) -> bool:
    """True when the insured's newest record is a consent to the privacy notice in effect now."""
    return has_consent_of(insured.id, now)


def has_consent_of(insured_id: int, now: datetime | None = None) -> bool:
    """has_consent by the insured's id, in one statement (every insured page asks, through the consent gate)."""
    return db.session.scalar(_HAS_CONSENT, {"insured_id": insured_id, "today": business_today(now)}) is not None


#: the insured's newest processing record, if it is a consent to the newest notice in effect; built once
_HAS_CONSENT = select(ConsentRecord.id).where(
    ConsentRecord.id == select(ConsentRecord.id).where(ConsentRecord.insured_id == bindparam("insured_id"),
                                                       ConsentRecord.purpose == PROCESSING)
    .order_by(ConsentRecord.id.desc()).limit(1).scalar_subquery(),
    ConsentRecord.action == "given",
    ConsentRecord.notice_id == select(Notice.id).where(Notice.kind == "privacy",
                                                       Notice.effective_from <= bindparam("today"))
    .order_by(Notice.version.desc()).limit(1).scalar_subquery())


def require_consent(insured, now: datetime | None = None) -> None:
    """Refuse (DomainError) unless the insured has consented to the notice in effect: no case without it."""
    if not has_consent(insured, now):
        raise DomainError(NO_CONSENT, "consent")


def give(insured, *, actor, channel: str, notice: Notice | None = None, ip: str | None = None,
         now: datetime | None = None) -> ConsentRecord:
    """Record the insured's consent to `notice` (default: the one in effect): on the portal by the insured
    themselves, or on the hotline by the coordinator who read it aloud and heard the verbal consent."""
    now = now or utcnow()
    notice = notice or current_notice("privacy", now)
    if notice is None or notice.kind != "privacy":
        raise DomainError("没有可同意的告知书版本，请联系英仕。")
    _check_actor(insured, actor, channel)
    record = ConsentRecord(insured_id=insured.id, purpose=PROCESSING, action="given", notice_id=notice.id,
                           channel=channel, ip=ip, at=now, **_who(actor))
    db.session.add(record)
    db.session.flush()
    return record


def withdraw(insured, *, actor, channel: str, note: str = "", ip: str | None = None,
             now: datetime | None = None) -> tuple[ConsentRecord, list[Case]]:
    """Withdraw consent: record it, then stop every open case of the insured (each depends on it) with its
    own termination reason (the unit released). Returns the record and the cases stopped."""
    from . import lifecycle

    now = now or utcnow()
    _check_actor(insured, actor, channel)
    current = latest(insured)
    if current is None or current.action != "given":
        raise DomainError("当前没有有效的同意可以撤回。")
    record = ConsentRecord(insured_id=insured.id, purpose=PROCESSING, action="withdrawn",
                           notice_id=current.notice_id, channel=channel, ip=ip, at=now,
                           note=(note or "").strip()[:300] or None, **_who(actor))
    db.session.add(record)
    db.session.flush()
    stopped = []
    for case in db.session.scalars(select(Case).where(Case.insured_id == insured.id,
                                                      Case.status.in_(OPEN_STATUSES)).order_by(Case.id)):
        who = "被保险人" if actor.role == "insured" else f"{actor.display_name}（热线记录）"
        lifecycle.terminate_by_rule(
            case, reason=WITHDRAWN_REASON, actor=actor, now=now,
            summary=f"{who}撤回个人信息处理同意（记录 {record.id}），服务依规终止，已占用的服务次数退回。",
            data={"consent_record_id": record.id, "channel": channel},
            notice=("服务已终止", "您已撤回对处理健康信息和证件号码的同意，我们无法继续处理您的资料，"
                    f"因此终止了您的申请（编号 {case.ref}），占用的服务次数已退回。如需继续服务，"
                    f"可在“我的资料与授权”重新同意后再次申请，或致电 {HOTLINE}。"))
        stopped.append(case)
    return record, stopped


def records(insured) -> list[ConsentRecord]:
    """Every consent record of the insured, newest first (their privacy page and data download)."""
    return list(db.session.scalars(select(ConsentRecord).where(ConsentRecord.insured_id == insured.id)
                                   .order_by(ConsentRecord.id.desc())))


def _check_actor(insured, actor, channel: str) -> None:
    if channel not in ("portal", "hotline"):
        raise DomainError("未知的同意渠道。")
    role = getattr(actor, "role", None)
    if channel == "portal" and (role != "insured" or actor.insured_id != insured.id):
        raise DomainError("网页上的同意只能由被保险人本人作出。")
    if channel == "hotline" and role not in ("coordinator", "supervisor"):
        raise DomainError("热线口头同意须由英仕协调员宣读告知书后记录。")


def _who(actor) -> dict:
    return {"actor_id": actor.id, "actor_role": actor.role, "actor_name": actor.display_name}
