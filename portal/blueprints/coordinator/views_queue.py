"""The work queue (tabs, filters, keyset pages) and the alerts listed above it."""

from flask import abort, request, url_for
from flask_login import current_user

from ... import calendar
from ...extensions import db
from ...models import STATUSES, utcnow
from ...web.params import id_arg
from ...web.render import redirect_after_post, render, wants_fragment
from . import bp, queue_rows, worklist
from .choices import staff_options


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
    user = current_user._get_current_object()  # the proxy costs a lookup per attribute
    today = calendar.business_today(now)
    result = worklist.page(filters, user, now=now, after=request.args.get("after"), size=worklist.PAGE_SIZE)
    staff = staff_options()
    ctx = {"filters": filters, "tabs": worklist.TABS, "result": result, "counts": worklist.tab_counts(filters, user),
           "lines": queue_rows.present(result.rows, user, today, dict(staff)),
           "first_page": not request.args.get("after")}
    if wants_fragment():
        return render("coordinator/queue.html", "coordinator/_queue_results.html", oob=True, **ctx)
    alerts = worklist.unread_alerts(user)
    return render("coordinator/queue.html", alerts=alerts, alert_count=worklist.alert_count(user, alerts),
                  product_lines=queue_rows.product_lines(), statuses=STATUSES, cities=worklist.city_options(),
                  staff=staff, **ctx)


@bp.get("/queue/deadline-counts")
def queue_deadline_counts():
    """即将到期 / 已超时 counts of the tabs under the same filters, loaded by the queue page after it shows."""
    counts = worklist.deadline_counts(_filters(), current_user._get_current_object(), now=utcnow())
    return render("coordinator/_queue_deadline_counts.html", counts=counts)


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
