"""`/outages`: DeepSeek's 27 January 2025 incidents, rendered in the reader's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.commands import Command, Form, Param
from handlers.i18n import text
from handlers.model import Lang, Reply, Request, Services
from handlers.timezones import utc_offset, zone_label
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


def _span(lang: Lang, start: datetime, end: datetime, zone: ZoneInfo) -> str:
    same_day = start.astimezone(zone).date() == end.astimezone(zone).date()
    until = end.astimezone(zone).strftime("%H:%M") if same_day else _when(end, zone)
    return text(lang, "outages.span", start=_when(start, zone), end=until)


def _card(lang: Lang, incident: Incident, zone: ZoneInfo) -> str:
    """One incident as two short lines: when and how long, then what happened."""
    what = _what(lang, incident, zone)
    if incident.end is None:
        return text(lang, "outages.incident_open", start=_when(incident.start, zone), what=what)
    return text(
        lang,
        "outages.incident",
        start=_when(incident.start, zone),
        end=_when(incident.end, zone),
        length=duration(lang, incident.end - incident.start),
        what=what,
    )


def totals(lang: Lang, incidents: tuple[Incident, ...], zone: ZoneInfo) -> list[str]:
    """Full and partial downtime apart, each with the spans it adds up."""
    lines = []
    separator = text(lang, "core.list_separator")
    for scope in ("full", "partial"):
        spans = [(a, b) for i in incidents for a, b, s in i.spans() if s == scope]
        total = sum((b - a for a, b in spans), timedelta())
        listed = separator.join(_span(lang, a, b, zone) for a, b in spans)
        lines.append(
            text(lang, f"outages.total_{scope}", total=duration(lang, total), spans=listed)
        )
    for incident in incidents:
        if incident.end is None:
            lines.append(text(lang, "outages.total_open", start=_when(incident.start, zone)))
    return lines


async def outages(request: Request, services: Services) -> Reply:
    """`/outages` · `/outages America/New_York` · `/outages Asia/Shanghai`."""
    lang = request.lang
    zone = request.params.get("zone", request.tz)
    timeline = services.facts.outages
    first = timeline.incidents[0].start
    # DeepSeek's status page could not be retrieved: the English wording is as secondary
    # reports quote it, the Chinese one as the article quotes DeepSeek.
    statement = services.facts.fact(
        "status_statement_zh" if lang == "zh" else "status_page_statement"
    )
    return Reply(
        title=text(lang, "outages.title"),
        parts=(
            text(lang, "outages.intro", zone=zone_label(zone), offset=utc_offset(zone, first)),
            *(_card(lang, incident, zone) for incident in timeline.incidents),
            *totals(lang, timeline.incidents, zone),
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
