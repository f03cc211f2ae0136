"""The store interfaces: what every backend (SQLite now, PostgreSQL later) must provide.

Services' fields are typed with these Protocols, so handlers and front ends depend on the
contract, never on a backend. Every method is one transaction of its backend, and the
suites in tests/storage/contracts/ check each one against every backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from storage.chat_settings import ChatSettings
from storage.market_cache import CachedLatest
from storage.poll_copies import PollCopy
from storage.poll_model import Poll, PollSummary, Tally, VoteOutcome
from storage.subscriptions import Schedule, Subscription


class PollStore(Protocol):
    """Polls, their options and one vote per person per poll."""

    @property
    def batches(self) -> int:
        """How many vote transactions were written so far (several votes may share one)."""
        ...

    async def get(self, poll_id: int) -> Poll | None: ...

    async def get_with_tally(self, poll_id: int) -> tuple[Poll, Tally] | None: ...

    async def current(
        self,
        platform: str,
        chat_id: str,
        now: datetime,
        closed_within: timedelta = ...,
    ) -> tuple[Poll, Tally]: ...

    async def list_for_chat(
        self, platform: str, chat_id: str, limit: int = ...
    ) -> list[PollSummary]: ...

    async def create(
        self,
        *,
        platform: str,
        chat_id: str,
        question: str,
        options: Sequence[str],
        multi: bool,
        closes_at: datetime | None,
        created_by: str,
        now: datetime,
    ) -> Poll: ...

    async def close(self, poll_id: int, platform: str, chat_id: str, now: datetime) -> Poll: ...

    async def close_expired(self, now: datetime) -> list[Poll]: ...

    async def press(
        self,
        poll_id: int,
        *,
        platform: str,
        chat_id: str,
        user_id: str,
        option: int,
        now: datetime,
        delivery_id: str = ...,
    ) -> VoteOutcome: ...

    async def set_choices(
        self,
        poll_id: int,
        *,
        platform: str,
        chat_id: str,
        user_id: str,
        options: Iterable[int],
        now: datetime,
    ) -> VoteOutcome: ...


class PollCopyStore(Protocol):
    """Every message that shows a poll, so a vote anywhere refreshes each of them."""

    async def add(self, copy: PollCopy, now: datetime) -> bool: ...

    async def of_poll(self, poll_id: int) -> list[PollCopy]: ...

    async def chats_of_poll(self, poll_id: int) -> list[tuple[str, str]]: ...

    async def forget(self, copy: PollCopy) -> None: ...


class SubscriptionStore(Protocol):
    """Who gets the after-close recap, when, and which session they last got."""

    async def subscribe(
        self,
        platform: str,
        chat_id: str,
        schedule: Schedule,
        lang: str,
        by: str | None,
        now: datetime,
    ) -> Subscription: ...

    async def unsubscribe(self, platform: str, chat_id: str) -> bool: ...

    async def get(self, platform: str, chat_id: str) -> Subscription | None: ...

    async def all(self) -> list[Subscription]: ...

    async def schedules(self) -> set[tuple[str, str]]: ...

    async def claim(self, platform: str, chat_id: str, session: date) -> bool: ...

    async def confirm(self, platform: str, chat_id: str, session: date, at: datetime) -> None: ...

    async def release(
        self, platform: str, chat_id: str, session: date, previous: date | None
    ) -> None: ...

    async def admit_request(
        self, platform: str, chat_id: str, now: datetime, cooldown: timedelta
    ) -> datetime | None: ...


class ChatSettingsStore(Protocol):
    """The reply language and time zone a chat chose; None means "not chosen"."""

    async def get(self, platform: str, chat_id: str) -> ChatSettings: ...

    async def set_lang(self, platform: str, chat_id: str, lang: str | None) -> None: ...

    async def set_tz(self, platform: str, chat_id: str, tz: str | None) -> None: ...


class BotStateStore(Protocol):
    """Small facts the bot keeps about itself between runs, by key."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, *, now: datetime | None = None) -> None: ...


class MarketCacheStore(Protocol):
    """Market data fetched upstream, kept across restarts."""

    async def closes(
        self, ticker: str, start: date, end: date
    ) -> list[tuple[date, float]] | None: ...

    async def store_closes(
        self,
        ticker: str,
        start: date,
        end: date,
        closes: list[tuple[date, float]],
        fetched_at: datetime,
    ) -> None: ...

    async def latest(self, ticker: str) -> CachedLatest | None: ...

    async def store_latest(self, ticker: str, latest: CachedLatest) -> None: ...

    async def unknown_since(self, ticker: str) -> datetime | None: ...

    async def store_unknown(self, ticker: str, checked_at: datetime) -> None: ...

    async def chart(self, key: str) -> bytes | None: ...

    async def store_chart(self, key: str, png: bytes, created_at: datetime) -> None: ...
