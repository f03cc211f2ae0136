"""One of the two scheduler processes of tests/bot/test_two_schedulers.py.

Usage: python -m tests.bot.scheduler_process DATABASE_URL BOT_API_BASE_URL TOKEN SESSIONS
The real TelegramFrontEnd (python-telegram-bot over HTTP), RecapScheduler and PollClosingJob
over their own connections to DATABASE_URL, at the instant DUE. "ready" is printed once the
front end is up; a line on stdin starts one recap sweep and one closing run at once, so that
both processes race for the same claims; "done recaps=N announcements=M" ends it. SESSIONS
is the NYSE sessions as the test process wrote them (recap_crash_sender.write_sessions).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from pydantic import SecretStr

from bot.config import Settings
from bot.poll_closing import PollClosingJob
from bot.scheduler import RecapScheduler
from bot.services import build_services
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from storage.facts import load_facts
from tests.bot.recap_crash_sender import DUE, read_sessions

# Faster than Telegram allows one bot, so that the two processes overlap for long enough to
# race; the fake Bot API does not limit it.
PACE = 200.0


async def main(database: str, base_url: str, token: str, sessions: str) -> None:
    calendar = read_sessions(Path(sessions))
    settings = Settings(
        telegram_bot_token=SecretStr(token),
        telegram_api_base_url=base_url,
        dsbot_database=database,
        dsbot_market="offline",
        _env_file=None,  # type: ignore[call-arg]
    )

    def clock() -> datetime:
        return DUE

    async with build_services(settings, facts=load_facts(), clock=clock) as services:
        front_end = TelegramFrontEnd(settings, services, tuning=TelegramTuning(poll_timeout=1))
        await front_end.start()
        recaps = RecapScheduler(services, [front_end], calendar=calendar, pace={"telegram": PACE})
        closing = PollClosingJob(services, [front_end], clock=clock)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        try:
            swept, closed = await asyncio.gather(recaps.run_due(), closing.run())
        finally:
            await front_end.stop()
        print(f"done recaps={len(swept.sent)} announcements={len(closed.sent)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
