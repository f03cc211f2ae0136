"""The one parser: typed text and Discord's option values read into the same typed parameters."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dispatch import dispatch
from handlers import cost, outages, poll, recap, settings, stocks
from handlers.arguments import from_options, parse_text
from handlers.commands import Command
from handlers.model import Services, UserError
from handlers.registry import REGISTRY
from tests.conftest import make_request


def refused(command: Command, typed: str) -> UserError:
    with pytest.raises(UserError) as error:
        parse_text(command, typed)
    return error.value


def test_a_repeated_flag_is_refused_instead_of_landing_in_an_option() -> None:
    error = refused(poll.COMMAND, "new Q | A | B --closes 2h --closes 3h")
    assert (error.key, error.params) == ("core.repeated_flag", {"flag": "--closes"})


def test_an_unknown_flag_is_refused_with_the_flags_the_form_knows() -> None:
    error = refused(poll.COMMAND, "new Q | A | B --unknownflag")
    assert error.key == "core.unknown_flag"
    assert error.params == {
        "flag": "--unknownflag",
        "known": "--closes --hide-results --multi --public",
    }


def test_a_flag_on_a_form_without_flags_is_refused() -> None:
    assert refused(cost.COMMAND, "2M in --fast").key == "core.no_flags"


def test_a_flag_without_its_value_and_an_on_off_flag_with_one_are_refused() -> None:
    assert refused(poll.COMMAND, "new Q | A | B --closes").key == "core.flag_needs_value"
    assert refused(poll.COMMAND, "new Q | A | B --multi=yes").key == "core.flag_takes_no_value"


@pytest.mark.parametrize(
    ("line", "en", "zh"),
    [
        (
            "/poll new Q | A | B --closes 2h --closes 3h",
            "--closes is given twice; give it once.",
            "--closes 出现了两次，请只写一次。",
        ),
        (
            "/poll new Q | A | B --unknownflag",
            "There is no option --unknownflag here. The options are: "
            "--closes --hide-results --multi --public",
            "这里没有 --unknownflag 这个选项。可用的选项：--closes --hide-results --multi --public",
        ),
    ],
)
async def test_a_bad_flag_is_answered_in_the_members_language_and_creates_no_poll(
    services: Services, line: str, en: str, zh: str
) -> None:
    moderator = {"chat_kind": "group", "is_admin": True, "chat_id": "-1"}
    english = await dispatch(make_request(line, **moderator), services)
    chinese = await dispatch(make_request(line, locale="zh-CN", **moderator), services)

    assert (english.is_error, english.plain_text()) == (True, en)
    assert (chinese.is_error, chinese.plain_text()) == (True, zh)
    polls = await services.polls.list_for_chat("console", "-1")
    assert [summary.poll.id for summary in polls] == [1]  # only the DeepSeek poll


def test_dashes_phones_and_chinese_keyboards_type_are_flags() -> None:
    for dash in ("--", "—", "–", "——", "－－"):
        arguments = parse_text(poll.COMMAND, f"new Q | A | B {dash}multi {dash}closes 2h")
        assert arguments.values["multi"] is True
        assert arguments.values["closes"] == "2h"


def test_a_date_and_a_time_of_day_are_one_closing_moment() -> None:
    arguments = parse_text(poll.COMMAND, "new Q | A | B --closes 2026-12-01 18:00 --multi")
    assert arguments.values["closes"] == "2026-12-01 18:00"
    assert (arguments.values["question"], arguments.values["choices"]) == ("Q", "A | B")


def test_a_form_is_picked_by_any_of_its_words_in_any_width_or_case() -> None:
    for typed in ("vote 2", "VOTE 2", "ｖｏｔｅ 2", "投票 2", "v 2"):
        arguments = parse_text(poll.COMMAND, typed)
        assert (arguments.form.name, dict(arguments.values)) == ("vote", {"choices": "2"})


def test_a_vote_names_its_poll_with_a_hash_and_an_option_without() -> None:
    arguments = parse_text(poll.COMMAND, "vote #5 2")
    assert dict(arguments.values) == {"id": 5, "choices": "2"}


def test_keyword_values_stand_before_or_after_their_keyword() -> None:
    one = parse_text(cost.COMMAND, "2M in 500k out cache 30%").values
    other = parse_text(cost.COMMAND, "in 2M out 500k 30% cache").values
    assert (
        one
        == other
        == {
            "input": Decimal(2_000_000),
            "output": Decimal(500_000),
            "cache": Decimal("0.3"),
        }
    )


def test_a_time_and_a_zone_may_come_in_either_order() -> None:
    one = parse_text(recap.COMMAND, "on Asia/Shanghai 09:00").values
    other = parse_text(recap.COMMAND, "on 09:00 asia/shanghai").values
    assert dict(one) == dict(other)
    assert one["zone"] == ZoneInfo("Asia/Shanghai")


def test_a_word_flag_counts_wherever_it_is_typed() -> None:
    arguments = parse_text(stocks.COMMAND, "NVDA chart AVGO")
    assert dict(arguments.values) == {"chart": True, "ticker": ("NVDA", "AVGO")}


def test_words_no_parameter_takes_are_the_forms_misuse() -> None:
    assert refused(recap.COMMAND, "off please").key == "recap.bad_usage"
    assert refused(recap.COMMAND, "on 16:15 UTC extra").key == "recap.bad_on"
    assert refused(poll.COMMAND, "vote").key == "poll.vote_usage"


def test_discord_options_are_read_by_the_same_readers_as_text() -> None:
    typed = parse_text(cost.COMMAND, "2M in 500k out cache 30%")
    chosen = from_options(cost.COMMAND, "show", {"input": "2M", "output": "500k", "cache": "30"})
    assert typed == chosen
    both = from_options(settings.COMMAND, "show", {"lang": "zh", "tz": "Asia/Tokyo"})
    assert dict(both.values) == {"lang": "zh", "tz": ZoneInfo("Asia/Tokyo")}
    with pytest.raises(UserError) as error:
        from_options(cost.COMMAND, "show", {"input": "lots"})
    assert error.value.key == "cost.bad_number"


def test_every_form_of_every_command_can_be_typed() -> None:
    for command in REGISTRY.commands:
        for form in command.forms:
            required = " | ".join("A" for param in form.params if param.required)
            typed = f"{form.name} {required}" if command.has_subcommands else ""
            assert parse_text(command, typed).form is form, (command.name, form.name)


@given(st.text(max_size=80))
def test_any_text_is_read_or_refused_in_catalogue_terms(typed: str) -> None:
    for command in REGISTRY.commands:
        try:
            parse_text(command, typed)
        except UserError as error:
            assert error.key.partition(".")[0] in ("core", command.name, "poll", "recap")


@pytest.mark.parametrize(
    ("command", "typed", "name", "key"),
    [
        (settings.COMMAND, "tz Hong Kong", "tz", "Asia/Hong_Kong"),
        (settings.COMMAND, "tz New York lang zh", "tz", "America/New_York"),
        (settings.COMMAND, "lang zh tz new york", "tz", "America/New_York"),
        (recap.COMMAND, "on 08:00 Hong Kong", "zone", "Asia/Hong_Kong"),
        (recap.COMMAND, "on New York 08:00", "zone", "America/New_York"),
        (outages.COMMAND, "Hong Kong", "zone", "Asia/Hong_Kong"),
        (outages.COMMAND, "UTC + 8", "zone", "Etc/GMT-8"),
    ],
)
def test_a_zone_may_take_the_following_words_when_together_they_name_one(
    command: Command, typed: str, name: str, key: str
) -> None:
    values = parse_text(command, typed).values

    assert values[name].key == key


def test_a_spanning_parameter_takes_only_the_words_that_belong_to_it() -> None:
    values = parse_text(recap.COMMAND, "on 9 pm New York").values

    assert (values["time"].isoformat(), values["zone"].key) == ("21:00:00", "America/New_York")
    assert parse_text(settings.COMMAND, "tz Tokyo lang zh").values["lang"] == "zh"


def test_words_after_a_spanning_zone_that_name_nothing_are_still_misuse() -> None:
    assert refused(outages.COMMAND, "Hong Kong please").key == "core.bad_arguments"
    assert refused(recap.COMMAND, "on 08:00 New York City").key == "recap.bad_on"


def test_discord_reads_a_zone_of_several_words_from_one_option() -> None:
    arguments = from_options(outages.COMMAND, "show", {"zone": "Hong Kong"})

    assert arguments.values["zone"] == ZoneInfo("Asia/Hong_Kong")
