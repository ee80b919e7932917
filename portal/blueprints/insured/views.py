"""Insured views: 我的服务 (home) and the inbox of updates."""

from flask import redirect, url_for
from sqlalchemy import update

from ... import calendar
from ...domain import ledger
from ...extensions import db
from ...models import Notification, utcnow
from ...web.forms import EmptyForm
from ...web.params import page_number
from ...web.render import render
from . import bp
from .queries import home_facts, inbox_page, my_cases_page, my_insured, product_lines, unread_count


@bp.context_processor
def _navigation():
    # a callable, so only full pages (the layout's menu) pay for the count, never fragments
    return {"unread_count": unread_count}


@bp.get("/")
def home():
    """我的服务: the policy, entitlements left per line and every case with its promise; the insured only."""
    me = home_facts()
    lines = product_lines(me.product_id)
    today = calendar.business_today()
    return render("insured/home.html", me=me, year=ledger.policy_year(me, today),
                  balances=ledger.balances_of(me.insured_id, me, lines, today),
                  line_names={line.code: line.name for line in lines}, cases=my_cases_page(page_number()))


@bp.get("/inbox")
def inbox_list():
    """消息: the updates sent to the insured, newest first; the insured only."""
    my_insured()
    return render("insured/inbox_list.html", notes=inbox_page(page_number()),
                  form=EmptyForm())


@bp.post("/inbox/read")
def inbox_read():
    """Mark every update in the insured's inbox as read; the insured only."""
    form = EmptyForm()
    if form.validate_on_submit():
        db.session.execute(update(Notification)
                           .where(Notification.insured_id == my_insured().id, Notification.read_at.is_(None))
                           .values(read_at=utcnow()))
        db.session.commit()
    return redirect(url_for("insured.inbox_list"), code=303)
