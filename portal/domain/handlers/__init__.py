"""Per-action guards and side rows, run by portal.domain.lifecycle after its generic checks (SPEC §4).

Each handler is registered with `@handles(action_code)` (handlers/base.py); importing this package imports
every handler module, so `HANDLERS` is complete before the first action runs.
"""

from . import arranging, common, corrections, overseas, reports  # noqa: F401  (registers the handlers)
from .base import HANDLERS, handles  # noqa: F401
