"""One form per lifecycle action, built from the action's field names in `lines.ACTIONS`: the field table
below is data, read by one factory — not six hand-written copies of the per-line forms."""

from datetime import datetime

from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    DecimalField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ... import calendar
from ...domain import lines
from ...domain.product_data import DOCUMENT_KINDS
from ...web.params import id_or_none
from .choices import Choices
from .forms import CaseForm, MultiCheckboxField

#: what a staff upload for a `document_id` action is filed as; `deliver` files the line's deliverable
UPLOAD_KIND = {"issue_report": "report", "report_received": "report", "report_translated": "report_translation"}
#: extra optional uploads delivered together with the deliverable
EXTRA_UPLOADS = {("deliver", "overseas_treatment"): ("bills_upload", "bills", "医疗账单汇总（PDF，选填）")}

DATE_LABELS = {"admission_slip_date": "住院条开具日期", "applied_on": "签证申请日期", "decided_on": "签证决定日期",
               "on": "日期", "day": "陪诊日期", "bill_date": "账单日期"}
DATETIME_LABELS = {"scheduled_at": "就诊日期与时间", "starts_at": "陪诊开始时间", "ends_at": "陪诊结束时间"}
CURRENCIES = [("USD", "USD 美元"), ("EUR", "EUR 欧元"), ("JPY", "JPY 日元"), ("SGD", "SGD 新加坡元"),
              ("GBP", "GBP 英镑"), ("CNY", "CNY 人民币")]


def upload_kind(code: str, line_code: str) -> str | None:
    """The document kind an upload on this action is filed as."""
    if code == "deliver":
        return lines.DELIVERABLES.get(line_code)
    return UPLOAD_KIND.get(code)


def _select(label, options, *, blank="— 请选择 —", required=None, coerce=str):
    validators = [InputRequired(required)] if required else [Optional()]
    return SelectField(label, choices=[("", blank), *options], coerce=coerce, validators=validators)


def _outcome(code):
    from ...domain.handlers.arranging import OUTCOMES

    return lambda ctx: RadioField("结果", choices=list(OUTCOMES[code].items()),
                                  validators=[InputRequired("请选择结果。")])


#: field name → builder(ctx); the domain validates meaning, the form only types and labels
FIELDS = {
    "hospital_id": lambda c: _select("医院", c.choices.hospitals_for(c.case), required="请选择医院。",
                                     coerce=id_or_none),
    "department": lambda c: StringField("科室", default=c.case.department,
                                        validators=[DataRequired("请填写科室。"), Length(max=60)]),
    "escort_id": lambda c: _select("陪诊员", c.choices.escorts_for(c.case), required="请选择陪诊员。",
                                   coerce=id_or_none),
    "expert_id": lambda c: _select("专家", c.choices.experts_for(c.case), required="请选择专家。",
                                   coerce=id_or_none),
    "country": lambda c: _select("国家", c.choices.countries(), required="请选择国家。"),
    "launch": lambda c: RadioField("是否启动服务", choices=[("yes", "启动服务"), ("no", "不启动（终止服务）")],
                                   validators=[InputRequired("请选择是否启动。")]),
    "note": lambda c: TextAreaField("说明（选填）", validators=[Optional(), Length(max=300)]),
    "text": lambda c: TextAreaField("内部备注", validators=[DataRequired("请填写备注内容。"), Length(max=280)]),
    "kinds": lambda c: MultiCheckboxField("需要补充的资料", choices=list(DOCUMENT_KINDS.items()),
                                          validators=[DataRequired("请至少选择一项资料。")]),
    "reason": lambda c: TextAreaField("原因（客户可见）", validators=[DataRequired("请说明原因。"), Length(max=300)]),
    "escort_name": lambda c: StringField("当地陪诊人员", validators=[DataRequired("请填写陪诊人员姓名。"),
                                                                   Length(max=60)]),
    "hours": lambda c: DecimalField("时长（小时）", places=1,
                                    validators=[InputRequired("请填写时长。"),
                                                NumberRange(0.5, 24, "时长应在 0.5–24 小时之间。")]),
    "hospital_name": lambda c: StringField("医院", default=getattr(c.case.hospital, "name", None),
                                           validators=[DataRequired("请填写医院名称。"), Length(max=120)]),
    "currency": lambda c: SelectField("币种", choices=CURRENCIES, default=c.choices.currency_for(c.case)),
    "amount": lambda c: DecimalField("金额", places=2,
                                     validators=[InputRequired("请填写金额。"),
                                                 NumberRange(0.01, None, "金额必须大于 0。")]),
    "status": lambda c: SelectField("账单状态", choices=list(lines.BILL_STATUSES.items())),
    "bill_id": lambda c: _select("账单", c.choices.bills_for(c.case), required="请选择账单。",
                                 coerce=id_or_none),
    "assignee_id": lambda c: _select("负责人", c.choices.staff(), required="请选择负责人。", coerce=id_or_none),
    "document_id": lambda c: _select("选用已上传的文件", c.choices.documents_for(c.case, c.upload_kind),
                                     blank="— 使用下方上传的文件 —", coerce=id_or_none),
}
#: where one action needs a field built differently from the default
OVERRIDES = {
    ("terminate", "reason"): lambda c: _select("终止原因", c.choices.termination_reasons(c.case),
                                               required="请选择终止原因。"),
    ("choose_provider", "expert_id"): lambda c: _select("海外专家（选填）", c.choices.experts_for(c.case),
                                                        blank="— 暂不指定 —", coerce=id_or_none),
    ("confirm_hospital", "department"): lambda c: StringField("科室（选填）", default=c.case.department,
                                                             validators=[Optional(), Length(max=60)]),
    ("confirm_hospital", "admission_slip_date"): lambda c: DateField(
        "住院条开具日期", default=c.case.admission_slip_date, validators=[InputRequired("请填写住院条开具日期。")]),
    ("record_visit", "outcome"): _outcome("record_visit"),
    ("record_escort_outcome", "outcome"): _outcome("record_escort_outcome"),
    ("add_bill", "status"): lambda c: SelectField("账单状态", choices=list(lines.BILL_STATUSES.items()),
                                                  default="received"),
}


#: fields that only some lines ask for (the outpatient green channel has no admission slip)
FIELD_LINES = {"admission_slip_date": ("green_inpatient",)}


class _Ctx:
    def __init__(self, case, code, choices):
        self.case, self.code, self.choices = case, code, choices
        self.upload_kind = upload_kind(code, case.line_code)


def _build(name: str, ctx: _Ctx):
    if builder := OVERRIDES.get((ctx.code, name)) or FIELDS.get(name):
        return builder(ctx)
    if name in DATETIME_LABELS:
        return DateTimeLocalField(DATETIME_LABELS[name], format="%Y-%m-%dT%H:%M",
                                  validators=[InputRequired("请选择日期和时间。")])
    if name in DATE_LABELS:
        return DateField(DATE_LABELS[name], default=calendar.business_today(),
                         validators=[InputRequired("请选择日期。")])
    raise KeyError(f"no form field for action field {name!r}")


class ActionForm(CaseForm):
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
    ctx = _Ctx(case, spec.code, choices)
    names = tuple(n for n in spec.fields if case.line_code in FIELD_LINES.get(n, (case.line_code,)))
    attrs = {name: _build(name, ctx) for name in names}
    attrs["domain_fields"] = names
    attrs["action_code"] = spec.code
    if ctx.upload_kind:
        attrs["upload"] = FileField(f"上传{choices.kind_label(ctx.upload_kind)}（PDF）")
        if extra := EXTRA_UPLOADS.get((spec.code, case.line_code)):
            attrs[extra[0]] = FileField(extra[2])
    form_class = type(f"{spec.code.title().replace('_', '')}Form", (ActionForm,), attrs)
    # the prefix keeps field ids unique when every action's form is on one page
    if bind:
        return form_class(prefix=f"{spec.code}-")  # the version must come from the page, never from here
    return form_class(formdata=None, prefix=f"{spec.code}-", version=case.version)
