"""DSBOT_ROLES and the Telegram webhook settings: defaults, and one clear line when wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import Settings, setting_problems

TOKEN = "7000000001:AAfakeTokenForTests-0123456789abcdefghi"


def problems(**environment: str) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, **environment)  # type: ignore[arg-type]
    return setting_problems(raised.value)


def test_without_dsbot_roles_a_process_runs_every_front_end_with_a_token_and_the_scheduler() -> (
    None
):
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN)  # type: ignore[arg-type]

    assert settings.roles == {"telegram", "scheduler"}
    assert settings.role_label == "telegram,scheduler"


def test_dsbot_roles_names_what_the_process_runs_in_any_case_and_order() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,  # type: ignore[arg-type]
        dsbot_roles=" Scheduler ,telegram",
    )

    assert settings.roles == {"telegram", "scheduler"}


def test_an_unknown_role_is_named_in_one_line() -> None:
    assert problems(dsbot_roles="telegram,web") == [
        'DSBOT_ROLES: "web" is not a role: name telegram, discord or scheduler'
    ]


def test_a_platform_role_without_its_token_is_refused() -> None:
    assert problems(dsbot_roles="discord") == [
        "DSBOT_ROLES names discord but DISCORD_BOT_TOKEN is not set"
    ]


def test_webhook_mode_without_a_secret_is_refused() -> None:
    assert problems(
        telegram_bot_token=TOKEN, telegram_webhook_url="https://dsbot.example/hook"
    ) == [
        "TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_URL is set "
        "(Telegram sends it with every update, so forged POSTs can be refused)"
    ]


def test_a_webhook_url_that_is_not_https_is_refused() -> None:
    assert problems(telegram_webhook_url="http://dsbot.example/hook") == [
        'TELEGRAM_WEBHOOK_URL: "http://dsbot.example/hook" is not an https:// URL '
        "(Telegram posts only to HTTPS)"
    ]


def test_a_secret_with_characters_telegram_refuses_is_refused_without_showing_it() -> None:
    lines = problems(
        telegram_webhook_url="https://dsbot.example/hook", telegram_webhook_secret="bad secret!"
    )

    assert lines == ["TELEGRAM_WEBHOOK_SECRET: must be 1-256 characters of A-Z, a-z, 0-9, _ and -"]
    assert "bad secret" not in "".join(lines)


def test_only_a_fleet_keeps_the_flood_limits_in_the_database() -> None:
    alone = Settings(_env_file=None, telegram_bot_token=TOKEN)  # type: ignore[arg-type]
    split = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,  # type: ignore[arg-type]
        dsbot_roles="telegram",
    )
    worker = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,  # type: ignore[arg-type]
        telegram_webhook_url="https://dsbot.example/telegram/hook",
        telegram_webhook_secret="s3cret",  # type: ignore[arg-type]
    )

    assert (alone.in_a_fleet, split.in_a_fleet, worker.in_a_fleet) == (False, True, True)
