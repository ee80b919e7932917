"""Forms of the supervisor screens; directory forms mirror the columns of portal.domain.directory.KINDS."""

from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from ...domain import directory
from ...extensions import db
from ...models import User
from ...web.account_admin import AccountForm
from ...web.forms import ChineseForm, PlainText
from ...web.params import id_or_none

ASSIGNEE_ROLES = ("coordinator", "supervisor")
STAFF_ROLE_LABELS = {"coordinator": "协调员", "supervisor": "主管"}  # 史带 accounts: portal.blueprints.oversight


def active_assignees() -> list[User]:
    """Active coordinators and supervisors, the people a case can be assigned to."""
    return list(db.session.scalars(select(User).where(User.role.in_(ASSIGNEE_ROLES), User.active.is_(True))
                                   .order_by(User.role, User.display_name, User.id)))


class AssignForm(ChineseForm):
    """Assign or reassign one case; `version` is the case version the supervisor saw."""

    assignee_id = SelectField("负责人", coerce=id_or_none, validate_choice=False)
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    next = HiddenField()

    def validate_assignee_id(self, field):
        if field.data not in {value for value, _ in field.choices}:
            raise ValidationError("请选择负责人（在职的协调员或主管）。")


def assign_form_for(case, assignees: list[User] | None = None) -> AssignForm:
    """The assign form of `case`; its choices are the active coordinators and supervisors."""
    form = AssignForm()
    form.assignee_id.choices = [(u.id, u.display_name) for u in assignees or active_assignees()]
    if not form.is_submitted():
        form.assignee_id.data = case.assignee_id
        form.version.data = case.version
    return form


# ---- directories ---------------------------------------------------------------------------------

def _choice(label: str):
    """A select filled from product data; the domain checks the value and names the allowed ones in Chinese."""
    return SelectField(label, validate_choice=False, validators=[DataRequired(f"请选择{label}。")])


def _text(label: str, *, required: bool = False, max_length: int = 200):
    validators = [DataRequired(f"请填写{label}。")] if required else [Optional()]
    too_long = Length(max=max_length, message=f"{label}最多 {max_length} 个字。")
    return StringField(label, validators=[*validators, too_long, PlainText()])


class HospitalForm(ChineseForm):
    name = _text("名称", required=True, max_length=120)
    city = _text("城市", required=True, max_length=40)
    address = _text("地址", max_length=200)
    level = _text("等级", max_length=20)
    phone = _text("电话", max_length=40)


class OverseasHospitalForm(ChineseForm):
    name = _text("名称", required=True, max_length=120)
    country = _choice("国家")
    city = _text("城市", required=True, max_length=40)
    address = _text("地址", max_length=200)
    phone = _text("电话", max_length=40)


class EscortForm(ChineseForm):
    name = _text("姓名", required=True, max_length=60)
    phone = _text("电话", required=True, max_length=30)
    city = _choice("城市")


class ExpertForm(ChineseForm):
    name = _text("姓名", required=True, max_length=60)
    title = _text("职称", max_length=40)
    specialty = _text("专科", max_length=60)
    country = _choice("国家")
    city = _text("城市", required=True, max_length=40)
    hospital_name = _text("所在医院", max_length=120)
    hospital_grade = _text("医院等级", max_length=20)


DIRECTORY_FORMS = {
    "hospital": HospitalForm,
    "overseas_hospital": OverseasHospitalForm,
    "escort": EscortForm,
    "expert": ExpertForm,
}


def directory_form(code: str, obj=None) -> ChineseForm:
    """The add/edit form of a directory kind; select choices come from product data."""
    form = DIRECTORY_FORMS[code](obj=obj)
    kind = directory.KINDS[code]
    for column in kind.columns:
        if column.choices:
            field = getattr(form, column.name)
            field.choices = [("", "请选择")] + [(v, v) for v in directory.allowed_values(column.choices)]
    return form


def directory_values(form: ChineseForm) -> dict:
    """The submitted values keyed by column name (no CSRF token)."""
    return {name: value for name, value in form.data.items() if name != "csrf_token"}


class CsvImportForm(ChineseForm):
    file = FileField("CSV 文件（UTF-8 或 GBK 编码）", validators=[FileRequired("请选择要导入的 CSV 文件。")])


# ---- staff ---------------------------------------------------------------------------------------

class StaffAccountForm(AccountForm):
    role = SelectField("角色", choices=list(STAFF_ROLE_LABELS.items()), default="coordinator", validate_choice=False)
    email = EmailField("电子邮箱（选填，用于接收时限提醒）", validators=[Optional(), Email("邮箱格式不正确。"),
                                                                    Length(max=120)])
    phone = StringField("手机号（选填）", validators=[Optional(), Length(max=30)])


# ---- holiday calendar ----------------------------------------------------------------------------

class HolidayNoticeForm(ChineseForm):
    file = FileField("节假日通知 JSON 文件（holiday-cn 格式）",
                     validators=[FileRequired("请选择要导入的 JSON 文件。")])


class ChineseDateField(DateField):
    """A date field whose parse error is in Chinese."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("日期格式应为 YYYY-MM-DD，例如 2027-10-01。") from None


class HolidayDayForm(ChineseForm):
    day = ChineseDateField("日期", validators=[InputRequired("请填写日期（YYYY-MM-DD）。")])
    is_off_day = RadioField("这一天", choices=[("1", "放假（不计工作日）"), ("0", "调休上班（计为工作日）")],
                            default="1", validators=[InputRequired("请选择放假或上班。")])
    name = StringField("名称", validators=[DataRequired("请填写名称，例如“国庆节”。"), Length(max=60), PlainText()])
