"""The reply language and time zone each chat chose with /settings, on either backend."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from storage.sql import Sql


@dataclass(frozen=True, slots=True)
class ChatSettings:
    lang: str | None = None
    tz: str | None = None


ChatKey = tuple[str, str]
# How long a read is reused. Every request reads its chat's settings, and under a burst each
# read is a trip to aiosqlite's thread that waits for the GIL behind the event loop. A write
# through this store is seen at once; a write by another process sharing the database (a
# second bot, an admin's sqlite3 shell) is seen at most this late. Kept short on purpose:
# several processes may share one database later.
MAX_AGE = 2.0
# Chats remembered at most; the least recently read are forgotten first.
MAX_CHATS = 4096


class ChatSettingsStore:
    """The chat_settings table; each method is one statement, so one transaction.

    Reads are remembered for `max_age` seconds and forgotten by this store's own writes;
    concurrent reads of one chat share a single statement.
    """

    def __init__(
        self,
        db: Sql,
        *,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.max_age = max_age
        self._clock = clock
        self._known: OrderedDict[ChatKey, tuple[float, ChatSettings]] = OrderedDict()
        self._reading: dict[ChatKey, asyncio.Task[ChatSettings]] = {}

    async def get(self, platform: str, chat_id: str) -> ChatSettings:
        key = (platform, chat_id)
        known = self._known.get(key)
        if known is not None and self._clock() - known[0] < self.max_age:
            self._known.move_to_end(key)
            return known[1]
        reading = self._reading.get(key)
        if reading is None:
            reading = self._reading[key] = asyncio.ensure_future(self._read(key))
        # Shielded: a reader that gives up must not cancel the statement the others wait for.
        return await asyncio.shield(reading)

    async def _read(self, key: ChatKey) -> ChatSettings:
        started = self._clock()
        try:
            # One round trip to aiosqlite's thread instead of three (execute, fetchone,
            # close), and outside the lock, so a request never waits for a vote batch's
            # commit. One statement on one row cannot see a half-written settings change.
            rows = await self.db.fetch_all(
                "SELECT lang, tz FROM chat_settings WHERE platform = ? AND chat_id = ?", key
            )
        finally:
            current = self._reading.get(key) is asyncio.current_task()
            if current:
                del self._reading[key]
        found = ChatSettings(lang=rows[0][0], tz=rows[0][1]) if rows else ChatSettings()
        if not current:
            # A write of this chat finished while the statement ran (a pool's connections
            # answer in any order): what it read may predate the write, so it is not kept.
            return found
        # Remembered now, before a write queued behind this read on the one connection can
        # finish: aiosqlite answers in order, so that write's _forget comes after this.
        self._known[key] = (started, found)
        self._known.move_to_end(key)
        if len(self._known) > MAX_CHATS:
            self._known.popitem(last=False)
        return found

    async def set_lang(self, platform: str, chat_id: str, lang: str | None) -> None:
        await self._set(platform, chat_id, "lang", lang)

    async def set_tz(self, platform: str, chat_id: str, tz: str | None) -> None:
        await self._set(platform, chat_id, "tz", tz)

    async def _set(
        self, platform: str, chat_id: str, column: Literal["lang", "tz"], value: str | None
    ) -> None:
        try:
            async with self.db.transaction() as tx:
                # `column` is one of two literals, never text from a member.
                await tx.execute(
                    f"INSERT INTO chat_settings (platform, chat_id, {column}) VALUES (?, ?, ?) "
                    f"ON CONFLICT (platform, chat_id) DO UPDATE SET {column} = excluded.{column}",
                    (platform, chat_id, value),
                )
        finally:
            self._forget((platform, chat_id))

    def _forget(self, key: ChatKey) -> None:
        """After a write, or a failed one (it may have committed): read afresh."""
        self._known.pop(key, None)
        self._reading.pop(key, None)
