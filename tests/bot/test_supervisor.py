"""The supervisor of one component: capped back-off, one line per outage, restarts, fatal tokens."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.frontend import LinkReport, TokenRejected, Unreachable
from bot.health import Health, State
from bot.supervisor import Backoff, Supervisor
from tests.bot.conftest import StateLog

FAST = Backoff(first=0.01, cap=0.05)


class Flaky:
    """A front end whose first run fails with a bug, and whose starts can be made to fail."""

    def __init__(self, start_failures: list[Exception] | None = None) -> None:
        self.start_failures = list(start_failures or [])
        self.starts = 0
        self.stops = 0
        self.report: LinkReport | None = None

    async def start(self) -> None:
        self.starts += 1
        if self.start_failures:
            raise self.start_failures.pop(0)

    async def stop(self) -> None:
        self.stops += 1

    def watch(self, report: LinkReport) -> None:
        self.report = report

    async def wait_ended(self) -> None:
        if self.starts == 1:
            raise RuntimeError("a bug in the gateway loop")
        await asyncio.Event().wait()


def test_the_back_off_doubles_from_one_second_to_at_most_sixty() -> None:
    backoff = Backoff()

    longest = [backoff.delay(attempt, draw=lambda: 1.0) for attempt in range(9)]
    shortest = [backoff.delay(attempt, draw=lambda: 0.0) for attempt in range(9)]

    assert longest == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert shortest == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert backoff.delay(10_000, draw=lambda: 1.0) == 60.0


async def test_a_component_that_fails_at_run_time_is_restarted_and_the_bug_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = Health()
    states = StateLog(health)
    component = Flaky()
    supervisor = Supervisor("discord", component, health, FAST)

    task = asyncio.create_task(supervisor.run())
    await states.until("discord", State.CONNECTED, State.LOST, State.CONNECTED)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert component.starts == 2
    assert supervisor.restarts == 1
    assert states.of("discord")[-1] is State.STOPPED
    assert component.stops >= 2  # after the failure, and at the end
    (bug,) = [r for r in caplog.records if r.exc_info and "failed while running" in r.message]
    assert "a bug in the gateway loop" in str(bug.exc_info[1] if bug.exc_info else "")


async def test_an_outage_at_start_is_one_line_per_try_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    health = Health()
    states = StateLog(health)
    outages = [Unreachable("ClientConnectorDNSError: Cannot connect to host discord.com:443")] * 3
    supervisor = Supervisor("discord", Flaky(outages), health, FAST)

    task = asyncio.create_task(supervisor.run())
    await states.until("discord", State.RETRYING, State.RETRYING, State.RETRYING, State.CONNECTED)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 3
    assert all(line.startswith("discord: unreachable (ClientConnectorDNSError") for line in retries)
    assert [r for r in caplog.records if r.exc_info] == []
    assert [r.getMessage() for r in caplog.records].count("discord: connected") == 1


async def test_a_rejected_token_ends_the_supervisor_however_often_it_was_retried() -> None:
    health = Health()
    failures: list[Exception] = [
        Unreachable("TimeoutError: "),
        TokenRejected("no DISCORD_BOT_TOKEN"),
    ]
    supervisor = Supervisor("discord", Flaky(failures), health, FAST)

    with pytest.raises(TokenRejected):
        await asyncio.wait_for(supervisor.run(), timeout=10)

    assert health.states["discord"] is State.STOPPED


async def test_a_link_lost_and_back_after_connecting_is_reported_to_health() -> None:
    health = Health()
    states = StateLog(health)
    component = Flaky()
    component.starts = 1  # its runs do not fail: only the link comes and goes
    supervisor = Supervisor("telegram", component, health, FAST)
    task = asyncio.create_task(supervisor.run())
    await states.until("telegram", State.CONNECTED)
    assert component.report is not None

    component.report(False)
    component.report(False)
    component.report(True)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert states.of("telegram") == [
        State.CONNECTING,
        State.CONNECTED,
        State.LOST,
        State.CONNECTED,
        State.STOPPED,
    ]
