"""The Prometheus metrics of one process: what was asked, what failed, how fast, what is up.

Every label has a fixed, small set of values, so no chat can grow the number of series: no
user or chat ids, a command label is a registered command's name or "unknown", an error
kind one of ERROR_KINDS. Counting an update costs a few dict look-ups and pre-bound
children's .inc(); what other parts already count (Health, the market's upstream calls) is
read when Prometheus scrapes, not on every update.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.dispatch import Dispatch
from bot.health import Health, State
from handlers.commands import Registry
from handlers.model import Reply, Request, Services
from storage.market import MarketData

PLATFORMS = ("telegram", "discord", "console")
UNKNOWN = "unknown"
# "user": a refusal the user can put right (bad arguments, not a moderator, poll closed).
ERROR_KINDS = ("user", "unknown_command", "busy", "storage_full", "internal")
MARKET_RESULTS = ("ok", "error", "unknown_symbol", "circuit_open")
RATE_LIMITERS = ("cooldown", "platform")
# Seconds; a reply is usually a few milliseconds, a chart or a live price up to seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Dispatch's answers that are not refusals of the request itself: told apart by their
# catalogued text, so that dispatch needs no hook.
_KIND_BY_KEY = {"core.sorry": "internal", "core.busy": "busy", "core.storage_full": "storage_full"}
_SLOW_DOWN = "core.slow_down"
# The libraries' own log lines for a 429 they wait out (discord.py at WARNING,
# python-telegram-bot's AIORateLimiter at INFO), by logger name.
_PLATFORM_429 = {
    "discord.http": ("discord", "responded with 429"),
    "telegram.ext.AIORateLimiter": ("telegram", "Rate limit hit"),
}


class Metrics:
    """The metric families and the hooks that feed them; one per process (or per test)."""

    def __init__(self, commands: Registry, *, role: str = "") -> None:
        self.registry = CollectorRegistry()
        # What /metrics serves: every sample labelled with the process's roles, so the
        # processes of one fleet are told apart (7 possible values: a comma list of roles).
        self.exposed: Collector = _Labelled(self.registry, role) if role else self.registry
        self._command_label = {command.name: command.name for command in commands.commands}
        self._command_children = _bound_counter(
            self.registry,
            "dsbot_commands",
            "Commands and button presses answered, by platform and registered command.",
            platform=PLATFORMS,
            command=(*self._command_label, UNKNOWN),
        )
        self._error_children = _bound_counter(
            self.registry,
            "dsbot_command_errors",
            "Requests answered with an error, by platform and kind.",
            platform=PLATFORMS,
            kind=ERROR_KINDS,
        )
        seconds = Histogram(
            "dsbot_command_seconds",
            "Time from a request reaching dispatch to its reply being ready.",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._latency_children = {p: seconds.labels(p) for p in PLATFORMS}
        self._vote_children = _bound_counter(
            self.registry,
            "dsbot_votes",
            "Votes, changes and withdrawals committed, by the voter's platform.",
            platform=PLATFORMS,
        )
        self._limited_children = _bound_counter(
            self.registry,
            "dsbot_rate_limited",
            "Requests refused by the cooldowns, and 429s the platform answered.",
            platform=PLATFORMS,
            source=RATE_LIMITERS,
        )
        ProcessCollector(registry=self.registry)

    def counted(self, inner: Dispatch) -> Dispatch:
        """`inner` (dispatch behind the cooldowns) counted and timed; the bot's own requests
        (tally refreshes) are not counted."""
        commands = self._command_children
        latency = self._latency_children
        clock = time.perf_counter

        async def counting(request: Request, services: Services) -> Reply:
            if request.internal:
                return await inner(request, services)
            started = clock()
            reply = await inner(request, services)
            platform = request.platform
            name = request.command if request.action is None else request.action.partition(":")[0]
            label = self._command_label.get(name, UNKNOWN)
            child = commands.get((platform, label))
            if child is not None:
                child.inc()
                latency[platform].observe(clock() - started)
            if reply.is_error:
                self._count_error(request, label, reply)
            return reply

        return counting

    def _count_error(self, request: Request, label: str, reply: Reply) -> None:
        if reply.error_key == _SLOW_DOWN:
            self.rate_limited(request.platform, "cooldown")
            return
        kind = _KIND_BY_KEY.get(reply.error_key)
        if kind is None:
            kind = "unknown_command" if label == UNKNOWN else "user"
        child = self._error_children.get((request.platform, kind))
        if child is not None:
            child.inc()

    def vote_recorded(self, platform: str) -> None:
        child = self._vote_children.get((platform,))
        if child is not None:
            child.inc()

    def rate_limited(self, platform: str, source: str) -> None:
        child = self._limited_children.get((platform, source))
        if child is not None:
            child.inc()

    def observe(self, services: Services, health: Health) -> None:
        """Count the votes these Services' handlers commit, and read the front ends' states
        and the market's upstream calls at scrape time."""
        services.events.vote_recorded = self.vote_recorded
        self.registry.register(_ReadAtScrape(health, services.market))

    def watch_platform_429s(self) -> _Platform429Counter:
        """Count the 429s the platform libraries wait out, from their own log lines, whatever
        the log level; what is printed stays as it was. Undo with `unwatch`."""
        return _Platform429Counter(self)

    @staticmethod
    def unwatch(counter: _Platform429Counter) -> None:
        counter.detach()


def _bound_counter(
    registry: CollectorRegistry, name: str, documentation: str, **values: Sequence[str]
) -> dict[tuple[str, ...], Counter]:
    """A counter with a child bound up front for every combination of its labels' values
    (keyword order is label order), so that counting is a dict look-up and an .inc()."""
    counter = Counter(name, documentation, list(values), registry=registry)
    return {labels: counter.labels(*labels) for labels in itertools.product(*values.values())}


class _Platform429Counter(logging.Handler):
    """Takes the libraries' rate-limit loggers over: every record is counted if it is a 429,
    and passed on up, as before, when the logger would have let it through."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self.metrics = metrics
        self._saved: dict[str, tuple[int, bool]] = {}
        for name in _PLATFORM_429:
            logger = logging.getLogger(name)
            self._saved[name] = (logger.level, logger.propagate)
            logger.addHandler(self)
            logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
            logger.propagate = False

    def emit(self, record: logging.LogRecord) -> None:
        platform, marker = _PLATFORM_429.get(record.name, ("", ""))
        if marker and marker in str(record.msg):
            self.metrics.rate_limited(platform, "platform")
        saved = self._saved.get(record.name)
        if saved is None or not saved[1]:
            return
        parent = logging.getLogger(record.name.rpartition(".")[0] or None)
        # The level the logger had, or else its parents' as they are now.
        if record.levelno >= (saved[0] or parent.getEffectiveLevel()):
            parent.handle(record)

    def detach(self) -> None:
        for name, (level, propagate) in self._saved.items():
            logger = logging.getLogger(name)
            logger.removeHandler(self)
            logger.setLevel(level)
            logger.propagate = propagate


class _ReadAtScrape(Collector):
    """dsbot_frontend_connected from Health, dsbot_market_fetches_total from MarketData."""

    def __init__(self, health: Health, market: MarketData) -> None:
        self.health = health
        self.market = market

    def collect(self) -> Iterator[Metric]:
        connected = GaugeMetricFamily(
            "dsbot_frontend_connected",
            "1 while the platform's front end is connected, else 0.",
            labels=["platform"],
        )
        for platform in PLATFORMS:
            state = self.health.states.get(platform)
            if state is not None:
                connected.add_metric([platform], 1.0 if state is State.CONNECTED else 0.0)
        yield connected
        counters = self.market.counters
        fetches = CounterMetricFamily(
            "dsbot_market_fetches",
            "Calls to Yahoo by result; circuit_open: not asked, Yahoo failed just before.",
            labels=["result"],
        )
        values = {
            "ok": counters.latest_fetches + counters.history_fetches,
            "error": counters.failures,
            "unknown_symbol": counters.unknown_symbols,
            "circuit_open": counters.circuit_open,
        }
        for result in MARKET_RESULTS:
            fetches.add_metric([result], float(values[result]))
        yield fetches


class _Labelled(Collector):
    """Every metric of `inner`, each sample with a `role` label added."""

    def __init__(self, inner: CollectorRegistry, role: str) -> None:
        self.inner = inner
        self.role = role

    def collect(self) -> Iterator[Metric]:
        for metric in self.inner.collect():
            labelled = Metric(metric.name, metric.documentation, metric.type, metric.unit)
            labelled.samples = [
                sample._replace(labels={**sample.labels, "role": self.role})
                for sample in metric.samples
            ]
            yield labelled
