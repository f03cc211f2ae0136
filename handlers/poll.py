"""`/poll` and the poll buttons: the DeepSeek poll every chat shares, and chats' own polls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from handlers.commands import Command, Form, Param
from handlers.i18n import text
from handlers.model import (
    Handler,
    Reply,
    Request,
    Services,
    UserError,
    require_moderator,
)
from handlers.poll_admin import export_poll, list_voters
from handlers.poll_announce import announcement
from handlers.poll_input import POLL_ID, parse_choices, parse_closes, parse_new, parse_poll_id
from handlers.poll_lookup import (
    RECENTLY_CLOSED,
    find_poll,
    just_closed,
    raise_for,
    refuse_unnamed_vote,
    refused_on_closed,
    target_poll,
)
from handlers.poll_view import (
    ACTION_PREFIX,
    REFRESH,
    list_reply,
    poll_message,
    results_reply,
    vote_notice,
)
from handlers.user_text import normalised
from storage.poll_model import DEEPSEEK_POLL_ID, Poll, PollClosed, PollError, VoteOutcome

# Defined in handlers/poll_lookup.py; importing them from here keeps working.
__all__ = [
    "COMMAND",
    "RECENTLY_CLOSED",
    "find_poll",
    "poll_action",
    "raise_for",
    "target_poll",
]


# -- the command -----------------------------------------------------------------------------


async def show(request: Request, services: Services) -> Reply:
    found = await target_poll(request, services)
    lead: tuple[str, ...] = ()
    if just_closed(found[0], services):
        lead = (
            text(request.lang, "poll.own_poll_closed", id=found[0].id, global_id=DEEPSEEK_POLL_ID),
        )
    return poll_message(*found, request, services.clock(), lead=lead)


async def vote(request: Request, services: Services) -> Reply:
    poll, _ = await target_poll(request, services)
    if "id" not in request.params:
        refuse_unnamed_vote(poll, services)
    choices = parse_choices(poll, request.params["choices"], request.lang)
    return await record(request, services, poll, choices)


async def withdraw(request: Request, services: Services) -> Reply:
    poll, _ = await target_poll(request, services)
    if "id" not in request.params:
        refuse_unnamed_vote(poll, services)
    return await record(request, services, poll, frozenset())


async def record(
    request: Request, services: Services, poll: Poll, choices: frozenset[int]
) -> Reply:
    now = services.clock()
    stored = services.polls.set_choices(
        poll.id,
        platform=request.platform,
        chat_id=request.chat_id,
        user_id=request.user_id,
        options=choices,
        now=now,
        user_name=request.user_name,
    )
    return await _answer_vote(stored, request, services, now, edit=False)


async def _answer_vote(
    stored: Awaitable[VoteOutcome],
    request: Request,
    services: Services,
    now: datetime,
    *,
    edit: bool,
) -> Reply:
    """The poll as the vote left it, with the voter's own choice; `edit` for a press."""
    try:
        outcome = await stored
    except PollClosed as error:
        return await refused_on_closed(error.poll, request, services, edit=edit)
    except PollError as error:
        raise_for(error, request.lang)
    if outcome.changed:
        services.events.vote_recorded(request.platform)
    notice = vote_notice(request.lang, outcome)
    return poll_message(outcome.poll, outcome.tally, request, now, edit=edit, notice=notice)


async def results(request: Request, services: Services) -> Reply:
    poll, tally = await target_poll(request, services)
    return await results_reply(poll, tally, request.lang, services.clock(), request.tz)


async def new_poll(request: Request, services: Services) -> Reply:
    require_moderator(request)
    now = services.clock()
    params = request.params
    question, options = parse_new(params["question"], params["choices"])
    multi = bool(params.get("multi"))
    hide_results = bool(params.get("hide-results"))
    public = bool(params.get("public"))
    closes_at = parse_closes(params["closes"], now, request.tz) if "closes" in params else None
    try:
        created = await services.polls.create(
            platform=request.platform,
            chat_id=request.chat_id,
            question=question,
            options=options,
            multi=multi,
            closes_at=closes_at,
            created_by=request.user_id,
            now=now,
            hide_results=hide_results,
            public=public,
        )
    except PollError as error:
        raise_for(error, request.lang)
    found = await find_poll(request, services, created.id)
    return poll_message(
        *found, request, now, lead=(text(request.lang, "poll.created", id=created.id),)
    )


async def close_poll(request: Request, services: Services) -> Reply:
    require_moderator(request)
    now = services.clock()
    if "id" in request.params:
        poll_id = request.params["id"]
    else:
        current, _ = await services.polls.current(request.platform, request.chat_id, now)
        if current.is_global:
            raise UserError("poll.no_open_poll")
        poll_id = current.id
    try:
        closed = await services.polls.close(poll_id, request.platform, request.chat_id, now)
    except PollError as error:
        raise_for(error, request.lang)
    found = await find_poll(request, services, closed.id)
    closed_now = text(request.lang, "poll.closed_now", id=closed.id)
    # The reply in the poll's own chat is that chat's one closing announcement; the
    # closing job (bot/poll_closing.py) finds the claim taken and announces elsewhere.
    if await services.polls.claim_announcement(closed.id, request.platform, request.chat_id, now):
        return await announcement(*found, request.lang, request.tz, now, lead=(closed_now,))
    return poll_message(*found, request, now, lead=(closed_now,))


async def list_polls(request: Request, services: Services) -> Reply:
    summaries = await services.polls.list_for_chat(request.platform, request.chat_id)
    return list_reply(summaries, request.lang, services.clock(), request.tz)


# -- the buttons -----------------------------------------------------------------------------


def _ascii_number(value: str) -> bool:
    return value.isascii() and value.isdecimal()


async def poll_action(request: Request, services: Services) -> Reply:
    """`poll:<id>:<option index>` votes, changes or withdraws; `poll:<id>:r` re-renders."""
    pieces = (request.action or "").split(":")
    # isdecimal() alone takes any script's digits ("１"), which no button of ours carries.
    if len(pieces) != 3 or pieces[0] != ACTION_PREFIX or not _ascii_number(pieces[1]):
        raise UserError("poll.bad_button")
    poll_id = parse_poll_id(pieces[1])
    now = services.clock()
    if pieces[2] == REFRESH:
        found = await find_poll(request, services, poll_id)
        return poll_message(*found, request, now, edit=True)
    if not _ascii_number(pieces[2]) or len(pieces[2]) > 2:
        raise UserError("poll.bad_button")
    stored = services.polls.press(
        poll_id,
        platform=request.platform,
        chat_id=request.chat_id,
        user_id=request.user_id,
        option=int(pieces[2]),
        now=now,
        delivery_id=request.delivery_id,
        user_name=request.user_name,
    )
    return await _answer_vote(stored, request, services, now, edit=True)


def _is_poll_id(word: str) -> bool:
    return POLL_ID.fullmatch(normalised(word)) is not None


def _names_poll(word: str) -> bool:
    """In a vote "#5" names the poll; a bare "5" is an option."""
    return word.startswith("#") and _is_poll_id(word)


def _poll_id(detect: Callable[[str], bool] | None = None) -> Param:
    return Param("id", "integer", "discord.opt_poll", minimum=1, detect=detect, read=parse_poll_id)


def _on_one_poll(
    name: str,
    handler: Handler,
    summary: str,
    words: tuple[str, ...],
    *,
    moderator: bool = False,
    slow: bool = False,
) -> Form:
    """A form that acts on one poll, named by id or else the chat's current one."""
    usage = f"poll.usage_{name}"
    return Form(name, handler, usage, summary, (_poll_id(),), words, moderator, slow=slow)


# `/poll new Q | A | B --multi --closes 2h`: the question, the choices, then the options.
NEW_POLL_PARAMS = (
    Param("question", "text", "discord.opt_question", required=True, then="choices"),
    Param("choices", "text", "discord.opt_choices", required=True),
    Param("multi", "flag", "discord.opt_multi", dashed=True),
    Param("closes", "moment", "discord.opt_closes", dashed=True, words=("close",)),
    Param("hide-results", "flag", "discord.opt_hide_results", dashed=True),
    Param("public", "flag", "discord.opt_public", dashed=True),
)

COMMAND = Command(
    "poll",
    "poll.summary",
    misuse="poll.bad_usage",
    forms=(
        Form(
            "show",
            show,
            "poll.usage_show",
            summary="discord.poll_show",
            # Typed without a subcommand, only a number reads as a poll: "/poll foo" is misuse.
            params=(_poll_id(_is_poll_id),),
        ),
        Form(
            "vote",
            vote,
            "poll.usage_vote",
            summary="discord.poll_vote",
            words=("v", "投票"),
            misuse="poll.vote_usage",
            params=(
                _poll_id(_names_poll),
                Param("choices", "text", "poll.opt_vote_choices", required=True),
            ),
        ),
        _on_one_poll(
            "withdraw",
            withdraw,
            "poll.form_withdraw",
            ("unvote", "retract", "撤回", "撤销"),
        ),
        _on_one_poll("results", results, "discord.poll_results", ("result", "结果"), slow=True),
        Form(
            "new",
            new_poll,
            "poll.usage_new",
            summary="discord.poll_new",
            words=("create", "start", "新建", "创建", "发起"),
            moderator=True,
            misuse="poll.new_usage",
            params=NEW_POLL_PARAMS,
        ),
        _on_one_poll(
            "close",
            close_poll,
            "discord.poll_close",
            ("end", "stop", "关闭", "结束"),
            moderator=True,
        ),
        Form(
            "list", list_polls, "poll.usage_list", summary="discord.poll_list", words=("ls", "列表")
        ),
        _on_one_poll(
            "voters",
            list_voters,
            "discord.poll_voters",
            ("who", "投票者", "谁投了"),
            moderator=True,
        ),
        _on_one_poll("export", export_poll, "discord.poll_export", ("csv", "导出"), moderator=True),
    ),
)
