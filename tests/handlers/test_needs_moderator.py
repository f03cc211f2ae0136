"""Front ends look up a member's rights only for lines that need them: never too few."""

from __future__ import annotations

import pytest

from handlers.arguments import needs_moderator as form_needs_moderator
from handlers.registry import REGISTRY
from tests.handlers.test_moderators import OPERATIONS


def split(line: str) -> tuple[str, str]:
    command, *rest = line.removeprefix("/").split(None, 1)
    return command, rest[0] if rest else ""


def needs_moderator(command: str, text: str) -> bool:
    declared = REGISTRY.by_name.get(command)
    return declared is not None and form_needs_moderator(declared, text)


@pytest.mark.parametrize("line", sorted({operation.line for operation in OPERATIONS}))
def test_every_moderator_only_line_is_flagged(line: str) -> None:
    # "{poll}" stands for a poll id in these lines; any id reads the same.
    assert needs_moderator(*split(line.format(poll=5)))


@pytest.mark.parametrize(
    "line",
    [
        "/poll NEW Q | A | B",
        "/poll　新建 Q | A | B",
        "/poll ｃｌｏｓｅ",
        "/recap ON",
        "/recap off now",
        "/settings lang",
    ],
)
def test_odd_spellings_of_moderator_lines_are_flagged(line: str) -> None:
    assert needs_moderator(*split(line))


@pytest.mark.parametrize(
    "line",
    [
        "/poll",
        "/poll 5",
        "/poll vote 1",
        "/poll vote #1 2",
        "/poll withdraw",
        "/poll results",
        "/poll list",
        "/poll new-ish",
        "/recap",
        "/recap status",
        "/recap now",
        "/settings",
        "/cost 2M in",
        "/stocks NVDA",
        "/help",
        "/nosuchcommand new",
    ],
)
def test_lines_anyone_may_run_need_no_lookup(line: str) -> None:
    assert not needs_moderator(*split(line))


def test_a_command_only_moderators_may_change_is_flagged_with_arguments() -> None:
    flagged = [command for command in REGISTRY.commands if command.moderators_only]
    assert [command.name for command in flagged] == ["settings"]
    for command in flagged:
        assert needs_moderator(command.name, "lang zh"), command.name
