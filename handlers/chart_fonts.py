"""The fonts charts draw with: matplotlib's own, then a CJK font from the mplfonts package."""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path

# Installed with the project's dependencies (mplfonts ships Noto Sans CJK SC): never fetched
# at run time, so a Chinese question renders the same on every machine.
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
_lock = threading.Lock()


def cjk_font_path() -> Path:
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or spec.origin is None:
        raise RuntimeError("the mplfonts package (a dependency of dsbot) is not installed")
    return Path(spec.origin).parent / "fonts" / CJK_FONT_FILE


@cache
def families() -> tuple[str, ...]:
    """Register the CJK font once and make it matplotlib's fallback after DejaVu Sans."""
    import matplotlib
    from matplotlib import font_manager

    with _lock:
        path = cjk_font_path()
        font_manager.fontManager.addfont(str(path))
        cjk = font_manager.FontProperties(fname=str(path)).get_name()
        chosen = ("DejaVu Sans", cjk)
        matplotlib.rcParams["font.family"] = list(chosen)
        return chosen


@cache
def _charmap() -> frozenset[int]:
    from matplotlib.font_manager import FontProperties, findfont, get_font

    families()
    codes: set[int] = set(get_font(findfont(FontProperties(family="DejaVu Sans"))).get_charmap())
    codes.update(get_font(str(cjk_font_path())).get_charmap())
    return frozenset(codes)


def drawable(label: str) -> bool:
    """Whether the chart fonts together have a glyph for every character of `label`."""
    codes = _charmap()
    return all(ord(char) in codes or char.isspace() for char in label)
