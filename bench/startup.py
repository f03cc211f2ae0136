"""Start-up cost: `dsbot ask /help` to exit, against bare imports of the platform libraries.

Runs each command several times in fresh processes, the commands taking turns, and prints
the median wall time and peak resident memory of each, and the ratio of dsbot's figures to
each baseline's. Every
timed `dsbot ask /help` must print the help (its title from the catalogue), not an error,
and every run must exit 0; otherwise the run exits 1.
Usage: .venv/bin/python -m bench.startup [--runs 7]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.replies import ReplyCheck, fail_if_any, refusal_in
from handlers.i18n import text


def help_problem(output: str) -> str | None:
    """None when `output` is the /help reply: its title from the English catalogue first."""
    if refusal := refusal_in(output):
        return refusal
    return None if output.startswith(text("en", "help.title")) else "not the /help reply"


def run_once(command: list[str], env: dict[str, str], check: ReplyCheck | None = None) -> Run:
    """Wall seconds and peak RSS (MiB) of `command` in a fresh process."""
    started = time.perf_counter()
    # Output goes to files, so a full pipe can never stall the process being timed.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        output, errors = out.read().decode(), err.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed: {errors}")
    if check is not None:
        check.record(help_problem(output), output)
    return Run(seconds, usage.ru_maxrss / 1024)  # Linux reports KiB


@dataclasses.dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    folder = Path(tempfile.mkdtemp(prefix="dsbot-bench-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "DISCORD_", "DSBOT_"))
        and key != "PYTHONDONTWRITEBYTECODE"
    }
    env.update({"DSBOT_DATABASE": str(folder / "bench.sqlite3"), "DSBOT_MARKET": "offline"})
    # Every case loads its modules from bytecode, as an installed program does: the
    # libraries' wheels ship theirs, while a checkout compiled on every start (with
    # PYTHONDONTWRITEBYTECODE set) would time Python's compiler. The bytecode goes to a
    # folder of the bench's own, for all cases alike, and a first run of each writes it.
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    python = sys.executable
    cases = {
        "import telegram (python-telegram-bot)": [python, "-c", "import telegram.ext"],
        "import discord (discord.py)": [python, "-c", "import discord"],
        "dsbot ask /help": [python, "-m", "bot", "ask", "/help"],
    }
    # The first runs also create and migrate the database, which later runs only open.
    for command in cases.values():
        run_once(command, env)
    check = ReplyCheck("dsbot ask /help")
    # The cases take turns, each round starting one case later: a spike of another
    # process's load then falls on every case alike instead of on whichever ran then.
    names = list(cases)
    runs_of: dict[str, list[Run]] = {name: [] for name in names}
    for k in range(runs):
        for name in names[k % len(names) :] + names[: k % len(names)]:
            dsbot = name == "dsbot ask /help"
            runs_of[name].append(run_once(cases[name], env, check if dsbot else None))
    results = {
        name: (
            statistics.median(run.seconds for run in done),
            statistics.median(run.peak_mib for run in done),
        )
        for name, done in runs_of.items()
    }
    fail_if_any([check])
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
