"""The one explicit list of the commands and button actions dsbot serves."""

from __future__ import annotations

from types import MappingProxyType

from handlers import cost, factcheck, help, outages, poll, poll_view, recap, settings, stocks
from handlers.commands import Registry

REGISTRY = Registry(
    commands=(
        help.START,
        help.HELP,
        help.ABOUT,
        stocks.COMMAND,
        cost.COMMAND,
        factcheck.COMMAND,
        outages.COMMAND,
        poll.COMMAND,
        recap.COMMAND,
        settings.COMMAND,
    ),
    actions=MappingProxyType({poll_view.ACTION_PREFIX: poll.poll_action}),
)
