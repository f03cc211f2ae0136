"""What Discord refuses in a message, an autocomplete answer or a command tree (the fake checks).

Each check returns Discord's nested `errors` object for an "Invalid Form Body" (code 50035)
answer, empty when the payload is valid. Each limit cites the page and section of the
Discord developer documentation (https://discord.com/developers/docs) that states it.
"""

from __future__ import annotations

import unicodedata
from typing import Any

Errors = dict[str, Any]

# Reference > Locales: the only keys name_localizations / description_localizations take.
LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)
# Resources > Message > Create Message, jsonparams: "content: up to 2000 characters".
MAX_CONTENT = 2000
# Resources > Message > Embed Object > Embed Limits.
EMBED_LIMITS = {"title": 256, "description": 4096}
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_AUTHOR = 256
MAX_EMBED_TOTAL = 6000
# Resources > Message > Create Message, jsonparams: "embeds: up to 10 rich embeds".
MAX_EMBEDS = 10
# Interactions > Message Components > Action Row: "up to 5 action rows" per message, and
# "an Action Row can contain up to 5 Buttons"; Button: custom_id max 100, label max 80.
MAX_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_CUSTOM_ID = 100
MAX_LABEL = 80
LINK_STYLE = 5
PREMIUM_STYLE = 6
# Interactions > Receiving and Responding > Autocomplete: "up to 25 choices"; Application
# Commands > Application Command Option Choice Structure: name 1-100, string value max 100.
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_CHOICE_VALUE = 100
# Application Commands > Application Command Object > Application Command Structure:
# description 1-100 characters, "options: max of 25"; Registering a Command: "100 global
# CHAT_INPUT commands" (and as many per guild).
MAX_DESCRIPTION = 100
MAX_OPTIONS = 25
MAX_COMMANDS = 100
MAX_NAME = 32
CHAT_INPUT = 1
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2


def _error(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def _too_long(limit: int) -> Errors:
    return _error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _length(value: Any, low: int, high: int) -> Errors:
    if not isinstance(value, str):
        return _error("BASE_TYPE_REQUIRED", "This field is required")
    if len(value) < low:
        return _error("BASE_TYPE_MIN_LENGTH", f"Must be {low} or more in length.")
    if len(value) > high:
        return _too_long(high)
    return {}


def _at_most(items: list[Any], limit: int) -> Errors:
    if len(items) > limit:
        return _error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return {}


def _put(errors: Errors, key: str | int, found: Errors) -> None:
    if found:
        errors[str(key)] = found


# ---- messages ------------------------------------------------------------------------------


def _embed_text_length(embed: dict[str, Any]) -> int:
    """Embed Limits: title, description, field names and values, footer text, author name."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    return total


def _embed_errors(embed: dict[str, Any]) -> Errors:
    errors: Errors = {}
    for key, limit in EMBED_LIMITS.items():
        if embed.get(key) is not None:
            _put(errors, key, _length(embed[key], 0, limit))
    if (footer := embed.get("footer")) and footer.get("text") is not None:
        _put(errors, "footer", _nested("text", _length(footer["text"], 0, MAX_FOOTER)))
    if (author := embed.get("author")) and author.get("name") is not None:
        _put(errors, "author", _nested("name", _length(author["name"], 0, MAX_AUTHOR)))
    fields = embed.get("fields") or []
    field_errors: Errors = dict(_at_most(fields, MAX_FIELDS))
    for index, field in enumerate(fields):
        found: Errors = {}
        _put(found, "name", _length(field.get("name"), 1, MAX_FIELD_NAME))
        _put(found, "value", _length(field.get("value"), 1, MAX_FIELD_VALUE))
        _put(field_errors, index, found)
    _put(errors, "fields", field_errors)
    return errors


def _nested(key: str, found: Errors) -> Errors:
    return {key: found} if found else {}


def _button_errors(button: dict[str, Any]) -> Errors:
    errors: Errors = {}
    style = button.get("style")
    if button.get("label") is None and button.get("emoji") is None and style != PREMIUM_STYLE:
        # Message Components > Button: non-premium buttons must have a label or an emoji.
        _put(errors, "label", _error("BUTTON_COMPONENT_INVALID", "A label or emoji is required"))
    if button.get("label") is not None:
        _put(errors, "label", _length(button["label"], 0, MAX_LABEL))
    if style == LINK_STYLE:
        if not button.get("url"):
            _put(errors, "url", _error("BASE_TYPE_REQUIRED", "This field is required"))
    elif style != PREMIUM_STYLE:
        # Button: "custom_id ... required" for every style but Link and Premium.
        _put(errors, "custom_id", _length(button.get("custom_id"), 1, MAX_CUSTOM_ID))
    return errors


def _components_errors(rows: list[dict[str, Any]]) -> Errors:
    errors: Errors = dict(_at_most(rows, MAX_ROWS))
    for index, row in enumerate(rows):
        found: Errors = {}
        children = row.get("components") or []
        buttons = [child for child in children if child.get("type") == 2]
        _put(found, "components", _at_most(buttons, MAX_ROW_BUTTONS))
        for number, child in enumerate(children):
            if child.get("type") == 2:
                inner = found.setdefault("components", {})
                _put(inner, number, _button_errors(child))
                if not inner:
                    del found["components"]
        _put(errors, index, found)
    return errors


def message_errors(data: dict[str, Any] | None) -> Errors:
    """What Discord refuses in a message it is asked to create or edit."""
    if not data:
        return {}
    errors: Errors = {}
    if data.get("content") is not None:
        _put(errors, "content", _length(data["content"], 0, MAX_CONTENT))
    embeds = data.get("embeds") or []
    embed_errors: Errors = dict(_at_most(embeds, MAX_EMBEDS))
    for index, embed in enumerate(embeds):
        _put(embed_errors, index, _embed_errors(embed))
    if sum(_embed_text_length(embed) for embed in embeds) > MAX_EMBED_TOTAL:
        # Embed Limits: the combined characters of all embeds of one message.
        embed_errors.setdefault("_errors", []).append(
            {
                "code": "MAX_EMBED_SIZE_EXCEEDED",
                "message": "Embed size exceeds maximum size of 6000",
            }
        )
    _put(errors, "embeds", embed_errors)
    _put(errors, "components", _components_errors(data.get("components") or []))
    return errors


# ---- autocomplete --------------------------------------------------------------------------


def _choice_errors(choice: dict[str, Any]) -> Errors:
    errors: Errors = {}
    _put(errors, "name", _length(choice.get("name"), 1, MAX_CHOICE_NAME))
    if isinstance(choice.get("value"), str):
        _put(errors, "value", _length(choice["value"], 0, MAX_CHOICE_VALUE))
    _put(errors, "name_localizations", _localized(choice.get("name_localizations"), 1, 100))
    return errors


def _choices_errors(choices: list[dict[str, Any]]) -> Errors:
    errors: Errors = dict(_at_most(choices, MAX_CHOICES))
    for index, choice in enumerate(choices):
        _put(errors, index, _choice_errors(choice))
    return errors


def autocomplete_errors(data: dict[str, Any] | None) -> Errors:
    """What Discord refuses in an APPLICATION_COMMAND_AUTOCOMPLETE_RESULT's data."""
    return _nested("choices", _choices_errors((data or {}).get("choices") or []))


# ---- command trees -------------------------------------------------------------------------


def _name_character_ok(char: str) -> bool:
    """One character of `^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]$` (no `regex` module here)."""
    if char in "-_'" or unicodedata.category(char)[0] in "LN":
        return True
    point = ord(char)
    devanagari = 0x0900 <= point <= 0x097F or 0xA8E0 <= point <= 0xA8FF
    thai = 0x0E01 <= point <= 0x0E3A or 0x0E40 <= point <= 0x0E5B
    return devanagari or thai


def name_errors(name: Any, *, lower: bool = True) -> Errors:
    """Application Commands > Application Command Naming: the pattern and, for CHAT_INPUT
    commands and options, lower case for every character that has a lower-case variant."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        return _error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    if not all(_name_character_ok(char) for char in name):
        return _error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    if lower and any(char.lower() != char for char in name):
        return _error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    return {}


def _localized(values: Any, low: int, high: int, *, names: bool = False) -> Errors:
    """Localization: keys only from Reference > Locales; values obey the default's rules."""
    errors: Errors = {}
    for locale, value in (values or {}).items():
        if locale not in LOCALES:
            _put(errors, locale, _error("LOCALE_INVALID", f"Invalid locale {locale!r}"))
        elif names:
            _put(errors, locale, name_errors(value))
        else:
            _put(errors, locale, _length(value, low, high))
    return errors


def _described(entry: dict[str, Any]) -> Errors:
    errors: Errors = {}
    _put(errors, "name", name_errors(entry.get("name")))
    _put(errors, "description", _length(entry.get("description"), 1, MAX_DESCRIPTION))
    _put(
        errors, "name_localizations", _localized(entry.get("name_localizations"), 1, 32, names=True)
    )
    _put(
        errors,
        "description_localizations",
        _localized(entry.get("description_localizations"), 1, MAX_DESCRIPTION),
    )
    return errors


def _options_errors(options: list[dict[str, Any]]) -> Errors:
    errors: Errors = dict(_at_most(options, MAX_OPTIONS))
    seen_optional = False
    for index, entry in enumerate(options):
        found = _described(entry)
        if entry.get("type") not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            # Application Command Option Structure: "Required options must be listed before
            # optional options".
            if entry.get("required"):
                if seen_optional:
                    _put(
                        found,
                        "required",
                        _error(
                            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                            "Required options must be placed before non-required options",
                        ),
                    )
            else:
                seen_optional = True
        _put(found, "choices", _choices_errors(entry.get("choices") or []))
        _put(found, "options", _options_errors(entry.get("options") or []))
        _put(errors, index, found)
    return errors


def command_tree_errors(commands: list[dict[str, Any]]) -> Errors:
    """What Discord refuses in a bulk overwrite of an application's (or guild's) commands."""
    chat_input = [c for c in commands if c.get("type", CHAT_INPUT) == CHAT_INPUT]
    errors: Errors = dict(_at_most(chat_input, MAX_COMMANDS))
    for index, command in enumerate(commands):
        if command.get("type", CHAT_INPUT) != CHAT_INPUT:
            continue
        found = _described(command)
        _put(found, "options", _options_errors(command.get("options") or []))
        _put(errors, index, found)
    return errors
