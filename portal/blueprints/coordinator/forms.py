"""Coordinator forms: hotline search and intake, document review and staff upload (the per-action forms
are built in action_forms.py)."""


from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...domain.lines import CITY_ONLY
from ...domain.product_data import DOCUMENT_KINDS
from ...domain.submissions import new_key
from ...models import CHANNELS, ID_TYPES
from ...web.forms import ChineseForm, PlainText, VersionedForm
from .choices import Choices

# ---- hotline intake -------------------------------------------------------------------------------------

class CallerSearchForm(ChineseForm):
    """Find the caller: name + ID number, or the policy number."""

    name = StringField("姓名", validators=[Optional(), Length(max=60), PlainText()])
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


def intake_form(line, choices: Choices, *, bind: bool = False, needs_consent: bool = False) -> ChineseForm:
    """The hotline request form of one service line: caller identity, illness and where; while the caller has
    not consented to the privacy notice in effect, the box recording their verbal consent (SPEC §7)."""
    attrs = {
        "submission_key": HiddenField(default=new_key),
        "channel": RadioField("来电渠道", choices=HOTLINE_CHANNELS, default="ys_hotline",
                              validators=[InputRequired("请选择来电渠道。")]),
        "name": StringField("来电人自报姓名", validators=[DataRequired("请填写来电人姓名。"), Length(max=60),
                                                        PlainText()]),
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
    if line.code in CITY_ONLY:  # escort: the hospital the caller goes to may be outside the directory (seed)
        attrs["hospital_name"] = StringField("或医院名称（目录外，选填）", validators=[Optional(), Length(max=120)])
    if line.cities is not None:
        attrs["department"] = StringField("科室（选填）", validators=[Optional(), Length(max=60)])
    if line.code == "green_inpatient":
        attrs["admission_slip_date"] = DateField("住院条开具日期（如已开具）", validators=[Optional()])
    attrs["preferred_date"] = DateField("希望就诊/服务日期（选填）", validators=[Optional()])
    if needs_consent:
        # not required here: the domain refuses the case without consent, with its message at this box
        attrs["consent_read"] = BooleanField(
            "我已向来电人宣读上面的告知书，来电人口头表示单独同意处理其健康信息和证件号码", default=False)
    form_class = type("IntakeForm", (ChineseForm,), attrs)
    return form_class() if bind else form_class(formdata=None)


def intake_data(form) -> dict:
    """The request as `intake.submit_request` takes it: empty answers left out."""
    data = {}
    for name, field in form._fields.items():
        if name in ("channel", "csrf_token", "consent_read", "submission_key") or field.data in (None, ""):
            continue
        data[name] = field.data.strip() if isinstance(field.data, str) else field.data
    return data


# ---- documents ------------------------------------------------------------------------------------------

class ReviewForm(VersionedForm):
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


class StaffUploadForm(VersionedForm):
    """A document received by email or post, uploaded by the coordinator on the insured's behalf."""

    submission_key = HiddenField(default=new_key)
    kind = SelectField("资料类型", choices=[("", "— 请选择 —"), *DOCUMENT_KINDS.items()],
                       validators=[DataRequired("请选择资料类型。")])
    file = FileField("文件（JPG、PNG、HEIC 或 PDF）")
