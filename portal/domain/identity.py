"""ID numbers: GB 11643 check digit for 居民身份证, masking for lists (SPEC §3, §7)."""

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_CARD = re.compile(r"^\d{17}[\dX]$")


def normalize_id(number: str) -> str:
    """Strip spaces and upper-case the trailing x of a 身份证 number."""
    return re.sub(r"\s+", "", number or "").upper()


def id_card_valid(number: str) -> bool:
    """True when an 18-digit 身份证 number has the right GB 11643 check digit."""
    number = normalize_id(number)
    if not _ID_CARD.match(number):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == number[17]


def id_number_problem(id_type: str, number: str) -> str | None:
    """A Chinese message when the number cannot be valid for its type, else None."""
    number = normalize_id(number)
    if not number:
        return "请填写证件号码。"
    if id_type == "id_card":
        if not _ID_CARD.match(number):
            return "居民身份证号码应为 18 位（最后一位可以是 X）。"
        if not id_card_valid(number):
            return "居民身份证号码校验位不正确，请核对后重新输入。"
    elif not re.fullmatch(r"[A-Z0-9]{5,20}", number):
        return "证件号码只能包含字母和数字，长度 5–20 位。"
    return None


def mask_id(number: str | None, id_type: str | None = None) -> str:
    """An ID number as lists, exports and logs show it (SPEC §7, issue 13 item 7).

    居民身份证 (18 characters): the first 6 (the region) and the last 4 — 110105********1234.
    Passports and permits: the first 1–2 and the last 2–3, never more than 5 characters shown —
    EA*****678, H1******890, E*****67. Without a type, an 18-character number of the 身份证
    form is masked as one, anything else as a passport."""
    if not number:
        return ""
    number = str(number)
    if (id_type == "id_card" or id_type is None) and len(number) == 18 and _ID_CARD.match(number.upper()):
        return number[:6] + "*" * 8 + number[-4:]
    if id_type == "id_card" and len(number) > 10:  # a malformed 身份证 number: still never more than 10 shown
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    head = 2 if len(number) >= 10 else 1
    tail = 3 if len(number) >= 10 else 2
    if len(number) <= 4:
        return "*" * len(number)
    return number[:head] + "*" * (len(number) - head - tail) + number[-tail:]
