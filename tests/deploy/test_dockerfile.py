"""The Dockerfile names only what the project has: files, the command, the port, the settings."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import PurePosixPath

import pytest

from bot.__main__ import _parser
from tests.deploy.files import (
    DOCKERFILE,
    ROOT,
    Stage,
    configuration_table,
    dockerfile_stages,
    settings_variables,
)

# The interpreter's and pip's own variables; every other ENV must be a dsbot setting.
NOT_DSBOT = {"PATH", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK"}


def stages() -> list[Stage]:
    return dockerfile_stages(DOCKERFILE.read_text(encoding="utf-8"))


def final() -> Stage:
    return stages()[-1]


def exec_form(arguments: str) -> list[str]:
    words = json.loads(arguments)
    assert isinstance(words, list), f"not the exec (JSON) form: {arguments}"
    return [str(word) for word in words]


def copied_sources() -> list[str]:
    sources: list[str] = []
    for stage in stages():
        for arguments in stage.all("COPY"):
            words = arguments.split()
            if not any(word.startswith("--from=") for word in words):
                sources.extend(word for word in words[:-1] if not word.startswith("--"))
    return sources


def ignored(path: str) -> bool:
    """.dockerignore's verdict on a top-level path: the last matching pattern wins."""
    verdict = False
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        keep = pattern.startswith("!")
        pattern = pattern.removeprefix("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or PurePosixPath(path).match(pattern):
            verdict = not keep
    return verdict


def test_it_builds_in_two_stages_on_one_pinned_slim_official_python_image() -> None:
    images = [stage.image for stage in stages()]

    assert len(images) == 2
    assert images[0] == images[1]
    # A full version and a Debian release: the same image on every rebuild.
    assert re.fullmatch(r"python:3\.1[1-9]\.\d+-slim-[a-z]+", images[0]), images[0]
    assert stages()[0].alias == "build"
    assert final().all("COPY") == ["--from=build /opt/dsbot/.venv /opt/dsbot/.venv"]


def test_every_file_it_copies_exists_and_reaches_the_build_context() -> None:
    sources = copied_sources()

    assert sources, "the build stage copies nothing"
    assert [path for path in sources if not (ROOT / path).exists()] == []
    assert [path for path in sources if ignored(path)] == []
    assert ignored(".env") and ignored("dsbot.sqlite3") and ignored(".venv")


def test_it_copies_every_package_and_file_the_install_needs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [
        name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]
    ]

    needed = {"pyproject.toml", project["project"]["readme"], *packages}

    assert needed <= set(copied_sources())


def test_it_runs_as_a_user_it_creates_that_is_not_root() -> None:
    user = final().all("USER")

    assert user == ["dsbot"]
    assert any("useradd" in run and run.split()[-1] == "dsbot" for run in _useradds())


def _useradds() -> list[str]:
    return [
        command.strip()
        for run in final().all("RUN")
        for command in run.split("&&")
        if "useradd" in command
    ]


def test_the_database_lives_in_the_volume_the_user_owns() -> None:
    database = PurePosixPath(final().env()["DSBOT_DATABASE"])

    assert final().all("VOLUME") == [str(database.parent)]
    assert final().all("WORKDIR") == [str(database.parent)]
    assert any(f"chown dsbot:dsbot {database.parent}" in run for run in final().all("RUN"))


def test_every_setting_it_names_is_in_the_readme_table_and_the_settings() -> None:
    named = set(final().env()) | set(stages()[0].env())

    dsbot = named - NOT_DSBOT

    assert dsbot == {"DSBOT_DATABASE", "DSBOT_HTTP_LISTEN"}
    assert dsbot <= configuration_table()
    assert dsbot <= settings_variables()


def test_it_starts_dsbot_run_the_command_the_package_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    entry, command = exec_form(final().all("ENTRYPOINT")[0]), exec_form(final().all("CMD")[0])

    assert entry == ["dsbot"]
    assert project["project"]["scripts"]["dsbot"] == "bot.__main__:main"
    assert _parser().parse_args(command).command == "run"
    assert final().all("STOPSIGNAL") == ["SIGTERM"]


def healthcheck() -> tuple[str, list[str]]:
    """(its options, its command): HEALTHCHECK [OPTIONS] CMD ["..."]."""
    (arguments,) = final().all("HEALTHCHECK")
    options, _, command = arguments.partition(" CMD ")
    return options, exec_form(command)


def test_the_healthcheck_asks_healthz_on_the_port_the_bot_listens_on() -> None:
    _, command = healthcheck()
    listen = final().env()["DSBOT_HTTP_LISTEN"]

    url = re.search(r"'(http://[^']+)'", command[2])

    assert command[:2] == ["python", "-c"]
    assert url is not None
    assert url[1] == f"http://127.0.0.1:{listen.rsplit(':', 1)[1]}/healthz"
    assert listen == "0.0.0.0:8080"
    assert final().all("EXPOSE") == ["8080"]


class _Answer(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def health_server(status: int) -> Iterator[int]:
    handler = type("Answer", (_Answer,), {"status": status})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_healthcheck_command_passes_only_on_a_2xx_from_healthz(
    status: int, healthy: bool
) -> None:
    _, command = healthcheck()
    with health_server(status) as port:
        # The same Python snippet, pointed at a stand-in on a free port instead of 8080.
        snippet = command[2].replace("127.0.0.1:8080", f"127.0.0.1:{port}")

        result = subprocess.run(
            [sys.executable, "-c", snippet], capture_output=True, timeout=30, check=False
        )

    assert (result.returncode == 0) is healthy


def test_the_healthcheck_fails_when_nothing_listens() -> None:
    _, command = healthcheck()
    with health_server(200) as port:
        pass  # closed again: a port where nothing listens now
    snippet = command[2].replace("127.0.0.1:8080", f"127.0.0.1:{port}")

    result = subprocess.run([sys.executable, "-c", snippet], capture_output=True, timeout=30)

    assert result.returncode != 0


def test_the_healthcheck_times_out_before_docker_gives_up_on_it() -> None:
    options, command = healthcheck()

    timeout = re.search(r"--timeout=(\d+)s", options)
    inner = re.search(r"timeout=(\d+)\)", command[2])

    assert timeout is not None and inner is not None
    assert int(inner[1]) < int(timeout[1])
