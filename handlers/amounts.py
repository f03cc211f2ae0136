"""Reading token amounts and percentages the way people type them: 2M, 500k, 1.5e6, 30%."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from handlers.user_text import normalised

MAX_TOKENS = Decimal(10) ** 15

_SUFFIXES: dict[str, Decimal] = {
    "k": Decimal(10) ** 3,
    "m": Decimal(10) ** 6,
    "b": Decimal(10) ** 9,
    "万": Decimal(10) ** 4,
    "亿": Decimal(10) ** 8,
}
MAX_AMOUNT_TEXT = 40
# Digits with optional thousands commas or _ groups, decimals and exponent; ASCII only.
_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+(?:_[0-9]+)*)(?:\.[0-9]+)?|\.[0-9]+)"
    r"(?:[eE][+-]?[0-9]+)?"
)


def parse_amount(raw: str) -> Decimal | None:
    """A finite token count (sign kept, so callers can say why a negative is wrong), or None.

    Commas are thousands separators only (`1,500,000`), never decimal commas, so `1,5M` is
    refused rather than read as 15M; `_` may group digits; the suffixes k, M, B, 万 and 亿
    multiply.
    """
    cleaned = normalised(raw).strip()
    if not cleaned or len(cleaned) > MAX_AMOUNT_TEXT:
        return None
    multiplier = Decimal(1)
    suffix = cleaned[-1].lower()
    if suffix in _SUFFIXES:
        multiplier = _SUFFIXES[suffix]
        cleaned = cleaned[:-1]
    if not _NUMBER.fullmatch(cleaned):
        return None
    value = Decimal(cleaned.replace(",", "").replace("_", ""))
    if value.adjusted() > 30:
        # Already absurd; multiplying could overflow the decimal context.
        return value
    return value * multiplier


def parse_percent(raw: str) -> Decimal | None:
    """A share written as `30%` or `30`, as a number between 0 and 100; None otherwise."""
    cleaned = normalised(raw).strip().removesuffix("%")
    if not cleaned or len(cleaned) > MAX_AMOUNT_TEXT:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
