"""`/outages`: DeepSeek's 27 January 2025 incidents, rendered in the reader's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.commands import Command, Form, Param
from handlers.i18n import text
from handlers.model import Lang, Reply, Request, Services, Table
from storage.facts import Incident


def duration(lang: Lang, span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return text(lang, "outages.duration", hours=minutes // 60, minutes=minutes % 60)


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def _what(lang: Lang, incident: Incident, zone: ZoneInfo) -> str:
    described = text(lang, f"outages.kind_{incident.kind}")
    steps = [
        text(lang, f"outages.milestone_{step.kind}", time=_when(step.at, zone))
        for step in incident.milestones
    ]
    return text(lang, "outages.step_separator").join([described, *steps])


async def outages(request: Request, services: Services) -> Reply:
    """`/outages` · `/outages America/New_York` · `/outages Asia/Shanghai`."""
    lang = request.lang
    zone = request.params.get("zone", request.tz)
    timeline = services.facts.outages
    rows: list[tuple[str, str, str, str]] = []
    total = timedelta()
    for incident in timeline.incidents:
        if incident.end is None:
            end, length = text(lang, "outages.no_end"), "—"
        else:
            span = incident.end - incident.start
            total += span
            end, length = _when(incident.end, zone), duration(lang, span)
        rows.append((_when(incident.start, zone), end, length, _what(lang, incident, zone)))
    headers = tuple(
        text(lang, f"outages.col_{name}") for name in ("start", "end", "length", "what")
    )
    ended = sum(1 for incident in timeline.incidents if incident.end is not None)
    first = timeline.incidents[0].start
    offset = first.astimezone(zone).strftime("%z")
    # DeepSeek's status page could not be retrieved: the English wording is as secondary
    # reports quote it, the Chinese one as the article quotes DeepSeek.
    statement = services.facts.fact(
        "status_statement_zh" if lang == "zh" else "status_page_statement"
    )
    return Reply(
        title=text(lang, "outages.title"),
        parts=(
            text(lang, "outages.intro", zone=zone.key, offset=f"{offset[:3]}:{offset[3:]}"),
            Table(headers, tuple(rows), ("l", "l", "r", "l")),
            text(lang, "outages.total", total=duration(lang, total), count=ended),
            text(lang, "outages.statement", statement=statement.value),
            text(lang, "outages.as_reported", source_zone=timeline.zone.key),
        ),
    )


COMMAND = Command(
    "outages",
    "outages.summary",
    forms=(
        Form("show", outages, "outages.usage", params=(Param("zone", "zone", "discord.opt_zone"),)),
    ),
)
