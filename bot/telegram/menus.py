"""Telegram's command menus, read off the registry: English for everyone, Chinese for zh users."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from handlers.commands import Registry
from handlers.i18n import text
from handlers.model import LANGS

log = logging.getLogger(__name__)

COMMAND_DESCRIPTION_LIMIT = 256


async def register_menus(bot: Bot, registry: Registry) -> None:
    """Set the command list in each language; a refusal is logged and the bot runs on."""
    for lang in LANGS:
        commands = [
            BotCommand(command.name, text(lang, command.summary)[:COMMAND_DESCRIPTION_LIMIT])
            for command in registry.commands
        ]
        try:
            await bot.set_my_commands(commands, language_code=None if lang == "en" else lang)
        except TelegramError as error:
            log.warning("Telegram: could not register the %s command list: %s", lang, error)
