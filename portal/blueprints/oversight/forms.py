"""Forms of the 史带 account screens."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ...domain.accounts import MIN_PASSWORD
from ...web.forms import PlainText


class AuditorAccountForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请填写用户名。"),
                                              Length(3, 60, "用户名长度为 3–60 个字符。"), PlainText()])
    display_name = StringField("显示姓名", validators=[DataRequired("请填写显示姓名。"), Length(max=60), PlainText()])
    role = SelectField("角色", choices=[("auditor", "史带审计（只读）"), ("auditor_admin", "史带账号管理员")],
                       default="auditor")
    password = PasswordField(f"初始密码（至少 {MIN_PASSWORD} 位）", validators=[DataRequired("请设置初始密码。")])
    confirm = PasswordField("再次输入密码", validators=[EqualTo("password", "两次输入的密码不一致。")])
    email = EmailField("电子邮箱（选填）", validators=[Optional(), Email("邮箱格式不正确。"), Length(max=120)])


class PasswordForm(FlaskForm):
    password = PasswordField(f"新密码（至少 {MIN_PASSWORD} 位）", validators=[DataRequired("请设置新密码。")])
    confirm = PasswordField("再次输入新密码", validators=[EqualTo("password", "两次输入的密码不一致。")])
