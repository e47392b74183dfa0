"""Measure a matplotlib figure the way a learner sees it, and list what makes it hard to read.

:func:`lint_figure` takes a figure (already laid out) and returns one sentence per defect:

* two texts overlap (titles, axis labels, tick labels, annotations, legends, colour-bar labels);
* a text reaches outside the saved picture (cut off at the figure's edge);
* a font is under ``MIN_FONT_PT`` at the size shown;
* an image panel is under ``MIN_IMAGE_PX`` CSS pixels on its shorter side;
* a text written on an image cell has too little contrast with the cell's colour (white on yellow);
* a marker (a dot) is drawn over a text.

"The size shown" follows one rule for every picture: a figure is shown at its size in inches at 96 CSS
pixels per inch (JupyterLab shows inline PNGs at 100 dpi pixel for pixel, the widgets draw at that size),
scaled down to fit an output area ``SHOWN_WIDTH_PX`` wide (a 1280-pixel window with the file browser open).

:func:`install` puts the linter inside a running IPython kernel: every figure printed to a picture
(inline display, ``savefig`` for a widget, ``IPython.display.Image``) is measured, and every figure
that reaches the notebook as text (``<Figure size 1000x340 with 2 Axes>``) is recorded; the records
wait in :data:`REPORTS` until :func:`pop_json` hands them out. ``tests/figure_lint_plugin.py`` does
that after every notebook cell that nbval runs.
"""
from __future__ import annotations

import json
import math
import re

MIN_FONT_PT = 7.0
MIN_IMAGE_PX = 120.0
SHOWN_WIDTH_PX = 1000.0
CSS_PX_PER_INCH = 96.0
MIN_CONTRAST = 3.0  # WCAG's minimum for large text; cell numbers are small, so this is lenient
TOLERANCE_PX = 2.0  # overlaps or overhangs smaller than this (figure pixels) are the padding of text boxes

REPORTS: list = []


# ------------------------------------------------------------------------------------------ texts
def _short(text: str, n: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _drawn_ticks(axis):
    try:
        return axis._update_ticks()  # the ticks inside the view limits, which are the ones drawn
    except Exception:  # a private method: fall back to every major and minor tick
        return axis.get_major_ticks() + axis.get_minor_ticks()


def _texts(fig):
    """``[(kind, text, artist)]`` of every visible, non-empty text of ``fig``; legends count as one text."""
    out = []

    def add(kind, artist):
        if artist is None or not artist.get_visible():
            return
        s = artist.get_text() if hasattr(artist, "get_text") else ""
        if kind == "legend" or s.strip():
            out.append((kind, s, artist))

    for t in fig.texts:
        add("figure text", t)
    for leg in getattr(fig, "legends", []):
        add("legend", leg)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for t in (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)):
            add("title", t)
        for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            if not ax.axison or not axis.get_visible():
                continue
            add(f"{name} label", axis.label)
            add(f"{name} offset", axis.get_offset_text())
            for tick in _drawn_ticks(axis):
                for lab in (tick.label1, tick.label2):
                    if tick.get_visible() and lab.get_visible():
                        add(f"{name} tick", lab)
        for t in ax.texts:
            add("annotation", t)
        leg = ax.get_legend()
        if leg is not None:
            add("legend", leg)
    return out


def _describe(kind, text, artist):
    if kind == "legend":
        labels = [t.get_text() for t in artist.get_texts()]
        return f"legend ({_short(', '.join(labels))})"
    return f"{kind} {_short(text)!r}"


# ------------------------------------------------------------------------------------------ colour
def _luminance(rgb) -> float:
    def lin(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(float(c)) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a, b) -> float:
    """WCAG contrast ratio of two RGB(A) colours in [0, 1]: 1 (same) to 21 (black on white)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _cell_colour(ax, x, y):
    """The colour of the topmost opaque image of ``ax`` at data point ``(x, y)``, or None."""
    import numpy as np
    for im in reversed(ax.images):
        if not im.get_visible() or (im.get_alpha() is not None and im.get_alpha() < 0.9):
            continue
        A = im.get_array()
        if A is None:
            continue
        left, right, bottom, top = im.get_extent()
        H, W = A.shape[:2]
        if not (min(left, right) <= x <= max(left, right) and min(bottom, top) <= y <= max(bottom, top)):
            continue
        col = min(int((x - left) / (right - left) * W), W - 1)
        frac = (y - top) / (bottom - top) if im.origin == "upper" else (y - bottom) / (top - bottom)
        row = min(int(frac * H), H - 1)
        v = A[row, col]
        if np.ndim(v) == 0:
            return im.to_rgba(v)
        v = np.asarray(v, dtype=float)
        return tuple(v / 255.0) if v.max() > 1 else tuple(v)
    return None


# ------------------------------------------------------------------------------------------ the lint
def shown_scale(fig, width_in=None) -> float:
    """CSS pixels on screen per figure pixel, for a figure (or saved area) ``width_in`` inches wide."""
    width_in = fig.get_figwidth() if width_in is None else width_in
    fit = min(1.0, SHOWN_WIDTH_PX / (width_in * CSS_PX_PER_INCH))
    return CSS_PX_PER_INCH / fig.dpi * fit


def lint_figure(fig, tight: bool = False, renderer=None) -> list[str]:
    """Every defect of ``fig`` as a sentence. ``tight``: the picture is saved with ``bbox_inches="tight"``
    (as Jupyter's inline backend does), so the shown size is that of the grown picture. A text outside the
    figure counts as cut off even then: a widget or ``savefig`` without ``tight`` cuts it, and where the
    picture grows instead, the layout failed to make room and the figure shrinks to fit the page."""
    if renderer is None:
        fig.draw_without_rendering()
        renderer = fig._get_renderer()
    texts = []
    for kind, s, artist in _texts(fig):
        try:
            bb = artist.get_window_extent(renderer)
        except Exception:
            continue
        if bb.width <= 0 or bb.height <= 0 or not all(map(math.isfinite, bb.extents)):
            continue
        texts.append((kind, s, artist, bb))
    width_in = fig.get_figwidth()
    if tight:
        width_in = fig.get_tightbbox(renderer).width
    scale = shown_scale(fig, width_in)
    fit = scale * fig.dpi / CSS_PX_PER_INCH
    W, H = fig.bbox.width, fig.bbox.height
    defects = []
    for kind, s, artist, bb in texts:
        name = _describe(kind, s, artist)
        if (bb.x0 < -TOLERANCE_PX or bb.y0 < -TOLERANCE_PX or bb.x1 > W + TOLERANCE_PX
                          or bb.y1 > H + TOLERANCE_PX):
            defects.append(f"cut off: {name} reaches outside the figure")
        sizes = ([t.get_fontsize() for t in artist.get_texts()] if kind == "legend" else [artist.get_fontsize()])
        shown = min(sizes) * fit if sizes else MIN_FONT_PT
        if shown < MIN_FONT_PT - 0.05:
            defects.append(f"tiny font: {name} is {shown:.1f} pt as shown (minimum {MIN_FONT_PT:g})")
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            a, b = texts[i][3], texts[j][3]
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if w > TOLERANCE_PX and h > TOLERANCE_PX:
                defects.append(f"overlap: {_describe(*texts[i][:3])} and {_describe(*texts[j][:3])}")
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        axbb = ax.get_window_extent(renderer)
        for im in ax.images:
            if not im.get_visible():
                continue
            bb = im.get_window_extent(renderer)
            w = (min(bb.x1, axbb.x1) - max(bb.x0, axbb.x0)) * scale
            h = (min(bb.y1, axbb.y1) - max(bb.y0, axbb.y0)) * scale
            if 0 < min(w, h) < MIN_IMAGE_PX:
                title = ax.get_title() or ax.get_label()
                defects.append(f"small image: {_short(title)!r} is {w:.0f}x{h:.0f} px as shown "
                               f"(minimum {MIN_IMAGE_PX:g} on the shorter side)")
                break
        for t in ax.texts:
            if not t.get_visible() or not t.get_text().strip() or t.get_transform() != ax.transData:
                continue
            x, y = t.get_position()
            cell = _cell_colour(ax, x, y)
            if cell is not None:
                from matplotlib.colors import to_rgba
                ratio = contrast_ratio(to_rgba(t.get_color()), cell)
                if ratio < MIN_CONTRAST:
                    defects.append(f"low contrast: annotation {_short(t.get_text())!r} on its cell "
                                   f"(ratio {ratio:.1f}, minimum {MIN_CONTRAST:g})")
        defects.extend(_markers_over_texts(ax, [x for x in texts if x[2].axes is ax and x[0] == "annotation"],
                                           renderer))
    return defects


def _markers_over_texts(ax, texts, renderer):
    out = []
    for line in ax.lines:
        if not line.get_visible() or line.get_marker() in (None, "None", "", " ") or not texts:
            continue
        face = line.get_markerfacecolor()
        if isinstance(face, str) and face.lower() == "none":
            continue  # a hollow ring around a number leaves it readable
        pts = ax.transData.transform(line.get_xydata())
        for _kind, s, _artist, bb in texts:
            if any(bb.x0 <= px <= bb.x1 and bb.y0 <= py <= bb.y1 for px, py in pts):
                out.append(f"marker over text: a {line.get_marker()!r} marker covers annotation {_short(s)!r}")
    return out


# ------------------------------------------------------------------------------------------ in a kernel
FIGURE_REPR = re.compile(r"<(matplotlib\.figure\.)?Figure size \d+(\.\d+)?x\d+(\.\d+)? with \d+ Axes>")


def _record(kind, defects, where=""):
    if defects:
        REPORTS.append({"kind": kind, "where": where, "defects": list(dict.fromkeys(defects))})


def _figure_title(fig) -> str:
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text():
        return sup.get_text()
    for ax in fig.axes:
        if ax.get_title():
            return ax.get_title()
    return f"figure {fig.get_figwidth():g}x{fig.get_figheight():g} in"


def install():
    """Measure every figure this kernel prints, and record figures that are displayed as text."""
    from matplotlib import rcParams
    from matplotlib.backend_bases import FigureCanvasBase
    if getattr(FigureCanvasBase.print_figure, "_cnnbook_lint", False):
        return
    original = FigureCanvasBase.print_figure

    def print_figure(self, filename, *args, **kwargs):
        result = original(self, filename, *args, **kwargs)
        fig = self.figure
        bbox = kwargs.get("bbox_inches", rcParams["savefig.bbox"])
        try:
            defects = lint_figure(fig, tight=bbox == "tight")
        except Exception as exc:  # a linter crash is itself worth reporting, not worth a broken figure
            defects = [f"figure lint failed: {type(exc).__name__}: {exc}"]
        _record("figure", defects, _short(_figure_title(fig), 60))
        return result

    print_figure._cnnbook_lint = True
    FigureCanvasBase.print_figure = print_figure

    from IPython import get_ipython
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter
    format_original = formatter.format

    def format(obj, include=None, exclude=None):
        data, meta = format_original(obj, include=include, exclude=exclude)
        text = data.get("text/plain", "") if isinstance(data, dict) else ""
        has_image = isinstance(data, dict) and any(k.startswith("image/") for k in data)
        if not has_image and not isinstance(obj, str) and isinstance(text, str) and FIGURE_REPR.search(text):
            _record("text", [f"figure shown as text: {FIGURE_REPR.search(text).group(0)} (no picture)"])
        return data, meta

    formatter.format = format


def pop_json() -> str:
    """The records so far as JSON (and forget them): ``[{"kind", "where", "defects"}]``."""
    out = json.dumps(REPORTS)
    REPORTS.clear()
    return out


# ------------------------------------------------------------------------------------------ text outputs
NP_REPR = re.compile(r"\bnp\.((u?int|float|complex|bool_|str_)\w*\(|True_|False_)")
NUMBER = re.compile(r"(?<![\w.])-?(\d+\.\d+(?:e[-+]?\d+)?)(?![\w.])")
MAX_DIGITS = 6


def _significant_digits(number: str) -> int:
    mantissa = number.lower().split("e")[0].replace(".", "").lstrip("-").lstrip("0")
    return len(mantissa)


def _ends_quiet(source: str) -> bool:
    """Whether IPython hides the cell's result: its last line ends with ``;`` (before any comment).
    nbval runs cells without history, so IPython cannot see the ``;`` there; JupyterLab can."""
    import io
    import tokenize
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
                  if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER,
                                    tokenize.INDENT, tokenize.DEDENT)]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return source.rstrip().endswith(";")
    return bool(tokens) and tokens[-1].string == ";"


def lint_text_outputs(outputs, source: str = "") -> list[str]:
    """Noise in a cell's text outputs (nbformat output dicts): ``np.int64(10)`` reprs, a bare ``True``
    or ``False`` as the cell's result, numbers with more than ``MAX_DIGITS`` significant digits.
    ``source``: the cell's code; a result it hides with a final ``;`` is not shown, so not checked."""
    defects = []
    quiet = _ends_quiet(source)
    for out in outputs:
        kind = out.get("output_type")
        if kind == "execute_result" and quiet:
            continue
        if kind == "stream":
            if out.get("name") != "stdout":
                continue  # progress bars and warnings
            text = out.get("text", "")
        elif kind in ("execute_result", "display_data"):
            text = out.get("data", {}).get("text/plain", "")
            if kind == "execute_result" and text.strip() in ("True", "False", "np.True_", "np.False_"):
                defects.append(f"bare result: {text.strip()} is the cell's output (print a short verdict instead)")
                continue
            if any(k != "text/plain" for k in out.get("data", {})):
                continue  # a rich output; its text form is not what the learner sees
        else:
            continue
        if isinstance(text, list):
            text = "".join(text)
        m = NP_REPR.search(text)
        if m:
            line = next(ln for ln in text.splitlines() if m.group(0) in ln)
            defects.append(f"NumPy repr in output: {_short(line, 60)!r} (convert with int()/float())")
        for num in NUMBER.findall(text):
            if _significant_digits(num) > MAX_DIGITS:
                defects.append(f"number with {_significant_digits(num)} significant digits: {num} "
                               "(print 3-4, e.g. f'{x:.3g}')")
                break
    return defects
