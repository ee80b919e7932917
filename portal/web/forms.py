"""Forms shared by every audience."""

from flask_wtf import FlaskForm
from wtforms import HiddenField


class EmptyForm(FlaskForm):
    """Only the CSRF token: every POST button carries one."""


class VersionedForm(FlaskForm):
    """A case form carrying the version the user saw, for the stale-save check."""

    version = HiddenField()
