"""Which Discord gateway shards this process runs, and Discord's rule for a guild's shard.

Discord requires sharding from 2,500 guilds per gateway connection on (and recommends about
1,000 per shard); docs/scaling.md says how many to run. discord.py's AutoShardedClient runs
the shards: `DISCORD_SHARD_COUNT` is the bot's number of shards in all, `DISCORD_SHARD_IDS`
the ones this process connects (all of them when unset), so the shards can be spread over
processes and machines. Discord sends direct messages to shard 0 only, and only the process
that runs shard 0 syncs the command tree: one upload per change, not one per process.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings


@dataclass(frozen=True)
class ShardPlan:
    count: int  # shards of the whole bot
    ids: tuple[int, ...]  # the ones this process runs

    @property
    def holds_shard_zero(self) -> bool:
        return 0 in self.ids


def shard_plan(settings: Settings) -> ShardPlan | None:
    """The shards to run, or None for an unsharded client (DISCORD_SHARD_COUNT unset)."""
    count = settings.discord_shard_count
    if count is None:
        return None
    ids = settings.discord_shard_ids or tuple(range(count))
    return ShardPlan(count, tuple(sorted(ids)))


def syncs_commands(plan: ShardPlan | None) -> bool:
    """Whether this process is the one that syncs the command tree (it runs shard 0)."""
    return plan is None or plan.holds_shard_zero


def shard_of(guild_id: int, count: int) -> int:
    """The shard that receives a guild's events (Discord's Sharding formula)."""
    return (guild_id >> 22) % count
