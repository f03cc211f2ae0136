"""Discord's slash tree, read off the command declarations: no command is written out here.

A command with one form becomes a slash command, one with several a group with a
subcommand per form. Each typed parameter becomes an option of Discord's matching type,
with its choices, autocomplete and Chinese names; a call hands the option values, as they
came, to dispatch, which reads them with the same readers as typed text.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from handlers.commands import Choice, Command, Form, Param, Registry
from handlers.i18n import catalogue, pick_lang, text
from handlers.model import Lang
from handlers.timezones import EXAMPLE_ZONES, zone_names
from handlers.user_text import shorten

MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_COMMAND_DESCRIPTION = 100
CHINESE = frozenset({discord.Locale.chinese, discord.Locale.taiwan_chinese})
# Discord's pattern for names, in lower case (a CJK name has no case and is kept).
_NAME_CHARACTERS = frozenset("-_'")

Complete = Callable[
    [discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
]


# What a slash command calls, the front end's one way to answer one: the interaction, the
# command and form names, the option values as Discord sent them, and whether it is slow.
RunCommand = Callable[[discord.Interaction[Any], str, str, dict[str, Any], bool], Awaitable[None]]


def valid_name(name: str) -> bool:
    """Whether Discord accepts `name` as a command or option name."""
    return (
        1 <= len(name) <= 32
        and all(char.isalnum() or char in _NAME_CHARACTERS for char in name)
        and name.lower() == name
    )


class CatalogueTranslator(app_commands.Translator):
    """Command names and descriptions in Chinese for zh-CN and zh-TW, from the catalogue.

    Each string carries its catalogue key in `extras`; Discord's other locales fall back
    to the English default.
    """

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        if locale not in CHINESE or not key:
            return None
        translated = catalogue("zh").get(key)
        if translated is None:
            return None
        if context.location in (
            app_commands.TranslationContextLocation.command_name,
            app_commands.TranslationContextLocation.group_name,
            app_commands.TranslationContextLocation.parameter_name,
        ):
            # Discord rejects the whole sync for one invalid name: fall back instead.
            return translated if valid_name(translated) else None
        if context.location is app_commands.TranslationContextLocation.choice_name:
            return shorten(translated, MAX_CHOICE_NAME)
        return shorten(translated, MAX_COMMAND_DESCRIPTION)


def described(key: str) -> locale_str:
    """A description from the catalogue (English default, Chinese through the translator)."""
    return locale_str(shorten(text("en", key), MAX_COMMAND_DESCRIPTION), key=key)


def named(name: str) -> locale_str:
    """An English name, translated through the catalogue's `discord.name_<name>`."""
    return locale_str(name, key=f"discord.name_{name.replace('-', '_')}")


def choice_label(choice: Choice, lang: Lang | None = None) -> str | locale_str:
    """A choice's label: a catalogue key's text, or the name it is (English, 中文)."""
    if choice.label in catalogue("en"):
        if lang is not None:
            return shorten(text(lang, choice.label), MAX_CHOICE_NAME)
        return locale_str(shorten(text("en", choice.label), MAX_CHOICE_NAME), key=choice.label)
    return choice.label


def _python_name(param: Param) -> str:
    return param.name.replace("-", "_")


def _annotation(param: Param) -> Any:
    if param.kind == "flag":
        return bool
    if param.kind == "integer":
        if param.minimum is None and param.maximum is None:
            return int
        return app_commands.Range[int, param.minimum, param.maximum]
    return str


def ticker_completion(tickers: Callable[[], Sequence[str]]) -> Complete:
    async def complete(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        # Several tickers may be typed: complete the last one, keep the others.
        head, _, last = current.rpartition(" ")
        wanted = last.strip().upper()
        found = [t for t in tickers() if wanted in t.upper()] if wanted else list(tickers())
        prefix = f"{head} " if head.strip() else ""
        return [
            app_commands.Choice(
                name=shorten(prefix + t, MAX_CHOICE_NAME), value=shorten(prefix + t, 100)
            )
            for t in found[:MAX_CHOICES]
        ]

    return complete


def zone_completion(extras: tuple[Choice, ...]) -> Complete:
    async def complete(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        # Autocomplete answers are not translated by discord.py: localise the labels here.
        lang = pick_lang(str(interaction.locale.value))
        offered = [
            app_commands.Choice(name=str(choice_label(choice, lang)), value=choice.value)
            for choice in extras
        ]
        return [*offered, *zone_choices(current)][:MAX_CHOICES]

    return complete


def zone_choices(current: str) -> list[app_commands.Choice[str]]:
    wanted = current.strip().casefold()
    if not wanted:
        names = list(EXAMPLE_ZONES)
    else:
        names = [name for name in zone_names() if wanted in name.casefold()]
        names.sort(key=lambda name: (not name.casefold().startswith(wanted), len(name)))
    return [app_commands.Choice(name=name, value=name) for name in names[:MAX_CHOICES]]


def slash_commands(
    registry: Registry, run: RunCommand, tickers: Callable[[], Sequence[str]]
) -> list[app_commands.Command[Any, ..., Any] | app_commands.Group]:
    """Every registry command as Discord's application commands."""
    built: list[app_commands.Command[Any, ..., Any] | app_commands.Group] = []
    for command in registry.commands:
        entry: app_commands.Command[Any, ..., Any] | app_commands.Group
        if command.has_subcommands:
            group = app_commands.Group(
                name=named(command.name), description=described(command.summary)
            )
            for form in command.forms:
                group.add_command(
                    _slash(run, command, form, form.name, form.summary or command.summary, tickers)
                )
            entry = group
        else:
            entry = _slash(run, command, command.default, command.name, command.summary, tickers)
        if command.moderators_only:
            entry.default_permissions = discord.Permissions(manage_guild=True)
        built.append(entry)
    return built


def _slash(
    run: RunCommand,
    command: Command,
    form: Form,
    name: str,
    summary: str,
    tickers: Callable[[], Sequence[str]],
) -> app_commands.Command[Any, ..., Any]:
    by_python_name = {_python_name(param): param.name for param in form.params}

    async def callback(interaction: discord.Interaction[Any], **given: Any) -> None:
        options = {by_python_name[key]: value for key, value in given.items()}
        await run(interaction, command.name, form.name, options, form.slow)

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for param in form.params:
        parameters.append(
            inspect.Parameter(
                _python_name(param),
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_annotation(param),
                default=inspect.Parameter.empty if param.required else None,
            )
        )
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    if form.params:
        app_commands.describe(**{_python_name(p): described(p.description) for p in form.params})(
            callback
        )
        app_commands.rename(**{_python_name(p): named(p.name) for p in form.params})(callback)
    for param in form.params:
        if param.kind == "choice":
            app_commands.choices(
                **{
                    _python_name(param): [
                        app_commands.Choice(name=choice_label(choice), value=choice.value)
                        for choice in param.choices
                    ]
                }
            )(callback)
        elif param.kind in ("ticker", "tickers"):
            app_commands.autocomplete(**{_python_name(param): ticker_completion(tickers)})(callback)
        elif param.kind == "zone":
            app_commands.autocomplete(**{_python_name(param): zone_completion(param.choices)})(
                callback
            )
    return app_commands.Command(name=named(name), description=described(summary), callback=callback)
