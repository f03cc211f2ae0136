"""The console front end and the `dsbot` command line, run as a user would run them."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console import ConsoleUser, image_dir, interactive, render_console
from handlers.model import Button, Image, Reply, Services, Table
from tests.conftest import dsbot_environment

ROOT = Path(__file__).resolve().parents[2]


def run_dsbot(
    *args: str, tmp_path: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = dsbot_environment()
    environment.update(
        {
            "DSBOT_DATABASE": str(tmp_path / "bot.sqlite3"),
            "DSBOT_MARKET": "offline",
            "TMPDIR": str(tmp_path),
            **(env or {}),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
    )


def test_ask_prints_the_cost_table_and_exits_zero(tmp_path: Path) -> None:
    result = run_dsbot("ask", "/cost 1M in 1M out", tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    r1 = next(line for line in lines if line.startswith("R1 "))
    o1 = next(line for line in lines if line.startswith("o1 "))
    assert "$2.74" in r1 and "$75.00" in o1
    assert lines.index(r1) < lines.index(o1)


def test_ask_outages_in_chinese_converts_to_london(tmp_path: Path) -> None:
    result = run_dsbot("ask", "/outages Europe/London", "--lang", "zh", tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "01-27 02:55" in result.stdout
    assert "3小时26分" in result.stdout


def test_ask_with_bad_usage_exits_non_zero_with_the_error(tmp_path: Path) -> None:
    result = run_dsbot("ask", "/cost lots in", tmp_path=tmp_path)

    assert result.returncode == 1
    assert "is not a token amount" in result.stderr
    assert result.stdout == ""


def test_an_unknown_language_flag_is_a_usage_error(tmp_path: Path) -> None:
    result = run_dsbot("ask", "/help", "--lang", "fr", tmp_path=tmp_path)

    assert result.returncode == 2
    assert "--lang must be en or zh" in result.stderr


def test_a_bad_time_zone_setting_is_a_configuration_error(tmp_path: Path) -> None:
    result = run_dsbot("ask", "/help", tmp_path=tmp_path, env={"DSBOT_TZ": "Moon/Base"})

    assert result.returncode == 3
    assert result.stderr == 'DSBOT_TZ: "Moon/Base" is not a time zone (e.g. Asia/Shanghai)\n'


def test_a_corrupt_database_file_stops_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "bot.sqlite3").write_bytes(b"garbage" * 1000)

    result = run_dsbot("ask", "/help", tmp_path=tmp_path)

    assert result.returncode == 4
    assert "cannot be used" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "bot.sqlite3").read_bytes() == b"garbage" * 1000


def test_settings_come_from_a_dot_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DSBOT_LANG=zh\n", encoding="utf-8")

    result = run_dsbot("ask", "/help", tmp_path=tmp_path)

    assert "所有命令及示例" in result.stdout


def test_run_without_tokens_opens_the_console_and_answers_help(tmp_path: Path) -> None:
    result = run_dsbot("run", tmp_path=tmp_path, stdin="/help\n")

    assert result.returncode == 0, result.stderr
    assert "dsbot console" in result.stdout
    assert "/outages — " in result.stdout


def test_the_console_keeps_chat_settings_between_commands(tmp_path: Path) -> None:
    result = run_dsbot(
        "console", tmp_path=tmp_path, stdin="/settings lang zh\n/help\nnot a command\n"
    )

    assert result.returncode == 0, result.stderr
    assert "本聊天的语言已设为中文" in result.stdout
    assert result.stdout.count("所有命令及示例") == 2


def test_render_console_saves_images_and_numbers_buttons(tmp_path: Path) -> None:
    reply = Reply(
        title="T",
        parts=("text", Table(("a",), (("1",),))),
        images=(Image(b"\x89PNG", "../../chart.png", "a chart"),),
        buttons=(Button("Yes", "poll:1:0"), Button("No", "poll:1:1")),
        notice="You voted Yes",
    )

    shown = render_console(reply, "en", images=tmp_path)

    (saved,) = tmp_path.iterdir()
    assert saved.name.startswith("chart-") and saved.suffix == ".png"
    assert saved.read_bytes() == b"\x89PNG"
    assert f"saved to {saved}" in shown
    assert "  [1] Yes\n  [2] No" in shown
    assert "> You voted Yes" in shown


def test_two_images_with_one_name_do_not_overwrite_each_other(tmp_path: Path) -> None:
    first = Reply(images=(Image(b"first", "stocks.png", "a"),))
    second = Reply(images=(Image(b"second", "stocks.png", "b"),))

    render_console(first, "en", images=tmp_path)
    render_console(second, "en", images=tmp_path)

    assert sorted(path.read_bytes() for path in tmp_path.iterdir()) == [b"first", b"second"]


def test_images_go_to_a_private_folder_of_the_process() -> None:
    folder = image_dir()

    assert folder.stat().st_mode & 0o777 == 0o700
    assert image_dir() == folder


async def test_interactive_console_answers_until_end_of_input(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("/cost 1M in 1M out\n\n/quit\n/help\n"))
    output = io.StringIO()

    await interactive(ConsoleUser(), services, output)

    assert "$75.00" in output.getvalue()
    assert "every command with an example" not in output.getvalue()


def test_group_mode_is_a_chat_of_its_own(tmp_path: Path) -> None:
    run_dsbot("ask", "/settings lang zh", tmp_path=tmp_path)

    private = run_dsbot("ask", "/help", tmp_path=tmp_path)
    group = run_dsbot("ask", "/help", "--group", tmp_path=tmp_path)

    assert "所有命令及示例" in private.stdout
    assert "every command with an example" in group.stdout


def test_the_console_in_a_group_ignores_chatter_and_other_bots_commands(tmp_path: Path) -> None:
    chatter = "hello everyone\n/help@otherbot\n/weather\n/about@dsbot\n"

    result = run_dsbot("console", "--group", tmp_path=tmp_path, stdin=chatter)

    assert result.returncode == 0, result.stderr
    assert "/outages — " not in result.stdout  # no /help answer, to chatter or to otherbot
    assert result.stdout.count("DeepSeek") >= 1  # /about@dsbot is answered
    assert "I don't know the command /weather" not in result.stdout


def test_ask_in_a_group_gives_no_answer_to_another_bots_command(tmp_path: Path) -> None:
    result = run_dsbot("ask", "--group", "/help@otherbot", tmp_path=tmp_path)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
