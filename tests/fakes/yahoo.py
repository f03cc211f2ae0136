"""A fake Yahoo Finance on 127.0.0.1, reached exactly the way yfinance reaches the real one.

It is an HTTPS CONNECT proxy that terminates TLS itself with a throw-away self-signed
certificate for *.yahoo.com, then answers the cookie (fc.yahoo.com), the crumb
(query1/v1/test/getcrumb) and the v8 chart endpoint in Yahoo's JSON shape. yfinance keeps
its real URLs and cookie domains; only the session it is given points at this proxy, so the
whole production request path (curl_cffi, cookie, crumb, tz lookup, chart) is exercised.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
CRUMB = "fakeCrumb123"
VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed *.yahoo.com certificate and key, made with the openssl command."""
    cert, key = folder / "fake_yahoo_cert.pem", folder / "fake_yahoo_key.pem"
    if not cert.exists():
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "2",
                "-subj",
                "/CN=*.yahoo.com",
                "-addext",
                "subjectAltName=DNS:*.yahoo.com,DNS:yahoo.com,DNS:*.finance.yahoo.com",
            ],
            check=True,
            capture_output=True,
        )
    return cert, key


@dataclass
class Bar:
    day: date
    close: float


@dataclass
class FakeYahooState:
    """What the fake serves and what it saw; tests change the flags between requests."""

    series: dict[str, list[Bar]]
    rate_limited: set[str] = field(default_factory=set)
    rate_limit_everything: bool = False
    slow: set[str] = field(default_factory=set)
    # How long a slow answer is held (unless release_slow is set first).
    slow_seconds: float = 30.0
    empty: set[str] = field(default_factory=set)
    # Symbols whose chart answers 500, or 200 with a body that is not JSON.
    server_error: set[str] = field(default_factory=set)
    garbage: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release_slow: threading.Event = field(default_factory=threading.Event)

    def price_requests(self, symbol: str | None = None) -> list[str]:
        """Chart calls that fetch prices, without yfinance's time-zone lookups."""
        with self.lock:
            found = [
                path.split("/v8/finance/chart/")[1].split("?")[0]
                for host, path in self.requests
                if "/v8/finance/chart/" in path and "events=" in path
            ]
        return [name for name in found if symbol is None or name == symbol]

    def chart_requests(self, symbol: str | None = None) -> list[str]:
        """The chart endpoint calls seen, as symbols (tz lookups included)."""
        with self.lock:
            found = [
                path.split("/v8/finance/chart/")[1].split("?")[0]
                for host, path in self.requests
                if "/v8/finance/chart/" in path
            ]
        return [name for name in found if symbol is None or name == symbol]


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(9, 30), NEW_YORK).timestamp())


def chart_document(symbol: str, bars: list[Bar], query: Mapping[str, list[str]]) -> dict[str, Any]:
    """Yahoo's v8 chart answer for the bars inside the requested range."""
    if "period1" in query:
        start = datetime.fromtimestamp(int(query["period1"][0]), UTC).astimezone(NEW_YORK).date()
        end = datetime.fromtimestamp(int(query["period2"][0]), UTC).astimezone(NEW_YORK).date()
        chosen = [bar for bar in bars if start <= bar.day < end]
    else:
        days = {"1d": 1, "5d": 5}.get(query.get("range", ["1mo"])[0], 21)
        chosen = bars[-days:]
    last = bars[-1]
    closes = [bar.close for bar in chosen]
    regular_start = _epoch(last.day)
    meta: dict[str, Any] = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "NMS",
        "fullExchangeName": "NasdaqGS",
        "instrumentType": "EQUITY",
        "firstTradeDate": 917015400,
        "regularMarketTime": regular_start + 6 * 3600 + 1800,
        "hasPrePostMarketData": True,
        "gmtoffset": -18000,
        "timezone": "EST",
        "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": last.close,
        "chartPreviousClose": bars[-2].close if len(bars) > 1 else last.close,
        "priceHint": 2,
        "currentTradingPeriod": {
            name: {"timezone": "EST", "start": start_at, "end": end_at, "gmtoffset": -18000}
            for name, start_at, end_at in (
                ("pre", regular_start - 19800, regular_start),
                ("regular", regular_start, regular_start + 23400),
                ("post", regular_start + 23400, regular_start + 37800),
            )
        },
        "dataGranularity": "1d",
        "range": query.get("range", [""])[0],
        "validRanges": VALID_RANGES,
    }
    result: dict[str, Any] = {"meta": meta, "timestamp": [_epoch(bar.day) for bar in chosen]}
    result["indicators"] = {
        "quote": [
            {
                "open": closes,
                "high": closes,
                "low": closes,
                "close": closes,
                "volume": [1_000_000] * len(closes),
            }
        ],
        "adjclose": [{"adjclose": closes}],
    }
    if not chosen:
        result = {"meta": meta, "indicators": {"quote": [{}], "adjclose": [{}]}}
    return {"chart": {"result": [result], "error": None}}


NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer
    in_tunnel = False

    def log_message(self, format: str, *args: Any) -> None:  # quiet in test output
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, document: object) -> None:
        self._send(status, json.dumps(document).encode(), "application/json", {})

    def do_CONNECT(self) -> None:
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.server.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        tunnel = type("_Tunnel", (_Handler,), {"in_tunnel": True})
        with suppress(ssl.SSLError, OSError):
            tunnel(tls, self.client_address, self.server)
        self.close_connection = True

    def do_GET(self) -> None:
        state = self.server.state
        host = (self.headers.get("Host") or "").split(":")[0]
        with state.lock:
            state.requests.append((host, self.path))
        url = urlsplit(self.path)
        if not self.in_tunnel or not host.endswith("yahoo.com"):
            self._send(400, b"plain HTTP is not Yahoo", "text/plain", {})
            return
        if state.rate_limit_everything:
            self._send(429, b"Too Many Requests", "text/plain", {})
            return
        if host == "fc.yahoo.com":
            cookie = "A3=d=fake&S=fake; Domain=.yahoo.com; Path=/; Max-Age=31557600; Secure"
            self._send(404, b"<html>not here</html>", "text/html", {"Set-Cookie": cookie})
            return
        if url.path == "/v1/test/getcrumb":
            self._send(200, CRUMB.encode(), "text/plain", {})
            return
        if url.path.startswith("/v8/finance/chart/"):
            self._chart(url.path.removeprefix("/v8/finance/chart/"), parse_qs(url.query))
            return
        self._json(404, {"finance": {"result": None, "error": {"code": "Not Found"}}})

    def _chart(self, symbol: str, query: dict[str, list[str]]) -> None:
        state = self.server.state
        if symbol in state.slow:
            state.release_slow.wait(timeout=state.slow_seconds)
        if symbol in state.rate_limited:
            self._send(429, b"Too Many Requests", "text/plain", {})
            return
        if symbol in state.server_error:
            self._send(500, b"<html>Internal Server Error</html>", "text/html", {})
            return
        if symbol in state.garbage:
            self._send(200, b'{"chart": {"result": [{"meta": {"curr\x00', "application/json", {})
            return
        bars = state.series.get(symbol)
        if bars is None:
            self._json(404, NOT_FOUND)
            return
        if symbol in state.empty:
            self._json(200, chart_document(symbol, bars, {"period1": ["0"], "period2": ["1"]}))
            return
        self._json(200, chart_document(symbol, bars, query))


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeYahooState
    tls: ssl.SSLContext


@dataclass
class FakeYahoo:
    state: FakeYahooState
    proxy_url: str


def free_port() -> int:
    """A loopback port nobody listens on, for an unreachable Yahoo."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_fake_yahoo(series: dict[str, list[Bar]], cert_folder: Path) -> Iterator[FakeYahoo]:
    cert, key = make_certificate(cert_folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    server = _ProxyServer(("127.0.0.1", 0), _Handler)
    server.state = FakeYahooState(series=series)
    server.tls = context
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield FakeYahoo(server.state, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.state.release_slow.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def proxied_session(proxy_url: str) -> Any:
    """yfinance's production session class, pointed at the fake through its proxy."""
    from curl_cffi import requests

    return requests.Session(
        impersonate="chrome", proxies={"http": proxy_url, "https": proxy_url}, verify=False
    )


def series_from_dataset(
    bars: Any, extra: Mapping[str, list[Bar]] | None = None
) -> dict[str, list[Bar]]:
    """What the fake serves: the dataset's closes, plus later bars standing for "today"."""
    series: dict[str, list[Bar]] = {}
    for bar in bars:
        series.setdefault(bar.ticker, []).append(Bar(bar.day, bar.close))
    for ticker, more in (extra or {}).items():
        series.setdefault(ticker, []).extend(more)
    for found in series.values():
        found.sort(key=lambda bar: bar.day)
    return series


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
