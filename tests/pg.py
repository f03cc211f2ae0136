"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, 127.0.0.1 only.

PostgreSQL refuses to run as root, so under root the cluster belongs to an unprivileged
system user (created once if missing) and its programs run through `runuser`. It listens on
a free port of 127.0.0.1 and keeps its socket in its own folder; the test role logs in with a
password over TCP. Each test gets a fresh, empty database of its own (CREATE DATABASE is a few
milliseconds), so suites never see each other's rows. When PostgreSQL cannot start, the
tests that need it fail with the reason; they are never skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg

OWNER = "dsbot-test"
ROLE = "dsbot"
# A real password, so the tests prove it reaches the server (and never a log or an error).
PASSWORD = "s3cret-Pa55word"
_BINARIES = ("/usr/local/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True))


class PostgresUnavailable(RuntimeError):
    """The machine cannot run a PostgreSQL cluster for the tests (binaries, user, start)."""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in _BINARIES:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    raise PostgresUnavailable(
        f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin: install PostgreSQL "
        "(apt-get install -y postgresql) to run the PostgreSQL tests"
    )


def _system_tool(name: str) -> str:
    """runuser or useradd: in /usr/sbin, which a stripped PATH (cron, env -i) may lack."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which(name, path=search)
    if found is None:
        raise PostgresUnavailable(f"{name} was not found on PATH, in /usr/sbin or in /sbin")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ensure_owner() -> None:
    if subprocess.run(["id", "-u", OWNER], capture_output=True).returncode == 0:
        return
    made = subprocess.run(
        [
            _system_tool("useradd"),
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            OWNER,
        ],
        capture_output=True,
        text=True,
    )
    # Another test run may have made it meanwhile.
    if made.returncode != 0 and subprocess.run(["id", "-u", OWNER]).returncode != 0:
        raise PostgresUnavailable(f"cannot create the user {OWNER}: {made.stderr.strip()}")


class Cluster:
    """One PostgreSQL server of the tests' own, in `folder`, stopped and deleted at the end."""

    def __init__(self) -> None:
        self.as_root = os.geteuid() == 0
        if self.as_root:
            _ensure_owner()
        self.folder = Path(tempfile.mkdtemp(prefix="dsbot-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = _free_port()
        self._names = itertools.count(1)
        if self.as_root:
            shutil.chown(self.folder, OWNER, OWNER)
        self.folder.chmod(0o700)
        password_file = self.folder / "password"
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        if self.as_root:
            shutil.chown(password_file, OWNER, OWNER)
        self._run(
            _binary("initdb"),
            "-D",
            str(self.data),
            f"--username={ROLE}",
            f"--pwfile={password_file}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        password_file.unlink()

    def _run(self, *command: str) -> None:
        prefix: Sequence[str] = (_system_tool("runuser"), "-u", OWNER, "--") if self.as_root else ()
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(command[:2])} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-2000:]}\n{log}"
            )

    def start(self, *, durable: bool = False) -> None:
        # fsync off: a test cluster is thrown away, and durability across a power cut is
        # not what these tests check (a stop and start flushes everything anyway). A
        # benchmark of durable commits asks for `durable`: the server's defaults.
        flushing = "" if durable else "-c fsync=off -c full_page_writes=off "
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.folder} {flushing}"
            "-c max_connections=200"
        )
        self._run(
            _binary("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        """A new, empty database (not migrated); its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self._admin_now(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database `fresh_database` made (about 8 MB each on disk)."""
        name = url.rsplit("/", 1)[1]
        self._admin_now(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin_now(self, statement: str) -> None:
        # On a thread of its own, so async tests (whose loop is running) may call it too.
        with ThreadPoolExecutor(max_workers=1) as worker:
            worker.submit(asyncio.run, self._admin(statement)).result()

    async def _admin(self, statement: str) -> None:
        connection = await asyncpg.connect(self.url(), timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def destroy(self) -> None:
        with contextlib.suppress(PostgresUnavailable):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def started_cluster(*, durable: bool = False) -> Cluster:
    """A running cluster, or PostgresUnavailable naming why not."""
    cluster = Cluster()
    try:
        cluster.start(durable=durable)
    except BaseException:
        cluster.destroy()
        raise
    return cluster
