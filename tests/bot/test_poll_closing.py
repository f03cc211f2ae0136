"""A closed poll is announced, with its chart, once in every chat that showed it."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.dispatch import dispatch
from bot.health import Health, State
from bot.poll_closing import PollClosingJob
from bot.services import build_services
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from handlers.model import Reply, Services
from storage.poll_model import Platform
from tests.conftest import NOW, make_request, offline_settings
from tests.fakes.telegram_api import FakeBotApi

GROUP = -1001_234_567_890
LATER = NOW + timedelta(hours=3)


@pytest.fixture
def telegram_tuning() -> TelegramTuning:
    return TelegramTuning(poll_timeout=1, retry_first_delay=0.05, retry_max_delay=0.2)


class RecordingFrontEnd:
    """A front end that keeps what it was asked to send: for jobs in two 'processes'."""

    def __init__(self, platform: Platform) -> None:
        self.platform: Platform = platform
        self.sent: list[tuple[str, Reply]] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply))


async def new_poll(services: Services, line: str, chat_id: str = str(GROUP), **fields: str) -> int:
    reply = await dispatch(
        make_request(
            line,
            platform="telegram",
            chat_id=chat_id,
            chat_kind="group",
            is_admin=True,
            **fields,
        ),
        services,
    )
    assert not reply.is_error, reply.plain_text()
    return int(reply.refresh_action.split(":")[1])


async def test_a_poll_whose_time_ran_out_is_announced_once_with_its_chart_on_telegram(
    telegram_fake: FakeBotApi, telegram: TelegramFrontEnd, services: Services
) -> None:
    await new_poll(services, "/poll new Lunch? | Pizza | Sushi --closes 2h --hide-results")
    await dispatch(
        make_request("/poll vote 2", platform="telegram", chat_id=str(GROUP), user_id="7"),
        services,
    )
    job = PollClosingJob(services, [telegram], clock=lambda: LATER)

    first = await job.run()
    second = await job.run()

    assert first.sent == [(2, "telegram", str(GROUP))] and second.sent == []
    (photo,) = telegram_fake.sent("sendPhoto")
    announced = [m for m in telegram_fake.chat_messages(GROUP) if m.photo]
    assert len(announced) == 1 and str(photo["chat_id"]) == str(GROUP)
    assert announced[0].plain.startswith("Poll #2 has closed: Lunch?")
    assert "Voters: 1 (Telegram 1)" in announced[0].plain


async def test_the_announcement_speaks_the_chats_language(services: Services) -> None:
    await services.chat_settings.set_lang("telegram", str(GROUP), "zh")
    await new_poll(services, "/poll new 午饭？ | 面条 | 米饭 --closes 2h")
    front_end = RecordingFrontEnd("telegram")

    await PollClosingJob(services, [front_end], clock=lambda: LATER).run()

    ((chat_id, reply),) = front_end.sent
    assert chat_id == str(GROUP)
    assert reply.title == "投票 #2 已结束：午饭？"
    assert "投票人数：0" in reply.plain_text() and len(reply.images) == 1


async def test_a_poll_closed_by_hand_is_not_announced_again_by_the_job(
    services: Services,
) -> None:
    poll_id = await new_poll(services, "/poll new Lunch? | Pizza | Sushi")
    closed = await dispatch(
        make_request(
            f"/poll close {poll_id}",
            platform="telegram",
            chat_id=str(GROUP),
            chat_kind="group",
            is_admin=True,
        ),
        services,
    )
    front_end = RecordingFrontEnd("telegram")

    report = await PollClosingJob(services, [front_end]).run()

    assert closed.title == "Poll #2 has closed: Lunch?" and len(closed.images) == 1
    assert front_end.sent == [] and report.sent == []
    assert await services.polls.unannounced(NOW) == []


async def test_after_a_restart_past_the_closing_time_two_processes_announce_it_once(
    tmp_path: Path,
) -> None:
    database = tmp_path / "bot.sqlite3"
    async with build_services(offline_settings(database), clock=lambda: NOW) as before:
        await new_poll(before, "/poll new Lunch? | Pizza | Sushi --closes 2h")
        await new_poll(before, "/poll new Tea? | Green | Black --closes 1h", chat_id="-100")
    # The bot was stopped while both closing times passed; two processes start over the file.
    first, second = RecordingFrontEnd("telegram"), RecordingFrontEnd("telegram")
    async with (
        build_services(offline_settings(database), clock=lambda: LATER) as one,
        build_services(offline_settings(database), clock=lambda: LATER) as other,
    ):
        reports = await asyncio.gather(
            PollClosingJob(one, [first]).run(),
            PollClosingJob(other, [second]).run(),
            PollClosingJob(one, [first]).run(),
        )
        pending = await one.polls.unannounced(LATER)

    sent = sorted(chat for front_end in (first, second) for chat, _ in front_end.sent)
    assert sent == ["-100", str(GROUP)]
    assert sorted(key for report in reports for key in report.sent) == [
        (2, "telegram", str(GROUP)),
        (3, "telegram", "-100"),
    ]
    assert pending == []


async def test_a_chat_whose_platform_is_not_running_here_is_announced_when_it_is(
    services: Services,
) -> None:
    await new_poll(services, "/poll new Lunch? | Pizza | Sushi --closes 2h")
    later = dataclasses.replace(services, clock=lambda: LATER)
    telegram = RecordingFrontEnd("telegram")

    without = await PollClosingJob(later, [RecordingFrontEnd("discord")]).run()
    with_telegram = await PollClosingJob(later, [telegram]).run()

    assert without.sent == []
    assert with_telegram.sent == [(2, "telegram", str(GROUP))]
    assert len(telegram.sent) == 1


async def test_a_poll_closed_while_its_front_end_is_down_is_announced_once_it_reconnects(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    await new_poll(services, "/poll new Lunch? | Pizza | Sushi --closes 2h")
    health = Health()
    health.expect("telegram")
    health.set("telegram", State.LOST)  # as its supervisor records an outage
    front_end = RecordingFrontEnd("telegram")
    job = PollClosingJob(services, [front_end], clock=lambda: LATER, connected=health.connected)

    with caplog.at_level(logging.WARNING, logger="bot.poll_closing"):
        while_down = [await job.run(), await job.run()]
        sent_while_down = list(front_end.sent)
        still_owed = [poll.id for poll in await services.polls.unannounced(LATER)]
        health.set("telegram", State.CONNECTED)
        back = [await job.run(), await job.run()]

    assert [report.sent for report in while_down] == [[], []] and sent_while_down == []
    assert still_owed == [2]
    assert [report.sent for report in back] == [[(2, "telegram", str(GROUP))], []]
    assert [chat for chat, _ in front_end.sent] == [str(GROUP)]
    waits = [r.getMessage() for r in caplog.records if "wait" in r.getMessage()]
    assert waits == ["poll announcements to telegram wait: its front end is not connected"]
