"""Holiday overrides in the database ↔ the in-memory calendar (SPEC §5)."""

import time

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from .. import calendar
from ..extensions import db
from ..holiday_notice import Notice, NoticeError, check_complete
from ..models import HolidayOverride
from . import auditlog

#: how often a process checks whether another process changed the overrides (gunicorn workers, scheduler)
CHECK_EVERY_SECONDS = 30.0
_loaded = {"marker": None, "checked": 0.0}


def _marker():
    return tuple(db.session.execute(select(func.count(HolidayOverride.id), func.max(HolidayOverride.updated_at))).one())


def reload_calendar(*, missing_ok: bool = False) -> None:
    """Load every override into portal.calendar; tolerate a not-yet-migrated schema at start-up."""
    try:
        rows = db.session.execute(select(HolidayOverride.day, HolidayOverride.is_off_day,
                                         HolidayOverride.source, HolidayOverride.year)).all()
        marker = _marker()
    except (OperationalError, ProgrammingError):
        db.session.rollback()
        if not missing_ok:
            raise
        return
    calendar.load_overrides(((r.day, r.is_off_day) for r in rows),
                            official_years={r.year for r in rows if r.source == "notice"})
    _loaded.update(marker=marker, checked=time.monotonic())


def refresh_if_changed() -> None:
    """At most every CHECK_EVERY_SECONDS: reload when another process imported or entered days."""
    if time.monotonic() - _loaded["checked"] < CHECK_EVERY_SECONDS:
        return
    _loaded["checked"] = time.monotonic()
    if _marker() != _loaded["marker"]:
        reload_calendar()


def check_against_official(notice: Notice) -> None:
    """Refuse a notice that contradicts a year's official data: chinese-calendar's years, or a notice already
    imported for that year (SPEC §5). Raises NoticeError naming the first date at fault."""
    imported: dict[int, dict] = {}
    for day, name, is_off in notice.days:
        official = calendar.library_is_off(day)
        source = "系统内置的国务院放假安排"
        if official is None and day.year != notice.year:
            if day.year not in imported:
                imported[day.year] = dict(db.session.execute(select(HolidayOverride.day, HolidayOverride.is_off_day)
                                                             .where(HolidayOverride.year == day.year,
                                                                    HolidayOverride.source == "notice")).all())
            rows = imported[day.year]
            if rows:
                official, source = rows.get(day, day.weekday() >= 5), f"已导入的 {day.year} 年通知"
        if official is not None and official != is_off:
            raise NoticeError(f"日期“{day.isoformat()}”（{name or '未命名'}）标为{'放假' if is_off else '上班'}，"
                              f"与{source}不符（该日为{'放假' if official else '工作日'}）")


def import_notice(notice: Notice, *, actor=None, ip: str | None = None, now=None) -> int:
    """Store a complete official notice's days (upsert by date), reload the calendar, recompute deadlines; audited
    (`actor` None from the CLI). An incomplete notice, or one contradicting official data, raises NoticeError
    and writes nothing.

    Returns the number of open provisional clocks recomputed. The caller commits.
    """
    check_complete(notice)
    check_against_official(notice)
    existing = {o.day: o for o in db.session.scalars(select(HolidayOverride).where(
        HolidayOverride.day.in_([d for d, _, _ in notice.days])))}
    for day, name, is_off in notice.days:
        row = existing.get(day) or HolidayOverride(day=day)
        row.is_off_day, row.name, row.source, row.year = is_off, name, "notice", notice.year
        row.created_by_id = getattr(actor, "id", None)
        db.session.add(row)
    db.session.flush()
    reload_calendar()
    from .sla import recompute

    years = {notice.year} | {d.date.year for d in notice.days}
    result = recompute(years, reason=f"导入 {notice.year} 年国务院放假通知", now=now)
    auditlog.record("holiday.import", actor=actor, ip=ip,
                    detail={"year": notice.year, "days": len(notice.days), "recomputed": result.provisional,
                            "moved": len(result.moved),
                            "outcomes_changed": [{"clock_id": c.id, "case_id": c.case_id, "from": old,
                                                  "to": c.outcome} for c, old in result.outcomes]})
    return result.provisional


def add_manual_day(day, *, is_off_day: bool, name: str, actor=None, ip: str | None = None) -> HolidayOverride:
    """A supervisor enters one day by hand; it wins over the library but does not make the year official; audited."""
    row = db.session.scalar(select(HolidayOverride).where(HolidayOverride.day == day)) or HolidayOverride(day=day)
    row.is_off_day, row.name, row.year = is_off_day, name, day.year
    row.source = row.source if row.source == "notice" else "manual"
    row.created_by_id = getattr(actor, "id", None)
    db.session.add(row)
    db.session.flush()
    reload_calendar()
    from .sla import recompute

    recompute({day.year}, reason=f"手工设置 {day.isoformat()} 为{'放假' if is_off_day else '调休上班'}")
    auditlog.record("holiday.add", obj=row, actor=actor, ip=ip,
                    detail={"day": day.isoformat(), "is_off_day": is_off_day, "name": row.name})
    return row
