"""The fake Bot API refuses what Telegram refuses, as the real python-telegram-bot Bot sees it.

Each test makes one mistake with a plain telegram.Bot pointed at the fake and expects
Telegram's documented answer (core.telegram.org/bots/api), so a test elsewhere that passes
against the fake would not be refused by Telegram for that reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    MessageEntity,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError

from tests.fakes.telegram_api import FakeBotApi, StoredMessage

CHAT = 1001
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
async def bot(telegram_fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(telegram_fake.token, base_url=telegram_fake.base_url) as bot:
        yield bot


async def send_html(bot: Bot, text: str) -> None:
    await bot.send_message(CHAT, text, parse_mode=ParseMode.HTML)


# -- ambiguous failures -------------------------------------------------------------------


async def test_a_message_stored_before_the_connection_dropped_is_in_the_chat_though_the_bot_got_an_error(  # noqa: E501
    telegram_fake: FakeBotApi, bot: Bot
) -> None:
    telegram_fake.inject("sendMessage", drop_after_storing=True)

    with pytest.raises(NetworkError, match="RemoteProtocolError"):
        await bot.send_message(CHAT, "hello")

    assert [message.plain for message in telegram_fake.chat_messages(CHAT)] == ["hello"]


async def test_an_edit_stored_before_the_connection_dropped_changed_the_message(
    telegram_fake: FakeBotApi, bot: Bot
) -> None:
    sent = await bot.send_message(CHAT, "before")
    telegram_fake.inject("editMessageText", drop_after_storing=True)

    with pytest.raises(NetworkError):
        await bot.edit_message_text("after", chat_id=CHAT, message_id=sent.message_id)

    assert [message.plain for message in telegram_fake.chat_messages(CHAT)] == ["after"]


async def test_a_refused_connection_is_a_connect_error(telegram_fake: FakeBotApi, bot: Bot) -> None:
    await telegram_fake.refuse_connections()

    with pytest.raises(NetworkError, match="ConnectError"):
        await bot.send_message(CHAT, "hello")

    await telegram_fake.accept_connections()
    await bot.send_message(CHAT, "hello")
    assert [message.plain for message in telegram_fake.chat_messages(CHAT)] == ["hello"]


# -- callback queries ---------------------------------------------------------------------


async def pressed(telegram_fake: FakeBotApi, bot: Bot) -> str:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Pizza", callback_data="vote:1")]])
    sent = await bot.send_message(CHAT, "Lunch?", reply_markup=markup)
    message = telegram_fake.messages[(CHAT, sent.message_id)]
    return telegram_fake.press(message, "vote:1")


async def test_a_callback_query_answered_within_fifteen_seconds_is_accepted(
    telegram_fake: FakeBotApi, bot: Bot
) -> None:
    query = await pressed(telegram_fake, bot)
    telegram_fake.advance(14)

    assert await bot.answer_callback_query(query, text="Counted") is True


async def test_a_callback_query_older_than_fifteen_seconds_is_too_old_to_answer(
    telegram_fake: FakeBotApi, bot: Bot
) -> None:
    query = await pressed(telegram_fake, bot)
    telegram_fake.advance(16)

    with pytest.raises(BadRequest, match=r"^Query is too old and response timeout expired"):
        await bot.answer_callback_query(query)


async def test_a_callback_query_id_telegram_never_issued_is_invalid(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"or query id is invalid$"):
        await bot.answer_callback_query("12345")


async def test_a_callback_query_is_answered_only_once(telegram_fake: FakeBotApi, bot: Bot) -> None:
    query = await pressed(telegram_fake, bot)
    await bot.answer_callback_query(query)

    with pytest.raises(BadRequest, match=r"^Query is too old"):
        await bot.answer_callback_query(query)


# -- editing text and captions ------------------------------------------------------------


async def test_edit_message_text_on_a_photo_is_refused(telegram_fake: FakeBotApi, bot: Bot) -> None:
    photo = await bot.send_photo(CHAT, InputFile(PNG, filename="a.png"), caption="chart")

    with pytest.raises(BadRequest, match=r"^There is no text in the message to edit$"):
        await bot.edit_message_text("new", chat_id=CHAT, message_id=photo.message_id)


async def test_edit_message_caption_on_a_text_message_is_refused(bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "text")

    with pytest.raises(BadRequest, match=r"^There is no caption in the message to edit$"):
        await bot.edit_message_caption(chat_id=CHAT, message_id=sent.message_id, caption="new")


# -- "message is not modified" ------------------------------------------------------------


async def html_message(telegram_fake: FakeBotApi, bot: Bot, html: str) -> StoredMessage:
    sent = await bot.send_message(CHAT, html, parse_mode=ParseMode.HTML)
    return telegram_fake.messages[(CHAT, sent.message_id)]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("<b>x</b>", "<strong>x</strong>"),
        ("a &lt; b", "a &#60; b"),
        ("<i>x</i>", "<em>x</em>"),
        ("<b>a</b><b>b</b>", "<b>ab</b>"),
        ('<a href="https://x.org">x</a>', '<a href="https://x.org" title="ignored">x</a>'),
    ],
)
async def test_an_edit_that_looks_the_same_to_the_user_is_not_modified(
    telegram_fake: FakeBotApi, bot: Bot, before: str, after: str
) -> None:
    message = await html_message(telegram_fake, bot, before)

    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_text(
            after, chat_id=CHAT, message_id=message.message_id, parse_mode=ParseMode.HTML
        )


async def test_an_edit_that_only_changes_the_formatting_is_a_change(
    telegram_fake: FakeBotApi, bot: Bot
) -> None:
    message = await html_message(telegram_fake, bot, "<b>x</b>")

    await bot.edit_message_text(
        "<i>x</i>", chat_id=CHAT, message_id=message.message_id, parse_mode=ParseMode.HTML
    )

    assert message.html == "<i>x</i>"
    assert message.edits == 1


async def test_an_edit_that_only_changes_the_buttons_is_a_change(
    telegram_fake: FakeBotApi, bot: Bot
) -> None:
    message = await html_message(telegram_fake, bot, "x")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])

    await bot.edit_message_text(
        "x", chat_id=CHAT, message_id=message.message_id, reply_markup=markup
    )

    assert message.buttons() == [("Go", "go")]


# -- HTML tags and attributes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "refusal"),
    [
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ('<span class="spoiler">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<tg-emoji>👍</tg-emoji>", "Invalid custom emoji identifier specified"),
        ('<tg-emoji emoji-id="x">👍</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("<br>", 'Unsupported start tag "br"'),
    ],
)
async def test_html_telegram_cannot_parse_is_refused(bot: Bot, html: str, refusal: str) -> None:
    with pytest.raises(BadRequest, match=r"^Can't parse entities: ") as refused:
        await send_html(bot, html)

    assert refusal.lower() in str(refused.value).lower()


async def test_a_span_with_class_tg_spoiler_is_a_spoiler(bot: Bot) -> None:
    sent = await bot.send_message(
        CHAT, '<span class="tg-spoiler">secret</span>', parse_mode=ParseMode.HTML
    )

    assert sent.text == "secret"
    assert [entity.type for entity in sent.entities] == [MessageEntity.SPOILER]


async def test_a_link_without_href_links_to_its_text_or_to_nothing(bot: Bot) -> None:
    to_itself = await bot.send_message(CHAT, "<a>https://x.org</a>", parse_mode=ParseMode.HTML)
    not_a_link = await bot.send_message(CHAT, "<a>click</a>", parse_mode=ParseMode.HTML)

    assert [(e.type, e.url) for e in to_itself.entities] == [
        (MessageEntity.TEXT_LINK, "https://x.org")
    ]
    assert not_a_link.text == "click"
    assert not_a_link.entities == ()


async def test_a_language_class_counts_only_on_code_inside_pre(bot: Bot) -> None:
    inside = await bot.send_message(
        CHAT, '<pre><code class="language-python">x = 1</code></pre>', parse_mode=ParseMode.HTML
    )
    alone = await bot.send_message(
        CHAT, '<code class="language-python">x = 1</code>', parse_mode=ParseMode.HTML
    )

    assert [(e.type, e.language) for e in inside.entities if e.type == "pre"] == [
        (MessageEntity.PRE, "python")
    ]
    assert [(e.type, e.language) for e in alone.entities] == [(MessageEntity.CODE, None)]


async def test_unknown_attributes_are_ignored(bot: Bot) -> None:
    sent = await bot.send_message(CHAT, '<b class="x" id="y">bold</b>', parse_mode=ParseMode.HTML)

    assert sent.text == "bold"
    assert [entity.type for entity in sent.entities] == [MessageEntity.BOLD]


# -- buttons and the command menu ---------------------------------------------------------


@pytest.mark.parametrize("data", ["", "x" * 65])
async def test_callback_data_outside_1_to_64_bytes_is_button_data_invalid(
    bot: Bot, data: str
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data=data)]])

    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(CHAT, "x", reply_markup=markup)


async def test_callback_data_of_64_bytes_is_accepted(bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="é" * 32)]])

    await bot.send_message(CHAT, "x", reply_markup=markup)


@pytest.mark.parametrize("name", ["", "x" * 33, "Help", "help-me", "帮助"])
async def test_a_command_name_that_is_not_1_to_32_of_a_z_0_9_or_underscore_is_invalid(
    bot: Bot, name: str
) -> None:
    with pytest.raises(BadRequest, match=r"^Bot_command_invalid$"):
        await bot.set_my_commands([BotCommand(name, "Shows help")])


@pytest.mark.parametrize("description", ["", "d" * 257])
async def test_a_command_description_that_is_not_1_to_256_characters_is_invalid(
    bot: Bot, description: str
) -> None:
    with pytest.raises(BadRequest, match=r"^Bot_command_description_invalid$"):
        await bot.set_my_commands([BotCommand("help", description)])


async def test_more_than_100_commands_are_too_many(bot: Bot) -> None:
    commands = [BotCommand(f"c{number}", "a command") for number in range(101)]

    with pytest.raises(BadRequest, match=r"^Bot_commands_too_much$"):
        await bot.set_my_commands(commands)


async def test_100_commands_of_32_characters_with_256_character_descriptions_are_accepted(
    bot: Bot,
) -> None:
    commands = [BotCommand(f"{number:032d}", "d" * 256) for number in range(100)]

    assert await bot.set_my_commands(commands) is True
