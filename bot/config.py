"""Settings from the environment and a `.env` file in the working directory.

Tokens are SecretStr so that printing or logging the settings never shows them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from handlers.timezones import parse_zone
from storage.urls import DatabaseLocation, database_location, redact

Role = Literal["telegram", "discord", "scheduler"]
ROLES: tuple[Role, ...] = ("telegram", "discord", "scheduler")
# setWebhook's secret_token: "1-256 characters. Only characters A-Z, a-z, 0-9, _ and -".
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", arbitrary_types_allowed=True
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    discord_bot_token: SecretStr | None = None
    # A Discord role (name or id) whose members count as moderators besides Manage Server.
    dsbot_discord_mod_role: str | None = None
    # Discord gateway sharding (bot/discord/sharding.py): how many shards the bot has in all,
    # and which of them this process runs (unset: all of them). Both unset: no sharding.
    discord_shard_count: int | None = Field(default=None, ge=1, le=100_000)
    discord_shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    # A file (SQLite, the default) or postgresql://user:password@host:port/dbname; a URL is
    # kept as a ServerUrl, whose str() and repr() hide the password.
    dsbot_database: DatabaseLocation = Path("dsbot.sqlite3")
    dsbot_market: Literal["live", "offline"] = "live"
    # Seconds a fetched latest price is served before Yahoo is asked again.
    dsbot_market_ttl: float = Field(default=60.0, gt=0, le=86_400)
    dsbot_lang: Literal["en", "zh"] = "en"
    dsbot_tz: str = Field(default="UTC")
    # Unset: INFO for `dsbot run`, ERROR for ask, console and discord-sync, whose answers say
    # themselves when data is stale. DEBUG shows library traffic too (tokens redacted).
    dsbot_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    # host:port of the health and metrics server (/healthz, /readyz, /metrics); unset: none.
    dsbot_http_listen: str | None = None
    # Comma list of telegram, discord, scheduler: what this process runs (bot.runner); unset:
    # every front end whose token is set, plus the scheduler.
    dsbot_roles: str | None = None
    # Set: Telegram delivers updates by POSTing to this public HTTPS URL instead of being
    # polled (bot.telegram.webhook); this process listens on TELEGRAM_WEBHOOK_LISTEN.
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1:8080"
    telegram_webhook_secret: SecretStr | None = None
    # How many connections Telegram may open to the URL at once (setWebhook: 1-100).
    telegram_webhook_max_connections: int = Field(default=40, ge=1, le=100)

    @field_validator(
        "telegram_bot_token",
        "discord_bot_token",
        "telegram_webhook_secret",
        "telegram_webhook_url",
        "dsbot_roles",
        "dsbot_http_listen",
        "discord_shard_count",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("dsbot_roles")
    @classmethod
    def _known_roles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        named = [role.strip().lower() for role in value.split(",") if role.strip()]
        unknown = [role for role in named if role not in ROLES]
        if unknown or not named:
            shown = ", ".join(f'"{role[:20]}"' for role in unknown) or "nothing"
            raise ValueError(f"{shown} is not a role: name telegram, discord or scheduler")
        return ",".join(role for role in ROLES if role in named)

    @field_validator("telegram_webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value.strip())
            if parts.scheme != "https" or not parts.hostname:
                raise ValueError(
                    f'"{value[:60]}" is not an https:// URL (Telegram posts only to HTTPS)'
                )
            return value.strip()
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_webhook_listen")
    @classmethod
    def _webhook_listen(cls, value: str) -> str:
        parse_listen(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.telegram_webhook_url is not None and self.telegram_webhook_secret is None:
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_URL is set "
                "(Telegram sends it with every update, so forged POSTs can be refused)"
            )
        tokens = {"telegram": self.telegram_bot_token, "discord": self.discord_bot_token}
        for role in self.roles if self.dsbot_roles is not None else ():
            if role in tokens and tokens[role] is None:
                raise ValueError(
                    f"DSBOT_ROLES names {role} but {role.upper()}_BOT_TOKEN is not set"
                )
        return self

    @property
    def roles(self) -> frozenset[Role]:
        """What this process runs: DSBOT_ROLES, or every front end whose token is set plus
        the scheduler."""
        if self.dsbot_roles is not None:
            return frozenset(r for r in ROLES if r in self.dsbot_roles.split(","))
        roles: set[Role] = {"scheduler"}
        if self.telegram_bot_token is not None:
            roles.add("telegram")
        if self.discord_bot_token is not None:
            roles.add("discord")
        return frozenset(roles)

    @property
    def in_a_fleet(self) -> bool:
        """Whether other processes may send as the same bots: webhook workers, or roles split
        over processes. Then limits that hold for a bot are kept in the database."""
        return self.telegram_webhook_url is not None or self.dsbot_roles is not None

    @property
    def role_label(self) -> str:
        """The roles as one metrics label value, e.g. "scheduler,telegram" (at most 7 values)."""
        return ",".join(role for role in ROLES if role in self.roles)

    @field_validator("dsbot_http_listen")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        ids = [part.strip() for part in value.split(",")]
        if not all(part.isascii() and part.isdecimal() for part in ids):
            raise ValueError(f'"{value[:60]}" is not a comma list of shard numbers (e.g. 0,1)')
        return tuple(int(part) for part in ids)

    @field_validator("discord_shard_ids")
    @classmethod
    def _within_count(
        cls, value: tuple[int, ...] | None, info: ValidationInfo
    ) -> tuple[int, ...] | None:
        if value is None or "discord_shard_count" not in info.data:
            return value  # a bad count is reported on its own
        count = info.data["discord_shard_count"]
        if count is None:
            raise ValueError("needs DISCORD_SHARD_COUNT, the number of shards in all")
        if not value or len(set(value)) != len(value):
            raise ValueError("name each shard once (e.g. 0,1)")
        outside = [shard for shard in value if not 0 <= shard < count]
        if outside:
            raise ValueError(
                f"shard {outside[0]} does not exist: with DISCORD_SHARD_COUNT={count} "
                f"the shards are 0 to {count - 1}"
            )
        return value

    @field_validator("dsbot_database", mode="before")
    @classmethod
    def _database(cls, value: object) -> object:
        if isinstance(value, str):
            return database_location(value.strip())
        return value

    @field_validator("dsbot_log_level", mode="before")
    @classmethod
    def _level_any_case(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().upper() or None
        return value

    @field_validator("dsbot_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone = parse_zone(value)
        if zone is None:
            raise ValueError(f'"{value}" is not a time zone (e.g. Asia/Shanghai)')
        return zone.key


def parse_listen(value: str) -> tuple[str, int]:
    """`host:port` (an IPv6 host in brackets) as (host, port); port 0 picks a free one.

    Raises ValueError naming the expected form.
    """
    host, colon, port = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not port.isascii() or not port.isdecimal() or int(port) > 65535:
        raise ValueError(f'"{value[:60]}" is not host:port (e.g. 127.0.0.1:9090 or [::1]:9090)')
    return host, int(port)


def setting_problems(error: ValidationError) -> list[str]:
    """One line per bad setting, naming its variable and what is allowed; no pydantic dump
    (and never the value of a token)."""
    lines = []
    for problem in error.errors(include_url=False):
        name = str(problem["loc"][0]).upper() if problem["loc"] else "settings"
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] == "value_error":
            # A check across settings names its variables itself.
            lines.append(f"{name}: {message}" if problem["loc"] else message)
            continue
        value = problem.get("input")
        shown = "" if "TOKEN" in name or not isinstance(value, str) else f'"{redact(value)[:40]}" '
        lines.append(f"{name}: {shown}is not allowed: {message[:1].lower()}{message[1:]}")
    return lines
