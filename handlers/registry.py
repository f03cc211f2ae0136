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
