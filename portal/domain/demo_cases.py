"""Demo cases that show history; filled in once the lifecycle exists."""


def ensure_demo_cases() -> None:
    """Create the demo cases if they are missing (idempotent)."""
