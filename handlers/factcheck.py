"""`/factcheck`: the article's market and price claims, each beside what the data says.

The claims are the article's own words and numbers (shared/seed/article.zh.txt); every
"data" figure is computed from the embedded dataset, and the verdict from comparing the
two with one stated rule per kind of claim, so a changed dataset changes the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from handlers.commands import Command, Form
from handlers.dataset_replies import dataset_reply
from handlers.i18n import text
from handlers.model import Lang
from handlers.stocks import pct, price, signed
from storage.facts import DayMove, Facts

Verdict = Literal[
    "accurate", "close", "overstated", "understated", "wrong", "wrong_at_close", "uncheckable"
]
Kind = Literal["about_pct", "over_pct", "nearly_pct", "amount", "loser", "ratio", "market_total"]


@dataclass(frozen=True, slots=True)
class Claim:
    """`key` names the claim's words in the catalogue; `claimed` is the article's number."""

    key: str
    kind: Kind
    claimed: float
    tickers: tuple[str, ...] = ()


# In the order the article makes them.
CLAIMS: tuple[Claim, ...] = (
    Claim("meta", "loser", 0, ("META",)),
    Claim("nvda", "about_pct", -17, ("NVDA",)),
    Claim("nvda_value", "amount", 600),
    Claim("asml", "about_pct", -6, ("ASML",)),
    Claim("avgo", "about_pct", -17, ("AVGO",)),
    Claim("alphabet", "over_pct", -4, ("GOOGL", "GOOG")),
    Claim("msft", "nearly_pct", -3, ("MSFT",)),
    Claim("gev", "about_pct", -21, ("GEV",)),
    Claim("vst", "about_pct", -28, ("VST",)),
    Claim("nasdaq", "about_pct", -3, ("^IXIC",)),
    Claim("nasdaq_points", "amount", -612, ("^IXIC",)),
    Claim("sp500", "about_pct", -1.5, ("^GSPC",)),
    Claim("dow", "about_pct", 0.7, ("^DJI",)),
    # The dataset has prices of a dozen names, not the value of the whole US market.
    Claim("us_trillion", "market_total", 1000),
    Claim("price_ratio", "ratio", 30),
)

# Not the data rounded, but near enough that "overstated" would be unfair.
CLOSE_ENOUGH = 0.05  # relative to the data
CLOSE_TEXT = f"{CLOSE_ENOUGH:.0%}"
# "Nearly 3%" allows at most half a point less.
NEARLY = 0.5


def decimals(claimed: float) -> int:
    """How many decimals the article gave: 17 -> 0, 1.5 -> 1."""
    fraction = repr(abs(claimed)).partition(".")[2]
    return 0 if fraction.strip("0") == "" else len(fraction)


def _rounds_to(actual: float, claimed: float) -> bool:
    """The claim is the data rounded half away from zero to the claim's own decimals."""
    places = decimals(claimed)
    step = Decimal(1).scaleb(-places)
    rounded = Decimal(repr(actual)).quantize(step, rounding=ROUND_HALF_UP)
    return rounded == Decimal(repr(claimed)).quantize(step)


def _compare(claimed: float, actual: float) -> Verdict:
    """Accurate if the claim is the data rounded; close if within 5% of it; else off one way."""
    if claimed and actual and (actual > 0) != (claimed > 0):
        return "wrong"
    if _rounds_to(actual, claimed):
        return "accurate"
    if abs(actual - claimed) <= CLOSE_ENOUGH * abs(actual):
        return "close"
    return "overstated" if abs(claimed) > abs(actual) else "understated"


@dataclass(frozen=True, slots=True)
class Checked:
    said: str
    verdict: Verdict
    params: dict[str, str]


def _checked(lang: Lang, facts: Facts, claim: Claim) -> Checked:
    """What the data says about one claim, and the verdict."""
    moves = [move for ticker in claim.tickers if (move := facts.day_move(ticker)) is not None]
    if claim.kind == "about_pct":
        move = moves[0]
        return Checked(f"{move.ticker} {pct(move.pct)}", _compare(claim.claimed, move.pct), {})
    if claim.kind == "over_pct":
        separator = text(lang, "core.list_separator")
        said = separator.join(f"{move.ticker} {pct(move.pct)}" for move in moves)
        beyond = all(abs(move.pct) > abs(claim.claimed) for move in moves)
        return Checked(said, "accurate" if beyond else "overstated", {})
    if claim.kind == "nearly_pct":
        move = moves[0]
        close = abs(claim.claimed) - NEARLY <= abs(move.pct) <= abs(claim.claimed)
        return Checked(f"{move.ticker} {pct(move.pct)}", "accurate" if close else "overstated", {})
    if claim.kind == "loser":
        return _loser(lang, facts, moves[0])
    if claim.kind == "market_total":
        return Checked(text(lang, "factcheck.data_not_in_dataset"), "uncheckable", {})
    if claim.kind == "amount" and moves:
        move = moves[0]
        return Checked(
            f"{move.ticker} {signed(move.change)}", _compare(claim.claimed, move.change), {}
        )
    if claim.kind == "amount":
        loss = facts.number("nvda_market_cap_loss_2025_01_27")
        alt = facts.number("nvda_market_cap_loss_lseg")
        said = text(lang, "factcheck.data_value", loss=f"{loss:.0f}", alt=f"{alt:.0f}")
        return Checked(said, _compare(claim.claimed, loss), {})
    o1 = facts.number("openai_o1", "output")
    r1 = facts.number("deepseek_reasoner_output")
    ratio = o1 / r1
    said = text(lang, "factcheck.data_ratio", o1=f"{o1:.2f}", r1=f"{r1:.2f}", ratio=f"{ratio:.1f}")
    return Checked(said, _compare(claim.claimed, ratio), {})


def _loser(lang: Lang, facts: Facts, move: DayMove) -> Checked:
    """ "Hit hard after the open": the close decides, but a fall at the open is worth saying."""
    day = facts.bar(move.ticker, Facts.EVENT_DAY)
    opened = None if day is None or day.open is None else (day.open / move.before - 1) * 100
    said = f"{move.ticker} {pct(move.pct)}"
    if move.pct < 0:
        return Checked(said, "accurate", {})
    if opened is None or opened >= 0:
        return Checked(said, "wrong", {})
    assert day is not None and day.open is not None
    said = text(lang, "factcheck.data_open", close=said, open=price(day.open), open_pct=pct(opened))
    return Checked(said, "wrong_at_close", {"open_pct": f"{abs(opened):.1f}%"})


VERDICT_MARK: dict[Verdict, str] = {
    "accurate": "✅",
    "close": "✅",
    "overstated": "⚠️",
    "understated": "⚠️",
    "wrong": "❌",
    "wrong_at_close": "❌",
    "uncheckable": "❔",
}


def checks(lang: Lang, facts: Facts) -> list[tuple[str, str, str]]:
    rows = []
    for claim in CLAIMS:
        checked = _checked(lang, facts, claim)
        verdict = text(
            lang, f"factcheck.verdict_{checked.verdict}", close=CLOSE_TEXT, **checked.params
        )
        rows.append(
            (
                text(lang, f"factcheck.claim_{claim.key}"),
                checked.said,
                f"{VERDICT_MARK[checked.verdict]} {verdict}",
            )
        )
    return rows


def card(lang: Lang, claim: str, said: str, verdict: str) -> str:
    """One claim as a short paragraph: a three-column table would be far wider than a phone."""
    mark, _, words = verdict.partition(" ")
    return text(lang, "factcheck.card", mark=mark, claim=claim, data=said, verdict=words)


def cards(lang: Lang, facts: Facts) -> tuple[str, ...]:
    """`/factcheck`: a card per claim with what the data says and the verdict."""
    rules = text(lang, "factcheck.rules", close=CLOSE_TEXT, nearly=f"{NEARLY}")
    claims = (card(lang, *row) for row in checks(lang, facts))
    return (text(lang, "factcheck.intro"), *claims, rules, text(lang, "factcheck.source"))


factcheck = dataset_reply("factcheck", cards)


COMMAND = Command(
    "factcheck", "factcheck.summary", forms=(Form("show", factcheck, "factcheck.usage"),)
)
