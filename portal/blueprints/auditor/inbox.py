"""The auditors' inbox (SPEC §6): every report 英仕 sent to 史带, and the one write an auditor makes — 已阅."""

from flask import abort, flash, url_for
from sqlalchemy.orm import joinedload

from ...domain import insurer
from ...extensions import db
from ...models import InsurerDelivery
from ...web.audit import who
from ...web.forms import EmptyForm
from ...web.params import page_number
from ...web.render import redirect_after_post, render
from . import bp
from .queries import PER_PAGE


@bp.get("/inbox")
def inbox_list():
    """Reports sent to 史带, newest first, unread marked; auditors only."""
    stmt = insurer.listing().options(joinedload(InsurerDelivery.case))
    deliveries = db.paginate(stmt, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render("auditor/inbox_list.html", "auditor/_inbox_results.html", deliveries=deliveries,
                  form=EmptyForm(), counts=insurer.status())


@bp.post("/inbox/<int:delivery_id>/read")
def inbox_read(delivery_id):
    """Mark one delivery 已阅 — the auditor's only write (allowed by web.access.AUDITOR_WRITES), audited."""
    row = db.session.get(InsurerDelivery, delivery_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    insurer.mark_read(row, **who())
    db.session.commit()
    flash(f"已标记为已阅：{row.title}", "success")
    return redirect_after_post(url_for("auditor.inbox_list"))
