"""`/settings`: a chat's own reply language and time zone, overriding platform and defaults."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.commands import Choice, Command, Form, Param
from handlers.i18n import parse_lang, text
from handlers.model import Lang, Reply, Request, Services, UserError, require_moderator
from handlers.timezones import parse_zone, read_zone, zone_with_offset

AUTO = "auto"
AUTO_WORDS = ("default", "reset", "自动", "默认")
MAX_SHOWN = 40


def read_lang(typed: str) -> str:
    """A language code the bot speaks ("zh", "zh-CN", "en"), or "auto"."""
    if typed.strip().casefold() in (AUTO, *AUTO_WORDS):
        return AUTO
    lang = parse_lang(typed)
    if lang is None:
        raise UserError("settings.bad_lang", value=typed.strip()[:MAX_SHOWN])
    return lang


def read_tz(typed: str) -> ZoneInfo | str:
    """A zone, or "auto" to follow the bot's default again."""
    if typed.strip().casefold() in (AUTO, *AUTO_WORDS):
        return AUTO
    return read_zone(typed)


async def settings(request: Request, services: Services) -> Reply:
    """`/settings` · `/settings lang zh` · `/settings tz Asia/Shanghai` · `/settings tz auto`."""
    store, platform, chat, params = (
        services.chat_settings,
        request.platform,
        request.chat_id,
        request.params,
    )
    if not params:
        chosen = await store.get(platform, chat)
        auto = text(request.lang, "settings.auto")
        known = chosen.lang in ("en", "zh")
        language = text(request.lang, f"settings.name_{chosen.lang}") if known else auto
        zone = parse_zone(chosen.tz) if chosen.tz else None
        shown_zone = (
            zone_with_offset(request.lang, zone, services.clock()) if zone else chosen.tz or auto
        )
        return Reply(
            title=text(request.lang, "settings.title"),
            parts=(
                text(request.lang, "settings.current", lang=language, tz=shown_zone),
                text(request.lang, "settings.usage"),
            ),
        )
    require_moderator(request)
    lines: list[str] = []
    lang: Lang = request.lang
    if "lang" in params:
        if params["lang"] == AUTO:
            await store.set_lang(platform, chat, None)
            lines.append(text(lang, "settings.lang_auto"))
        else:
            lang = "zh" if params["lang"] == "zh" else "en"
            await store.set_lang(platform, chat, lang)
            lines.append(text(lang, "settings.lang_set"))
    if "tz" in params:
        zone = params["tz"]
        if isinstance(zone, ZoneInfo):
            await store.set_tz(platform, chat, zone.key)
            shown = zone_with_offset(lang, zone, services.clock())
            lines.append(text(lang, "settings.tz_set", zone=shown))
        else:
            await store.set_tz(platform, chat, None)
            lines.append(text(lang, "settings.tz_auto"))
    return Reply(parts=tuple(lines))


COMMAND = Command(
    "settings",
    "settings.summary",
    misuse="settings.bad_usage",
    forms=(
        Form(
            "show",
            settings,
            "settings.usage",
            moderator_if_given=True,
            params=(
                Param(
                    "lang",
                    "choice",
                    "discord.opt_lang",
                    keywords=("lang", "language", "语言"),
                    choices=(
                        Choice("en", "English"),
                        Choice("zh", "中文"),
                        Choice(AUTO, "discord.choice_lang_auto"),
                    ),
                    read=read_lang,
                ),
                Param(
                    "tz",
                    "zone",
                    "discord.opt_tz",
                    keywords=("tz", "timezone", "zone", "时区"),
                    choices=(Choice(AUTO, "discord.choice_tz_auto"),),
                    read=read_tz,
                ),
            ),
        ),
    ),
)
