"""Several console users vote into one database file, and /poll results counts them all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import dsbot_environment

ROOT = Path(__file__).resolve().parents[2]


def dsbot(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    environment = dsbot_environment()
    environment.update(
        {
            "DSBOT_DATABASE": str(database),
            "DSBOT_MARKET": "offline",
            "TMPDIR": str(database.parent),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_console_users_vote_into_one_database_and_results_show_them(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"

    alice = dsbot("ask", "/poll vote 1", "--user", "alice", database=database)
    bob = dsbot("ask", "/poll vote 3", "--user", "bob", database=database)
    bob_again = dsbot("ask", "/poll vote 3", "--user", "bob", database=database)
    carol = dsbot("ask", "/poll vote 会", "--user", "carol", "--lang", "zh", database=database)
    results = dsbot("ask", "/poll results", database=database)

    for run in (alice, bob, bob_again, carol, results):
        assert run.returncode == 0, run.stderr
    assert "> Your vote in poll #1: Yes." in alice.stdout
    assert "> 你在投票 #1 中选择了：会。" in carol.stdout
    assert "Voters: 3 (console 3)" in results.stdout
    assert "1  Yes                     2    67%" in results.stdout
    assert "3  They will coexist       1    33%" in results.stdout
    (chart,) = tmp_path.glob("dsbot-*/poll-1-*.png")
    assert f"saved to {chart}" in results.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_a_console_moderator_runs_a_poll_that_others_vote_in(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    chat = ("--chat", "club", "--group")

    refused = dsbot("ask", "/poll new Tea? | Yes | No", "--user", "eve", *chat, database=database)
    created = dsbot(
        "ask", "/poll new Tea? | Yes | No", "--user", "mod", "--admin", *chat, database=database
    )
    voted = dsbot("ask", "/poll vote no", "--user", "eve", *chat, database=database)

    assert refused.returncode == 1 and "Only the moderators" in refused.stderr
    assert created.returncode == 0 and "Poll #2 is open." in created.stdout
    assert "> Your vote in poll #2: No." in voted.stdout
