"""Start-up cost: `dsbot ask /help` to exit, against bare imports of the platform libraries.

Runs each command several times in fresh processes and prints the median wall time and the
peak resident memory of each, and the ratio of dsbot's figures to each baseline's.
Usage: .venv/bin/python -m bench.startup [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(command: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median seconds and median peak RSS (MiB) of `command` over `runs` fresh processes."""
    seconds: list[float] = []
    peaks: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds.append(time.perf_counter() - started)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{command} failed: {process.stderr.read() if process.stderr else ''}")
        peaks.append(usage.ru_maxrss / 1024)  # Linux reports KiB
    return statistics.median(seconds), statistics.median(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    folder = Path(tempfile.mkdtemp(prefix="dsbot-bench-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "DISCORD_", "DSBOT_"))
    }
    env.update({"DSBOT_DATABASE": str(folder / "bench.sqlite3"), "DSBOT_MARKET": "offline"})
    python = sys.executable
    # A first run creates and migrates the database, which later runs only open.
    measure([python, "-m", "bot", "ask", "/help"], env, 1)
    cases = {
        "import telegram (python-telegram-bot)": [python, "-c", "import telegram.ext"],
        "import discord (discord.py)": [python, "-c", "import discord"],
        "dsbot ask /help": [python, "-m", "bot", "ask", "/help"],
    }
    results = {name: measure(command, env, runs) for name, command in cases.items()}
    dsbot_time, dsbot_rss = results["dsbot ask /help"]
    print(f"runs per case: {runs}, python {sys.version.split()[0]}")
    for name, (seconds, rss) in results.items():
        print(f"{name:40s} {seconds * 1000:7.0f} ms  {rss:6.1f} MiB peak RSS")
    for name in list(cases)[:2]:
        seconds, rss = results[name]
        print(
            f"dsbot ask /help vs {name}: time {dsbot_time / seconds:.2f}x, "
            f"peak memory {dsbot_rss / rss:.2f}x (goal <= 1.3x each)"
        )


if __name__ == "__main__":
    main()
