"""`/factcheck`: the article's market and price claims, each beside what the data says.

The claims are the article's own words and numbers (shared/seed/article.zh.txt); every
"data" figure is computed from the embedded dataset, and the verdict from comparing the
two with one stated rule per kind of claim, so a changed dataset changes the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from handlers.i18n import text
from handlers.model import Lang, Reply, Request, Services, Table
from handlers.stocks import pct, signed
from storage.facts import Facts

Verdict = Literal["accurate", "rounded", "overstated", "understated", "wrong"]
Kind = Literal["about_pct", "over_pct", "nearly_pct", "amount", "loser", "ratio"]


@dataclass(frozen=True, slots=True)
class Claim:
    """`key` names the claim's words in the catalogue; `claimed` is the article's number."""

    key: str
    kind: Kind
    claimed: float
    tickers: tuple[str, ...] = ()


# In the order the article makes them.
CLAIMS: tuple[Claim, ...] = (
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
    Claim("meta", "loser", 0, ("META",)),
    Claim("price_ratio", "ratio", 30),
)

# The article rounds to whole percent (or to one decimal where it gives one).
ROUNDING = 0.5
CLOSE_ENOUGH = 0.05  # relative, for amounts quoted in round figures


def _about(claimed: float, actual: float) -> Verdict:
    """Right if it rounds to the claim; fair if within 5% of the figure; else off one way."""
    if claimed and (actual > 0) != (claimed > 0):
        return "wrong"
    tolerance = ROUNDING if claimed == round(claimed) else ROUNDING / 10
    off = abs(actual - claimed)
    if off < tolerance / 2:
        return "accurate"
    if off <= max(tolerance, CLOSE_ENOUGH * abs(actual)) + 1e-9:
        return "rounded"
    return "overstated" if abs(claimed) > abs(actual) else "understated"


def _amount(claimed: float, actual: float) -> Verdict:
    off = abs(actual - claimed) / abs(actual)
    if off < 0.005:
        return "accurate"
    if off <= CLOSE_ENOUGH:
        return "rounded"
    return "overstated" if abs(claimed) > abs(actual) else "understated"


def _checked(lang: Lang, facts: Facts, claim: Claim) -> tuple[str, Verdict]:
    """What the data says about one claim, and the verdict."""
    moves = [move for ticker in claim.tickers if (move := facts.day_move(ticker)) is not None]
    if claim.kind == "about_pct":
        move = moves[0]
        return f"{move.ticker} {pct(move.pct)}", _about(claim.claimed, move.pct)
    if claim.kind == "over_pct":
        said = ", ".join(f"{move.ticker} {pct(move.pct)}" for move in moves)
        beyond = all(abs(move.pct) > abs(claim.claimed) for move in moves)
        return said, "accurate" if beyond else "overstated"
    if claim.kind == "nearly_pct":
        move = moves[0]
        lower = abs(claim.claimed) - ROUNDING
        close = lower <= abs(move.pct) <= abs(claim.claimed)
        return f"{move.ticker} {pct(move.pct)}", "accurate" if close else "overstated"
    if claim.kind == "loser":
        move = moves[0]
        return f"{move.ticker} {pct(move.pct)}", "accurate" if move.pct < 0 else "wrong"
    if claim.kind == "amount" and moves:
        move = moves[0]
        return f"{move.ticker} {signed(move.change)}", _amount(claim.claimed, move.change)
    if claim.kind == "amount":
        loss = facts.number("nvda_market_cap_loss_2025_01_27")
        alt = facts.number("nvda_market_cap_loss_lseg")
        said = text(lang, "factcheck.data_value", loss=f"{loss:.0f}", alt=f"{alt:.0f}")
        return said, _amount(claim.claimed, loss)
    o1 = facts.number("openai_o1", "output")
    r1 = facts.number("deepseek_reasoner_output")
    ratio = o1 / r1
    said = text(lang, "factcheck.data_ratio", o1=f"{o1:.2f}", r1=f"{r1:.2f}", ratio=f"{ratio:.1f}")
    return said, _amount(claim.claimed, ratio)


VERDICT_MARK: dict[Verdict, str] = {
    "accurate": "✅",
    "rounded": "✅",
    "overstated": "⚠️",
    "understated": "⚠️",
    "wrong": "❌",
}


def checks(lang: Lang, facts: Facts) -> list[tuple[str, str, str]]:
    rows = []
    for claim in CLAIMS:
        said, verdict = _checked(lang, facts, claim)
        mark = VERDICT_MARK[verdict]
        rows.append(
            (
                text(lang, f"factcheck.claim_{claim.key}"),
                said,
                f"{mark} {text(lang, f'factcheck.verdict_{verdict}')}",
            )
        )
    return rows


async def factcheck(request: Request, services: Services) -> Reply:
    """`/factcheck`: a table of claim, data and verdict."""
    lang = request.lang
    headers = tuple(
        text(lang, f"factcheck.col_{column}") for column in ("claim", "data", "verdict")
    )
    rows = tuple(checks(lang, services.facts))
    return Reply(
        title=text(lang, "factcheck.title"),
        parts=(
            text(lang, "factcheck.intro"),
            Table(headers, rows, ("l", "l", "l")),
            text(lang, "factcheck.rules"),
            text(lang, "factcheck.source"),
        ),
    )
