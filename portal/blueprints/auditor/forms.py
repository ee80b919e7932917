"""GET filter forms of the auditor lists (no CSRF: they change nothing)."""

import re

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from sqlalchemy import select
from wtforms import Form, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...domain import reports
from ...extensions import db
from ...models import STATUSES, AuditLog
from .labels import AUDIT_ACTIONS

ALL = [("", "全部")]
#: a full 身份证 number: searched only by POST (IdNumberSearchForm); passports look like policy numbers, and
#: the GET search simply never matches ID numbers
ID_NUMBER_LIKE = re.compile(r"\d{17}[\dXx]")


class FilterForm(Form):
    """Read from the query string; `args()` gives the validated filters for the query."""

    def __init__(self):
        super().__init__(request.args)

    def args(self) -> dict:
        return {name: field.data or "" for name, field in self._fields.items()}


class Choice(SelectField):
    """A select defaulting to "" (全部) whose unknown value gets a Chinese message."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, default="", **kwargs)

    def pre_validate(self, form):
        if self.data not in {value for value, _ in self.choices}:
            raise ValidationError("请从列表中选择。")


def _line_choices():
    return ALL + reports.service_lines()


def _not_an_id_number(form, field):
    if field.data and ID_NUMBER_LIKE.fullmatch(field.data.strip()):
        raise ValidationError("请在下方“按证件号码查询”中输入证件号码（不会出现在网址中）。")


class CaseFilterForm(FilterForm):
    q = StringField("搜索", validators=[Optional(), Length(max=60, message="搜索内容不能超过 60 个字符。"),
                                      _not_an_id_number],
                    description="案件编号、被保险人姓名或保单号")
    line = Choice("服务项目")
    status = Choice("状态", choices=ALL + list(STATUSES.items()))
    sla = Choice("时效", choices=ALL + [("overdue", "当前超时"), ("at_risk", "临近时限")])

    def __init__(self):
        super().__init__()
        self.line.choices = _line_choices()


class ReportFilterForm(FilterForm):
    line = Choice("服务项目")

    def __init__(self):
        super().__init__()
        self.line.choices = _line_choices()


class LogFilterForm(FilterForm):
    action = Choice("操作")
    ref = StringField("案件编号", validators=[Optional(), Length(max=30, message="案件编号不能超过 30 个字符。")])

    def __init__(self):
        super().__init__()
        logged = db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action))
        self.action.choices = ALL + [(a, AUDIT_ACTIONS.get(a, a)) for a in dict.fromkeys([*AUDIT_ACTIONS, *logged])]


class ReceiptCheckForm(FlaskForm):
    """Receipts 史带 kept (JSON files), to check every chain against; `receipts_data` once validated."""

    files = MultipleFileField("校验点回执（JSON 文件，可多选）")
    MAX_BYTES = 64 * 1024

    def validate_files(self, field):
        from ...domain.checkpoints import ReceiptError, parse_receipt

        uploads = [f for f in field.data or [] if getattr(f, "filename", "")]
        if not uploads:
            raise ValidationError("请选择要校验的回执文件。")
        parsed = []
        for upload in uploads:
            raw = upload.stream.read(self.MAX_BYTES + 1)
            if len(raw) > self.MAX_BYTES:
                raise ValidationError(f"{upload.filename}：文件过大，不是校验点回执。")
            try:
                parsed.append(parse_receipt(raw))
            except ReceiptError as error:
                raise ValidationError(f"{upload.filename}：{error}") from error
        self.receipts_data = parsed


class IdNumberSearchForm(FlaskForm):
    """The ID-number search: posted (with CSRF), so the number stays out of URLs and access logs."""

    id_number = StringField("按证件号码查询（完整号码）", validators=[
        DataRequired("请填写完整的证件号码。"), Length(max=40, message="证件号码不能超过 40 个字符。")])
