"""`/cost`: what training and tokens really cost, and a bill calculator for your own volumes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from handlers.amounts import MAX_TOKENS, parse_amount, parse_percent
from handlers.commands import Choice, Command, Form, Param
from handlers.i18n import text
from handlers.model import Lang, Reply, Request, Services, Table, UserError
from handlers.numbers import compact
from storage.facts import Facts

MILLION = Decimal(1_000_000)
CENT = Decimal("0.01")

_URL = re.compile(r"https?://[^\s;,)]+|arXiv:\d{4}\.\d{4,5}")
# A vendor's own pages and the papers come before the copies that quote them.
_PRIMARY = re.compile(r"^arXiv:|^https?://([a-z0-9-]+\.)*(deepseek\.com|openai\.com)/")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens. `cache_hit` is None where no sourced cache price exists."""

    key: str
    input_miss: Decimal
    cache_hit: Decimal | None
    output: Decimal
    fact_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Volumes:
    input_tokens: Decimal
    output_tokens: Decimal
    cache_share: Decimal  # 0..1 of input tokens that hit the cache


def _dec(facts: Facts, fact_id: str, field: str | None = None) -> Decimal:
    return Decimal(str(facts.number(fact_id, field)))


def model_prices(facts: Facts) -> tuple[ModelPrice, ...]:
    """The January 2025 API prices of the models people compare, from the dataset."""
    kept = _PRICES.get(id(facts))
    if kept is not None and kept[0] is facts:
        return kept[1]
    prices = _read_prices(facts)
    _PRICES[id(facts)] = (facts, prices)
    return prices


# A dataset is loaded once and never changes, so what is read from it is kept, keyed by the
# dataset's identity; the dataset is held in the value, so the identity cannot be reused.
_PRICES: dict[int, tuple[Facts, tuple[ModelPrice, ...]]] = {}


# How each vendor's fact names its input and cached-input price fields.
_INPUT_FIELDS = {
    "deepseek": ("input_cache_miss", "input_cache_hit"),
    "openai": ("input", "cached_input"),
}


def _one_fact_price(facts: Facts, key: str, fact_id: str, vendor: str) -> ModelPrice:
    """A model whose input, cached input and output prices are fields of one fact."""
    miss, hit = _INPUT_FIELDS[vendor]
    return ModelPrice(
        key,
        _dec(facts, fact_id, miss),
        _dec(facts, fact_id, hit),
        _dec(facts, fact_id, "output"),
        (fact_id,),
    )


def _read_prices(facts: Facts) -> tuple[ModelPrice, ...]:
    r1 = ("deepseek_reasoner_input_cache_hit", "deepseek_reasoner_input_cache_miss")
    return (
        ModelPrice(
            "r1",
            _dec(facts, r1[1]),
            _dec(facts, r1[0]),
            _dec(facts, "deepseek_reasoner_output"),
            (*r1, "deepseek_reasoner_output"),
        ),
        ModelPrice(
            "v3_promo",
            _dec(facts, "deepseek_chat_v3_promo_price_jan2025", "input_cache_miss"),
            None,
            _dec(facts, "deepseek_chat_v3_promo_price_jan2025", "output"),
            ("deepseek_chat_v3_promo_price_jan2025",),
        ),
        _one_fact_price(facts, "v3_list", "deepseek_chat_v3_list_price", "deepseek"),
        _one_fact_price(facts, "o1", "openai_o1", "openai"),
        _one_fact_price(facts, "gpt4o", "openai_gpt_4o", "openai"),
    )


def bill(price: ModelPrice, volumes: Volumes) -> Decimal:
    """USD for the volumes; cache hits are billed at the miss price where none is known."""
    hit_price = price.cache_hit if price.cache_hit is not None else price.input_miss
    hits = volumes.input_tokens * volumes.cache_share
    misses = volumes.input_tokens - hits
    total = hits * hit_price + misses * price.input_miss + volumes.output_tokens * price.output
    return total / MILLION


def usd(amount: Decimal) -> str:
    """Dollars to the cent, with thousands separators; tiny non-zero bills show as < $0.01."""
    if 0 < amount < CENT:
        return "< $0.01"
    return f"${amount.quantize(CENT, rounding=ROUND_HALF_UP):,}"


def tokens(amount: Decimal) -> str:
    for size, suffix in ((Decimal(10) ** 9, "B"), (MILLION, "M"), (Decimal(1000), "k")):
        if amount >= size:
            scaled = (amount / size).quantize(Decimal("0.01")).normalize()
            return f"{scaled:f}{suffix}"
    return f"{amount.quantize(Decimal(1)):f}"


def read_tokens(typed: str) -> Decimal:
    """A token amount as typed ("2M", "500k", "1,500,000"), whole and within the limit."""
    value = typed.strip()
    amount = parse_amount(value)
    if amount is None:
        raise UserError("cost.bad_number", value=value[:20])
    if amount < 0:
        raise UserError("cost.negative", value=value[:20])
    if amount > MAX_TOKENS:
        raise UserError("cost.too_large", value=value[:20])
    # Tokens are whole: 0.4 tokens bill as none, so "0.4 in 0.4 out" meets the zero check.
    return amount.to_integral_value(rounding=ROUND_HALF_UP)


def read_cache_share(typed: str) -> Decimal:
    """The share of input tokens that hit the cache, "30%" or "30", as 0..1."""
    value = typed.strip()
    share = parse_percent(value)
    if share is None or not 0 <= share <= 100:
        raise UserError("cost.bad_cache_share", value=value[:20])
    return share / 100


def volumes(params: Mapping[str, Decimal]) -> Volumes:
    input_tokens = params.get("input", Decimal(0))
    output_tokens = params.get("output", Decimal(0))
    if input_tokens == 0 and output_tokens == 0:
        raise UserError("cost.zero_volumes")
    return Volumes(input_tokens, output_tokens, params.get("cache", Decimal(0)))


def _plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 5.5760 -> 5.576, 78.0 -> 78."""
    return f"{value.normalize():f}"


def _sources(facts: Facts, fact_ids: tuple[str, ...]) -> str:
    """One address per fact, the vendor's own or the paper where the fact cites one."""
    found: list[str] = []
    for fact_id in fact_ids:
        source = facts.fact(fact_id).source
        if source.startswith("same as "):
            source = facts.fact(source.removeprefix("same as ").strip()).source
        addresses = _URL.findall(source)
        primary = [address for address in addresses if _PRIMARY.search(address)]
        chosen = (primary or addresses)[:1]
        found.extend(address for address in chosen if address not in found)
    return " · ".join(found)


def training(lang: Lang, facts: Facts) -> list[str | Table]:
    hours = _dec(facts, "deepseek_v3_total_gpu_hours")
    rate = _dec(facts, "deepseek_v3_rental_price_assumption")
    computed = hours * rate
    reported = _dec(facts, "deepseek_v3_training_cost")
    if computed != reported:
        raise ValueError(f"dataset disagrees with itself: {hours}M h x ${rate} != ${reported}M")
    gpt4 = _dec(facts, "gpt4_training_compute_cost_ai_index_2024")
    ratio = (gpt4 / computed).quantize(Decimal("0.1"))
    return [
        text(lang, "cost.training_heading"),
        text(
            lang,
            "cost.training_v3",
            hours=compact(lang, hours * MILLION),
            rate=_plain(rate),
            total=compact(lang, computed * MILLION),
        ),
        text(lang, "cost.training_gpt4", cost=compact(lang, gpt4 * MILLION)),
        text(lang, "cost.training_gpt4_wired"),
        text(lang, "cost.training_compare", ratio=f"{ratio:f}"),
        text(
            lang,
            "cost.sources",
            sources=_sources(
                facts,
                (
                    "deepseek_v3_total_gpu_hours",
                    "deepseek_v3_training_cost",
                    "gpt4_training_compute_cost_ai_index_2024",
                    "gpt4_training_cost_wired_2023",
                ),
            ),
        ),
    ]


def legend(lang: Lang, keys: Iterable[str]) -> str:
    """What each short model name in a table stands for: full names do not fit a phone."""
    entries = text(lang, "core.list_separator").join(
        text(
            lang,
            "cost.legend_entry",
            short=text(lang, f"cost.short_{key}"),
            name=text(lang, f"cost.model_{key}"),
        )
        for key in keys
    )
    return text(lang, "cost.legend", entries=entries)


def price_table(lang: Lang, facts: Facts) -> list[str | Table]:
    prices = model_prices(facts)
    rows = tuple(
        (
            text(lang, f"cost.short_{price.key}"),
            usd(price.cache_hit) if price.cache_hit is not None else "—",
            usd(price.input_miss),
            usd(price.output),
        )
        for price in prices
    )
    by_key = {price.key: price for price in prices}
    output_ratio = (by_key["o1"].output / by_key["r1"].output).quantize(Decimal("0.1"))
    input_ratio = (by_key["o1"].input_miss / by_key["r1"].input_miss).quantize(Decimal("0.1"))
    headers = tuple(text(lang, f"cost.col_{name}") for name in ("model", "hit", "miss", "output"))
    return [
        text(lang, "cost.prices_heading"),
        Table(headers, rows, ("l", "r", "r", "r")),
        legend(lang, (price.key for price in prices)),
        text(lang, "cost.columns_note"),
        text(lang, "cost.ratio", output=f"{output_ratio:f}", input=f"{input_ratio:f}"),
        text(lang, "cost.v3_note"),
        text(
            lang,
            "cost.sources",
            sources=_sources(facts, tuple(fid for price in prices for fid in price.fact_ids)),
        ),
    ]


def calculator(lang: Lang, facts: Facts, volumes: Volumes) -> list[str | Table]:
    bills = sorted(
        ((bill(price, volumes), price) for price in model_prices(facts)),
        key=lambda pair: pair[0],
    )
    cheapest_bill, cheapest = bills[0]
    rows = []
    for amount, price in bills:
        times = "—" if cheapest_bill == 0 else f"{(amount / cheapest_bill).quantize(CENT):f}x"
        rows.append((text(lang, f"cost.short_{price.key}"), usd(amount), times))
    headers = tuple(text(lang, f"cost.col_{name}") for name in ("model", "bill", "times"))
    share = (volumes.cache_share * 100).quantize(Decimal("0.1")).normalize()
    parts: list[str | Table] = [
        text(
            lang,
            "cost.calc_heading",
            input=tokens(volumes.input_tokens),
            output=tokens(volumes.output_tokens),
            share=f"{share:f}",
        ),
        Table(headers, tuple(rows), ("l", "r", "r")),
        legend(lang, (price.key for _, price in bills)),
        text(lang, "cost.times_note"),
        text(
            lang,
            "cost.calc_cheapest",
            model=text(lang, f"cost.model_{cheapest.key}"),
            bill=usd(cheapest_bill),
            priciest=text(lang, f"cost.model_{bills[-1][1].key}"),
            ratio=f"{(bills[-1][0] / cheapest_bill).quantize(Decimal('0.1')):f}"
            if cheapest_bill
            else "—",
        ),
    ]
    if volumes.cache_share > 0:
        parts.append(text(lang, "cost.calc_v3_cache_note"))
    parts.append(text(lang, "cost.calc_prices_note"))
    return parts


async def cost(request: Request, services: Services) -> Reply:
    """`/cost` · `/cost training` · `/cost prices` · `/cost 2M in 500k out cache 30%`."""
    lang, facts, params = request.lang, services.facts, request.params
    topic = params.get("topic")
    if any(name in params for name in VOLUMES):
        if topic is not None:
            raise UserError("cost.bad_volumes", text=request.text[:60])
        parts = calculator(lang, facts, volumes(params))
        return Reply(title=text(lang, "cost.title"), parts=tuple(parts))
    return _topic_reply(lang, facts, topic)


# The topics' answers depend on the dataset and the language only: each is worked out on
# first use and kept, like the prices (a bare /cost is the most asked command, and its tables
# were most of its time).
_TOPIC_REPLIES: dict[tuple[int, Lang, str | None], tuple[Facts, Reply]] = {}


def _topic_reply(lang: Lang, facts: Facts, topic: str | None) -> Reply:
    key = (id(facts), lang, topic)
    kept = _TOPIC_REPLIES.get(key)
    if kept is not None and kept[0] is facts:
        return kept[1]
    if topic == "training":
        parts = training(lang, facts)
    elif topic == "prices":
        parts = price_table(lang, facts)
    else:
        parts = training(lang, facts) + price_table(lang, facts)
    reply = Reply(title=text(lang, "cost.title"), parts=tuple(parts))
    _TOPIC_REPLIES[key] = (facts, reply)
    return reply


VOLUMES = ("input", "output", "cache")


def _tokens(name: str, keywords: tuple[str, ...]) -> Param:
    """A token amount typed next to one of its keywords: "2M in", "out 500k"."""
    return Param(name, "amount", f"discord.opt_{name}", keywords=keywords, read=read_tokens)


COMMAND = Command(
    "cost",
    "cost.summary",
    misuse="cost.bad_volumes",
    forms=(
        Form(
            "show",
            cost,
            "cost.usage",
            params=(
                Param(
                    "topic",
                    "choice",
                    "cost.opt_topic",
                    choices=(
                        Choice("training", "cost.topic_training", ("train", "训练")),
                        Choice("prices", "cost.topic_prices", ("price", "api", "价格")),
                    ),
                ),
                _tokens("input", ("in", "input", "inputs", "输入")),
                _tokens("output", ("out", "output", "outputs", "输出")),
                Param(
                    "cache",
                    "percent",
                    "discord.opt_cache",
                    keywords=("cache", "cached", "hit", "hits", "缓存", "命中"),
                    read=read_cache_share,
                ),
            ),
        ),
    ),
)
