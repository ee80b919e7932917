"""进度: one case's status, promise, timeline, arrangements and reports; cancel before the service starts."""

from flask import flash, url_for
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from ... import calendar
from ...domain import documents, history, lifecycle, lines, ratings, sla, transfers, waiting, wording
from ...domain.product_data import LINE_TERMS, REPORT_KINDS
from ...web.forms import VersionedForm
from ...web.render import redirect_after_post, render, wants_fragment
from ...web.saving import save
from . import bp
from .forms import AdmissionSlipForm, RatingForm, upload_rule
from .queries import (
    case_for_panel,
    case_notifications,
    corrected_day,
    current_appointment,
    current_escort,
    get_case_or_404,
    open_requests,
)


class CancelForm(VersionedForm):
    note = TextAreaField("取消原因（选填）", validators=[Optional(), Length(max=200, message="请不超过 200 字。")])


@bp.get("/cases/<int:case_id>")
def case_detail(case_id):
    """进度: the case's status, promise, milestones, arrangements and reports; the case's insured only."""
    return render("insured/case_detail.html", **panel(case_for_panel(case_id)))


@bp.get("/cases/<int:case_id>/status")
def case_status(case_id):
    """The case panel for polling; answers 286 (stop polling) once the case is closed; its insured only."""
    case = case_for_panel(case_id)
    status = 286 if wants_fragment() and not case.is_open else 200
    return render("insured/case_detail.html", "insured/_case_panel.html", status=status, **panel(case))


@bp.get("/cases/<int:case_id>/cancel")
def case_cancel_confirm(case_id):
    """The confirmation page for cancelling (works without JavaScript); the case's insured only."""
    case = get_case_or_404(case_id)
    return _confirm_page(case, CancelForm(version=case.version))


@bp.post("/cases/<int:case_id>/cancel")
def case_cancel(case_id):
    """Cancel the request before the service starts (the lifecycle decides); the case's insured only."""
    case = get_case_or_404(case_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _confirm_page(case, form, status=422)
    result = save(form, lambda: lifecycle.perform(case, "cancel", actor=current_user, note=form.note.data or "",
                                                  expected_version=form.expected_version()), field="note")
    if not result.ok:
        return _refused(case, form, result)
    flash("您的申请已取消，占用的服务次数已退回。", "success")
    return redirect_after_post(url_for("insured.case_detail", case_id=case.id), trigger="case-updated")


@bp.post("/cases/<int:case_id>/rating")
def case_rate(case_id):
    """服务评价: rate a completed case once (1–5, comment optional); the case's insured only."""
    case = case_for_panel(case_id)
    form = RatingForm()
    result = save(form, lambda: ratings.rate(case, actor=current_user, score=form.score.data,
                                             comment=form.comment.data or ""), field="score") \
        if form.validate_on_submit() else None
    if result is None or not result.ok:
        if result is not None and not ratings.can_rate(case, current_user):
            flash(result.message, "error")  # once rated, the page has no form to put the message on
        return render("insured/case_detail.html", status=422, **panel(case, rating_form=form))
    flash("感谢您的评价！", "success")
    return redirect_after_post(url_for("insured.case_detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/admission-slip")
def case_admission_slip(case_id):
    """住院条: enter the slip's date and file it after applying without it (the clock starts); its insured only."""
    case = case_for_panel(case_id)
    form = AdmissionSlipForm()
    result = save(form, lambda: _enter_slip(case, form), field="admission_slip_date") \
        if form.validate_on_submit() else None
    if result is None or not result.ok:
        if result is not None and not slip_open(case):
            flash(result.message, "error")  # entered meanwhile or no longer allowed: no form to put it on
        return render("insured/case_detail.html", status=result.status if result else 422,
                      **panel(case, slip_form=form))
    flash("已收到您的住院条，住院安排时限已开始计算。", "success")
    return redirect_after_post(url_for("insured.case_detail", case_id=case.id), trigger="case-updated")


def _enter_slip(case, form):
    """The date through the lifecycle (it starts the clock), then the slip filed and recorded."""
    lifecycle.perform(case, "enter_admission_slip", actor=current_user, expected_version=form.expected_version(),
                      admission_slip_date=form.admission_slip_date.data)
    saved = documents.save_upload(case, form.admission_slip.data, kind="admission_slip", actor=current_user)
    documents.record_upload(case, [saved], actor=current_user)


def _refused(case, form, result):
    """A refused cancel: back on the confirm page (no JS), or the case page with the message (htmx)."""
    if wants_fragment():
        flash(result.message, "error")
        return redirect_after_post(url_for("insured.case_detail", case_id=case.id))
    return _confirm_page(case, form, status=result.status)


def _confirm_page(case, form, *, status=200):
    return render("insured/case_cancel.html", status=status, case=case, form=form, line=_line(case),
                  can_cancel=_can_cancel(case))


def _line(case):
    return case.policy.product.line(case.line_code)


def _can_cancel(case) -> bool:
    return any(spec.code == "cancel" for spec in lifecycle.available_actions(case, current_user))


def slip_open(case) -> bool:
    """Applied before the 住院条 existed, and it may still be entered here (until 英仕 confirms the hospital)."""
    return case.admission_slip_date is None and lifecycle.refusal(case, "enter_admission_slip", current_user) is None


def panel(case, *, rating_form=None, slip_form=None) -> dict:
    """Everything the case panel shows, gathered once for the page and the polled fragment."""
    visible = documents.active_documents(case)
    failed = [r for r in case.eligibility or [] if not r.get("passed")]
    requests = open_requests(case)
    missing = list(dict.fromkeys([*documents.missing_kinds(case), *waiting.still_wanted(case, requests)])) \
        if case.is_open else []
    can_rate = ratings.can_rate(case, current_user)
    return {
        "case": case,
        "line": _line(case),
        "promise": sla.promise(case),
        "clock": sla.current_clock(case),
        # newest first on the phone (issue 14)
        "events": history.timeline(case, include_internal=False)[::-1],
        "news": case_notifications(case),
        "terms": LINE_TERMS.get(case.line_code, []),
        "outcome": wording.outcome_sentence(case),
        "for_insured": wording.for_insured,
        "rating": ratings.rating_of(case) if case.status == "completed" else None,
        "rating_form": (rating_form or RatingForm(formdata=None)) if can_rate else None,
        "rating_labels": ratings.SCORES,
        # applied before the 住院条 existed: the insured enters it here (outside the polled panel)
        "slip_form": (slip_form or AdmissionSlipForm(formdata=None, version=case.version)) if slip_open(case) else None,
        "today_iso": calendar.business_today().isoformat(),
        "upload_rule": upload_rule(),
        "milestones": lines.MILESTONES.get(case.line_code, []),
        "requests": requests,
        "appointment": current_appointment(case),
        "served_on": corrected_day(case),
        "no_show_terms": wording.NO_SHOW_TERMS,
        "escort": current_escort(case),
        "reports": [d for d in visible if d.kind in REPORT_KINDS and d.delivered_at is not None],
        "uploaded": [d for d in visible if d.kind not in REPORT_KINDS],
        "missing": missing,
        "failed": failed,
        "termination": lines.TERMINATION_REASONS.get(case.termination_reason or ""),
        "can_cancel": _can_cancel(case),
        "kind_label": documents.kind_label,
        # an overseas case whose records are not sent yet and no recipient is consented to (SPEC §7)
        "cross_border_due": transfers.can_ask(case) and not transfers.standing(case),
    }
