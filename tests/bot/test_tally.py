"""The tally refresher: at most one refresh per second per message, the last one exact."""

from __future__ import annotations

import asyncio
import itertools

from bot.tally import TallyRefresher


class FakeTime:
    """A clock that moves only when the refresher sleeps, so no test waits for real."""

    def __init__(self, *, auto: bool = True) -> None:
        # auto: a sleep jumps the clock ahead; otherwise it waits for the test to move it.
        self.auto = auto
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        target = self.now + seconds
        if self.auto:
            self.now = target
        while self.now < target:
            await asyncio.sleep(0)
        await asyncio.sleep(0)


def make(time: FakeTime, interval: float = 1.0) -> TallyRefresher:
    return TallyRefresher(interval=interval, clock=time.clock, sleep=time.sleep)


class Recorder:
    """Refresh callables that note when they ran and what they were showing."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.runs: list[tuple[str, float]] = []

    def refresh(self, label: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            self.runs.append((label, self.time.now))

        return run


async def test_a_first_request_refreshes_at_once() -> None:
    time = FakeTime()
    refresher, recorder = make(time), Recorder(time)

    refresher.request("message-1", recorder.refresh("v1"))
    await refresher.drain()

    assert recorder.runs == [("v1", 100.0)]
    assert time.sleeps == []


async def test_a_burst_becomes_one_refresh_showing_the_latest() -> None:
    time = FakeTime()
    refresher, recorder = make(time), Recorder(time)

    for vote in range(500):
        refresher.request("message-1", recorder.refresh(f"after vote {vote}"))
    await refresher.drain()

    assert recorder.runs == [("after vote 499", 100.0)]


async def test_votes_during_the_interval_wait_and_the_last_one_is_shown() -> None:
    time = FakeTime()
    refresher, recorder = make(time), Recorder(time)

    refresher.request("m", recorder.refresh("v1"))
    await asyncio.sleep(0)
    # More votes arrive while the first refresh has just run.
    for vote in range(2, 50):
        refresher.request("m", recorder.refresh(f"v{vote}"))
    await refresher.drain()

    assert recorder.runs == [("v1", 100.0), ("v49", 101.0)]


async def test_refreshes_are_never_closer_than_the_interval() -> None:
    time = FakeTime(auto=False)
    refresher, recorder = make(time, interval=1.0), Recorder(time)

    # A vote every 0.3 s for 5 s, then the clock runs on until the last refresh is done.
    for tick in range(17):
        refresher.request("m", recorder.refresh(f"v{tick}"))
        for _ in range(3):
            await asyncio.sleep(0)
        time.now += 0.3
    draining = asyncio.ensure_future(refresher.drain())
    while not draining.done():
        time.now += 0.3
        await asyncio.sleep(0)

    starts = [start for _, start in recorder.runs]
    assert all(later - earlier >= 1.0 - 1e-9 for earlier, later in itertools.pairwise(starts))
    assert recorder.runs[-1][0] == "v16"
    assert 4 <= len(starts) <= 7


async def test_messages_are_throttled_independently() -> None:
    time = FakeTime()
    refresher, recorder = make(time), Recorder(time)

    refresher.request(("telegram", 1), recorder.refresh("a"))
    refresher.request(("discord", 1), recorder.refresh("b"))
    await refresher.drain()

    assert sorted(recorder.runs) == [("a", 100.0), ("b", 100.0)]


async def test_never_two_refreshes_of_one_message_in_flight() -> None:
    time = FakeTime()
    refresher = make(time, interval=0.0)
    in_flight, most = 0, 0
    release = asyncio.Event()

    async def slow() -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await release.wait()
        in_flight -= 1

    refresher.request("m", slow)
    await asyncio.sleep(0)
    for _ in range(10):
        refresher.request("m", slow)
        await asyncio.sleep(0)
    release.set()
    await refresher.drain()

    assert most == 1


async def test_a_failed_refresh_does_not_stop_the_next() -> None:
    time = FakeTime()
    refresher, recorder = make(time), Recorder(time)

    async def broken() -> None:
        raise RuntimeError("message was deleted")

    refresher.request("m", broken)
    await asyncio.sleep(0)
    refresher.request("m", recorder.refresh("after"))
    await refresher.drain()

    assert recorder.runs == [("after", 101.0)]


async def test_a_request_after_a_quiet_spell_runs_at_once() -> None:
    time = FakeTime()
    refresher, recorder = make(time), Recorder(time)

    refresher.request("m", recorder.refresh("first"))
    await refresher.drain()
    time.now += 5
    refresher.request("m", recorder.refresh("second"))
    await refresher.drain()

    assert recorder.runs == [("first", 100.0), ("second", 105.0)]


async def test_drain_waits_for_requests_made_while_draining() -> None:
    time = FakeTime()
    refresher, recorder = make(time), Recorder(time)

    async def chain() -> None:
        recorder.runs.append(("chain", time.now))
        refresher.request("other", recorder.refresh("follow-up"))

    refresher.request("m", chain)
    await refresher.drain()

    assert [label for label, _ in recorder.runs] == ["chain", "follow-up"]


async def test_the_interval_counts_from_the_end_of_a_slow_refresh() -> None:
    time = FakeTime()
    refresher, recorder = make(time), Recorder(time)

    async def slow() -> None:
        recorder.runs.append(("slow", time.now))
        time.now += 0.7  # the platform took 0.7 s to answer the edit

    refresher.request("m", slow)
    await asyncio.sleep(0)
    refresher.request("m", recorder.refresh("next"))
    await refresher.drain()

    assert recorder.runs == [("slow", 100.0), ("next", 101.7)]
