"""The reply language and time zone each chat chose with /settings, on either backend."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from storage.sql import Sql, placeholder_list


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
# Chats read by one statement at most: SQLite allows 999 parameters in its oldest builds.
MAX_BATCH = 500


@dataclass(slots=True)
class _Batch:
    """Chats of one platform waiting to be read together, and the task that reads them."""

    platform: str
    chat_ids: list[str] = field(default_factory=list)
    task: asyncio.Task[dict[str, ChatSettings]] | None = None


class ChatSettingsStore:
    """The chat_settings table; each method is one statement, so one transaction.

    Reads are remembered for `max_age` seconds and forgotten by this store's own writes.
    Reads that miss while the event loop is busy share one statement: a burst of updates
    from new chats is one trip to aiosqlite's thread, not one per chat.
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
        # The batch each chat being read is in; a chat is in at most one.
        self._reading: dict[ChatKey, _Batch] = {}
        # Per platform, the batch still taking chats (its task has not started yet).
        self._open: dict[str, _Batch] = {}

    async def get(self, platform: str, chat_id: str) -> ChatSettings:
        key = (platform, chat_id)
        known = self._known.get(key)
        if known is not None and self._clock() - known[0] < self.max_age:
            self._known.move_to_end(key)
            return known[1]
        batch = self._reading.get(key)
        if batch is None:
            batch = self._open.get(platform)
            if batch is None or len(batch.chat_ids) >= MAX_BATCH:
                batch = self._open[platform] = _Batch(platform)
                batch.task = asyncio.ensure_future(self._read(batch))
            batch.chat_ids.append(chat_id)
            self._reading[key] = batch
        assert batch.task is not None
        # Shielded: a reader that gives up must not cancel the statement the others wait for.
        found = await asyncio.shield(batch.task)
        return found[chat_id]

    async def _read(self, batch: _Batch) -> dict[str, ChatSettings]:
        # Runs once the chats that missed meanwhile have joined; later ones start a new batch.
        if self._open.get(batch.platform) is batch:
            del self._open[batch.platform]
        started = self._clock()
        keys = [(batch.platform, chat_id) for chat_id in batch.chat_ids]
        try:
            # One round trip, outside the lock, so a request never waits for a vote batch's
            # commit. One statement cannot see a half-written settings change.
            marks = placeholder_list(len(batch.chat_ids))
            rows = await self.db.fetch_all(
                "SELECT lang, tz, chat_id FROM chat_settings "
                f"WHERE platform = ? AND chat_id IN ({marks})",
                (batch.platform, *batch.chat_ids),
            )
        finally:
            # A chat no longer read by this batch had a write finish while the statement ran
            # (a pool's connections answer in any order): what it read may predate the write,
            # so it is returned but not kept.
            current = [key for key in keys if self._reading.get(key) is batch]
            for key in current:
                del self._reading[key]
        found = dict.fromkeys(batch.chat_ids, ChatSettings())
        for lang, tz, chat_id in rows:
            found[chat_id] = ChatSettings(lang=lang, tz=tz)
        # Remembered now, before a write queued behind this read on the one connection can
        # finish: aiosqlite answers in order, so that write's _forget comes after this.
        for key in current:
            self._known[key] = (started, found[key[1]])
            self._known.move_to_end(key)
        while len(self._known) > MAX_CHATS:
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
