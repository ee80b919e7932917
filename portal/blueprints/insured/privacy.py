"""我的资料与授权 (SPEC §7): the consent gate, the notices, withdrawal, 下载我的资料, deletion requests,
and the consent to send one case's records abroad."""

from flask import abort, flash, make_response, redirect, request, send_file, url_for
from flask_login import current_user

from ...domain import consent, data_export, privacy_rights, transfers
from ...domain.errors import DomainError
from ...extensions import db
from ...web.params import safe_next
from ...web.render import redirect_after_post, render, wants_fragment
from ...web.saving import save
from . import bp
from .forms import ConsentForm, CrossBorderForm, CrossBorderWithdrawForm, DataRequestForm, WithdrawForm
from .queries import case_for_panel, my_insured

#: reachable without a current consent: the consent itself and the insured's rights over their data
UNGATED = {"insured.consent_form", "insured.consent_give", "insured.privacy_overview",
           "insured.privacy_withdraw", "insured.privacy_download", "insured.privacy_request"}


@bp.before_request
def consent_gate():
    """No /me page and no application before the insured consented to the privacy notice in effect."""
    if request.endpoint in UNGATED:
        return None
    if current_user.insured_id is None:  # an account bound to nobody (as my_insured answers)
        abort(404)
    if consent.has_consent_of(current_user.insured_id):  # by id: the page loads the insured only if it needs to
        return None
    target = url_for("insured.consent_form", next=request.full_path if request.method == "GET" else None)
    if wants_fragment():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


def _next_url() -> str:
    """Where the gate sent the insured from: one of their own pages, never another site."""
    target = safe_next(url_for("insured.home"))
    return target if target.startswith(url_for("insured.home")) else url_for("insured.home")


@bp.get("/consent")
def consent_form():
    """The privacy notice (summary first, full text one tap away) and its separate consent box."""
    return _consent_page(ConsentForm(formdata=None))


@bp.post("/consent")
def consent_give():
    """Record the insured's own consent to the notice in effect, then go where they were going."""
    form = ConsentForm()
    if not form.validate_on_submit():
        return _consent_page(form, status=422)
    consent.give(my_insured(), actor=current_user, channel="portal", ip=request.remote_addr)
    db.session.commit()
    flash("已记录您的同意。", "success")
    return redirect(_next_url(), code=303)


def _consent_page(form, status=200):
    insured = my_insured()
    return render("insured/consent_form.html", status=status, form=form, notice=consent.current_notice("privacy"),
                  previous=consent.latest(insured), next_url=request.args.get("next", ""))


@bp.get("/privacy")
def privacy_overview():
    """我的资料与授权: consent state and records, the notices, download, withdrawal and requests."""
    return _privacy_page()


def _privacy_page(*, withdraw_form=None, request_form=None, status=200):
    insured = my_insured()
    return render("insured/privacy.html", status=status, insured=insured, has_consent=consent.has_consent(insured),
                  notice=consent.current_notice("privacy"), records=consent.records(insured),
                  requests=privacy_rights.requests_of(insured),
                  withdraw_form=withdraw_form or WithdrawForm(formdata=None),
                  request_form=request_form or DataRequestForm(formdata=None))


@bp.post("/privacy/withdraw")
def privacy_withdraw():
    """Withdraw the consent: open cases stop (units released), nothing new is processed."""
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _privacy_page(withdraw_form=form, status=422)
    try:
        _, stopped = consent.withdraw(my_insured(), actor=current_user, channel="portal", note=form.note.data or "",
                                      ip=request.remote_addr)
    except DomainError as error:
        form.confirm.errors.append(error.message)
        return _privacy_page(withdraw_form=form, status=422)
    db.session.commit()
    flash(f"已撤回同意。{len(stopped)} 个进行中的申请已终止，服务次数已退回。" if stopped else "已撤回同意。",
          "success")
    return redirect(url_for("insured.privacy_overview"), code=303)


@bp.get("/privacy/download")
def privacy_download():
    """下载我的资料: a ZIP of the insured's own data; every download is in the audit log."""
    insured = my_insured()
    archive, _ = data_export.build(insured, actor=current_user)
    db.session.commit()
    return send_file(archive, mimetype="application/zip", as_attachment=True, max_age=0,
                     download_name=f"my-data-{insured.policy.policy_no}.zip")


@bp.post("/privacy/requests")
def privacy_request():
    """Ask for deletion or restriction of the insured's data; a supervisor decides and records why."""
    form = DataRequestForm()
    if not form.validate_on_submit():
        return _privacy_page(request_form=form, status=422)
    privacy_rights.file_request(my_insured(), kind=form.kind.data, text=form.text.data or "", actor=current_user,
                                channel="portal")
    db.session.commit()
    flash("已收到您的请求，我们会在 15 个工作日内处理并告知结果。", "success")
    return redirect(url_for("insured.privacy_overview"), code=303)


@bp.get("/cases/<int:case_id>/cross-border")
def cross_border_form(case_id):
    """The cross-border notice for this case: the recipient to name, the documents that would go."""
    case = case_for_panel(case_id)
    return _cross_border_page(case, CrossBorderForm(formdata=None))


@bp.post("/cases/<int:case_id>/cross-border")
def cross_border_give(case_id):
    """Record the insured's consent to send this case's records to the hospital they named."""
    case = case_for_panel(case_id)
    form = CrossBorderForm()
    if not form.validate_on_submit():
        return _cross_border_page(case, form, status=422)
    try:
        transfers.give(case, hospital_id=form.hospital_id.data, actor=current_user, channel="portal",
                       ip=request.remote_addr)
    except DomainError as error:
        form.hospital_id.errors.append(error.message)
        return _cross_border_page(case, form, status=422)
    db.session.commit()
    flash("已记录您的出境同意，我们会按您选定的医院发送资料。", "success")
    return redirect_after_post(url_for("insured.case_detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/cross-border/withdraw")
def cross_border_withdraw(case_id):
    """Withdraw the consent naming one overseas hospital, before anything was sent to it."""
    case = case_for_panel(case_id)
    form = CrossBorderWithdrawForm()
    if not form.validate_on_submit():
        return _cross_border_page(case, CrossBorderForm(formdata=None), status=422)
    result = save(form, lambda: transfers.withdraw(case, hospital_id=form.hospital_id.data, actor=current_user,
                                                   channel="portal", ip=request.remote_addr))
    if not result.ok:
        flash(result.message, "error")
        return _cross_border_page(case, CrossBorderForm(formdata=None), status=result.status)
    flash("已撤回出境同意，我们不会向该医院发送资料。", "success")
    return redirect_after_post(url_for("insured.case_detail", case_id=case.id))


def _cross_border_page(case, form, status=200):
    form.set_hospitals(transfers.recipients(case))
    return render("insured/cross_border.html", status=status, case=case, form=form, can_ask=transfers.can_ask(case),
                  notice=consent.current_notice("cross_border"), documents=transfers.documents_to_send(case),
                  given=transfers.consents_for_case(case), standing=transfers.standing(case),
                  withdraw_form=CrossBorderWithdrawForm(formdata=None), line=case.policy.product.line(case.line_code))
