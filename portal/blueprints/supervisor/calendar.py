"""The working-day calendar: notices, hand-entered days, provisional deadlines (supervisors; SPEC §5)."""

from datetime import date

from flask import flash, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ... import calendar
from ...domain import holidays, sla
from ...extensions import db
from ...holiday_notice import NoticeError, parse_notice
from ...models import OPEN_STATUSES, Case, HolidayOverride, SlaClock, User
from ...web.audit import who
from ...web.params import PER_PAGE, page_number, parse_int, read_upload
from ...web.render import render
from . import bp
from .assign import line_names
from .forms import HolidayDayForm, HolidayNoticeForm


def provisional_clocks():
    """Running or paused clocks of open cases whose due date rests on an assumed (Monday–Friday) year."""
    return (select(SlaClock).join(SlaClock.case)
            .where(SlaClock.provisional.is_(True), SlaClock.state.in_(sla.OPEN_STATES),
                   Case.status.in_(OPEN_STATUSES)))


def _year_arg() -> int:
    year = parse_int(request.args.get("year"), low=2000, high=2100)
    return year or calendar.business_today().year


def _calendar_page(year: int, *, notice_form=None, day_form=None, status: int = 200):
    """The year view: official or assumed, the overrides of the year, both forms."""
    overrides = list(db.session.scalars(select(HolidayOverride).where(HolidayOverride.year == year)
                                        .order_by(HolidayOverride.day)))
    creator_ids = {o.created_by_id for o in overrides if o.created_by_id}
    creators = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(creator_ids))).all())
    provisional_count = db.session.scalar(provisional_clocks().with_only_columns(db.func.count(SlaClock.id)))
    return render("coordinator/admin/holiday_list.html", status=status, year=year, overrides=overrides,
                  creators=creators, provisional=calendar.is_provisional(date(year, 1, 1)),
                  has_notice=any(o.source == "notice" for o in overrides), provisional_count=provisional_count,
                  notice_form=notice_form or HolidayNoticeForm(formdata=None),
                  day_form=day_form or HolidayDayForm(formdata=None))


@bp.get("/admin/holidays")
def holiday_list():
    """One year of the calendar: its source, its imported or hand-entered days; supervisors only."""
    return _calendar_page(_year_arg())


@bp.post("/admin/holidays/import")
def holiday_import():
    """Import a State Council notice (holiday-cn JSON) and recompute provisional deadlines; supervisors only."""
    form = HolidayNoticeForm()
    if form.validate_on_submit():
        text = read_upload(form.file.data)
        try:
            notice = parse_notice(text if text is not None else "")
            recomputed = holidays.import_notice(notice, **who())
        except NoticeError as error:
            db.session.rollback()
            form.file.errors.append(f"节假日文件无效，未写入任何数据：{error}")
        else:
            db.session.commit()
            flash(f"已导入 {notice.year} 年节假日安排 {len(notice.days)} 天；重新计算了 {recomputed} 个暂定时限。",
                  "success")
            return redirect(url_for("supervisor.holiday_list", year=notice.year), code=303)
    return _calendar_page(_year_arg(), notice_form=form, status=422)


@bp.post("/admin/holidays/days")
def holiday_add():
    """Enter one day off or make-up working day by hand; open deadlines are recomputed; supervisors only."""
    form = HolidayDayForm()
    if form.validate_on_submit():
        day, is_off = form.day.data, form.is_off_day.data == "1"
        row = holidays.add_manual_day(day, is_off_day=is_off, name=form.name.data.strip(), **who())
        db.session.commit()
        flash(f"已将 {day.isoformat()} 设为{'放假' if is_off else '调休上班'}（{row.name}），已重新计算未结时限。",
              "success")
        return redirect(url_for("supervisor.holiday_list", year=day.year), code=303)
    return _calendar_page(_year_arg(), day_form=form, status=422)


@bp.get("/admin/holidays/provisional")
def provisional_list():
    """Open cases whose running deadlines are provisional (暂定) until a notice is imported; supervisors only."""
    stmt = (provisional_clocks()
            .options(contains_eager(SlaClock.case).joinedload(Case.insured),
                     contains_eager(SlaClock.case).joinedload(Case.assignee))
            .order_by(SlaClock.due_date, SlaClock.id))
    pagination = db.paginate(stmt, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render("coordinator/admin/provisional_list.html", "coordinator/admin/_provisional_results.html",
                  pagination=pagination, line_names=line_names(),
                  clock_label=sla.clock_label, due_date=sla.effective_due_date, today=calendar.business_today())
