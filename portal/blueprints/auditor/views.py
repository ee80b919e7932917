"""Auditor views (GET only)."""

from flask import render_template

from . import bp


@bp.get("/")
def dashboard():
    """The oversight dashboard."""
    return render_template("auditor/dashboard.html")
