"""The process the recap crash test kills: one recap sweep to every subscribed Telegram chat.

Usage: python -m tests.bot.recap_crash_sender DATABASE BOT_API_BASE_URL TOKEN SESSIONS
The real TelegramFrontEnd (python-telegram-bot over HTTP) and the real RecapScheduler
deliver the recap due at DUE to the subscriptions already in DATABASE; "done" is printed
once the sweep is over, with its counts. SESSIONS is a JSON file of the NYSE sessions as the
test process read them from exchange_calendars (loading it again here costs seconds).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import SecretStr

from bot.config import Settings
from bot.scheduler import RecapScheduler
from bot.services import build_services
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from storage.facts import load_facts
from storage.trading_calendar import Session, TradingCalendar

# Monday 30 November 2026, 16:15 New York: the default recap time.
DUE = datetime(2026, 11, 30, 21, 15, tzinfo=UTC)
PACE = 50.0


def write_sessions(calendar: TradingCalendar, path: Path) -> None:
    rows = [(session.day.isoformat(), session.close.isoformat()) for session in calendar.sessions]
    path.write_text(json.dumps(rows), encoding="utf-8")


def read_sessions(path: Path) -> TradingCalendar:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return TradingCalendar(
        [Session(date.fromisoformat(day), datetime.fromisoformat(close)) for day, close in rows]
    )


async def main(database: str, base_url: str, token: str, sessions: str) -> None:
    facts = load_facts()
    calendar = read_sessions(Path(sessions))
    settings = Settings(
        telegram_bot_token=SecretStr(token),
        telegram_api_base_url=base_url,
        dsbot_database=Path(database),
        dsbot_market="offline",
        _env_file=None,  # type: ignore[call-arg]
    )

    def clock() -> datetime:
        return DUE

    async with build_services(settings, facts=facts, clock=clock) as services:
        front_end = TelegramFrontEnd(settings, services, tuning=TelegramTuning(poll_timeout=1))
        await front_end.start()
        scheduler = RecapScheduler(
            services, [front_end], calendar=calendar, pace={"telegram": PACE}
        )
        print("started", flush=True)
        try:
            report = await scheduler.run_due()
        finally:
            await front_end.stop()
        print(f"done sent={len(report.sent)} failed={len(report.failed)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
