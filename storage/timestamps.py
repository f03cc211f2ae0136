"""The one way storage writes an instant as text and reads it back: UTC ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(moment: datetime) -> str:
    """`2025-01-27T14:30:00+00:00` (microseconds only when set), so text order is time order.

    Seconds-only and microsecond texts of the same table still sort by time: at the first
    place they differ, `+` sorts before `.`, and the shorter one is the earlier instant.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        # astimezone would silently read a naive time as the machine's local time.
        raise ValueError(f"storage keeps aware instants only, got naive {moment!r}")
    return moment.astimezone(UTC).isoformat()


def from_db(text: str) -> datetime:
    """The aware UTC instant `to_db` wrote, or any ISO 8601 text with an offset."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"a stored instant without an offset: {text!r}")
    return parsed.astimezone(UTC)


def optional_to_db(moment: datetime | None) -> str | None:
    return None if moment is None else to_db(moment)


def optional_from_db(text: str | None) -> datetime | None:
    return from_db(text) if text else None
