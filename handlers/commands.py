"""How a command is declared: its forms, their typed parameters, and who may use them.

A command is said once, here in this vocabulary and in handlers/registry.py. The text
parser (handlers/arguments.py), Discord's slash tree, Telegram's menus and /help are all
read off these declarations, so a form /help shows is a form every platform can type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from handlers.model import Handler

Kind = Literal[
    "text",  # the rest of the line, as typed
    "word",  # one word
    "integer",  # a whole number between `minimum` and `maximum`
    "flag",  # on or off: `--name`, or one of its bare `words` ("chart")
    "choice",  # one of `choices`
    "amount",  # a token count: 2M, 500k, 1.5e6
    "percent",  # 30%
    "ticker",  # NVDA, $nvda
    "tickers",  # NVDA AVGO TSM
    "zone",  # Asia/Shanghai
    "time",  # 16:15
    "moment",  # 2h, 1d12h, 2026-12-01 18:00
]
# Kinds that take the rest of the line, so only a form's last positional parameter has one.
GREEDY_KINDS = frozenset({"text"})
# Kinds that collect every word that no other parameter takes.
COLLECTING_KINDS = frozenset({"tickers"})
# Kinds whose value may be several words ("Hong Kong", "New York", "9 pm"): up to this many
# are taken, the longest run that the parameter's reader accepts.
SPANNING_KINDS: Mapping[str, int] = MappingProxyType({"zone": 3, "time": 2})


@dataclass(frozen=True, slots=True)
class Choice:
    """One value of a choice parameter: what it is, its label key, and the words that type it."""

    value: str
    label: str  # a catalogue key, or a name shown as it is (e.g. "English", "中文")
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Param:
    """One typed parameter of a form.

    In typed text a parameter is found in one of four ways: `dashed` ones as `--name value`
    (or `--name` alone for a flag) anywhere on the line; ones with `keywords` next to one of
    them, on either side ("2M in", "in 2M", "lang zh"); flags by one of their `words`
    ("chart"); and every other one by position, in declaration order, where a `detect` test
    may let an optional parameter be skipped ("#5" is a poll, "2" is not).
    `read` turns what was typed into the value handlers get, raising UserError; without it
    the kind's own reader is used. Discord's option values go through the same reader.
    """

    name: str
    kind: Kind
    description: str  # catalogue key
    required: bool = False
    dashed: bool = False
    keywords: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    detect: Callable[[str], bool] | None = None
    read: Callable[[str], Any] | None = None
    # The catalogue key for a value that cannot be read, with {value}; "" uses the kind's.
    invalid: str = ""
    # A text parameter that stops at the first "|" (or line break) and leaves the rest to
    # the parameter named here: "Question | A | B" is a question and its options.
    then: str = ""
    # The most words one value may take; 0 for the kind's (SPANNING_KINDS, else one).
    max_words: int = 0

    @property
    def span(self) -> int:
        return self.max_words or SPANNING_KINDS.get(self.kind, 1)

    @property
    def positional(self) -> bool:
        return not (self.dashed or self.keywords or (self.kind == "flag" and self.words))


@dataclass(frozen=True, slots=True)
class Form:
    """One way to use a command: `/poll vote 2` is the poll command's `vote` form.

    `name` is the form's subcommand on Discord and its word in typed text (besides `words`);
    the command's `default` form is the one typed without a subcommand word. `misuse` is the
    catalogue key for words the form cannot place; "" uses the command's.
    """

    name: str
    handler: Handler
    usage: str  # catalogue key: an example of the form, as typed
    summary: str = ""  # catalogue key; "" uses the command's summary
    params: tuple[Param, ...] = ()
    words: tuple[str, ...] = ()
    # Changes shared chat state: always, or only when any parameter is given (/settings).
    moderator: bool = False
    moderator_if_given: bool = False
    # May wait on live data or drawing: platforms with a deadline acknowledge it at once.
    slow: bool = False
    misuse: str = ""

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Command:
    """A command: its name, what /help and menus say of it, and its forms (at least one)."""

    name: str
    summary: str  # catalogue key
    forms: tuple[Form, ...]
    misuse: str = ""  # catalogue key for text no form can read; "" for the generic one

    def __post_init__(self) -> None:
        if not self.forms:
            raise ValueError(f"/{self.name} needs at least one form")
        if len(self.forms) > 1 and not all(form.name for form in self.forms):
            raise ValueError(f"/{self.name}: every form of a command with several is named")
        for form in self.forms:
            targets = {p.then for p in form.params if p.then}
            positional = [p for p in form.params if p.positional and p.name not in targets]
            greedy = [p for p in positional if p.kind in GREEDY_KINDS]
            if greedy and greedy[-1] is not positional[-1]:
                raise ValueError(f"/{self.name} {form.name}: only the last positional is greedy")

    @property
    def default(self) -> Form:
        """The form typed without a subcommand word: the first one."""
        return self.forms[0]

    @property
    def has_subcommands(self) -> bool:
        return len(self.forms) > 1

    def form(self, name: str) -> Form:
        for form in self.forms:
            if form.name == name:
                return form
        raise KeyError(name)

    @property
    def moderators_only(self) -> bool:
        """Every form changes shared state: platforms that can hide it from members do."""
        return all(form.moderator or form.moderator_if_given for form in self.forms)


@dataclass(frozen=True, slots=True)
class Registry:
    """Every command and button action one bot serves; front ends and /help read this."""

    commands: tuple[Command, ...]
    # Button actions are "<prefix>:<data>"; the prefix picks the handler.
    actions: Mapping[str, Handler] = field(default_factory=lambda: MappingProxyType({}))
    by_name: Mapping[str, Command] = field(init=False)

    def __post_init__(self) -> None:
        names = [command.name for command in self.commands]
        if len(set(names)) != len(names):
            raise ValueError("two commands share a name")
        object.__setattr__(
            self, "by_name", MappingProxyType({command.name: command for command in self.commands})
        )
