"""The poll results chart: legible on a phone, legend in the reader's language where drawable."""

from __future__ import annotations

import io
import struct
import warnings

import pytest
from matplotlib.text import Text

from handlers.poll_chart import draw_chart, drawable, render_chart

CHINESE = {"telegram": "Telegram", "discord": "Discord", "console": "控制台"}
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


def test_a_chinese_name_is_drawn_with_the_projects_cjk_font() -> None:
    chinese = names({"telegram": "Telegram", "discord": "Discord", "console": "控制台"})

    assert drawable("控制台") and not drawable("\u1230")
    assert legend_texts(chinese) == ["Telegram", "Discord", "控制台"]


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


QUESTIONS = {
    "en": ("Will DeepSeek replace GPT?", ("Yes", "No, GPT stays ahead", "They will coexist")),
    "zh": ("DeepSeek 会取代 GPT 吗？", ("会", "不会，GPT 仍将领先", "两者会共存")),
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_chart_carries_the_question_its_options_and_the_poll_in_both_languages(
    lang: str,
) -> None:
    question, options = QUESTIONS[lang]
    subtitle = "Poll #7 · 8 voters · as of 2026-11-30 15:00 (UTC) · dsbot"

    with warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" when it cannot draw a character.
        warnings.simplefilter("error")
        figure = draw_chart(
            question, COUNTS, BY_PLATFORM, 8, names(CHINESE), options=options, subtitle=subtitle
        )
        figure.canvas.draw()
        png = io.BytesIO()
        figure.savefig(png, format="png")
    (axes,) = figure.axes

    assert axes.get_title() == f"{question}\n{subtitle}"
    assert [label.get_text() for label in axes.get_yticklabels()] == [
        f"{number}. {option}" for number, option in enumerate(options, 1)
    ]
    width, height = struct.unpack(">II", png.getvalue()[16:24])
    assert width >= 800 and height >= 400


def test_a_missing_glyph_would_fail_the_chart_tests() -> None:
    from matplotlib.figure import Figure

    figure = Figure()
    figure.text(0.5, 0.5, "\u1230")

    with warnings.catch_warnings(), pytest.raises(UserWarning, match="missing from font"):
        warnings.simplefilter("error")
        figure.savefig(io.BytesIO(), format="png")


def test_the_png_is_wide_enough_for_a_phone_to_scale_down() -> None:
    png = render_chart(
        "#7", COUNTS, BY_PLATFORM, 8, names(dict.fromkeys(("telegram", "discord", "console"), "x"))
    )

    width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR chunk
    assert width >= 800 and height >= 400
