"""Staff accounts in the domain: creation, deactivation (never one's own) and password resets, each audited."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from portal.domain import accounts
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import AuditLog


def _audit() -> list[tuple[str, str, int | None, int | None]]:
    return [(a.action, a.actor_role, a.actor_id, a.object_id)
            for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_creating_staff_is_audited_when_a_supervisor_acts_and_not_from_the_cli(app, make_user):
    boss = make_user("supervisor")
    user = accounts.create_staff(username="coord9", password="Lg-pass-w0rd-9", role="coordinator",
                                 display_name="赵九", actor=boss)
    accounts.create_staff(username="coord10", password="Lg-pass-w0rd-9", role="coordinator", display_name="钱十")
    assert _audit() == [("user.create", "supervisor", boss.id, user.id)]
    assert db.session.scalar(select(AuditLog.detail)) == {"username": "coord9", "role": "coordinator"}


def test_deactivating_and_reactivating_is_audited_once_per_change(app, make_user):
    boss, user = make_user("supervisor"), make_user("coordinator", username="c-one")
    accounts.set_active(user, False, actor=boss)
    accounts.set_active(user, False, actor=boss)  # already inactive: nothing to record
    assert user.active is False
    accounts.set_active(user, True, actor=boss)
    assert user.active is True
    assert _audit() == [("user.deactivate", "supervisor", boss.id, user.id),
                        ("user.reactivate", "supervisor", boss.id, user.id)]


def test_a_supervisor_cannot_deactivate_themselves(app, make_user):
    boss = make_user("supervisor")
    with pytest.raises(DomainError) as error:
        accounts.set_active(boss, False, actor=boss)
    assert error.value.message == "不能停用您自己的账号。"
    assert boss.active is True and _audit() == []


def test_a_password_reset_sets_the_hash_lifts_the_lock_and_is_audited(app, make_user):
    boss = make_user("supervisor")
    user = make_user("coordinator", locked_until=datetime.now(UTC) + timedelta(minutes=10), failed_logins=3)
    accounts.reset_password(user, "brandnewpass", actor=boss)
    assert check_password_hash(user.password_hash, "brandnewpass")
    assert (user.locked_until, user.failed_logins) == (None, 0)
    assert _audit() == [("user.password_reset", "supervisor", boss.id, user.id)]


def test_a_short_password_is_refused_at_its_field_and_nothing_changes(app, make_user):
    boss, user = make_user("supervisor"), make_user("coordinator")
    before = user.password_hash
    with pytest.raises(DomainError) as error:
        accounts.reset_password(user, "short", actor=boss)
    assert (error.value.field, user.password_hash, _audit()) == ("password", before, [])
