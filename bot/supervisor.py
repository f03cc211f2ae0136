"""Running one component (a front end, the recap scheduler) on its own: connect, retry, restart.

Each component gets a Supervisor and its own task, so a platform that is down never holds up
the others. A failed start or a run-time failure is retried after a capped exponential
back-off with jitter, for as long as the process runs; only a rejected token is fatal. Every
state change goes to Health and is logged once; an outage (Unreachable) is one line, and only
an unexpected exception, a bug, is logged with its traceback.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.frontend import LinkReport, TokenRejected, Unreachable
from bot.health import Health, State

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between tries: doubling from `first`, at most `cap` seconds, jittered."""

    first: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, draw: Callable[[], float] = random.random) -> float:
        """The wait before try `attempt + 1`: between half and all of the doubled delay, so
        that restarted bots do not all knock at once, and never zero."""
        ceiling = min(self.cap, self.first * 2.0 ** min(attempt, 32))
        return ceiling * (0.5 + draw() / 2)


BACKOFF = Backoff()


class Component(Protocol):
    async def start(self) -> None:
        """Connect; returns once running."""

    async def stop(self) -> None:
        """Finish what is in hand, disconnect; also safe after a failed or interrupted start."""


@runtime_checkable
class Watched(Component, Protocol):
    """A component that can tell when it lost its connection, or stopped on its own."""

    def watch(self, report: LinkReport) -> None:
        """Call `report(False)` when the connection is lost after start, `report(True)` when
        it is back."""

    async def wait_ended(self) -> None:
        """Return (or raise why) once it stopped running on its own; never while it runs."""


class Supervisor:
    """Keeps one component running until its task is cancelled; `run()` raises TokenRejected."""

    def __init__(
        self,
        name: str,
        component: Component,
        health: Health,
        backoff: Backoff = BACKOFF,
        *,
        gates_readiness: bool = True,
    ) -> None:
        self.name = name
        self.component = component
        self.health = health
        self.backoff = backoff
        self.running = False
        self.restarts = 0  # run-time failures restarted, for tests and logs
        self._attempt = 0
        health.expect(name, gates_readiness=gates_readiness)
        if isinstance(component, Watched):
            component.watch(self._link_changed)

    async def run(self) -> None:
        """Start, keep running, restart after failures; cancelled by the runner to stop."""
        interrupted = False
        try:
            while True:
                if not await self._start_once():
                    continue
                connected_at = asyncio.get_running_loop().time()
                reason = await self._run_until_ended()
                self.running = False
                self.restarts += 1
                if asyncio.get_running_loop().time() - connected_at > self.backoff.cap:
                    # It stayed up a while: back off afresh. One that fails right after each
                    # connect keeps backing off.
                    self._attempt = 0
                wait = self._next_delay()
                self._set(State.LOST, f"{self.name}: connection lost")
                log.warning("%s: stopped (%s); restarting in %.1f s", self.name, reason, wait)
                await self._stop_component()
                await asyncio.sleep(wait)
        except asyncio.CancelledError:
            interrupted = not self.running
            raise
        finally:
            if interrupted:
                log.info("%s: still connecting when asked to stop", self.name)
            self.running = False  # the disconnect that stopping causes is no lost link
            await self._stop_component()
            self._set(State.STOPPED)

    async def _start_once(self) -> bool:
        self._set(State.CONNECTING, f"{self.name}: connecting")
        try:
            await self.component.start()
        except (TokenRejected, asyncio.CancelledError):
            raise
        except Exception as error:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Asked to stop while connecting: the library turned that into its own error.
                raise asyncio.CancelledError from None
            wait = self._next_delay()
            self._set(State.RETRYING)
            if isinstance(error, Unreachable):
                log.warning("%s: unreachable (%s); retrying in %.1f s", self.name, error, wait)
            else:
                log.exception("%s: failed to start; retrying in %.1f s", self.name, wait)
            await self._stop_component()
            await asyncio.sleep(wait)
            return False
        self.running = True
        self._set(State.CONNECTED, f"{self.name}: connected")
        return True

    async def _run_until_ended(self) -> str:
        """Wait until the component stops on its own; why, as one line for the log."""
        component = self.component
        try:
            if isinstance(component, Watched):
                await component.wait_ended()
            else:
                await asyncio.Event().wait()  # it cannot end on its own: until cancelled
        except (TokenRejected, asyncio.CancelledError):
            raise
        except Unreachable as error:
            return str(error)
        except Exception as error:
            log.exception("%s failed while running", self.name)
            return f"{type(error).__name__}: {error}"
        return "it stopped"

    def _next_delay(self) -> float:
        delay = self.backoff.delay(self._attempt)
        self._attempt += 1
        return delay

    async def _stop_component(self) -> None:
        try:
            await self.component.stop()
        except Exception:
            log.exception("%s did not stop cleanly", self.name)

    def _set(self, state: State, message: str = "") -> None:
        if self.health.set(self.name, state) and message:
            log.info("%s", message)

    def _link_changed(self, up: bool) -> None:
        if not self.running:
            return  # before the first connect, or between restarts: the supervisor knows
        if up:
            self._set(State.CONNECTED, f"{self.name}: connected again")
        else:
            self._set(State.LOST, f"{self.name}: connection lost; reconnecting")
