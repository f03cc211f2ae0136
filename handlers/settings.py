"""`/settings`: a chat's own reply language and time zone, overriding platform and defaults."""

from __future__ import annotations

from handlers.i18n import parse_lang, text
from handlers.model import Reply, Request, Services, UserError, require_moderator
from handlers.timezones import example_zones, parse_zone

AUTO = ("auto", "default", "reset", "自动", "默认")
MAX_SHOWN = 40


async def settings(request: Request, services: Services) -> Reply:
    """`/settings` · `/settings lang zh` · `/settings tz Asia/Shanghai` · `/settings tz auto`."""
    args = request.args
    store, platform, chat = services.chat_settings, request.platform, request.chat_id
    if not args:
        chosen = await store.get(platform, chat)
        auto = text(request.lang, "settings.auto")
        return Reply(
            title=text(request.lang, "settings.title"),
            parts=(
                text(
                    request.lang, "settings.current", lang=chosen.lang or auto, tz=chosen.tz or auto
                ),
                text(request.lang, "settings.usage"),
            ),
        )
    if len(args) != 2:
        raise UserError("settings.bad_usage")
    name, value = args[0].lower(), args[1]
    require_moderator(request)
    if name in ("lang", "language", "语言"):
        if value.lower() in AUTO:
            await store.set_lang(platform, chat, None)
            return Reply(parts=(text(request.lang, "settings.lang_auto"),))
        lang = parse_lang(value)
        if lang is None:
            raise UserError("settings.bad_lang", value=value[:MAX_SHOWN])
        await store.set_lang(platform, chat, lang)
        return Reply(parts=(text(lang, "settings.lang_set"),))
    if name in ("tz", "timezone", "zone", "时区"):
        if value.lower() in AUTO:
            await store.set_tz(platform, chat, None)
            return Reply(parts=(text(request.lang, "settings.tz_auto"),))
        zone = parse_zone(value)
        if zone is None:
            raise UserError(
                "settings.bad_tz",
                value=value[:MAX_SHOWN],
                examples=example_zones(request.lang),
            )
        await store.set_tz(platform, chat, zone.key)
        return Reply(parts=(text(request.lang, "settings.tz_set", zone=zone.key),))
    raise UserError("settings.bad_usage")
