"""个人信息: retention periods, the restriction job, deletion/restriction requests and the legal-hold view
(supervisors; SPEC §7 Rights)."""

from functools import partial

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import IntegerField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from ...domain import privacy_rights
from ...extensions import db
from ...models import DataRequest, Restriction, RetentionPeriod
from ...web.files import document_response
from ...web.forms import ChineseForm, EmptyForm
from ...web.render import render
from ...web.saving import save
from . import bp


class DecideRequestForm(ChineseForm):
    decision = RadioField("处理结果", choices=[("grant", "同意（限制处理该客户的资料）"), ("refuse", "不同意")],
                          validators=[InputRequired("请选择同意或不同意。")])
    reason = StringField("处理理由（客户可见）", validators=[DataRequired("请填写处理理由，客户会看到这条说明。"),
                                                   Length(max=300)])


class LegalHoldForm(ChineseForm):
    document_id = IntegerField("文件编号", validators=[InputRequired("请填写文件编号。")])
    reason = StringField("调阅依据（如法院调查令编号，记入审计日志）",
                         validators=[DataRequired("请填写调阅依据。"), Length(max=300)])


@bp.get("/admin/privacy")
def privacy_admin():
    """Retention periods, the request queue, recent decisions and restrictions; supervisors only."""
    return _page()


def _page(*, decide_forms=None, hold_form=None, status=200):
    queue = privacy_rights.open_requests()
    forms = {r.id: (decide_forms or {}).get(r.id) or DecideRequestForm(prefix=f"r{r.id}", formdata=None)
             for r in queue}
    return render("coordinator/admin/privacy.html", status=status, queue=queue, forms=forms,
                  periods=list(db.session.scalars(select(RetentionPeriod).order_by(RetentionPeriod.id))),
                  decided=privacy_rights.recent_decisions(), run_form=EmptyForm(),
                  hold_form=hold_form or LegalHoldForm(formdata=None),
                  restrictions=list(db.session.scalars(select(Restriction).order_by(Restriction.id.desc())
                                                       .limit(20))))


@bp.post("/admin/privacy/restrict")
def privacy_restrict():
    """Run the restriction job now: every record past its retention period is restricted; supervisors only."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    result = privacy_rights.restrict_expired(actor=current_user)
    db.session.commit()
    flash(f"限制处理完成：文件 {result.documents} 份，病情描述 {result.case_texts} 条。", "success")
    return redirect(url_for("supervisor.privacy_admin"), code=303)


@bp.post("/admin/privacy/requests/<int:request_id>")
def privacy_request_decide(request_id):
    """Grant or refuse one deletion/restriction request with the reason the insured reads; supervisors only."""
    request = db.session.get(DataRequest, request_id) or abort(404)
    form = DecideRequestForm(prefix=f"r{request.id}")
    decide = partial(privacy_rights.decide, request, grant=form.decision.data == "grant", reason=form.reason.data,
                     actor=current_user)
    if form.validate_on_submit() and save(form, decide, field="reason").ok:
        flash("已记录处理结果并通知客户。", "success")
        return redirect(url_for("supervisor.privacy_admin"), code=303)
    return _page(decide_forms={request_id: form}, status=422)


@bp.post("/admin/privacy/legal-hold")
def privacy_legal_hold():
    """Open one restricted document under a stated legal ground; audited; supervisors only."""
    form = LegalHoldForm()
    hold = partial(privacy_rights.legal_hold_document, form.document_id.data, reason=form.reason.data,
                   actor=current_user)
    if form.validate_on_submit() and (result := save(form, hold, field="document_id")).ok:
        return document_response(result.value, download=True, legal_hold=True)
    return _page(hold_form=form, status=422)
