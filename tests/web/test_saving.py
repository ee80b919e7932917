"""portal/web/saving.save: one commit, or a rollback with the refusal at the field that caused it."""

from sqlalchemy import select
from wtforms import StringField

from portal.domain.errors import DomainError, StaleCaseError
from portal.extensions import db
from portal.models import Hospital
from portal.web.forms import ChineseForm
from portal.web.saving import STALE_MESSAGE, save


class _Form(ChineseForm):
    name = StringField()
    upload = StringField()


def _form(app):
    with app.test_request_context(method="POST"):
        return _Form(meta={"csrf": False})


def _add(name: str, error: Exception | None = None):
    db.session.add(Hospital(name=name, city="北京"))
    db.session.flush()
    if error:
        raise error
    return name


def _names():
    db.session.expire_all()
    return list(db.session.scalars(select(Hospital.name)))


def test_a_write_that_goes_through_is_committed_and_its_value_returned(app):
    form = _form(app)
    result = save(form, lambda: _add("北京协和医院"))
    db.session.rollback()  # nothing pending: the row is already committed
    assert (result.ok, result.value, _names()) == (True, "北京协和医院", ["北京协和医院"])


def test_a_refusal_rolls_back_and_lands_at_its_field_or_the_form_alias(app):
    form = _form(app)
    result = save(form, lambda: _add("甲", DomainError("名称重复", "name")))
    assert (result.ok, result.status, form.name.errors, _names()) == (False, 422, ["名称重复"], [])
    result = save(form, lambda: _add("乙", DomainError("文件太大", "document_id")))
    assert form.upload.errors == ["文件太大"]  # document_id is uploaded through the form's `upload` field
    result = save(form, lambda: _add("丙", DomainError("别处的问题", "nowhere")), field="name")
    assert form.name.errors[-1] == "别处的问题" and result.status == 422


def test_a_stale_save_is_409_with_the_one_stale_message_above_the_form(app):
    form = _form(app)
    result = save(form, lambda: _add("丁", StaleCaseError()))
    assert (result.status, result.message, form.form_errors, _names()) == (409, STALE_MESSAGE, [STALE_MESSAGE], [])
