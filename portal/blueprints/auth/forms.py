"""Forms for login and insured self-registration (two steps: the register, then the code)."""

from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from ...domain.accounts import MIN_PASSWORD
from ...models import ID_TYPES
from ...web.forms import ChineseForm, PlainText


class LoginForm(ChineseForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=60)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=128)])


class RegisterForm(ChineseForm):
    """Step one: what the insurer's register holds. The register's phone receives the code."""

    name = StringField("被保险人姓名", validators=[DataRequired("请填写姓名。"), Length(max=60), PlainText()])
    id_type = SelectField("证件类型", choices=list(ID_TYPES.items()), default="id_card")
    id_number = StringField("证件号码", validators=[DataRequired("请填写证件号码。"), Length(max=40), PlainText()])
    policy_no = StringField("保单号", validators=[DataRequired("请填写保单号。"), Length(max=40), PlainText()])


class CodeForm(ChineseForm):
    """Step two: the code from the SMS, then the login to create and optional contact details."""

    code = StringField("短信验证码（6 位数字）", validators=[
        DataRequired("请填写短信中的验证码。"), Regexp(r"^\s*\d{6}\s*$", message="验证码为 6 位数字。")])
    username = StringField("设置用户名", validators=[DataRequired("请设置用户名。"),
                                                 Length(3, 60, "用户名长度为 3–60 个字符。"), PlainText()])
    password = PasswordField(f"设置密码（至少 {MIN_PASSWORD} 位）", validators=[DataRequired("请设置密码。")])
    confirm = PasswordField("再次输入密码", validators=[EqualTo("password", "两次输入的密码不一致。")])
    email = EmailField("电子邮箱（选填，用于接收进度通知）",
                       validators=[Optional(), Email("邮箱格式不正确。"), Length(max=120)])
    phone = StringField("常用手机号（选填，接收进度短信；不改变保单登记信息）",
                        validators=[Optional(), Length(max=30),
                                    Regexp(r"^[0-9+\- ()]{5,30}$", message="手机号格式不正确。")])
