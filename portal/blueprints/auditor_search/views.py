"""POST /audit/search/id-number: cases of the person with this full ID number (auditors only)."""

from flask import current_app

from ...domain.identity import mask_id, normalize_id
from ...extensions import db
from ...web.audit import record
from ...web.render import render
from ..auditor import queries
from ..auditor.forms import CaseFilterForm, IdNumberSearchForm
from ..auditor.labels import labels
from . import bp


@bp.post("/id-number")
def by_id_number():
    """Search cases by full ID number (in the POST body, never the URL); the search is audited."""
    form, filters = IdNumberSearchForm(), CaseFilterForm()
    if not form.validate_on_submit():
        # the error belongs at the field: htmx gets the search form back in place of itself, not the results
        response = render("auditor/case_list.html", "auditor/_id_search.html", form=filters, id_form=form,
                          cases=None, labels=labels(), status=422)
        response.headers.update({"HX-Retarget": "#id-search", "HX-Reswap": "outerHTML"})
        return response
    number = normalize_id(form.id_number.data)
    cases = queries.search_cases(id_number=number, page=1)
    record("case.search_id_number", detail={"id_number": mask_id(number), "found": cases.total})
    db.session.commit()
    current_app.logger.debug("auditor ID search: %s cases", cases.total)
    return render("auditor/case_list.html", "auditor/_case_results.html", form=filters, id_form=form, cases=cases,
                  labels=labels())
