"""Reading token amounts and percentages the way people type them: 2M, 500k, 1.5e6, 30%."""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation

MAX_TOKENS = Decimal(10) ** 15

_SUFFIXES: dict[str, Decimal] = {
    "k": Decimal(10) ** 3,
    "m": Decimal(10) ** 6,
    "b": Decimal(10) ** 9,
    "万": Decimal(10) ** 4,
    "亿": Decimal(10) ** 8,
}
MAX_AMOUNT_TEXT = 40


def normalise(raw: str) -> str:
    """Full-width digits and letters folded to ASCII, invisible characters dropped."""
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(char for char in folded if unicodedata.category(char) not in ("Cf", "Cc"))


def parse_amount(raw: str) -> Decimal | None:
    """A non-negative finite token count, or None when `raw` is not one.

    Thousands separators (`,` and `_`) are allowed; so are the suffixes k, M, B, 万 and 亿.
    """
    cleaned = normalise(raw).strip().replace(",", "").replace("_", "")
    if not cleaned or len(cleaned) > MAX_AMOUNT_TEXT:
        return None
    multiplier = Decimal(1)
    suffix = cleaned[-1].lower()
    if suffix in _SUFFIXES:
        multiplier = _SUFFIXES[suffix]
        cleaned = cleaned[:-1]
    if not cleaned or not (cleaned[0].isdigit() or cleaned[0] in ".-+"):
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value.adjusted() > 30:
        # Already absurd; multiplying could overflow the decimal context.
        return value
    return value * multiplier


def parse_percent(raw: str) -> Decimal | None:
    """A share written as `30%` or `30`, as a number between 0 and 100; None otherwise."""
    cleaned = normalise(raw).strip().removesuffix("%")
    if not cleaned or len(cleaned) > MAX_AMOUNT_TEXT:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
