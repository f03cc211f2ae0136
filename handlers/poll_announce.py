"""The closing announcement of a poll: its final result with the chart, said once per chat."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.i18n import text
from handlers.model import Lang, Reply
from handlers.poll_view import question_of, results_reply
from storage.poll_model import Poll, Tally


async def announcement(
    poll: Poll,
    tally: Tally,
    lang: Lang,
    zone: ZoneInfo,
    now: datetime,
    *,
    lead: Sequence[str] = (),
) -> Reply:
    """The final results table, breakdown and chart, titled as the poll's close."""
    results = await results_reply(poll, tally, lang, now, zone)
    return dataclasses.replace(
        results,
        title=text(lang, "poll.announce_title", id=poll.id, question=question_of(poll, lang)),
        parts=(*lead, *results.parts),
    )
