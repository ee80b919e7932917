"""Entitlements per insured person, service line and policy year: reserve, consume, release, lapse (SPEC §2, §4)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..calendar import to_business_date
from ..extensions import db
from ..models import Entitlement, EntitlementEntry, utcnow
from .errors import DomainError

EXHAUSTED = "本保单年度该项服务次数已用完。"
_FREE = Entitlement.reserved + Entitlement.consumed + Entitlement.lapsed < Entitlement.total


@dataclass(frozen=True)
class Balance:
    """One line's units in one policy year, as shown to the insured and the coordinator."""

    line_code: str
    name: str
    short_name: str
    total: int
    reserved: int
    consumed: int
    remaining: int


def _anniversary(start: date, years: int) -> date:
    """start moved by whole years; a 29 February start falls on 28 February in common years."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return date(start.year + years, 2, 28)


def policy_year(policy, on_date: date) -> tuple[date, date] | None:
    """The policy year (first day, last day) containing on_date; None outside cover."""
    if not policy.start_date <= on_date <= policy.end_date:
        return None
    years = on_date.year - policy.start_date.year
    if _anniversary(policy.start_date, years) > on_date:
        years -= 1
    first = _anniversary(policy.start_date, years)
    last = min(_anniversary(policy.start_date, years + 1) - timedelta(days=1), policy.end_date)
    return first, last


def _find(insured_id: int, line_code: str, year_start: date) -> Entitlement | None:
    return db.session.scalar(select(Entitlement).where(
        Entitlement.insured_id == insured_id, Entitlement.line_code == line_code,
        Entitlement.year_start == year_start))


def _get_or_create(insured, line, year: tuple[date, date]) -> Entitlement:
    """The ledger row of (insured, line, year), created on first use."""
    row = _find(insured.id, line.code, year[0])
    if row is not None:
        return row
    row = Entitlement(policy_id=insured.policy_id, insured_id=insured.id, line_code=line.code,
                      year_start=year[0], year_end=year[1], total=line.entitlement,
                      reserved=0, consumed=0, lapsed=0)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        # another transaction created it between our SELECT and INSERT: use theirs
        row = _find(insured.id, line.code, year[0])
    return row


def balances(insured, on_date: date) -> list[Balance]:
    """Per line of the product, in line order; [] outside cover. Reads only (one query): a line without a
    ledger row yet has its full entitlement, and the row is created when a unit is first reserved."""
    return balances_of(insured.id, insured.policy, insured.policy.product.lines, on_date)


def balances_of(insured_id: int, policy, lines, on_date: date) -> list[Balance]:
    """balances() from the insured's id, the policy's dates and the product's lines (code, name, short_name,
    entitlement), for pages that hold those as plain values."""
    year = policy_year(policy, on_date)
    if year is None:
        return []
    rows = {row[0]: row[1:] for row in db.session.execute(
        select(Entitlement.line_code, Entitlement.total, Entitlement.reserved, Entitlement.consumed,
               Entitlement.lapsed).where(Entitlement.insured_id == insured_id, Entitlement.year_start == year[0]))}
    result = []
    for line in lines:
        row = rows.get(line.code)
        if row is None:
            result.append(Balance(line.code, line.name, line.short_name, line.entitlement, 0, 0, line.entitlement))
        else:  # as Entitlement.remaining: total − reserved − consumed − lapsed
            total, reserved, consumed, lapsed = row
            result.append(Balance(line.code, line.name, line.short_name, total, reserved, consumed,
                                  total - reserved - consumed - lapsed))
    return result


def remaining(insured, line_code: str, on_date: date) -> int:
    """Free units of one line on on_date, without writing (eligibility previews must not write)."""
    year = policy_year(insured.policy, on_date)
    line = insured.policy.product.line(line_code)
    if year is None or line is None:
        return 0
    row = _find(insured.id, line_code, year[0])
    return line.entitlement if row is None else row.remaining


def _holding(case) -> EntitlementEntry | None:
    """The case's last reserve/consume/release entry, which says what the case holds now."""
    return db.session.scalar(
        select(EntitlementEntry).where(EntitlementEntry.case_id == case.id,
                                       EntitlementEntry.kind.in_(("reserve", "consume", "release")))
        .order_by(EntitlementEntry.id.desc()).limit(1))


def _journal(row: Entitlement, kind: str, *, case=None, actor=None, units: int = 1,
             now: datetime | None = None) -> None:
    db.session.add(EntitlementEntry(entitlement_id=row.id, case_id=getattr(case, "id", None), kind=kind,
                                    units=units, actor_id=getattr(actor, "id", None), at=now or utcnow()))
    db.session.flush()


def _move(row: Entitlement, condition, **values) -> bool:
    """One conditional UPDATE of the row; False when the condition no longer holds."""
    result = db.session.execute(
        update(Entitlement).where(Entitlement.id == row.id, condition).values(**values)
        .execution_options(synchronize_session=False))
    db.session.refresh(row)  # the UPDATE bypassed the identity map
    return result.rowcount == 1


def reserve(case, *, actor=None, now: datetime | None = None) -> None:
    """Take one unit of case.line_code in the case's policy year; never overdraws, even under races."""
    if case.id is None:
        db.session.flush()
    held = _holding(case)
    if held is not None and held.kind != "release":
        raise DomainError("该案件已占用服务次数。")
    if case.policy_year_start is None:
        year = policy_year(case.policy, to_business_date(case.submitted_at or now or utcnow()))
        if year is None:
            raise DomainError("申请日期不在保单保障期间内。")
        case.policy_year_start = year[0]
    line = case.policy.product.line(case.line_code)
    if line is None:
        raise DomainError("本产品不提供该项服务。")
    row = _get_or_create(case.insured, line, policy_year(case.policy, case.policy_year_start))
    # the check and the increment are one statement, so two requests cannot both take the last unit
    if not _move(row, _FREE, reserved=Entitlement.reserved + 1):
        raise DomainError(EXHAUSTED)
    _journal(row, "reserve", case=case, actor=actor, now=now)


def _reserved_row(case) -> Entitlement | None:
    held = _holding(case)
    return db.session.get(Entitlement, held.entitlement_id) if held is not None and held.kind == "reserve" else None


def consume(case, *, actor=None, now: datetime | None = None) -> None:
    """The case's reserved unit is used (completion, no-show included)."""
    row = _reserved_row(case)
    if row is None or not _move(row, Entitlement.reserved > 0, reserved=Entitlement.reserved - 1,
                                consumed=Entitlement.consumed + 1):
        raise DomainError("该案件没有占用的服务次数，无法核销。")
    _journal(row, "consume", case=case, actor=actor, now=now)


def release(case, *, actor=None, now: datetime | None = None) -> None:
    """Give the case's reserved unit back; a no-op when the case holds none (e.g. refused at intake)."""
    row = _reserved_row(case)
    if row is None:
        return
    if not _move(row, Entitlement.reserved > 0, reserved=Entitlement.reserved - 1):
        raise DomainError("该案件没有占用的服务次数。")
    _journal(row, "release", case=case, actor=actor, now=now)


def lapse_expired(today: date, *, now: datetime | None = None) -> int:
    """Record the free units of every ended policy year as lapsed; returns the number of rows lapsed."""
    now = now or utcnow()
    rows = db.session.scalars(select(Entitlement).where(Entitlement.year_end < today, _FREE)
                              .order_by(Entitlement.id)).all()
    count = 0
    for row in rows:
        free = row.remaining
        # compare-and-set on all three counters: a concurrent move makes us skip; the next sweep retries
        unchanged = (Entitlement.reserved == row.reserved) & (Entitlement.consumed == row.consumed) & (
            Entitlement.lapsed == row.lapsed)
        if _move(row, unchanged, lapsed=Entitlement.lapsed + free, lapsed_at=now):
            _journal(row, "lapse", units=free, now=now)
            count += 1
    return count
