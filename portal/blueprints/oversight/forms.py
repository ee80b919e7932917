"""Forms of the 史带 account screens; the fields they share with 英仕's are in `web.account_admin`."""

from wtforms import SelectField

from ...web.account_admin import AccountForm

ROLE_LABELS = {"auditor": "史带审计（只读）", "auditor_admin": "史带账号管理员"}


class AuditorAccountForm(AccountForm):
    role = SelectField("角色", choices=list(ROLE_LABELS.items()), default="auditor")
