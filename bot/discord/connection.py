"""How the Discord front end's connection failures read to the supervisor: token, outage, bug."""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from bot.frontend import TokenRejected, Unreachable

# Gateway close code 4004: "you sent an invalid token".
AUTHENTICATION_FAILED = 4004
# What an outage looks like to discord.py (aiohttp's connector and DNS errors are OSErrors).
NETWORK_ERRORS = (
    OSError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    discord.GatewayNotFound,
    discord.ConnectionClosed,
)


def translated(error: BaseException) -> BaseException:
    """A failure as the supervisor reads it: a refused token, an outage, or else as it is."""
    if isinstance(error, discord.LoginFailure) or (
        isinstance(error, discord.ConnectionClosed) and error.code == AUTHENTICATION_FAILED
    ):
        return TokenRejected(
            "Discord rejected DISCORD_BOT_TOKEN; copy it again from the Developer Portal"
        )
    if isinstance(error, NETWORK_ERRORS) or (
        isinstance(error, discord.HTTPException) and error.status >= 500
    ):
        return Unreachable.because(error)
    return error
