"""Forms shared by every audience."""

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import ValidationError

from ..domain.text import bad_character


class PlainText:
    """Refuse control and invisible format characters (Unicode Cc, Cf: U+202E and friends) in a name field."""

    def __call__(self, form, field):
        if isinstance(field.data, str) and (ch := bad_character(field.data)) is not None:
            raise ValidationError(f"含有不可见的控制或格式字符（U+{ord(ch):04X}），请删除后重新输入。")


class EmptyForm(FlaskForm):
    """Only the CSRF token: every POST button carries one."""


class VersionedForm(FlaskForm):
    """A case form carrying the version the user saw, for the stale-save check."""

    version = HiddenField()
