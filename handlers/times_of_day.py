"""Reading a time of day the way people type it: "16:15", "16：15", "9pm", "21点30分"."""

from __future__ import annotations

import re
import unicodedata
from datetime import time

from handlers.model import UserError

MAX_SHOWN = 40
_TIME = re.compile(r"(\d{1,2}):(\d{2})\s*([ap]m)?")
_TIME_HOUR = re.compile(r"(\d{1,2})\s*([ap]m)")
_TIME_CN = re.compile(r"(\d{1,2})点(?:(\d{1,2})分?)?()")


def parse_time(raw: str) -> time | None:
    """ "16:15", "9:30", "16：15" (a Chinese keyboard's colon), "9pm", "9:30am", "21点30分"
    as a time of day; None otherwise."""
    typed = unicodedata.normalize("NFKC", raw).strip().casefold()
    clock = _TIME.fullmatch(typed) or _TIME_CN.fullmatch(typed)
    if clock is not None:
        hour, minute, suffix = int(clock[1]), int(clock[2] or 0), clock[3]
    else:
        bare = _TIME_HOUR.fullmatch(typed)
        if bare is None:
            return None
        hour, minute, suffix = int(bare[1]), 0, bare[2]
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def looks_like_time(word: str) -> bool:
    """A word meant as a time of day ("16:15", "1615", "9pm"), right or wrong."""
    folded = unicodedata.normalize("NFKC", word)
    return ":" in folded or folded[:1].isdigit()


def read_time(typed: str) -> time:
    at = parse_time(typed)
    if at is None:
        raise UserError("recap.bad_time", value=typed.strip()[:MAX_SHOWN])
    return at
