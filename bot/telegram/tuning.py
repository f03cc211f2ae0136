"""Timings of the Telegram front end, with production defaults that tests shorten."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TelegramTuning:
    """Timings with production defaults; tests shorten them."""

    poll_timeout: float = 30.0  # seconds one long-polling getUpdates may wait
    retry_first_delay: float = 0.5
    retry_max_delay: float = 30.0
    # A single call retried for longer than this is given up (logged); the bot keeps running.
    retry_give_up_after: float = 600.0
    tally_interval: float = 1.0
    admin_cache_seconds: float = 60.0
    messages_per_second: float = 30
    messages_per_minute_per_group: float = 20
    # Calls to the Bot API in flight at once (see bot.telegram.bounded_request). At 100 ms
    # a call, 16 carry 160 calls a second, five times Telegram's overall message limit.
    connections: int = 16
