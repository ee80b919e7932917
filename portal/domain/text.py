"""Text people type or import: no control or invisible format characters, no more than the column holds.

U+202E (right-to-left override) and friends make a name display differently from what it is — 王五\u202e
can show as another person — and control characters break CSV exports and logs. Unicode categories Cc
(control) and Cf (format: bidi overrides, zero-width joiners, soft hyphens) are refused everywhere a name
or other short text is entered or imported (issue 13 item 10).
"""

import unicodedata

REFUSED_CATEGORIES = ("Cc", "Cf")


def bad_character(value: str) -> str | None:
    """The first control or format character in `value`, or None."""
    return next((ch for ch in value or "" if unicodedata.category(ch) in REFUSED_CATEGORIES), None)


def text_problem(value: str | None, max_length: int) -> str | None:
    """A Chinese message when `value` holds a control/format character or is longer than `max_length`."""
    if value is None:
        return None
    if (ch := bad_character(value)) is not None:
        return f"含有不可见的控制或格式字符（U+{ord(ch):04X}），请删除后重新输入。"
    if len(value) > max_length:
        return f"不能超过 {max_length} 个字符（现为 {len(value)} 个）。"
    return None
