"""史带's auditor accounts are managed only by 史带 (auditor_admin, or the CLI), never by 英仕 (issue 13 item 9)."""

import pytest
from security_world import PASSWORD

from portal.domain import accounts
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import AuditLog, User

NEW = "Fresh-auditor-pass-1"


def test_a_supervisor_cannot_touch_an_auditor_account(login_as, world):
    boss = login_as(world.supervisor)
    auditor = world.auditor.id
    assert boss.get(f"/staff/admin/users/{auditor}/password").status_code == 404
    assert boss.post(f"/staff/admin/users/{auditor}/password", data={"password": NEW, "confirm": NEW}).status_code \
        == 404
    assert boss.post(f"/staff/admin/users/{auditor}/deactivate").status_code == 404
    assert "sec_auditor" not in boss.get("/staff/admin/users?active=all").get_data(as_text=True)
    created = boss.post("/staff/admin/users/new", data={"username": "fake_auditor", "display_name": "假审计",
                                                        "role": "auditor", "password": NEW, "confirm": NEW})
    assert created.status_code == 422
    assert db.session.scalar(db.select(User).where(User.username == "fake_auditor")) is None
    db.session.expire_all()
    assert db.session.get(User, auditor).active and db.session.get(User, auditor).session_generation == 0


def test_the_domain_refuses_a_supervisor_on_auditor_accounts(world):
    with pytest.raises(DomainError):
        accounts.reset_password(world.auditor, NEW, actor=world.supervisor)
    with pytest.raises(DomainError):
        accounts.set_active(world.auditor, False, actor=world.supervisor)
    with pytest.raises(DomainError):
        accounts.create_staff(username="x_aud", password=NEW, role="auditor", display_name="X", actor=world.supervisor)
    with pytest.raises(DomainError):  # and 史带 does not manage 英仕 staff either
        accounts.reset_password(world.c3, NEW, actor=world.auditor_admin)


def test_the_auditor_admin_manages_auditor_accounts(app, login_as, world):
    admin = login_as(world.auditor_admin)
    assert "sec_auditor" in admin.get("/oversight/").get_data(as_text=True)
    assert "sec_c1" not in admin.get("/oversight/").get_data(as_text=True)
    reset = admin.post(f"/oversight/{world.auditor.id}/password", data={"password": NEW, "confirm": NEW})
    assert reset.status_code == 303
    assert app.test_client().post("/login", data={"username": "sec_auditor", "password": NEW}).status_code == 303
    new = admin.post("/oversight/new", data={"username": "aud2", "display_name": "新审计", "role": "auditor",
                                             "password": NEW, "confirm": NEW})
    assert new.status_code == 303
    assert admin.post(f"/oversight/{world.auditor.id}/deactivate").status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, world.auditor.id).active
    actions = set(db.session.scalars(db.select(AuditLog.action).where(AuditLog.actor_id == world.auditor_admin.id)))
    assert {"user.password_reset", "user.create", "user.deactivate"} <= actions
    assert admin.get(f"/oversight/{world.c3.id}/password").status_code == 404


def test_auditor_admin_logs_in_to_the_account_screen(app, world):
    response = app.test_client().post("/login", data={"username": "sec_auditor_admin", "password": PASSWORD})
    assert response.headers["Location"].endswith("/oversight/")


def test_the_cli_creates_and_resets_auditor_accounts(runner, world):
    done = runner.invoke(args=["users", "create", "cli_aud", "--role", "auditor", "--name", "命令行审计",
                               "--password", NEW])
    assert done.exit_code == 0, done.output
    done = runner.invoke(args=["users", "reset-password", "sec_auditor", "--password", "Another-cli-pass-2"])
    assert done.exit_code == 0, done.output
    assert runner.invoke(args=["users", "reset-password", "sec_auditor", "--password", "password"]).exit_code != 0
