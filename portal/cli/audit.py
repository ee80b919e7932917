"""`flask --app wsgi audit verify` (issue 3) — filled in by the history module's author."""

COMMANDS: list = []
