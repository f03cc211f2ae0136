"""The /stocks chart says on its own what it shows: subject, period, the % base and the day."""

from __future__ import annotations

import struct
import warnings
from datetime import date

from matplotlib.text import Text

from handlers.model import Lang
from handlers.stock_chart import chart_figure, draw

SERIES = {
    "NVDA": ((date(2025, 1, 24), 142.62), (date(2025, 1, 27), 118.42), (date(2025, 2, 7), 129.84)),
    "AVGO": ((date(2025, 1, 24), 244.70), (date(2025, 1, 27), 202.13), (date(2025, 2, 7), 224.87)),
}
BASE, MARKER = date(2025, 1, 24), date(2025, 1, 27)


def texts(lang: Lang = "en") -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph warns; it must fail here
        figure = chart_figure(SERIES, base=BASE, marker=MARKER, lang=lang)
        figure.canvas.draw()
    return [text.get_text() for text in figure.findobj(Text) if text.get_text()]


def test_the_legend_says_its_percentages_run_from_24_jan_to_7_feb() -> None:
    shown = texts()

    assert "NVDA  -9.0%  (24 Jan → 7 Feb)" in shown
    assert "AVGO  -8.1%  (24 Jan → 7 Feb)" in shown


def test_the_dashed_27_january_line_is_the_sell_off_day_not_r1s_release() -> None:
    shown = texts()

    assert "27 Jan 2025\nsell-off day" in shown
    assert not any("DeepSeek-R1" in text for text in shown)


def test_the_title_names_the_subject_the_period_and_the_base_and_a_source_line_the_date() -> None:
    shown = texts()

    assert (
        "Daily closes around the DeepSeek sell-off\n"
        "24 Jan 2025 → 7 Feb 2025, % change from the 24 Jan close"
    ) in shown
    assert "dsbot · daily closes (snapshot / Yahoo Finance) · as of 7 Feb 2025" in shown


def test_the_png_is_large_enough_to_read_on_a_phone() -> None:
    png = draw(SERIES, base=BASE, marker=MARKER, lang="en")

    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (960, 840)


def test_in_chinese_the_chart_says_the_same_in_chinese_with_every_glyph_drawn() -> None:
    shown = texts("zh")

    assert (
        "DeepSeek 抛售前后的每日收盘价\n2025年1月24日 → 2025年2月7日，相对 1月24日收盘的涨跌 %"
    ) in shown
    assert "NVDA  -9.0%（1月24日 → 2月7日）" in shown
    assert "2025年1月27日\n抛售日" in shown
    assert "dsbot · 每日收盘价（内置快照 / 雅虎财经）· 截至 2025年2月7日" in shown
