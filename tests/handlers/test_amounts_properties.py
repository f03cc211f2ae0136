"""Properties of the amount and volume parsers over generated input."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import cost
from handlers.amounts import parse_amount, parse_percent
from handlers.arguments import parse_text
from handlers.cost import Volumes
from handlers.model import UserError


def parse_volumes(typed: str) -> Volumes:
    """What /cost reads from `typed`: its declared parameters, then the bill's volumes."""
    return cost.volumes(parse_text(cost.COMMAND, typed).values)


@given(st.text(max_size=60))
@settings(max_examples=500, deadline=None)
def test_parse_amount_returns_a_finite_number_or_none_for_any_text(raw: str) -> None:
    value = parse_amount(raw)

    assert value is None or value.is_finite()


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_parse_percent_returns_a_finite_number_or_none_for_any_text(raw: str) -> None:
    value = parse_percent(raw)

    assert value is None or value.is_finite()


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["", "k", "M", "B"]))
def test_a_written_amount_reads_back_as_its_value(number: int, suffix: str) -> None:
    scale = {"": 1, "k": 10**3, "M": 10**6, "B": 10**9}[suffix]

    assert parse_amount(f"{number:,}{suffix}") == Decimal(number) * scale


@given(st.text(max_size=80))
@settings(max_examples=500, deadline=None)
def test_parse_volumes_either_reads_sane_volumes_or_raises_a_user_error(raw: str) -> None:
    try:
        volumes = parse_volumes(raw)
    except UserError:
        return
    assert volumes.input_tokens >= 0 and volumes.output_tokens >= 0
    assert volumes.input_tokens + volumes.output_tokens > 0
    assert volumes.input_tokens <= Decimal(10) ** 15 and volumes.output_tokens <= Decimal(10) ** 15
    assert 0 <= volumes.cache_share <= 1
