"""The one text form of an instant in storage: UTC ISO 8601, read back as the same instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage.timestamps import from_db, to_db

SHANGHAI = timezone(timedelta(hours=8))


def test_an_instant_is_written_in_utc_with_an_explicit_offset() -> None:
    assert to_db(datetime(2025, 1, 27, 22, 30, tzinfo=SHANGHAI)) == "2025-01-27T14:30:00+00:00"
    assert to_db(datetime(2025, 1, 27, 14, 30, 0, 250000, UTC)) == (
        "2025-01-27T14:30:00.250000+00:00"
    )


def test_what_was_written_reads_back_as_the_same_instant_in_utc() -> None:
    moment = datetime(2025, 1, 27, 9, 30, 0, 123456, tzinfo=SHANGHAI)

    back = from_db(to_db(moment))

    assert back == moment and back.tzinfo == UTC


def test_texts_written_before_the_one_format_still_read() -> None:
    # Polls wrote whole seconds; the market cache wrote whatever zone it was handed.
    assert from_db("2025-01-27T00:00:00+00:00") == datetime(2025, 1, 27, tzinfo=UTC)
    assert from_db("2025-01-27T16:00:00-05:00") == datetime(2025, 1, 27, 21, 0, tzinfo=UTC)


def test_text_order_is_time_order_across_whole_seconds_and_fractions() -> None:
    texts = [
        "2025-01-27T14:30:00+00:00",
        to_db(datetime(2025, 1, 27, 14, 30, 0, 1, UTC)),
        to_db(datetime(2025, 1, 27, 14, 30, 0, 999999, UTC)),
        "2025-01-27T14:30:01+00:00",
    ]

    assert sorted(texts) == texts


def test_a_naive_time_is_refused_rather_than_read_as_local_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_db(datetime(2025, 1, 27, 14, 30))
    with pytest.raises(ValueError, match="offset"):
        from_db("2025-01-27T14:30:00")
