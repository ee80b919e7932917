"""Coordinator and supervisor views."""

from flask import render_template

from . import bp


@bp.get("/")
def queue():
    """The work queue."""
    return render_template("coordinator/queue.html")
