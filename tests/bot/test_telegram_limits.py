"""Flood control and retries of the Telegram front end's rate limiter, on a controlled clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.telegram.limiter import PatientRateLimiter
from bot.telegram.tuning import TelegramTuning

GROUP = -1001_234_567_890


class Script:
    """A Bot API call that fails as scripted, then succeeds."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> bool:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return True


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def call(limiter: PatientRateLimiter, endpoint: str, script: Script) -> Any:
    return await limiter.process_request(script, (), {}, endpoint, {"chat_id": GROUP}, None)


async def test_messages_to_a_group_are_throttled_but_member_lookups_are_not() -> None:
    limiter = PatientRateLimiter(TelegramTuning(messages_per_minute_per_group=1))
    await call(limiter, "sendMessage", Script())  # the group's whole minute

    for _ in range(5):
        await asyncio.wait_for(call(limiter, "getChatMember", Script()), 0.5)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(call(limiter, "sendMessage", Script()), 0.3)


async def test_a_429_on_an_unthrottled_call_is_waited_out_before_it_is_sent_again() -> None:
    time = FakeTime()
    limiter = PatientRateLimiter(TelegramTuning(), sleep=time.sleep, clock=time.clock)
    script = Script(RetryAfter(3))

    answered = await call(limiter, "answerCallbackQuery", script)

    assert answered is True
    assert script.calls == 2
    assert time.slept == [3.1]


async def test_outages_are_retried_with_growing_delays_until_they_pass() -> None:
    time = FakeTime()
    tuning = TelegramTuning(retry_first_delay=0.5, retry_max_delay=2.0)
    limiter = PatientRateLimiter(tuning, sleep=time.sleep, clock=time.clock)
    script = Script(*(NetworkError("Internal Server Error (500)") for _ in range(4)), TimedOut())

    assert await call(limiter, "sendMessage", script) is True
    assert time.slept == [0.5, 1.0, 2.0, 2.0, 2.0]


async def test_a_bad_request_is_not_retried() -> None:
    time = FakeTime()
    limiter = PatientRateLimiter(TelegramTuning(), sleep=time.sleep, clock=time.clock)
    script = Script(BadRequest("Bad Request: message is too long"))

    with pytest.raises(BadRequest):
        await call(limiter, "sendMessage", script)
    assert script.calls == 1


async def test_a_call_failing_past_the_give_up_time_is_abandoned() -> None:
    time = FakeTime()
    tuning = TelegramTuning(retry_first_delay=1, retry_max_delay=10, retry_give_up_after=60)
    limiter = PatientRateLimiter(tuning, sleep=time.sleep, clock=time.clock)
    script = Script(*(NetworkError("Bad Gateway") for _ in range(100)))

    with pytest.raises(NetworkError):
        await call(limiter, "sendMessage", script)
    assert sum(time.slept) <= 60 < sum(time.slept) + 10
