"""Every command's reply reads on a phone: no monospace line wider than 36 columns.

Phone apps show about 36 monospace columns across in portrait. The replies go through the
platforms' real renderers, and the width is measured with wcwidth (a Chinese character takes
two columns) on every line inside Telegram's <pre>/<code> blocks and Discord's code blocks.
"""

from __future__ import annotations

import html
import re

import pytest

from bot.discord.render import render
from bot.dispatch import dispatch
from bot.telegram.render import render_html
from handlers.model import Reply, Services
from handlers.recap import render_recap
from storage.trading_calendar import TradingCalendar
from tests.conftest import make_request
from tests.handlers.test_recap import NEW_YORK, CannedMarket, calendar, monday_recap

__all__ = ["calendar"]  # the fixture, shared with the recap tests
from tests.monospace import columns

PHONE_COLUMNS = 36

COMMANDS = (
    "/start",
    "/help",
    "/about",
    "/stocks",
    "/stocks NVDA",
    "/stocks NVDA AVGO TSM ^IXIC ^GSPC",
    "/stocks chart",
    "/cost",
    "/cost training",
    "/cost prices",
    "/cost 2M in 500k out",
    "/cost 2M in 500k out cache 30%",
    "/cost 999999999999 in 999999999999 out",
    "/factcheck",
    "/outages",
    "/outages Asia/Shanghai",
    "/outages America/New_York",
    "/settings",
    "/settings tz Asia/Tokyo",
    "/recap",
    "/recap on 08:00 Asia/Shanghai",
    "/recap status",
    "/recap now",
    "/poll",
    "/poll 1",
    "/poll vote 1",
    "/poll results",
    "/poll list",
    "/poll new Which model do you use most for writing code these days? | DeepSeek-R1"
    " the reasoning one | OpenAI o1 | Claude | 其他的模型，请在群里说说是哪一个",
)

_PRE = re.compile(r"<(pre|code)>(.*?)</\1>", re.DOTALL)
_FENCE = re.compile(r"```\n?(.*?)```", re.DOTALL)


def telegram_blocks(reply: Reply) -> list[str]:
    blocks: list[str] = []
    for piece in render_html(reply):
        blocks.extend(html.unescape(body) for _, body in _PRE.findall(piece))
    return blocks


def discord_blocks(reply: Reply, lang: str) -> list[str]:
    blocks: list[str] = []
    for message in render(reply, lang):  # type: ignore[arg-type]
        for embed in message.embeds:
            texts = [embed.description or ""] + [field.value or "" for field in embed.fields]
            for body in texts:
                blocks.extend(_FENCE.findall(body))
    return blocks


def too_wide(blocks: list[str]) -> list[tuple[int, str]]:
    return [
        (columns(line), line)
        for block in blocks
        for line in block.split("\n")
        if columns(line) > PHONE_COLUMNS
    ]


async def replies(services: Services, lang: str) -> list[tuple[str, Reply]]:
    answered = []
    for line in COMMANDS:
        reply = await dispatch(make_request(line, locale=lang), services)
        answered.append((line, reply))
    # The new poll now has votes, results and a place in the list.
    for line in ("/poll vote 1", "/poll results", "/poll list", "/poll results 2"):
        answered.append((line, await dispatch(make_request(line, locale=lang), services)))
    return answered


BLOCKS = {
    "telegram": lambda reply, lang: telegram_blocks(reply),
    "discord": discord_blocks,
}


@pytest.mark.parametrize("platform", sorted(BLOCKS))
@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_no_monospace_line_is_wider_than_a_phone(
    services: Services, lang: str, platform: str
) -> None:
    blocks = BLOCKS[platform]
    wide = {
        line: found
        for line, reply in await replies(services, lang)
        if (found := too_wide(blocks(reply, lang)))
    }

    assert wide == {}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_market_recap_table_fits_a_phone_on_both_platforms(
    services: Services, calendar: TradingCalendar, lang: str
) -> None:
    data = await monday_recap(services, calendar, CannedMarket(services))
    reply = render_recap(data, lang, NEW_YORK)  # type: ignore[arg-type]

    assert too_wide(telegram_blocks(reply)) == []
    assert too_wide(discord_blocks(reply, lang)) == []
    assert telegram_blocks(reply), "the recap has its table"


async def test_the_width_check_sees_the_blocks_it_measures(services: Services) -> None:
    reply = await dispatch(make_request("/cost prices"), services)

    assert telegram_blocks(reply) or discord_blocks(reply, "en"), "no monospace block found"
