"""`/factcheck`: every market claim of the article beside the data, with a computed verdict."""

from __future__ import annotations

import pytest

from bot.dispatch import dispatch
from handlers.factcheck import CLAIMS, _about, _amount
from handlers.model import Services, Table
from tests.conftest import make_request


async def rows_of(services: Services, lang: str = "en") -> tuple[tuple[str, ...], ...]:
    reply = await dispatch(make_request("/factcheck", locale=lang), services)
    assert not reply.is_error
    return next(part for part in reply.parts if isinstance(part, Table)).rows


async def test_each_claim_is_shown_beside_the_data_with_its_verdict(services: Services) -> None:
    rows = {claim: (data, verdict) for claim, data, verdict in await rows_of(services)}

    assert rows["Nvidia fell 17%"] == ("NVDA -16.97%", "✅ accurate")
    assert rows["Nvidia lost $600B of market value"] == (
        "about $589B (Reuters/LSEG: $593B)",
        "✅ fair (rounded)",
    )
    assert rows["ASML fell 6%"][0] == "ASML -5.75%"
    assert rows["Broadcom fell 17%"][0] == "AVGO -17.40%"
    assert rows["Alphabet fell over 4%"] == ("GOOGL -4.20%, GOOG -4.03%", "✅ accurate")
    assert rows["Microsoft fell nearly 3%"] == ("MSFT -2.14%", "⚠️ overstated")
    assert rows["GE Vernova fell 21%"][0] == "GEV -21.52%"
    assert rows["Vistra fell 28%"][0] == "VST -28.27%"
    assert rows["Nasdaq fell 3%"] == ("^IXIC -3.07%", "✅ accurate")
    assert rows["Nasdaq fell 612 points"] == ("^IXIC -612.47", "✅ accurate")
    assert rows["S&P 500 fell 1.5%"][0] == "^GSPC -1.46%"
    assert rows["Dow rose 0.7%"][0] == "^DJI +0.65%"
    assert rows["Meta among the big losers"] == ("META +1.91%", "❌ wrong")
    data, verdict = rows["DeepSeek-R1 costs 1/30 of OpenAI's model"]
    assert "27.4x" in data and verdict == "⚠️ overstated"


async def test_the_chinese_factcheck_quotes_the_article_in_its_own_words(
    services: Services,
) -> None:
    rows = await rows_of(services, "zh")

    assert len(rows) == len(CLAIMS)
    assert rows[0][0] == "英伟达股价暴跌17%"
    assert rows[-2][2] == "❌ 错误"


@pytest.mark.parametrize(
    ("claimed", "actual", "verdict"),
    [
        (-17, -16.97, "accurate"),
        (-21, -21.52, "rounded"),
        (-3, -2.14, "overstated"),
        (-10, -14.0, "understated"),
        (-2, 1.91, "wrong"),
        (-1.5, -1.46, "rounded"),
    ],
)
def test_percentage_verdicts_follow_the_stated_rule(
    claimed: float, actual: float, verdict: str
) -> None:
    assert _about(claimed, actual) == verdict


def test_amount_verdicts_allow_round_figures_but_not_generous_ones() -> None:
    assert _amount(600, 589) == "rounded"
    assert _amount(30, 27.4) == "overstated"
    assert _amount(-612, -612.47) == "accurate"
