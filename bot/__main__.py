"""The `dsbot` command line: run the bots, open the console, or ask one question."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.config import Settings, setting_problems
from bot.console import ConsoleUser, ask, heard, interactive, render_console
from bot.logs import configure_logging, log_everything_else
from bot.services import build_services
from storage.backup import BackupRefused, backup_database
from storage.db import DatabaseError
from storage.db_copy import CopyRefused, copy_database, upgrade_database
from storage.facts import DatasetError
from storage.urls import ServerUrl

log = logging.getLogger("dsbot")

EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_DATA = 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dsbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start every front end whose token is set (else the console)")
    console = commands.add_parser("console", help="an interactive prompt, no token needed")
    ask_parser = commands.add_parser("ask", help='answer one command, e.g. dsbot ask "/cost"')
    discord_sync = commands.add_parser(
        "discord-sync", help="upload the slash commands to Discord (globally, or to one guild)"
    )
    discord_sync.add_argument(
        "--guild", type=int, default=None, help="a guild (server) id: sync there only, at once"
    )
    discord_sync.add_argument(
        "--clear", action="store_true", help="remove the commands synced to --guild"
    )
    database = commands.add_parser("db", help="look after the database (see docs/self-hosting.md)")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    backup = database_commands.add_parser(
        "backup", help="copy the live SQLite database (DSBOT_DATABASE) to PATH, consistently"
    )
    backup.add_argument("path", type=Path, help="the backup file to write; it must not exist")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    copy = database_commands.add_parser(
        "copy", help="copy every row of SOURCE into the empty database TARGET (docs/postgresql.md)"
    )
    copy.add_argument("source", help="a SQLite file or a postgresql:// URL")
    copy.add_argument("target", help="a SQLite file or a postgresql:// URL; it must hold no data")
    database_commands.add_parser(
        "upgrade", help="apply the pending migrations to DSBOT_DATABASE, and nothing else"
    )
    ask_parser.add_argument("line", help='the command, e.g. "/outages Europe/London"')
    for sub in (console, ask_parser):
        sub.add_argument(
            "--lang", default="", help="reply language: en or zh (default: DSBOT_LANG)"
        )
        sub.add_argument("--user", default="local", help="the user id to act as")
        sub.add_argument(
            "--chat",
            default=None,
            help='the chat id to act in (default: "console", or "console-group" with --group)',
        )
        sub.add_argument("--group", action="store_true", help="act in a group chat")
        sub.add_argument("--admin", action="store_true", help="act as a moderator of the chat")
    return parser


def _console_user(options: argparse.Namespace) -> ConsoleUser:
    return ConsoleUser(
        user_id=options.user[:64],
        # A group is a chat of its own: its settings and polls are not the private chat's.
        chat_id=(options.chat or ("console-group" if options.group else "console"))[:64],
        locale=options.lang,
        is_admin=options.admin,
        chat_kind="group" if options.group else "private",
    )


async def _ask(settings: Settings, options: argparse.Namespace) -> int:
    user = _console_user(options)
    async with build_services(settings) as services:
        if not heard(options.line, user, services):
            return 0  # in a group, chatter and other bots' commands get no answer
        reply, request = await ask(options.line, user, services)
    output = render_console(reply, request.lang)
    if reply.is_error:
        sys.stderr.write(output)
        return 1
    sys.stdout.write(output)
    return 0


async def _console(settings: Settings, options: argparse.Namespace) -> int:
    async with build_services(settings) as services:
        await interactive(_console_user(options), services)
    return 0


async def _discord_sync(settings: Settings, options: argparse.Namespace) -> int:
    if settings.discord_bot_token is None:
        sys.stderr.write("dsbot: set DISCORD_BOT_TOKEN to sync the Discord commands\n")
        return EXIT_CONFIG
    if options.clear and options.guild is None:
        sys.stderr.write("dsbot: --clear needs --guild ID\n")
        return EXIT_USAGE
    import discord

    from bot.discord.frontend import sync_commands

    try:
        async with build_services(settings) as services:
            count = await sync_commands(settings, services, options.guild, clear=options.clear)
    except discord.LoginFailure:
        sys.stderr.write("dsbot: Discord rejected DISCORD_BOT_TOKEN\n")
        return EXIT_CONFIG
    except discord.HTTPException as error:
        sys.stderr.write(f"dsbot: Discord refused the sync: {error.status} {error.text}\n")
        return 1
    if options.clear:
        sys.stdout.write(f"removed the Discord commands synced to guild {options.guild}\n")
        return 0
    where = f"to guild {options.guild}" if options.guild else "globally"
    sys.stdout.write(f"synced {count} Discord commands {where}\n")
    return 0


def _db_backup(settings: Settings, options: argparse.Namespace) -> int:
    if isinstance(settings.dsbot_database, ServerUrl):
        sys.stderr.write(
            "dsbot: db backup copies a SQLite file; back up PostgreSQL with pg_dump "
            "(docs/postgresql.md)\n"
        )
        return EXIT_CONFIG
    try:
        done = backup_database(settings.dsbot_database, options.path, overwrite=options.force)
    except BackupRefused as error:
        sys.stderr.write(f"dsbot: {error}\n")
        return 1
    except ValueError as error:  # a database URL that is not SQLite
        sys.stderr.write(f"dsbot: DSBOT_DATABASE: {error}\n")
        return EXIT_CONFIG
    sys.stdout.write(
        f"backed up {done.source} to {done.target} ({done.size} bytes, integrity ok)\n"
    )
    return 0


def _db_copy(options: argparse.Namespace) -> int:
    try:
        done = asyncio.run(copy_database(options.source, options.target))
    except CopyRefused as error:
        sys.stderr.write(f"dsbot: {error}\n")
        return 1
    except ValueError as error:  # a URL of no backend
        sys.stderr.write(f"dsbot: {error}\n")
        return EXIT_USAGE
    for table, count in done.rows.items():
        sys.stdout.write(f"{table}: {count} rows\n")
    sys.stdout.write(
        f"copied {sum(done.rows.values())} rows from {done.source} to {done.target} "
        f"(schema version {done.version}), row counts checked\n"
    )
    return 0


def _db_upgrade(settings: Settings) -> int:
    before, after = asyncio.run(upgrade_database(settings.dsbot_database))
    sys.stdout.write(f"{settings.dsbot_database}: schema version {after} (was {before})\n")
    return 0


def _db(settings: Settings, options: argparse.Namespace) -> int:
    if options.db_command == "copy":
        return _db_copy(options)
    if options.db_command == "upgrade":
        return _db_upgrade(settings)
    return _db_backup(settings, options)


async def _run(settings: Settings) -> int:
    if settings.telegram_bot_token is None and settings.discord_bot_token is None:
        log.info("no TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN set: starting the console")
        async with build_services(settings) as services:
            await interactive(ConsoleUser(), services)
        return 0
    from bot.frontend import TokenRejected
    from bot.http_server import ListenFailed
    from bot.runner import run_front_ends

    try:
        return await run_front_ends(settings)
    except (TokenRejected, ListenFailed) as error:
        sys.stderr.write(f"dsbot: {error}\n")
        return EXIT_CONFIG


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    if getattr(options, "lang", "") not in ("", "en", "zh"):
        sys.stderr.write("dsbot: --lang must be en or zh\n")
        return EXIT_USAGE
    try:
        settings = Settings()
    except ValidationError as error:
        sys.stderr.write("".join(f"{line}\n" for line in setting_problems(error)))
        return EXIT_CONFIG
    secrets = [
        token.get_secret_value()
        for token in (
            settings.telegram_bot_token,
            settings.discord_bot_token,
            settings.telegram_webhook_secret,
        )
        if token is not None
    ]
    # The one-shot commands print only the answer, which already says when data is stale or
    # Yahoo is down: their log shows only errors unless DSBOT_LOG_LEVEL asks for more.
    level = settings.dsbot_log_level or ("INFO" if options.command == "run" else "ERROR")
    configure_logging(secrets, logging.getLevelNamesMapping()[level])
    log_everything_else()
    try:
        if options.command == "db":
            return _db(settings, options)
        if options.command == "ask":
            return asyncio.run(_ask(settings, options))
        if options.command == "discord-sync":
            return asyncio.run(_discord_sync(settings, options))
        if options.command == "console":
            return asyncio.run(_console(settings, options))
        return asyncio.run(_run(settings))
    except DatasetError as error:
        sys.stderr.write(f"dsbot: the embedded dataset is broken: {error}\n")
        return EXIT_DATA
    except DatabaseError as error:
        sys.stderr.write(f"dsbot: {error}\n")
        return EXIT_DATA
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
