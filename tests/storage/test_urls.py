"""Database settings: a file stays SQLite, a URL is PostgreSQL, and its password never shows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import Settings
from storage.backends import open_stores
from storage.sql import DatabaseError
from storage.urls import ServerUrl, redact
from tests.pg import PASSWORD, Cluster

URL = "postgresql://dsbot:hunter2@db.example:5433/community"


def settings(database: str) -> Settings:
    return Settings(dsbot_database=database, _env_file=None)  # type: ignore[call-arg]


def test_the_password_of_a_url_is_redacted_in_the_authority_and_the_query() -> None:
    assert redact(URL) == "postgresql://dsbot:***@db.example:5433/community"
    assert redact("postgres://u:p%40ss@h/db?password=again&sslmode=require") == (
        "postgres://u:***@h/db?password=***&sslmode=require"
    )
    assert redact("postgresql://dsbot@h/db") == "postgresql://dsbot@h/db"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "POSTGRESQL"])
def test_a_postgresql_url_setting_is_a_server_url_whose_repr_hides_the_password(
    scheme: str,
) -> None:
    chosen = settings(URL.replace("postgresql", scheme, 1))

    assert isinstance(chosen.dsbot_database, ServerUrl)
    assert chosen.dsbot_database.secret().endswith(":hunter2@db.example:5433/community")
    for shown in (repr(chosen), str(chosen), str(chosen.dsbot_database), f"{chosen!r}"):
        assert "hunter2" not in shown
    assert "dsbot:***@db.example:5433/community" in repr(chosen)


def test_a_file_path_setting_stays_an_sqlite_file() -> None:
    assert settings("data/bot.sqlite3").dsbot_database == Path("data/bot.sqlite3")
    assert settings(" dsbot.sqlite3 ").dsbot_database == Path("dsbot.sqlite3")


async def test_a_server_that_cannot_be_reached_is_a_database_error_without_the_password(
    pg_cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The tests' own server with a wrong password, and a port where nothing listens.
    wrong = pg_cluster.url().replace(PASSWORD, "not-the-Pa55word")
    nothing = f"postgresql://dsbot:{PASSWORD}@127.0.0.1:9/postgres"
    for url, secret in ((wrong, "not-the-Pa55word"), (nothing, PASSWORD)):
        with pytest.raises(DatabaseError) as raised:
            async with open_stores(url):
                pass

        assert "dsbot:***@127.0.0.1" in str(raised.value)
        assert secret not in str(raised.value)
    assert PASSWORD not in caplog.text and "not-the-Pa55word" not in caplog.text


def test_dsbot_database_from_the_environment_is_read_as_a_server_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DSBOT_DATABASE", URL)

    chosen = Settings(_env_file=None)  # type: ignore[call-arg]

    assert isinstance(chosen.dsbot_database, ServerUrl)
    assert chosen.dsbot_database.secret() == URL
    assert "hunter2" not in repr(chosen)
