"""Hidden results, public votes and CSV exports through python-telegram-bot and discord.py."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from bot.discord.frontend import DiscordFrontEnd
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from tests.fakes.discord_api import MANAGE_GUILD, FakeDiscord, RestCall
from tests.fakes.telegram_api import FakeBotApi, StoredMessage

GROUP = -1001_234_567_890
ADMIN = 42
COUNT_MARKS = ("█", "░", "%", "Voters", " 票", "投票人数")
EPHEMERAL = 64


@pytest.fixture
def telegram_tuning() -> TelegramTuning:
    return TelegramTuning(poll_timeout=1, retry_first_delay=0.05, retry_max_delay=0.2)


@pytest.fixture
def fake(telegram_fake: FakeBotApi) -> FakeBotApi:
    telegram_fake.owners[GROUP] = ADMIN
    return telegram_fake


def counts_in(shown: str) -> list[str]:
    return [mark for mark in COUNT_MARKS if mark in shown]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def said(fake: FakeBotApi, line: str, method: str = "sendMessage", **sender: Any) -> Any:
    """Send `line` in the group and wait for the bot's next `method` message there."""
    sender = {"chat_id": GROUP, "user_id": ADMIN, **sender}
    before = len(fake.sent(method))
    fake.send_command(line, **sender)
    await fake.wait_for(method, before + 1)
    return [m for m in fake.chat_messages(GROUP) if m.message_id][-1]


# -- Telegram -------------------------------------------------------------------------------


async def test_telegram_a_hidden_poll_reveals_nothing_until_the_close_then_everything(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    poll: StoredMessage = await said(fake, "/poll new Lunch? | Pizza | Sushi --hide-results")
    fake.press(poll, poll.buttons()[0][1], user_id=7)
    (toast,) = await fake.wait_for("answerCallbackQuery")
    await telegram.tally.drain()
    results = await said(fake, "/poll results", user_id=7)

    assert counts_in(poll.plain) == [] and counts_in(results.plain) == []
    assert "Results are hidden until the poll closes." in poll.plain
    assert [label for label, _ in poll.buttons()] == ["1. Pizza", "2. Sushi"]
    assert toast["text"] == "Your vote in poll #2: Pizza."
    assert results.plain.endswith(
        "The results of this poll are hidden until a moderator closes it.\n\n"
        "Anonymous poll: nobody can see who voted for what, moderators included."
    )

    announced = await said(fake, "/poll close", "sendPhoto")
    after = await said(fake, "/poll results", "sendPhoto", user_id=7)
    edits = len(fake.sent("editMessageText"))
    fake.press(poll, poll.buttons()[0][1], user_id=8)
    await fake.wait_for("editMessageText", edits + 1)

    assert announced.plain.startswith("Poll #2 has closed: Lunch?")
    assert "Voters: 1 (Telegram 1)" in announced.plain
    assert "Voters: 1 (Telegram 1)" in after.plain
    assert "██████████ 100% · 1" in poll.plain


async def test_telegram_a_hidden_poll_in_chinese(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    zh = {"language_code": "zh-hans"}
    poll: StoredMessage = await said(fake, "/poll new 午饭？ | 面条 | 米饭 --hide-results", **zh)
    fake.press(poll, poll.buttons()[1][1], user_id=7, language_code="zh-hans")
    (toast,) = await fake.wait_for("answerCallbackQuery")
    announced = await said(fake, "/poll close", "sendPhoto", **zh)

    assert counts_in(poll.plain) == [] and "投票结束前不显示结果。" in poll.plain
    assert toast["text"] == "你在投票 #2 中选择了：米饭。"
    assert announced.plain.startswith("投票 #2 已结束：午饭？")
    assert "投票人数：1（Telegram 1）" in announced.plain


async def asked_privately(
    fake: FakeBotApi, line: str, method: str = "sendMessage", **sender: Any
) -> Any:
    """Send `line` in the group as the moderator; the bot's next `method` message, wherever."""
    before = len(fake.sent(method))
    fake.send_command(line, **{"chat_id": GROUP, "user_id": ADMIN, **sender})
    (*_, params) = await fake.wait_for(method, before + 1)
    return fake.chat_messages(int(params["chat_id"]))[-1]


async def test_telegram_moderators_get_a_public_polls_voters_and_export_in_their_private_chat(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    poll: StoredMessage = await said(fake, "/poll new Tea? | Green | =Black --public")
    fake.press(poll, poll.buttons()[1][1], user_id=31_337, first_name="Grace Hopper")
    await fake.wait_for("answerCallbackQuery")
    voters = await asked_privately(fake, "/poll voters")
    refused = await said(fake, "/poll voters", user_id=7)
    await said(fake, "/poll close", "sendPhoto")
    fake.send_command("/poll export", chat_id=GROUP, user_id=ADMIN)
    await fake.wait_for("sendDocument", 2)

    assert "Votes are public" in poll.plain
    assert voters.chat_id == ADMIN
    assert "Grace Hopper" in voters.plain and "31337" not in voters.plain
    assert not any("Grace Hopper" in m.plain for m in fake.chat_messages(GROUP))
    assert refused.plain == "Only the moderators of this chat can do that."
    assert [m.document for m in fake.chat_messages(GROUP) if m.document is not None] == []
    documents = [m.document for m in fake.chat_messages(ADMIN) if m.document is not None]
    (results_name, results_csv), (voters_name, voters_csv) = documents  # type: ignore[misc]
    assert results_name.startswith("poll-2-results-") and voters_name.startswith("poll-2-voters-")
    assert read_csv(results_csv) == [
        ["#", "Option", "Telegram", "Total"],
        ["1", "Green", "0", "0"],
        ["2", "'=Black", "1", "1"],
    ]
    assert read_csv(voters_csv) == [
        ["Voter", "Platform", "Choice"],
        ["Grace Hopper", "Telegram", "'=Black"],
    ]


START_FIRST = {
    "en": "I can send this only to you, in a private chat, and you have not started one with "
    "me yet. Open @dsbot_test_bot, press Start, then try again.",
    "zh": "这条内容只能在私聊中发给你，但你还没有和我开始私聊。请打开 @dsbot_test_bot，"
    "点“开始”，然后再试一次。",
}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_telegram_a_moderator_who_never_started_the_bot_is_told_so_and_no_voter_is_posted(
    fake: FakeBotApi, telegram: TelegramFrontEnd, lang: str
) -> None:
    speaks = {"language_code": "zh-hans" if lang == "zh" else "en"}
    poll: StoredMessage = await said(fake, "/poll new Tea? | Green | Black --public", **speaks)
    fake.press(poll, poll.buttons()[0][1], user_id=31_337, first_name="Grace Hopper")
    await fake.wait_for("answerCallbackQuery")
    await said(fake, "/poll close", "sendPhoto", **speaks)
    fake.strangers.add(ADMIN)

    told = await said(fake, "/poll voters", **speaks)
    told_on_export = await said(fake, "/poll export", **speaks)
    # The moderator opens the private chat (Start), then asks again in the group.
    await asked_privately(fake, "/start", chat_id=ADMIN, **speaks)
    voters = await asked_privately(fake, "/poll voters", **speaks)

    refused = [call for call in fake.attempts("sendMessage") if call.status == 403]
    assert [int(call.params["chat_id"]) for call in refused] == [ADMIN, ADMIN]
    assert told.plain == told_on_export.plain == START_FIRST[lang]
    group = fake.chat_messages(GROUP)
    assert not any("Grace Hopper" in m.plain for m in group)
    assert [m for m in group if m.document is not None] == []
    assert voters.chat_id == ADMIN and "Grace Hopper" in voters.plain


async def test_telegram_nobody_lists_the_voters_of_an_anonymous_poll(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    await said(fake, "/poll new Lunch? | Pizza | Sushi")
    refused = await said(fake, "/poll voters")

    assert refused.plain == (
        "Poll #2 is anonymous: nobody can see who voted for what, moderators included."
    )


# -- Discord --------------------------------------------------------------------------------


def option(name: str, value: Any, kind: int = 3) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


def subcommand(name: str, *options: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "type": 1, "options": list(options)}


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [button["custom_id"] for row in message["components"] for button in row["components"]]


async def answer_to(fake: FakeDiscord, interaction: dict[str, Any]) -> RestCall:
    """The interaction's callback, or the edit of its deferred response."""
    path = rf"/interactions/{interaction['id']}/[^/]+/callback"
    (call,) = await fake.wait_for_call("POST", path)
    if call.json["type"] != 5:
        return call
    edited = rf"/webhooks/\d+/itoken-{interaction['id']}/messages/@original"
    (edit,) = await fake.wait_for_call("PATCH", edited)
    return edit


def shown(call: RestCall) -> str:
    body = call.json.get("data", call.json)
    return "\n".join(
        f"{embed.get('title', '')}\n{embed.get('description', '')}" for embed in body["embeds"]
    )


async def moderator(fake: FakeDiscord, *options: dict[str, Any]) -> RestCall:
    return await answer_to(fake, await fake.slash("poll", list(options), permissions=MANAGE_GUILD))


async def test_discord_a_hidden_poll_reveals_nothing_until_the_close_then_everything(
    discord_fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    fake = discord_fake
    new = subcommand(
        "new",
        option("question", "Lunch?"),
        option("choices", "Pizza | Sushi"),
        option("hide-results", True, kind=5),
    )
    created = await moderator(fake, new)
    (message_id,) = [key for key, message in fake.messages.items() if custom_ids(message)]
    press = await fake.press(fake.messages[message_id], custom_ids(created.json["data"])[1])
    toast = await answer_to(fake, press)
    before = await moderator(fake, subcommand("results"))
    closed = await moderator(fake, subcommand("close"))
    after = await answer_to(fake, await fake.slash("poll", [subcommand("results")]))

    assert counts_in(shown(created)) == [] and counts_in(shown(before)) == []
    assert "Results are hidden until the poll closes." in shown(created)
    assert toast.json["data"]["content"] == "Your vote in poll #2: Sushi."
    assert toast.json["data"]["flags"] & EPHEMERAL
    assert not before.files
    assert "Poll #2 has closed: Lunch?" in shown(closed)
    assert "Voters: 1 (Discord 1)" in shown(closed) and "Voters: 1 (Discord 1)" in shown(after)
    assert [name for name, _ in closed.files] == ["poll-2.png"]


async def test_discord_export_and_voters_answer_the_moderator_privately(
    discord_fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    fake = discord_fake
    new = subcommand(
        "new",
        option("question", "Tea?"),
        option("choices", "Green | Black"),
        option("public", True, kind=5),
    )
    created = await moderator(fake, new)
    (message_id,) = [key for key, message in fake.messages.items() if custom_ids(message)]
    toast = await answer_to(
        fake, await fake.press(fake.messages[message_id], custom_ids(created.json["data"])[0])
    )
    voters = await moderator(fake, subcommand("voters"))
    exported = await moderator(fake, subcommand("export"))
    member = await answer_to(fake, await fake.slash("poll", [subcommand("export")]))

    assert "Votes are public" in shown(created)
    assert "moderators can see your choice" in toast.json["data"]["content"]
    assert "user777" in shown(voters) and voters.json["data"]["flags"] & EPHEMERAL
    assert exported.json["data"]["flags"] & EPHEMERAL
    (results_name, results_csv), (_, voters_csv) = exported.files
    assert results_name.startswith("poll-2-results-") and results_name.endswith(".csv")
    assert read_csv(results_csv)[1] == ["1", "Green", "1", "1"]
    assert read_csv(voters_csv)[1] == ["user777", "Discord", "Green"]
    assert member.files == []
    assert "Only the moderators of this chat can do that." in shown(member)
