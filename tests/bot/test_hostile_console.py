"""The hostile corpus through the console front end, in process and as `dsbot ask` processes.

A terminal renders control characters: an echoed ESC sequence would colour or move the
cursor, so none may reach the output. Every line must get a catalogued answer, and
`dsbot ask` must exit 0 (an answer) or 1 (a refusal), never with a traceback.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console import ConsoleUser, ask, build_request, render_console
from bot.dispatch import dispatch, resolve_context
from handlers.i18n import text
from handlers.model import Services
from handlers.registry import REGISTRY
from tests.bot.hostile_checks import error_records, poll_fixtures, snapshot_tables
from tests.conftest import dsbot_environment
from tests.hostile_inputs import HOSTILE_ACTIONS, HOSTILE_INPUTS, forged_poll_actions

SORRY = {text("en", "core.sorry"), text("zh", "core.sorry")}
# What a terminal acts on: C0 controls other than line feed and tab, DEL, and C1 controls.
TERMINAL_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MEMBER = ConsoleUser(user_id="mallory", chat_id="hostile-group", chat_kind="group")
OWNER = ConsoleUser(user_id="ada", chat_id="hostile-private")
DSBOT = Path(sys.executable).with_name("dsbot")


def problems_with(shown: str, line: str) -> list[str]:
    label = repr(line[:60])
    problems = []
    if not shown.strip():
        problems.append(f"{label}: no answer")
    if any(sorry in shown for sorry in SORRY):
        problems.append(f"{label}: the generic apology")
    if TERMINAL_CONTROLS.search(shown):
        problems.append(f"{label}: control characters {TERMINAL_CONTROLS.findall(shown)[:3]}")
    return problems


def test_parameters_lose_their_control_characters_but_keep_their_text() -> None:
    shown = text("en", "core.unknown_command", command="\x1b[31mred\x1b[0m\x00\x07")

    assert "[31mred[0m" in shown
    assert not TERMINAL_CONTROLS.search(shown)


def console_lines() -> list[str]:
    """Every hostile input with three commands, taking turns (the core suite crosses them all)."""
    names = [command.name for command in REGISTRY.commands]
    return [
        f"/{names[(number + turn) % len(names)]} {hostile}"
        for number, hostile in enumerate(HOSTILE_INPUTS)
        for turn in (0, 3, 7)
    ]


@pytest.mark.parametrize("user", [MEMBER, OWNER], ids=["group member", "private owner"])
async def test_every_command_with_every_hostile_input_prints_a_clean_answer(
    services: Services, user: ConsoleUser, caplog: pytest.LogCaptureFixture
) -> None:
    await poll_fixtures(services, "console", chat_of=lambda n: f"other-{n}")
    before = await snapshot_tables(services)
    problems = []

    with caplog.at_level(logging.WARNING):
        for line in console_lines():
            reply, request = await ask(line, user, services)
            problems += problems_with(render_console(reply, request.lang), line)

    assert problems == []
    assert error_records(caplog) == []
    if user is MEMBER:
        assert (await snapshot_tables(services)).changes_since(before) == {}


async def test_forged_button_actions_print_a_clean_refusal_and_change_nothing(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    polls = await poll_fixtures(
        services, "console", chat_of=lambda n: "other" if n == 0 else MEMBER.chat_id
    )
    before = await snapshot_tables(services)
    forged = HOSTILE_ACTIONS + forged_poll_actions(other_chat=polls.other_chat, closed=polls.closed)
    problems = []

    with caplog.at_level(logging.WARNING):
        for action in forged:
            request = await resolve_context(build_request("", MEMBER, action=action), services)
            reply = await dispatch(request, services)
            problems += problems_with(render_console(reply, request.lang), action)

    assert problems == []
    assert error_records(caplog) == []
    assert (await snapshot_tables(services)).changes_since(before) == {}


# A sample of the worst of the corpus (the in-process tests above take all of it). A NUL
# cannot be passed in a command line at all, so lines with one are left to those tests.
SAMPLE = [
    "/cost \x1b[31mred\x1b[0m",
    "/outages \u202eEurope/London",
    "/poll new <b>Q</b> | @everyone | ' OR 1=1 --",
    "/stocks " + "中" * 3000,
    "/cost 1e309 in NaN out cache 101%",
    "/recap on 25:00 Mars/Olympus",
    "/settings tz {__class__}",
    "/poll vote %s%s%s%n",
]


def test_dsbot_ask_exits_with_an_answer_or_a_refusal_never_a_traceback(tmp_path: Path) -> None:
    environment = dsbot_environment(DSBOT_MARKET="offline")
    running = []
    for number, line in enumerate(SAMPLE):
        # A database each: the processes run side by side.
        environment["DSBOT_DATABASE"] = str(tmp_path / f"dsbot{number}.sqlite3")
        process = subprocess.Popen(
            [str(DSBOT), "ask", line, "--group"],
            cwd=tmp_path,  # no .env from the project directory
            env=dict(environment),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        running.append((line, process))
    problems = []
    for line, process in running:
        stdout, stderr = process.communicate(timeout=120)
        label = repr(line[:60])
        if process.returncode not in (0, 1):
            problems.append(f"{label}: exit code {process.returncode}: {stderr[-300:]}")
        if "Traceback" in stderr:
            problems.append(f"{label}: a traceback")
        problems += problems_with(stdout if process.returncode == 0 else stderr, line)
    assert problems == []
