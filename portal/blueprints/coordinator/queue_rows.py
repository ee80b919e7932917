"""What each queue line prints, computed once per row in Python from plain values (issue 20): no ORM object,
no lazy load and no `url_for` per row; the product's line names are read once per process."""

from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace

from flask import current_app, url_for
from sqlalchemy import select

from ... import calendar
from ...domain import lines, sla
from ...domain.identity import mask_id
from ...extensions import db
from ...models import ServiceLine, User
from ...web.labels import CLOCK_OUTCOMES, DUE_SOON_WORKING_DAYS, STATUS_TONES
from .views_common import next_step
from .worklist import Clock, Row

_SENTINEL = 987654321


@dataclass(slots=True)
class Line:
    """One printed queue row (slots, not frozen: fifty per page, built once and only read)."""

    id: int
    href: str
    ref: str
    submitted_at: datetime
    insured_name: str
    id_number: str
    line_name: str
    status: str
    status_label: str
    milestone_label: str
    place: str
    assignee_name: str
    status_tone: str
    submitted_text: str
    masked_id: str
    due_text: str
    #: (css class, text) of each badge on the deadline: days left, paused, provisional
    badges: tuple
    clock_label: str
    has_clock: bool
    hint: object  # the ActionSpec of the next step, or None


def product_lines() -> list[SimpleNamespace]:
    """One entry (code, short_name) per line code across products, in product order — per process: the
    product's lines are configuration, never edited while the portal runs."""
    cached = current_app.extensions.get("queue_product_lines")
    if cached is None:
        found, seen = [], set()
        for code, name in db.session.execute(select(ServiceLine.code, ServiceLine.short_name)
                                             .order_by(ServiceLine.position, ServiceLine.id)):
            if code not in seen:
                seen.add(code)
                found.append(SimpleNamespace(code=code, short_name=name))
        if not found:
            return found  # nothing configured yet: ask again next time
        cached = current_app.extensions["queue_product_lines"] = found
    return cached


#: the next step offered for (role, line, status, milestone, whose case): the same for every such case, and the
#: action tables never change while the portal runs — worked out once per process
_NEXT_STEPS: dict[tuple, object] = {}


def _badges(clock: Clock, left: int) -> tuple:
    """What coordinator/_macros.html days_left_badge shows, as (class, text) pairs."""
    if clock.state == "stopped":
        tone = {"met": "ok", "breached": "bad"}.get(clock.outcome, "")
        found = [(tone, CLOCK_OUTCOMES.get(clock.outcome, "已停止"))]
    elif clock.state == "pending":
        found = [("", "未开始")]
    elif left < 0:
        found = [("bad", f"已超时 {-left} 个工作日")]
    elif left == 0:
        found = [("bad", "今天到期")]
    else:
        found = [("warn" if left <= DUE_SOON_WORKING_DAYS else "ok", f"剩 {left} 个工作日")]
    if clock.state == "paused":
        found.append(("warn", "已暂停·等待客户"))
    if clock.provisional and clock.state != "stopped":
        found.append(("provisional", "暂定"))
    return tuple(found)


def _next_step(row: Row, user):
    whose = "none" if row.assignee_id is None else "mine" if row.assignee_id == user.id else "other"
    key = (user.role, row.line_code, row.status, row.milestone, whose)
    if key not in _NEXT_STEPS:
        _NEXT_STEPS[key] = next_step(SimpleNamespace(line_code=row.line_code, status=row.status,
                                                     milestone=row.milestone, assignee_id=row.assignee_id,
                                                     insured_id=row.insured_id), user)
    return _NEXT_STEPS[key]


def present(rows: list[Row], user, today: date, staff_names: dict[int, str]) -> list[Line]:
    """The printed rows: badges, labels, links and the next step, one computation per row (next steps are
    the same for every case in the same line, status and milestone, so each is worked out once)."""
    names = {line.code: line.short_name for line in product_lines()}
    missing = {row.assignee_id for row in rows if row.assignee_id and row.assignee_id not in staff_names}
    if missing:  # a deactivated colleague still holds cases: one look-up for those names
        staff_names = {**staff_names, **dict(db.session.execute(
            select(User.id, User.display_name).where(User.id.in_(missing))).all())}
    href = url_for("coordinator.case_detail", case_id=_SENTINEL).replace(str(_SENTINEL), "{}")
    printed = []
    for row in rows:
        clock = row.clock
        printed.append(Line(
            id=row.id, href=href.format(row.id), ref=row.ref, submitted_at=row.submitted_at,
            insured_name=row.insured_name, id_number=row.id_number, line_name=names.get(row.line_code, row.line_code),
            status=row.status, status_label=row.status_label,
            milestone_label=lines.milestone_label(row.line_code, row.milestone),
            place=row.city or row.country or "—",
            assignee_name=staff_names.get(row.assignee_id, "—") if row.assignee_id else "未分配",
            status_tone=STATUS_TONES.get(row.status, "info"),
            submitted_text=calendar.format_cn_date(calendar.to_business_date(row.submitted_at), today=today),
            masked_id=mask_id(row.id_number, row.id_type),
            due_text=calendar.format_cn_date(clock.due_date, today=today) if clock and clock.due_date else "",
            badges=_badges(clock, sla.working_days_left(clock, today)) if clock else (),
            clock_label=sla.clock_label(clock.kind) if clock else "", has_clock=clock is not None,
            hint=_next_step(row, user)))
    return printed
