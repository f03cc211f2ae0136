"""A poll's results (and a public poll's voters) as CSV files a spreadsheet opens safely.

UTF-8 with a byte order mark, so spreadsheet programs read Chinese correctly. A cell that
begins with = + - @, a tab or a carriage return is prefixed with a single quote, as OWASP's
CSV injection guidance says, so no cell is ever run as a formula; text cells are quoted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from handlers.i18n import text
from handlers.model import Attachment, Lang
from handlers.poll_view import labels_of, platform_name
from storage.poll_model import PLATFORMS, Poll, PollVoter, Tally

FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int


def neutralised(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell.startswith(FORMULA_LEAD):
        return "'" + cell
    return cell


def csv_bytes(rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    # Numbers stay numbers; every text cell is quoted, so separators inside it stay inside.
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def stamp(now: datetime) -> str:
    return f"{now:%Y%m%d-%H%M%S}"


def platforms_of(poll: Poll) -> tuple[str, ...]:
    """The platforms whose members can vote in the poll: every one for a shared poll."""
    return PLATFORMS if poll.platform is None else (poll.platform,)


def results_csv(poll: Poll, tally: Tally, lang: Lang, now: datetime) -> Attachment:
    """One row per option: its number, its text, its votes on each platform, and the total."""
    platforms = platforms_of(poll)
    by_platform = {entry.platform: entry.counts for entry in tally.by_platform}
    header: list[Cell] = [
        text(lang, "poll.col_number"),
        text(lang, "poll.col_option"),
        *(platform_name(lang, platform) for platform in platforms),
        text(lang, "poll.col_total"),
    ]
    rows: list[list[Cell]] = [header]
    for index, label in enumerate(labels_of(poll, lang)):
        counts = [
            by_platform.get(platform, (0,) * len(poll.options))[index] for platform in platforms
        ]
        rows.append([index + 1, label, *counts, tally.counts[index]])
    return Attachment(csv_bytes(rows), f"poll-{poll.id}-results-{stamp(now)}.csv")


def voters_csv(poll: Poll, voters: Sequence[PollVoter], lang: Lang, now: datetime) -> Attachment:
    """A public poll's voters by display name, with their platform and choices."""
    labels = labels_of(poll, lang)
    separator = text(lang, "poll.choice_separator")
    rows: list[list[Cell]] = [
        [
            text(lang, "poll.col_voter"),
            text(lang, "poll.col_platform"),
            text(lang, "poll.col_choice"),
        ]
    ]
    rows.extend(
        [
            voter.name,
            platform_name(lang, voter.platform),
            separator.join(labels[index] for index in sorted(voter.choices) if index < len(labels)),
        ]
        for voter in voters
    )
    return Attachment(csv_bytes(rows), f"poll-{poll.id}-voters-{stamp(now)}.csv")
