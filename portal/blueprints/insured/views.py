"""Insured views."""

from flask import render_template

from . import bp


@bp.get("/")
def home():
    """我的服务: the policy, entitlements and cases of the logged-in insured."""
    return render_template("insured/home.html")
