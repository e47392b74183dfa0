"""Korean text in figures is drawn with a real Hangul font, never as empty boxes (the Korean edition's figures).

The machine needs a Hangul font (CI installs Debian's fonts-nanum); on one without, the glyph test fails and says
how to install one, as a Korean learner's figure would otherwise show boxes.
"""
import warnings

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cnnbook import viz  # noqa: E402
from cnnbook.course import language  # noqa: E402
from cnnbook.viz import figure  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_a_korean_figure_draws_every_hangul_glyph():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"Glyph \d+ .* missing from font")
        fig = viz.show_images(np.random.default_rng(0).random((2, 1, 8, 8)), titles=["셔츠", "바지 (trousers)"],
                              title="클래스마다 훈련 이미지 하나")
        try:
            fig.savefig(__import__("io").BytesIO(), format="png")
        except UserWarning as missing:
            pytest.fail(f"{missing}: {figure.HANGUL_FONT_HINT}")
    font = figure.hangul_font()
    assert font is not None and font in plt.rcParams["font.family"]
    assert plt.rcParams["font.family"][0] == "sans-serif"  # English text keeps its font; Hangul falls back


@pytest.mark.parametrize("installed, chosen", [
    ({"DejaVu Sans", "NanumGothic", "Malgun Gothic"}, "NanumGothic"),
    ({"DejaVu Sans", "Malgun Gothic"}, "Malgun Gothic"),  # Windows
    ({"DejaVu Sans", "AppleGothic"}, "AppleGothic"),  # macOS
    ({"DejaVu Sans"}, None),
])
def test_the_first_hangul_font_installed_is_chosen(installed, chosen):
    assert figure.hangul_font(installed) == chosen


def test_without_a_hangul_font_the_korean_edition_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(figure, "hangul_font", lambda installed=None: None)
    rc = {"font.family": ["sans-serif"]}
    language.set_language("ko")
    try:
        with pytest.warns(UserWarning, match="apt-get install fonts-nanum"):
            figure.add_hangul_fallback(rc)
        language.set_language("en")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            figure.add_hangul_fallback(rc)  # English figures need no Hangul: no warning
    finally:
        language.set_language(None)
    assert rc["font.family"] == ["sans-serif"]
