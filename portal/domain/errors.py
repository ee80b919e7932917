"""Domain errors carry a message in plain Chinese, ready to show to the user."""


class DomainError(Exception):
    """A rule refused the action; `field` names the form field to attach the message to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleCaseError(DomainError):
    """Someone else saved the case first (optimistic lock)."""

    def __init__(self):
        super().__init__("该案件已被他人更新，请刷新后重试")
