"""Side effects tied to the outcome of the real transaction: mail leaves on commit, files go on rollback.

SQLAlchemy fires after_commit / after_rollback for savepoints too; only the outermost transaction decides.
"""

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

_COMMIT, _ROLLBACK = "on_commit", "on_rollback"


def on_commit(session, action: Callable[[], None]) -> None:
    """Run `action` once the transaction really commits; forget it if it rolls back."""
    session.info.setdefault(_COMMIT, []).append(action)


def on_rollback(session, action: Callable[[], None]) -> None:
    """Run `action` if the transaction rolls back; forget it once it commits."""
    session.info.setdefault(_ROLLBACK, []).append(action)


def _settle(session, run: str, drop: str) -> None:
    if session.in_nested_transaction():  # a savepoint: what came before it still stands
        return
    session.info.pop(drop, None)
    for action in session.info.pop(run, []):
        action()


event.listen(Session, "after_commit", lambda session: _settle(session, _COMMIT, _ROLLBACK))
event.listen(Session, "after_rollback", lambda session: _settle(session, _ROLLBACK, _COMMIT))

