"""`/poll` and the poll buttons: the DeepSeek poll every chat shares, and chats' own polls."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal, NoReturn
from zoneinfo import ZoneInfo

from handlers.i18n import text
from handlers.model import (
    Button,
    Image,
    Lang,
    Reply,
    Request,
    Services,
    Table,
    UserError,
    require_moderator,
)
from handlers.poll_chart import render_chart
from storage.poll_model import (
    DEEPSEEK_POLL_ID,
    MAX_OPTIONS,
    MIN_OPTIONS,
    ChatHasOpenPoll,
    GlobalPollFixed,
    NoSuchOption,
    Poll,
    PollClosed,
    PollError,
    PollNotFound,
    PollSummary,
    Tally,
    TooManyChoices,
    VoteOutcome,
)

MAX_QUESTION = 300
MAX_OPTION = 100
MAX_SHOWN = 40
MAX_BUTTON_LABEL = 60
MAX_ALT = 1000
MAX_POLL_ID = 10**9
MAX_CLOSES = timedelta(days=366)
MIN_CLOSES = timedelta(minutes=1)
# For a day after a chat's own poll ends, a vote that names no poll is refused rather than
# counted in the DeepSeek poll: the voter most likely meant the poll that just closed.
RECENTLY_CLOSED = timedelta(hours=24)
BAR_CELLS = 10
ACTION_PREFIX = "poll"
REFRESH = "r"

_SUBCOMMANDS = {
    "vote": ("vote", "v", "投票"),
    "withdraw": ("withdraw", "unvote", "retract", "撤回", "撤销"),
    "results": ("results", "result", "结果"),
    "new": ("new", "create", "start", "新建", "创建", "发起"),
    "close": ("close", "end", "stop", "关闭", "结束"),
    "list": ("list", "ls", "列表"),
}
_SUBCOMMAND_BY_WORD = {word: name for name, words in _SUBCOMMANDS.items() for word in words}
_POLL_ID = re.compile(r"#?(\d{1,10})")
_NUMBERS = re.compile(r"\d{1,3}(?:[\s,，、]+\d{1,3})*")
# Phones turn "--" into a dash, so a dash counts too.
_FLAG = r"(?:^|\s)(?:--|—|–|－－)"
_MULTI = re.compile(_FLAG + r"multi(?=\s|$)", re.IGNORECASE)
_CLOSES = re.compile(
    _FLAG + r"closes?\s+(\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?|\S+)",
    re.IGNORECASE,
)
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
_SPACES = re.compile(r"\s+")


# -- text people typed -----------------------------------------------------------------------


def clean(value: str) -> str:
    """One line of plain text: control characters dropped, white space runs made one space.

    Everything else (markup, mentions, zero-width and direction marks) is kept as typed;
    front ends escape it when they show it.
    """
    kept = "".join(c for c in value if c.isspace() or unicodedata.category(c) != "Cc")
    return _SPACES.sub(" ", kept).strip()


def folded(value: str) -> str:
    """What two labels are compared by: width, letter case, invisible marks and spacing ignored."""
    normal = unicodedata.normalize("NFKC", value).casefold()
    visible = "".join(c for c in normal if unicodedata.category(c) != "Cf")
    return _SPACES.sub(" ", visible).strip()


def shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


# -- how a poll reads ------------------------------------------------------------------------


def question_of(poll: Poll, lang: Lang) -> str:
    return poll.question_zh if lang == "zh" and poll.question_zh else poll.question


def labels_of(poll: Poll, lang: Lang) -> list[str]:
    return [
        option.label_zh if lang == "zh" and option.label_zh else option.label
        for option in poll.options
    ]


def when(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def percent(count: int, voters: int) -> str:
    return f"{count * 100 / voters:.0f}" if voters else "0"


def bar(count: int, voters: int) -> str:
    filled = round(BAR_CELLS * count / voters) if voters else 0
    return "█" * filled + "░" * (BAR_CELLS - filled)


def platform_name(lang: Lang, platform: str) -> str:
    if platform in ("telegram", "discord", "console"):
        return text(lang, f"poll.platform_{platform}")
    return platform


def voters_line(lang: Lang, tally: Tally) -> str:
    if not tally.by_platform:
        return text(lang, "poll.voters", count=tally.voters)
    breakdown = " · ".join(
        f"{platform_name(lang, entry.platform)} {entry.voters}" for entry in tally.by_platform
    )
    return text(lang, "poll.voters_by_platform", count=tally.voters, breakdown=breakdown)


def status_line(lang: Lang, poll: Poll, now: datetime, zone: ZoneInfo) -> str:
    return status_text(lang, poll, poll.ended_at(now), zone)


def status_text(lang: Lang, poll: Poll, ended: datetime | None, zone: ZoneInfo) -> str:
    if ended is not None:
        return text(lang, "poll.status_closed", when=when(ended, zone))
    kind = text(lang, "poll.kind_multi" if poll.multi else "poll.kind_single")
    if poll.closes_at is not None:
        return text(lang, "poll.status_open_until", kind=kind, when=when(poll.closes_at, zone))
    return text(lang, "poll.status_open", kind=kind)


@lru_cache(maxsize=256)
def rendered(
    poll: Poll, tally: Tally, lang: Lang, zone: ZoneInfo, ended: datetime | None
) -> tuple[str, tuple[str, ...], tuple[Button, ...]]:
    """Title, paragraphs and buttons of a poll message.

    Cached because every voter of one group-committed batch gets the same tally back, and
    a burst of a thousand votes would otherwise render the same message a thousand times.
    """
    labels = labels_of(poll, lang)
    lines = []
    for number, (label, count) in enumerate(zip(labels, tally.counts, strict=True), start=1):
        lines.append(f"{number}. {label}")
        lines.append(
            text(
                lang,
                "poll.bar",
                bar=bar(count, tally.voters),
                percent=percent(count, tally.voters),
                count=count,
            )
        )
    parts = ["\n".join(lines), voters_line(lang, tally), status_text(lang, poll, ended, zone)]
    buttons: tuple[Button, ...] = ()
    if ended is None:
        parts.append(text(lang, "poll.hint_multi" if poll.multi else "poll.hint"))
        buttons = tuple(
            Button(
                label=shorten(f"{number}. {label}", MAX_BUTTON_LABEL),
                action=f"{ACTION_PREFIX}:{poll.id}:{number - 1}",
            )
            for number, label in enumerate(labels, start=1)
        )
    title = text(lang, "poll.title", id=poll.id, question=question_of(poll, lang))
    return title, tuple(parts), buttons


def poll_message(
    poll: Poll,
    tally: Tally,
    request: Request,
    now: datetime,
    *,
    lead: Sequence[str] = (),
    edit: bool = False,
    notice: str = "",
    is_error: bool = False,
) -> Reply:
    """The poll with its tallies and bars, and a button per option while it is open."""
    title, parts, buttons = rendered(poll, tally, request.lang, request.tz, poll.ended_at(now))
    return Reply(
        title=title,
        parts=(*lead, *parts),
        buttons=buttons,
        edit=edit,
        notice=notice,
        is_error=is_error,
        refresh_action=f"{ACTION_PREFIX}:{poll.id}:{REFRESH}",
    )


def vote_notice(lang: Lang, outcome: VoteOutcome) -> str:
    labels = labels_of(outcome.poll, lang)
    chosen = [labels[index] for index in sorted(outcome.choices)]
    if not chosen:
        return text(lang, "poll.notice_withdrawn", id=outcome.poll.id)
    if outcome.poll.multi:
        return text(lang, "poll.notice_choices", id=outcome.poll.id, choices="; ".join(chosen))
    return text(lang, "poll.notice_vote", id=outcome.poll.id, choice=chosen[0])


async def refused_on_closed(poll: Poll, request: Request, services: Services, edit: bool) -> Reply:
    found = await services.polls.get_with_tally(poll.id)
    if found is None:
        raise UserError("poll.not_found", id=poll.id)
    fresh, tally = found
    refusal = text(request.lang, "poll.closed_refused", id=poll.id)
    return poll_message(
        fresh,
        tally,
        request,
        services.clock(),
        lead=() if edit else (refusal,),
        edit=edit,
        notice=refusal if edit else "",
        is_error=True,
    )


def raise_for(error: PollError, lang: Lang) -> NoReturn:
    """Turn a store refusal into the catalogued message for the user."""
    if isinstance(error, NoSuchOption):
        raise UserError(
            "poll.no_such_option",
            id=error.poll.id,
            count=len(error.poll.options),
            number=error.index + 1,
        )
    if isinstance(error, TooManyChoices):
        raise UserError("poll.one_choice_only", id=error.poll.id)
    if isinstance(error, GlobalPollFixed):
        raise UserError("poll.global_fixed", id=error.args[0])
    if isinstance(error, ChatHasOpenPoll):
        raise UserError(
            "poll.chat_has_open_poll",
            id=error.poll.id,
            question=shorten(question_of(error.poll, lang), MAX_SHOWN),
        )
    if isinstance(error, PollClosed):
        raise UserError("poll.already_closed", id=error.poll.id)
    if isinstance(error, PollNotFound):
        raise UserError("poll.not_found", id=shorten(str(error.args[0]), MAX_SHOWN))
    raise error


# -- finding the poll ------------------------------------------------------------------------


def parse_poll_id(value: str) -> int:
    match = _POLL_ID.fullmatch(value.strip())
    if match is None or not 0 < int(match[1]) < MAX_POLL_ID:
        raise UserError("poll.not_found", id=shorten(value.strip(), MAX_SHOWN))
    return int(match[1])


async def find_poll(request: Request, services: Services, poll_id: int) -> tuple[Poll, Tally]:
    """A poll this chat may see: its own or a global one. Others' polls do not exist here."""
    found = await services.polls.get_with_tally(poll_id)
    if found is None or not found[0].belongs_to(request.platform, request.chat_id):
        raise UserError("poll.not_found", id=poll_id)
    return found


async def target_poll(request: Request, services: Services, value: str) -> tuple[Poll, Tally]:
    """The named poll, else the chat's open poll, its poll that closed within the last day,
    or the DeepSeek poll."""
    if value:
        return await find_poll(request, services, parse_poll_id(value))
    return await services.polls.current(
        request.platform, request.chat_id, services.clock(), closed_within=RECENTLY_CLOSED
    )


def just_closed(poll: Poll, services: Services) -> bool:
    """The chat's own poll that target_poll picked although it has closed."""
    return not poll.is_global and not poll.is_open(services.clock())


def refuse_unnamed_vote(poll: Poll, services: Services) -> None:
    if just_closed(poll, services):
        raise UserError("poll.own_poll_closed", id=poll.id, global_id=DEEPSEEK_POLL_ID)


# -- the command -----------------------------------------------------------------------------


def needs_moderator(line: str) -> bool:
    """Whether `/poll <line>` is one of the subcommands only moderators may run."""
    words = line.split(None, 1)
    if not words:
        return False
    subcommand = _SUBCOMMAND_BY_WORD.get(unicodedata.normalize("NFKC", words[0]).casefold())
    return subcommand in ("new", "close")


async def poll(request: Request, services: Services) -> Reply:
    """`/poll` · `/poll 5` · `/poll vote 2` · `/poll results` · `/poll new Q | A | B` ·
    `/poll close` · `/poll list` · `/poll withdraw`."""
    words = request.text.split(None, 1)
    if not words:
        found = await target_poll(request, services, "")
        lead: tuple[str, ...] = ()
        if just_closed(found[0], services):
            lead = (
                text(
                    request.lang, "poll.own_poll_closed", id=found[0].id, global_id=DEEPSEEK_POLL_ID
                ),
            )
        return poll_message(*found, request, services.clock(), lead=lead)
    first, rest = words[0], (words[1] if len(words) > 1 else "")
    subcommand = _SUBCOMMAND_BY_WORD.get(unicodedata.normalize("NFKC", first).casefold())
    if subcommand is None:
        if _POLL_ID.fullmatch(first) and not rest:
            found = await target_poll(request, services, first)
            return poll_message(*found, request, services.clock())
        raise UserError("poll.bad_usage")
    if subcommand == "vote":
        return await vote_by_text(request, services, rest)
    if subcommand == "withdraw":
        return await withdraw(request, services, rest)
    if subcommand == "results":
        return await results(request, services, rest)
    if subcommand == "new":
        return await new_poll(request, services, rest)
    if subcommand == "close":
        return await close_poll(request, services, rest)
    return await list_polls(request, services, rest)


def split_poll_prefix(value: str) -> tuple[str, str]:
    """`#5 rest` -> ("5", "rest"): a vote may name its poll first."""
    match = re.match(r"#(\d{1,10})(?:\s+|$)", value)
    if match is None:
        return "", value
    return match[1], value[match.end() :]


def parse_choices(poll: Poll, value: str, lang: Lang) -> frozenset[int]:
    """Option numbers ("2", "1 3", "1,3") or one option's text, in either language."""
    wanted = folded(value)
    for option in poll.options:
        if wanted in (folded(option.label), folded(option.label_zh or option.label)):
            return frozenset({option.index})
    stripped = unicodedata.normalize("NFKC", value).strip()
    if not _NUMBERS.fullmatch(stripped):
        raise UserError(
            "poll.unknown_option",
            id=poll.id,
            text=shorten(clean(value), MAX_SHOWN),
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


async def vote_by_text(request: Request, services: Services, value: str) -> Reply:
    poll_id, choice = split_poll_prefix(value.strip())
    if not choice.strip():
        raise UserError("poll.vote_usage")
    poll, _ = await target_poll(request, services, poll_id)
    if not poll_id:
        refuse_unnamed_vote(poll, services)
    return await record(request, services, poll, parse_choices(poll, choice, request.lang))


async def withdraw(request: Request, services: Services, value: str) -> Reply:
    poll, _ = await target_poll(request, services, value)
    if not value.strip():
        refuse_unnamed_vote(poll, services)
    return await record(request, services, poll, frozenset())


async def record(
    request: Request, services: Services, poll: Poll, choices: frozenset[int]
) -> Reply:
    now = services.clock()
    try:
        outcome = await services.polls.set_choices(
            poll.id,
            platform=request.platform,
            chat_id=request.chat_id,
            user_id=request.user_id,
            options=choices,
            now=now,
        )
    except PollClosed as error:
        return await refused_on_closed(error.poll, request, services, edit=False)
    except PollError as error:
        raise_for(error, request.lang)
    return poll_message(
        outcome.poll, outcome.tally, request, now, notice=vote_notice(request.lang, outcome)
    )


async def results(request: Request, services: Services, value: str) -> Reply:
    poll, tally = await target_poll(request, services, value)
    lang, now = request.lang, services.clock()
    labels = labels_of(poll, lang)
    numbers = [str(number) for number in range(1, len(labels) + 1)]
    totals = Table(
        headers=(
            text(lang, "poll.col_number"),
            text(lang, "poll.col_option"),
            text(lang, "poll.col_votes"),
            text(lang, "poll.col_share"),
        ),
        rows=tuple(
            (number, shorten(label, MAX_SHOWN), str(count), f"{percent(count, tally.voters)}%")
            for number, label, count in zip(numbers, labels, tally.counts, strict=True)
        ),
        align=("r", "l", "r", "r"),
    )
    parts: list[str | Table] = [totals, voters_line(lang, tally)]
    if tally.by_platform:
        parts.append(
            Table(
                headers=(
                    text(lang, "poll.col_number"),
                    *(platform_name(lang, entry.platform) for entry in tally.by_platform),
                ),
                rows=tuple(
                    (number, *(str(entry.counts[row]) for entry in tally.by_platform))
                    for row, number in enumerate(numbers)
                ),
                align=right_aligned(1 + len(tally.by_platform)),
            )
        )
    parts.append(status_line(lang, poll, now, request.tz))
    legend = "; ".join(
        f"{number} = {shorten(label, MAX_SHOWN)}: {count} ({percent(count, tally.voters)}%)"
        for number, label, count in zip(numbers, labels, tally.counts, strict=True)
    )
    png = await asyncio.to_thread(
        render_chart,
        f"#{poll.id}",
        tally.counts,
        [(entry.platform, entry.counts) for entry in tally.by_platform],
        tally.voters,
        {
            entry.platform: (
                platform_name(lang, entry.platform),
                platform_name("en", entry.platform),
            )
            for entry in tally.by_platform
        },
    )
    alt = text(lang, "poll.chart_alt", id=poll.id, voters=tally.voters, legend=legend)
    return Reply(
        title=text(lang, "poll.results_title", id=poll.id, question=question_of(poll, lang)),
        parts=tuple(parts),
        images=(Image(png=png, filename=f"poll-{poll.id}.png", alt=shorten(alt, MAX_ALT)),),
    )


def right_aligned(columns: int) -> tuple[Literal["l", "r"], ...]:
    right: Literal["l", "r"] = "r"
    return (right,) * columns


def parse_duration(value: str) -> timedelta | None:
    if not _DURATION.fullmatch(value):
        return None
    total = timedelta()
    for amount, unit in _DURATION_PART.findall(value):
        total += int(amount) * _UNIT[unit.lower()]
    return total


def parse_closes(value: str, now: datetime, zone: ZoneInfo) -> datetime:
    """`2h`, `1d12h`, `90m` from now, or `2026-12-01T18:00` in the chat's time zone."""
    shown = shorten(value, MAX_SHOWN)
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


def parse_new(
    value: str, now: datetime, zone: ZoneInfo
) -> tuple[str, list[str], bool, datetime | None]:
    """`Question | Option 1 | Option 2 [--multi] [--closes 2h]`, checked."""
    multi = bool(_MULTI.search(value))
    body = _MULTI.sub(" ", value)
    closes_at = None
    closes = _CLOSES.search(body)
    if closes is not None:
        closes_at = parse_closes(closes[1], now, zone)
        body = body[: closes.start()] + " " + body[closes.end() :]
    pieces = _SEPARATOR.split(body) if _SEPARATOR.search(body) else body.splitlines()
    pieces = [clean(piece) for piece in pieces]
    while len(pieces) > 1 and not folded(pieces[-1]):
        pieces.pop()
    if len(pieces) < 2:
        raise UserError("poll.new_usage")
    question, options = pieces[0], pieces[1:]
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
    return question, options, multi, closes_at


async def new_poll(request: Request, services: Services, value: str) -> Reply:
    require_moderator(request)
    now = services.clock()
    question, options, multi, closes_at = parse_new(value, now, request.tz)
    try:
        created = await services.polls.create(
            platform=request.platform,
            chat_id=request.chat_id,
            question=question,
            options=options,
            multi=multi,
            closes_at=closes_at,
            created_by=request.user_id,
            now=now,
        )
    except PollError as error:
        raise_for(error, request.lang)
    found = await find_poll(request, services, created.id)
    return poll_message(
        *found, request, now, lead=(text(request.lang, "poll.created", id=created.id),)
    )


async def close_poll(request: Request, services: Services, value: str) -> Reply:
    require_moderator(request)
    now = services.clock()
    if value.strip():
        poll_id = parse_poll_id(value)
    else:
        current, _ = await services.polls.current(request.platform, request.chat_id, now)
        if current.is_global:
            raise UserError("poll.no_open_poll")
        poll_id = current.id
    try:
        closed = await services.polls.close(poll_id, request.platform, request.chat_id, now)
    except PollError as error:
        raise_for(error, request.lang)
    found = await find_poll(request, services, closed.id)
    return poll_message(
        *found, request, now, lead=(text(request.lang, "poll.closed_now", id=closed.id),)
    )


def summary_status(lang: Lang, summary: PollSummary, now: datetime, zone: ZoneInfo) -> str:
    ended = summary.poll.ended_at(now)
    if ended is not None:
        return text(lang, "poll.list_closed", when=when(ended, zone))
    if summary.poll.closes_at is not None:
        return text(lang, "poll.list_open_until", when=when(summary.poll.closes_at, zone))
    return text(lang, "poll.list_open")


async def list_polls(request: Request, services: Services, value: str) -> Reply:
    if value.strip():
        raise UserError("poll.bad_usage")
    lang, now = request.lang, services.clock()
    summaries = await services.polls.list_for_chat(request.platform, request.chat_id)
    table = Table(
        headers=(
            text(lang, "poll.col_id"),
            text(lang, "poll.col_question"),
            text(lang, "poll.col_status"),
            text(lang, "poll.col_voters"),
        ),
        rows=tuple(
            (
                f"#{summary.poll.id}",
                shorten(question_of(summary.poll, lang), MAX_SHOWN),
                summary_status(lang, summary, now, request.tz),
                str(summary.voters),
            )
            for summary in summaries
        ),
        align=("r", "l", "l", "r"),
    )
    own = any(not summary.poll.is_global for summary in summaries)
    return Reply(
        title=text(lang, "poll.list_title"),
        parts=(table, text(lang, "poll.list_hint" if own else "poll.list_none")),
    )


# -- the buttons -----------------------------------------------------------------------------


def _ascii_number(value: str) -> bool:
    return value.isascii() and value.isdecimal()


async def poll_action(request: Request, services: Services) -> Reply:
    """`poll:<id>:<option index>` votes, changes or withdraws; `poll:<id>:r` re-renders."""
    pieces = (request.action or "").split(":")
    # isdecimal() alone takes any script's digits ("１"), which no button of ours carries.
    if len(pieces) != 3 or pieces[0] != ACTION_PREFIX or not _ascii_number(pieces[1]):
        raise UserError("poll.bad_button")
    poll_id = parse_poll_id(pieces[1])
    now = services.clock()
    if pieces[2] == REFRESH:
        found = await find_poll(request, services, poll_id)
        return poll_message(*found, request, now, edit=True)
    if not _ascii_number(pieces[2]) or len(pieces[2]) > 2:
        raise UserError("poll.bad_button")
    try:
        outcome = await services.polls.press(
            poll_id,
            platform=request.platform,
            chat_id=request.chat_id,
            user_id=request.user_id,
            option=int(pieces[2]),
            now=now,
            delivery_id=request.delivery_id,
        )
    except PollClosed as error:
        return await refused_on_closed(error.poll, request, services, edit=True)
    except PollError as error:
        raise_for(error, request.lang)
    return poll_message(
        outcome.poll,
        outcome.tally,
        request,
        now,
        edit=True,
        notice=vote_notice(request.lang, outcome),
    )
