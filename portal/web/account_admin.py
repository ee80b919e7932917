"""What the two account screens share: 英仕's staff accounts (supervisor) and 史带's own (auditor_admin, SPEC §1).

The screens differ in whose accounts they list and which roles they offer; creating an account and setting a
new password are the same form, the same domain call and the same answer on both."""

from functools import partial

from flask import flash, redirect, url_for
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..domain import accounts
from ..domain.accounts import MIN_PASSWORD
from .audit import who
from .forms import ChineseForm, PlainText
from .render import render
from .saving import form_status, save


class AccountForm(ChineseForm):
    """A new login; each screen adds its `role` choices (and 英仕 staff a phone)."""
    username = StringField("用户名", validators=[DataRequired("请填写用户名。"),
                                              Length(3, 60, "用户名长度为 3–60 个字符。"), PlainText()])
    display_name = StringField("显示姓名", validators=[DataRequired("请填写显示姓名。"), Length(max=60), PlainText()])
    password = PasswordField(f"初始密码（至少 {MIN_PASSWORD} 位）", validators=[DataRequired("请设置初始密码。")])
    confirm = PasswordField("再次输入密码", validators=[EqualTo("password", "两次输入的密码不一致。")])
    email = EmailField("电子邮箱（选填）", validators=[Optional(), Email("邮箱格式不正确。"), Length(max=120)])


class PasswordForm(ChineseForm):
    password = PasswordField(f"新密码（至少 {MIN_PASSWORD} 位）", validators=[DataRequired("请设置新密码。")])
    confirm = PasswordField("再次输入新密码", validators=[EqualTo("password", "两次输入的密码不一致。")])


def new_account_page(form: AccountForm, *, roles: dict, template: str, back: str):
    """GET: the form; POST: create the account (errors at their field), then back to the list `back`."""
    if form.validate_on_submit() and (result := save(form, partial(_create, form), field="username")).ok:
        flash(f"已创建{roles[result.value.role]}账号 {result.value.username}。", "success")
        return redirect(url_for(back), code=303)
    return render(template, form=form, roles=roles, status=form_status(form))


def _create(form: AccountForm):
    phone = form.phone.data if "phone" in form else None
    return accounts.create_staff(username=form.username.data.strip(), password=form.password.data,
                                 role=form.role.data, display_name=form.display_name.data.strip(),
                                 email=form.email.data or None, phone=phone or None, **who())


def password_page(user, *, roles: dict, template: str, back: str):
    """GET: the form; POST: a new password for `user`, which ends all of its sessions (issue 13)."""
    form = PasswordForm()
    reset = partial(accounts.reset_password, user, form.password.data, **who())
    if form.validate_on_submit() and save(form, reset, field="password").ok:
        flash(f"已重置 {user.username} 的密码，请通过安全渠道告知本人。", "success")
        return redirect(url_for(back), code=303)
    return render(template, form=form, user=user, roles=roles, status=form_status(form))
