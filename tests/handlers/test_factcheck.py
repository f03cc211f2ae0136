"""`/factcheck`: every market claim of the article beside the data, with a computed verdict."""

from __future__ import annotations

import pytest

from bot.dispatch import dispatch
from handlers.factcheck import CLAIMS, _compare, decimals
from handlers.model import Services
from tests.conftest import make_request


async def rows_of(services: Services, lang: str = "en") -> tuple[tuple[str, ...], ...]:
    reply = await dispatch(make_request("/factcheck", locale=lang), services)
    assert not reply.is_error
    return tuple(
        claim_of(part) for part in reply.parts if isinstance(part, str) and part[:1] in MARKS
    )


MARKS = ("✅", "⚠", "❌", "❔")


def claim_of(card: str) -> tuple[str, str, str]:
    """A card read back as (claim, data, verdict with its mark)."""
    first, data, verdict = card.split("\n")
    mark, _, claim = first.partition(" ")
    return (
        claim,
        data.split(": ", 1)[-1].split("：", 1)[-1],
        f"{mark} {verdict.split(': ', 1)[-1].split('：', 1)[-1]}",
    )


async def test_each_claim_is_a_card_of_three_short_lines(services: Services) -> None:
    reply = await dispatch(make_request("/factcheck"), services)
    zh = await dispatch(make_request("/factcheck", locale="zh"), services)

    assert reply.parts[2] == "✅ Nvidia fell 17%\nData: NVDA -16.97%\nVerdict: accurate"
    assert str(zh.parts[2]).split("\n")[1:] == ["数据：NVDA -16.97%", "结论：准确"]


async def test_each_claim_is_shown_beside_the_data_with_its_verdict(services: Services) -> None:
    rows = await rows_of(services)

    assert rows == (
        (
            "Stocks fell sharply after the open; Meta among the tech names hit hard",
            "META +1.91% at the close; opened at 626.61 (-3.22% vs 24 Jan)",
            "❌ wrong at the close (it opened 3.2% lower)",
        ),
        ("Nvidia fell 17%", "NVDA -16.97%", "✅ accurate"),
        (
            "Nvidia lost $600B of market value",
            "about $589B (Reuters/LSEG: $593B)",
            "✅ close (within 5%)",
        ),
        # Each of these is the data rounded to the claim's decimals.
        ("ASML fell 6%", "ASML -5.75%", "✅ accurate"),
        ("Broadcom fell 17%", "AVGO -17.40%", "✅ accurate"),
        ("Alphabet fell over 4%", "GOOGL -4.20%, GOOG -4.03%", "✅ accurate"),
        ("Microsoft fell nearly 3%", "MSFT -2.14%", "⚠️ overstated"),
        # -21.52 rounds to -22: near, not the data rounded.
        ("GE Vernova fell 21%", "GEV -21.52%", "✅ close (within 5%)"),
        ("Vistra fell 28%", "VST -28.27%", "✅ accurate"),
        ("Nasdaq fell 3%", "^IXIC -3.07%", "✅ accurate"),
        ("Nasdaq fell 612 points", "^IXIC -612.47", "✅ accurate"),
        ("S&P 500 fell 1.5%", "^GSPC -1.46%", "✅ accurate"),
        ("Dow rose 0.7%", "^DJI +0.65%", "✅ accurate"),
        (
            "US stocks lost $1 trillion in one day",
            "not checkable from the dataset: it has the prices of single stocks and indices,"
            " not the value of the whole US market",
            "❔ not checkable",
        ),
        (
            "DeepSeek-R1 costs 1/30 of OpenAI's model",
            "o1 $60.00 vs R1 $2.19 per 1M output tokens: 27.4x",
            "⚠️ overstated",
        ),
    )


async def test_the_rules_printed_are_the_rules_applied(services: Services) -> None:
    reply = await dispatch(make_request("/factcheck"), services)

    assert (
        '"accurate" if the claim is the data rounded to as many decimals as the claim gives;'
        ' "close" if it is not, but within 5% of the data;'
    ) in reply.plain_text()
    assert "fair" not in reply.plain_text()


async def test_the_chinese_factcheck_quotes_the_article_in_its_own_words(
    services: Services,
) -> None:
    rows = await rows_of(services, "zh")

    assert len(rows) == len(CLAIMS)
    assert rows[0] == (
        "美国三大股指开盘后大幅下跌，Meta等主要科技股遭遇重挫",
        "收盘 META +1.91%；开盘价 626.61（较1月24日 -3.22%）",
        "❌ 按收盘价错误（开盘时下跌了3.2%）",
    )
    assert rows[1] == ("英伟达股价暴跌17%", "NVDA -16.97%", "✅ 准确")
    assert rows[5][1] == "GOOGL -4.20%、GOOG -4.03%"
    assert rows[7][2] == "✅ 接近（相差5%以内）"
    assert rows[-2][0] == "就昨天一天，美国股市亏损了1万亿美元"
    assert rows[-2][2] == "❔ 无法核对"


@pytest.mark.parametrize(
    ("claimed", "actual", "verdict"),
    [
        (-17, -16.97, "accurate"),
        (-6, -5.75, "accurate"),
        (-6, -5.5, "accurate"),  # half away from zero
        (-6, -5.49, "overstated"),
        (-21, -21.52, "close"),
        (-1.5, -1.46, "accurate"),
        (0.7, 0.65, "accurate"),
        (0.7, 0.64, "overstated"),
        (-3, -2.14, "overstated"),
        (-10, -14.0, "understated"),
        (-2, 1.91, "wrong"),
        (600, 589, "close"),
        (30, 27.4, "overstated"),
        (-612, -612.47, "accurate"),
    ],
)
def test_verdicts_follow_the_stated_rule(claimed: float, actual: float, verdict: str) -> None:
    assert _compare(claimed, actual) == verdict


def test_the_claims_precision_is_the_decimals_it_was_given() -> None:
    assert [decimals(value) for value in (17, -17.0, 1.5, -0.7, 612)] == [0, 0, 1, 1, 0]
