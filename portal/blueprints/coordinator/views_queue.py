"""The work queue (tabs, filters, keyset pages) and the alerts listed above it."""

from flask import abort, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ... import calendar
from ...domain import lines, sla
from ...extensions import db
from ...models import STATUSES, ServiceLine, utcnow
from ...web.params import id_arg
from ...web.render import redirect_after_post, render, wants_fragment
from . import bp, worklist
from .choices import staff_options
from .views_common import next_step


def _filters() -> worklist.Filters:
    args = request.args
    tab = args.get("tab", "mine")
    return worklist.Filters(
        tab=tab if tab in worklist.TABS else "mine",
        line=args.get("line", "").strip(),
        status=args.get("status", "") if args.get("status", "") in STATUSES else "",
        city=args.get("city", "").strip()[:30],
        assignee=id_arg("assignee"),
        q=args.get("q", "").strip()[:40],
    )


@bp.get("/")
def queue():
    """The work queue: what is due next, per tab and filter, nearest deadline first; coordinators and supervisors."""
    filters, now = _filters(), utcnow()
    user = current_user._get_current_object()  # the proxy costs a lookup per attribute, 35 actions a row
    today = calendar.business_today(now)
    result = worklist.page(filters, user, now=now, after=request.args.get("after"), size=worklist.PAGE_SIZE)
    ctx = {
        "filters": filters, "tabs": worklist.TABS, "result": result, "today": today,
        "counts": worklist.counts(filters, user, now=now),
        "hints": {row.case.id: next_step(row.case, user) for row in result.rows},
        "first_page": not request.args.get("after"),
        "days_left": lambda clock: sla.working_days_left(clock, today), "clock_label": sla.clock_label,
        "milestone_label": lines.milestone_label,
    }
    if wants_fragment():
        return render("coordinator/queue.html", "coordinator/_queue_results.html", oob=True, **ctx)
    return render("coordinator/queue.html", alerts=worklist.unread_alerts(user), product_lines=_product_lines(),
                  statuses=STATUSES, cities=worklist.city_options(), staff=staff_options(), **ctx)


def _product_lines() -> list[ServiceLine]:
    """One entry per line code across products, in product order (for the line filter)."""
    found, seen = [], set()
    for line in db.session.scalars(select(ServiceLine).order_by(ServiceLine.position)):
        if line.code not in seen:
            seen.add(line.code)
            found.append(line)
    return found


@bp.post("/alerts/<int:alert_id>/read")
def alert_read(alert_id):
    """Mark one of my alerts read (supervisors also those for all supervisors)."""
    alert = worklist.alert_for(current_user, alert_id)
    if alert is None:
        abort(404)
    if alert.read_at is None:
        alert.read_at = utcnow()
        db.session.commit()
    if wants_fragment():
        return render("coordinator/queue.html", "coordinator/_alerts.html", oob=True,
                      alerts=worklist.unread_alerts(current_user))
    return redirect_after_post(url_for("coordinator.queue"))
