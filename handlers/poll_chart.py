"""The PNG bar chart of a poll's results, stacked by platform.

Options are drawn as their numbers ("1", "2"...) and named in the reply's table and the
image's alt text: option labels are people's own words in any script, and no font on the
machine covers all of them (CJK, Arabic, emoji), while digits and platform names render
everywhere. matplotlib is imported on first use so that starting the bot stays fast.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

# One colour per platform, in PLATFORMS order; readable for the common colour blindnesses.
_COLOURS = {"telegram": "#2a9fd6", "discord": "#5865f2", "console": "#7f7f7f"}
_OTHER_COLOUR = "#e69f00"
_NAMES = {"telegram": "Telegram", "discord": "Discord", "console": "Console"}


def render_chart(
    title: str,
    counts: Sequence[int],
    by_platform: Sequence[tuple[str, Sequence[int]]],
    voters: int,
) -> bytes:
    """Horizontal bars, option 1 at the top, each bar split by platform, labelled with the
    count and the share of voters. `title` should be ASCII (for example "#12")."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    number = len(counts)
    figure = Figure(figsize=(7.0, 1.2 + 0.55 * number), dpi=100)
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
            label=_NAMES.get(platform, platform[:20]),
            height=0.6,
        )
        left = [base + count for base, count in zip(left, platform_counts, strict=True)]
    most = max(counts, default=0)
    for row, count in zip(rows, counts, strict=True):
        share = f"{count * 100 / voters:.0f}%" if voters else "0%"
        axes.text(count + most * 0.01 + 0.05, row, f"{count} ({share})", va="center", fontsize=9)
    axes.set_yticks(rows, [str(row + 1) for row in rows])
    axes.invert_yaxis()
    axes.set_xlim(0, max(1.0, most * 1.25))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"{title}   n = {voters}", fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    if by_platform:
        axes.legend(loc="lower right", fontsize=8, frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
