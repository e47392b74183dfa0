"""What every figure of :mod:`cnnbook.viz` shares: the way arrays come to the host, matplotlib with a Hangul
font, the readability limits, the grid of image panels.

* :func:`host` - the one place arrays of either backend come back to the host for plotting.
* :func:`pyplot` - ``matplotlib.pyplot``, imported on the first plot. One global setting changes then: a Hangul
  font found on the machine is added to the end of matplotlib's font families (``font.family``,
  :func:`hangul_font`), as a glyph-by-glyph fallback for the Korean edition's text. English text is drawn as
  before (DejaVu Sans comes first and has every Latin glyph); Hangul, which DejaVu Sans lacks, is drawn with
  that font instead of empty boxes.
* :data:`MAX_WIDTH`, :data:`MIN_PANEL` - the size limits every figure keeps.
* :func:`image_grid`, :func:`finish_image_grid` - panels of images in rows, labelled once in pixels;
  :func:`as_images`, :func:`image_for_imshow` - arrays as ``imshow`` wants them;
  :func:`annotate_cells`, :func:`text_colour` - numbers written on the cells of a small map.

The text drawn here (axis labels, the missing-font hint) goes through :func:`cnnbook.course.language.tr`.
"""
from __future__ import annotations

import numpy as np

from cnnbook import backend
from cnnbook.course.language import N_, tr


def host(a) -> np.ndarray:
    """The one place arrays leave the device for plotting: a host NumPy array."""
    return backend.to_numpy(a)


# Fonts with Hangul that learners' machines have: Debian/Ubuntu's fonts-nanum, Noto CJK (many Linux systems),
# Windows' Malgun Gothic, macOS's Apple SD Gothic Neo / AppleGothic. The first one installed is used.
HANGUL_FONTS = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "Malgun Gothic", "Apple SD Gothic Neo",
                "AppleGothic", "NanumBarunGothic", "UnDotum")
HANGUL_FONT_HINT = N_("no Hangul font found for matplotlib: Korean text in figures would be drawn as boxes. "
                    "Install one (Debian/Ubuntu: `sudo apt-get install fonts-nanum`, then restart the kernel); "
                    "Windows and macOS come with one")  # shown through tr: in Korean


def hangul_font(installed=None) -> str | None:
    """The first font of :data:`HANGUL_FONTS` that matplotlib knows (``installed``: the names it knows, default
    its font list), or ``None``."""
    if installed is None:
        from matplotlib import font_manager
        installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in HANGUL_FONTS if name in installed), None)


_hangul_ready = False


def pyplot():
    """``matplotlib.pyplot``, with a Hangul font appended to ``font.family`` on the first call
    (:func:`add_hangul_fallback`); every plot of :mod:`cnnbook.viz` gets matplotlib here."""
    import matplotlib.pyplot as plt  # imported on first plot, so importing cnnbook.viz stays cheap
    global _hangul_ready
    if not _hangul_ready:
        _hangul_ready = True
        add_hangul_fallback(plt.rcParams)
    return plt


def add_hangul_fallback(rc) -> None:
    """Append a Hangul font to ``rc["font.family"]`` (matplotlib falls back along that list glyph by glyph, while
    a generic name such as ``sans-serif`` resolves to one font only); warn in the Korean edition when the
    machine has none."""
    font = hangul_font()
    if font is None:
        from cnnbook.course.language import get_language
        if get_language() == "ko":
            import warnings
            warnings.warn(tr(HANGUL_FONT_HINT), stacklevel=3)
        return
    if font not in rc["font.family"]:
        rc["font.family"] = [*rc["font.family"], font]


# Readability limits every figure here keeps (NOTEBOOKS.md; tests/figure_lint.py measures them): a figure at
# most MAX_WIDTH inches wide (JupyterLab shows it at 96 CSS px per inch without shrinking it), image panels
# of at least MIN_PANEL inches (about 120 px on screen after titles and gaps), no font under 7 pt.
MAX_WIDTH = 10.0
MIN_PANEL = 1.5


def finish_image_grid(fig, axes, xlabel=None, ylabel=None):
    """Images need no ticks: hide them on every axis, label the grid once in pixels (the layout is
    constrained, so the labels and colour bars find their room); the labels default to column/row (pixels)."""
    xlabel = tr("column (pixels)") if xlabel is None else xlabel
    ylabel = tr("row (pixels)") if ylabel is None else ylabel
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.supxlabel(xlabel, fontsize=9)
    fig.supylabel(ylabel, fontsize=9)
    return fig


def image_grid(n: int, ncols: int, size: float, title: str, aspect: float = 1.0, extra_width: float = 0.0):
    """``n`` axes in rows of at most ``ncols``; ``aspect`` is height / width of what each shows.

    Panels are at least ``MIN_PANEL`` inches and the figure at most ``MAX_WIDTH`` (plus ``extra_width``
    for a colour bar): a grid that would be wider wraps into more rows rather than shrink its images."""
    ncols = max(1, min(ncols, n))
    aspect = min(max(aspect, 0.4), 2.5)
    smallest = MIN_PANEL / min(aspect, 1.0)  # a wide image needs more width for its height to reach MIN_PANEL
    size = max(min(size, (MAX_WIDTH - extra_width) / ncols), smallest)  # shrink to fit the row, down to that
    ncols = max(1, min(ncols, int((MAX_WIDTH - extra_width + 1e-9) // size)))  # then wrap
    nrows = -(-n // ncols)
    # Each row gets room for a two-line title above its images: images keep their aspect, so the layout
    # engine cannot make that room by squeezing them.
    fig, axes = pyplot().subplots(nrows, ncols, figsize=(size * ncols + extra_width,
                                                       (size * aspect + 0.45) * nrows + 0.8),
                                squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.suptitle(title, wrap=True)
    return fig, axes.flat[:n]


def text_colour(rgba) -> str:
    """Black or white, whichever reads better on a cell of colour ``rgba``."""
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3])
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 else "white"


def annotate_cells(ax, im, values, fmt="{:.2g}", fontsize=8):
    """Write each value of the 2-D ``values`` on its cell of image ``im``, in black or white to suit the cell."""
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, fmt.format(float(v)), ha="center", va="center", fontsize=fontsize,
                color=text_colour(im.to_rgba(v)))


def as_images(X) -> np.ndarray:
    X = host(X)
    if X.ndim == 2:
        X = X[None, None]
    elif X.ndim == 3:
        X = X[None]
    if X.ndim != 4:
        raise ValueError(tr("images must be (N, C, H, W), (C, H, W) or (H, W), got shape {shape}", shape=X.shape))
    return X


def image_for_imshow(img: np.ndarray) -> tuple:
    """``(C, H, W)`` -> what ``imshow`` wants, and a colour map (None for RGB)."""
    C = img.shape[0]
    if C == 1:
        return img[0], "gray"
    if C == 3:
        lo, hi = img.min(), img.max()
        if lo < 0 or hi > 1:  # e.g. centred data or filters: stretch to [0, 1] so colours stay visible
            img = (img - lo) / (hi - lo + 1e-12)
        return img.transpose(1, 2, 0), None
    raise ValueError(tr("an image to show needs 1 or 3 channels, got {C} (shape {shape}); "
                        "show the channels one by one with show_activation_maps", C=C, shape=img.shape))
