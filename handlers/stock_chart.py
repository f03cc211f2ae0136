"""PNG line charts of prices normalised to the 24 January 2025 close, readable on a phone.

matplotlib is imported on first use only (it costs start-up time every command would
pay) and always with the Agg backend: there is no screen. The chart's own words (title,
period, the sell-off line, source) come from the catalogue in the reader's language, drawn
with the CJK font of handlers/chart_fonts.py; the cache key includes the language.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
from datetime import date, datetime, time
from typing import Any

from handlers.chart_fonts import families
from handlers.i18n import long_date, short_date, text
from handlers.model import Lang, Services

# Distinct in colour and line style, so lines stay apart on small, dim or grey screens.
_STYLES = (
    ("#d62728", "-"),
    ("#1f77b4", "-"),
    ("#2ca02c", "--"),
    ("#9467bd", "-."),
    ("#ff7f0e", "--"),
    ("#000000", ":"),
    ("#8c564b", "-"),
    ("#17becf", "-."),
)
# One render at a time: matplotlib's global state (font cache, rcParams) is not thread-safe.
_render_lock = threading.Lock()


def chart_key(kind: str, series: dict[str, tuple[tuple[date, float], ...]], lang: Lang) -> str:
    """Identical data in one language draws an identical chart: they are the cache key."""
    digest = hashlib.sha256(f"{kind}:{lang}".encode())
    for ticker in sorted(series):
        digest.update(ticker.encode())
        for day, close in series[ticker]:
            digest.update(f"{day.isoformat()}={close!r};".encode())
    return f"{kind}:{digest.hexdigest()[:32]}"


async def cached_render(
    services: Services,
    kind: str,
    series: dict[str, tuple[tuple[date, float], ...]],
    marker: date,
    base: date,
    lang: Lang,
) -> bytes:
    """The chart from the market cache, drawn and stored there on a miss."""
    key = chart_key(kind, series, lang)
    png = await services.market.cached_chart(key)
    if png is None:
        png = await render_png(series, base=base, marker=marker, lang=lang)
        await services.market.store_chart(key, png)
    return png


async def render_png(
    series: dict[str, tuple[tuple[date, float], ...]], *, base: date, marker: date, lang: Lang
) -> bytes:
    """Draw in a worker thread: rendering takes a CPU-bound fraction of a second."""
    return await asyncio.to_thread(draw, series, base=base, marker=marker, lang=lang)


def draw(
    series: dict[str, tuple[tuple[date, float], ...]], *, base: date, marker: date, lang: Lang
) -> bytes:
    """Each ticker's close as % change from its `base` close, with `marker` drawn as a line."""
    with _render_lock:
        figure = chart_figure(series, base=base, marker=marker, lang=lang)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()


def chart_figure(
    series: dict[str, tuple[tuple[date, float], ...]],
    *,
    base: date,
    marker: date,
    lang: Lang = "en",
) -> Any:
    """The chart, titled and labelled so that the image alone says what it shows."""
    import matplotlib

    matplotlib.use("Agg")
    families()
    from matplotlib.dates import AutoDateLocator, DateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 7), dpi=120, layout="constrained")
    axes: Any = figure.add_subplot()
    first_day = min(day for closes in series.values() for day, _ in closes)
    last_day = max(day for closes in series.values() for day, _ in closes)
    finals: list[tuple[float, str]] = []
    for index, (ticker, closes) in enumerate(series.items()):
        reference = dict(closes).get(base)
        if reference is None:
            continue
        days = [datetime.combine(day, time(12)) for day, _ in closes]
        values = [(close / reference - 1) * 100 for _, close in closes]
        colour, style = _STYLES[index % len(_STYLES)]
        axes.plot(
            days,
            values,
            color=colour,
            linestyle=style,
            linewidth=2.6,
            label=text(
                lang,
                "stocks.chart_legend",
                ticker=ticker,
                change=f"{values[-1]:+.1f}",
                base=short_date(lang, base),
                last=short_date(lang, closes[-1][0]),
            ),
        )
        finals.append((values[-1], ticker))
    axes.axhline(0, color="#555555", linewidth=1)
    event = datetime.combine(marker, time(12))
    axes.axvline(event, color="#444444", linestyle="--", linewidth=1.5)
    axes.annotate(
        text(lang, "stocks.chart_marker", day=long_date(lang, marker)),
        xy=(event, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(6, -6),
        textcoords="offset points",
        va="top",
        fontsize=13,
        color="#333333",
    )
    axes.set_title(
        text(
            lang,
            "stocks.chart_image_title",
            first=long_date(lang, first_day),
            last=long_date(lang, last_day),
            base=short_date(lang, base),
        ),
        fontsize=16,
    )
    axes.set_ylabel(text(lang, "stocks.chart_axis", base=base.isoformat()), fontsize=15)
    axes.set_xlabel(
        f"{first_day.year}–{last_day.year}"
        if first_day.year != last_day.year
        else str(first_day.year),
        fontsize=15,
    )
    locator = AutoDateLocator(  # type: ignore[no-untyped-call]
        minticks=4, maxticks=8
    )
    axes.xaxis.set_major_locator(locator)
    span_days = (last_day - first_day).days
    axes.xaxis.set_major_formatter(
        DateFormatter(  # type: ignore[no-untyped-call]
            "%m-%d" if span_days < 200 else "%Y-%m"
        )
    )
    axes.tick_params(labelsize=13)
    axes.grid(True, alpha=0.3)
    # Below the plot, so no line hides behind it.
    figure.legend(fontsize=13, loc="outside lower center", ncol=2, frameon=False)
    figure.text(
        0.01,
        0.0,
        text(lang, "stocks.chart_footer", day=long_date(lang, last_day)),
        fontsize=13,
        color="#555555",
    )
    return figure
