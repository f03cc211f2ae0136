"""deploy/systemd/dsbot.service: a dedicated user, its state directory, no restart loop."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath

import pytest

from bot.__main__ import EXIT_CONFIG, EXIT_DATA, _parser
from tests.deploy.files import ROOT, UNIT, configuration_table, settings_variables, unit_sections


def service() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in unit_sections(UNIT.read_text(encoding="utf-8"))["Service"]:
        values.setdefault(key, []).append(value)
    return values


def one(key: str) -> str:
    (value,) = service()[key]
    return value


def environment() -> dict[str, str]:
    return dict(value.partition("=")[::2] for value in service().get("Environment", []))


def test_it_runs_as_a_dedicated_user_with_its_own_state_directory() -> None:
    assert (one("User"), one("Group")) == ("dsbot", "dsbot")
    assert one("StateDirectory") == "dsbot"
    assert one("WorkingDirectory") == "/var/lib/dsbot"


def test_the_database_is_in_the_state_directory() -> None:
    database = PurePosixPath(environment()["DSBOT_DATABASE"])

    assert database.parent == PurePosixPath("/var/lib") / one("StateDirectory")


def test_a_bad_token_or_an_unusable_database_does_not_restart_loop() -> None:
    assert one("Restart") == "on-failure"
    assert set(one("RestartPreventExitStatus").split()) == {"3", "4"}
    # The command line's own codes: 3 a configuration error, 4 an unusable database.
    assert (EXIT_CONFIG, EXIT_DATA) == (3, 4)


def test_it_reads_the_settings_from_a_root_only_environment_file() -> None:
    assert one("EnvironmentFile") == "/etc/dsbot/env"


def test_it_starts_dsbot_run_from_the_installed_virtual_environment() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    executable, *arguments = one("ExecStart").split()

    assert executable == "/opt/dsbot/.venv/bin/dsbot"
    assert PurePosixPath(executable).name in project["project"]["scripts"]
    assert _parser().parse_args(arguments).command == "run"
    assert one("KillSignal") == "SIGTERM"


def test_every_setting_it_names_is_in_the_readme_table_and_the_settings() -> None:
    named = set(environment())

    assert named == {"DSBOT_DATABASE", "DSBOT_HTTP_LISTEN"}
    assert named <= configuration_table()
    assert named <= settings_variables()


def test_the_health_server_listens_on_this_host_only() -> None:
    assert environment()["DSBOT_HTTP_LISTEN"] == "127.0.0.1:8080"


def test_it_is_hardened() -> None:
    hardening = {key: values[-1] for key, values in service().items()}

    assert hardening["NoNewPrivileges"] == "yes"
    assert hardening["ProtectSystem"] == "strict"
    assert hardening["ProtectHome"] == "yes"
    assert hardening["PrivateTmp"] == "yes"
    assert hardening["CapabilityBoundingSet"] == ""
    assert set(hardening["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}


def test_it_is_started_at_boot_after_the_network_is_up() -> None:
    sections = unit_sections(UNIT.read_text(encoding="utf-8"))

    assert ("WantedBy", "multi-user.target") in sections["Install"]
    assert ("After", "network-online.target") in sections["Unit"]
    assert ("Wants", "network-online.target") in sections["Unit"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_finds_nothing_to_say_about_it(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: point it at this checkout's installed dsbot.
    installed = Path(sys.executable).parent / "dsbot"
    text = UNIT.read_text(encoding="utf-8").replace("/opt/dsbot/.venv/bin/dsbot", str(installed))
    copy = tmp_path / "dsbot.service"
    copy.write_text(text, encoding="utf-8")

    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    # verify exits 0 even for unknown keys and bad values: its output is the verdict.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
