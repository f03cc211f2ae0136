"""Logging set-up that keeps secrets out of every log line.

python-telegram-bot and httpx log request URLs, and Telegram's URLs contain the bot token;
the filter replaces any configured secret wherever it appears, arguments included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

REDACTED = "[redacted]"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(secret for secret in secrets if secret)

    def redact(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Exceptions are formatted later from exc_info; render them now, redacted.
            formatter = logging.Formatter()
            record.exc_text = self.redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def configure_logging(secrets: Iterable[str], level: int = logging.INFO) -> None:
    """Log to stderr through a handler that redacts `secrets` from every record."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, which is noise even when redacted; at DEBUG the
    # URLs are what one is looking for.
    logging.getLogger("httpx").setLevel(
        logging.DEBUG if level <= logging.DEBUG else logging.WARNING
    )
