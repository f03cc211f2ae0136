"""The /stocks chart says on its own what it shows: subject, period, the % base and the day."""

from __future__ import annotations

import struct
import warnings
from datetime import date

from matplotlib.text import Text

from handlers.stock_chart import chart_figure, draw

SERIES = {
    "NVDA": ((date(2025, 1, 24), 142.62), (date(2025, 1, 27), 118.42), (date(2025, 2, 7), 129.84)),
    "AVGO": ((date(2025, 1, 24), 244.70), (date(2025, 1, 27), 202.13), (date(2025, 2, 7), 224.87)),
}
BASE, MARKER = date(2025, 1, 24), date(2025, 1, 27)


def texts() -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph warns; it must fail here
        figure = chart_figure(SERIES, base=BASE, marker=MARKER)
        figure.canvas.draw()
    return [text.get_text() for text in figure.findobj(Text) if text.get_text()]


def test_the_legend_says_its_percentages_run_from_24_jan_to_7_feb() -> None:
    shown = texts()

    assert "NVDA  -9.0%  (24 Jan → 07 Feb)" in shown
    assert "AVGO  -8.1%  (24 Jan → 07 Feb)" in shown


def test_the_dashed_27_january_line_is_the_sell_off_day_not_r1s_release() -> None:
    shown = texts()

    assert "27 Jan 2025\nsell-off day" in shown
    assert not any("DeepSeek-R1" in text for text in shown)


def test_the_title_names_the_subject_the_period_and_the_base_and_a_source_line_the_date() -> None:
    shown = texts()

    assert (
        "Daily closes around the DeepSeek sell-off\n"
        "24 Jan 2025 → 07 Feb 2025, % change from the 24 Jan close"
    ) in shown
    assert "dsbot · daily closes (snapshot / Yahoo Finance) · as of 07 Feb 2025" in shown


def test_the_png_is_large_enough_to_read_on_a_phone() -> None:
    png = draw(SERIES, base=BASE, marker=MARKER)

    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (960, 840)
