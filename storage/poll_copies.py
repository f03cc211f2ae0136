"""Every message that shows a poll: chat messages and Telegram inline messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.sql import Sql
from storage.timestamps import to_db

# A locale is a short code ("en", "zh-hans"); anything longer is not one worth keeping.
MAX_LOCALE = 16


@dataclass(frozen=True, slots=True)
class PollCopy:
    """One message showing poll `poll_id`. A Telegram inline message has no chat (`chat_id`
    is "") and its `message_id` is the inline_message_id."""

    poll_id: int
    platform: str
    chat_id: str
    message_id: str
    locale: str = ""

    @property
    def inline(self) -> bool:
        return not self.chat_id

    @property
    def key(self) -> tuple[str, str, str]:
        """The message, whichever poll it shows: what a refresh throttle is keyed by."""
        return (self.platform, self.chat_id, self.message_id)


class PollCopyStore:
    """The poll_copies table; each method is one statement, so one transaction."""

    def __init__(self, db: Sql) -> None:
        self.db = db

    async def add(self, copy: PollCopy, now: datetime) -> bool:
        """Remember a copy; False when that message was known already (it is left as it was)."""
        async with self.db.transaction() as tx:
            inserted = await tx.execute(
                "INSERT INTO poll_copies "
                "(platform, chat_id, message_id, poll_id, locale, shown_at) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, chat_id, message_id) DO NOTHING",
                (
                    copy.platform,
                    copy.chat_id,
                    copy.message_id,
                    copy.poll_id,
                    copy.locale[:MAX_LOCALE],
                    to_db(now),
                ),
            )
            return inserted == 1

    async def of_poll(self, poll_id: int) -> list[PollCopy]:
        """Every known copy of the poll, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT platform, chat_id, message_id, locale FROM poll_copies "
            "WHERE poll_id = ? ORDER BY shown_at, platform, chat_id, message_id",
            (poll_id,),
        )
        return [
            PollCopy(poll_id, str(platform), str(chat), str(message), str(locale))
            for platform, chat, message, locale in rows
        ]

    async def chats_of_poll(self, poll_id: int) -> list[tuple[str, str]]:
        """(platform, chat_id) of every chat that showed the poll, each once; inline messages,
        which have no chat to post to, are left out."""
        rows = await self.db.fetch_all(
            "SELECT platform, chat_id FROM poll_copies WHERE poll_id = ? AND chat_id <> '' "
            "GROUP BY platform, chat_id ORDER BY MIN(shown_at), platform, chat_id",
            (poll_id,),
        )
        return [(str(platform), str(chat)) for platform, chat in rows]

    async def forget(self, copy: PollCopy) -> None:
        """The message was deleted or the chat is gone: stop refreshing it."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM poll_copies WHERE platform = ? AND chat_id = ? AND message_id = ?",
                (copy.platform, copy.chat_id, copy.message_id),
            )
