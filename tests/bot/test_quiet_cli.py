"""`dsbot` on the command line prints the answer and nothing else, and fails in one clear line."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.registry import REGISTRY
from tests.conftest import dsbot_environment

# One line that answers without an error, for every command the bot has.
EVERY_COMMAND = {
    "start": "/start",
    "help": "/help",
    "about": "/about",
    "stocks": "/stocks NVDA",
    "cost": "/cost 2M in 500k out",
    "factcheck": "/factcheck",
    "outages": "/outages Hong Kong",
    "poll": "/poll",
    "recap": "/recap",
    "settings": "/settings",
}
LIVE_ONLY = ("/stocks chart", "/recap now")


def closed_port() -> int:
    """A loopback port nothing listens on: a connection to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(line: str, tmp_path: Path, **settings: str) -> subprocess.Popen[str]:
    unreachable = f"http://127.0.0.1:{closed_port()}"
    env = dsbot_environment(
        TMPDIR=str(tmp_path),
        # Yahoo unreachable: every request goes through a proxy that refuses it.
        HTTPS_PROXY=unreachable,
        HTTP_PROXY=unreachable,
        https_proxy=unreachable,
        http_proxy=unreachable,
        **{"DSBOT_DATABASE": str(tmp_path / "bot.sqlite3"), **settings},
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", line],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def test_the_list_of_commands_covers_every_command_the_bot_has() -> None:
    assert sorted(EVERY_COMMAND) == sorted(command.name for command in REGISTRY.commands)


@pytest.mark.parametrize("market", ["live", "offline"])
def test_ask_prints_only_the_answer_for_every_command_at_the_default_log_level(
    tmp_path: Path, market: str
) -> None:
    lines = [*EVERY_COMMAND.values(), *(LIVE_ONLY if market == "live" else ())]
    # Each in its own folder: the first run of each also migrates a new database.
    runs = {}
    for number, line in enumerate(lines):
        folder = tmp_path / str(number)
        folder.mkdir()
        runs[line] = start(line, folder, DSBOT_MARKET=market)

    results = {line: run.communicate(timeout=120) for line, run in runs.items()}

    assert {line: err for line, (_, err) in results.items() if err} == {}
    assert all(out.strip() for out, _ in results.values())
    assert {line: run.returncode for line, run in runs.items() if run.returncode} == {}


def test_the_yahoo_warning_goes_to_the_log_when_the_level_asks_for_it(tmp_path: Path) -> None:
    run = start("/stocks NVDA", tmp_path, DSBOT_MARKET="live", DSBOT_LOG_LEVEL="warning")

    out, err = run.communicate(timeout=120)

    assert "WARNING storage.market: Yahoo failed for 1 ticker(s): NVDA" in err
    assert "Yahoo" in out and "WARNING" not in out


def test_bad_settings_print_one_line_per_variable_and_exit_3(tmp_path: Path) -> None:
    run = start(
        "/help",
        tmp_path,
        DSBOT_TZ="Mars/Olympus",
        DSBOT_MARKET="sometimes",
        DSBOT_MARKET_TTL="-1",
    )

    out, err = run.communicate(timeout=60)

    assert (run.returncode, out) == (3, "")
    assert err.splitlines() == [
        "DSBOT_MARKET: \"sometimes\" is not allowed: input should be 'live' or 'offline'",
        'DSBOT_MARKET_TTL: "-1" is not allowed: input should be greater than 0',
        'DSBOT_TZ: "Mars/Olympus" is not a time zone (e.g. Asia/Shanghai)',
    ]


def test_an_unusable_database_path_exits_4_with_one_line_every_time(tmp_path: Path) -> None:
    database = tmp_path / "missing-folder" / "bot.sqlite3"
    runs = [
        start("/poll", tmp_path, DSBOT_DATABASE=str(database), DSBOT_MARKET="offline")
        for _ in range(12)
    ]

    results = [(run.communicate(timeout=120), run.returncode) for run in runs]

    expected = f"dsbot: cannot open the database {database}: unable to open database file\n"
    assert [(err, code) for (_, err), code in results] == [(expected, 4)] * 12
