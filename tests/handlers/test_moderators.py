"""Moderator-only operations are refused by the core itself, whatever a front end shows.

A front end may hide a command from members (Discord does), but a forged or replayed request
reaches dispatch all the same: these tests call dispatch directly with is_admin=False in a
group, on every platform, and check the refusal and that no table changed. Whether the front
ends compute is_admin correctly is tested with them:
Telegram (member, administrator, creator via getChatMember) in tests/bot/test_telegram_frontend.py
(test_a_settings_change_in_a_group_needs_a_moderator,
test_a_member_who_is_not_an_administrator_cannot_start_a_poll,
test_a_members_rights_are_looked_up_once_a_minute); Discord (Manage Server, the configured
role, direct messages) in tests/bot/test_discord_frontend.py
(test_moderators_can_change_settings_and_others_cannot,
test_a_configured_moderator_role_counts_as_moderator,
test_in_a_direct_message_the_member_may_change_their_own_settings,
test_settings_is_hidden_from_members_without_manage_server).
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.dispatch import dispatch
from handlers import poll, recap
from handlers.i18n import text
from handlers.model import Lang, Reply, Services
from storage.poll_model import PLATFORMS, Platform
from tests.conftest import make_request, sqlite_database

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
LOCALES: dict[Lang, str] = {"en": "en-US", "zh": "zh-CN"}


@dataclasses.dataclass(frozen=True)
class Operation:
    """A moderator-only command line; `setup` is run by a moderator first so it has work to do.

    "{poll}" in `line` becomes the id of the chat's open poll.
    """

    line: str
    setup: tuple[str, ...] = ()


def spellings(module: ModuleType, form: str) -> list[str]:
    """Every word that types the command's `form`, as its declaration lists them."""
    declared = module.COMMAND.form(form)
    return [declared.name, *declared.words]


def operations() -> list[Operation]:
    new = [Operation(f"/poll {word} Lunch? | Pizza | Sushi") for word in spellings(poll, "new")]
    close = [
        Operation(line, setup=("/poll new Lunch? | Pizza | Sushi",))
        for word in spellings(poll, "close")
        for line in (f"/poll {word}", f"/poll {word} #{{poll}}")
    ]
    # Reading, not changing, but only moderators may: who voted (public polls) and exports.
    voters = [
        Operation(f"/poll {word}", setup=("/poll new Lunch? | Pizza | Sushi --public",))
        for word in spellings(poll, "voters")
    ]
    export = [
        Operation(f"/poll {word}", setup=("/poll new Lunch? | Pizza | Sushi",))
        for word in spellings(poll, "export")
    ]
    recap_on = [Operation(f"/recap {word}") for word in spellings(recap, "on")]
    recap_on.append(Operation("/recap on 09:30 Asia/Shanghai"))
    recap_off = [
        Operation(f"/recap {word}", setup=("/recap on",)) for word in spellings(recap, "off")
    ]
    settings = [
        Operation(f"/settings {name} {value}", setup=setup)
        for names, values in (
            (("lang", "language", "语言"), ("zh", "en")),
            (("tz", "timezone", "zone", "时区"), ("Asia/Shanghai",)),
        )
        for name in names
        for value, setup in [(value, ()) for value in values]
        + [("auto", (f"/settings {names[0]} {values[0]}",))]
    ]
    return new + close + voters + export + recap_on + recap_off + settings


OPERATIONS = operations()
# The English spelling of each operation: enough to show that a moderator is obeyed; the
# refusal above is checked for every alias, since an alias could take another code path.
PLAIN = [
    operation
    for operation in OPERATIONS
    if operation.line.split()[1] in ("new", "close", "on", "off", "lang", "tz")
]
# The functions that call require_moderator; a new one must be added to OPERATIONS above.
GUARDED = {
    ("poll.py", "new_poll"),
    ("poll.py", "close_poll"),
    ("poll_admin.py", "list_voters"),
    ("poll_admin.py", "export_poll"),
    ("recap.py", "_subscribe"),
    ("recap.py", "_unsubscribe"),
    ("settings.py", "settings"),
}


async def snapshot(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    connection = sqlite_database(services).connection
    async with connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ) as cursor:
        tables = [row[0] for row in await cursor.fetchall()]
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in tables:
        async with connection.execute(f'SELECT * FROM "{table}"') as cursor:
            rows[table] = sorted((tuple(row) for row in await cursor.fetchall()), key=repr)
    return rows


async def run(
    services: Services,
    line: str,
    *,
    platform: Platform,
    is_admin: bool,
    chat_id: str = "chat-1",
    locale: str = "en-US",
    chat_kind: str = "group",
) -> Reply:
    return await dispatch(
        make_request(
            line,
            platform=platform,
            chat_id=chat_id,
            user_id="member-7",
            chat_kind=chat_kind,
            is_admin=is_admin,
            locale=locale,
        ),
        services,
    )


async def prepare(
    services: Services,
    operation: Operation,
    platform: Platform,
    chat_id: str = "chat-1",
    chat_kind: str = "group",
) -> str:
    """Run the setup as a moderator; the operation's line with its poll id filled in."""
    for line in operation.setup:
        reply = await run(
            services, line, platform=platform, is_admin=True, chat_id=chat_id, chat_kind=chat_kind
        )
        assert not reply.is_error, reply.plain_text()
    if "{poll}" not in operation.line:
        return operation.line
    open_poll, _ = await services.polls.current(platform, chat_id, services.clock())
    assert not open_poll.is_global
    return operation.line.format(poll=open_poll.id)


def test_every_function_that_requires_a_moderator_is_covered_here() -> None:
    found = set()
    for path in HANDLERS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
                calls = [
                    call
                    for call in ast.walk(node)
                    if isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id == "require_moderator"
                ]
                if calls:
                    found.add((path.name, node.name))

    assert found == GUARDED


# One test per operation, each platform and language in its own chat: a fresh database per
# combination would make this file take half a minute.
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.line)
async def test_a_forged_member_request_in_a_group_is_refused_and_changes_nothing(
    services: Services, operation: Operation
) -> None:
    for platform in PLATFORMS:
        for lang, locale in LOCALES.items():
            chat_id = f"group-{lang}"
            line = await prepare(services, operation, platform, chat_id)
            # A language the chat chose (by the setup) wins over the member's own.
            chosen = (await services.chat_settings.get(platform, chat_id)).lang
            expected: Lang = "zh" if chosen == "zh" else "en" if chosen == "en" else lang
            before = await snapshot(services)

            reply = await run(
                services, line, platform=platform, is_admin=False, chat_id=chat_id, locale=locale
            )

            where = f"{platform} {lang}"
            assert reply.is_error and reply.ephemeral, where
            assert reply.plain_text() == text(expected, "core.moderators_only"), where
            assert await snapshot(services) == before, where


@pytest.mark.parametrize("operation", PLAIN, ids=lambda operation: operation.line)
async def test_the_same_request_from_a_moderator_is_carried_out(
    services: Services, operation: Operation
) -> None:
    for platform in PLATFORMS:
        line = await prepare(services, operation, platform)
        before = await snapshot(services)

        reply = await run(services, line, platform=platform, is_admin=True)

        assert not reply.is_error, f"{platform}: {reply.plain_text()}"
        assert await snapshot(services) != before, platform


@pytest.mark.parametrize("operation", PLAIN, ids=lambda operation: operation.line)
async def test_in_a_private_chat_the_user_moderates_their_own_chat(
    services: Services, operation: Operation
) -> None:
    line = await prepare(services, operation, "telegram", chat_kind="private")
    before = await snapshot(services)

    reply = await run(services, line, platform="telegram", is_admin=False, chat_kind="private")

    assert not reply.is_error, reply.plain_text()
    assert await snapshot(services) != before
