"""Operations commands: audit verify, deadlines check, report weekly, scheduler."""

import click

COMMANDS: list[click.Command] = []
