"""A fake Discord REST API and gateway on 127.0.0.1 that the real discord.py client talks to.

Tests point discord.py's HTTP base (`discord.http.Route.BASE`) and its gateway
(`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`) here with `point_discord_py_at`. The
fake speaks enough of the gateway protocol for a bot that only receives interactions
(HELLO, IDENTIFY -> READY, heartbeats and ACKs, RESUME -> RESUMED, INTERACTION_CREATE) and
records every REST call, including interaction callbacks and webhook follow-ups and edits.
It can answer the next calls to a path with 429s and can drop the gateway connection.

It shards as Discord does (Topics > Gateway > Sharding): a session that IDENTIFYs with
`shard: [id, count]` is that shard, READY and GUILD_CREATE name only its guilds, a guild's
events go to shard (guild_id >> 22) % count, and events without a guild (direct messages)
to shard 0. `/gateway/bot` recommends `recommended_shards`; `add_guild` adds guilds.

It refuses what Discord refuses, with Discord's status and error code: a first response to an
interaction after `response_deadline` seconds (404 10062), a second one (400 40060), a
follow-up or edit with an interaction token older than `token_lifetime` (401 50027), and a
message, autocomplete answer or command tree over Discord's limits (400 50035, "Invalid Form
Body", the limits themselves in tests/fakes/discord_rules.py). Those times are on the fake's
own clock, `now()`, which a test moves forward with `clock_offset` instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from tests.fakes.discord_rules import (
    autocomplete_errors,
    command_tree_errors,
    message_errors,
)

API_PREFIX = "/api/v10"
APPLICATION_ID = 1_100_000_000_000_000_001
BOT_USER_ID = 1_100_000_000_000_000_002
GUILD_ID = 1_100_000_000_000_000_003
CHANNEL_ID = 1_100_000_000_000_000_004
OWNER_ID = 1_100_000_000_000_000_005
MOD_ROLE_ID = 1_100_000_000_000_000_042
# Permission bits as Discord sends them: a member with and without Manage Server.
MANAGE_GUILD = 1 << 5
EVERYDAY_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 31)  # view channel, send, use commands
# Interactions > Receiving and Responding > Responding to an Interaction: "you must send an
# initial response within 3 seconds of receiving the event"; "Interaction tokens are valid for
# 15 minutes".
RESPONSE_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60.0
# Topics > Opcodes and Status Codes > JSON Error Codes.
UNKNOWN_INTERACTION = 10062
ALREADY_ACKNOWLEDGED = 40060
INVALID_WEBHOOK_TOKEN = 50027
INVALID_FORM_BODY = 50035

Json = dict[str, Any]


@dataclass
class RestCall:
    """One REST request as the fake received it; `json` is the JSON body or `payload_json`."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    rate_limited: bool = False  # answered 429
    at: float = 0.0  # arrival on the fake's clock (FakeDiscord.now)
    status: int = 0  # the HTTP status the fake answered with


@dataclass
class GatewaySession:
    socket: web.WebSocketResponse
    identify: Json | None = None
    resumed: bool = False
    heartbeats: int = 0
    resume_requested: bool = False  # the client sent RESUME (perhaps held by the test)
    shard: tuple[int, int] = (0, 1)  # [shard_id, num_shards] from IDENTIFY (or the resumed one)

    @property
    def live(self) -> bool:
        return not self.socket.closed and (self.identify is not None or self.resumed)


def shard_of(guild_id: int, count: int) -> int:
    """Topics > Gateway > Sharding: shard_id = (guild_id >> 22) % num_shards."""
    return (guild_id >> 22) % count


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py decodes a body only when Content-Type is exactly application/json.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _discord_error(
    status: int, code: int, message: str, errors: Json | None = None
) -> web.Response:
    body: Json = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return _json(body, status=status)


def _invalid_form_body(errors: Json) -> web.Response:
    return _discord_error(400, INVALID_FORM_BODY, "Invalid Form Body", errors)


def user_payload(user_id: int, name: str, *, bot: bool = False) -> Json:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


class FakeDiscord:
    """The Discord API at http://127.0.0.1:<port>/api/v10 and its gateway at ws://.../gateway."""

    def __init__(self) -> None:
        self.calls: list[RestCall] = []
        self.sessions: list[GatewaySession] = []
        self.commands: dict[str, list[Json]] = {}
        self.messages: dict[int, Json] = {}
        # Roles of the one guild, by id: what GUILD_CREATE tells the client.
        self.roles: dict[int, str] = {MOD_ROLE_ID: "Moderators"}
        # Guild id -> its one text channel; GUILD_ID is the guild of the tests that need one.
        self.guild_channels: dict[int, int] = {GUILD_ID: CHANNEL_ID}
        # What GET /gateway/bot answers as `shards`, Discord's recommended shard count.
        self.recommended_shards = 1
        # Interaction id -> the [shard_id, num_shards] of the session it was sent on.
        self.delivered_on: dict[int, tuple[int, int]] = {}
        # path regex -> remaining number of 429 answers to give it.
        self.rate_limits: dict[str, int] = {}
        self.retry_after = 0.05
        # channel id -> (HTTP status, Discord error code) for POSTs to that channel.
        self.channel_errors: dict[int, tuple[int, int]] = {}
        # Interaction token -> id of the message that is the interaction's original response.
        self._originals: dict[str, int] = {}
        # Interaction id -> id of the message whose button was pressed.
        self._pressed: dict[int, int] = {}
        self._ids = itertools.count(1_200_000_000_000_000_000)
        self.response_deadline = RESPONSE_DEADLINE
        self.token_lifetime = TOKEN_LIFETIME
        # Seconds added to time.monotonic(): a test moves the fake's clock instead of waiting.
        self.clock_offset = 0.0
        # Interaction id -> when the fake dispatched it; ids that got their initial response.
        self._dispatched: dict[int, float] = {}
        self._acknowledged: set[int] = set()
        self._sequence = itertools.count(2)
        # Every dispatched event with its shard, for replay to a client that resumes.
        self._event_log: list[tuple[int, Json]] = []
        # Cleared by a test to keep resumes waiting (the client is "reconnecting").
        self.resumes_allowed = asyncio.Event()
        self.resumes_allowed.set()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._app = app

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on `port`, or on a free port when it is 0."""
        self._runner = web.AppRunner(self._app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        self.port = server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        for session in self.sessions:
            if not session.socket.closed:
                await session.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def next_id(self) -> int:
        return next(self._ids)

    def now(self) -> float:
        """The fake's clock, by which it judges response deadlines and token lifetimes."""
        return time.monotonic() + self.clock_offset

    @property
    def awaiting_response(self) -> int:
        """How many dispatched interactions have had no accepted initial response yet."""
        return len(self._dispatched.keys() - self._acknowledged)

    # ---- what tests look at ----------------------------------------------------------

    def calls_to(self, method: str, pattern: str) -> list[RestCall]:
        """Recorded calls whose path (after /api/v10) fully matches the regex `pattern`."""
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    async def wait_for(self, check: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `check()` returns something truthy (re-checked after every event)."""

        async def wait() -> Any:
            async with self._changed:
                while not (result := check()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(wait(), timeout)

    async def wait_for_call(
        self, method: str, pattern: str, count: int = 1, timeout: float = 5.0
    ) -> list[RestCall]:
        calls: list[RestCall] = await self.wait_for(
            lambda: (found := self.calls_to(method, pattern)) and len(found) >= count and found,
            timeout,
        )
        return calls

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---- gateway ---------------------------------------------------------------------

    @property
    def live_session(self) -> GatewaySession | None:
        for session in reversed(self.sessions):
            if session.live:
                return session
        return None

    def session_of_shard(self, shard_id: int) -> GatewaySession | None:
        """The open session of that shard (of the shard count the last session uses)."""
        latest = self.live_session
        if latest is None:
            return None
        # The live session first: a subclass may choose it (the bench's two clients take turns).
        if latest.shard == (shard_id, latest.shard[1]):
            return latest
        for session in reversed(self.sessions):
            if session.live and session.shard == (shard_id, latest.shard[1]):
                return session
        return None

    def add_guild(self, guild_id: int, channel_id: int) -> None:
        self.guild_channels[guild_id] = channel_id

    def shard_count(self) -> int:
        latest = self.live_session or (self.sessions[-1] if self.sessions else None)
        return latest.shard[1] if latest is not None else 1

    async def wait_until_connected(self, sessions: int = 1, timeout: float = 5.0) -> None:
        """Until `sessions` gateway sessions have identified or resumed, the last still open."""
        await self.wait_for(
            lambda: (
                len([s for s in self.sessions if s.identify or s.resumed]) >= sessions
                and self.live_session
            ),
            timeout,
        )

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        session = GatewaySession(socket)
        self.sessions.append(session)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41_250}})
        async for message in socket:
            if message.type != web.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            op = frame.get("op")
            if op == 1:
                session.heartbeats += 1
                await socket.send_json({"op": 11})
            elif op == 2:
                session.identify = frame["d"]
                shard_id, count = frame["d"].get("shard") or (0, 1)
                session.shard = (int(shard_id), int(count))
                guilds = [g for g in self.guild_channels if shard_of(g, count) == shard_id]
                ready = self._ready(session.shard, guilds)
                await socket.send_json({"op": 0, "t": "READY", "s": 1, "d": ready})
                # As with the guilds intent: the full guild (roles included) follows READY.
                for guild in guilds:
                    await socket.send_json(
                        {
                            "op": 0,
                            "t": "GUILD_CREATE",
                            "s": next(self._sequence),
                            "d": self._guild(guild),
                        }
                    )
            elif op == 6:
                session.resume_requested = True
                await self._notify()
                await self.resumes_allowed.wait()
                session.resumed = True
                session.shard = _shard_of_session(str(frame["d"].get("session_id", "")))
                # Discord replays what the shard missed, in order, then says RESUMED.
                seen = int(frame["d"].get("seq") or 0)
                for shard, missed in self._event_log:
                    if shard == session.shard[0] and missed["s"] > seen:
                        await socket.send_json(missed)
                await socket.send_json(
                    {"op": 0, "t": "RESUMED", "s": next(self._sequence), "d": {}}
                )
            await self._notify()
        await self._notify()
        return socket

    def _ready(self, shard: tuple[int, int], guilds: list[int]) -> Json:
        return {
            "v": 10,
            "user": user_payload(BOT_USER_ID, "dsbot", bot=True),
            "guilds": [{"id": str(guild), "unavailable": True} for guild in guilds],
            "session_id": f"fake-session-{shard[0]}-{shard[1]}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APPLICATION_ID), "flags": 0},
            "shard": list(shard),
        }

    def _guild(self, guild_id: int) -> Json:
        everyone = {"id": str(guild_id), "name": "@everyone", "permissions": "0"}
        roles = [
            {"id": str(role_id), "name": name, "permissions": "0"}
            for role_id, name in self.roles.items()
        ]
        for role in [everyone, *roles]:
            role.update(
                {"position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False}
            )
        return {
            "id": str(guild_id),
            "name": "DeepSeek moment",
            "owner_id": str(OWNER_ID),
            "roles": [everyone, *roles],
            "channels": [
                {
                    "id": str(self.guild_channels[guild_id]),
                    "type": 0,
                    "name": "general",
                    "position": 0,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                }
            ],
            "members": [],
            "member_count": 2,
            "large": False,
            "unavailable": False,
            "features": [],
            "emojis": [],
            "stickers": [],
            "joined_at": "2025-01-27T00:00:00+00:00",
        }

    async def send_event(self, event: str, data: Json) -> GatewaySession | None:
        """Send an event on the shard of its guild (shard 0 without one); the session, or None
        while that shard is reconnecting (it gets the event when it resumes)."""
        guild = data.get("guild_id")
        shard = shard_of(int(guild), self.shard_count()) if guild else 0
        session = self.session_of_shard(shard)
        frame = {"op": 0, "t": event, "s": next(self._sequence), "d": data}
        self._event_log.append((shard, frame))
        if session is None:
            if not self.sessions:
                raise RuntimeError("no gateway session is connected")
            return None
        await session.socket.send_json(frame)
        return session

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the gateway as Discord does on a hiccup; a client should reconnect."""
        session = self.live_session
        if session is not None:
            await session.socket.close(code=code)

    # ---- interactions ----------------------------------------------------------------

    def _interaction(
        self,
        kind: int,
        data: Json,
        *,
        user_id: int,
        locale: str,
        permissions: int,
        roles: tuple[int, ...],
        guild: bool,
        message: Json | None = None,
        guild_id: int = GUILD_ID,
    ) -> Json:
        interaction_id = self.next_id()
        channel_id = self.guild_channels[guild_id] if guild else CHANNEL_ID
        user = user_payload(user_id, f"user{user_id % 1000}")
        payload: Json = {
            "id": str(interaction_id),
            "application_id": str(APPLICATION_ID),
            "type": kind,
            "data": data,
            "token": f"itoken-{interaction_id}",
            "version": 1,
            "locale": locale,
            "channel_id": str(channel_id),
            "app_permissions": str(EVERYDAY_PERMISSIONS),
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0 if guild else 1,
        }
        if guild:
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "en-US"
            payload["channel"] = {
                "id": str(channel_id),
                "type": 0,
                "guild_id": str(guild_id),
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            }
            payload["member"] = {
                "user": user,
                "roles": [str(role) for role in roles],
                "permissions": str(permissions),
                "joined_at": "2025-01-27T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "nick": None,
            }
        else:
            payload["channel"] = {"id": str(CHANNEL_ID), "type": 1, "recipients": [user]}
            payload["user"] = user
        if message is not None:
            payload["message"] = message
        return payload

    async def slash(
        self,
        name: str,
        options: list[Json] | None = None,
        *,
        user_id: int = 1_000_000_000_000_000_777,
        locale: str = "en-US",
        permissions: int = EVERYDAY_PERMISSIONS,
        roles: tuple[int, ...] = (),
        guild: bool = True,
        guild_id: int = GUILD_ID,
    ) -> Json:
        """Send a slash-command INTERACTION_CREATE as if a user ran /name with `options`
        (in `guild_id`, on its shard, or in a direct message when `guild` is False)."""
        data: Json = {"id": str(self._command_id(name)), "name": name, "type": 1}
        if options:
            data["options"] = options
        payload = self._interaction(
            2,
            data,
            user_id=user_id,
            locale=locale,
            permissions=permissions,
            roles=roles,
            guild=guild,
            guild_id=guild_id,
        )
        await self._dispatch_interaction(payload)
        return payload

    async def autocomplete(self, name: str, options: list[Json], *, locale: str = "en-US") -> Json:
        data: Json = {"id": str(self._command_id(name)), "name": name, "type": 1}
        data["options"] = options
        payload = self._interaction(
            4,
            data,
            user_id=1_000_000_000_000_000_777,
            locale=locale,
            permissions=EVERYDAY_PERMISSIONS,
            roles=(),
            guild=True,
        )
        await self._dispatch_interaction(payload)
        return payload

    async def press(
        self,
        message: Json,
        custom_id: str,
        *,
        user_id: int = 1_000_000_000_000_000_777,
        locale: str = "en-US",
        permissions: int = EVERYDAY_PERMISSIONS,
    ) -> Json:
        """Send a button press on `message` (as the fake stored it) for `custom_id`."""
        payload = self._interaction(
            3,
            {"custom_id": custom_id, "component_type": 2},
            user_id=user_id,
            locale=locale,
            permissions=permissions,
            roles=(),
            guild=True,
            message=message,
        )
        self._pressed[int(payload["id"])] = int(message["id"])
        await self._dispatch_interaction(payload)
        return payload

    async def _dispatch_interaction(self, payload: Json) -> None:
        # Discord's clock starts when it creates the interaction, connected client or not.
        self._dispatched[int(payload["id"])] = self.now()
        session = await self.send_event("INTERACTION_CREATE", payload)
        if session is not None:
            self.delivered_on[int(payload["id"])] = session.shard

    def _command_id(self, name: str) -> int:
        for commands in self.commands.values():
            for command in commands:
                if command["name"] == name:
                    return int(command["id"])
        return 1_300_000_000_000_000_000

    # ---- REST ------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body: Any = None
        files: list[tuple[str, bytes]] = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                assert isinstance(part, aiohttp.BodyPartReader)
                content = await part.read()
                if part.name == "payload_json":
                    body = json.loads(content)
                else:
                    files.append((part.filename or "", bytes(content)))
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        call = RestCall(
            request.method,
            path,
            dict(request.query),
            body,
            files,
            dict(request.headers),
            at=self.now(),
        )
        self.calls.append(call)
        try:
            for pattern, remaining in self.rate_limits.items():
                if remaining > 0 and re.fullmatch(pattern, path):
                    self.rate_limits[pattern] = remaining - 1
                    call.rate_limited = True
                    call.status = 429
                    # discord.py only trusts a 429 that came through Discord's proxy (Via).
                    return _json(
                        {
                            "message": "You are being rate limited.",
                            "retry_after": self.retry_after,
                            "global": False,
                        },
                        status=429,
                        headers={
                            "Via": "1.1 google",
                            "Retry-After": "1",
                            "X-RateLimit-Scope": "user",
                        },
                    )
            response = await self._answer(call)
            call.status = response.status
            return response
        finally:
            await self._notify()

    async def _answer(self, call: RestCall) -> web.StreamResponse:
        method, path = call.method, call.path
        if method == "GET" and path == "/users/@me":
            return _json(user_payload(BOT_USER_ID, "dsbot", bot=True))
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(self._application())
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": self.recommended_shards,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        if match := re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", path):
            scope = match[2] or "global"
            if method == "PUT":
                if errors := command_tree_errors(call.json or []):
                    return _invalid_form_body(errors)
                self.commands[scope] = [self._stored_command(c, match[2]) for c in call.json]
            return _json(self.commands.get(scope, []))
        if method == "POST" and (
            match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)
        ):
            return self._respond(int(match[1]), match[2], call)
        if match := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/(@original|\d+))?", path):
            token, which = match[2], match[3]
            if self._token_expired(token):
                return _discord_error(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
            if method in ("POST", "PATCH") and (errors := message_errors(call.json)):
                return _invalid_form_body(errors)
            if method == "POST" and which is None:
                return _json(self._new_message(call.json or {}, token=token))
            if method == "PATCH" and which is not None:
                return self._edit(self._message_id_for(token, which), call.json or {})
            if method == "DELETE" and which is not None:
                self.messages.pop(self._message_id_for(token, which), None)
                return web.Response(status=204)
            if method == "GET" and which is not None:
                return _json(self.messages[self._message_id_for(token, which)])
        if match := re.fullmatch(r"/channels/(\d+)/messages", path):
            channel = int(match[1])
            if channel in self.channel_errors:
                status, code = self.channel_errors[channel]
                return _json({"message": "error", "code": code}, status=status)
            if method == "POST":
                if errors := message_errors(call.json):
                    return _invalid_form_body(errors)
                return _json(self._new_message(call.json or {}, channel=channel))
        if method == "PATCH" and (match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)):
            if errors := message_errors(call.json):
                return _invalid_form_body(errors)
            return self._edit(int(match[2]), call.json or {})
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _application(self) -> Json:
        return {
            "id": str(APPLICATION_ID),
            "name": "dsbot",
            "icon": None,
            "description": "",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user_payload(OWNER_ID, "owner"),
            "verify_key": "00",
            "team": None,
            "flags": 0,
            "summary": "",
        }

    def _stored_command(self, command: Json, guild: str | None) -> Json:
        stored = {
            "id": str(self.next_id()),
            "application_id": str(APPLICATION_ID),
            "version": str(self.next_id()),
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            "type": 1,
            **command,
        }
        if guild:
            stored["guild_id"] = guild
        return stored

    def _message_id_for(self, token: str, which: str) -> int:
        if which == "@original":
            return self._originals[token]
        return int(which)

    def _token_expired(self, token: str) -> bool:
        dispatched = self._dispatched.get(_interaction_of(token))
        return dispatched is not None and self.now() - dispatched > self.token_lifetime

    def _respond(self, interaction_id: int, token: str, call: RestCall) -> web.Response:
        """An initial response: in time, only once, and within Discord's payload limits."""
        dispatched = self._dispatched.get(interaction_id)
        if dispatched is None or self.now() - dispatched > self.response_deadline:
            return _discord_error(404, UNKNOWN_INTERACTION, "Unknown interaction")
        if interaction_id in self._acknowledged:
            return _discord_error(
                400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged."
            )
        kind = (call.json or {}).get("type")
        data = (call.json or {}).get("data")
        # Interaction Response Object > Interaction Callback Data Structure: messages (4, 7)
        # take a message's fields and limits, autocomplete (8) its choices.
        if kind in (4, 7):
            errors = message_errors(data)
        elif kind == 8:
            errors = autocomplete_errors(data)
        else:
            errors = {}
        if errors:
            return _invalid_form_body({"data": errors})
        self._acknowledged.add(interaction_id)
        return _json(self._callback(interaction_id, token, call))

    def _callback(self, interaction_id: int, token: str, call: RestCall) -> Json:
        kind = call.json["type"]
        data = call.json.get("data") or {}
        ephemeral = bool(data.get("flags", 0) & 64)
        answer: Json = {
            "interaction": {
                "id": str(interaction_id),
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": ephemeral,
            }
        }
        if kind in (4, 5):
            message = self._new_message(data if kind == 4 else {"flags": data.get("flags", 0)})
            self._originals[token] = int(message["id"])
            answer["interaction"]["response_message_id"] = message["id"]
            answer["resource"] = {"type": kind, "message": message}
        elif kind == 7 or kind == 6:
            # The pressed message is what an UPDATE_MESSAGE changes.
            pressed = self._pressed.get(interaction_id)
            if pressed is not None:
                self._originals[token] = pressed
                if kind == 7:
                    self._apply_edit(pressed, data)
                    answer["resource"] = {"type": kind, "message": self.messages[pressed]}
        return answer

    def _new_message(
        self, data: Json, *, channel: int = CHANNEL_ID, token: str | None = None
    ) -> Json:
        message_id = self.next_id()
        message: Json = {
            "id": str(message_id),
            "channel_id": str(channel),
            "author": user_payload(BOT_USER_ID, "dsbot", bot=True),
            "content": data.get("content") or "",
            "timestamp": "2026-11-30T15:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [
                {
                    "id": str(self.next_id()),
                    "filename": attachment.get("filename", "file"),
                    "size": 1,
                    "url": f"http://127.0.0.1:{self.port}/attachments/{attachment.get('filename')}",
                    "proxy_url": f"http://127.0.0.1:{self.port}/attachments/x",
                }
                for attachment in data.get("attachments", [])
            ],
            "embeds": data.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "components": data.get("components") or [],
            "flags": data.get("flags", 0),
            "application_id": str(APPLICATION_ID),
        }
        self.messages[message_id] = message
        return message

    def _apply_edit(self, message_id: int, data: Json) -> None:
        message = self.messages[message_id]
        for key in ("content", "embeds", "components"):
            if key in data and data[key] is not None:
                message[key] = data[key]
        message["edited_timestamp"] = "2026-11-30T15:00:01+00:00"

    def _edit(self, message_id: int, data: Json) -> web.Response:
        if message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        self._apply_edit(message_id, data)
        return _json(self.messages[message_id])


def _shard_of_session(session_id: str) -> tuple[int, int]:
    """The shard a session id of the fake's (`fake-session-<id>-<count>`) was made for."""
    parts = session_id.rsplit("-", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return 0, 1


def _interaction_of(token: str) -> int:
    """The interaction id inside one of the fake's tokens (`itoken-<id>`), else 0."""
    _, _, number = token.partition("itoken-")
    return int(number) if number.isdigit() else 0


@contextlib.contextmanager
def point_discord_py_at(fake: FakeDiscord) -> Iterator[None]:
    """Make every discord.py client in this process use the fake's API and gateway."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
