"""The poll results chart: legible on a phone, legend in the reader's language where drawable."""

from __future__ import annotations

import struct

from matplotlib.text import Text

from handlers.poll_chart import draw_chart, drawable, render_chart

BY_PLATFORM = [("telegram", (3, 1, 0)), ("discord", (1, 0, 2)), ("console", (0, 1, 0))]
COUNTS = (4, 2, 2)


def names(lang_names: dict[str, str]) -> dict[str, tuple[str, str]]:
    english = {"telegram": "Telegram", "discord": "Discord", "console": "console"}
    return {platform: (lang_names[platform], english[platform]) for platform in english}


def legend_texts(figure_names: dict[str, tuple[str, str]]) -> list[str]:
    figure = draw_chart("#7", COUNTS, BY_PLATFORM, 8, figure_names)
    (legend,) = figure.legends
    return [entry.get_text() for entry in legend.get_texts()]


def test_the_legend_takes_the_names_it_is_given() -> None:
    given = names({"telegram": "Telegram", "discord": "Discord", "console": "Konsole"})

    assert legend_texts(given) == ["Telegram", "Discord", "Konsole"]


def test_a_name_the_font_cannot_draw_falls_back_to_the_next_one() -> None:
    chinese = names({"telegram": "Telegram", "discord": "Discord", "console": "控制台"})

    assert not drawable("控制台") and drawable("console")
    assert legend_texts(chinese) == ["Telegram", "Discord", "console"]


def test_every_text_on_the_chart_is_at_least_13_points_and_bars_are_numbered() -> None:
    figure = draw_chart(
        "#7", COUNTS, BY_PLATFORM, 8, names(dict.fromkeys(("telegram", "discord", "console"), "x"))
    )
    figure.canvas.draw()
    texts = [text for text in figure.findobj(Text) if text.get_text() and text.get_visible()]
    (axes,) = figure.axes

    assert len(texts) > 10
    assert min(text.get_fontsize() for text in texts) >= 13
    assert [label.get_text() for label in axes.get_yticklabels()] == ["1", "2", "3"]


def test_the_png_is_wide_enough_for_a_phone_to_scale_down() -> None:
    png = render_chart(
        "#7", COUNTS, BY_PLATFORM, 8, names(dict.fromkeys(("telegram", "discord", "console"), "x"))
    )

    width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR chunk
    assert width >= 800 and height >= 400
