"""The embedded dataset loads, is sourced, and a malformed file fails loudly."""

from __future__ import annotations

import json
from datetime import date

import pytest

from storage.facts import DatasetError, Facts, parse_facts, parse_outages, parse_prices

HEADER = "date,ticker,open,high,low,close,adj_close,volume,source,cross_checked\n"


def test_the_dataset_has_13_tickers_and_the_event_closes(facts: Facts) -> None:
    assert len(facts.tickers()) == 13
    assert facts.closes("NVDA")[date(2025, 1, 24)] == 142.62
    assert facts.closes("NVDA")[date(2025, 1, 27)] == 118.42
    assert date(2025, 1, 20) not in facts.closes("NVDA")  # Martin Luther King Jr. Day


def test_every_fact_names_its_source(facts: Facts) -> None:
    assert all(fact.source.strip() for fact in facts.facts.values())
    assert all(bar.source for bar in facts.bars)


def test_the_outage_timeline_is_in_beijing_time(facts: Facts) -> None:
    first = facts.outages.incidents[0]
    assert first.start.isoformat() == "2025-01-27T10:55:00+08:00"
    assert facts.outages.incidents[-1].end is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("2025-01-27,NVDA,1,1,1,,1,1,src,yes\n", "close price is required"),
        ("2025-13-01,NVDA,1,1,1,1,1,1,src,yes\n", "not YYYY-MM-DD"),
        ("2025-01-27,NVDA,1,1,1,abc,1,1,src,yes\n", "is not a number"),
        ("2025-01-27,NVDA,1,1,1,nan,1,1,src,yes\n", "finite"),
        ("2025-01-27,NVDA,1,1,1,1,1,1,s,y\n2025-01-27,NVDA,1,1,1,1,1,1,s,y\n", "appears twice"),
        ("", "no rows"),
    ],
)
def test_a_malformed_price_file_is_refused_with_the_line(rows: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        parse_prices(HEADER + rows)


def test_a_price_file_missing_a_column_is_refused() -> None:
    with pytest.raises(DatasetError, match="missing columns"):
        parse_prices("date,ticker\n2025-01-27,NVDA\n")


def test_facts_without_a_source_are_refused() -> None:
    document = {
        section: [] for section in ("pricing", "training_cost", "outages", "market_summary")
    }
    document["pricing"] = [{"id": "x", "value": 1, "unit": "u", "as_of": "d", "source": " "}]
    with pytest.raises(DatasetError, match="no source"):
        parse_facts(json.dumps(document))


def test_facts_that_are_not_json_are_refused() -> None:
    with pytest.raises(DatasetError, match="not valid JSON"):
        parse_facts("{")


def test_an_incident_ending_before_it_starts_is_refused() -> None:
    document = {
        "_meta": {"source": "s", "timezone": "Asia/Shanghai"},
        "incidents": [
            {
                "id": "x",
                "kind": "k",
                "start": "2025-01-27T10:00",
                "end": "2025-01-27T09:00",
                "milestones": [],
            }
        ],
    }
    with pytest.raises(DatasetError, match="ends before it starts"):
        parse_outages(json.dumps(document))
