"""The platform-neutral vocabulary every handler and front end speaks: Request in, Reply out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from storage.poll_model import Platform

if TYPE_CHECKING:
    from handlers.commands import Registry
    from storage.bot_state import BotStateStore
    from storage.chat_settings import ChatSettingsStore
    from storage.facts import Facts
    from storage.flood_limits import FloodLimitStore
    from storage.market import MarketData
    from storage.market_cache import MarketCacheStore
    from storage.poll_copies import PollCopyStore
    from storage.polls import PollStore
    from storage.refresh_leases import RefreshLeaseStore
    from storage.subscriptions import SubscriptionStore
    from storage.update_claims import UpdateClaimStore

ChatKind = Literal["private", "group"]
Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")

# Telegram's callback_data is at most 64 bytes (Discord's custom_id 100): the stricter wins.
MAX_ACTION_BYTES = 64


class UserError(Exception):
    """A problem the user can fix; carries a catalogue key so the reply is in their language.

    A parameter may be a function of the reply language (a list joined the language's way),
    for code that raises before the language is known, such as a parameter's reader.
    """

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def require_moderator(request: Request) -> None:
    """In groups only moderators may change shared things; in a private chat the user may."""
    if request.chat_kind == "group" and not request.is_admin:
        raise UserError("core.moderators_only")


@dataclass(frozen=True, slots=True)
class Request:
    """One command or button press, as any front end sees it.

    `text` is everything after the command name, untouched, as typed on a text platform;
    Discord sends its slash command's subcommand as `form` and its option values as
    `options` instead. Dispatch reads either into the command's form and typed `params`,
    and fills in `lang` and `tz` from the chat's settings, the platform locale and the
    bot's defaults, so handlers never parse text or decide them.
    """

    platform: Platform
    user_id: str
    chat_id: str
    command: str = ""
    text: str = ""
    chat_kind: ChatKind = "private"
    is_admin: bool = False
    locale: str = ""
    action: str | None = None
    user_name: str = ""
    # The platform's id for this delivery (Telegram callback query id, Discord interaction id)
    # where it has one: a button press that toggles must be ignored when it is redelivered.
    delivery_id: str = ""
    form: str = ""
    options: Mapping[str, Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    # The bot's own request (a tally refresh), not a member's: no cooldown charges it.
    internal: bool = False
    lang: Lang = "en"
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    resolved: bool = False  # lang and tz are filled in


@dataclass(frozen=True, slots=True)
class Table:
    """A grid of plain strings; front ends render it monospace and aligned."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # "l" or "r" per column; numbers read best right-aligned.
    align: tuple[Literal["l", "r"], ...] = ()

    def __post_init__(self) -> None:
        width = len(self.headers)
        if any(len(row) != width for row in self.rows):
            raise ValueError("every table row needs one cell per header")
        if self.align and len(self.align) != width:
            raise ValueError("align needs one entry per column")


@dataclass(frozen=True, slots=True)
class Image:
    """A PNG with the text a reader without images gets instead."""

    png: bytes
    filename: str
    alt: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with the reply (a CSV export): a document on Telegram, a file on Discord,
    a file on disk for the console."""

    data: bytes
    filename: str
    mime: str = "text/csv"


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str

    def __post_init__(self) -> None:
        if len(self.action.encode()) > MAX_ACTION_BYTES:
            raise ValueError(f"button action over {MAX_ACTION_BYTES} bytes: {self.action!r}")


Part = str | Table


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers. Plain text only: front ends escape and format it.

    `parts` are paragraphs and tables in reading order. `edit` replaces the message whose
    button was pressed; `ephemeral` shows the reply to the requester only where the platform
    can; `notice` is a short private line for the presser (a toast on Telegram); `is_error`
    marks an answer to a request that could not be carried out. `refresh_action`, when set,
    is an action whose reply re-renders this message from fresh data: front ends use it to
    refresh a live tally later (throttled) instead of showing a possibly stale edit.
    `droppable` replies may be left unsent where they could only be shown to everyone (a
    repeated "slow down" in a Telegram group): showing them would add to the flood.
    `confidential` replies (voters' names) are for the requester alone and never public:
    where the platform cannot whisper in a group, they go to the requester's private chat.
    """

    title: str = ""
    parts: tuple[Part, ...] = ()
    images: tuple[Image, ...] = ()
    files: tuple[Attachment, ...] = ()
    buttons: tuple[Button, ...] = ()
    edit: bool = False
    ephemeral: bool = False
    notice: str = ""
    is_error: bool = False
    refresh_action: str = ""
    droppable: bool = False
    # The catalogue key of a refusal (core.busy, core.slow_down, ...), for code that must
    # tell refusals apart (metrics, webhook redelivery) without reading the text.
    error_key: str = ""
    confidential: bool = False

    def plain_text(self) -> str:
        """The reply without any table formatting, for logs and assertions."""
        pieces = [self.title] if self.title else []
        for part in self.parts:
            if isinstance(part, Table):
                pieces.append(" | ".join(part.headers))
                pieces.extend(" | ".join(row) for row in part.rows)
            else:
                pieces.append(part)
        return "\n".join(pieces)


def _ignore_vote(platform: str) -> None:
    pass


@dataclass(slots=True)
class Events:
    """What handlers report having done, for observers in the bot layer (the metrics).

    Each hook is one cheap call; none by default, so handlers never depend on an observer.
    """

    # A vote, change or withdrawal that the poll store committed, by the voter's platform.
    vote_recorded: Callable[[str], None] = _ignore_vote


@dataclass(frozen=True, slots=True)
class Services:
    """Long-lived resources, built once by bot.services.build_services for every handler.

    Each store is written once over the neutral SQL layer (storage/sql.py): handlers and
    front ends use them and never build one, so the backend behind them can change.
    """

    facts: Facts
    registry: Registry
    polls: PollStore
    subscriptions: SubscriptionStore
    chat_settings: ChatSettingsStore
    bot_state: BotStateStore
    market_cache: MarketCacheStore
    poll_copies: PollCopyStore
    clock: Callable[[], datetime]
    market: MarketData
    default_lang: Lang = "en"
    default_tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    events: Events = field(default_factory=Events)
    # Telegram webhook workers' claims on update ids (None where nothing claims updates).
    update_claims: UpdateClaimStore | None = None
    # Live tally refreshes shared by every process (None: each process throttles alone).
    refresh_leases: RefreshLeaseStore | None = None
    # Telegram's flood limits kept by the whole fleet (None: by each process alone).
    flood_limits: FloodLimitStore | None = None


Handler = Callable[[Request, Services], Awaitable[Reply]]
