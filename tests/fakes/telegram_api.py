"""A fake Telegram Bot API server on 127.0.0.1 that the real python-telegram-bot talks to.

Point the bot at `fake.base_url` (what `TELEGRAM_API_BASE_URL` holds). The fake hands out
queued updates through getUpdates with long polling, answers the methods dsbot uses the
way Telegram does (HTML must parse, texts and captions have length limits, a callback query
is answered once, an edit to the same content is refused), keeps every message it was sent
so tests can read a chat, and records every call. `inject` makes the next calls of a method
fail: a 429 with retry_after, a 5xx, a slow answer, for a number of calls or for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.telegram_flood import COUNTED, FloodRule
from tests.fakes.telegram_html import BadEntities, Entity, parse_entities, parse_html, utf16_length
from tests.fakes.telegram_inline import (
    InlineMessage,
    InlineRuleBroken,
    check_answer,
    visible_text,
)

__all__ = ["BadEntities", "FakeBotApi", "StoredMessage", "parse_html", "utf16_length"]

BOT_ID = 7_000_000_001
BOT_USERNAME = "dsbot_test_bot"
TOKEN = f"{BOT_ID}:AAfakeTokenForTests-0123456789abcdefghi"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
# setMyCommands (core.telegram.org/bots/api#botcommand): a command is 1-32 characters of
# lowercase English letters, digits and underscores, its description 1-256 characters, and
# a list holds at most 100 commands.
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
COMMAND_DESCRIPTION_LIMIT = 256
COMMANDS_LIMIT = 100
# answerCallbackQuery: the Bot API docs give no figure for how long a query can be answered;
# the commonly observed one is about 15 seconds (e.g. telegraf/telegraf#1839). Tests move
# the fake's clock (`advance`) rather than wait.
CALLBACK_EXPIRY = 15.0
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
# Parameters python-telegram-bot sends JSON-encoded inside form fields.
_JSON_FIELDS = frozenset(
    {"reply_markup", "commands", "reply_parameters", "scope", "link_preview_options"}
    | {"allowed_updates", "entities", "caption_entities", "results", "button"}
)
_BOOL_FIELDS = frozenset(
    {"show_alert", "disable_notification", "protect_content", "is_personal", "drop_pending_updates"}
)
# The fields an administrator's ChatMember must carry.
_ADMIN_RIGHTS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "max_connections",
    }
)
# Editing an inline message that is gone (deleted, or never sent through the bot).
INLINE_GONE = "Bad Request: MESSAGE_ID_INVALID"

Json = dict[str, Any]


@dataclass
class Call:
    """One Bot API call as the fake answered it."""

    method: str
    params: Json
    status: int
    at: float  # time.monotonic() when the answer was sent
    received: float  # time.monotonic() when the request arrived
    result: Any = None


@dataclass
class Fault:
    """How the next calls to `method` ("*" for any) fail or slow down."""

    method: str
    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    remaining: int | None = 1
    until: float | None = None
    description: str = ""
    drop: bool = False  # close the connection without an answer, doing nothing
    # Do the call (store the message) and then close the connection without an answer:
    # Telegram accepted it and the answer was lost, so the bot cannot know it arrived.
    drop_after_storing: bool = False

    def active(self, now: float) -> bool:
        if self.until is not None:
            return now < self.until
        return self.remaining is None or self.remaining > 0


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    html: str
    plain: str
    reply_markup: Json | None
    photo: bool = False
    edits: int = 0
    entities: tuple[Entity, ...] = ()
    # sendDocument's file: its name and bytes.
    document: tuple[str, bytes] | None = None

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(button["text"], button["callback_data"]) for row in rows for button in row]


@dataclass
class FakeBotApi:
    token: str = TOKEN
    username: str = BOT_USERNAME
    # Long polls are held at most this long, whatever timeout the bot asked for.
    max_poll_wait: float = 1.0
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], StoredMessage] = field(default_factory=dict)
    admins: dict[int, set[int]] = field(default_factory=dict)
    owners: dict[int, int] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    # Users who never opened a private chat with the bot: Telegram lets no bot message them.
    strangers: set[int] = field(default_factory=set)
    missing: set[int] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    # Methods in the order their requests arrived (a call is in `calls` once answered).
    arrived: list[str] = field(default_factory=list)
    callback_expiry: float = CALLBACK_EXPIRY
    # Requests whose answer is being held back by an injected delay, by method.
    holding: dict[str, int] = field(default_factory=dict)
    most_holding: dict[str, int] = field(default_factory=dict)  # the peak of `holding`
    # Telegram's flood limits, enforced with 429s when set.
    flood: FloodRule | None = None

    def __post_init__(self) -> None:
        self._updates: list[Json] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._answered: set[str] = set()
        self._queries: dict[str, float] = {}  # callback query id -> when it was pressed
        # Inline mode: query id -> the results it was answered with; the messages sent.
        self.inline_answers: dict[str, list[Json]] = {}
        self._inline_queries: set[str] = set()
        self.inline_messages: dict[str, InlineMessage] = {}
        self._inline_ids = itertools.count(1)
        self._clock_offset = 0.0
        self._pushed = 0  # the last update_id queued
        self._confirmed = 0  # the last update_id the bot confirmed with a later offset
        self._site: web.TCPSite | None = None
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # -- server life cycle ---------------------------------------------------------------

    async def start(self) -> FakeBotApi:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await self._site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def refuse_connections(self) -> None:
        """Stop listening and close open connections: the bot's next connect is refused."""
        assert self._runner is not None and self._site is not None
        await self._site.stop()
        server = self._runner.server
        assert server is not None
        for connection in list(server.connections):
            connection.force_close()
        # Until the closes are done, the bot could still write into a pooled connection.
        async with asyncio.timeout(5):
            while server.connections:
                await asyncio.sleep(0.01)

    async def accept_connections(self) -> None:
        """Listen again, on the same port."""
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await self._site.start()

    def now(self) -> float:
        """The fake's clock: time.monotonic(), plus however far a test moved it."""
        return time.monotonic() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock on (callback queries expire by it)."""
        self._clock_offset += seconds

    async def close(self) -> None:
        # Held long polls answer at once, or the server would wait for them on the way out.
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what tests arrange --------------------------------------------------------------

    def inject(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        times: int | None = 1,
        seconds: float | None = None,
        description: str = "",
        drop: bool = False,
        drop_after_storing: bool = False,
    ) -> Fault:
        """Make the next `times` calls (or all calls for `seconds`) to `method` misbehave."""
        fault = Fault(
            method=method,
            status=429 if retry_after is not None and status is None else status,
            retry_after=retry_after,
            delay=delay,
            remaining=None if seconds is not None else times,
            until=time.monotonic() + seconds if seconds is not None else None,
            description=description,
            drop=drop,
            drop_after_storing=drop_after_storing,
        )
        self.faults.append(fault)
        return fault

    def push(self, update: Json) -> Json:
        """Queue an update (its update_id is assigned here) for the next getUpdates."""
        update = {"update_id": next(self._update_ids), **update}
        self._pushed = update["update_id"]
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._queries[str(query["id"])] = self.now()
        self._updates.append(update)
        self._notify()
        return update

    def send_command(
        self,
        text: str,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Ada",
        sender_chat: Json | None = None,
    ) -> Json:
        """A user types `text`; a private chat with the user unless `chat_id` (negative: group)."""
        chat = chat_id if chat_id is not None else user_id
        if chat > 0:
            self.strangers.discard(user_id)  # writing to the bot starts the private chat
        user: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code is not None:
            user["language_code"] = language_code
        message: Json = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat),
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if sender_chat is not None:
            message["sender_chat"] = sender_chat
        return self.push({"message": message})

    def press(
        self,
        message: StoredMessage,
        data: str,
        *,
        user_id: int = 1001,
        language_code: str | None = "en",
        first_name: str | None = None,
    ) -> str:
        """A user presses the inline button `data` under `message`; returns the query id."""
        user: Json = {"id": user_id, "is_bot": False, "first_name": first_name or f"user{user_id}"}
        if language_code is not None:
            user["language_code"] = language_code
        query_id = str(next(self._query_ids))
        self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": str(message.chat_id),
                    "data": data,
                    "message": self._message_json(message),
                }
            }
        )
        return query_id

    def inline_query(
        self,
        query: str,
        *,
        user_id: int = 1001,
        language_code: str | None = "en",
        chat_type: str = "supergroup",
    ) -> str:
        """A user types `@bot query` in some chat; returns the inline query id."""
        query_id = f"iq{next(self._query_ids)}"
        self._inline_queries.add(query_id)
        self.push(
            {
                "inline_query": {
                    "id": query_id,
                    "from": self._user(user_id, language_code),
                    "query": query,
                    "offset": "",
                    "chat_type": chat_type,
                }
            }
        )
        return query_id

    def choose(
        self, query_id: str, result_id: str, *, user_id: int = 1001, language_code: str = "en"
    ) -> InlineMessage:
        """The user taps a result: it is sent as an inline message, and (inline feedback on)
        a chosen_inline_result names it; its inline_message_id only with buttons, as on
        Telegram."""
        (result,) = [r for r in self.inline_answers[query_id] if r["id"] == result_id]
        content = result["input_message_content"]
        raw = str(content["message_text"])
        plain, entities = visible_text(raw, content.get("parse_mode"))
        message = InlineMessage(
            f"AgAAA{next(self._inline_ids):04d}-inline_x", raw, plain, result.get("reply_markup")
        )
        message.entities = entities
        self.inline_messages[message.inline_message_id] = message
        chosen: Json = {
            "result_id": result_id,
            "from": self._user(user_id, language_code),
            "query": "",
        }
        if message.reply_markup:
            chosen["inline_message_id"] = message.inline_message_id
        self.push({"chosen_inline_result": chosen})
        return message

    def press_inline(
        self,
        message: InlineMessage,
        data: str,
        *,
        user_id: int = 1001,
        language_code: str | None = "en",
    ) -> str:
        """A user presses a button of an inline message: no `message`, its inline_message_id."""
        query_id = str(next(self._query_ids))
        self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id, language_code),
                    "chat_instance": "-4242",
                    "inline_message_id": message.inline_message_id,
                    "data": data,
                }
            }
        )
        return query_id

    @staticmethod
    def _user(user_id: int, language_code: str | None) -> Json:
        user: Json = {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}
        if language_code is not None:
            user["language_code"] = language_code
        return user

    @staticmethod
    def chat(chat_id: int) -> Json:
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Ada"}
        return {"id": chat_id, "type": "supergroup", "title": "DeepSeek watchers"}

    # -- what tests read -----------------------------------------------------------------

    def sent(self, method: str) -> list[Json]:
        """Parameters of every successful call to `method`, in order."""
        return [call.params for call in self.calls if call.method == method and call.status == 200]

    def attempts(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def chat_messages(self, chat_id: int) -> list[StoredMessage]:
        return [message for (chat, _), message in sorted(self.messages.items()) if chat == chat_id]

    def answered(self, query_id: str) -> bool:
        return query_id in self._answered

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Json]:
        """Wait until `method` has succeeded `count` times; the parameters of those calls."""
        async with asyncio.timeout(timeout):
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.sent(method)) >= count)
        return self.sent(method)

    async def wait_for_arrival(self, method: str, timeout: float = 10.0) -> None:
        """Wait until a request for `method` has arrived, answered or not."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: method in self.arrived)

    def fetched_everything(self) -> bool:
        """The bot has every update queued so far in hand.

        python-telegram-bot queues the updates a getUpdates returned before it asks for the
        next ones with a higher offset, so that offset is the proof they arrived.
        """
        return self._confirmed >= self._pushed

    async def wait_until_fetched(self, timeout: float = 10.0) -> None:
        """Wait until the bot has every update queued so far in hand (see fetched_everything)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(self.fetched_everything)

    async def wait_until_holding(self, method: str, timeout: float = 10.0) -> None:
        """Wait until a request for `method` arrived and its answer is being held back."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.holding.get(method, 0) > 0)

    async def wait_until_idle(self, quiet: float = 0.2, timeout: float = 10.0) -> None:
        """Wait until no call arrived for `quiet` seconds (the bot has nothing left to say)."""
        async with asyncio.timeout(timeout):
            while True:
                before = len(self.calls)
                await asyncio.sleep(quiet)
                if len(self.calls) == before:
                    return

    # -- the Bot API ---------------------------------------------------------------------

    def _notify(self) -> None:
        async def wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        asyncio.get_running_loop().create_task(wake())

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        received = time.monotonic()
        self.arrived.append(method)
        self._notify()
        if request.match_info["token"] != self.token:
            return self._answer(method, params, 401, {"description": "Unauthorized"}, received)
        fault = self._fault_for(method)
        if fault is not None:
            if fault.delay:
                self.holding[method] = self.holding.get(method, 0) + 1
                self.most_holding[method] = max(
                    self.most_holding.get(method, 0), self.holding[method]
                )
                self._notify()
                try:
                    await self._hold(fault.delay)
                finally:
                    self.holding[method] -= 1
            if (fault.drop or fault.drop_after_storing) and request.transport is not None:
                result = None
                if fault.drop_after_storing:
                    with contextlib.suppress(_ApiError):
                        result = self._call(method, params)
                request.transport.close()
                self.calls.append(Call(method, params, 0, time.monotonic(), received, result))
                self._notify()
                return web.Response(status=500)  # never reaches the bot
            if fault.status == 429:
                body = {
                    "description": f"Too Many Requests: retry after {fault.retry_after}",
                    "parameters": {"retry_after": fault.retry_after},
                }
                return self._answer(method, params, 429, body, received)
            if fault.status is not None:
                description = fault.description or "Internal Server Error"
                return self._answer(
                    method, params, fault.status, {"description": description}, received
                )
        if self.flood is not None and method.startswith(COUNTED) and "chat_id" in params:
            wait = self.flood.retry_after(params["chat_id"], time.monotonic())
            if wait is not None:
                body = {
                    "description": f"Too Many Requests: retry after {wait}",
                    "parameters": {"retry_after": wait},
                }
                return self._answer(method, params, 429, body, received)
        if method == "getUpdates":
            updates = await self._get_updates(params)
            return self._answer(method, params, 200, {"result": updates}, received)
        try:
            result = self._call(method, params)
        except _ApiError as error:
            return self._answer(
                method, params, error.status, {"description": error.description}, received
            )
        return self._answer(method, params, 200, {"result": result}, received)

    async def _hold(self, seconds: float) -> None:
        """A slow or hung answer; it ends when the fake closes, so no test waits it out."""
        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(lambda: self._closing)
        except TimeoutError:
            pass

    def _fault_for(self, method: str) -> Fault | None:
        now = time.monotonic()
        for fault in self.faults:
            if fault.method in (method, "*") and fault.active(now):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def _answer(
        self, method: str, params: Json, status: int, body: Json, received: float
    ) -> web.Response:
        ok = status == 200
        payload: Json = {"ok": ok, **body} if ok else {"ok": False, "error_code": status, **body}
        now = time.monotonic()
        self.calls.append(Call(method, params, status, now, received, body.get("result")))
        self._notify()
        return web.json_response(payload, status=status)

    @staticmethod
    async def _params(request: web.Request) -> Json:
        if request.content_type == "application/json":
            loaded = await request.json()
            return dict(loaded) if isinstance(loaded, dict) else {}
        params: Json = dict(request.query)
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                params[key] = {"filename": value.filename, "bytes": data}
            elif key in _JSON_FIELDS:
                params[key] = json.loads(value)
            elif key in _BOOL_FIELDS:
                params[key] = value == "true"
            elif key in _INT_FIELDS:
                try:
                    params[key] = int(value)
                except ValueError:
                    params[key] = value
            else:
                params[key] = value
        return params

    async def _get_updates(self, params: Json) -> list[Json]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        # An offset confirms every update before it, as on Telegram.
        if offset > self._confirmed + 1:
            self._confirmed = offset - 1
            self._notify()
        self._updates = [update for update in self._updates if update["update_id"] >= offset]
        if not self._updates and wait > 0:
            try:
                async with asyncio.timeout(wait), self._changed:
                    await self._changed.wait_for(lambda: bool(self._updates) or self._closing)
            except TimeoutError:
                pass
        return self._updates[:limit]

    def _call(self, method: str, params: Json) -> Any:
        if method == "getMe":
            return self._bot_user()
        if method == "setMyCommands":
            return self._set_commands(params)
        if method in ("deleteWebhook", "deleteMyCommands", "close"):
            return True
        if method == "getChatMember":
            return self._member(int(params["chat_id"]), int(params["user_id"]))
        if method == "answerCallbackQuery":
            return self._answer_callback(params)
        if method == "answerInlineQuery":
            return self._answer_inline(params)
        if method == "sendMessage":
            return self._send(params, photo=False)
        if method == "sendPhoto":
            return self._send(params, photo=True)
        if method == "sendDocument":
            return self._send_document(params)
        if method in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup"):
            return self._edit(method, params)
        raise _ApiError(404, "Not Found: method not found")

    def _bot_user(self) -> Json:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "dsbot",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    def _member(self, chat_id: int, user_id: int) -> Json:
        user = {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}
        if self.owners.get(chat_id) == user_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in self.admins.get(chat_id, set()):
            return {"status": "administrator", "user": user, **dict.fromkeys(_ADMIN_RIGHTS, False)}
        return {"status": "member", "user": user}

    def _set_commands(self, params: Json) -> bool:
        commands = params.get("commands") or []
        if len(commands) > COMMANDS_LIMIT:
            raise _ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _COMMAND.match(str(command.get("command", ""))):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not 1 <= utf16_length(description) <= COMMAND_DESCRIPTION_LIMIT:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        return True

    def _answer_callback(self, params: Json) -> bool:
        # A query can be answered once, and only while it is fresh (see CALLBACK_EXPIRY).
        query_id = str(params["callback_query_id"])
        pressed = self._queries.get(query_id)
        if query_id in self._answered or pressed is None:
            raise _ApiError(400, QUERY_TOO_OLD)
        if self.now() - pressed > self.callback_expiry:
            raise _ApiError(400, QUERY_TOO_OLD)
        if utf16_length(params.get("text", "")) > CALLBACK_ANSWER_LIMIT:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._answered.add(query_id)
        return True

    def _check_chat(self, chat_id: int) -> None:
        if chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.strangers:
            raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat_id in self.missing:
            raise _ApiError(400, "Bad Request: chat not found")

    def _visible(
        self, params: Json, field_name: str, limit: int
    ) -> tuple[str, str, tuple[Entity, ...]]:
        raw = str(params.get(field_name, ""))
        entities: tuple[Entity, ...] = ()
        if params.get("parse_mode") == "HTML":
            try:
                plain, entities = parse_entities(raw)
            except BadEntities as error:
                raise _ApiError(400, f"Bad Request: can't parse entities: {error}") from error
        else:
            plain = raw
        if utf16_length(plain) > limit:
            too_long = "caption is too long" if field_name == "caption" else "message is too long"
            raise _ApiError(400, f"Bad Request: {too_long}")
        return raw, plain, entities

    def _check_markup(self, markup: Json | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                # InlineKeyboardButton.callback_data: "1-64 bytes".
                if (
                    "callback_data" in button
                    and not 1 <= len(button["callback_data"].encode()) <= 64
                ):
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _send(self, params: Json, *, photo: bool) -> Json:
        chat_id = int(params["chat_id"])
        self._check_chat(chat_id)
        if photo:
            raw, plain, entities = self._visible(params, "caption", CAPTION_LIMIT)
            if not isinstance(params.get("photo"), dict) or not params["photo"]["bytes"]:
                raise _ApiError(400, "Bad Request: there is no photo in the request")
        else:
            raw, plain, entities = self._visible(params, "text", TEXT_LIMIT)
            if not plain.strip():
                raise _ApiError(400, "Bad Request: message text is empty")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        message = StoredMessage(
            chat_id, next(self._message_ids), raw, plain, markup, photo, entities=entities
        )
        self.messages[(chat_id, message.message_id)] = message
        return self._message_json(message)

    def _send_document(self, params: Json) -> Json:
        chat_id = int(params["chat_id"])
        self._check_chat(chat_id)
        raw, plain, entities = self._visible(params, "caption", CAPTION_LIMIT)
        document = params.get("document")
        # A file_id or URL would be a string: dsbot always uploads the file itself.
        if not isinstance(document, dict) or not document["bytes"]:
            raise _ApiError(400, "Bad Request: there is no document in the request")
        message = StoredMessage(
            chat_id,
            next(self._message_ids),
            raw,
            plain,
            None,
            entities=entities,
            document=(str(document["filename"]), bytes(document["bytes"])),
        )
        self.messages[(chat_id, message.message_id)] = message
        return self._message_json(message)

    def _answer_inline(self, params: Json) -> bool:
        query_id = str(params.get("inline_query_id", ""))
        if query_id not in self._inline_queries or query_id in self.inline_answers:
            raise _ApiError(400, QUERY_TOO_OLD)
        try:
            self.inline_answers[query_id] = check_answer(params)
        except InlineRuleBroken as error:
            raise _ApiError(400, str(error)) from error
        return True

    def _edit_inline(self, method: str, params: Json) -> bool:
        """An edit by inline_message_id: True, not the message, as on Telegram."""
        if "chat_id" in params or "message_id" in params:
            raise _ApiError(400, "Bad Request: chat_id and inline_message_id are exclusive")
        message = self.inline_messages.get(str(params["inline_message_id"]))
        if message is None:
            raise _ApiError(400, INLINE_GONE)
        if method == "editMessageText":
            try:
                plain, entities = visible_text(
                    str(params.get("text", "")), params.get("parse_mode")
                )
            except InlineRuleBroken as error:
                raise _ApiError(400, str(error)) from error
            raw = str(params.get("text", ""))
        elif method == "editMessageReplyMarkup":
            raw, plain, entities = message.html, message.plain, message.entities
        else:
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if (plain, entities, markup) == (message.plain, message.entities, message.reply_markup):
            raise _ApiError(400, "Bad Request: message is not modified")
        message.history.append(message.plain)
        message.html, message.plain, message.entities = raw, plain, entities
        message.reply_markup = markup
        message.edits += 1
        return True

    def _edit(self, method: str, params: Json) -> Json | bool:
        if "inline_message_id" in params:
            return self._edit_inline(method, params)
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        self._check_chat(chat_id)
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        # editMessageText is for text messages, editMessageCaption for media ones.
        if method == "editMessageText" and message.photo:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        if method == "editMessageCaption" and not message.photo:
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        if method == "editMessageReplyMarkup":
            raw, plain, entities = message.html, message.plain, message.entities
        elif method == "editMessageCaption":
            raw, plain, entities = self._visible(params, "caption", CAPTION_LIMIT)
        else:
            raw, plain, entities = self._visible(params, "text", TEXT_LIMIT)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        # Telegram compares what a user would see, not the markup that produced it:
        # <b> and <strong>, or &lt; and &#60;, give the same message.
        if (plain, entities, markup) == (message.plain, message.entities, message.reply_markup):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message.html, message.plain, message.reply_markup = raw, plain, markup
        message.entities = entities
        message.edits += 1
        return self._message_json(message)

    def _message_json(self, message: StoredMessage) -> Json:
        body: Json = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self.chat(message.chat_id),
            "from": self._bot_user(),
        }
        if message.document is not None:
            body["document"] = {
                "file_id": f"document{message.message_id}",
                "file_unique_id": "d",
                "file_name": message.document[0],
                "file_size": len(message.document[1]),
            }
        if message.photo or message.document is not None:
            if message.photo:
                size = {"file_id": f"photo{message.message_id}", "file_unique_id": "u", "width": 1}
                body["photo"] = [{**size, "height": 1}]
            body["caption"] = message.plain
            if message.entities:
                body["caption_entities"] = [entity.json() for entity in message.entities]
        else:
            body["text"] = message.plain
            if message.entities:
                body["entities"] = [entity.json() for entity in message.entities]
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `condition()` holds, checked whenever a call arrives or is answered."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(condition)


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
