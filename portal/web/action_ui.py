"""How staff see each action of `portal.domain.lines.ACTIONS`: one entry per action code (where its form
sits, whether it is ever "the next step", how each of its fields is built, what an attached PDF is filed
as), one builder per field name. tests/web/test_action_ui.py checks both tables against the domain table,
so an action added there without its entry here fails the suite. Guide: docs/adding-an-action.md.

The domain rule (roles, lines, statuses, milestones, field names) stays on `ActionSpec`; nothing here
decides who may do what.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from wtforms import (
    DateField,
    DateTimeLocalField,
    DecimalField,
    Field,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import calendar
from ..domain import lines
from ..domain.handlers.corrections import OUTCOMES, outcome_choices
from ..domain.product_data import DOCUMENT_KINDS
from .forms import MultiCheckboxField
from .params import id_or_none

#: builds one form field for one case: `ctx` has .case, .code, .choices and .upload_kind
Builder = Callable[["BuildContext"], Field]
#: `upload` value of the actions that file the line's deliverable (lines.DELIVERABLES)
DELIVERABLE = "deliverable"


@dataclass(frozen=True)
class ExtraUpload:
    """An optional second PDF handed in with the action (e.g. the bill summary with the overseas report)."""

    name: str
    kind: str
    label: str


@dataclass(frozen=True)
class ActionUI:
    """The presentation of one action; the defaults fit a plain "下一步操作" button without fields."""

    #: the workspace panel its form sits in; "next" is the 下一步操作 box; a mapping gives it per line
    panel: str | Mapping[str, str] = "next"
    #: a side record or an exit: never offered as the case's next step (queue hint, workspace banner)
    side: bool = False
    #: this action's own build of a field, where the shared FIELDS builder does not fit
    fields: Mapping[str, Builder] = field(default_factory=dict)
    #: fields shown on some lines only: field name → line codes
    field_lines: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the document kind an attached PDF is filed as (it becomes `document_id`); DELIVERABLE = the line's
    upload: str | None = None
    #: line code → an optional second upload delivered with it
    extra_uploads: Mapping[str, ExtraUpload] = field(default_factory=dict)


@dataclass
class BuildContext:
    case: object
    code: str
    choices: object
    upload_kind: str | None = None


# ---- field builders ---------------------------------------------------------------------------------------

def select(label, options, *, blank="— 请选择 —", required=None, coerce=str):
    validators = [InputRequired(required)] if required else [Optional()]
    return SelectField(label, choices=[("", blank), *options], coerce=coerce, validators=validators)


def date_field(label: str) -> Builder:
    return lambda c: DateField(label, default=calendar.business_today(), validators=[InputRequired("请选择日期。")])


def datetime_field(label: str) -> Builder:
    # typed as Beijing wall-clock time; ActionForm.domain_args() attaches the zone
    return lambda c: DateTimeLocalField(label, format="%Y-%m-%dT%H:%M",
                                        validators=[InputRequired("请选择日期和时间。")])


def outcome_field(code: str) -> Builder:
    return lambda c: RadioField("结果", choices=list(OUTCOMES[code].items()),
                                validators=[InputRequired("请选择结果。")])


CURRENCIES = [("USD", "USD 美元"), ("EUR", "EUR 欧元"), ("JPY", "JPY 日元"), ("SGD", "SGD 新加坡元"),
              ("GBP", "GBP 英镑"), ("CNY", "CNY 人民币")]

#: field name (as in ActionSpec.fields) → builder; the domain validates meaning, the form only types and labels
FIELDS: dict[str, Builder] = {
    "hospital_id": lambda c: select("医院", c.choices.hospitals_for(c.case), required="请选择医院。",
                                    coerce=id_or_none),
    "department": lambda c: StringField("科室", default=c.case.department,
                                        validators=[DataRequired("请填写科室。"), Length(max=60)]),
    "escort_id": lambda c: select("陪诊员", c.choices.escorts_for(c.case), required="请选择陪诊员。",
                                  coerce=id_or_none),
    "expert_id": lambda c: select("专家", c.choices.experts_for(c.case), required="请选择专家。",
                                  coerce=id_or_none),
    "country": lambda c: select("国家", c.choices.countries(), required="请选择国家。"),
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
    "bill_id": lambda c: select("账单", c.choices.bills_for(c.case), required="请选择账单。", coerce=id_or_none),
    "hour_log_id": lambda c: select("陪诊时长记录", c.choices.hour_logs_for(c.case), required="请选择记录。",
                                    coerce=id_or_none),
    "assignee_id": lambda c: select("负责人", c.choices.staff(), required="请选择负责人。", coerce=id_or_none),
    "document_id": lambda c: select("选用已上传的文件", c.choices.documents_for(c.case, c.upload_kind),
                                    blank="— 使用下方上传的文件 —", coerce=id_or_none),
    "scheduled_at": datetime_field("就诊日期与时间"),
    "starts_at": datetime_field("陪诊开始时间"),
    "ends_at": datetime_field("陪诊结束时间"),
    "applied_on": date_field("签证申请日期"),
    "decided_on": date_field("签证决定日期"),
    "on": date_field("日期"),
    "day": date_field("陪诊日期"),
    "bill_date": date_field("账单日期"),
}

# ---- one entry per action, in lines.ACTIONS order ------------------------------------------------------------

ACTION_UI: dict[str, ActionUI] = {
    "verify": ActionUI(),
    "accept": ActionUI(),
    # green channel
    "confirm_hospital": ActionUI(
        fields={
            "department": lambda c: StringField("科室（选填）", default=c.case.department,
                                                validators=[Optional(), Length(max=60)]),
            "admission_slip_date": lambda c: DateField("住院条开具日期", default=c.case.admission_slip_date,
                                                       validators=[InputRequired("请填写住院条开具日期。")]),
        },
        # the outpatient green channel has no admission slip
        field_lines={"admission_slip_date": ("green_inpatient",)}),
    "book_appointment": ActionUI(),
    "reschedule_appointment": ActionUI(panel="appointment", side=True, fields={
        "scheduled_at": datetime_field("新的就诊日期与时间"),
        "reason": lambda c: TextAreaField("改约原因（客户可见）", validators=[DataRequired("请说明改约原因。"),
                                                                     Length(max=200)])}),
    "record_visit": ActionUI(fields={"outcome": outcome_field("record_visit")}),
    # domestic escort
    # the escort goes where the insured goes: a directory hospital of the city, or a typed name (issue 17)
    "record_escort_request": ActionUI(fields={
        "hospital_id": lambda c: select("医院", c.choices.hospitals_for(c.case),
                                        blank="— 不在目录中，请在下方填写 —", coerce=id_or_none),
        "hospital_name": lambda c: StringField(
            "或填写医院名称", default=(c.case.request_data or {}).get("hospital_name"),
            validators=[Optional(), Length(max=120)]),
    }),
    "assign_escort": ActionUI(panel="escort_roster"),
    "reschedule_escort": ActionUI(panel="escort_roster", side=True, fields={
        "starts_at": datetime_field("新的陪诊开始时间"), "ends_at": datetime_field("新的陪诊结束时间"),
        "reason": lambda c: TextAreaField("改约原因（客户可见）", validators=[DataRequired("请说明改约原因。"),
                                                                     Length(max=200)])}),
    "record_escort_outcome": ActionUI(fields={"outcome": outcome_field("record_escort_outcome")}),
    # a completed case's recorded outcome corrected (issue 14), in the panel that shows the booking
    "correct_outcome": ActionUI(
        panel={"green_outpatient": "appointment", "green_inpatient": "appointment",
               "domestic_escort": "escort_roster"},
        side=True, fields={
            "outcome": lambda c: RadioField("更正后的结果", choices=list(outcome_choices(c.case.line_code).items()),
                                            validators=[InputRequired("请选择更正后的结果。")]),
            "served_on": lambda c: DateField("实际就诊日期（与预约日期不同时填写）", validators=[Optional()]),
            "reason": lambda c: TextAreaField("更正原因（客户可见）", validators=[DataRequired("请说明更正原因。"),
                                                                         Length(max=200)])}),
    # second opinions and overseas treatment
    "launch_decision": ActionUI(),
    "materials_complete": ActionUI(panel="documents"),
    "assign_expert": ActionUI(),
    "issue_report": ActionUI(upload="report"),
    "history_translated": ActionUI(),
    "imaging_transferred": ActionUI(),
    "choose_provider": ActionUI(fields={
        "expert_id": lambda c: select("海外专家（选填）", c.choices.experts_for(c.case), blank="— 暂不指定 —",
                                      coerce=id_or_none)}),
    "report_received": ActionUI(upload="report"),
    "report_translated": ActionUI(upload="report_translation"),
    "hospital_accepted": ActionUI(),
    "visa_applied": ActionUI(),
    "visa_granted": ActionUI(),
    "visa_refused": ActionUI(),
    "local_escort_arranged": ActionUI(),
    "treatment_arranged": ActionUI(),
    "departed": ActionUI(),
    "log_escort_hours": ActionUI(panel="escort_hours", side=True),
    "add_bill": ActionUI(panel="bills", side=True, fields={
        "status": lambda c: SelectField("账单状态", choices=list(lines.BILL_STATUSES.items()), default="received")}),
    "void_bill": ActionUI(panel="bills", side=True, fields={"reason": lambda c: TextAreaField(
        "作废原因", validators=[DataRequired("请说明作废原因。"), Length(max=200)])}),
    "void_escort_hours": ActionUI(panel="escort_hours", side=True, fields={"reason": lambda c: TextAreaField(
        "作废原因", validators=[DataRequired("请说明作废原因。"), Length(max=200)])}),
    "update_bill": ActionUI(panel="bills", side=True),
    "returned": ActionUI(),
    "deliver": ActionUI(upload=DELIVERABLE, extra_uploads={
        "overseas_treatment": ExtraUpload("bills_upload", "bills", "医疗账单汇总（PDF，选填）")}),
    # common
    "request_documents": ActionUI(panel="documents", side=True),
    "documents_received": ActionUI(panel="documents"),
    "assign": ActionUI(panel="assign", side=True),
    "note": ActionUI(panel="notes", side=True),
    "terminate": ActionUI(panel="terminate", side=True, fields={
        "reason": lambda c: select("终止原因", c.choices.termination_reasons(c.case), required="请选择终止原因。")}),
    # the insured's own forms on 进度 (insured/case_detail.html, case_cancel.html), never in the staff workspace
    "enter_admission_slip": ActionUI(side=True, fields={"admission_slip_date": lambda c: DateField(
        "住院条开具日期", validators=[InputRequired("请填写住院条开具日期。")])}),
    "cancel": ActionUI(side=True),
}

#: the panels each line shows above its actions, in order
LINE_PANELS: dict[str, tuple[str, ...]] = {
    "green_outpatient": ("appointment",),
    "green_inpatient": ("appointment",),
    "domestic_escort": ("escort_roster",),
    "domestic_second_opinion": ("expert", "reports"),
    "overseas_second_opinion": ("provider", "reports"),
    "overseas_treatment": ("provider", "visa", "escort_hours", "bills", "reports"),
}

#: history actions written outside the lifecycle table (intake, deadline sweep, document review)
HISTORY_ACTIONS = {
    "submit": "提交申请", "breached": "时限已超期", "document_uploaded": "上传资料", "documents_uploaded": "上传资料",
    "document_accepted": "资料审核通过", "document_rejected": "资料被退回",
    "outcome_corrected": "时限结果更正（节假日安排变更）",
    # SPEC §7: a rule (consent withdrawn) ends the case; the insured consents to a transfer abroad; retention
    "terminate_by_rule": "依规终止服务", "cross_border_consent": "客户同意资料出境",
    "cross_border_withdrawn": "客户撤回资料出境同意", "restricted": "资料已限制处理",
}


def ui(code: str) -> ActionUI:
    """The presentation entry of an action (KeyError for a code lines.ACTIONS does not have)."""
    return ACTION_UI[code]


def panel_of(code: str, line_code: str) -> str:
    """The workspace panel the action's form sits in on this line."""
    panel = ACTION_UI[code].panel
    return panel.get(line_code, "next") if isinstance(panel, Mapping) else panel


def is_side(code: str) -> bool:
    return ACTION_UI[code].side


def upload_kind(code: str, line_code: str) -> str | None:
    """The document kind an upload on this action is filed as on this line (None: the action takes no file)."""
    kind = ACTION_UI[code].upload
    return lines.DELIVERABLES.get(line_code) if kind == DELIVERABLE else kind


def extra_upload(code: str, line_code: str) -> ExtraUpload | None:
    return ACTION_UI[code].extra_uploads.get(line_code)


def shown_fields(spec: lines.ActionSpec, line_code: str) -> tuple[str, ...]:
    """The action's fields that this line's form shows."""
    only = ACTION_UI[spec.code].field_lines
    return tuple(name for name in spec.fields if line_code in only.get(name, (line_code,)))


def builder(code: str, name: str) -> Builder:
    """How field `name` of action `code` is built: the action's own builder, else the shared one."""
    return ACTION_UI[code].fields.get(name) or FIELDS[name]


def action_label(code: str) -> str:
    """The Chinese name of a history action: the lifecycle's label, or one written outside it."""
    spec = lines.ACTIONS.get(code)
    return spec.label if spec else HISTORY_ACTIONS.get(code, code)
