"""Database URLs: which backend a setting names, and the same URL with its password hidden."""

from __future__ import annotations

import re
from pathlib import Path

SERVER_SCHEMES = ("postgresql://", "postgres://")
# user:password@ in the authority, and password=... in a query string.
_AUTHORITY_PASSWORD = re.compile(r"^(?P<head>[a-z][a-z0-9+.-]*://[^:/@?#]*):[^@/?#]*@", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)[^&#]*", re.I)


def is_server_url(location: object) -> bool:
    """True when `location` is a PostgreSQL URL (a file path or sqlite: URL is not)."""
    if isinstance(location, ServerUrl):
        return True
    return isinstance(location, str) and location.lower().startswith(SERVER_SCHEMES)


def redact(url: str) -> str:
    """`url` with any password replaced by `***`, safe for logs, errors and reprs."""
    url = _AUTHORITY_PASSWORD.sub(r"\g<head>:***@", url)
    return _QUERY_PASSWORD.sub(r"\g<head>***", url)


class ServerUrl:
    """A database server's URL; printing, logging or repr() of it never shows the password."""

    __slots__ = ("_url",)

    def __init__(self, url: str) -> None:
        if not url.lower().startswith(SERVER_SCHEMES):
            raise ValueError(f"not a PostgreSQL URL: {redact(url)}")
        self._url = url

    def secret(self) -> str:
        """The URL with its password, for the driver alone."""
        return self._url

    def __str__(self) -> str:
        return redact(self._url)

    def __repr__(self) -> str:
        return f"ServerUrl({redact(self._url)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServerUrl) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)


DatabaseLocation = Path | ServerUrl


def database_location(value: str | Path | ServerUrl) -> DatabaseLocation:
    """A setting's text as a file path (SQLite) or a server URL (PostgreSQL)."""
    if isinstance(value, Path | ServerUrl):
        return value
    if is_server_url(value):
        return ServerUrl(value)
    return Path(value)
