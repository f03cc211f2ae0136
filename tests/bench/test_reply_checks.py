"""The benchmarks' reply checks: a refusal, an apology or a wrong answer is never counted."""

from __future__ import annotations

import importlib

import aiosqlite
import pytest

from bench.discord_interactions import about_problem, vote_problem
from bench.poll_votes import TransactionCounter
from bench.replies import ReplyCheck, fail_if_any, refusal_in, template_pattern
from bench.startup import help_problem
from bench.telegram_updates import dsbot_answer, fixed_ok
from handlers.model import Reply

SLOW_DOWN = (
    "You're sending commands faster than I can answer them well. "
    "Please wait a few seconds and try again."
)
BLURPLE, RED = 0x5865F2, 0xE74C3C


@pytest.mark.parametrize(
    "module",
    [
        "bench.discord_interactions",
        "bench.poll_votes",
        "bench.recap_fanout",
        "bench.startup",
        "bench.stocks_fetches",
        "bench.telegram_updates",
    ],
)
def test_every_benchmark_module_imports(module: str) -> None:
    assert importlib.import_module(module).__doc__


def test_a_slow_down_is_recognised_through_telegram_html_and_discord_escapes() -> None:
    assert refusal_in("You&#x27;re sending commands faster than I can answer them well.") is None
    assert refusal_in(SLOW_DOWN.replace("'", "&#x27;")) == "core.slow_down"
    assert (
        refusal_in(
            "Sorry, something went wrong on our side while answering that. It has "
            "been logged; please try again in a moment."
        )
        == "core.sorry"
    )


def test_a_catalogue_line_becomes_a_pattern_with_the_known_placeholders_fixed() -> None:
    notice = template_pattern("poll.notice_vote", id=1, choice="Yes")

    assert notice.fullmatch("Your vote in poll #1: Yes.")
    assert not notice.fullmatch("Your vote in poll #2: Yes.")
    assert not notice.fullmatch("Your vote in poll #1: No.")


def test_discord_about_must_be_the_blurple_embed_titled_from_the_catalogue() -> None:
    title = "27 January 2025: the DeepSeek moment"

    assert about_problem({"embeds": [{"title": title, "color": BLURPLE}]}) is None
    assert about_problem({"embeds": [{"title": title, "color": RED}]}) == "error embed (red)"
    assert about_problem({"embeds": [{"description": SLOW_DOWN}]}) == "core.slow_down"
    assert about_problem({"embeds": [{"title": "dsbot"}]}) == "not the /about embed"


def test_discord_vote_must_be_the_notice_for_the_option_pressed() -> None:
    assert vote_problem({"content": "Your vote in poll \\#1: Yes."}, 1, "Yes") is None
    assert (
        vote_problem({"content": "You have no vote in poll #1 now."}, 1, "Yes")
        == "not the vote acknowledgement"
    )


def test_telegram_answers_are_checked_per_update() -> None:
    command = {"message": {"chat": {"id": 5}}}
    press = {"callback_query": {"id": "7", "data": "poll:1:0"}}
    problem = dsbot_answer(["Yes", "No"])

    assert problem(command, {"text": "<b>What does it cost?</b>\n\nTraining"}) is None
    assert problem(command, {"text": SLOW_DOWN}) == "core.slow_down"
    assert problem(press, {"text": "Your vote in poll #1: Yes."}) is None
    assert problem(press, {"text": "Your vote in poll #1: No."}) == "not the vote acknowledgement"
    assert problem(press, {"text": "x", "show_alert": True}) == "alert toast (an error)"
    assert fixed_ok(press, {"text": "ok"}) is None


def test_startup_output_must_be_the_help() -> None:
    assert help_problem("dsbot: the DeepSeek moment, in numbers\n\n...") is None
    assert help_problem("Hello! I'm dsbot") == "not the /help reply"


def test_a_check_with_any_bad_reply_exits_naming_how_many_and_which() -> None:
    check = ReplyCheck("case")
    check.record(None)
    check.record("core.slow_down", SLOW_DOWN)

    with pytest.raises(SystemExit) as exited:
        fail_if_any([check])

    assert "case: 1 of 2 measured replies were not real answers: 1 core.slow_down" in str(
        exited.value
    )


async def test_transactions_are_counted_from_the_statements_sqlite_runs() -> None:
    counter = TransactionCounter()
    async with aiosqlite.connect(":memory:", isolation_level=None) as connection:
        await connection.execute("CREATE TABLE t (a)")
        await counter.watch(connection)
        await connection.execute("BEGIN IMMEDIATE")
        await connection.execute("INSERT INTO t VALUES (1)")
        await connection.execute("INSERT INTO t VALUES (2)")
        await connection.commit()
        await connection.execute("INSERT INTO t VALUES (3)")

    assert (counter.commits, counter.autocommits, counter.transactions) == (1, 1, 2)


def test_a_vote_reply_that_is_an_error_is_not_an_acknowledgement() -> None:
    from bench.poll_votes import vote_problem as poll_vote_problem

    assert poll_vote_problem(Reply(notice="Your vote in poll #1: Yes."), "Yes") is None
    assert poll_vote_problem(Reply(notice="x", is_error=True), "Yes") == "error reply"
