"""The Telegram front end: updates to Requests, Replies to messages, through python-telegram-bot.

A thin adapter over the shared dispatch and delivery policy. It keeps Telegram's own rules
out of the handlers: callback queries that must be answered, who counts as a moderator in a
group, the command menus; rendering (bot.telegram.render) and retries (bot.telegram.limiter)
have their own modules.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Final, Unpack

from telegram import Chat, InputFile, Message, ReplyParameters, Update, User
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import Settings
from bot.copies import Wiring, joined_copies, shows_poll
from bot.delivery import LastShown, for_command, for_press
from bot.dispatch import dispatch, parse_command
from bot.frontend import ChatUnreachable, LinkReport, PossiblyDelivered, TokenRejected, Unreachable
from bot.telegram.bounded_request import BoundedRequest
from bot.telegram.connection import ALLOWED_UPDATES, WatchedPolling, file_base_url
from bot.telegram.copies import edit_copy
from bot.telegram.incoming import answer_quietly, chat_kind, request_from
from bot.telegram.inline import install_inline
from bot.telegram.limiter import PatientRateLimiter
from bot.telegram.menus import register_menus
from bot.telegram.moderators import Moderators
from bot.telegram.private import send_privately
from bot.telegram.render import CAPTION_LIMIT, TEXT_LIMIT, keyboard, render_html, toast
from bot.telegram.tuning import TelegramTuning
from handlers.arguments import needs_moderator
from handlers.model import Lang, Reply, Services
from handlers.poll_view import refreshed_poll
from storage.poll_copies import PollCopy
from storage.poll_model import Platform

log = logging.getLogger(__name__)

TelegramApp = Application[Any, Any, Any, Any, Any, Any]

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
# Link previews off, as the Bot API's own JSON: a LinkPreviewOptions object would be built
# and turned back into this dict for every message.
_NO_PREVIEW: Final = {"is_disabled": True}
_UNREACHABLE = ("chat not found", "bot was kicked", "not enough rights", "chat was deactivated")


class TelegramFrontEnd:
    """Implements bot.frontend.FrontEnd for Telegram."""

    platform: Platform = "telegram"

    def __init__(
        self,
        settings: Settings,
        services: Services,
        *,
        tuning: TelegramTuning | None = None,
        request: BaseRequest | None = None,
        clock: Callable[[], float] = time.monotonic,
        **wiring: Unpack[Wiring],
    ) -> None:
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.services = services
        self.tuning = tuning or TelegramTuning()
        self.dispatcher = wiring.get("dispatcher", dispatch)
        self.shown = LastShown()
        self.clock = clock
        self.username = ""
        self.copies = joined_copies(self, services, wiring, self.tuning.tally_interval)
        self.tally = self.copies.tally
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .rate_limiter(
                PatientRateLimiter(
                    self.tuning,
                    shared=services.flood_limits if settings.in_a_fleet else None,
                )
            )
            # A reply waiting out a 429 or an outage must not hold up everyone else's.
            .concurrent_updates(True)
            # dsbot schedules its own jobs; PTB would otherwise start an idle JobQueue.
            .job_queue(None)
        )
        if settings.telegram_api_base_url:
            base = settings.telegram_api_base_url
            builder = builder.base_url(base).base_file_url(file_base_url(base))
        builder = builder.request(request or BoundedRequest(self.tuning.connections))
        # Watched, so that a lost link is reported (see bot.telegram.connection).
        self._polling = WatchedPolling(request or HTTPXRequest(connection_pool_size=1))
        self._ended: asyncio.Future[None] | None = None
        self.app: TelegramApp = self._receiving(builder).build()
        self.moderators = Moderators(
            lambda: self.app.bot, self.tuning.admin_cache_seconds, self.clock
        )
        self.app.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self._on_message)
        )
        install_inline(self)
        self.app.add_handler(CallbackQueryHandler(self._on_callback))
        self.app.add_error_handler(self._on_error)

    # -- FrontEnd ------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token (getMe), set the menus, start polling.

        Raises TokenRejected for a refused token and Unreachable when Telegram stays out of
        reach (the rate limiter has retried each call with back-off): the supervisor retries.
        """
        self._ended = asyncio.get_running_loop().create_future()
        self._polling.ended = self._ended
        try:
            await self.app.initialize()
            self.username = self.app.bot.username or ""
            await register_menus(self.app.bot, self.services.registry)
        except InvalidToken:
            # python-telegram-bot's message quotes the token: raise one that does not.
            raise TokenRejected(
                "Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather"
            ) from None
        except NetworkError as error:
            if isinstance(error, BadRequest):
                raise
            raise Unreachable.because(error) from None
        await self.app.start()
        await self._start_receiving()

    def _receiving(self, builder: Any) -> Any:
        return builder.get_updates_request(self._polling)  # bot.telegram.webhook: updater(None)

    async def _start_receiving(self) -> None:
        # python-telegram-bot's polling start deletes a webhook left set, keeping its updates.
        updater = self.app.updater
        assert updater is not None
        await updater.start_polling(
            timeout=int(self.tuning.poll_timeout),
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=-1,
            error_callback=self._on_polling_error,
        )
        log.info("Telegram: polling as @%s", self.username)

    def watch(self, report: LinkReport) -> None:
        self._polling.report = report

    async def wait_ended(self) -> None:
        """Polling goes on through outages; it ends only when Telegram rejects the token."""
        assert self._ended is not None, "not started"
        await self._ended

    async def stop(self) -> None:
        """Stop fetching, finish the updates in hand and the pending tally edits, disconnect."""
        updater = self.app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.tally.drain()
        await self.app.shutdown()

    async def send(self, chat_id: str, reply: Reply) -> None:
        try:
            chat = int(chat_id)
        except ValueError as error:
            raise ChatUnreachable(f"not a Telegram chat id: {chat_id!r}") from error
        try:
            await self._post(chat, reply)
        except ChatMigrated as migrated:
            log.info("Telegram chat %s became %s", chat, migrated.new_chat_id)
            await self.send(str(migrated.new_chat_id), reply)
        except Forbidden as error:
            raise ChatUnreachable(str(error)) from error
        except BadRequest as error:
            if any(reason in str(error).lower() for reason in _UNREACHABLE):
                raise ChatUnreachable(str(error)) from error
            raise

    async def refresh_copy(self, copy: PollCopy, reply: Reply, lang: Lang) -> None:
        await edit_copy(self.app.bot, self.shown, copy, reply)

    # -- incoming ------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or message.text is None or message.from_user is None:
            return
        kind = chat_kind(message.chat)
        if kind is None:
            return
        parsed = parse_command(message.text)
        if parsed is None:
            if kind == "group":
                return
            command, rest = "help", ""
        else:
            if parsed.addressee and parsed.addressee.casefold() != self.username.casefold():
                return  # addressed to another bot
            # In a group an unknown bare command is probably another bot's.
            known = self.services.registry.by_name
            if kind == "group" and not parsed.addressee and parsed.name not in known:
                return
            command, rest = parsed.name, parsed.text
        user = message.from_user
        request = request_from(
            user,
            message.chat.id,
            kind,
            command=command,
            text=rest,
            # getChatMember is most of this adapter's cost: asked only when the line needs it.
            is_admin=self._may_need_moderator(command, rest)
            and await self._is_moderator(message.chat, user, message),
            delivery_id=str(update.update_id),
        )
        reply = await self.dispatcher(request, self.services)
        # Telegram cannot show a message to one member of a group: private answers are posted.
        delivery = for_command(reply, chat_kind=kind, can_whisper=False)
        reply_to = message.message_id if kind == "group" else None
        try:
            if delivery.private is not None:
                await send_privately(
                    self._post,
                    delivery.private,
                    request,
                    self.services,
                    command=message.message_id,
                    bot=self.username,
                )
            elif delivery.post is not None:
                posted = await self._post(message.chat.id, delivery.post, reply_to=reply_to)
                poll_id = shows_poll(delivery.post)
                if poll_id is not None and posted is not None:
                    chat, locale = str(message.chat.id), request.locale
                    await self.copies.shown(
                        PollCopy(poll_id, "telegram", chat, str(posted), locale)
                    )
        except PossiblyDelivered:
            pass  # logged where it happened
        except TelegramError as error:
            log.warning("Telegram: could not reply in chat %s: %s", message.chat.id, error)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        # Telegram shows a spinner until the query is answered: answer it whatever happens.
        answered = False
        try:
            message = query.message
            kind = chat_kind(message.chat) if message is not None else None
            if query.data is None or message is None or kind is None:
                return
            user = query.from_user
            # No button action changes shared chat state: votes are every member's.
            request = request_from(
                user, message.chat.id, kind, action=query.data, delivery_id=query.id
            )
            delivery = for_press(await self.dispatcher(request, self.services))
            await query.answer(text=toast(delivery.notice) or None, show_alert=delivery.alert)
            answered = True
            photo = isinstance(message, Message) and bool(message.photo)
            if delivery.edit is not None:
                await self._edit(message.chat.id, message.message_id, delivery.edit, photo)
            poll_id = refreshed_poll(delivery.refresh) if delivery.refresh else None
            if poll_id is not None:
                pressed = str(message.chat.id), str(message.message_id)
                copy = PollCopy(poll_id, "telegram", *pressed, request.locale)
                await self.copies.pressed(copy, refused=delivery.alert)
            if delivery.post is not None:
                await self._post(message.chat.id, delivery.post)
        except PossiblyDelivered:
            pass  # logged where it happened
        except TelegramError as error:
            chat = update.effective_chat
            log.warning("Telegram: a button press in chat %s failed: %s", chat and chat.id, error)
        finally:
            if not answered:
                await answer_quietly(query)

    async def _is_moderator(self, chat: Chat, user: User, message: Message | None) -> bool:
        """Everyone moderates their own private chat; in a group, its creator and admins."""
        if chat.type == ChatType.PRIVATE:
            return True
        # Only administrators can post as the group itself (anonymous admins).
        if message is not None and message.sender_chat is not None:
            return message.sender_chat.id == chat.id
        return await self.moderators.is_admin(chat.id, user.id)

    def _may_need_moderator(self, command: str, rest: str) -> bool:
        declared = self.services.registry.by_name.get(command)
        return declared is not None and needs_moderator(declared, rest)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram: an update could not be handled", exc_info=context.error)

    def _on_polling_error(self, error: TelegramError) -> None:
        # python-telegram-bot keeps polling with its own backoff; a line is enough.
        log.warning("Telegram: getUpdates failed (%s); still polling", error)

    # -- outgoing ------------------------------------------------------------------------

    async def _post(self, chat_id: int, reply: Reply, reply_to: int | None = None) -> int | None:
        """Send a reply as messages: text pieces, then photos; buttons under the last one.

        Returns the id of the message that carries the buttons (None without buttons)."""
        bot = self.app.bot
        markup = keyboard(reply)

        def replying() -> ReplyParameters | None:
            nonlocal reply_to
            if reply_to is None:
                return None
            parameters = ReplyParameters(reply_to, allow_sending_without_reply=True)
            reply_to = None  # only the first message answers the command
            return parameters

        if len(reply.images) == 1:
            caption = render_html(reply, CAPTION_LIMIT)
            if len(caption) <= 1:
                image = reply.images[0]
                sent = await bot.send_photo(
                    chat_id,
                    InputFile(image.png, filename=image.filename),
                    caption=caption[0] if caption else None,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    reply_parameters=replying(),
                )
                await self._send_files(chat_id, reply)
                return sent.message_id if markup else None
        pieces = render_html(reply, TEXT_LIMIT)
        with_buttons: int | None = None
        for number, piece in enumerate(pieces, start=1):
            last = number == len(pieces) and not reply.images
            sent_id = await self._call(
                "sendMessage",
                chat_id=chat_id,
                text=piece,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if last else None,
                reply_parameters=replying(),
                link_preview_options=_NO_PREVIEW,
            )
            with_buttons = sent_id if last and markup else with_buttons
        for number, image in enumerate(reply.images, start=1):
            alt = render_html(Reply(parts=(image.alt,)), CAPTION_LIMIT)
            sent = await bot.send_photo(
                chat_id,
                InputFile(image.png, filename=image.filename),
                caption=alt[0] if alt else None,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if number == len(reply.images) else None,
                reply_parameters=replying(),
            )
            with_buttons = sent.message_id if number == len(reply.images) and markup else None
        await self._send_files(chat_id, reply)
        return with_buttons

    async def _send_files(self, chat_id: int, reply: Reply) -> None:
        """Each attachment as a document under the reply (sendDocument)."""
        for attachment in reply.files:
            await self.app.bot.send_document(
                chat_id, InputFile(attachment.data, filename=attachment.filename)
            )

    async def _call(self, endpoint: str, **parameters: object) -> int | None:
        """Call a Bot API method that posts or edits text, through python-telegram-bot's own
        request path (defaults, the rate limiter, its errors), without turning the Message
        Telegram returns into objects: dsbot reads only its id, and building it took about a
        third of a reply's time (Bot.send_message always builds it). None values are left
        out, as Bot.send_message leaves them. Returns the message's id where there is one."""
        result = await self.app.bot._post(endpoint, parameters)
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return message_id if isinstance(message_id, int) else None

    async def _edit(self, chat_id: int, message_id: int, reply: Reply, photo: bool) -> None:
        """Replace a message's text (or a photo's caption) and buttons."""
        pieces = render_html(reply, CAPTION_LIMIT if photo else TEXT_LIMIT)
        if not pieces:
            return
        if len(pieces) > 1:
            log.warning("Telegram: an edit of %s:%s was cut to one message", chat_id, message_id)
        markup = keyboard(reply)
        shown = pieces[0] + json.dumps(markup.to_dict() if markup else None, sort_keys=True)
        if not self.shown.changes((chat_id, message_id), shown):
            return
        try:
            if photo:
                await self.app.bot.edit_message_caption(
                    chat_id=chat_id,
                    message_id=message_id,
                    caption=pieces[0],
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            else:
                await self._call(
                    "editMessageText",
                    chat_id=chat_id,
                    message_id=message_id,
                    text=pieces[0],
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=_NO_PREVIEW,
                )
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                self.shown.forget((chat_id, message_id))
                log.warning("Telegram: could not edit %s:%s: %s", chat_id, message_id, error)
        except TelegramError:
            self.shown.forget((chat_id, message_id))
            raise
