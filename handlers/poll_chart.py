"""The PNG bar chart of a poll's results, stacked by platform.

The image stands on its own when forwarded: the question is its title, each bar is labelled
with its option's text, and a subtitle says which poll, how many voters and as of when.
Chinese renders with the CJK font of handlers/chart_fonts.py; characters no chart font has
(emoji, rare scripts) are drawn as "?" and named in full in the alt text. matplotlib is
imported on first use so that starting the bot stays fast.
"""

from __future__ import annotations

import io
import textwrap
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, ParamSpec

from handlers.chart_fonts import drawable, families

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# One colour per platform, in PLATFORMS order; readable for the common colour blindnesses.
_COLOURS = {"telegram": "#2a9fd6", "discord": "#5865f2", "console": "#7f7f7f"}
_OTHER_COLOUR = "#e69f00"
# Read on a phone, where the ~840 px image is shown about 360 px wide: as large as
# handlers/stock_chart.py's text, never below 13 pt.
_TEXT_PT, _TITLE_PT = 14, 16
# One render at a time: matplotlib's global state (font cache) is not thread-safe.
P = ParamSpec("P")
_render_lock = threading.Lock()


def shown(label: str, limit: int) -> str:
    """A label the fonts can draw: characters they lack (emoji, rare scripts) become "?"."""
    kept = "".join(char if drawable(char) else "?" for char in label)
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def legend_name(platform: str, names: Mapping[str, Sequence[str]]) -> str:
    """The first of the platform's names (most wanted first) the font can draw."""
    for name in names.get(platform, ()):
        if name and drawable(name):
            return name[:20]
    return platform[:20]


def draw_chart(
    title: str,
    counts: Sequence[int],
    by_platform: Sequence[tuple[str, Sequence[int]]],
    voters: int,
    names: Mapping[str, Sequence[str]],
    *,
    options: Sequence[str] = (),
    subtitle: str = "",
) -> Figure:
    """Horizontal bars, option 1 at the top, each bar split by platform, labelled with the
    count and the share of voters. `title` should be ASCII (for example "#12"); `names`
    gives each platform's legend names in order of preference (the reader's language first)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    families()

    number = len(counts)
    figure = Figure(figsize=(7.0, 2.2 + 0.7 * number), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    rows = list(range(number))
    left = [0] * number
    for platform, platform_counts in by_platform:
        axes.barh(
            rows,
            list(platform_counts),
            left=list(left),
            color=_COLOURS.get(platform, _OTHER_COLOUR),
            label=legend_name(platform, names),
            height=0.6,
        )
        left = [base + count for base, count in zip(left, platform_counts, strict=True)]
    most = max(counts, default=0)
    for row, count in zip(rows, counts, strict=True):
        share = f"{count * 100 / voters:.0f}%" if voters else "0%"
        axes.text(
            count + most * 0.01 + 0.05, row, f"{count} ({share})", va="center", fontsize=_TEXT_PT
        )
    ticks = [f"{row + 1}. {shown(option, 24)}" for row, option in enumerate(options)]
    axes.set_yticks(rows, ticks if len(ticks) == number else [str(row + 1) for row in rows])
    axes.tick_params(labelsize=_TEXT_PT)
    axes.invert_yaxis()
    # Room on the right for the "count (share)" labels at this text size.
    axes.set_xlim(0, max(1.0, most * 1.45))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    heading = "\n".join(textwrap.wrap(shown(title, 120), 44)) or title
    axes.set_title(f"{heading}\n{subtitle}" if subtitle else heading, fontsize=_TITLE_PT)
    axes.spines[["top", "right"]].set_visible(False)
    if by_platform:
        figure.legend(
            loc="outside lower center", ncol=len(by_platform), fontsize=_TEXT_PT, frameon=False
        )
    return figure


def as_png(draw: Callable[P, Figure]) -> Callable[P, bytes]:
    """`draw`, its figure saved as PNG bytes; one drawing at a time (pyplot is not threadsafe)."""

    def png(*args: P.args, **kwargs: P.kwargs) -> bytes:
        buffer = io.BytesIO()
        with _render_lock:
            draw(*args, **kwargs).savefig(buffer, format="png")
        return buffer.getvalue()

    return png


render_chart = as_png(draw_chart)
