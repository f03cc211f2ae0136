"""Logging set-up that keeps secrets out of every log line.

python-telegram-bot and httpx log request URLs, and Telegram's URLs contain the bot token;
the filter replaces any configured secret wherever it appears, arguments included.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable
from types import TracebackType
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
# Telegram tokens are "<bot id>:<secret>", Discord's "<user id>.<time>.<signature>": the
# leading parts are public, the last is the secret one.
MIN_SECRET_PART = 16


def secret_forms(secret: str) -> set[str]:
    """A secret, its secret part, and how a URL spells either."""
    parts = {secret}
    last = re.split(r"[:.]", secret)[-1]
    if len(last) >= MIN_SECRET_PART:
        parts.add(last)
    return {form for part in parts for form in (part, quote(part, safe=""), quote_plus(part))}


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        forms = {form for secret in secrets if secret for form in secret_forms(secret)}
        # Longest first, so that a whole token is replaced before its secret part.
        self.secrets = tuple(sorted(forms, key=len, reverse=True))

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


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logging.getLogger("dsbot").critical("uncaught exception", exc_info=(kind, error, traceback))


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    logging.getLogger("dsbot").error("uncaught exception in thread %s", name, exc_info=exc_info)


def _log_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    exc_info = None
    if unraisable.exc_value is not None:
        exc_info = (unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback)
    try:
        where = repr(unraisable.object)
    except Exception:
        where = object.__repr__(unraisable.object)
    message = unraisable.err_msg or "Exception ignored in"
    logging.getLogger("dsbot").error("%s: %s", message, where, exc_info=exc_info)


def log_everything_else() -> None:
    """Send what Python prints to stderr by itself through logging, and so through redaction.

    Uncaught exceptions (main thread or others), exceptions in __del__ and warnings would
    otherwise reach stderr as they are, token and all, if their text quoted one.
    """
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_exception
    sys.unraisablehook = _log_unraisable
    logging.captureWarnings(True)


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
