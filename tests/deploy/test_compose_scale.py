"""deploy/compose.scale.yaml and its nginx file: one database, one scheduler, every shard once."""

from __future__ import annotations

import re
from typing import Any

import yaml

from bot.config import Settings
from tests.deploy.files import ROOT, settings_variables

SCALE = ROOT / "deploy" / "compose.scale.yaml"
NGINX = ROOT / "deploy" / "nginx.scale.conf"
# Telegram's setWebhook: "Ports currently supported for webhooks: 443, 80, 88, 8443."
WEBHOOK_PORTS = {"443", "80", "88", "8443"}


def services() -> dict[str, dict[str, Any]]:
    loaded = yaml.safe_load(SCALE.read_text(encoding="utf-8"))
    found: dict[str, dict[str, Any]] = loaded["services"]
    return found


def bots() -> dict[str, dict[str, Any]]:
    """The services that run dsbot (the image built from this checkout)."""
    return {name: s for name, s in services().items() if s.get("build") == ".."}


def roles(service: dict[str, Any]) -> set[str]:
    return set(str(service["environment"]["DSBOT_ROLES"]).split(","))


def test_every_dsbot_process_builds_this_checkout_and_shares_the_one_postgresql() -> None:
    databases = {s["environment"]["DSBOT_DATABASE"] for s in bots().values()}

    assert (ROOT / "Dockerfile").is_file()
    assert set(bots()) == {"telegram", "discord-0", "discord-1", "scheduler"}
    (database,) = databases
    assert re.fullmatch(
        r"postgresql://dsbot:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432/dsbot", database
    )
    assert all(
        s["depends_on"]["postgres"]["condition"] == "service_healthy" for s in bots().values()
    )


def test_exactly_one_process_runs_the_scheduler() -> None:
    scheduling = [name for name, s in bots().items() if "scheduler" in roles(s)]

    assert scheduling == ["scheduler"]
    assert "deploy" not in bots()["scheduler"]  # not replicated


def test_every_discord_shard_is_run_by_exactly_one_process_with_valid_settings() -> None:
    shard_services = [s["environment"] for s in bots().values() if "discord" in roles(s)]
    counts = {env["DISCORD_SHARD_COUNT"] for env in shard_services}

    (count,) = counts
    ids: list[int] = []
    for env in shard_services:
        checked = Settings(
            discord_shard_count=env["DISCORD_SHARD_COUNT"],
            discord_shard_ids=env["DISCORD_SHARD_IDS"],
            _env_file=None,  # type: ignore[call-arg]
        )
        ids += checked.discord_shard_ids or ()
    assert sorted(ids) == list(range(int(count)))


def test_nginx_hands_the_webhook_to_the_port_the_telegram_workers_listen_on() -> None:
    workers = bots()["telegram"]
    listen = workers["environment"]["TELEGRAM_WEBHOOK_LISTEN"]
    conf = NGINX.read_text(encoding="utf-8")
    mounted = services()["nginx"]["volumes"][0].split(":")
    (published,) = services()["nginx"]["ports"]

    assert workers["deploy"]["replicas"] >= 2
    assert re.search(rf"server telegram:{listen.rsplit(':', 1)[1]};", conf)
    assert (ROOT / "deploy" / mounted[0]).resolve() == NGINX
    assert published.split(":")[0] in WEBHOOK_PORTS
    assert f"listen {published.split(':')[1]} ssl;" in conf
    assert "non_idempotent" in conf  # a POST retried on another worker is deduplicated


def test_every_variable_the_scale_file_sets_is_a_setting() -> None:
    named = {key for s in bots().values() for key in s["environment"]}

    assert named <= settings_variables()
