"""Reports sent to 史带: which were e-mailed and which an auditor has marked 已阅 (supervisors; SPEC §6)."""

from flask import request
from sqlalchemy.orm import joinedload

from ...domain import insurer
from ...extensions import db
from ...models import InsurerDelivery
from ...web.params import PER_PAGE, page_number
from ...web.render import render
from . import bp


@bp.get("/admin/deliveries")
def delivery_list():
    """Every report sent to 史带 with its e-mail and 已阅 state; `?open=1` shows the unsent or unread only."""
    only_open = request.args.get("open") == "1"
    stmt = insurer.listing(only_open=only_open).options(joinedload(InsurerDelivery.read_by))
    deliveries = db.paginate(stmt, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render("coordinator/admin/delivery_list.html", "coordinator/admin/_delivery_results.html",
                  deliveries=deliveries, counts=insurer.status(), only_open=only_open)
