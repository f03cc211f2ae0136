"""What an inline query (`@bot words` in any chat) asks for, read off the declarations.

Platform-neutral: a front end with an inline mode runs the ask through dispatch like any
command and shows the answer as a card; the command cards are read off the registry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from handlers import cost
from handlers.arguments import parse_text
from handlers.commands import Command, Registry
from handlers.i18n import text
from handlers.model import Lang, Reply, UserError
from handlers.user_text import normalised, without_invisible
from storage.market_values import normalise_ticker
from storage.poll_model import DEEPSEEK_POLL_ID

# Result ids are at most 64 bytes on Telegram; ours stay far below.
POLL_RESULT = "poll"
# More cards than this are more than a phone shows above the keyboard.
MAX_COMMAND_CARDS = 10
# Longer queries are not a ticker or a bill anyone types.
MAX_QUERY = 256


@dataclass(frozen=True, slots=True)
class InlineAsk:
    """The command an inline query stands for; `result_id` names its card (unique, short)."""

    result_id: str
    command: str
    text: str


def poll_result_id(poll_id: int) -> str:
    return f"{POLL_RESULT}:{poll_id}"


def poll_of_result(result_id: str) -> int | None:
    """The poll a chosen result showed, from its id; None for any other card."""
    prefix, _, number = result_id.partition(":")
    if prefix != POLL_RESULT or not (number.isascii() and number.isdigit()):
        return None
    return int(number)


def cleaned_query(query: str) -> str:
    return " ".join(normalised(without_invisible(query[:MAX_QUERY])).split())


def inline_ask(query: str, tickers: tuple[str, ...], registry: Registry) -> InlineAsk | None:
    """The poll for an empty query, a ticker's card, a bill; None for the command cards.

    A bare word is a ticker when it has a `$`, names a ticker of the dataset, or is typed in
    capitals and is no command's name: any other lower-case word is looked up as a command,
    not sent to Yahoo one keystroke at a time.
    """
    cleaned = cleaned_query(query)
    if not cleaned:
        return InlineAsk(poll_result_id(DEEPSEEK_POLL_ID), "poll", str(DEEPSEEK_POLL_ID))
    words = cleaned.split()
    if len(words) == 1 and "stocks" in registry.by_name:
        word = words[0]
        symbol = normalise_ticker(word)
        named = word.lstrip("/").casefold() in registry.by_name
        if symbol is not None and (
            word.startswith("$") or symbol in tickers or (word.isupper() and not named)
        ):
            return InlineAsk(f"stocks:{symbol}", "stocks", symbol)
    bill = registry.by_name.get("cost")
    if bill is not None and _is_bill(bill, cleaned):
        digest = hashlib.blake2b(cleaned.encode(), digest_size=8).hexdigest()
        return InlineAsk(f"cost:{digest}", "cost", cleaned)
    return None


def _is_bill(command: Command, typed: str) -> bool:
    try:
        values = parse_text(command, typed).values
    except UserError:
        return False
    return any(name in values for name in cost.VOLUMES)


def matching_commands(query: str, registry: Registry) -> tuple[Command, ...]:
    """The commands whose name or summary (in either language) has one of the query's words;
    every command when none has."""
    words = [word.lstrip("/").casefold() for word in cleaned_query(query).split()]
    words = [word for word in words if word]
    found = [
        command
        for command in registry.commands
        if any(
            command.name.startswith(word)
            or any(word in text(lang, command.summary).casefold() for lang in ("en", "zh"))
            for word in words
        )
    ]
    return tuple(found or registry.commands)[:MAX_COMMAND_CARDS]


def command_card(command: Command, lang: Lang) -> Reply:
    """One command as /help shows it: its name, what it does and how each form is typed."""
    separator = "\n"
    return Reply(
        title=f"/{command.name}",
        parts=(
            text(lang, command.summary),
            separator.join(text(lang, form.usage) for form in command.forms),
        ),
    )
