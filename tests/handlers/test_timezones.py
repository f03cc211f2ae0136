"""Time zones as people type them: offsets, cities, any width or case, ambiguous abbreviations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dispatch import dispatch, refusal
from handlers.model import Services, UserError
from handlers.timezones import parse_zone, read_zone, utc_offset, zone_label
from tests.conftest import make_request

WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("UTC+8", "Etc/GMT-8"),
        ("GMT+8", "Etc/GMT-8"),
        ("utc-05:00", "Etc/GMT+5"),
        ("UTC +14", "Etc/GMT-14"),
        ("UTC-12", "Etc/GMT+12"),
        ("UTC+0", "UTC"),
        ("gmt", "UTC"),
        ("Beijing", "Asia/Shanghai"),
        ("shanghai", "Asia/Shanghai"),
        ("Hong Kong", "Asia/Hong_Kong"),
        ("hong_kong", "Asia/Hong_Kong"),
        ("New  York", "America/New_York"),
        ("Tokyo", "Asia/Tokyo"),
        ("London", "Europe/London"),
        ("Singapore", "Singapore"),  # an IANA name of its own
        ("北京", "Asia/Shanghai"),
        ("纽约", "America/New_York"),
        ("Ａｓｉａ/Ｓｈａｎｇｈａｉ", "Asia/Shanghai"),
        ("AMERICA/NEW_YORK", "America/New_York"),
        ("europe/london", "Europe/London"),
        ("JST", "Asia/Tokyo"),
    ],
)
def test_zones_are_read_the_way_people_type_them(typed: str, key: str) -> None:
    zone = parse_zone(typed)

    assert zone is not None and zone.key == key


@pytest.mark.parametrize(
    ("typed", "shown", "offset"),
    [
        ("UTC+8", "UTC+08:00", "+08:00"),
        ("UTC-05:00", "UTC-05:00", "-05:00"),
        ("UTC", "UTC", "+00:00"),
    ],
)
def test_a_fixed_offset_is_shown_with_its_own_sign_not_the_posix_one(
    typed: str, shown: str, offset: str
) -> None:
    zone = read_zone(typed)

    assert (zone_label(zone), utc_offset(zone, WINTER)) == (shown, offset)


@pytest.mark.parametrize(
    ("typed", "lang", "wording"),
    [
        (
            "CST",
            "en",
            '"CST" is used by more than one time zone: Asia/Shanghai, America/Chicago, '
            "America/Havana. Type the one you mean.",
        ),
        (
            "CST",
            "zh",
            "“CST”可以指多个时区：Asia/Shanghai、America/Chicago、America/Havana。请输入你指的那一个。",
        ),
        (
            "ist",
            "en",
            '"ist" is used by more than one time zone: Asia/Kolkata, Europe/Dublin, '
            "Asia/Jerusalem. Type the one you mean.",
        ),
        (
            "IST",
            "zh",
            "“IST”可以指多个时区：Asia/Kolkata、Europe/Dublin、Asia/Jerusalem。请输入你指的那一个。",
        ),
        (
            "UTC+05:30",
            "en",
            'I can only set whole-hour offsets such as UTC+8, not "UTC+05:30". For other '
            "offsets, type a city or zone name, such as Asia/Kolkata.",
        ),
        (
            "UTC+05:30",
            "zh",
            "我只能设置整点偏移（例如 UTC+8），无法设置“UTC+05:30”。其他偏移请输入城市名或时区名，"
            "例如 Asia/Kolkata。",
        ),
        (
            "Mars/Olympus",
            "en",
            'I don\'t know the time zone "Mars/Olympus". Use a zone name, a city or an offset, '
            "such as Asia/Shanghai, Europe/London, America/New_York, UTC+8.",
        ),
        (
            "Mars/Olympus",
            "zh",
            "我不认识时区“Mars/Olympus”。请使用时区名、城市名或 UTC 偏移，例如 Asia/Shanghai、"
            "Europe/London、America/New_York、UTC+8。",
        ),
    ],
)
def test_zones_that_cannot_be_set_get_a_catalogued_reason(
    typed: str, lang: str, wording: str
) -> None:
    with pytest.raises(UserError) as refused:
        read_zone(typed)

    assert refusal(lang, refused.value).plain_text() == wording  # type: ignore[arg-type]


@given(st.integers(min_value=-12, max_value=14), st.sampled_from(["UTC", "GMT", "utc", "Ｕｔｃ"]))
def test_every_whole_hour_offset_reads_back_as_the_same_offset(hours: int, prefix: str) -> None:
    for typed in (f"{prefix}{hours:+d}", f"{prefix}{hours:+03d}:00"):
        zone = read_zone(typed)

        assert utc_offset(zone, WINTER) == f"{'-' if hours < 0 else '+'}{abs(hours):02d}:00"
        # What a handler stores is the key: it reads back as the same zone.
        assert parse_zone(zone.key) == zone


@given(st.text(max_size=30))
def test_any_text_either_names_a_zone_or_is_refused_with_a_catalogued_error(typed: str) -> None:
    try:
        zone = read_zone(typed)
    except UserError as error:
        assert error.key in {"core.bad_zone", "core.ambiguous_zone", "core.uneven_offset"}
        assert refusal("zh", error).plain_text() and refusal("en", error).plain_text()
    else:
        assert parse_zone(zone.key) == zone


@pytest.mark.parametrize(
    ("line", "lang", "wording"),
    [
        ("/settings tz UTC+8", "en", "This chat's time zone is now UTC+08:00."),
        (
            "/settings tz Hong Kong",
            "en",
            "This chat's time zone is now Asia/Hong_Kong (UTC+08:00).",
        ),
        ("/settings tz New York", "zh", "本聊天的时区已设为 America/New_York（UTC-05:00）。"),
        (
            "/settings tz Ａｓｉａ/Ｓｈａｎｇｈａｉ",
            "zh",
            "本聊天的时区已设为 Asia/Shanghai（UTC+08:00）。",
        ),
    ],
)
async def test_settings_tz_confirms_the_zone_with_its_utc_offset(
    services: Services, line: str, lang: str, wording: str
) -> None:
    reply = await dispatch(make_request(line, locale=lang), services)

    assert reply.plain_text() == wording


async def test_a_fixed_offset_chat_zone_is_used_by_the_next_request(services: Services) -> None:
    await dispatch(make_request("/settings tz UTC-05:00"), services)

    reply = await dispatch(make_request("/settings"), services)

    assert reply.plain_text().splitlines()[1] == "Language: automatic. Time zone: UTC-05:00."


@pytest.mark.parametrize(
    ("line", "lang", "intro"),
    [
        (
            "/outages Hong Kong",
            "en",
            "Times in Asia/Hong_Kong (UTC+08:00 on that day). Dates are month-day.",
        ),
        (
            "/outages New York",
            "zh",
            "时间为 America/New_York（当天 UTC-05:00）。日期格式为 月-日。",
        ),
        (
            "/outages UTC+8",
            "en",
            "Times in UTC+08:00 (UTC+08:00 on that day). Dates are month-day.",
        ),
    ],
)
async def test_outages_takes_a_zone_of_several_words(
    services: Services, line: str, lang: str, intro: str
) -> None:
    reply = await dispatch(make_request(line, locale=lang), services)

    assert intro in reply.plain_text().splitlines()
