"""Creating cases: hotline search, inline eligibility preview and request submission (SPEC §1, §3)."""

from dataclasses import asdict
from datetime import date, datetime

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..calendar import business_today
from ..extensions import db
from ..models import OPEN_STATUSES, Case, CaseRefCounter, InsuredPerson, Policy, SlaClock, utcnow
from . import consent, eligibility, history, ledger, notify, sla, submissions
from .errors import DomainError
from .identity import normalize_id
from .product_data import HOTLINE

#: request fields with their own Case column; everything else goes to Case.request_data
COLUMNS = ("city", "hospital_id", "department", "diagnosis", "illness", "first_diagnosis_date",
           "admission_slip_date", "country")
#: the identity typed by the caller is checked, not kept: ID numbers are sensitive (SPEC §7)
IDENTITY_KEYS = ("name", "id_type", "id_number")
#: clocks that can start at intake, and which date they count from
INTAKE_STARTS = ("submitted", "admission_slip")


def find_insured(*, name: str | None = None, id_number: str | None = None,
                 policy_no: str | None = None) -> list[InsuredPerson]:
    """Hotline search: insured people matching every criterion given (none given → nobody)."""
    query = select(InsuredPerson).join(Policy)
    criteria = False
    if name and name.strip():
        query, criteria = query.where(InsuredPerson.name == name.strip()), True
    if id_number and normalize_id(id_number):
        query, criteria = query.where(InsuredPerson.id_number == normalize_id(id_number)), True
    if policy_no and policy_no.strip():
        query, criteria = query.where(Policy.policy_no == policy_no.strip()), True
    if not criteria:
        return []
    return list(db.session.scalars(query.order_by(Policy.start_date.desc(), InsuredPerson.id).limit(50)))


def preview(*, insured, line_code: str, data: dict, now: datetime | None = None) -> list[eligibility.RuleResult]:
    """Eligibility as of today, for inline feedback while the form is filled in; writes nothing."""
    return eligibility.evaluate(insured=insured, line_code=line_code, data=data, on_date=business_today(now))


def submit_request(*, insured, line_code: str, data: dict, actor, channel: str = "portal",
                   now: datetime | None = None, submission_key: str | None = None) -> Case:
    """Open a case: eligible → submitted with a unit reserved and clocks started; else kept as terminated.

    Refused on every channel (DomainError on field `consent`) until the insured consented to the privacy
    notice in effect (SPEC §7): without it not even an ineligible request is kept. With the form's
    `submission_key`, a repeat of the same submission returns the case the first one opened; an insured
    person has at most one open request per line (issue 14)."""
    now = now or utcnow()
    today = business_today(now)
    line = insured.policy.product.line(line_code)
    if line is None:
        raise DomainError("本产品不提供该项服务。", "line_code")
    claim = submissions.claim(submission_key, actor=actor, purpose="case", now=now)
    if claim is not None and claim.repeat and claim.row.case_id is not None:
        earlier = db.session.get(Case, claim.row.case_id)
        earlier.is_repeat = True  # plain attribute: tells the view to store nothing more
        return earlier
    consent.require_consent(insured, now)
    _refuse_second_open(insured, line)
    columns = _columns(data)
    eligibility.check_admission_slip(columns["admission_slip_date"], today)
    results = eligibility.evaluate(insured=insured, line_code=line_code, data=data, on_date=today)
    year = ledger.policy_year(insured.policy, today)
    status = "submitted" if eligibility.passed(results) else "terminated"
    case = _insert_case(today, **columns, policy_id=insured.policy_id, insured_id=insured.id,
                        line_code=line_code, channel=channel, status=status,
                        created_by_id=getattr(actor, "id", None), submitted_at=now,
                        policy_year_start=year[0] if year else None)
    if eligibility.passed(results):
        try:
            ledger.reserve(case, actor=actor, now=now)
            # the reserve's UPDATE waited for any twin request holding the same ledger row: look again
            _refuse_second_open(insured, line, besides=case)
        except _SecondOpen:
            raise
        except DomainError:
            # a simultaneous request took the last unit after our check: this one is refused on record
            reason = eligibility.exhausted_reason(line)
            results = [_failed(r, reason) if r.code == "entitlement_available" else r for r in results]
    case.eligibility = [asdict(r) for r in results]
    if eligibility.passed(results):
        _accept(case, line, actor=actor, now=now, today=today)
    else:
        _refuse(case, line, results, actor=actor, now=now)
    db.session.flush()
    if claim is not None:
        claim.attach(case)
    case.is_repeat = False
    return case


class _SecondOpen(DomainError):
    """The insured person already has an open request for the line."""


def _refuse_second_open(insured, line, *, besides: Case | None = None) -> None:
    """One open request per insured person and line; checked again after the ledger row is locked."""
    earlier = db.session.scalar(select(Case).where(
        Case.insured_id == insured.id, Case.line_code == line.code, Case.status.in_(OPEN_STATUSES),
        Case.id != (besides.id if besides is not None else -1)).limit(1))
    if earlier is not None:
        raise _SecondOpen(f"已有一项进行中的{line.name}申请（编号 {earlier.ref}），无需重复提交；"
                          f"如需修改请联系客服 {HOTLINE}。", "line_code")


def _columns(data: dict) -> dict:
    """Split the request into Case columns and request_data (JSON-safe)."""
    values = {key: (v.strip() if isinstance(v := data.get(key), str) else v) or None for key in COLUMNS}
    for key in ("first_diagnosis_date", "admission_slip_date"):
        try:
            values[key] = eligibility.as_date(values[key])
        except ValueError:
            values[key] = None  # the eligibility reason already says the date is malformed
    try:
        values["hospital_id"] = int(values["hospital_id"]) if values["hospital_id"] is not None else None
    except (TypeError, ValueError):
        values["hospital_id"] = None
    rest = {k: v for k, v in data.items() if k not in COLUMNS and k not in IDENTITY_KEYS}
    return {**values, "request_data": history.jsonable(rest)}


def _insert_case(today: date, **values) -> Case:
    """Insert the case under the day's next number, e.g. ZJ20261125-0007 (race-free: see next_ref)."""
    case = Case(ref=next_ref(today), **values)
    db.session.add(case)
    db.session.flush()
    return case


def next_ref(today: date) -> str:
    """The next case number of the day from its counter row: one upsert … RETURNING on both databases.

    Simultaneous requests queue on the counter row's lock (PostgreSQL) or the write lock (SQLite) and each
    gets its own number, so no request fails for want of one. A day's first number continues after any
    case already on record that day (cases from before the counter existed).
    """
    day = f"{today:%Y%m%d}"
    prefix = f"ZJ{day}-"
    already = (select(func.coalesce(func.max(cast(func.substr(Case.ref, len(prefix) + 1), Integer)), 0) + 1)
               .where(Case.ref.like(prefix + "%")).scalar_subquery())
    table = CaseRefCounter.__table__
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    stmt = (insert(table).values(day=day, last=already)
            .on_conflict_do_update(index_elements=[table.c.day], set_={"last": table.c.last + 1})
            .returning(table.c.last))
    return f"{prefix}{db.session.execute(stmt).scalar_one():04d}"


def _failed(result: eligibility.RuleResult, reason: str) -> eligibility.RuleResult:
    return eligibility.RuleResult(result.code, result.label, False, reason)


def _accept(case: Case, line, *, actor, now: datetime, today: date) -> None:
    """Eligible: create every clock of the line, start those that start now, tell the insured."""
    for definition in line.clocks:
        # relationship, not case_id: keeps case.clocks current for sla without a reload
        db.session.add(SlaClock(case=case, kind=definition["kind"], days=definition["days"], state="pending"))
    db.session.flush()
    sla.start(case, "submitted", on_date=today, now=now)
    if case.admission_slip_date is not None:
        # seed: 客户申请且住院条开具之日起 — the later of the two days starts the count (as confirm_hospital)
        sla.start(case, "admission_slip", on_date=max(case.admission_slip_date, today), now=now)
    history.append(case, actor=actor, kind="transition", action="submit", to_status="submitted",
                   summary=f"提交{line.name}申请，身份与保障核实通过，已占用本保单年度服务次数一次。",
                   data={"channel": case.channel, "line_code": line.code, "eligibility": case.eligibility},
                   now=now)
    promise = sla.promise(case)
    notify.insured(case, "服务申请已受理",
                   f"您的{line.name}申请（编号 {case.ref}）已受理，我们会尽快与您联系。"
                   + (f"{promise.text}{'（暂定）' if promise.provisional else ''}。" if promise else ""))


def _refuse(case: Case, line, results: list, *, actor, now: datetime) -> None:
    """Not eligible: terminated as not_eligible and kept on record (登记备案) with every reason."""
    case.status, case.termination_reason, case.closed_at = "terminated", "not_eligible", now
    reasons = [{"code": r.code, "label": r.label, "reason": r.reason} for r in results if not r.passed]
    history.append(case, actor=actor, kind="transition", action="submit", to_status="terminated",
                   summary=f"提交{line.name}申请，未通过核实，已登记备案：" + "".join(r["reason"] for r in reasons),
                   data={"channel": case.channel, "line_code": line.code, "termination_reason": "not_eligible",
                         "failed": reasons, "eligibility": case.eligibility},
                   now=now)
    notify.insured(case, "服务申请未通过核实",
                   f"很抱歉，您的{line.name}申请（编号 {case.ref}）未能受理：" + "".join(r["reason"] for r in reasons)
                   + f"如有疑问请致电 {HOTLINE}。")
