"""Checking that every reply a benchmark counts is a real answer, and failing loudly if not."""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

from handlers.i18n import catalogue, text
from handlers.model import LANGS, Lang

# Catalogue lines that mean "not answered": a refusal, an apology, a busy or full database.
REFUSALS = ("core.slow_down", "core.sorry", "core.busy", "core.storage_full")


def readable(shown: str) -> str:
    """What the user reads: Telegram's HTML entities and Discord's Markdown escapes undone."""
    return html.unescape(shown).replace("\\", "")


def refusal_in(shown: str) -> str | None:
    """The catalogue key of the refusal or apology `shown` contains, in either language."""
    plain = readable(shown)
    for key in REFUSALS:
        if any(text(lang, key) in plain for lang in LANGS):
            return key
    return None


def template_pattern(key: str, lang: Lang = "en", **known: Any) -> re.Pattern[str]:
    """A regex for a catalogue line: `known` placeholders filled in, the others any text."""
    pattern = ""
    for index, piece in enumerate(re.split(r"{(\w+)(?::[^}]*)?}", catalogue(lang)[key])):
        if index % 2 == 0:
            pattern += re.escape(piece)
        else:
            pattern += re.escape(str(known[piece])) if piece in known else ".+?"
    return re.compile(pattern, re.DOTALL)


class ReplyCheck:
    """Tallies the replies of one measured case; `problem` None means a real answer."""

    def __init__(self, case: str) -> None:
        self.case = case
        self.total = 0
        self.problems: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def record(self, problem: str | None, shown: str = "") -> None:
        self.total += 1
        if problem is not None:
            self.problems[problem] += 1
            self.examples.setdefault(problem, readable(shown).strip()[:160])

    def failure(self) -> str | None:
        """A message naming how many replies were not real answers and what they were."""
        bad = sum(self.problems.values())
        if not bad:
            return None
        kinds = "; ".join(
            f"{count} {problem}"
            + (f" (e.g. {example!r})" if (example := self.examples[problem]) else "")
            for problem, count in self.problems.most_common()
        )
        return f"{self.case}: {bad} of {self.total} measured replies were not real answers: {kinds}"


def fail_if_any(checks: list[ReplyCheck]) -> None:
    """Exit non-zero, naming every case with a reply that was not a real answer."""
    failures = [message for check in checks if (message := check.failure())]
    if failures:
        raise SystemExit("BENCHMARK INVALID\n" + "\n".join(failures))
