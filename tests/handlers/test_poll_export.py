"""`/poll export`: CSV files a spreadsheet opens safely, whose totals are /poll results'."""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.dispatch import dispatch
from handlers.model import Attachment, Reply, Services, Table
from tests.conftest import make_request

MOD = {"chat_kind": "group", "is_admin": True, "platform": "telegram", "chat_id": "-100"}
MEMBER = {"chat_kind": "group", "is_admin": False, "platform": "telegram", "chat_id": "-100"}
BOM = b"\xef\xbb\xbf"


async def ask(services: Services, line: str, **fields: Any) -> Reply:
    return await dispatch(make_request(line, **fields), services)


def read_csv(attachment: Attachment) -> list[list[str]]:
    assert attachment.data.startswith(BOM)
    return list(csv.reader(io.StringIO(attachment.data.decode("utf-8-sig"), newline="")))


async def test_the_export_has_a_row_per_option_with_votes_per_platform_matching_the_results(
    services: Services,
) -> None:
    await ask(services, "/poll vote 1", **MEMBER, user_id="t1")
    await ask(services, "/poll vote 3", **MEMBER, user_id="t2")
    await ask(services, "/poll vote 1", platform="discord", user_id="d1")
    await ask(services, "/poll vote 1", user_id="c1")
    results = await ask(services, "/poll results 1", **MOD)

    exported = await ask(services, "/poll export 1", **MOD)

    assert not exported.is_error, exported.plain_text()
    (results_file,) = exported.files
    assert results_file.filename == "poll-1-results-20261130-150000.csv"
    rows = read_csv(results_file)
    assert rows == [
        ["#", "Option", "Telegram", "Discord", "console", "Total"],
        ["1", "Yes", "1", "1", "1", "3"],
        ["2", "No, GPT stays ahead", "0", "0", "0", "0"],
        ["3", "They will coexist", "1", "0", "0", "1"],
        ["4", "Too early to tell", "0", "0", "0", "0"],
    ]
    totals = next(part for part in results.parts if isinstance(part, Table))
    assert [row[5] for row in rows[1:]] == [row[2] for row in totals.rows]


async def test_the_export_speaks_chinese_and_keeps_chinese_text_intact(services: Services) -> None:
    zh_mod = {**MOD, "locale": "zh-CN"}
    await ask(services, "/poll new 午饭？ | 面条 | 米饭", **zh_mod)
    await ask(services, "/poll vote 米饭", **MEMBER, user_id="li", locale="zh-CN")

    exported = await ask(services, "/poll 导出", **zh_mod)

    (results_file,) = exported.files
    assert read_csv(results_file) == [
        ["#", "选项", "Telegram", "合计"],
        ["1", "面条", "0", "0"],
        ["2", "米饭", "1", "1"],
    ]
    assert exported.parts == ("投票 #2 的结果 CSV 文件（UTF-8），每个选项一行，列出各平台的票数。",)


async def test_formula_characters_are_neutralised_in_options_and_voter_names(
    services: Services,
) -> None:
    await ask(services, "/poll new =2+2 | =1+1 | +cmd | -2 | @SUM(A1) | Plain --public", **MOD)
    hostile = '=HYPERLINK("http://127.0.0.1/x","click")'
    await ask(services, "/poll vote 1", **MEMBER, user_id="1", user_name=hostile)
    await ask(services, "/poll vote 4", **MEMBER, user_id="2", user_name="\tTabbed")
    await ask(services, "/poll vote 5", **MEMBER, user_id="3", user_name="-Minus")

    exported = await ask(services, "/poll export", **MOD)

    results_file, voters_file = exported.files
    options = [row[1] for row in read_csv(results_file)[1:]]
    assert options == ["'=1+1", "'+cmd", "'-2", "'@SUM(A1)", "Plain"]
    assert read_csv(voters_file) == [
        ["Voter", "Platform", "Choice"],
        # Voted at the same instant: listed by name.
        ["'\tTabbed", "Telegram", "'@SUM(A1)"],
        ["'-Minus", "Telegram", "Plain"],
        ["'" + hostile, "Telegram", "'=1+1"],
    ]
    assert voters_file.filename == "poll-2-voters-20261130-150000.csv"


async def test_an_anonymous_poll_exports_no_voters_file(services: Services) -> None:
    await ask(services, "/poll new Lunch? | Pizza | Sushi", **MOD)
    await ask(services, "/poll vote 1", **MEMBER, user_id="alice", user_name="Alice")

    exported = await ask(services, "/poll export", **MOD)

    assert [file.filename for file in exported.files] == ["poll-2-results-20261130-150000.csv"]
    assert "Alice" not in exported.files[0].data.decode("utf-8-sig")


async def test_only_moderators_export_and_a_hidden_poll_only_after_its_close(
    services: Services,
) -> None:
    await ask(services, "/poll new Lunch? | Pizza | Sushi --hide-results", **MOD)
    by_member = await ask(services, "/poll export", **MEMBER)
    before_close = await ask(services, "/poll export", **MOD)
    await ask(services, "/poll close", **MOD)
    after_close = await ask(services, "/poll export", **MOD)

    assert by_member.is_error and not by_member.files
    assert by_member.plain_text() == "Only the moderators of this chat can do that."
    assert before_close.is_error and not before_close.files
    assert before_close.plain_text() == (
        "Poll #2 hides its results until it closes; export it after the close."
    )
    assert not after_close.is_error and len(after_close.files) == 1
