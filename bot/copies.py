"""One tally, every copy: a vote anywhere redraws every message that shows the poll.

Front ends report the poll messages they post and the presses they get; this module keeps
the copies in the poll-copies store and fans a poll's refresh out to the front end that owns
each copy's platform, each message within the TallyRefresher's one-a-second throttle, the
last refresh exact. A copy whose message or chat is gone is forgotten. It knows no platform:
each front end's `refresh_copy` does the drawing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, TypedDict

from bot.dispatch import Dispatch, dispatch, resolve_context
from bot.frontend import ChatUnreachable
from bot.tally import TallyRefresher, Throttle
from handlers.model import Lang, Reply, Request, Services
from handlers.poll_view import refresh_action, refreshed_poll
from storage.poll_copies import PollCopy
from storage.poll_model import Platform

log = logging.getLogger(__name__)

# Copies known to be stored, so that a press on one costs no write; the oldest are forgotten.
KNOWN_COPIES = 8192
# The chat an inline message's refresh is read in: none the bot could see.
INLINE_CHAT = "inline"
# How long a poll's list of copies is reused: a burst of votes reads it once, and a copy
# another process added is seen at most this late.
LIST_MAX_AGE = 1.0


class CopyEditor(Protocol):
    """The part of a front end (bot.frontend.FrontEnd) that redraws its platform's copies."""

    platform: Platform

    async def refresh_copy(self, copy: PollCopy, reply: Reply, lang: Lang) -> None: ...


class Wiring(TypedDict, total=False):
    """How a front end joins the others of its process; the runner passes one `copies` to
    all of them, and a test may give a front end its own dispatcher or throttle instead."""

    dispatcher: Dispatch
    tally: Throttle | None
    copies: CopiesRefresher | None


def joined_copies(
    editor: CopyEditor, services: Services, wiring: Wiring, tally_interval: float
) -> CopiesRefresher:
    """The process's CopiesRefresher (or a new one of the editor's own), with the editor
    attached, so that one throttle covers every copy of a poll on every front end."""
    copies = wiring.get("copies") or CopiesRefresher(
        services,
        dispatcher=wiring.get("dispatcher", dispatch),
        tally=wiring.get("tally") or TallyRefresher(interval=tally_interval),
    )
    copies.attach(editor)
    return copies


def shows_poll(reply: Reply) -> int | None:
    """The poll a reply shows with its buttons (a copy worth keeping), else None."""
    if not reply.buttons or not reply.refresh_action:
        return None
    return refreshed_poll(reply.refresh_action)


class CopiesRefresher:
    """Every front end of the process, and the one throttle their refreshes go through."""

    def __init__(
        self,
        services: Services,
        *,
        dispatcher: Dispatch = dispatch,
        tally: Throttle | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.dispatcher = dispatcher
        self.tally: Throttle = tally or TallyRefresher(interval=1.0)
        self.clock = clock
        self.editors: dict[str, CopyEditor] = {}
        self._known: OrderedDict[tuple[str, str, str], int] = OrderedDict()
        self._lists: dict[int, tuple[float, list[PollCopy]]] = {}
        # Copies being stored: a burst of presses on a message not yet known (after a
        # restart, say) stores it once, the other presses waiting for that one write.
        self._storing: dict[tuple[str, str, str], asyncio.Future[None]] = {}

    def attach(self, editor: CopyEditor) -> None:
        self.editors[editor.platform] = editor

    async def shown(self, copy: PollCopy) -> None:
        """The bot posted (or Telegram reports it placed) a message showing the poll."""
        try:
            await self.services.poll_copies.add(copy, self.services.clock())
        except Exception:
            # The message is out; not refreshing it later is the lesser harm.
            log.exception("could not remember a %s copy of poll %s", copy.platform, copy.poll_id)
            return
        self._remember(copy)
        self._lists.pop(copy.poll_id, None)

    async def pressed(self, copy: PollCopy, *, refused: bool = False) -> None:
        """A press on `copy`: remember it if new, then redraw every copy.

        A refused press (a closed poll, a poll of another chat) redraws the pressed message
        but does not make it a copy: a forged button must leave nothing behind.
        """
        known = self._known.get(copy.key) == copy.poll_id
        if not known and not refused:
            await self._stored_once(copy)
            known = True
        await self.refresh(copy.poll_id)
        if not known:
            self.tally.request(copy.key, functools.partial(self._refresh_one, copy))

    async def refresh(self, poll_id: int) -> None:
        """Redraw every copy of the poll, each within its message's throttle."""
        for copy in await self._copies_of(poll_id):
            if copy.platform in self.editors:
                # Another platform's copies are left to the process that serves it.
                self.tally.request(copy.key, functools.partial(self._refresh_one, copy))

    async def drain(self) -> None:
        await self.tally.drain()

    async def _stored_once(self, copy: PollCopy) -> None:
        storing = self._storing.get(copy.key)
        if storing is None:
            storing = self._storing[copy.key] = asyncio.ensure_future(self.shown(copy))
            storing.add_done_callback(lambda _: self._storing.pop(copy.key, None))
        # Shielded: a press that gives up must not cancel the write the others wait for.
        await asyncio.shield(storing)

    def _remember(self, copy: PollCopy) -> None:
        self._known[copy.key] = copy.poll_id
        self._known.move_to_end(copy.key)
        if len(self._known) > KNOWN_COPIES:
            self._known.popitem(last=False)

    async def _copies_of(self, poll_id: int) -> list[PollCopy]:
        kept = self._lists.get(poll_id)
        now = self.clock()
        if kept is not None and now - kept[0] < LIST_MAX_AGE:
            return kept[1]
        copies = await self.services.poll_copies.of_poll(poll_id)
        self._lists[poll_id] = (now, copies)
        return copies

    async def _refresh_one(self, copy: PollCopy) -> None:
        editor = self.editors.get(copy.platform)
        if editor is None:
            return
        request = await resolve_context(
            Request(
                platform=copy.platform,  # type: ignore[arg-type]
                user_id="",
                chat_id=copy.chat_id or INLINE_CHAT,
                chat_kind="private" if copy.inline else "group",
                locale=copy.locale,
                action=refresh_action(copy.poll_id),
                internal=True,
            ),
            self.services,
        )
        reply = await self.dispatcher(request, self.services)
        if reply.is_error:
            # Chat and action only: never who voted.
            log.warning(
                "refreshing %s in %s chat %s gave an error; message left as is",
                request.action,
                copy.platform,
                copy.chat_id or "(inline)",
            )
            return
        try:
            await editor.refresh_copy(copy, reply, request.lang)
        except ChatUnreachable as gone:
            log.info("forgetting a %s copy of poll %s: %s", copy.platform, copy.poll_id, gone)
            self._known.pop(copy.key, None)
            self._lists.pop(copy.poll_id, None)
            await self.services.poll_copies.forget(copy)
