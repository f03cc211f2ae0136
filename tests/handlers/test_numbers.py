"""Large numbers in each language's own units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.numbers import compact


@pytest.mark.parametrize(
    ("value", "english", "chinese"),
    [
        (589e9, "589B", "5890亿"),
        (Decimal("5576000"), "5.576M", "557.6万"),
        (2_788_000, "2.788M", "278.8万"),
        (78_000_000, "78M", "7800万"),
        (100_000_000, "100M", "1亿"),
        (1234, "1.234K", "1234"),
        (0.5, "0.5", "0.5"),
    ],
)
def test_numbers_use_the_languages_units(value: float, english: str, chinese: str) -> None:
    assert compact("en", value) == english
    assert compact("zh", value) == chinese
