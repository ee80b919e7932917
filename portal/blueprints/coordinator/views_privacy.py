"""On the phone with the insured (SPEC §7): record a verbal cross-border consent for one case, a withdrawal of
consent, or a deletion/restriction request; staff."""

from functools import partial

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...domain import consent, privacy_rights, transfers
from ...extensions import db
from ...models import InsuredPerson
from ...web.audit import who
from ...web.forms import ChineseForm
from ...web.render import render
from ...web.saving import save
from . import bp
from .views_common import get_case_for_write_or_403, get_case_or_404


class PhoneCrossBorderForm(ChineseForm):
    hospital_id = SelectField("来电人同意接收资料的海外医院", choices=[], validate_choice=False,
                              validators=[DataRequired("请选择海外医院。")])
    read_aloud = BooleanField("我已向来电人宣读出境告知书（接收方、国家和资料），来电人口头同意发送",
                              validators=[DataRequired("请先宣读出境告知书并取得口头同意。")])


class PhoneWithdrawForm(ChineseForm):
    confirm = BooleanField("来电人本人要求撤回个人信息处理同意，已告知进行中的服务将终止",
                           validators=[DataRequired("请勾选确认。")])
    note = StringField("来电说明（选填）", validators=[Optional(), Length(max=300)])


class PhoneRequestForm(ChineseForm):
    kind = RadioField("来电人要求", choices=[("deletion", "删除资料"), ("restriction", "限制处理资料")],
                      validators=[InputRequired("请选择删除或限制处理。")])
    text = TextAreaField("说明（选填）", validators=[Optional(), Length(max=500)])


@bp.get("/cases/<int:case_id>/cross-border")
def case_cross_border(case_id):
    """The case's cross-border consents and transfers, and the form to record a verbal consent; staff."""
    return _cross_border_page(get_case_or_404(case_id), PhoneCrossBorderForm(formdata=None))


@bp.post("/cases/<int:case_id>/cross-border")
def case_cross_border_record(case_id):
    """Record the caller's verbal consent to send this case's records to the hospital they named; staff."""
    case = get_case_for_write_or_403(case_id)
    form = PhoneCrossBorderForm()
    give = partial(transfers.give, case, hospital_id=form.hospital_id.data, channel="hotline", **who())
    if form.validate_on_submit() and save(form, give, field="hospital_id").ok:
        flash("已记录来电人的出境同意。", "success")
        return redirect(url_for("coordinator.case_detail", case_id=case.id), code=303)
    return _cross_border_page(case, form, status=422)


def _cross_border_page(case, form, status=200):
    form.hospital_id.choices = [("", "— 请选择 —")] + [(str(h.id), f"{h.country} · {h.city} · {h.name}")
                                                      for h in transfers.recipients(case)]
    return render("coordinator/case_cross_border.html", status=status, case=case, form=form,
                  can_ask=transfers.can_ask(case), notice=consent.current_notice("cross_border"),
                  documents=transfers.documents_to_send(case), consents=transfers.consents_for_case(case),
                  sent=transfers.for_case(case))


def _insured_or_404(insured_id: int) -> InsuredPerson:
    return db.session.get(InsuredPerson, insured_id) or abort(404)


@bp.get("/insured/<int:insured_id>/privacy")
def insured_privacy(insured_id):
    """The caller's consent records and requests, with the withdrawal and request forms; staff."""
    return _privacy_page(_insured_or_404(insured_id))


def _privacy_page(insured, *, withdraw_form=None, request_form=None, status=200):
    return render("coordinator/insured_privacy.html", status=status, insured=insured,
                  has_consent=consent.has_consent(insured), records=consent.records(insured),
                  requests=privacy_rights.requests_of(insured),
                  withdraw_form=withdraw_form or PhoneWithdrawForm(formdata=None),
                  request_form=request_form or PhoneRequestForm(formdata=None))


@bp.post("/insured/<int:insured_id>/privacy/withdraw")
def insured_privacy_withdraw(insured_id):
    """Record a withdrawal by phone: the caller's open cases stop (units released); staff."""
    insured, form = _insured_or_404(insured_id), PhoneWithdrawForm()
    withdraw = partial(consent.withdraw, insured, channel="hotline", note=form.note.data or "", **who())
    if form.validate_on_submit() and (result := save(form, withdraw, field="confirm")).ok:
        flash(f"已记录撤回同意，{len(result.value[1])} 个进行中的案件已终止。", "success")
        return redirect(url_for("coordinator.insured_privacy", insured_id=insured.id), code=303)
    return _privacy_page(insured, withdraw_form=form, status=422)


@bp.post("/insured/<int:insured_id>/privacy/requests")
def insured_privacy_request(insured_id):
    """Queue a caller's deletion/restriction request for a supervisor to decide; staff."""
    insured, form = _insured_or_404(insured_id), PhoneRequestForm()
    if not form.validate_on_submit():
        return _privacy_page(insured, request_form=form, status=422)
    privacy_rights.file_request(insured, kind=form.kind.data, text=form.text.data or "", actor=current_user,
                                channel="hotline")
    db.session.commit()
    flash("已登记请求，主管将处理并告知来电人结果。", "success")
    return redirect(url_for("coordinator.insured_privacy", insured_id=insured.id), code=303)
