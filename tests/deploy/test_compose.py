"""compose.yaml runs the image with a named volume and the settings from .env."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import yaml

from tests.deploy.files import (
    COMPOSE,
    DOCKERFILE,
    ENV_EXAMPLE,
    ROOT,
    configuration_table,
    dockerfile_stages,
    settings_variables,
)


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def bot() -> dict[str, Any]:
    service = compose()["services"]["dsbot"]
    assert isinstance(service, dict)
    return service


def image_env() -> dict[str, str]:
    return dockerfile_stages(DOCKERFILE.read_text(encoding="utf-8"))[-1].env()


def test_it_builds_the_dockerfile_of_this_checkout() -> None:
    assert bot()["build"] == "."
    assert (ROOT / bot()["build"] / "Dockerfile").is_file()


def test_the_data_is_in_a_named_volume_mounted_where_the_image_keeps_its_database() -> None:
    (mount,) = bot()["volumes"]
    volume, target = mount.split(":")

    assert volume in compose()["volumes"]
    assert PurePosixPath(target) == PurePosixPath(image_env()["DSBOT_DATABASE"]).parent


def test_the_settings_come_from_an_env_file() -> None:
    assert bot()["env_file"] == ".env"
    # Everything else is in the image or .env: no setting hidden in the compose file.
    assert "environment" not in bot()


def test_the_published_port_is_the_one_the_bot_listens_on_and_only_on_this_host() -> None:
    (port,) = bot()["ports"]
    host, published, container = port.split(":")

    assert host == "127.0.0.1"
    assert container == image_env()["DSBOT_HTTP_LISTEN"].rsplit(":", 1)[1]
    assert published == "8080"


def test_a_bot_that_exits_on_a_bad_token_is_not_restarted_forever() -> None:
    assert re.fullmatch(r"on-failure:\d+", bot()["restart"])


def test_stopping_it_leaves_dsbot_time_to_finish_what_it_has_in_hand() -> None:
    assert bot()["stop_grace_period"] == "30s"


def test_every_variable_the_example_env_file_names_is_a_documented_setting() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")

    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))

    assert {"TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"} <= named
    assert named <= configuration_table()
    assert named <= settings_variables()
