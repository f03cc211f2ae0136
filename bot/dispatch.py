"""The single path from a Request to a Reply, shared by every front end.

It resolves the reply language and time zone, finds the command or button action, and
holds the only broad `except` in the bot: a handler bug becomes a logged apology, never a
traceback in the chat.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from handlers.arguments import from_options, parse_text
from handlers.i18n import pick_lang, text
from handlers.model import Lang, Reply, Request, Services, UserError
from handlers.timezones import parse_zone
from handlers.user_text import normalised, without_invisible
from storage.sql import StorageBusy, StorageError, StorageFull, StorageUnavailable

log = logging.getLogger(__name__)

Dispatch = Callable[[Request, Services], Awaitable[Reply]]

MAX_COMMAND_NAME = 32
_COMMAND = re.compile(r"[/／](\S*)\s*(.*)", re.DOTALL)


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str
    text: str
    addressee: str


def parse_command(message: str) -> ParsedCommand | None:
    """Split "/name@bot args" into its parts; None when the message is not a command.

    A full-width slash (／, typed by Chinese keyboards) counts as a slash.
    """
    match = _COMMAND.match(message.strip())
    if match is None:
        return None
    name, _, addressee = match[1].partition("@")
    name = normalised(name).lower()
    rest = without_invisible(match[2])
    return ParsedCommand(name=name[: MAX_COMMAND_NAME + 1], text=rest.strip(), addressee=addressee)


async def chat_context(request: Request, services: Services) -> tuple[Lang, ZoneInfo]:
    """The reply language and time zone: the chat's choice, then the platform locale, then
    the bot's default; the request's own once resolved. A chat's settings that cannot be
    read leave the defaults (logged); the request is still answered."""
    if request.resolved:
        return request.lang, request.tz
    lang: Lang = pick_lang(request.locale, services.default_lang)
    zone: ZoneInfo = services.default_tz
    try:
        chosen = await services.chat_settings.get(request.platform, request.chat_id)
    except StorageError as error:
        # An outage is answered by the command itself; its traceback would say nothing more.
        log.warning(
            "could not read chat settings for %s/%s: %s", request.platform, request.chat_id, error
        )
    except Exception:
        log.exception("could not read chat settings for %s/%s", request.platform, request.chat_id)
    else:
        if chosen.lang in ("en", "zh"):
            lang = "zh" if chosen.lang == "zh" else "en"
        if chosen.tz:
            zone = parse_zone(chosen.tz) or services.default_tz
    return lang, zone


async def resolve_context(request: Request, services: Services) -> Request:
    """The request with its reply language and time zone filled in, read once per request."""
    if request.resolved:
        return request
    lang, zone = await chat_context(request, services)
    return dataclasses.replace(request, lang=lang, tz=zone, resolved=True)


async def run_command(request: Request, services: Services, **context: Any) -> Reply:
    """Read the request's arguments into its command's form and run that form's handler.

    `context` (lang, tz, resolved) goes into the same copy of the request as the arguments.
    Raises UserError for a command or arguments the user can put right.
    """
    command = services.registry.by_name.get(request.command)
    if command is None:
        raise UserError("core.unknown_command", command=request.command[:MAX_COMMAND_NAME])
    if request.options is not None:
        arguments = from_options(command, request.form, request.options)
    else:
        arguments = parse_text(command, request.text)
    request = dataclasses.replace(
        request, form=arguments.form.name, params=arguments.values, **context
    )
    return await arguments.form.handler(request, services)


def _refused(lang: Lang, key: str) -> Reply:
    return Reply(parts=(text(lang, key),), ephemeral=True, is_error=True, error_key=key)


def refusal(lang: Lang, error: UserError) -> Reply:
    """The catalogued answer to a request the user can put right."""
    params = {
        name: value(lang) if callable(value) else value for name, value in error.params.items()
    }
    return Reply(
        parts=(text(lang, error.key, **params),), ephemeral=True, is_error=True, error_key=error.key
    )


async def dispatch(request: Request, services: Services) -> Reply:
    """Answer one request; never raises."""
    lang, zone = await chat_context(request, services)
    # Filled in with the arguments, or alone for a press: one copy of the request.
    context: dict[str, Any] = (
        {} if request.resolved else {"lang": lang, "tz": zone, "resolved": True}
    )
    try:
        if request.action is not None:
            prefix = request.action.partition(":")[0]
            action = services.registry.actions.get(prefix)
            if action is None:
                raise UserError("core.unknown_button")
            if context:
                request = dataclasses.replace(request, **context)
            return await action(request, services)
        return await run_command(request, services, **context)
    except UserError as error:
        return refusal(lang, error)
    except StorageBusy as error:
        # Another process (a backup, an admin's sqlite3 shell) holds the write lock.
        log.warning("database busy on %s command=%r: %s", request.platform, request.command, error)
        return _refused(lang, "core.busy")
    except StorageUnavailable as error:
        # The database server is restarting or unreachable; the pool reconnects by itself.
        log.warning(
            "database unavailable on %s command=%r: %s", request.platform, request.command, error
        )
        return _refused(lang, "core.storage_unavailable")
    except StorageFull as error:
        log.error("database full on %s command=%r: %s", request.platform, request.command, error)
        return _refused(lang, "core.storage_full")
    except Exception:
        log.exception(
            "handler failed on %s command=%r action=%r",
            request.platform,
            request.command,
            request.action,
        )
        return _refused(lang, "core.sorry")
