"""Sending records abroad (PIPL art. 38–39; SPEC §7): a consent per recipient before the sending action,
and a transfer log row for every send, shown to 史带."""

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import ConsentRecord, Expert, Hospital, Transfer, utcnow
from . import consent, history, lines
from .errors import DomainError
from .product_data import DOCUMENT_KINDS, REPORT_KINDS

#: per overseas line, the action that sends the records to the overseas recipient
SENDING_ACTIONS = {"overseas_second_opinion": "choose_provider", "overseas_treatment": "hospital_accepted"}


def sending_milestone(line_code: str) -> str | None:
    spec = lines.ACTIONS.get(SENDING_ACTIONS.get(line_code, ""))
    return spec.sets_milestone if spec else None


def can_ask(case) -> bool:
    """True while an overseas case is open and its records have not been sent yet."""
    milestone = sending_milestone(case.line_code)
    if milestone is None or not case.is_open or case.launch_decision is False:
        return False
    codes = lines.milestone_codes(case.line_code)
    return case.milestone not in codes or codes.index(case.milestone) < codes.index(milestone)


def documents_to_send(case) -> list[dict]:
    """The insured's documents of the case that would go abroad (not withdrawn, rejected or restricted)."""
    return [{"id": d.id, "kind": d.kind, "label": DOCUMENT_KINDS.get(d.kind, d.kind), "name": d.original_name}
            for d in case.documents
            if d.kind not in REPORT_KINDS and d.withdrawn_at is None and d.restricted_at is None
            and d.review_status != "rejected"]


def recipients(case) -> list[Hospital]:
    """Overseas hospitals the insured may name: the case's country if known, else every served country."""
    countries = [case.country] if case.country else list(case.policy.product.countries)
    return list(db.session.scalars(select(Hospital).where(Hospital.overseas.is_(True), Hospital.active.is_(True),
                                                          Hospital.country.in_(countries))
                                   .order_by(Hospital.country, Hospital.name)))


def give(case, *, hospital_id, actor, channel: str, expert_id=None, ip: str | None = None,
         now: datetime | None = None) -> ConsentRecord:
    """Record the insured's consent to send this case's records to one overseas hospital (and expert):
    in the portal by the insured, or on the hotline by the coordinator who read the notice aloud."""
    now = now or utcnow()
    if not can_ask(case):
        raise DomainError("这个申请现在不需要出境同意（不是海外服务、已结束或资料已发送）。")
    if channel == "portal" and (getattr(actor, "role", None) != "insured" or actor.insured_id != case.insured_id):
        raise DomainError("网页上的出境同意只能由被保险人本人作出。")
    if channel == "hotline" and getattr(actor, "role", None) not in lines.STAFF:
        raise DomainError("热线口头同意须由英仕协调员宣读告知书后记录。")
    if not consent.has_consent(case.insured, now):
        raise DomainError(consent.NO_CONSENT, "consent")
    hospital = db.session.get(Hospital, int(hospital_id)) if str(hospital_id or "").isdigit() else None
    if hospital is None or not hospital.overseas or not hospital.active \
            or hospital.country not in case.policy.product.countries:
        raise DomainError("请选择合作的海外医院。", "hospital_id")
    expert = db.session.get(Expert, int(expert_id)) if str(expert_id or "").isdigit() else None
    if expert is not None and expert.country != hospital.country:
        raise DomainError("所选专家不在该医院所在国家。", "expert_id")
    notice = consent.current_notice("cross_border", now)
    if notice is None:
        raise DomainError("没有可同意的出境告知书版本，请联系英仕。")
    recipient = hospital.name + (f"（专家 {expert.name}）" if expert else "")
    documents = documents_to_send(case)
    record = ConsentRecord(insured_id=case.insured_id, purpose=consent.CROSS_BORDER, action="given",
                           notice_id=notice.id, channel=channel, ip=ip, at=now, case_id=case.id,
                           hospital_id=hospital.id, expert_id=getattr(expert, "id", None), recipient=recipient,
                           country=hospital.country, documents=documents, actor_id=actor.id,
                           actor_role=actor.role, actor_name=actor.display_name)
    db.session.add(record)
    db.session.flush()
    how = "客户在网页上" if channel == "portal" else f"{actor.display_name}宣读出境告知书后记录客户口头"
    history.append(case, actor=actor, kind="consent", action="cross_border_consent",
                   summary=f"{how}同意向{hospital.country} {recipient}发送资料："
                   + ("、".join(d["label"] for d in documents) or "病史及检查资料（尚未上传）"),
                   data={"consent_record_id": record.id, "hospital_id": hospital.id, "channel": channel,
                         "notice_version": notice.version}, now=now)
    return record


def consent_for(case, hospital_id: int) -> ConsentRecord | None:
    """The newest cross-border consent of the case naming this hospital, if it still stands."""
    record = db.session.scalar(select(ConsentRecord).where(
        ConsentRecord.case_id == case.id, ConsentRecord.purpose == consent.CROSS_BORDER,
        ConsentRecord.hospital_id == hospital_id).order_by(ConsentRecord.id.desc()).limit(1))
    return record if record is not None and record.action == "given" else None


def withdraw(case, *, hospital_id, actor, channel: str, ip: str | None = None,
             now: datetime | None = None) -> ConsentRecord:
    """Withdraw the cross-border consent naming this hospital before anything was sent to it (a new row)."""
    now = now or utcnow()
    if channel == "portal" and (getattr(actor, "role", None) != "insured" or actor.insured_id != case.insured_id):
        raise DomainError("网页上的撤回只能由被保险人本人作出。")
    if channel == "hotline" and getattr(actor, "role", None) not in lines.STAFF:
        raise DomainError("热线撤回须由英仕协调员记录。")
    given = consent_for(case, int(hospital_id)) if str(hospital_id or "").isdigit() else None
    if given is None:
        raise DomainError("没有可撤回的出境同意。", "hospital_id")
    if not can_ask(case):
        raise DomainError("资料已发送或案件已结束，出境同意不能再撤回；如需帮助请致电 400-606-5033。")
    record = ConsentRecord(insured_id=case.insured_id, purpose=consent.CROSS_BORDER, action="withdrawn",
                           notice_id=given.notice_id, channel=channel, ip=ip, at=now, case_id=case.id,
                           hospital_id=given.hospital_id, expert_id=given.expert_id, recipient=given.recipient,
                           country=given.country, documents=given.documents, actor_id=actor.id,
                           actor_role=actor.role, actor_name=actor.display_name)
    db.session.add(record)
    db.session.flush()
    history.append(case, actor=actor, kind="consent", action="cross_border_withdrawn",
                   summary=f"撤回向{given.country} {given.recipient}发送资料的同意（记录 {record.id}）",
                   data={"consent_record_id": record.id, "hospital_id": given.hospital_id, "channel": channel},
                   now=now)
    return record


def standing(case) -> list[ConsentRecord]:
    """The case's cross-border consents that still stand (the newest record per hospital is a consent)."""
    newest: dict[int, ConsentRecord] = {}
    for record in consents_for_case(case):
        newest[record.hospital_id] = record
    return [r for r in newest.values() if r.action == "given"]


def send(step, hospital: Hospital, expert: Expert | None = None) -> Transfer:
    """Called by the sending action's handler: refused until the recipient's consent exists, then logged."""
    case = step.case
    record = consent_for(case, hospital.id)
    if record is None:
        raise DomainError(f"客户尚未同意向{hospital.country}的{hospital.name}发送资料，不能执行这一步。"
                          "请先请客户在网页上确认出境同意，或电话宣读出境告知书后记录其口头同意。", "hospital_id")
    sent = documents_to_send(case)
    allowed = {d["id"] for d in record.documents}
    # documents uploaded after the consent are not covered by it: they are not sent under it
    documents = [d for d in sent if d["id"] in allowed] if record.documents else sent
    transfer = Transfer(case_id=case.id, consent_id=record.id, hospital_id=hospital.id,
                        expert_id=getattr(expert, "id", None), recipient=record.recipient or hospital.name,
                        country=hospital.country, documents=documents, action=step.spec.code,
                        actor_id=step.actor.id, at=step.now)
    db.session.add(transfer)
    db.session.flush()
    step.data = {**step.data, "transfer_id": transfer.id, "consent_record_id": record.id}
    return transfer


def for_case(case) -> list[Transfer]:
    return list(db.session.scalars(select(Transfer).where(Transfer.case_id == case.id).order_by(Transfer.id)))


def consents_for_case(case) -> list[ConsentRecord]:
    return list(db.session.scalars(select(ConsentRecord).where(
        ConsentRecord.case_id == case.id, ConsentRecord.purpose == consent.CROSS_BORDER).order_by(ConsentRecord.id)))
