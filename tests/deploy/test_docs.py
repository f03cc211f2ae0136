"""The documents point at deploy/, never copy it, and name the same paths, ports and commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePosixPath

import pytest
import yaml

from bot.__main__ import _parser
from tests.deploy.files import (
    COMPOSE,
    DOCS,
    ROOT,
    SELF_HOSTING,
    UNIT,
    shell_blocks,
    unit_sections,
)

# Lines that only a unit file has: a document holding one carries a copy of the unit.
UNIT_LINE = re.compile(
    r"^\s*(\[(Unit|Service|Install)\]|(ExecStart|RestartPreventExitStatus|WantedBy|"
    r"StateDirectory|ProtectSystem)=)",
    flags=re.MULTILINE,
)


def service(key: str) -> str:
    values = [v for k, v in unit_sections(UNIT.read_text(encoding="utf-8"))["Service"] if k == key]
    return values[-1]


def unit_environment() -> dict[str, str]:
    pairs = [
        v.partition("=")[::2]
        for k, v in unit_sections(UNIT.read_text(encoding="utf-8"))["Service"]
        if k == "Environment"
    ]
    return dict(pairs)


def executable() -> str:
    return service("ExecStart").split()[0]


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_no_document_holds_a_copy_of_the_unit(doc: Path) -> None:
    assert UNIT_LINE.findall(doc.read_text(encoding="utf-8")) == []


def test_the_readme_points_at_self_hosting_and_every_deploy_file() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = set(re.findall(r"\]\(([^)#]+)", readme))

    named = {"docs/self-hosting.md", "deploy/systemd/dsbot.service", "Dockerfile", "compose.yaml"}

    assert named <= targets
    assert all((ROOT / target).exists() for target in named)


@pytest.mark.parametrize("platform", ["telegram.md", "discord.md"])
def test_the_platform_pages_link_self_hosting_and_repeat_no_install_step(platform: str) -> None:
    text = (ROOT / "docs" / platform).read_text(encoding="utf-8")

    assert "](self-hosting.md)" in text
    assert [
        step for step in ("useradd", "python3 -m venv", "systemctl enable") if step in text
    ] == []


def test_self_hosting_installs_the_unit_from_the_checkout() -> None:
    steps = shell_blocks(SELF_HOSTING)

    assert "sudo cp /opt/dsbot/deploy/systemd/dsbot.service /etc/systemd/system/" in steps
    assert "](../deploy/systemd/dsbot.service)" in SELF_HOSTING.read_text(encoding="utf-8")


def test_the_install_steps_create_what_the_unit_expects() -> None:
    steps = shell_blocks(SELF_HOSTING)
    venv = PurePosixPath(executable()).parent.parent

    useradd = next(line for line in steps.splitlines() if "useradd" in line)

    assert shlex.split(useradd)[-1] == service("User")
    assert f"--home-dir /var/lib/{service('StateDirectory')}" in useradd
    assert f"python3 -m venv {venv}" in steps
    assert f"{venv}/bin/pip install {venv.parent}" in steps
    example = "/opt/dsbot/deploy/dsbot.env.example"
    assert f"install -m 600 -o root -g root {example} {service('EnvironmentFile')}" in steps


def test_every_dsbot_path_in_the_documents_is_the_units() -> None:
    named = {
        match
        for doc in DOCS
        for match in re.findall(r"/opt/dsbot/[\w./-]*bin/dsbot\b", doc.read_text(encoding="utf-8"))
    }
    databases = {
        match
        for doc in DOCS
        for match in re.findall(
            r"DSBOT_DATABASE=(/var/lib/[\w./-]+)", doc.read_text(encoding="utf-8")
        )
    }

    assert named == {executable()}
    assert databases == {unit_environment()["DSBOT_DATABASE"]}


def test_every_dsbot_command_the_documents_run_exists() -> None:
    commands = []
    for doc in DOCS:
        for line in shell_blocks(doc).splitlines():
            # The shell's own date, as the shell would have put it in.
            line = line.replace("$(date +%F)", "2025-01-27")
            found = re.search(r"(?:bin/dsbot|exec dsbot dsbot|^dsbot) (.*)", line.strip())
            if found:
                commands.append(shlex.split(found[1], comments=True))

    assert len(commands) >= 5
    for arguments in commands:
        try:
            _parser().parse_args(arguments)
        except SystemExit as error:
            raise AssertionError(f"dsbot {shlex.join(arguments)} is not a dsbot command") from error


def test_the_first_checks_ask_the_ports_the_unit_and_compose_listen_on() -> None:
    steps = shell_blocks(SELF_HOSTING)
    unit_port = unit_environment()["DSBOT_HTTP_LISTEN"]
    (published,) = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]["dsbot"]["ports"]

    urls = set(re.findall(r"http://[\d.]+:\d+/healthz", steps))

    assert urls == {f"http://{unit_port}/healthz", f"http://{published.rsplit(':', 1)[0]}/healthz"}


def test_self_hosting_says_where_the_logs_go() -> None:
    steps = shell_blocks(SELF_HOSTING)
    text = SELF_HOSTING.read_text(encoding="utf-8")

    assert "journalctl -u dsbot" in steps
    assert "docker compose logs" in steps
    assert "## Logs" in text


def test_the_restore_steps_drop_the_old_wal_before_copying_the_backup_in() -> None:
    steps = shell_blocks(SELF_HOSTING).splitlines()
    database = unit_environment()["DSBOT_DATABASE"]

    stop = steps.index("sudo systemctl stop dsbot")
    drop = next(i for i, line in enumerate(steps) if f"rm -f {database}-wal {database}-shm" in line)
    put = next(
        i for i, line in enumerate(steps) if line.endswith(f" {database}") and "install" in line
    )
    start = steps.index("sudo systemctl start dsbot")

    assert stop < drop < put < start
