"""One tally, every copy: a vote on any message showing a poll redraws all of them, on both
platforms, through the real python-telegram-bot and discord.py against their fakes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.copies import CopiesRefresher
from handlers.model import Services
from storage.poll_copies import PollCopy
from tests.bot.conftest import StartDiscord, StartTelegram, no_throttle
from tests.fakes.discord_api import CHANNEL_ID, FakeDiscord
from tests.fakes.telegram_api import FakeBotApi, StoredMessage
from tests.fakes.telegram_inline import InlineMessage

GROUP = -1001_777_000_001
OTHER_GROUP = -1001_777_000_002
VOTED_ONCE = {"en": "Voters: 1 (Telegram 1)", "zh": "投票人数：1（Telegram 1）"}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait until the store shows what the bot was asked to do (it reports no event)."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


async def copies(services: Services) -> list[PollCopy]:
    return await services.poll_copies.of_poll(1)


async def copy_count(services: Services, count: int) -> None:
    async def reached() -> bool:
        return len(await copies(services)) == count

    await eventually(reached)


@pytest.fixture
async def both(
    start_telegram: StartTelegram, start_discord: StartDiscord, services: Services
) -> CopiesRefresher:
    """Both front ends in one process, sharing the runner's one copies refresher."""
    shared = CopiesRefresher(services, tally=no_throttle())
    await start_telegram(copies=shared)
    await start_discord(copies=shared)
    return shared


async def group_poll(fake: FakeBotApi, chat: int) -> StoredMessage:
    before = len(fake.sent("sendMessage"))
    fake.send_command("/poll", chat_id=chat)
    await fake.wait_for("sendMessage", before + 1)
    return fake.chat_messages(chat)[-1]


async def discord_poll(discord_fake: FakeDiscord, services: Services, count: int) -> int:
    await discord_fake.slash("poll", [{"name": "show", "type": 1, "options": []}])
    await copy_count(services, count)
    (copy,) = [c for c in await copies(services) if c.platform == "discord"]
    assert copy.chat_id == str(CHANNEL_ID)
    return int(copy.message_id)


async def inline_poll(fake: FakeBotApi, services: Services, lang: str, count: int) -> InlineMessage:
    query = fake.inline_query("", language_code=lang)
    await fake.wait_until(lambda: query in fake.inline_answers)
    message = fake.choose(query, "poll:1", language_code=lang)
    await copy_count(services, count)
    return message


def discord_text(discord_fake: FakeDiscord, message_id: int) -> str:
    embeds = discord_fake.messages[message_id]["embeds"]
    return "\n".join(str(embed.get("description", "")) for embed in embeds)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_vote_on_an_inline_copy_redraws_the_group_copy_and_the_discord_copy(
    telegram_fake: FakeBotApi,
    discord_fake: FakeDiscord,
    services: Services,
    both: CopiesRefresher,
    lang: str,
) -> None:
    group = await group_poll(telegram_fake, GROUP)
    on_discord = await discord_poll(discord_fake, services, 2)
    inline = await inline_poll(telegram_fake, services, lang, 3)

    query = telegram_fake.press_inline(inline, "poll:1:0", user_id=4242, language_code=lang)
    await telegram_fake.wait_until(lambda: telegram_fake.answered(query))
    await telegram_fake.wait_until(lambda: "Voters: 1 (Telegram 1)" in group.plain)
    await telegram_fake.wait_until(lambda: VOTED_ONCE[lang] in inline.plain)
    await discord_fake.wait_for(
        lambda: "Voters: 1 (Telegram 1)" in discord_text(discord_fake, on_discord)
    )

    found = await services.polls.get_with_tally(1)
    assert found is not None and found[1].counts[0] == 1
    assert "Voters: 0" not in group.plain


async def test_a_vote_in_a_group_redraws_the_inline_copy_by_its_inline_message_id(
    telegram_fake: FakeBotApi, services: Services, both: CopiesRefresher
) -> None:
    group = await group_poll(telegram_fake, GROUP)
    inline = await inline_poll(telegram_fake, services, "en", 2)

    telegram_fake.press(group, "poll:1:1", user_id=5151)
    await telegram_fake.wait_until(lambda: VOTED_ONCE["en"] in inline.plain)

    (edit,) = [
        call
        for call in telegram_fake.sent("editMessageText")
        if call.get("inline_message_id") == inline.inline_message_id
    ]
    assert "chat_id" not in edit
    assert inline.buttons() == group.buttons()


async def test_copies_whose_messages_were_deleted_are_forgotten(
    telegram_fake: FakeBotApi,
    discord_fake: FakeDiscord,
    services: Services,
    both: CopiesRefresher,
) -> None:
    deleted = await group_poll(telegram_fake, GROUP)
    on_discord = await discord_poll(discord_fake, services, 2)
    inline = await inline_poll(telegram_fake, services, "en", 3)
    kept = await group_poll(telegram_fake, OTHER_GROUP)
    await copy_count(services, 4)
    del telegram_fake.messages[(deleted.chat_id, deleted.message_id)]
    del telegram_fake.inline_messages[inline.inline_message_id]
    del discord_fake.messages[on_discord]

    telegram_fake.press(kept, "poll:1:0", user_id=6161)
    await copy_count(services, 1)

    assert await copies(services) == [
        PollCopy(1, "telegram", str(OTHER_GROUP), str(kept.message_id), "en")
    ]
    assert "Voters: 1 (Telegram 1)" in kept.plain
