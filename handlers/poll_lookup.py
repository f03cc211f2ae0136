"""Finding the poll a request means, and turning the poll store's refusals into replies."""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from handlers.i18n import text
from handlers.model import Lang, Reply, Request, Services, UserError
from handlers.poll_view import MAX_SHOWN, poll_message, question_of
from handlers.user_text import shorten
from storage.poll_model import (
    DEEPSEEK_POLL_ID,
    ChatHasOpenPoll,
    GlobalPollFixed,
    NoSuchOption,
    Poll,
    PollClosed,
    PollError,
    PollNotFound,
    Tally,
    TooManyChoices,
)

# For a day after a chat's own poll ends, a vote that names no poll is refused rather than
# counted in the DeepSeek poll: the voter most likely meant the poll that just closed.
RECENTLY_CLOSED = timedelta(hours=24)


# -- how a poll reads ------------------------------------------------------------------------


async def refused_on_closed(poll: Poll, request: Request, services: Services, edit: bool) -> Reply:
    found = await services.polls.get_with_tally(poll.id)
    if found is None:
        raise UserError("poll.not_found", id=poll.id)
    fresh, tally = found
    refusal = text(request.lang, "poll.closed_refused", id=poll.id)
    return poll_message(
        fresh,
        tally,
        request,
        services.clock(),
        lead=() if edit else (refusal,),
        edit=edit,
        notice=refusal if edit else "",
        is_error=True,
    )


def raise_for(error: PollError, lang: Lang) -> NoReturn:
    """Turn a store refusal into the catalogued message for the user."""
    if isinstance(error, NoSuchOption):
        raise UserError(
            "poll.no_such_option",
            id=error.poll.id,
            count=len(error.poll.options),
            number=error.index + 1,
        )
    if isinstance(error, TooManyChoices):
        raise UserError("poll.one_choice_only", id=error.poll.id)
    if isinstance(error, GlobalPollFixed):
        raise UserError("poll.global_fixed", id=error.args[0])
    if isinstance(error, ChatHasOpenPoll):
        raise UserError(
            "poll.chat_has_open_poll",
            id=error.poll.id,
            question=shorten(question_of(error.poll, lang), MAX_SHOWN),
        )
    if isinstance(error, PollClosed):
        raise UserError("poll.already_closed", id=error.poll.id)
    if isinstance(error, PollNotFound):
        raise UserError("poll.not_found", id=shorten(str(error.args[0]), MAX_SHOWN))
    raise error


# -- finding the poll ------------------------------------------------------------------------


async def find_poll(request: Request, services: Services, poll_id: int) -> tuple[Poll, Tally]:
    """A poll this chat may see: its own or a global one. Others' polls do not exist here."""
    found = await services.polls.get_with_tally(poll_id)
    if found is None or not found[0].belongs_to(request.platform, request.chat_id):
        raise UserError("poll.not_found", id=poll_id)
    return found


async def target_poll(request: Request, services: Services) -> tuple[Poll, Tally]:
    """The named poll, else the chat's open poll, its poll that closed within the last day,
    or the DeepSeek poll."""
    if "id" in request.params:
        return await find_poll(request, services, request.params["id"])
    return await services.polls.current(
        request.platform, request.chat_id, services.clock(), closed_within=RECENTLY_CLOSED
    )


def just_closed(poll: Poll, services: Services) -> bool:
    """The chat's own poll that target_poll picked although it has closed."""
    return not poll.is_global and not poll.is_open(services.clock())


def refuse_unnamed_vote(poll: Poll, services: Services) -> None:
    if just_closed(poll, services):
        raise UserError("poll.own_poll_closed", id=poll.id, global_id=DEEPSEEK_POLL_ID)
