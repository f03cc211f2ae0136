"""A consistent copy of a live SQLite database through SQLite's online backup API."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.backends import sqlite_path
from storage.db import BUSY_TIMEOUT_MS, DatabaseError


class BackupRefused(Exception):
    """The backup was not written: its path is taken, or cannot be written."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    source: Path
    target: Path
    size: int


# A full disk or a read-only file on the backup's side: the database itself is fine.
_TARGET_FAULTS = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN}


def _primary_code(error: sqlite3.Error) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _integrity(connection: sqlite3.Connection) -> str:
    rows = connection.execute("PRAGMA integrity_check(1)").fetchall()
    return " ".join(str(rows[0][0]).split()) if rows else "no answer"


def _copy(source: Path, temporary: Path, target: Path) -> None:
    # mode=rw: a mistyped DSBOT_DATABASE must not create an empty database and back that up.
    uri = f"{source.resolve().as_uri()}?mode=rw"
    try:
        origin = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as error:
        raise DatabaseError(f"cannot open the database {source}: {error}") from error
    with contextlib.closing(origin):
        try:
            copy = sqlite3.connect(temporary)
        except sqlite3.Error as error:
            raise BackupRefused(f"cannot write the backup {target}: {error}") from error
        with contextlib.closing(copy):
            try:
                # One step (pages=-1) reads every page under one read transaction: in WAL mode
                # writers carry on, and the copy is the database as of one commit.
                origin.backup(copy, pages=-1)
            except sqlite3.DatabaseError as error:
                if _primary_code(error) in _TARGET_FAULTS:
                    raise BackupRefused(f"cannot write the backup {target}: {error}") from error
                raise DatabaseError(f"the database {source} cannot be copied: {error}") from error
            found = _integrity(copy)
            if found != "ok":
                raise DatabaseError(f"the database {source} is damaged ({found}); no backup made")
            # The copy keeps WAL mode from the header; a single self-contained file is
            # what a backup should be.
            copy.execute("PRAGMA journal_mode = DELETE")


def backup_database(database: str | Path, target: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the database `database` names into the file `target`, atomically.

    The copy is written next to `target` under a temporary name, checked with
    integrity_check and only then moved into place, so `target` is either the whole
    backup or untouched. An existing `target` is kept unless `overwrite`.
    """
    source = Path(sqlite_path(database))
    if str(source) == ":memory:":
        raise DatabaseError("an in-memory database cannot be backed up")
    if not source.is_file():
        raise DatabaseError(f"there is no database at {source} (DSBOT_DATABASE)")
    if target.exists() and not overwrite:
        raise BackupRefused(f"{target} already exists; choose another path or add --force")
    if not target.parent.is_dir():
        raise BackupRefused(f"cannot write the backup {target}: no directory {target.parent}")
    if target.resolve() == source.resolve():
        raise BackupRefused(f"{target} is the database itself; choose another path")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        _copy(source, temporary, target)
        try:
            if overwrite:
                os.replace(temporary, target)
            else:
                # A link fails if `target` appeared meanwhile, where a rename would replace it.
                os.link(temporary, target)
        except FileExistsError as error:
            raise BackupRefused(
                f"{target} already exists; choose another path or add --force"
            ) from error
        except OSError as error:
            raise BackupRefused(f"cannot write the backup {target}: {error.strerror}") from error
    finally:
        temporary.unlink(missing_ok=True)
    return BackupResult(source=source, target=target, size=target.stat().st_size)
