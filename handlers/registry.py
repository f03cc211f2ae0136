"""The one explicit list of commands and button actions; front ends and /help read it."""

from __future__ import annotations

from dataclasses import dataclass

from handlers import cost, factcheck, help, outages, poll, recap, settings, stocks
from handlers.model import Handler


@dataclass(frozen=True, slots=True)
class Command:
    """A command: `summary` and `usage` are catalogue keys, shown by /help and platform menus."""

    name: str
    handler: Handler
    summary: str
    usage: str
    # Changes shared chat state: platforms that can hide commands (Discord) hide it from
    # members without moderator rights; handlers still enforce require_moderator.
    moderator: bool = False


COMMANDS: tuple[Command, ...] = (
    Command("start", help.start, "help.summary_start", "help.usage_start"),
    Command("help", help.show_help, "help.summary_help", "help.usage_help"),
    Command("about", help.about, "help.summary_about", "help.usage_about"),
    Command("stocks", stocks.stocks, "stocks.summary", "stocks.usage"),
    Command("cost", cost.cost, "cost.summary", "cost.usage"),
    Command("factcheck", factcheck.factcheck, "factcheck.summary", "factcheck.usage"),
    Command("outages", outages.outages, "outages.summary", "outages.usage"),
    Command("poll", poll.poll, "poll.summary", "poll.usage"),
    Command("recap", recap.recap, "recap.summary", "recap.usage"),
    Command("settings", settings.settings, "settings.summary", "settings.usage", moderator=True),
)

# Button actions are "<prefix>:<data>"; the prefix picks the handler.
ACTIONS: dict[str, Handler] = {
    "poll": poll.poll_action,
}

COMMANDS_BY_NAME: dict[str, Command] = {command.name: command for command in COMMANDS}


def needs_moderator(command: str, text: str) -> bool:
    """Whether `/command text` may change shared chat state, so a front end must find out
    whether the sender moderates the chat (Telegram asks the server for every such line).

    Handlers still enforce require_moderator; this only tells a front end when is_admin
    matters. When unsure it says True: a needless lookup costs a request, a missed one
    refuses a moderator.
    """
    if command == "poll":
        return poll.needs_moderator(text)
    if command == "recap":
        words = text.split()
        return bool(words) and words[0].lower() in recap.ON_WORDS | recap.OFF_WORDS
    if command == "settings":
        return bool(text.split())  # bare /settings only shows them
    entry = COMMANDS_BY_NAME.get(command)
    return entry is not None and entry.moderator
