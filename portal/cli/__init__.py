"""Command-line contract (SPEC §8): `flask --app wsgi <command>`."""

from flask import Flask


def register_cli(app: Flask) -> None:
    from . import audit, data, ops, privacy, reports

    for command in (*data.COMMANDS, *audit.COMMANDS, *ops.COMMANDS, *privacy.COMMANDS, *reports.COMMANDS):
        app.cli.add_command(command)
