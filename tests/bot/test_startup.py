"""Start-up stays light: answering /help loads neither market, chart nor platform libraries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import dsbot_environment

PROBE = """
import sys
from bot.__main__ import main
code = main(["ask", "/help"])
heavy = ("yfinance", "matplotlib", "pandas", "telegram", "discord", "exchange_calendars")
print("LOADED:" + ",".join(name for name in heavy if name in sys.modules))
sys.exit(code)
"""


def test_ask_help_imports_no_heavy_library(tmp_path: Path) -> None:
    env = dsbot_environment(DSBOT_DATABASE=str(tmp_path / "db.sqlite3"), DSBOT_MARKET="live")

    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "LOADED:\n" in result.stdout
