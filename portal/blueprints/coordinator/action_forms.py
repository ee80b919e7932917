"""One form per lifecycle action, built by one factory from the action's field names in `lines.ACTIONS`
and its presentation entry in `portal/web/action_ui.py` — not hand-written copies of per-line forms."""

from datetime import datetime

from flask_wtf.file import FileField

from ... import calendar
from ...web import action_ui
from ...web.forms import VersionedForm
from .choices import Choices


class ActionForm(VersionedForm):
    """Base of the per-action forms; `domain_args()` gives perform() its keyword arguments."""

    action_code = ""

    def domain_args(self) -> dict:
        args = {}
        for name in self.domain_fields:
            value = self[name].data
            if value in (None, "", []):
                continue
            if isinstance(value, datetime):
                value = value.replace(tzinfo=calendar.BUSINESS_TZ)  # typed as Beijing wall-clock time
            elif name == "launch":
                value = value == "yes"
            elif isinstance(value, str):
                value = value.strip()
            args[name] = value
        return args

    @property
    def file_fields(self) -> list:
        return [f for f in self if f.type == "FileField"]


def action_form(spec, case, choices: Choices, *, bind: bool = False) -> ActionForm:
    """The form of one action for one case: bound to the posted data, or fresh with defaults."""
    ctx = action_ui.BuildContext(case, spec.code, choices, action_ui.upload_kind(spec.code, case.line_code))
    names = action_ui.shown_fields(spec, case.line_code)
    attrs = {name: action_ui.builder(spec.code, name)(ctx) for name in names}
    attrs["domain_fields"] = names
    attrs["action_code"] = spec.code
    if ctx.upload_kind:
        attrs["upload"] = FileField(f"上传{choices.kind_label(ctx.upload_kind)}（PDF）")
        if extra := action_ui.extra_upload(spec.code, case.line_code):
            attrs[extra.name] = FileField(extra.label)
    form_class = type(f"{spec.code.title().replace('_', '')}Form", (ActionForm,), attrs)
    # the prefix keeps field ids unique when every action's form is on one page
    if bind:
        return form_class(prefix=f"{spec.code}-")  # the version must come from the page, never from here
    return form_class(formdata=None, prefix=f"{spec.code}-", version=case.version)
