"""The one delivery policy: what a front end does with the Reply to a command or a press.

Handlers say what they mean (an edit of the pressed message, a private notice, an answer
for the chat); this module turns that into the steps a front end takes, the same on every
platform, so a rule is decided once: a refused press on a closed poll redraws it without
buttons everywhere, a repeated "slow down" is not posted where it could only be public.
Front ends only carry the steps out, each in its platform's way.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from handlers.model import ChatKind, Reply


@dataclass(frozen=True, slots=True)
class Delivery:
    """The steps for one reply, in this order; an empty Delivery sends nothing.

    `notice` is a short line only the requester sees (a Telegram toast, a Discord ephemeral
    message), shown as an alert when `alert`. `edit` replaces the pressed message now;
    `refresh` is the action whose reply replaces it later, throttled per message, from fresh
    data. `post` goes to the chat for everyone; `private` to the requester alone: an
    ephemeral message on Discord, the requester's private chat with the bot on Telegram.
    """

    notice: str = ""
    alert: bool = False
    edit: Reply | None = None
    refresh: str = ""
    post: Reply | None = None
    private: Reply | None = None


def has_content(reply: Reply) -> bool:
    return bool(reply.title or reply.parts or reply.images or reply.files or reply.buttons)


def for_command(reply: Reply, *, chat_kind: ChatKind, can_whisper: bool) -> Delivery:
    """A command's reply. `can_whisper`: the platform shows a message to one member in a
    group (Discord's ephemeral messages); Telegram cannot, so private answers are posted,
    except confidential ones, which go to the requester's private chat instead."""
    private = reply.ephemeral or reply.is_error or reply.confidential
    if reply.confidential and not can_whisper and chat_kind == "group":
        return Delivery(private=reply)
    if private and not can_whisper:
        if reply.droppable and chat_kind == "group":
            return Delivery()  # the member was already told once; a repeat adds to the flood
        return Delivery(post=reply if has_content(reply) else _notice_reply(reply))
    if private:
        return Delivery(private=reply if has_content(reply) else _notice_reply(reply))
    if not has_content(reply):
        return Delivery(private=_notice_reply(reply)) if reply.notice else Delivery()
    return Delivery(post=reply, notice=reply.notice)


def for_press(reply: Reply) -> Delivery:
    """A button press's reply: always acknowledged to the presser first.

    A reply that edits the pressed message is drawn again even when the press was refused
    (a poll that closed loses its buttons); with a `refresh_action` it is redrawn later from
    fresh data, so a burst of presses costs one edit per interval, and the last one is exact.
    """
    notice = toast(reply)
    if reply.ephemeral or reply.confidential:
        return Delivery(notice=notice, alert=reply.is_error)
    if reply.edit and reply.refresh_action:
        return Delivery(notice=notice, alert=reply.is_error, refresh=reply.refresh_action)
    if reply.edit:
        return Delivery(notice=notice, alert=reply.is_error, edit=reply)
    if has_content(reply):
        return Delivery(notice=notice, alert=reply.is_error, post=reply)
    return Delivery(notice=notice, alert=reply.is_error)


def toast(reply: Reply) -> str:
    """What the presser of a button sees: the notice, or the whole reply when it is private.
    Front ends cut it to what their platform shows."""
    return reply.notice or (reply.plain_text() if reply.ephemeral or reply.confidential else "")


def _notice_reply(reply: Reply) -> Reply:
    return Reply(parts=(reply.notice,), is_error=reply.is_error, ephemeral=True)


class LastShown:
    """What each recently edited message shows, so an edit that changes nothing is not sent.

    Platforms refuse or waste such an edit (Telegram answers "message is not modified"), and
    a burst of votes that leaves a rounded tally as it was would otherwise cost one each.
    Keyed by message, holding a digest of the rendered content; the oldest are forgotten.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._digests: OrderedDict[Hashable, str] = OrderedDict()

    def changes(self, message: Hashable, rendered: str) -> bool:
        """Whether showing `rendered` changes `message`; remembers it as shown if so."""
        digest = hashlib.blake2b(rendered.encode(), digest_size=16).hexdigest()
        if self._digests.get(message) == digest:
            self._digests.move_to_end(message)
            return False
        self._digests[message] = digest
        self._digests.move_to_end(message)
        if len(self._digests) > self.size:
            self._digests.popitem(last=False)
        return True

    def forget(self, message: Hashable) -> None:
        """The edit failed: the message may show something else."""
        self._digests.pop(message, None)
