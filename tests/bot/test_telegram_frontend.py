"""The Telegram front end, driven through the real python-telegram-bot over HTTP to a fake."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Hashable

import pytest

from bot.dispatch import dispatch
from bot.frontend import ChatUnreachable
from bot.logs import REDACTED, configure_logging
from bot.tally import Refresh, TallyRefresher
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.render import render_html
from bot.telegram.tuning import TelegramTuning
from handlers.i18n import text
from handlers.model import Button, Image, Reply, Request, Services, Table
from handlers.registry import REGISTRY
from tests.bot.conftest import telegram_settings
from tests.fakes.telegram_api import BOT_USERNAME, FakeBotApi, Json, StoredMessage

GROUP = -1001_234_567_890
ADMIN = 42
FAST = TelegramTuning(
    poll_timeout=1,
    retry_first_delay=0.05,
    retry_max_delay=0.2,
    retry_give_up_after=30,
    tally_interval=0.3,
)
# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def fake(telegram_fake: FakeBotApi) -> FakeBotApi:
    telegram_fake.owners[GROUP] = ADMIN
    return telegram_fake


@pytest.fixture
def telegram_tuning() -> TelegramTuning:
    return FAST


async def reply_to(fake: FakeBotApi, line: str, **sender: object) -> StoredMessage:
    """Send `line` and wait for the bot's (first) message in that chat."""
    chat = int(sender.get("chat_id") or sender.get("user_id") or 1001)  # type: ignore[call-overload]
    before = len(fake.sent("sendMessage"))
    fake.send_command(line, **sender)  # type: ignore[arg-type]

    def sent_to_chat() -> list[Json]:
        # Replies to other chats, still on their way, may arrive first.
        return [p for p in fake.sent("sendMessage")[before:] if int(p["chat_id"]) == chat]

    seen = before
    while not sent_to_chat():
        seen += 1
        await fake.wait_for("sendMessage", seen)
    reply = sent_to_chat()[0]["text"]
    message_id = next(m.message_id for m in fake.chat_messages(chat) if m.html == reply)
    return fake.messages[(chat, message_id)]


# -- start-up -------------------------------------------------------------------------------


async def test_start_registers_the_commands_in_english_and_chinese(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    english, chinese = fake.sent("setMyCommands")

    assert "language_code" not in english
    assert chinese["language_code"] == "zh"
    names = [command.name for command in REGISTRY.commands]
    assert [c["command"] for c in english["commands"]] == names
    assert [c["description"] for c in chinese["commands"]] == [
        text("zh", command.summary) for command in REGISTRY.commands
    ]
    assert telegram.username == BOT_USERNAME


# -- commands -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [command.name for command in REGISTRY.commands])
@pytest.mark.parametrize("chat_id", [None, GROUP], ids=["private", "group"])
async def test_every_command_gets_an_html_reply_in_private_and_in_groups(
    fake: FakeBotApi, telegram: TelegramFrontEnd, command: str, chat_id: int | None
) -> None:
    message = await reply_to(fake, f"/{command}", chat_id=chat_id)

    (sent,) = fake.sent("sendMessage")
    assert sent["parse_mode"] == "HTML"
    assert sent["link_preview_options"] == {"is_disabled": True}
    assert message.plain.strip()
    if chat_id == GROUP:
        assert sent["reply_parameters"]["message_id"] > 0
    else:
        assert "reply_parameters" not in sent


async def test_a_command_addressed_to_this_bot_in_a_group_is_answered(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    help_message = await reply_to(fake, f"/help@{BOT_USERNAME}", chat_id=GROUP)
    stocks = await reply_to(fake, f"/stocks@{BOT_USERNAME} NVDA", chat_id=GROUP)

    assert help_message.plain.startswith(text("en", "help.title"))
    assert "NVDA" in stocks.plain
    assert "<pre>" in stocks.html and "-16.97%" in stocks.plain


async def test_a_command_addressed_to_another_bot_is_ignored(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    fake.send_command("/help@SomeOtherBot", chat_id=GROUP)
    fake.send_command("/weather", chat_id=GROUP)  # another bot's bare command
    fake.send_command("/about", chat_id=GROUP)

    (sent,) = await fake.wait_for("sendMessage")
    # The ignored commands were fetched with /about or before it; stopping finishes them.
    await telegram.stop()
    assert len(fake.sent("sendMessage")) == 1
    assert text("en", "about.title") in sent["text"]


async def test_an_unknown_command_in_a_private_chat_is_explained(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    message = await reply_to(fake, "/frobnicate")

    assert message.plain == text("en", "core.unknown_command", command="frobnicate")


async def test_a_chinese_speaker_gets_chinese(fake: FakeBotApi, telegram: TelegramFrontEnd) -> None:
    message = await reply_to(fake, "/help", language_code="zh-hans")

    assert message.plain.startswith(text("zh", "help.title"))


async def test_the_title_is_bold_and_tables_are_preformatted(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    message = await reply_to(fake, "/cost prices")

    assert message.html.startswith(f"<b>{html.escape(text('en', 'cost.title'), quote=False)}</b>")
    assert "<pre>" in message.html and "</pre>" in message.html


async def test_a_settings_change_in_a_group_needs_a_moderator(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    refused = await reply_to(fake, "/settings lang zh", chat_id=GROUP, user_id=7)
    accepted = await reply_to(fake, "/settings lang zh", chat_id=GROUP, user_id=ADMIN)

    assert refused.plain == text("en", "core.moderators_only")
    assert accepted.plain == text("zh", "settings.lang_set")
    assert [call["user_id"] for call in fake.sent("getChatMember")] == [7, ADMIN]


async def test_a_members_rights_are_looked_up_once_a_minute(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    for _ in range(3):
        await reply_to(fake, "/settings lang zh", chat_id=GROUP, user_id=7)

    assert len(fake.sent("getChatMember")) == 1


async def test_rights_are_looked_up_only_for_lines_that_need_a_moderator(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    poll = await new_group_poll(fake, "/poll new Lunch? | Pizza | Sushi")
    after_new = len(fake.sent("getChatMember"))
    for line in ("/cost", "/poll", "/poll vote 1", "/settings", "/recap status", "/help"):
        await reply_to(fake, line, chat_id=GROUP, user_id=7)
    fake.press(poll, poll.buttons()[1][1], user_id=8)
    await fake.wait_for("answerCallbackQuery")
    before_close = len(fake.sent("getChatMember"))
    refused = await reply_to(fake, "/poll close", chat_id=GROUP, user_id=9)

    assert after_new == 1
    assert before_close == 1
    assert refused.plain == text("en", "core.moderators_only")
    assert [call["user_id"] for call in fake.sent("getChatMember")] == [ADMIN, 9]


async def test_a_private_chat_user_moderates_their_own_chat(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    message = await reply_to(fake, "/settings tz Asia/Shanghai", user_id=7)

    assert message.plain == "This chat's time zone is now Asia/Shanghai (UTC+08:00)."
    assert fake.sent("getChatMember") == []


# -- rendering ------------------------------------------------------------------------------


def long_table_reply() -> Reply:
    rows = tuple((f"row {n:04d} <&>", "x" * 60) for n in range(300))
    return Reply(title="Big <table>", parts=("before & after", Table(("name", "value"), rows)))


async def start_with_reply(fake: FakeBotApi, services: Services, reply: Reply) -> TelegramFrontEnd:
    async def answer(request: Request, services: Services) -> Reply:
        return reply

    front_end = TelegramFrontEnd(telegram_settings(fake), services, tuning=FAST, dispatcher=answer)
    await front_end.start()
    return front_end


async def test_a_long_table_is_split_under_the_limit_with_whole_rows_and_closed_tags(
    fake: FakeBotApi, services: Services
) -> None:
    front_end = await start_with_reply(fake, services, long_table_reply())
    try:
        fake.send_command("/big")
        await fake.wait_for("sendMessage", len(render_html(long_table_reply())))
    finally:
        await front_end.stop()

    pieces = fake.chat_messages(1001)
    assert len(pieces) > 1
    assert all(len(piece.plain) <= 4096 and len(piece.html) <= 4096 for piece in pieces)
    assert all(len(piece.html) > 4096 - 100 for piece in pieces[:-1])  # filled, not wasteful
    rows = [line for piece in pieces for line in piece.plain.split("\n") if line.startswith("row")]
    assert len(rows) == 300
    assert all(row.endswith("x" * 60) and "<&>" in row for row in rows)
    assert all(p.html.count("<pre>") == p.html.count("</pre>") == 1 for p in pieces[1:])


async def test_an_image_goes_out_as_a_photo_with_its_caption(
    fake: FakeBotApi, services: Services
) -> None:
    reply = Reply(title="Chart", parts=("NVDA <fell>",), images=(Image(PNG, "c.png", "alt"),))
    front_end = await start_with_reply(fake, services, reply)
    try:
        fake.send_command("/chart")
        (photo,) = await fake.wait_for("sendPhoto")
    finally:
        await front_end.stop()

    assert photo["photo"]["bytes"] == PNG
    assert photo["caption"] == "<b>Chart</b>\n\nNVDA &lt;fell&gt;"
    assert fake.sent("sendMessage") == []


async def test_a_long_text_with_an_image_sends_the_text_then_the_captioned_photo(
    fake: FakeBotApi, services: Services
) -> None:
    reply = Reply(parts=("word " * 400,), images=(Image(PNG, "c.png", "a <chart>"),))
    front_end = await start_with_reply(fake, services, reply)
    try:
        fake.send_command("/chart")
        (photo,) = await fake.wait_for("sendPhoto")
    finally:
        await front_end.stop()

    assert len(fake.sent("sendMessage")) == 1
    assert photo["caption"] == "a &lt;chart&gt;"


# -- delivery -------------------------------------------------------------------------------


async def test_a_429_on_send_message_is_waited_out_and_the_reply_delivered(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    fake.inject("sendMessage", retry_after=1)

    fake.send_command("/about")
    await fake.wait_for("sendMessage", timeout=10)

    refused, delivered = fake.attempts("sendMessage")
    assert refused.status == 429
    assert delivered.status == 200
    assert delivered.at - refused.at >= 1.0


async def test_500s_for_a_while_are_retried_until_the_reply_is_delivered(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    fake.inject("sendMessage", status=500, times=3)

    fake.send_command("/about")
    await fake.wait_for("sendMessage", timeout=10)

    assert [call.status for call in fake.attempts("sendMessage")] == [500, 500, 500, 200]


async def test_polling_survives_get_updates_failing(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    fake.inject("getUpdates", status=502, times=1)

    fake.send_command("/about")
    await fake.wait_for("sendMessage", timeout=15)

    assert [call.status for call in fake.attempts("getUpdates") if call.status != 200] == [502]


async def test_send_to_a_chat_that_blocked_the_bot_raises_chat_unreachable(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    fake.blocked.add(555)
    fake.missing.add(-556)

    with pytest.raises(ChatUnreachable):
        await telegram.send("555", Reply(parts=("recap",)))
    with pytest.raises(ChatUnreachable):
        await telegram.send("-556", Reply(parts=("recap",)))


async def test_send_delivers_a_scheduled_reply_rendered_like_any_other(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    await telegram.send(str(GROUP), Reply(title="Recap", parts=("a < b",)))

    (sent,) = fake.sent("sendMessage")
    assert sent["text"] == "<b>Recap</b>\n\na &lt; b"
    assert sent["chat_id"] == GROUP


async def test_stop_lets_a_reply_in_flight_finish(fake: FakeBotApi, services: Services) -> None:
    front_end = TelegramFrontEnd(telegram_settings(fake), services, tuning=FAST)
    await front_end.start()
    fake.inject("sendMessage", delay=0.5)
    fake.send_command("/about")
    await fake.wait_for_arrival("sendMessage")

    await front_end.stop()

    (delivered,) = fake.attempts("sendMessage")
    assert delivered.status == 200


# -- secrets --------------------------------------------------------------------------------


async def test_the_token_never_reaches_the_logs(
    fake: FakeBotApi, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging([fake.token], level=logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    fake.inject("sendMessage", status=500, times=1)
    try:
        front_end = TelegramFrontEnd(telegram_settings(fake), services, tuning=FAST)
        await front_end.start()
        fake.send_command("/about")
        await fake.wait_for("sendMessage")
        await front_end.stop()
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.setLevel(logging.WARNING)

    logged = capsys.readouterr().err
    assert fake.token not in logged
    assert fake.token.split(":")[1] not in logged
    assert f"/bot{REDACTED}/getMe" in logged  # URLs were logged, with the token redacted


async def test_a_failed_refresh_is_logged_with_the_chat_and_action_but_not_the_member(
    fake: FakeBotApi, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    async def answer(request: Request, services: Services) -> Reply:
        if request.action == "poll:1:r":
            return Reply(parts=("gone",), is_error=True)
        if request.action:
            return Reply(parts=("counted",), edit=True, refresh_action="poll:1:r")
        return Reply(parts=("a poll",), buttons=(Button("1. Yes", "poll:1:0"),))

    front_end = TelegramFrontEnd(telegram_settings(fake), services, tuning=FAST, dispatcher=answer)
    await front_end.start()
    try:
        poll = await reply_to(fake, "/poll", chat_id=GROUP, user_id=ADMIN)
        with caplog.at_level(logging.WARNING, logger="bot.copies"):
            fake.press(poll, "poll:1:0", user_id=31_337, first_name="Grace Hopper-Secret")
            await fake.wait_for("answerCallbackQuery")
            await front_end.tally.drain()
    finally:
        await front_end.stop()

    (logged,) = [r.getMessage() for r in caplog.records if "refreshing" in r.getMessage()]
    assert "poll:1:r" in logged and str(GROUP) in logged
    assert "Grace" not in logged and "31337" not in logged and "user_name" not in logged


# -- polls ----------------------------------------------------------------------------------


async def new_group_poll(fake: FakeBotApi, line: str) -> StoredMessage:
    message = await reply_to(fake, line, chat_id=GROUP, user_id=ADMIN)
    assert message.buttons(), message.plain
    return message


class CountingRefresher(TallyRefresher):
    """The production throttle, on a clock that moves only when it sleeps; its sleeps wait
    for the test to open the gate, and the test can wait for a number of requests."""

    def __init__(self, interval: float) -> None:
        self.now = 0.0
        self.waits: list[float] = []
        self.gate = asyncio.Event()
        self.requests = 0
        self._counted = asyncio.Condition()
        super().__init__(interval=interval, clock=lambda: self.now, sleep=self._sleep_on_gate)

    async def _sleep_on_gate(self, seconds: float) -> None:
        self.waits.append(seconds)
        await self.gate.wait()
        self.now += seconds

    def request(self, key: Hashable, refresh: Refresh) -> None:
        super().request(key, refresh)
        self.requests += 1

        async def wake() -> None:
            async with self._counted:
                self._counted.notify_all()

        asyncio.get_running_loop().create_task(wake())

    async def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self._counted:
            await self._counted.wait_for(lambda: self.requests >= count)


async def final_rendering(services: Services, message: StoredMessage, action: str) -> str:
    """What the message must end as: the refresh action rendered from the stored votes."""
    request = Request(
        platform="telegram", user_id="1", chat_id=str(GROUP), chat_kind="group", action=action
    )
    (piece,) = render_html(await dispatch(request, services))
    return piece


async def test_fifty_people_pressing_a_poll_button_are_all_answered_and_counted(
    fake: FakeBotApi, services: Services
) -> None:
    tally = CountingRefresher(interval=1.0)
    tally.gate.set()
    front_end = TelegramFrontEnd(telegram_settings(fake), services, tuning=FAST, tally=tally)
    await front_end.start()
    try:
        poll = await new_group_poll(fake, "/poll new Lunch? | Pizza | Sushi")
        (_, pizza_action), (_, sushi_action) = poll.buttons()

        queries = [
            fake.press(poll, pizza_action if user % 2 else sushi_action, user_id=10_000 + user)
            for user in range(50)
        ]
        answers = await fake.wait_for("answerCallbackQuery", 50)
        await tally.wait_for_requests(50)
        await tally.drain()
    finally:
        await front_end.stop()

    assert all(fake.answered(query) for query in queries)
    assert {answer["text"] for answer in answers} == {
        text("en", "poll.notice_vote", id=pizza_action.split(":")[1], choice=choice)
        for choice in ("Pizza", "Sushi")
    }
    refresh = pizza_action.rsplit(":", 1)[0] + ":r"
    assert poll.html == await final_rendering(services, poll, refresh)
    assert "25" in poll.plain
    edits = fake.attempts("editMessageText")
    # Every refresh after the first waited out the whole interval on the throttle's clock,
    # and only a refresh that changes what the message shows is sent: none is refused as
    # "not modified".
    assert 1 <= len(edits) <= len(tally.waits) + 1 < 50
    assert [edit.status for edit in edits] == [200] * len(edits)
    assert tally.waits == [1.0] * len(tally.waits)


async def test_an_edit_storm_edits_a_poll_at_most_once_a_second_and_ends_exact(
    fake: FakeBotApi, services: Services
) -> None:
    # The production interval, on the throttle's own clock: no second passes until the gate
    # opens, so all 40 presses arrive "within" the first second whatever the machine's load.
    tally = CountingRefresher(interval=1.0)
    front_end = TelegramFrontEnd(telegram_settings(fake), services, tuning=FAST, tally=tally)
    await front_end.start()
    try:
        poll = await new_group_poll(fake, "/poll new Best model? | R1 | o1 | V3")
        actions = [action for _, action in poll.buttons()]
        for user in range(40):
            fake.press(poll, actions[user % 3], user_id=20_000 + user)
        await fake.wait_for("answerCallbackQuery", 40)
        await tally.wait_for_requests(40)
        await fake.wait_for("editMessageText", 1)
        during_the_second = len(fake.attempts("editMessageText"))
        tally.gate.set()
        await tally.drain()
    finally:
        await front_end.stop()

    assert during_the_second == 1
    assert tally.waits == [1.0]
    # The refresh after the second is sent only if the votes since changed the message.
    edits = fake.attempts("editMessageText")
    assert len(edits) <= 2 and [edit.status for edit in edits] == [200] * len(edits)
    refresh = actions[0].rsplit(":", 1)[0] + ":r"
    assert poll.html == await final_rendering(services, poll, refresh)


async def test_a_poll_option_full_of_html_is_shown_escaped(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    poll = await new_group_poll(fake, "/poll new Is <b>R1</b> good? | <script>x</script> | R1 & o1")

    assert "<script>x</script>" in poll.plain
    assert "&lt;script&gt;x&lt;/script&gt;" in poll.html
    assert "&lt;b&gt;R1&lt;/b&gt;" in poll.html
    assert "R1 &amp; o1" in poll.html
    assert poll.buttons()[0][0].endswith("<script>x</script>")


async def test_a_member_who_is_not_an_administrator_cannot_start_a_poll(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    fake.admins[GROUP] = {43}

    refused = await reply_to(fake, "/poll new Lunch? | Pizza | Sushi", chat_id=GROUP, user_id=7)
    allowed = await reply_to(fake, "/poll new Lunch? | Pizza | Sushi", chat_id=GROUP, user_id=43)

    assert refused.plain == text("en", "core.moderators_only")
    assert refused.buttons() == []
    assert allowed.buttons()


async def test_a_reply_telegram_stored_before_the_answer_was_lost_is_in_the_chat_once(
    fake: FakeBotApi, telegram: TelegramFrontEnd, caplog: pytest.LogCaptureFixture
) -> None:
    fake.inject("sendMessage", drop_after_storing=True)

    fake.send_command("/about")
    await fake.wait_until_fetched()
    # Stopping finishes the updates in hand: any retry would have been made by now.
    await telegram.stop()

    (message,) = fake.chat_messages(1001)
    assert message.plain.startswith(text("en", "about.title"))
    assert [call.status for call in fake.attempts("sendMessage")] == [0]
    lost = [r for r in caplog.records if "may have been delivered" in r.getMessage()]
    assert len(lost) == 1


async def test_a_reply_is_retried_while_telegram_refuses_connections_and_delivered_once(
    fake: FakeBotApi, telegram: TelegramFrontEnd, caplog: pytest.LogCaptureFixture
) -> None:
    await fake.refuse_connections()
    sending = asyncio.create_task(telegram.send("1001", Reply(parts=("recap",))))
    async with asyncio.timeout(10):
        while not any("sendMessage failed" in r.getMessage() for r in caplog.records):
            await asyncio.sleep(0.01)

    await fake.accept_connections()
    await sending

    assert [message.plain for message in fake.chat_messages(1001)] == ["recap"]
    assert [call.status for call in fake.attempts("sendMessage")] == [200]


async def test_an_edit_whose_answer_was_lost_is_retried_and_the_message_edited_once(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    poll = await new_group_poll(fake, "/poll new Lunch? | Pizza | Sushi")
    fake.inject("editMessageText", drop_after_storing=True)

    fake.press(poll, poll.buttons()[0][1], user_id=7)
    await fake.wait_for("answerCallbackQuery")
    await fake.wait_until_fetched()
    await telegram.stop()

    # The retry found the edit already made: Telegram said "not modified", and that is fine.
    assert [call.status for call in fake.attempts("editMessageText")] == [0, 400]
    assert poll.edits == 1


async def test_start_waits_for_telegram_to_come_back(fake: FakeBotApi, services: Services) -> None:
    fake.inject("getMe", status=502, times=3)
    front_end = TelegramFrontEnd(telegram_settings(fake), services, tuning=FAST)

    await front_end.start()
    try:
        message = await reply_to(fake, "/about")
    finally:
        await front_end.stop()

    statuses = [call.status for call in fake.attempts("getMe")]
    assert statuses[:4] == [502, 502, 502, 200]
    assert message.plain.startswith(text("en", "about.title"))


async def test_a_press_on_a_closed_poll_is_refused_and_the_message_loses_its_buttons(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    poll = await new_group_poll(fake, "/poll new Lunch? | Pizza | Sushi")
    poll_id = poll.buttons()[0][1].split(":")[1]
    # The close is answered with the closing announcement: the final results' chart.
    fake.send_command(f"/poll close {poll_id}", chat_id=GROUP, user_id=ADMIN)
    await fake.wait_for("sendPhoto")

    fake.press(poll, poll.buttons()[0][1], user_id=7)
    (answer,) = await fake.wait_for("answerCallbackQuery")
    await fake.wait_for("editMessageText")
    await telegram.tally.drain()

    assert answer["text"] == text("en", "poll.closed_refused", id=poll_id)
    assert answer["show_alert"] is True
    assert poll.buttons() == []
    assert poll.edits == 1
