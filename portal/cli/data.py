"""Data commands: demo-data, policies import, holidays import, users create."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.command("demo-data")
@with_appcontext
def demo_data():
    """Create or refresh the demo product, directories, policies and logins (idempotent)."""
    from ..domain.demo import load_demo_data

    result = load_demo_data()
    db.session.commit()
    click.echo(f"演示数据已就绪。Demo logins (password for all: {result['password']}):")
    for username, role, name in result["logins"]:
        click.echo(f"  {role:<12} {username:<12} {name}")


@click.group("policies")
def policies():
    """The insurer's policy register."""


@policies.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def policies_import(path: Path):
    """Upsert policies from CSV; any bad row rejects the whole file."""
    from ..domain.policy_import import ImportError_, import_policies

    try:
        result = import_policies(path.read_text(encoding="utf-8-sig"), source=path.name)
    except ImportError_ as error:
        db.session.rollback()
        for line, message in error.errors:
            click.echo(f"第 {line} 行 (line {line}): {message}", err=True)
        raise click.ClickException("导入失败，文件中的任何数据都未写入。") from None
    db.session.commit()
    click.echo(f"导入完成：新增保单 {result.policies_created}，新增被保险人 {result.insured_created}，"
               f"更新被保险人 {result.insured_updated}。")


@click.group("holidays")
def holidays():
    """The working-day calendar."""


@holidays.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def holidays_import(path: Path):
    """Import an official holiday notice (holiday-cn JSON); recomputes provisional deadlines."""
    from ..domain.holidays import import_notice
    from ..holiday_notice import NoticeError, parse_notice

    try:
        notice = parse_notice(path.read_text(encoding="utf-8"))
        recomputed = import_notice(notice)
    except (NoticeError, UnicodeDecodeError) as error:
        db.session.rollback()
        raise click.ClickException(f"节假日文件无效，未写入任何数据：{error}") from None
    db.session.commit()
    click.echo(f"已导入 {notice.year} 年节假日安排 {len(notice.days)} 天；重新计算了 {recomputed} 个时限。")


@click.group("users")
def users():
    """Staff accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["coordinator", "supervisor", "auditor", "auditor_admin"]), required=True)
@click.option("--name", "display_name", required=True)
@click.password_option()
@with_appcontext
def users_create(username, role, display_name, password):
    """Create a coordinator, supervisor, 史带 auditor or 史带 auditor_admin login (on the server only)."""
    from ..domain.accounts import create_staff
    from ..domain.errors import DomainError

    try:
        create_staff(username=username, password=password, role=role, display_name=display_name)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"已创建 {role} 账号 {username}")


def _user(username: str):
    from sqlalchemy import select

    from ..models import User

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"没有用户 {username}")
    return user


@users.command("reset-password")
@click.argument("username")
@click.password_option()
@with_appcontext
def users_reset_password(username, password):
    """Set a new password (any account, e.g. a 史带 auditor's); ends every session of that user."""
    from ..domain.accounts import password_problem

    user = _user(username)
    if problem := password_problem(password, user.username, user.display_name):
        raise click.ClickException(problem)
    from ..domain.accounts import hash_password

    user.password_hash = hash_password(password)
    db.session.commit()
    click.echo(f"已重置 {username} 的密码；该账号的所有会话已结束")


@users.command("deactivate")
@click.argument("username")
@with_appcontext
def users_deactivate(username):
    """Deactivate a login (nothing is deleted); ends every session of that user."""
    user = _user(username)
    user.active = False
    db.session.commit()
    click.echo(f"已停用 {username}")


COMMANDS = [demo_data, policies, holidays, users]
