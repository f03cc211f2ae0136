"""Telegram's inline mode: `@bot` in any chat, the bot need not be a member there.

An empty query offers the DeepSeek poll with its buttons, a ticker its sell-off card, a
token count the bill, anything else the matching commands' cards (handlers/inline.py reads
which). Cards are the commands' own replies through the front end's dispatch (cooldowns
included), rendered by bot.telegram.render like any chat message. A chosen poll card and
presses on an inline message are copies of the poll (bot.copies), redrawn by
inline_message_id.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from telegram import (
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    ContextTypes,
    InlineQueryHandler,
)

from bot.copies import INLINE_CHAT
from bot.delivery import for_press
from bot.frontend import ChatUnreachable
from bot.telegram.copies import edit_copy
from bot.telegram.incoming import answer_quietly
from bot.telegram.render import TEXT_LIMIT, keyboard, render_html, toast
from handlers.i18n import pick_lang
from handlers.inline import (
    InlineAsk,
    command_card,
    inline_ask,
    matching_commands,
    poll_of_result,
)
from handlers.model import Reply, Request
from handlers.poll_view import refreshed_poll
from handlers.user_text import one_line, shorten
from storage.poll_copies import PollCopy

if TYPE_CHECKING:
    from bot.telegram.frontend import TelegramFrontEnd

log = logging.getLogger(__name__)

# answerInlineQuery: at most 50 results; a short cache, since the tally and prices move.
MAX_RESULTS = 50
CACHE_SECONDS = 10
# Telegram shows a result's title and description on one or two lines: more is cut anyway.
MAX_TITLE = 64
MAX_DESCRIPTION = 128


class InlinePressHandler(CallbackQueryHandler[ContextTypes.DEFAULT_TYPE, None]):
    """Only presses on inline messages (callback queries without a message)."""

    def check_update(self, update: object) -> Any:
        if not isinstance(update, Update) or update.callback_query is None:
            return None
        if update.callback_query.inline_message_id is None:
            return None
        return super().check_update(update)


def install_inline(front_end: TelegramFrontEnd) -> None:
    """Add the inline handlers; before the chat callback handler, which needs a message."""

    async def on_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await answer_query(front_end, update)

    async def on_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await record_chosen(front_end, update)

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await inline_press(front_end, update)

    front_end.app.add_handler(InlineQueryHandler(on_query))
    front_end.app.add_handler(ChosenInlineResultHandler(on_chosen))
    front_end.app.add_handler(InlinePressHandler(on_press))


def _request(user: User, **fields: Any) -> Request:
    return Request(
        platform="telegram",
        user_id=str(user.id),
        # Nobody's chat: its cooldown bucket is the user's own.
        chat_id=f"{INLINE_CHAT}:{user.id}",
        chat_kind="private",
        locale=user.language_code or "",
        user_name=user.full_name,
        **fields,
    )


def article(result_id: str, reply: Reply) -> InlineQueryResultArticle | None:
    """A card: the reply as the message it sends, under its title and first line."""
    pieces = render_html(reply, TEXT_LIMIT)
    if not pieces:
        return None
    plain = reply.plain_text().split("\n")
    title = shorten(one_line(plain[0]), MAX_TITLE) or "…"
    description = next((one_line(line) for line in plain[1:] if line.strip()), "")
    return InlineQueryResultArticle(
        id=result_id,
        title=title,
        description=shorten(description, MAX_DESCRIPTION) or None,
        input_message_content=InputTextMessageContent(
            pieces[0],
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        reply_markup=keyboard(reply),
    )


async def cards(front_end: TelegramFrontEnd, user: User, query: str) -> list[Any]:
    services = front_end.services
    ask: InlineAsk | None = inline_ask(query, services.facts.tickers(), services.registry)
    found: list[Any] = []
    if ask is not None:
        reply = await front_end.dispatcher(
            _request(user, command=ask.command, text=ask.text), services
        )
        card = article(f"error:{ask.result_id}" if reply.is_error else ask.result_id, reply)
        if card is not None:
            found.append(card)
        if not reply.is_error:
            return found
    if ask is None or ask.command != "poll":
        lang = pick_lang(user.language_code or "", services.default_lang)
        for command in matching_commands(query, services.registry):
            card = article(f"cmd:{command.name}", command_card(command, lang))
            if card is not None:
                found.append(card)
    return found[:MAX_RESULTS]


async def answer_query(front_end: TelegramFrontEnd, update: Update) -> None:
    query = update.inline_query
    if query is None:
        return
    try:
        results = await cards(front_end, query.from_user, query.query)
        # Personal: the cards speak the asker's language.
        await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True)
    except TelegramError as error:
        log.warning("Telegram: could not answer an inline query: %s", error)


async def record_chosen(front_end: TelegramFrontEnd, update: Update) -> None:
    """A poll card was sent: its inline message is a copy (needs /setinlinefeedback)."""
    chosen = update.chosen_inline_result
    if chosen is None or chosen.inline_message_id is None:
        return
    poll_id = poll_of_result(chosen.result_id)
    if poll_id is None:
        return
    locale = chosen.from_user.language_code or ""
    copy = PollCopy(poll_id, "telegram", "", chosen.inline_message_id, locale)
    await front_end.copies.shown(copy)


async def inline_press(front_end: TelegramFrontEnd, update: Update) -> None:
    """A vote on an inline message: counted in the same poll, every copy redrawn."""
    query = update.callback_query
    if query is None or query.inline_message_id is None:
        return
    answered = False
    try:
        if query.data is None:
            return
        request = _request(query.from_user, action=query.data, delivery_id=query.id)
        delivery = for_press(await front_end.dispatcher(request, front_end.services))
        await query.answer(text=toast(delivery.notice) or None, show_alert=delivery.alert)
        answered = True
        poll_id = refreshed_poll(delivery.refresh) if delivery.refresh else None
        copy = PollCopy(poll_id or 0, "telegram", "", query.inline_message_id, request.locale)
        if delivery.edit is not None:
            # The message may have gone while it was pressed.
            with contextlib.suppress(ChatUnreachable):
                await edit_copy(front_end.app.bot, front_end.shown, copy, delivery.edit)
        if poll_id is not None:
            await front_end.copies.pressed(copy, refused=delivery.alert)
        # An inline message has no chat the bot may post to: a `post` has nowhere to go.
    except TelegramError as error:
        log.warning("Telegram: a press on an inline message failed: %s", error)
    finally:
        if not answered:
            await answer_quietly(query)
