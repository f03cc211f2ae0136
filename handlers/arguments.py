"""The one parser: typed text, or Discord's option values, into a form's typed parameters.

The console and Telegram hand dispatch what a member typed after the command; Discord hands
it the option values of a slash command. Both come out as the same `Arguments`, read by the
same readers, so a handler never parses text and a mistake gets the same catalogued reply on
every platform. Unknown, repeated and value-less flags are refused before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar, cast

from handlers.commands import COLLECTING_KINDS, GREEDY_KINDS, Command, Form, Param
from handlers.i18n import text
from handlers.model import UserError
from handlers.timezones import read_zone
from handlers.user_text import folded, normalised, quoted
from storage.market_values import normalise_ticker

MAX_SHOWN = 40
_TOKEN = re.compile(r"\S+")
# Phones turn "--" into a dash and Chinese keyboards type "——": each counts as "--".
_FLAG = re.compile(r"(?:--|[—–]{1,2})([^\W\d_][\w-]*)(?:=(.*))?", re.DOTALL)
_SPLIT = re.compile(r"[|｜]|\n")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?")


@dataclass(frozen=True, slots=True)
class Arguments:
    """The form a request uses and its parameters' values, by name (absent when not given)."""

    form: Form
    values: Mapping[str, Any]


def shown(value: str) -> str:
    """A typed value short enough to quote back in a reply."""
    return quoted(value, MAX_SHOWN)


def misuse(command: Command, form: Form, typed: str) -> UserError:
    key = form.misuse or command.misuse
    if key:
        return UserError(key, text=shown(typed))
    return UserError("core.bad_arguments", usage=lambda lang: text(lang, form.usage))


def read(param: Param, raw: str) -> Any:
    """The value of `param` typed as `raw`, by the param's own reader or its kind's."""
    if param.read is not None:
        return param.read(raw)
    value = raw.strip()
    if param.kind == "integer":
        digits = normalised(value).removeprefix("#")
        number = int(digits) if digits.isascii() and digits.isdecimal() else None
        low = param.minimum if param.minimum is not None else -(10**15)
        high = param.maximum if param.maximum is not None else 10**15
        if number is None or not low <= number <= high:
            raise UserError(
                param.invalid or "core.bad_integer", value=shown(value), low=low, high=high
            )
        return number
    if param.kind == "choice":
        chosen = _choice_words(param).get(folded(value))
        if chosen is not None:
            return chosen
        raise UserError(
            param.invalid or "core.bad_choice",
            value=shown(value),
            choices=lambda lang: text(lang, "core.list_separator").join(
                choice.value for choice in param.choices
            ),
        )
    if param.kind == "zone":
        return read_zone(value)
    if param.kind == "ticker":
        symbol = normalise_ticker(normalised(value))
        if symbol is None:
            raise UserError(param.invalid or "core.bad_ticker", value=shown(value))
        return symbol
    if param.kind == "flag":
        return True
    return value


def selected_form(command: Command, text: str) -> tuple[Form, list[re.Match[str]]]:
    """The form `text` uses, and the words left for its parameters."""
    tokens = list(_TOKEN.finditer(text))
    if tokens and command.has_subcommands:
        form = _form_words(command).get(folded(tokens[0].group()))
        if form is not None:
            return form, tokens[1:]
    return command.default, tokens


def parse_text(command: Command, text: str) -> Arguments:
    """Read what was typed after `/command`; UserError, in catalogue terms, when it can't be."""
    form, tokens = selected_form(command, text)
    values: dict[str, Any] = {}
    body, kept = _take_flags(form, text, tokens, values)
    _place_words(command, form, text, body, kept, values)
    for param in form.params:
        if param.required and param.name not in values:
            raise misuse(command, form, text)
    return Arguments(form, MappingProxyType(values))


def from_options(command: Command, form_name: str, options: Mapping[str, Any]) -> Arguments:
    """Read a slash command's option values (Discord) into the same Arguments as text."""
    form = command.form(form_name) if command.has_subcommands else command.default
    values: dict[str, Any] = {}
    for param in form.params:
        given = options.get(param.name)
        if given is None or given == "" or given is False:
            if param.required:
                raise misuse(command, form, "")
            continue
        if param.kind == "flag":
            values[param.name] = True
        elif param.kind == "integer" and isinstance(given, int) and param.read is None:
            values[param.name] = read(param, str(given))
        else:
            values[param.name] = read(param, str(given))
    return Arguments(form, MappingProxyType(values))


def needs_moderator(command: Command, text: str) -> bool:
    """Whether `/command text` may change shared chat state, so a front end must find out
    whether the sender moderates the chat. When unsure it says True: a needless lookup costs
    a request, a missed one refuses a moderator."""
    form, tokens = selected_form(command, text)
    return form.moderator or (form.moderator_if_given and bool(tokens))


def _take_flags(
    form: Form, text: str, tokens: list[re.Match[str]], values: dict[str, Any]
) -> tuple[str, list[re.Match[str]]]:
    """Read every `--flag [value]`; the text with them blanked out, and the other words."""
    dashed = _grammar(form).dashed
    blanked = list(text)
    kept: list[re.Match[str]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        found = _FLAG.fullmatch(normalised(token.group()))
        if found is None:
            kept.append(token)
            index += 1
            continue
        flag = "--" + found[1]
        named = dashed.get(folded(found[1]))
        if named is None:
            known = " ".join(sorted({"--" + p.name for p in dashed.values()}))
            raise UserError(
                "core.unknown_flag" if known else "core.no_flags", flag=shown(flag), known=known
            )
        param = named
        if param.name in values:
            raise UserError("core.repeated_flag", flag=flag)
        used = [token]
        if param.kind == "flag":
            if found[2] is not None:
                raise UserError("core.flag_takes_no_value", flag=flag)
            values[param.name] = True
        else:
            value, taken = _flag_value(param, found[2], tokens[index + 1 :])
            if value is None:
                raise UserError("core.flag_needs_value", flag=flag)
            used += taken
            values[param.name] = read(param, value)
        for blank in used:
            blanked[blank.start() : blank.end()] = " " * (blank.end() - blank.start())
        index += len(used)
    return "".join(blanked), kept


def _flag_value(
    param: Param, inline: str | None, following: list[re.Match[str]]
) -> tuple[str | None, list[re.Match[str]]]:
    """A flag's value: after `=`, else the next word (two for a date and a time of day)."""
    if inline is not None:
        return (inline or None), []
    if not following or _FLAG.fullmatch(normalised(following[0].group())):
        return None, []
    first = following[0]
    if (
        param.kind == "moment"
        and len(following) > 1
        and _DATE.fullmatch(first.group())
        and _CLOCK.fullmatch(following[1].group())
    ):
        return f"{first.group()} {following[1].group()}", following[:2]
    return first.group(), [first]


def _place_words(
    command: Command,
    form: Form,
    text: str,
    body: str,
    kept: list[re.Match[str]],
    values: dict[str, Any],
) -> None:
    """Give every word that is not a flag to a keyword, a word flag or a positional."""
    grammar = _grammar(form)
    keywords, word_flags, positionals = grammar.keywords, grammar.word_flags, grammar.positionals
    pending_keyword: Param | None = None
    pending_value: str | None = None
    collected: dict[str, list[str]] = {}
    index = 0
    while index < len(kept):
        token = kept[index]
        index += 1
        word = folded(token.group())
        if word in keywords:
            param = keywords[word]
            if param.name in values or pending_keyword is not None:
                raise misuse(command, form, text)
            if pending_value is not None:
                values[param.name] = read(param, pending_value)
                pending_value = None
            else:
                pending_keyword = param
            continue
        if pending_keyword is not None:
            value, more = _spanned(pending_keyword, grammar, kept[index - 1 :])
            values[pending_keyword.name] = value
            index += more
            pending_keyword = None
            continue
        if word in word_flags:
            values[word_flags[word].name] = True
            continue
        positional = _positional_for(token.group(), positionals, values)
        if positional is not None:
            if positional.kind in COLLECTING_KINDS:
                collected.setdefault(positional.name, []).append(token.group())
                continue
            if positional.kind in GREEDY_KINDS:
                _take_rest(form, positional, body[token.start() :].strip(), values)
                return
            value, more = _spanned(positional, grammar, kept[index - 1 :])
            values[positional.name] = value
            index += more
            continue
        if keywords and pending_value is None:
            pending_value = token.group()  # its keyword may follow: "2M in"
            continue
        raise misuse(command, form, text)
    if pending_keyword is not None or pending_value is not None:
        raise misuse(command, form, text)
    for name, words in collected.items():
        values[name] = read(form.param(name), " ".join(words))


def _spanned(param: Param, grammar: _Grammar, words: list[re.Match[str]]) -> tuple[Any, int]:
    """The value of `param` from the first of `words`, joined with as many following ones
    (up to its span, stopping at a keyword or word flag) as its reader accepts together:
    "Hong Kong" is a zone. The value, and how many words beyond the first it took."""
    limit = 1
    while limit < min(param.span, len(words)):
        following = folded(words[limit].group())
        if following in grammar.keywords or following in grammar.word_flags:
            break
        limit += 1
    for count in range(limit, 1, -1):
        try:
            return read(param, " ".join(word.group() for word in words[:count])), count - 1
        except UserError:
            continue
    return read(param, words[0].group()), 0


def _take_rest(form: Form, param: Param, rest: str, values: dict[str, Any]) -> None:
    """The rest of the line for a text parameter, split off into `param.then` if it has one."""
    if param.then:
        found = _SPLIT.search(rest)
        if found is not None:
            values[param.then] = read(form.param(param.then), rest[found.end() :])
            rest = rest[: found.start()]
    values[param.name] = read(param, rest)


def positional_params(form: Form) -> list[Param]:
    """The parameters typed by position; one that another's text splits into is not."""
    targets = {param.then for param in form.params if param.then}
    return [param for param in form.params if param.positional and param.name not in targets]


def _detects(param: Param, word: str) -> bool:
    if param.kind == "choice":
        return folded(word) in _choice_words(param)
    return param.detect is None or param.detect(word)


def _positional_for(
    word: str, positionals: tuple[Param, ...], values: dict[str, Any]
) -> Param | None:
    """The first positional still free that takes `word`."""
    for param in positionals:
        if param.name not in values and _detects(param, word):
            return param
    return None


# --- each declaration's words, folded once --------------------------------------------------
# Declarations are built once and never change, so what the parser looks words up in is
# worked out on first use and kept, keyed by the declaration's identity (it is held in the
# value, so the identity cannot be reused). Folding every declared word on every request was
# most of the parser's time.


@dataclass(frozen=True, slots=True)
class _Grammar:
    dashed: Mapping[str, Param]  # "--name" and "--word", folded, without the dashes
    keywords: Mapping[str, Param]
    word_flags: Mapping[str, Param]
    positionals: tuple[Param, ...]


Owner = TypeVar("Owner")
T = TypeVar("T")
V = TypeVar("V")

# Declarations are frozen: what is read off one is kept, by its identity, for its lifetime.
_KEPT: dict[tuple[Callable[[Any], Any], int], tuple[object, Any]] = {}


def _kept(build: Callable[[Owner], T], owner: Owner) -> T:
    """`build(owner)`, computed once per declaration object."""
    key = (build, id(owner))
    kept = _KEPT.get(key)
    if kept is not None and kept[0] is owner:
        return cast(T, kept[1])
    value = build(owner)
    _KEPT[key] = (owner, value)
    return value


def _build_grammar(form: Form) -> _Grammar:
    dashed = {folded(param.name): param for param in form.params if param.dashed}
    for param in form.params:
        if param.dashed:
            dashed.update({folded(word): param for word in param.words})
    return _Grammar(
        dashed=dashed,
        keywords={folded(word): param for param in form.params for word in param.keywords},
        word_flags={
            folded(word): param
            for param in form.params
            if param.kind == "flag" and not param.dashed
            for word in param.words
        },
        positionals=tuple(positional_params(form)),
    )


def _first_by_word(entries: Iterable[tuple[str, Iterable[str], V]]) -> Mapping[str, V]:
    """Each folded name and word to what it types; in order, so the first entry wins."""
    found: dict[str, V] = {}
    for name, words, value in entries:
        for word in (name, *words):
            found.setdefault(folded(word), value)
    return found


def _build_choice_words(param: Param) -> Mapping[str, str]:
    return _first_by_word((c.value, c.words, c.value) for c in param.choices)


def _build_form_words(command: Command) -> Mapping[str, Form]:
    return _first_by_word((form.name, form.words, form) for form in command.forms)


def _grammar(form: Form) -> _Grammar:
    return _kept(_build_grammar, form)


def _choice_words(param: Param) -> Mapping[str, str]:
    """Each folded value and word of a choice parameter, to the value it stands for."""
    return _kept(_build_choice_words, param)


def _form_words(command: Command) -> Mapping[str, Form]:
    """Each folded subcommand word of a command, to its form."""
    return _kept(_build_form_words, command)
