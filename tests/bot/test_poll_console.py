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


def dsbot_in(folder: Path, *args: str) -> str:
    """dsbot run from `folder`, where the console saves the files it is sent."""
    environment = dsbot_environment()
    environment.update(
        {
            "DSBOT_DATABASE": str(folder / "bot.sqlite3"),
            "DSBOT_MARKET": "offline",
            "TMPDIR": str(folder),
            "PYTHONPATH": str(ROOT),
        }
    )
    run = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=folder,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_console_check_a_hidden_poll_shows_counts_only_after_close_and_exports_a_csv(
    tmp_path: Path,
) -> None:
    group = ("--group",)
    created = dsbot_in(tmp_path, "ask", "/poll new Q | A | B --hide-results", "--admin", *group)
    dsbot_in(tmp_path, "ask", "/poll vote 1", "--user", "ann", *group)
    dsbot_in(tmp_path, "ask", "/poll vote 1", "--user", "ben", *group)
    dsbot_in(tmp_path, "ask", "/poll vote B", "--user", "cat", *group)
    hidden = dsbot_in(tmp_path, "ask", "/poll results", *group)
    closed = dsbot_in(tmp_path, "ask", "/poll close", "--admin", *group)
    shown = dsbot_in(tmp_path, "ask", "/poll results", *group)
    exported = dsbot_in(tmp_path, "ask", "/poll export", "--admin", *group)

    assert "Results are hidden until the poll closes." in created
    assert hidden == (
        "Results of poll #2: Q\n\n"
        "The results of this poll are hidden until a moderator closes it.\n\n"
        "Anonymous poll: nobody can see who voted for what, moderators included.\n"
    )
    assert closed.startswith("Poll #2 has closed: Q\n\nPoll #2 is now closed.")
    assert "1  A           2    67%" in shown and "2  B           1    33%" in shown
    assert "Voters: 3 (console 3)" in shown
    (saved,) = (tmp_path / "dsbot-exports").glob("poll-2-results-*.csv")
    assert f"saved to {saved}" in exported
    assert saved.read_bytes().startswith(b"\xef\xbb\xbf")
    assert saved.read_text(encoding="utf-8-sig").splitlines() == [
        '"#","Option","console","Total"',
        '1,"A",2,2',
        '2,"B",1,1',
    ]


def test_console_check_a_public_polls_voters_are_listed_by_name(tmp_path: Path) -> None:
    group = ("--group",)
    dsbot_in(tmp_path, "ask", "/poll new Tea? | Green | Black --public", "--admin", *group)
    dsbot_in(tmp_path, "ask", "/poll vote 2", "--user", "ada", *group)
    dsbot_in(tmp_path, "ask", "/poll vote 1", "--user", "grace", *group)
    voters = dsbot_in(tmp_path, "ask", "/poll voters", "--admin", *group)

    assert voters.startswith("Who voted in poll #2: Tea?")
    assert "ada    console   2" in voters and "grace  console   1" in voters
