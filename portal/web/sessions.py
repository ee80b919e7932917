"""Sessions that the server can end (issue 13 item 3).

The signed cookie carries `<user id>.<session generation>` (Flask-Login's alternative token, `User.get_id`).
The user loader accepts it only while the generation matches the database row, so logout, a password
change or reset, deactivation and a role change — each bumps the generation — end every session of that
user in every worker and process on its next request. On top: a fresh session at each login, an idle
timeout for staff and an absolute lifetime for everyone, both kept as timestamps inside the session.
"""

import time

from flask import Flask, current_app, session
from flask_login import login_user, logout_user

from ..extensions import db

LOGIN_AT, SEEN, STAFF = "_login_at", "_seen", "_staff"
#: how often the "last seen" stamp is rewritten (each rewrite sends a new cookie)
SEEN_RESOLUTION = 60


def load_user(token: str):
    """The user named by the session token, if that session is still current; None ends it."""
    from ..models import User

    user_id, _, generation = (token or "").partition(".")
    if not (user_id.isdigit() and generation.isdigit()) or len(user_id) > 10:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or (user.session_generation or 0) != int(generation):
        return None
    return user


def start(user) -> None:
    """Log `user` in on a brand-new session (nothing from before the login survives: no fixation)."""
    session.clear()
    login_user(user)
    now = time.time()
    session[LOGIN_AT] = session[SEEN] = now
    session[STAFF] = user.role != "insured"


def end_all(user) -> None:
    """Log out here and end every other session of `user` (the caller commits)."""
    user.session_generation = (user.session_generation or 0) + 1
    logout_user()
    session.clear()


def _expire_old_sessions() -> None:
    """Before each request: a session past its absolute lifetime, or a staff session idle too long, ends."""
    if "_user_id" not in session:
        return
    config, now = current_app.config, time.time()
    login_at, seen = session.get(LOGIN_AT), session.get(SEEN)
    idle_limit = config["STAFF_IDLE_MINUTES" if session.get(STAFF, True) else "INSURED_IDLE_MINUTES"] * 60
    if (not isinstance(login_at, int | float) or not isinstance(seen, int | float)
            or now - login_at > config["SESSION_ABSOLUTE_HOURS"] * 3600 or now - seen > idle_limit):
        session.clear()
        return
    if now - seen > SEEN_RESOLUTION:
        session[SEEN] = now


def init_sessions(app: Flask) -> None:
    """Install the loader and the age check (before any view or role gate runs)."""
    from ..extensions import login_manager

    login_manager.user_loader(load_user)
    app.before_request(_expire_old_sessions)
