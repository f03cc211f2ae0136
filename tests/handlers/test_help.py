"""/start, /help and /about."""

from __future__ import annotations

from bot.dispatch import dispatch
from handlers.model import Services
from handlers.registry import REGISTRY
from tests.conftest import make_request


async def test_help_lists_every_registered_command_with_an_example(services: Services) -> None:
    shown = (await dispatch(make_request("/help"), services)).plain_text()

    for command in REGISTRY.commands:
        assert f"/{command.name} — " in shown


async def test_help_answers_in_chinese_for_a_chinese_locale(services: Services) -> None:
    shown = (await dispatch(make_request("/help", locale="zh-TW"), services)).plain_text()

    assert "所有命令及示例" in shown


async def test_start_greets_and_lists_the_commands(services: Services) -> None:
    reply = await dispatch(make_request("/start"), services)

    assert reply.title.startswith("Hello")
    assert "/cost — " in reply.plain_text()


async def test_about_states_the_computed_moves_with_sources(services: Services) -> None:
    shown = (await dispatch(make_request("/about"), services)).plain_text()

    assert "$118.42, down from $142.62 (-16.97%)" in shown
    assert "about $589B" in shown and "about $593B" in shown
    assert "$5.576M of GPU time" in shown
    assert "Vistra -28.27%" in shown
    assert "arXiv:2412.19437" in shown


async def test_about_in_chinese_converts_billions_to_yi(services: Services) -> None:
    shown = (await dispatch(make_request("/about", locale="zh"), services)).plain_text()

    assert "市值蒸发约5890亿美元（路透/LSEG：约5930亿美元）" in shown
    assert "557.6万美元" in shown


async def test_help_states_the_market_value_lost_from_the_dataset(services: Services) -> None:
    english = (await dispatch(make_request("/help"), services)).plain_text()
    chinese = (await dispatch(make_request("/help", locale="zh"), services)).plain_text()

    assert "about $589B of market value" in english
    assert "市值蒸发约5890亿美元" in chinese
