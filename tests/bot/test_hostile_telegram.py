"""The hostile corpus through the real python-telegram-bot Application and the fake Bot API.

Every hostile argument (with the commands taking turns) and every forged callback_data
arrives as an update from getUpdates, fifty per batch. Each must get a catalogued answer
that Telegram shows exactly as plain text (user text escaped, no links, no mentions), and a
member who is not a moderator must not change a single row of the database. The `services`
fixture has no cooldowns, since one member sending hundreds of commands would rightly be
refused; the cooldown reply has a test of its own.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable

import pytest
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.dispatch import Dispatch, ParsedCommand, dispatch, parse_command
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from handlers.i18n import text
from handlers.model import Reply, Request, Services, Table
from handlers.registry import REGISTRY
from tests.bot.conftest import StartTelegram, telegram_settings
from tests.bot.hostile_checks import (
    error_records,
    poll_fixtures,
    snapshot_tables,
    votes_of,
)
from tests.fakes.telegram_api import FakeBotApi, StoredMessage, parse_html
from tests.hostile_inputs import HOSTILE_ACTIONS, HOSTILE_INPUTS, forged_poll_actions
from tests.monospace import check_aligned

# Flood control relaxed: one member sending thousands of commands is what this suite does.
UNTHROTTLED = TelegramTuning(
    poll_timeout=1,
    retry_first_delay=0.05,
    retry_max_delay=0.2,
    retry_give_up_after=30,
    tally_interval=0.05,
    messages_per_second=1_000_000,
    messages_per_minute_per_group=1_000_000,
)
MEMBER = 1001
NOT_ADDRESSED = ParsedCommand(name="", text="", addressee="")
FIRST_GROUP = -1_002_000_000_000
SORRY = {text("en", "core.sorry"), text("zh", "core.sorry")}
# The only tags dsbot writes; anything else in a payload came from user text.
OWN_TAGS = re.compile(r"</?(b|pre)>")
ANY_TAG = re.compile(r"<[^>]*>")
PRE = re.compile(r"<pre>(.*?)</pre>", re.DOTALL)


@pytest.fixture
def fake(telegram_fake: FakeBotApi) -> FakeBotApi:
    return telegram_fake


@pytest.fixture
def telegram_tuning() -> TelegramTuning:
    return UNTHROTTLED


Recorder = dict[str, Reply]


def recording(replies: Recorder) -> Callable[[Request, Services], Awaitable[Reply]]:
    """The real dispatch, keeping each chat's reply (every input has a chat of its own)."""

    async def dispatcher(request: Request, services: Services) -> Reply:
        reply = await dispatch(request, services)
        replies[request.chat_id if request.action is None else request.delivery_id] = reply
        return reply

    return dispatcher


@pytest.fixture
async def replies() -> Recorder:
    return {}


class Handled:
    """The updates (by update id) and button presses (by query id) python-telegram-bot has
    finished handling, replies and toasts sent.

    Its handler sits in a group after dsbot's, and python-telegram-bot runs a later group's
    handler for an update only once the earlier group's handler has returned.
    """

    def __init__(self, front_end: TelegramFrontEnd) -> None:
        self.done: set[int | str] = set()
        self._changed = asyncio.Event()
        front_end.app.add_handler(TypeHandler(Update, self._record), group=1)

    async def _record(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.done.add(update.update_id)
        if update.callback_query is not None:
            self.done.add(update.callback_query.id)
        self._changed.set()

    async def wait_for(self, keys: Iterable[int | str], timeout: float = 30) -> None:
        wanted = set(keys)
        try:
            async with asyncio.timeout(timeout):
                while not wanted <= self.done:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            missing = len(wanted - self.done)
            raise AssertionError(f"{missing} of {len(wanted)} updates never handled") from None


@pytest.fixture
async def telegram(start_telegram: StartTelegram, replies: Recorder) -> TelegramFrontEnd:
    return await start_telegram(dispatcher=recording(replies))


@pytest.fixture
def handled(telegram: TelegramFrontEnd) -> Handled:
    return Handled(telegram)


def squeezed(value: str) -> str:
    return "".join(value.split())


def shown_problem(messages: list[StoredMessage], reply: Reply) -> str:
    """How `messages` fail to show `reply` ("" when they show it): outside <pre> the title,
    paragraphs and image texts as plain text, inside <pre> each table, read back aligned."""
    sent = "\n".join(message.html for message in messages)
    outside = squeezed(parse_html(PRE.sub("", sent)))
    prose = squeezed(reply.title + "".join(p for p in reply.parts if isinstance(p, str)))
    alts = squeezed("".join(image.alt for image in reply.images))
    if outside not in (prose, prose + alts):
        return "shown text differs from the reply's plain text"
    monospace = [line for block in PRE.findall(sent) for line in parse_html(block).split("\n")]
    for table in (part for part in reply.parts if isinstance(part, Table)):
        size = len(table.rows) + 2
        try:
            check_aligned("\n".join(monospace[:size]), table)
        except AssertionError as error:
            return f"a table is not shown aligned: {str(error).splitlines()[0]}"
        monospace = monospace[size:]
    return f"monospace lines of no table: {monospace[:2]}" if monospace else ""


def check_payload(params: dict[str, object], field: str) -> list[str]:
    """Problems with one sent text: markup that is not dsbot's own, links, entities."""
    problems = []
    raw = str(params.get(field, ""))
    if params.get("parse_mode") != "HTML":
        problems.append(f"not HTML: {params.get('parse_mode')!r}")
    if "entities" in params or "caption_entities" in params:
        problems.append("sent with entities")
    foreign = [tag for tag in ANY_TAG.findall(raw) if not OWN_TAGS.fullmatch(tag)]
    if foreign:
        problems.append(f"tags from user text: {foreign[:3]}")
    if "tg://" in raw and "<a" in raw:
        problems.append("a tg:// link")
    return problems


async def run_commands(
    fake: FakeBotApi,
    handled: Handled,
    lines: list[str],
    *,
    first_chat: int,
    group: bool,
    batch: int = 50,
) -> list[tuple[int, str]]:
    """Push the lines a batch at a time (one chat each), each batch handled in full.

    A batch is one getUpdates; bounding it keeps the HTTP client's pool small, whose
    bookkeeping grows with the square of the requests in flight.
    """
    sent = []
    for start in range(0, len(lines), batch):
        updates = []
        for number, line in enumerate(lines[start : start + batch], start=start):
            if group:
                chat = first_chat - number
                update = fake.send_command(line, user_id=MEMBER, chat_id=chat)
            else:
                chat = first_chat + number
                update = fake.send_command(line, user_id=chat)
            updates.append(update["update_id"])
            sent.append((chat, line))
        await handled.wait_for(updates)
    return sent


def hostile_lines(commands: list[str]) -> list[str]:
    """Every hostile input once, the commands taking turns (the core suite crosses them all)."""
    return [f"/{commands[n % len(commands)]} {h}" for n, h in enumerate(HOSTILE_INPUTS)]


def check_answers(fake: FakeBotApi, replies: Recorder, sent: list[tuple[int, str]]) -> list[str]:
    by_chat: dict[int, list[dict[str, object]]] = {}
    for method, field in (("sendMessage", "text"), ("sendPhoto", "caption")):
        for params in fake.sent(method):
            by_chat.setdefault(int(str(params["chat_id"])), []).append(params | {"_f": field})
    failures = []
    for chat, line in sent:
        reply = replies.get(str(chat))
        shown = repr(line[:60])
        if reply is None:
            failures.append(f"{shown}: no reply dispatched")
            continue
        if any(sorry in reply.plain_text() for sorry in SORRY):
            failures.append(f"{shown}: the generic apology")
        payloads = by_chat.get(chat, [])
        for params in payloads:
            failures += [f"{shown}: {p}" for p in check_payload(params, str(params["_f"]))]
        messages = fake.chat_messages(chat)
        if not messages:
            failures.append(f"{shown}: no answer in the chat")
        elif problem := shown_problem(messages, reply):
            failures.append(f"{shown}: {problem}")
    return failures


async def test_every_command_with_every_hostile_argument_from_a_member_of_a_group(
    fake: FakeBotApi,
    handled: Handled,
    services: Services,
    replies: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await poll_fixtures(services, "telegram", chat_of=lambda n: str(FIRST_GROUP + 1 + n))
    before = await snapshot_tables(services)
    lines = hostile_lines([c.name for c in REGISTRY.commands])

    with caplog.at_level(logging.WARNING):
        sent = await run_commands(fake, handled, lines, first_chat=FIRST_GROUP, group=True)

    assert check_answers(fake, replies, sent) == []
    assert error_records(caplog) == []
    changes = (await snapshot_tables(services)).changes_since(before)
    # A line that still shows the poll posts a poll message: the bot's record of its own
    # message (bot/copies.py), not state a member changed.
    changes.pop("poll_copies", None)
    assert changes == {}


async def test_moderator_commands_with_hostile_arguments_in_private_chats(
    fake: FakeBotApi,
    handled: Handled,
    replies: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # In a private chat the user moderates: polls are created from hostile text and shown,
    # settings and subscriptions take hostile values (or refuse them).
    lines = hostile_lines(["poll new", "settings tz", "recap on 16:15", "poll vote"])
    # Hostile command names too: an unknown command is answered by naming it. A name with
    # an @ is addressed to another bot ("/x@everyone"), which is rightly left alone.
    names = [f"/{hostile}" for hostile in HOSTILE_INPUTS[::3]]
    lines += [line for line in names if not (parse_command(line) or NOT_ADDRESSED).addressee]

    with caplog.at_level(logging.WARNING):
        sent = await run_commands(fake, handled, lines, first_chat=10_000_000, group=False)

    assert check_answers(fake, replies, sent) == []
    assert error_records(caplog) == []


async def test_markup_typed_by_a_user_arrives_escaped(fake: FakeBotApi, handled: Handled) -> None:
    lines = [
        "/poll new <b>Q</b> & <a href='tg://user?id=1'>x</a> | <i>A</i> | @everyone",
        "/poll results <b>x</b>",
    ]
    sent = await run_commands(fake, handled, lines, first_chat=20_000_000, group=False)

    (poll,) = fake.chat_messages(sent[0][0])
    assert "&lt;b&gt;Q&lt;/b&gt; &amp; &lt;a href='tg://user?id=1'&gt;" in poll.html
    assert "<b>Q</b> & <a href='tg://user?id=1'>x</a>" in poll.plain
    (refusal,) = fake.chat_messages(sent[1][0])
    assert "&lt;b&gt;x&lt;/b&gt;" in refusal.html
    assert "<b>x</b>" in refusal.plain


async def test_forged_callback_data_is_answered_and_changes_no_vote(
    fake: FakeBotApi,
    telegram: TelegramFrontEnd,
    handled: Handled,
    services: Services,
    replies: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    group = FIRST_GROUP - 50_000
    polls = await poll_fixtures(services, "telegram", chat_of=lambda n: str(group - 1 - n))
    # A poll of this group that is closed, under whose message the forged buttons sit.
    closed = await services.polls.get_with_tally(polls.closed)
    assert closed is not None
    closed_chat = int(str(closed[0].chat_id))
    message = StoredMessage(closed_chat, 999_999, "poll", "poll", None)
    fake.messages[(closed_chat, message.message_id)] = message
    before = await snapshot_tables(services)
    forged = HOSTILE_ACTIONS + forged_poll_actions(other_chat=polls.other_chat, closed=polls.closed)

    with caplog.at_level(logging.WARNING):
        queries = [fake.press(message, data, user_id=MEMBER) for data in forged]
        await handled.wait_for(queries)
        # A refresh of the message, had a press asked for one, would be edited by now.
        await telegram.tally.drain()

    answers = {str(p["callback_query_id"]): p for p in fake.sent("answerCallbackQuery")}
    failures = []
    for query, data in zip(queries, forged, strict=True):
        answer = answers.get(query)
        toast = str((answer or {}).get("text", ""))
        if answer is None or not toast:
            failures.append(f"{data!r}: no toast")
        elif toast in SORRY:
            failures.append(f"{data!r}: {toast!r}")
    assert failures == []
    assert error_records(caplog) == []
    assert (await snapshot_tables(services)).changes_since(before) == {}
    for params in fake.sent("editMessageText"):
        assert check_payload(params, "text") == []


async def test_the_cooldown_reply_is_a_catalogued_answer_to_commands_and_buttons(
    fake: FakeBotApi, services: Services, tight_cooldowns: Dispatch
) -> None:
    front_end = TelegramFrontEnd(
        telegram_settings(fake), services, tuning=UNTHROTTLED, dispatcher=tight_cooldowns
    )
    await front_end.start()
    try:
        for _ in range(3):
            fake.send_command("/about", user_id=MEMBER)
        await fake.wait_for("sendMessage", 3)
        message = StoredMessage(MEMBER, 999_999, "poll", "poll", None)
        fake.messages[(MEMBER, message.message_id)] = message
        query = fake.press(message, "poll:1:0", user_id=MEMBER)
        (answer,) = await fake.wait_for("answerCallbackQuery")
    finally:
        await front_end.stop()
    slow_down = text("en", "core.slow_down")
    # Three commands at once: which one comes third is up to the event loop.
    refused = [m.plain == slow_down for m in fake.chat_messages(MEMBER) if m.message_id < 999_999]
    assert sorted(refused) == [False, False, True]
    assert answer["callback_query_id"] == query
    assert answer["text"] == slow_down and answer["show_alert"] is True
    assert await votes_of(services, "telegram", str(MEMBER)) == []
