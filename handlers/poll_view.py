"""How a poll reads: its message with bars and buttons, its results, notices and lists."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from handlers.i18n import text, texts
from handlers.model import Button, Image, Lang, Reply, Request, Table
from handlers.poll_chart import render_chart
from handlers.timezones import utc_offset, zone_label
from handlers.user_text import fit, shorten
from storage.poll_model import PLATFORMS, Poll, PollSummary, Tally, VoteOutcome

MAX_SHOWN = 40
# Monospace columns left for an option or a question in a 36-column phone table.
OPTION_COLUMNS = 18
QUESTION_COLUMNS = 22
MAX_BUTTON_LABEL = 60
MAX_ALT = 1000
BAR_CELLS = 10
ACTION_PREFIX = "poll"
REFRESH = "r"


def refresh_action(poll_id: int) -> str:
    """The action whose reply redraws poll `poll_id` from fresh data."""
    return f"{ACTION_PREFIX}:{poll_id}:{REFRESH}"


def refreshed_poll(action: str) -> int | None:
    """The poll a refresh action redraws, or None when `action` is not a poll refresh."""
    prefix, _, rest = action.partition(":")
    number, _, last = rest.partition(":")
    if prefix != ACTION_PREFIX or last != REFRESH or not (number.isascii() and number.isdigit()):
        return None
    return int(number)


def question_of(poll: Poll, lang: Lang) -> str:
    return poll.question_zh if lang == "zh" and poll.question_zh else poll.question


def labels_of(poll: Poll, lang: Lang) -> list[str]:
    return [
        option.label_zh if lang == "zh" and option.label_zh else option.label
        for option in poll.options
    ]


def when(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone_label(zone)})"


def percent(count: int, voters: int) -> str:
    return f"{count * 100 / voters:.0f}" if voters else "0"


def bar(count: int, voters: int) -> str:
    filled = round(BAR_CELLS * count / voters) if voters else 0
    return "█" * filled + "░" * (BAR_CELLS - filled)


def platform_name(lang: Lang, platform: str) -> str:
    if platform in PLATFORMS:
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
    # --hide-results: until the close, no count of any kind, not even the number of voters.
    shown = not poll.hide_results or ended is not None
    lines = []
    for number, (label, count) in enumerate(zip(labels, tally.counts, strict=True), start=1):
        lines.append(f"{number}. {label}")
        if shown:
            lines.append(
                text(
                    lang,
                    "poll.bar",
                    bar=bar(count, tally.voters),
                    percent=percent(count, tally.voters),
                    count=count,
                )
            )
    parts = [
        "\n".join(lines),
        voters_line(lang, tally) if shown else text(lang, "poll.results_hidden"),
        status_text(lang, poll, ended, zone),
        privacy_line(lang, poll),
    ]
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
        refresh_action=refresh_action(poll.id),
    )


def privacy_line(lang: Lang, poll: Poll) -> str:
    """What the poll keeps of who voted, said on its face before anyone votes."""
    return text(lang, "poll.privacy_public" if poll.public else "poll.privacy_anonymous")


def vote_notice(lang: Lang, outcome: VoteOutcome) -> str:
    """The voter's own choice, and nothing of anyone else's (a hidden poll's too)."""
    labels = labels_of(outcome.poll, lang)
    chosen = [labels[index] for index in sorted(outcome.choices)]
    if not chosen:
        # Unchanged and empty: there was no vote to withdraw (or the press came twice).
        key = "poll.notice_withdrawn" if outcome.changed else "poll.notice_no_vote"
        return text(lang, key, id=outcome.poll.id)
    if outcome.poll.multi:
        separator = text(lang, "poll.choice_separator")
        notice = text(
            lang, "poll.notice_choices", id=outcome.poll.id, choices=separator.join(chosen)
        )
    else:
        notice = text(lang, "poll.notice_vote", id=outcome.poll.id, choice=chosen[0])
    if outcome.poll.public:
        return text(lang, "poll.notice_public", notice=notice)
    return notice


def hidden_results_reply(poll: Poll, lang: Lang, zone: ZoneInfo) -> Reply:
    """`/poll results` of a --hide-results poll that is still open: when they will show."""
    until = (
        text(lang, "poll.results_hidden_until", when=when(poll.closes_at, zone))
        if poll.closes_at is not None
        else text(lang, "poll.results_hidden_until_closed")
    )
    return Reply(
        title=text(lang, "poll.results_title", id=poll.id, question=question_of(poll, lang)),
        parts=(until, privacy_line(lang, poll)),
    )


async def results_reply(
    poll: Poll, tally: Tally, lang: Lang, now: datetime, zone: ZoneInfo
) -> Reply:
    """The results table, the per-platform breakdown and the chart of one poll."""
    if not poll.results_shown(now):
        return hidden_results_reply(poll, lang, zone)
    labels = labels_of(poll, lang)
    numbers = [str(number) for number in range(1, len(labels) + 1)]
    totals = Table(
        headers=texts(
            lang, "poll.col_number", "poll.col_option", "poll.col_votes", "poll.col_share"
        ),
        rows=tuple(
            (number, fit(label, OPTION_COLUMNS), str(count), f"{percent(count, tally.voters)}%")
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
    parts.append(status_line(lang, poll, now, zone))
    legend = text(lang, "poll.legend_separator").join(
        text(
            lang,
            "poll.legend_entry",
            number=number,
            label=shorten(label, MAX_SHOWN),
            count=count,
            share=percent(count, tally.voters),
        )
        for number, label, count in zip(numbers, labels, tally.counts, strict=True)
    )
    voters_words = voter_count(lang, tally.voters)
    png = await asyncio.to_thread(
        render_chart,
        question_of(poll, lang),
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
        options=labels,
        subtitle=text(
            lang, "poll.chart_subtitle", id=poll.id, voters=voters_words, when=when(now, zone)
        ),
    )
    alt = text(
        lang,
        "poll.chart_alt",
        id=poll.id,
        question=question_of(poll, lang),
        voters=voters_words,
        legend=legend,
    )
    return Reply(
        title=text(lang, "poll.results_title", id=poll.id, question=question_of(poll, lang)),
        parts=tuple(parts),
        images=(Image(png=png, filename=f"poll-{poll.id}.png", alt=shorten(alt, MAX_ALT)),),
    )


def voter_count(lang: Lang, voters: int) -> str:
    """ "1 voter", "3 voters": English needs the singular, Chinese reads the same."""
    if voters == 1:
        return text(lang, "poll.voter_count_one")
    return text(lang, "poll.voter_count", count=voters)


def right_aligned(columns: int) -> tuple[Literal["l", "r"], ...]:
    right: Literal["l", "r"] = "r"
    return (right,) * columns


def short_when(moment: datetime, zone: ZoneInfo) -> str:
    """Month-day and time: the list names the zone once, under the table."""
    return f"{moment.astimezone(zone):%m-%d %H:%M}"


def summary_status(lang: Lang, summary: PollSummary, now: datetime, zone: ZoneInfo) -> str:
    ended = summary.poll.ended_at(now)
    if ended is not None:
        return text(lang, "poll.list_closed", when=short_when(ended, zone))
    if summary.poll.closes_at is not None:
        return text(lang, "poll.list_open_until", when=short_when(summary.poll.closes_at, zone))
    return text(lang, "poll.list_open")


def list_reply(
    summaries: Sequence[PollSummary], lang: Lang, now: datetime, zone: ZoneInfo
) -> Reply:
    """The polls a chat can see, newest first, with their status and voters."""
    # Two lines per poll: the status under the question keeps the table phone-sized.
    table = Table(
        headers=texts(lang, "poll.col_id", "poll.col_question", "poll.col_voters"),
        rows=tuple(
            row
            for summary in summaries
            for row in (
                (
                    f"#{summary.poll.id}",
                    fit(question_of(summary.poll, lang), QUESTION_COLUMNS),
                    str(summary.voters) if summary.poll.results_shown(now) else "–",
                ),
                ("", fit(summary_status(lang, summary, now, zone), QUESTION_COLUMNS), ""),
            )
        ),
        align=("r", "l", "r"),
    )
    own = any(not summary.poll.is_global for summary in summaries)
    return Reply(
        title=text(lang, "poll.list_title"),
        parts=(
            table,
            text(lang, "poll.list_zone", zone=zone_label(zone), offset=utc_offset(zone, now)),
            text(lang, "poll.list_hint" if own else "poll.list_none"),
        ),
    )
