"""Coordinator forms: hotline search and intake, document review and staff upload (the per-action forms
are built in action_forms.py)."""


from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ...domain.product_data import DOCUMENT_KINDS
from ...domain.submissions import new_key
from ...models import CHANNELS, ID_TYPES
from .choices import Choices


class StaffForm(FlaskForm):
    """A form whose built-in messages (bad date, bad number...) come in Chinese."""

    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            # WTForms' own zh catalogue; Flask-WTF would fall back to English without Flask-Babel
            return DefaultMeta.get_translations(self, form)


class CaseForm(StaffForm):
    """A case form carrying the version the coordinator saw (the stale-save check)."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes of which at least one must be ticked: the rule is checked on the server, never as
    `required` on each box (the browser would then demand every box be ticked)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __iter__(self):
        for option in super().__iter__():
            option.flags.required = False
            yield option


# ---- hotline intake -------------------------------------------------------------------------------------

class CallerSearchForm(StaffForm):
    """Find the caller: name + ID number, or the policy number."""

    name = StringField("姓名", validators=[Optional(), Length(max=60)])
    id_number = StringField("证件号码", validators=[Optional(), Length(max=40)])
    policy_no = StringField("保单号", validators=[Optional(), Length(max=40)])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        given = {name: (self[name].data or "").strip() for name in ("name", "id_number", "policy_no")}
        if given["policy_no"] or (given["name"] and given["id_number"]):
            return True
        self.policy_no.errors.append("请填写姓名和证件号码，或填写保单号。")
        return False


HOTLINE_CHANNELS = [(code, CHANNELS[code]) for code in ("ys_hotline", "sd_hotline")]


def intake_form(line, choices: Choices, *, bind: bool = False) -> StaffForm:
    """The hotline request form of one service line: caller identity, illness and where."""
    attrs = {
        "submission_key": HiddenField(default=new_key),
        "channel": RadioField("来电渠道", choices=HOTLINE_CHANNELS, default="ys_hotline",
                              validators=[InputRequired("请选择来电渠道。")]),
        "name": StringField("来电人自报姓名", validators=[DataRequired("请填写来电人姓名。"), Length(max=60)]),
        "id_type": SelectField("证件类型", choices=list(ID_TYPES.items()), default="id_card"),
        "id_number": StringField("来电人自报证件号码", validators=[DataRequired("请填写证件号码。"), Length(max=40)]),
        "illness": SelectField("所患重度疾病", choices=[("", "— 请选择 —"), *choices.illnesses()],
                               validators=[Optional()]),
        "first_diagnosis_date": DateField("初次确诊日期", validators=[Optional()]),
        "diagnosis": StringField("诊断（选填）", validators=[Optional(), Length(max=200)]),
        "notes": TextAreaField("来电备注（选填）", validators=[Optional(), Length(max=500)]),
    }
    if line.overseas:
        attrs["country"] = SelectField("就医国家", choices=[("", "— 请选择 —"), *choices.countries()],
                                       validators=[Optional()])
    if line.cities is not None:
        attrs["city"] = SelectField("就医城市", choices=[("", "— 请选择 —"), *((c, c) for c in line.cities)],
                                    validators=[Optional()])
    if line.cities is not None or line.overseas:
        attrs["hospital_id"] = SelectField("意向医院（选填）", choices=[("", "— 稍后确定 —"),
                                                                 *choices.hospitals(overseas=line.overseas)],
                                           validators=[Optional()])
    if line.cities is not None:
        attrs["department"] = StringField("科室（选填）", validators=[Optional(), Length(max=60)])
    if line.code == "green_inpatient":
        attrs["admission_slip_date"] = DateField("住院条开具日期（如已开具）", validators=[Optional()])
    attrs["preferred_date"] = DateField("希望就诊/服务日期（选填）", validators=[Optional()])
    form_class = type("IntakeForm", (StaffForm,), attrs)
    return form_class() if bind else form_class(formdata=None)


def intake_data(form) -> dict:
    """The request as `intake.submit_request` takes it: empty answers left out."""
    data = {}
    for name, field in form._fields.items():
        if name in ("channel", "csrf_token", "submission_key") or field.data in (None, ""):
            continue
        data[name] = field.data.strip() if isinstance(field.data, str) else field.data
    return data


# ---- documents ------------------------------------------------------------------------------------------

class ReviewForm(CaseForm):
    """Accept or reject one uploaded document; a rejection needs a reason the insured will read."""

    decision = RadioField("审核结果", choices=[("accepted", "接受"), ("rejected", "退回")],
                          validators=[InputRequired("请选择接受或退回。")])
    reason = StringField("退回原因（退回时必填，客户可见）", validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.decision.data == "rejected" and not (self.reason.data or "").strip():
            self.reason.errors.append("请填写退回原因，客户会看到这条说明。")
            return False
        return True


class StaffUploadForm(CaseForm):
    """A document received by email or post, uploaded by the coordinator on the insured's behalf."""

    submission_key = HiddenField(default=new_key)
    kind = SelectField("资料类型", choices=[("", "— 请选择 —"), *DOCUMENT_KINDS.items()],
                       validators=[DataRequired("请选择资料类型。")])
    file = FileField("文件（JPG、PNG、HEIC 或 PDF）")
