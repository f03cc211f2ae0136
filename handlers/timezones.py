"""Reading a time-zone name the way people type it, and rejecting the rest politely.

A zone is always a ZoneInfo with a key that can be stored and read back (services.chat_settings,
subscriptions): a fixed offset such as "UTC+8" becomes the IANA zone Etc/GMT-8 (POSIX sign, so
inverted), and `zone_label` shows it as "UTC+08:00" again so nobody reads the inverted sign.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from handlers.i18n import text
from handlers.model import Lang, UserError
from handlers.user_text import normalised

EXAMPLE_ZONES = ("Asia/Shanghai", "Europe/London", "America/New_York", "UTC+8")

# Etc/GMT zones exist for whole hours from UTC-12 to UTC+14 only.
MIN_OFFSET_HOURS = -12
MAX_OFFSET_HOURS = 14
_OFFSET = re.compile(r"(?:utc|gmt)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?")
_ETC = re.compile(r"Etc/GMT([+-])(\d{1,2})")
_BARE_UTC = frozenset({"utc", "gmt", "z", "zulu", "utc0", "gmt0", "utc+0", "utc-0", "gmt+0"})

# Names people type that are no IANA name: cities in a zone named after another one, and
# the Chinese names of the zones these communities live in. Keys are folded (casefold).
CITIES = {
    "beijing": "Asia/Shanghai",
    "peking": "Asia/Shanghai",
    "shenzhen": "Asia/Shanghai",
    "guangzhou": "Asia/Shanghai",
    "hangzhou": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "北京": "Asia/Shanghai",
    "上海": "Asia/Shanghai",
    "深圳": "Asia/Shanghai",
    "广州": "Asia/Shanghai",
    "杭州": "Asia/Shanghai",
    "北京时间": "Asia/Shanghai",
    "香港": "Asia/Hong_Kong",
    "台北": "Asia/Taipei",
    "东京": "Asia/Tokyo",
    "首尔": "Asia/Seoul",
    "新加坡": "Asia/Singapore",
    "伦敦": "Europe/London",
    "巴黎": "Europe/Paris",
    "柏林": "Europe/Berlin",
    "纽约": "America/New_York",
    "旧金山": "America/Los_Angeles",
    "洛杉矶": "America/Los_Angeles",
    "悉尼": "Australia/Sydney",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "silicon valley": "America/Los_Angeles",
    "washington": "America/New_York",
    "boston": "America/New_York",
    "bangalore": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
}
# Abbreviations that name one zone only.
ABBREVIATIONS = {
    "jst": "Asia/Tokyo",
    "kst": "Asia/Seoul",
    "hkt": "Asia/Hong_Kong",
    "sgt": "Asia/Singapore",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "edt": "America/New_York",
    "bjt": "Asia/Shanghai",
}
# Abbreviations that several zones use: refused with the candidates, never guessed.
AMBIGUOUS = {
    "cst": ("Asia/Shanghai", "America/Chicago", "America/Havana"),
    "ist": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"),
    "bst": ("Europe/London", "Asia/Dhaka"),
    "ast": ("America/Halifax", "Asia/Riyadh"),
}

MAX_ZONE_NAME = 64
MAX_SHOWN = 40


def example_zones(lang: Lang) -> str:
    """The example zones as a list in the reader's language, for "unknown zone" replies."""
    return text(lang, "core.list_separator").join(EXAMPLE_ZONES)


def utc_offset(zone: ZoneInfo, at: datetime) -> str:
    """The offset `zone` is at on `at`, as "+08:00" or "-05:00"."""
    offset = at.astimezone(zone).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


def zone_label(zone: ZoneInfo) -> str:
    """The zone's name as a reader should see it: "UTC+08:00" for Etc/GMT-8, else its key."""
    found = _ETC.fullmatch(zone.key)
    if found is None:
        return zone.key
    hours = int(found[2])
    sign = "-" if found[1] == "+" else "+"  # POSIX: Etc/GMT-8 is eight hours ahead
    return "UTC" if hours == 0 else f"UTC{sign}{hours:02d}:00"


def zone_with_offset(lang: Lang, zone: ZoneInfo, at: datetime) -> str:
    """ "Asia/Shanghai (UTC+08:00)": the zone and the offset in force at `at`; a fixed
    offset ("UTC+08:00", "UTC") says it by its name alone."""
    label = zone_label(zone)
    if label.startswith("UTC"):
        return label
    return text(lang, "core.zone_with_offset", zone=label, offset=utc_offset(zone, at))


@cache
def _zones_by_folded_name() -> dict[str, str]:
    # available_timezones() walks the zone database on every call: once per process is enough.
    zones = {name.casefold(): name for name in zone_names()}
    # "Tokyo", "New York", "hong_kong": the last part of an IANA name, where only one zone
    # (the shortest name, the canonical one) ends that way.
    by_city: dict[str, str] = {}
    for name in sorted(zone_names(), key=lambda n: (n.count("/"), n)):
        if "/" in name and not name.startswith("Etc/"):
            city = name.rsplit("/", 1)[1].casefold()
            by_city.setdefault(city, name)
            by_city.setdefault(city.replace("_", " "), name)
    for city, name in by_city.items():
        zones.setdefault(city, name)
    zones.update(CITIES)
    zones.update(ABBREVIATIONS)
    return zones


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted."""
    return tuple(sorted(available_timezones()))


def _cleaned(name: str) -> str:
    return " ".join(normalised(name).split()).casefold()


def offset_zone(hours: int) -> ZoneInfo:
    """The fixed zone `hours` ahead of UTC (behind when negative): Etc/GMT with POSIX sign."""
    if hours == 0:
        return ZoneInfo("UTC")
    return ZoneInfo(f"Etc/GMT{-hours:+d}")


def _offset(cleaned: str) -> int | str | None:
    """Whole hours for "utc+8", "gmt-05:00"; "uneven" for a real offset no zone has fixed;
    None when `cleaned` is not an offset at all."""
    found = _OFFSET.fullmatch(cleaned)
    if found is None:
        return None
    hours, minutes = int(found[2]), int(found[3] or 0)
    signed = -hours if found[1] == "-" else hours
    if minutes or not MIN_OFFSET_HOURS <= signed <= MAX_OFFSET_HOURS:
        return "uneven"
    return signed


def parse_zone(name: str) -> ZoneInfo | None:
    """The zone `name` names (IANA in any case or width, a city, an offset), or None."""
    cleaned = _cleaned(name)
    if not cleaned or len(cleaned) > MAX_ZONE_NAME:
        return None
    if cleaned in _BARE_UTC:
        return ZoneInfo("UTC")
    hours = _offset(cleaned)
    if isinstance(hours, int):
        return offset_zone(hours)
    canonical = _zones_by_folded_name().get(cleaned)
    return ZoneInfo(canonical) if canonical else None


def read_zone(typed: str) -> ZoneInfo:
    """The zone a member typed, or the catalogued refusal in their language."""
    zone = parse_zone(typed)
    if zone is not None:
        return zone
    value = typed.strip()[:MAX_SHOWN]
    cleaned = _cleaned(typed)
    candidates = AMBIGUOUS.get(cleaned)
    if candidates is not None:
        raise UserError(
            "core.ambiguous_zone",
            value=value,
            candidates=lambda lang: text(lang, "core.list_separator").join(candidates),
        )
    if _offset(cleaned) == "uneven":
        raise UserError("core.uneven_offset", value=value)
    raise UserError("core.bad_zone", value=value, examples=example_zones)
