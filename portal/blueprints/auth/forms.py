"""Forms for login and insured self-registration."""

from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ...models import ID_TYPES
from ...web.forms import ChineseForm


class LoginForm(ChineseForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。")])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。")])


class RegisterForm(ChineseForm):
    name = StringField("被保险人姓名", validators=[DataRequired("请填写姓名。"), Length(max=60)])
    id_type = SelectField("证件类型", choices=list(ID_TYPES.items()), default="id_card")
    id_number = StringField("证件号码", validators=[DataRequired("请填写证件号码。"), Length(max=40)])
    policy_no = StringField("保单号", validators=[DataRequired("请填写保单号。"), Length(max=40)])
    username = StringField("设置用户名", validators=[DataRequired("请设置用户名。"),
                                                 Length(3, 60, "用户名长度为 3–60 个字符。")])
    password = PasswordField("设置密码（至少 8 位）", validators=[DataRequired("请设置密码。")])
    confirm = PasswordField("再次输入密码", validators=[EqualTo("password", "两次输入的密码不一致。")])
    email = EmailField("电子邮箱（选填，用于接收进度通知）",
                       validators=[Optional(), Email("邮箱格式不正确。")])
    phone = StringField("手机号（选填）", validators=[Optional(), Length(max=30)])
