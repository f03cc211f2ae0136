"""What a poll is, as every poll store hands it out: polls, tallies, outcomes and errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

DEEPSEEK_POLL_ID = 1
MIN_OPTIONS, MAX_OPTIONS = 2, 10
# Every platform dsbot serves, in the order tallies list them: the one list of them.
Platform = Literal["telegram", "discord", "console"]
PLATFORMS: tuple[Platform, ...] = get_args(Platform)


class PollError(Exception):
    """A poll operation that cannot be carried out as asked."""


class PollNotFound(PollError):
    """No such poll, or it belongs to another chat (the two are not told apart on purpose)."""


class PollClosed(PollError):
    def __init__(self, poll: Poll) -> None:
        super().__init__(f"poll {poll.id} is closed")
        self.poll = poll


class NoSuchOption(PollError):
    def __init__(self, poll: Poll, index: int) -> None:
        super().__init__(f"poll {poll.id} has no option {index}")
        self.poll = poll
        self.index = index


class ChatHasOpenPoll(PollError):
    def __init__(self, poll: Poll) -> None:
        super().__init__(f"poll {poll.id} is still open in this chat")
        self.poll = poll


class TooManyChoices(PollError):
    def __init__(self, poll: Poll) -> None:
        super().__init__(f"poll {poll.id} takes one choice")
        self.poll = poll


class GlobalPollFixed(PollError):
    """The shared polls belong to no chat, so no chat's moderators may close them."""


def choice_bits(options: Iterable[int]) -> int:
    """A set of option indexes as bits (bit i = option i), the way a vote is stored."""
    return sum(1 << index for index in set(options))


def choice_indexes(bits: int) -> frozenset[int]:
    return frozenset(index for index in range(MAX_OPTIONS) if bits >> index & 1)


@dataclass(frozen=True, slots=True)
class PollOption:
    """One answer of a poll; only the bot's own polls carry a Chinese label."""

    index: int
    label: str
    label_zh: str | None = None


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    platform: str | None
    chat_id: str | None
    question: str
    question_zh: str | None
    options: tuple[PollOption, ...]
    multi: bool
    created_by: str | None
    created_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None
    # Counts stay unseen by everyone until the poll closes (--hide-results).
    hide_results: bool = False
    # Moderators may list who voted for what (--public); otherwise the poll is anonymous.
    public: bool = False

    @property
    def is_global(self) -> bool:
        return self.platform is None

    def belongs_to(self, platform: str, chat_id: str) -> bool:
        return self.is_global or (self.platform == platform and self.chat_id == chat_id)

    def ended_at(self, now: datetime) -> datetime | None:
        """When the poll closed, or None while it is open; expiry counts without a sweep."""
        if self.closed_at is not None:
            return self.closed_at
        if self.closes_at is not None and self.closes_at <= now:
            return self.closes_at
        return None

    def is_open(self, now: datetime) -> bool:
        return self.ended_at(now) is None

    def results_shown(self, now: datetime) -> bool:
        return not self.hide_results or not self.is_open(now)


@dataclass(frozen=True, slots=True)
class PlatformTally:
    platform: str
    voters: int
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Tally:
    poll_id: int
    voters: int
    counts: tuple[int, ...]
    by_platform: tuple[PlatformTally, ...] = ()


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    """What the voter now holds, and the tally right after the commit that recorded it.

    `changed` is False when the vote was already what was asked, or the press a redelivery.
    """

    poll: Poll
    choices: frozenset[int]
    changed: bool
    tally: Tally


@dataclass(frozen=True, slots=True)
class PollVoter:
    """One voter of a public poll: the display name the platform gave at their last vote."""

    name: str
    platform: str
    choices: frozenset[int]


@dataclass(frozen=True, slots=True)
class PollSummary:
    poll: Poll
    voters: int
