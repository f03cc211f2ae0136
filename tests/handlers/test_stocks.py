"""`/stocks` through dispatch: the sell-off table, one ticker since the event, and charts."""

from __future__ import annotations

import dataclasses
import time
from datetime import date
from pathlib import Path

import pytest

import handlers.stock_chart
import handlers.stocks
from bot.dispatch import dispatch
from handlers.model import Reply, Services, Table
from handlers.stocks import BEFORE, SELLOFF, read_tickers
from storage.facts import Facts
from storage.market import MarketData
from storage.yahoo import reset_yfinance_state
from tests.conftest import NOW, make_request
from tests.fakes.yahoo import (
    Bar,
    Clock,
    FakeYahoo,
    free_port,
    proxied_session,
)

RECENT = {
    "AAPL": [
        Bar(date(2025, 1, 24), 222.78),
        Bar(date(2025, 1, 27), 229.86),
        Bar(date(2026, 11, 27), 252.0),
    ],
    "NVDA": [Bar(date(2026, 11, 25), 175.0), Bar(date(2026, 11, 27), 180.0)],
    "MSFT": [Bar(date(2026, 11, 25), 440.0), Bar(date(2026, 11, 27), 450.0)],
}


@pytest.fixture
def recent_bars() -> dict[str, list[Bar]]:
    return RECENT


def with_yahoo(services: Services, proxy_url: str, cache_dir: Path) -> Services:
    market = MarketData(
        services.facts,
        services.market_cache,
        clock=Clock(NOW),
        cache_dir=cache_dir,
        session_factory=lambda: proxied_session(proxy_url),
    )
    return dataclasses.replace(services, market=market)


async def ask(services: Services, line: str, lang: str = "en") -> Reply:
    return await dispatch(make_request(line, locale=lang), services)


def table_of(reply: Reply) -> Table:
    return next(part for part in reply.parts if isinstance(part, Table))


async def test_the_selloff_table_shows_nvidia_and_meta_computed_from_the_dataset(
    services: Services,
) -> None:
    reply = await ask(services, "/stocks")

    text = reply.plain_text()
    assert "142.62 -> 118.42 (-16.97%)" in text
    assert "about $589B of market value lost (Reuters/LSEG: about $593B)" in text
    table = table_of(reply).rows
    rows = {row[0]: (row, table[index + 1]) for index, row in enumerate(table) if row[0]}
    assert rows["NVDA"] == (("NVDA", "Nvidia", "-16.97%"), ("", "142.62→118.42", "-24.20"))
    assert rows["META"][0][-1] == "+1.91%"
    assert rows["^IXIC"][1] == ("", "19,954.30→19,341.83", "-612.47")


async def test_the_selloff_table_lists_every_named_ticker_and_index_worst_first(
    services: Services,
) -> None:
    rows = [row for row in table_of(await ask(services, "/stocks")).rows if row[0]]

    assert {row[0] for row in rows} == {*SELLOFF, "^IXIC", "^GSPC", "^DJI"}
    changes = [float(row[-1].rstrip("%")) for row in rows]
    assert changes == sorted(changes)
    assert rows[0][0] == "VST"


async def test_the_selloff_table_speaks_chinese(services: Services) -> None:
    reply = await ask(services, "/stocks", lang="zh-CN")

    text = reply.plain_text()
    assert "英伟达" in text and "142.62 -> 118.42（-16.97%）" in text
    assert "+1.91%" in text
    assert table_of(reply).headers[0] == "代码"


async def test_one_ticker_offline_shows_the_event_and_the_latest_snapshot_close(
    services: Services,
) -> None:
    reply = await ask(services, "/stocks $nvda")

    table = table_of(reply)
    assert table.headers == ("NVDA", "Change", "Price")
    # 7 Feb 2025 close 129.84 against the 27 Jan close 118.42.
    assert table.rows == (
        ("24 Jan", "", "142.62"),
        ("27 Jan", "-16.97%", "118.42"),
        ("Latest", "+9.64%", "129.84"),
    )
    assert "switched off" in reply.plain_text()


async def test_one_ticker_with_live_yahoo_compares_todays_price_with_the_event_close(
    services: Services, fake_yahoo: FakeYahoo, yf_cache_dir: Path
) -> None:
    live = with_yahoo(services, fake_yahoo.proxy_url, yf_cache_dir)

    reply = await ask(live, "/stocks NVDA")

    assert table_of(reply).rows[-1] == ("Latest", "+52.00%", "180.00")
    assert "live from Yahoo Finance" in reply.plain_text()
    live.market.close()


async def test_a_ticker_outside_the_dataset_gets_its_event_move_from_yahoo(
    services: Services, fake_yahoo: FakeYahoo, yf_cache_dir: Path
) -> None:
    live = with_yahoo(services, fake_yahoo.proxy_url, yf_cache_dir)

    reply = await ask(live, "/stocks aapl")

    table = table_of(reply)
    assert table.headers[0] == "AAPL"
    assert table.rows == (
        ("24 Jan", "", "222.78"),
        ("27 Jan", "+3.18%", "229.86"),
        ("Latest", "+9.63%", "252.00"),
    )
    assert "not in the bot's dataset" in reply.plain_text()
    live.market.close()


async def test_with_yahoo_unreachable_one_ticker_answers_within_3_s_from_the_snapshot(
    services: Services, yf_cache_dir: Path
) -> None:
    reset_yfinance_state()
    down = with_yahoo(services, f"http://127.0.0.1:{free_port()}", yf_cache_dir)
    started = time.monotonic()

    reply = await ask(down, "/stocks NVDA", lang="zh")

    assert time.monotonic() - started < 3
    assert not reply.is_error
    assert "目前无法连接雅虎财经" in reply.plain_text()
    assert table_of(reply).rows[-1][2] == "129.84"
    down.market.close()
    reset_yfinance_state()


async def test_an_unknown_ticker_says_yahoo_has_no_such_symbol(
    services: Services, fake_yahoo: FakeYahoo, yf_cache_dir: Path
) -> None:
    live = with_yahoo(services, fake_yahoo.proxy_url, yf_cache_dir)

    reply = await ask(live, "/stocks ZZZZQ")

    assert reply.is_error
    assert "Yahoo Finance has no ticker ZZZZQ" in reply.plain_text()
    live.market.close()


@pytest.mark.parametrize(
    "line",
    [
        "/stocks @everyone",
        "/stocks '; DROP TABLE market_latest;--",
        "/stocks <b>NVDA</b>",
        "/stocks " + "X" * 5000,
        "/stocks 英伟达",
        "/stocks ../etc/passwd",
    ],
)
async def test_a_bad_ticker_gets_a_catalogued_reply(services: Services, line: str) -> None:
    reply = await ask(services, line)

    assert reply.is_error
    assert "is not a ticker symbol" in reply.plain_text()
    assert len(reply.plain_text()) < 300


async def test_too_many_tickers_are_refused_before_any_fetch(services: Services) -> None:
    reply = await ask(services, "/stocks " + " ".join(f"T{n}" for n in range(20)))

    assert reply.is_error
    assert "at most" in reply.plain_text()


def test_tickers_may_be_separated_by_commas_and_repeat() -> None:
    assert read_tickers("nvda,msft $NVDA ^gspc") == ("NVDA", "MSFT", "^GSPC")


async def test_the_chart_is_a_png_of_the_event_window_with_localized_alt_text(
    services: Services,
) -> None:
    reply = await ask(services, "/stocks chart nvda msft", lang="zh")

    assert len(reply.images) == 1
    image = reply.images[0]
    assert image.png.startswith(b"\x89PNG")
    assert "NVDA MSFT" in image.alt and "折线图" in image.alt
    assert "没有实时数据" in reply.plain_text()


async def test_an_identical_chart_comes_from_the_cache(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await ask(services, "/stocks chart NVDA AVGO")
    drawn: list[object] = []
    monkeypatch.setattr(handlers.stock_chart, "draw", lambda *a, **k: drawn.append(a) or b"")

    second = await ask(services, "/stocks chart nvda avgo")
    assert drawn == []
    assert second.images[0].png == first.images[0].png

    # The chart's words are in the reader's language: Chinese is drawn once, on its own.
    await ask(services, "/stocks chart NVDA AVGO", lang="zh")
    assert len(drawn) == 1


async def test_with_live_data_a_second_chart_runs_from_the_event_to_today(
    services: Services, fake_yahoo: FakeYahoo, yf_cache_dir: Path
) -> None:
    live = with_yahoo(services, fake_yahoo.proxy_url, yf_cache_dir)

    reply = await ask(live, "/stocks chart NVDA MSFT")

    assert [image.filename for image in reply.images] == [
        "stocks-2025-01.png",
        "stocks-since-2025-01-27.png",
    ]
    assert all(image.png.startswith(b"\x89PNG") for image in reply.images)
    assert "27 Nov 2026" in reply.plain_text()
    live.market.close()


async def test_a_chart_of_a_ticker_nobody_has_data_for_says_so(services: Services) -> None:
    reply = await ask(services, "/stocks chart AAPL")

    assert reply.is_error
    assert "No price for AAPL" in reply.plain_text()
    assert "Yahoo Finance" not in reply.plain_text()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            "No price for AAPL: live prices are switched off on this bot, and AAPL is not in"
            " the embedded snapshot (13 Jan 2025 to 7 Feb 2025).",
        ),
        (
            "zh",
            "没有 AAPL 的价格：本机器人已关闭实时行情，"
            "且 AAPL 不在内置快照中（2025年1月13日至2025年2月7日）。",
        ),
    ],
)
async def test_offline_a_ticker_outside_the_snapshot_is_an_error_not_a_row_of_dashes(
    services: Services, lang: str, expected: str
) -> None:
    # The fixture's market is offline.
    reply = await ask(services, "/stocks AAPL", lang)

    assert reply.is_error
    assert reply.plain_text().strip() == expected
    assert not any(isinstance(part, Table) for part in reply.parts)


def test_the_event_day_move_is_computed_from_the_closes(facts: Facts) -> None:
    move = facts.day_move("NVDA")

    assert move is not None
    assert (move.before, move.after) == (facts.closes("NVDA")[BEFORE], 118.42)
    assert round(move.pct, 2) == -16.97


async def test_the_chinese_selloff_gives_the_market_value_in_yi(services: Services) -> None:
    reply = await ask(services, "/stocks", "zh")

    assert "市值蒸发约5890亿美元（路透/LSEG 数据约5930亿美元）" in reply.plain_text()


async def test_the_source_line_names_the_closes_that_have_one_source_only(
    services: Services,
) -> None:
    english = (await ask(services, "/stocks")).plain_text()
    chinese = (await ask(services, "/stocks", "zh")).plain_text()

    # market_2025-01.csv: ASML, TSM and VST have cross_checked=no on 24 and 27 Jan.
    assert "cross-checked against a second public copy except ASML, TSM, VST (one source" in english
    assert "two public price files, cross-checked" not in english
    assert "除 ASML、TSM、VST 外（仅有一个来源）" in chinese


def test_the_source_line_follows_the_cross_checked_column(facts: Facts) -> None:
    def marked(ticker: str | None, status: str) -> Facts:
        bars = tuple(
            dataclasses.replace(bar, cross_checked=status)
            if ticker is None or bar.ticker == ticker
            else bar
            for bar in facts.bars
        )
        return dataclasses.replace(facts, bars=bars)

    all_checked = handlers.stocks.selloff("en", marked(None, "close_only")).plain_text()
    gspc_single = handlers.stocks.selloff("en", marked("^GSPC", "no")).plain_text()

    assert "Each close was cross-checked against a second public copy." in all_checked
    assert "except" not in all_checked
    assert "except ASML, TSM, VST, ^GSPC (one source only)" in gspc_single


def test_the_event_dates_are_the_datasets_own(facts: Facts) -> None:
    assert (date(2025, 1, 24), date(2025, 1, 27)) == (Facts.BEFORE_DAY, Facts.EVENT_DAY)
    assert (handlers.stocks.BEFORE, handlers.stocks.EVENT) == (Facts.BEFORE_DAY, Facts.EVENT_DAY)
    assert facts.day_move("AAPL") is None


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        (
            "en",
            "NVDA: live prices are switched off on this bot; this is the latest close in the"
            " embedded snapshot (7 Feb 2025, about 22 months ago).",
        ),
        (
            "zh",
            "NVDA：本机器人已关闭实时行情；"
            "这是内置快照中最新的收盘价（2025年2月7日，约 22 个月前）。",
        ),
    ],
)
async def test_a_snapshot_price_says_how_old_it_is(
    services: Services, lang: str, said: str
) -> None:
    # The fixture's clock is 30 Nov 2026: 661 days after the 7 Feb 2025 close.
    reply = await ask(services, "/stocks NVDA", lang=lang)

    assert said in reply.parts


async def test_an_invisible_joiner_inside_a_ticker_is_ignored(services: Services) -> None:
    reply = await ask(services, "/stocks NV\u200dDA")

    assert not reply.is_error
    assert table_of(reply).headers[0] == "NVDA"


SOURCES_EN = (
    "Source: the bot's embedded dataset of daily closes, computed here, not copied; the closes "
    "come from these public copies: sheep-farm/assets-data, magiccpp/price_data, "
    "mahathirumalathi97-web/Cross-Market-Analysis, CIInc/robinhood-options-mobile, "
    "whitea27/ISA444app, stevenmichiels/stevenmichiels.github.io, Reuters (quoted by "
    "Investing.com)."
)
SOURCES_ZH = (
    "出处：机器人内置的每日收盘价数据集，数字均由此计算，而非照抄；收盘价来自以下公开副本："
    "sheep-farm/assets-data、magiccpp/price_data、mahathirumalathi97-web/Cross-Market-Analysis、"
    "CIInc/robinhood-options-mobile、whitea27/ISA444app、stevenmichiels/stevenmichiels.github.io、"
    "路透社（经 Investing.com 转引）。"
)


async def test_the_selloff_table_names_the_public_copies_its_closes_come_from(
    services: Services,
) -> None:
    english = await dispatch(make_request("/stocks"), services)
    chinese = await dispatch(make_request("/stocks", locale="zh"), services)

    assert SOURCES_EN in english.parts
    assert SOURCES_ZH in chinese.parts
