"""Send-only front ends, for a scheduler process that does not receive a platform's updates.

A process with the scheduler role but not the telegram (or discord) role still sends that
platform's recaps and close announcements: through the Bot API alone (no polling, no webhook),
or Discord's REST API (logged in, no gateway connection, so interactions keep going to the
shard processes).
"""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.frontend import FrontEnd
from bot.telegram.frontend import TelegramFrontEnd
from handlers.model import Reply, Services
from storage.poll_model import Platform


class TelegramSender(TelegramFrontEnd):
    """Checks the token and sends; receives nothing (and leaves any webhook alone)."""

    def _receiving(self, builder: Any) -> Any:
        return builder.updater(None)

    async def _start_receiving(self) -> None:
        pass


class DiscordSender:
    """A Discord front end logged in over REST only."""

    platform: Platform = "discord"

    def __init__(self, settings: Settings, services: Services) -> None:
        from bot.discord.frontend import DiscordFrontEnd

        self.front_end = DiscordFrontEnd(settings, services)

    async def start(self) -> None:
        await self.front_end.client.login(self.front_end.token.get_secret_value())

    async def stop(self) -> None:
        await self.front_end.client.close()

    async def send(self, chat_id: str, reply: Reply) -> None:
        await self.front_end.send(chat_id, reply)


def build_senders(
    settings: Settings, services: Services, front_ends: list[FrontEnd]
) -> list[FrontEnd]:
    """A sender for each platform whose token is set and that no front end here serves,
    when this process has the scheduler role."""
    if "scheduler" not in settings.roles:
        return []
    served = {front_end.platform for front_end in front_ends}
    senders: list[FrontEnd] = []
    if settings.telegram_bot_token is not None and "telegram" not in served:
        senders.append(TelegramSender(settings, services))
    if settings.discord_bot_token is not None and "discord" not in served:
        senders.append(DiscordSender(settings, services))
    return senders
