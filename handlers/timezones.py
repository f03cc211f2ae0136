"""Reading a time-zone name the way people type it, and rejecting the rest politely."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from handlers.i18n import text
from handlers.model import Lang, UserError
from handlers.user_text import normalised

EXAMPLE_ZONES = ("Asia/Shanghai", "Europe/London", "America/New_York", "UTC")


def example_zones(lang: Lang) -> str:
    """The example zones as a list in the reader's language, for "unknown zone" replies."""
    return text(lang, "core.list_separator").join(EXAMPLE_ZONES)


def utc_offset(zone: ZoneInfo, at: datetime) -> str:
    """The offset `zone` is at on `at`, as "+08:00" or "-05:00"."""
    offset = at.astimezone(zone).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


MAX_ZONE_NAME = 64
MAX_SHOWN = 40


@cache
def _zones_by_folded_name() -> dict[str, str]:
    # available_timezones() walks the zone database on every call: once per process is enough.
    return {name.casefold(): name for name in available_timezones()}


def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted."""
    return tuple(sorted(_zones_by_folded_name().values()))


def parse_zone(name: str) -> ZoneInfo | None:
    """The IANA zone `name` names (any letter case), or None for anything else."""
    cleaned = normalised(name).strip()
    if not cleaned or len(cleaned) > MAX_ZONE_NAME:
        return None
    canonical = _zones_by_folded_name().get(cleaned.casefold())
    return ZoneInfo(canonical) if canonical else None


def read_zone(typed: str) -> ZoneInfo:
    """The zone a member typed, or the catalogued refusal with examples in their language."""
    zone = parse_zone(typed)
    if zone is None:
        raise UserError("core.bad_zone", value=typed.strip()[:MAX_SHOWN], examples=example_zones)
    return zone
