"""Forms shared by every audience: one base with Chinese built-in messages, one carrying the case version."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField
from wtforms.meta import DefaultMeta
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..domain.text import bad_character


class PlainText:
    """Refuse control and invisible format characters (Unicode Cc, Cf: U+202E and friends) in a name field."""

    def __call__(self, form, field):
        if isinstance(field.data, str) and (ch := bad_character(field.data)) is not None:
            raise ValidationError(f"含有不可见的控制或格式字符（U+{ord(ch):04X}），请删除后重新输入。")


class ChineseForm(FlaskForm):
    """A form whose built-in messages (a date it cannot read, a choice not offered...) come in Chinese."""

    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            # WTForms ships the Chinese catalogue itself; Flask-WTF would look for Flask-Babel and fall back to English
            return DefaultMeta.get_translations(self, form)


class EmptyForm(ChineseForm):
    """Only the CSRF token: every POST button carries one."""


class VersionedForm(ChineseForm):
    """A case form carrying the version the user saw, for the stale-save check."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        """The version as posted; None when missing or garbled (such a write cannot be checked)."""
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes (phones handle them better than a multi-select). At least
    one must be ticked: the rule is checked on the server, never as `required` on each box (the browser
    would then demand every box be ticked)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __iter__(self):
        for option in super().__iter__():
            option.flags.required = False
            yield option
