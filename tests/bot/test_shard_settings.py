"""DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS: which shards a process runs, and bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.discord.sharding import ShardPlan, shard_of, shard_plan, syncs_commands
from tests.bot.test_console import run_dsbot


def settings(**env: str) -> Settings:
    return Settings(**env, _env_file=None)  # type: ignore[call-arg]


def test_without_a_shard_count_the_client_is_unsharded_and_syncs_the_commands() -> None:
    plan = shard_plan(settings())

    assert plan is None
    assert syncs_commands(plan)


def test_a_shard_count_alone_runs_every_shard_in_this_process() -> None:
    plan = shard_plan(settings(discord_shard_count="3"))

    assert plan == ShardPlan(3, (0, 1, 2))
    assert syncs_commands(plan)


def test_shard_ids_run_only_those_and_only_the_process_with_shard_0_syncs() -> None:
    with_zero = shard_plan(settings(discord_shard_count="4", discord_shard_ids="2, 0"))
    without = shard_plan(settings(discord_shard_count="4", discord_shard_ids="1,3"))

    assert with_zero == ShardPlan(4, (0, 2))
    assert without == ShardPlan(4, (1, 3))
    assert (syncs_commands(with_zero), syncs_commands(without)) == (True, False)


def test_blank_shard_settings_mean_unsharded() -> None:
    assert shard_plan(settings(discord_shard_count=" ", discord_shard_ids="")) is None


def test_a_guilds_shard_is_discords_formula_of_its_id() -> None:
    # shard_id = (guild_id >> 22) % num_shards; 1100000000000000003 >> 22 = 262260437011.
    assert shard_of(1_100_000_000_000_000_003, 1) == 0
    assert shard_of(1_100_000_000_000_000_003, 2) == 1
    assert shard_of(1_100_000_000_000_000_003, 10) == 1
    assert shard_of(1_100_000_000_004_194_307, 2) == 0


@pytest.mark.parametrize(
    ("env", "error"),
    [
        (
            {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "2"},
            "DISCORD_SHARD_IDS: shard 2 does not exist: with DISCORD_SHARD_COUNT=2 "
            "the shards are 0 to 1\n",
        ),
        (
            {"DISCORD_SHARD_IDS": "0"},
            "DISCORD_SHARD_IDS: needs DISCORD_SHARD_COUNT, the number of shards in all\n",
        ),
        (
            {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "0,one"},
            'DISCORD_SHARD_IDS: "0,one" is not a comma list of shard numbers (e.g. 0,1)\n',
        ),
        (
            {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "1,1"},
            "DISCORD_SHARD_IDS: name each shard once (e.g. 0,1)\n",
        ),
        (
            {"DISCORD_SHARD_COUNT": "0"},
            'DISCORD_SHARD_COUNT: "0" is not allowed: input should be greater than or equal to 1\n',
        ),
    ],
)
def test_shard_settings_outside_the_shards_are_a_configuration_error(
    env: dict[str, str], error: str, tmp_path: Path
) -> None:
    result = run_dsbot("ask", "/help", tmp_path=tmp_path, env=env)

    assert result.returncode == 3
    assert result.stderr == error
