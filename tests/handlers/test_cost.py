"""/cost: training facts, the price table and the bill calculator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.dispatch import dispatch
from handlers import cost
from handlers.arguments import parse_text
from handlers.cost import Volumes, bill, model_prices, usd
from handlers.model import Services, Table, UserError
from storage.facts import Facts
from tests.conftest import make_request


def parse_volumes(typed: str) -> Volumes:
    """What /cost reads from `typed`: its declared parameters, then the bill's volumes."""
    return cost.volumes(parse_text(cost.COMMAND, typed).values)


def bills_by_model(table: Table) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in table.rows]


async def test_one_million_in_and_out_lists_r1_at_2_74_and_o1_at_75_cheapest_first(
    services: Services,
) -> None:
    reply = await dispatch(make_request("/cost 1M in 1M out"), services)

    table = next(part for part in reply.parts if isinstance(part, Table))
    rows = bills_by_model(table)
    assert ("R1", "$2.74") in rows
    assert ("o1", "$75.00") in rows
    amounts = [Decimal(bill.replace("$", "").replace(",", "")) for _, bill in rows]
    assert amounts == sorted(amounts)
    assert "Cheapest: DeepSeek-V3 (Jan 2025 promo) at $0.42" in reply.plain_text()


async def test_cache_hits_lower_the_r1_bill(services: Services) -> None:
    reply = await dispatch(make_request("/cost 1M in 1M out cache 100%"), services)

    rows = dict(bills_by_model(next(p for p in reply.parts if isinstance(p, Table))))
    assert rows["R1"] == "$2.33"  # 0.14 + 2.19
    assert rows["o1"] == "$67.50"  # 7.50 + 60


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2M in 500k out", Volumes(Decimal(2_000_000), Decimal(500_000), Decimal(0))),
        ("in 2M out 500k", Volumes(Decimal(2_000_000), Decimal(500_000), Decimal(0))),
        ("1,500 input 10 output", Volumes(Decimal(1500), Decimal(10), Decimal(0))),
        ("１M in", Volumes(Decimal(1_000_000), Decimal(0), Decimal(0))),
        ("1B out cache 30%", Volumes(Decimal(0), Decimal(1_000_000_000), Decimal("0.3"))),
        ("1万 输入 2万 输出", Volumes(Decimal(10_000), Decimal(20_000), Decimal(0))),
    ],
)
def test_volumes_are_read_in_either_order_with_units(typed: str, expected: Volumes) -> None:
    assert parse_volumes(typed) == expected


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("-5M in", "cost.negative"),
        ("0 in 0 out", "cost.zero_volumes"),
        ("NaN in", "cost.bad_number"),
        ("inf out", "cost.bad_number"),
        ("1e309 in", "cost.too_large"),
        ("1000000000000000000000000000000 in", "cost.too_large"),
        ("2M in 1M out cache 150%", "cost.bad_cache_share"),
        ("lots in", "cost.bad_number"),
        ("2M", "cost.bad_volumes"),
        ("2M in 3M in", "cost.bad_volumes"),
        ("' OR 1=1 --", "cost.bad_volumes"),
        ("1,5M in", "cost.bad_number"),
        ("12,34 in", "cost.bad_number"),
        ("0.4 in 0.4 out", "cost.zero_volumes"),
        ("1e-9 in", "cost.zero_volumes"),
    ],
)
def test_impossible_volumes_are_refused_with_a_specific_error(typed: str, key: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_volumes(typed)
    assert raised.value.key == key


async def test_a_bad_amount_gets_an_example_in_chinese(services: Services) -> None:
    reply = await dispatch(make_request("/cost -1 in", locale="zh-CN"), services)

    assert reply.is_error
    assert "不能为负数" in reply.plain_text()
    assert "/cost 2M in 500k out" in reply.plain_text()


async def test_no_argument_explains_training_and_lists_prices(services: Services) -> None:
    reply = await dispatch(make_request("/cost"), services)
    shown = reply.plain_text()

    assert "2.788M H800 GPU hours × $2/hour" in shown
    assert "= $5.576M." in shown
    assert "excludes prior research and ablation" in shown
    assert "$78M" in shown and "over $100M" in shown
    assert "27.4x" in shown and "30x" in shown
    assert "https://api-docs.deepseek.com/quick_start/pricing-details-usd" in shown


def test_the_price_ratio_comes_from_the_dataset(facts: Facts) -> None:
    prices = {price.key: price for price in model_prices(facts)}
    assert prices["o1"].output / prices["r1"].output == Decimal(60) / Decimal("2.19")
    only_output = Volumes(Decimal(0), Decimal(1_000_000), Decimal(0))
    assert usd(bill(prices["o1"], only_output) / bill(prices["r1"], only_output)) == "$27.40"


def test_tiny_bills_say_less_than_a_cent() -> None:
    assert usd(Decimal("0.0001")) == "< $0.01"
    assert usd(Decimal("1234567.891")) == "$1,234,567.89"


def test_fractions_of_a_token_are_rounded_to_whole_tokens() -> None:
    assert parse_volumes("1e-9 in 1.6 out") == Volumes(Decimal(0), Decimal(2), Decimal(0))


async def test_a_fractional_cache_share_is_shown_as_typed(services: Services) -> None:
    reply = await dispatch(make_request("/cost 1M in cache 30.5%"), services)

    assert "(30.5% cache hits)" in reply.plain_text()


async def test_chinese_training_figures_use_chinese_units(services: Services) -> None:
    shown = (await dispatch(make_request("/cost training", locale="zh"), services)).plain_text()

    assert "278.8万 H800 GPU 小时 × 每小时 2 美元" in shown
    assert "= 557.6万美元" in shown
    assert "约 7800万美元算力" in shown


async def test_sources_name_the_paper_and_the_vendors_pages_first(services: Services) -> None:
    shown = (await dispatch(make_request("/cost"), services)).plain_text()

    assert "Sources: arXiv:2412.19437" in shown
    assert "Sources: https://api-docs.deepseek.com/quick_start/pricing-details-usd" in shown
    assert "CALISTA-INDUSTRY" not in shown
