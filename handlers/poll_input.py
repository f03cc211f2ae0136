"""Reading what members type for a poll: its number, their choices, a new poll, a closing time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.model import Lang, UserError
from handlers.user_text import folded, normalised, one_line, quoted
from storage.poll_model import MAX_OPTIONS, MIN_OPTIONS, Poll

MAX_QUESTION = 300
MAX_OPTION = 100
MAX_SHOWN = 40
MAXPOLL_ID = 10**9
MAX_CLOSES = timedelta(days=366)
MIN_CLOSES = timedelta(minutes=1)
POLL_ID = re.compile(r"#?(\d{1,10})")
_NUMBERS = re.compile(r"\d{1,3}(?:[\s,，、]+\d{1,3})*")
_DURATION = re.compile(r"(?:\d{1,5}\s*(?:w|d|h|m|min|mins|周|天|小时|分钟))+", re.IGNORECASE)
_DURATION_PART = re.compile(r"(\d{1,5})\s*(w|d|h|min|mins|m|周|天|小时|分钟)", re.IGNORECASE)
_UNIT = {
    "w": timedelta(weeks=1),
    "周": timedelta(weeks=1),
    "d": timedelta(days=1),
    "天": timedelta(days=1),
    "h": timedelta(hours=1),
    "小时": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "mins": timedelta(minutes=1),
    "分钟": timedelta(minutes=1),
}
_SEPARATOR = re.compile(r"[|｜]")


def parse_poll_id(value: str) -> int:
    match = POLL_ID.fullmatch(value.strip())
    if match is None or not 0 < int(match[1]) < MAXPOLL_ID:
        raise UserError("poll.not_found", id=quoted(value, MAX_SHOWN))
    return int(match[1])


def parse_choices(poll: Poll, value: str, lang: Lang) -> frozenset[int]:
    """Option numbers ("2", "1 3", "1,3") or one option's text, in either language."""
    wanted = folded(value)
    for option in poll.options:
        if wanted in (folded(option.label), folded(option.label_zh or option.label)):
            return frozenset({option.index})
    stripped = normalised(value).strip()
    if not _NUMBERS.fullmatch(stripped):
        raise UserError(
            "poll.unknown_option",
            id=poll.id,
            text=quoted(value, MAX_SHOWN),
            count=len(poll.options),
        )
    numbers = [int(number) for number in re.findall(r"\d+", stripped)]
    for number in numbers:
        if not 1 <= number <= len(poll.options):
            raise UserError(
                "poll.no_such_option", id=poll.id, count=len(poll.options), number=number
            )
    if len(set(numbers)) > 1 and not poll.multi:
        raise UserError("poll.one_choice_only", id=poll.id)
    return frozenset(number - 1 for number in numbers)


def parse_duration(value: str) -> timedelta | None:
    if not _DURATION.fullmatch(value):
        return None
    total = timedelta()
    for amount, unit in _DURATION_PART.findall(value):
        total += int(amount) * _UNIT[unit.lower()]
    return total


def parse_closes(value: str, now: datetime, zone: ZoneInfo) -> datetime:
    """`2h`, `1d12h`, `90m` from now, or `2026-12-01T18:00` in the chat's time zone."""
    shown = quoted(value, MAX_SHOWN)
    try:
        duration = parse_duration(value)
        if duration is not None:
            moment = now + duration
        else:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=zone)
            moment = parsed.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise UserError("poll.bad_closes", value=shown) from error
    if moment < now + MIN_CLOSES:
        raise UserError("poll.closes_in_past", value=shown)
    if moment > now + MAX_CLOSES:
        raise UserError("poll.closes_too_far", days=MAX_CLOSES.days)
    return moment


def parse_new(question: str, choices: str) -> tuple[str, list[str]]:
    """`Question` and `Option 1 | Option 2` (or one option a line), checked."""
    pieces = _SEPARATOR.split(choices) if _SEPARATOR.search(choices) else choices.splitlines()
    options = [one_line(piece) for piece in pieces]
    while options and not folded(options[-1]):
        options.pop()
    question = one_line(question)
    if not options:
        raise UserError("poll.new_usage")
    if not folded(question):
        raise UserError("poll.question_empty")
    if len(question) > MAX_QUESTION:
        raise UserError("poll.question_too_long", length=len(question), max=MAX_QUESTION)
    if len(options) < MIN_OPTIONS:
        raise UserError("poll.too_few_options", min=MIN_OPTIONS)
    if len(options) > MAX_OPTIONS:
        raise UserError("poll.too_many_options", count=len(options), max=MAX_OPTIONS)
    seen: dict[str, int] = {}
    for number, option in enumerate(options, start=1):
        key = folded(option)
        if not key:
            raise UserError("poll.option_empty", number=number)
        if len(option) > MAX_OPTION:
            raise UserError(
                "poll.option_too_long", number=number, length=len(option), max=MAX_OPTION
            )
        if key in seen:
            raise UserError("poll.duplicate_option", number=number, other=seen[key])
        seen[key] = number
    return question, options
