"""The output-size drawing: padded input grid, where the kernel lands, and the output grid, as SVG.

SVG rather than a matplotlib image because the stride/padding explorer redraws it on every slider
move (fast, crisp at any zoom) and because a browser test can count its cells: every rectangle
carries a class, ``cnnbook-input-cell``, ``cnnbook-pad-cell``, ``cnnbook-dropped-cell`` (never covered
by a window when the size does not divide), ``cnnbook-kernel-cell`` and ``cnnbook-output-cell``
(``cnnbook-output-current`` for the cell the kernel position computes).
"""
from __future__ import annotations

import unicodedata
from html import escape

from cnnbook.course.language import tr
from cnnbook.explore import OutputSizeReport, kernel_taps


class SvgDrawing(str):
    """SVG text that Jupyter displays as a picture (and that widgets put in an ``HTML`` value)."""

    def _repr_svg_(self):
        return str(self)


def _cells(n: int, cell: float) -> float:
    return n * cell


CHAR_WIDTH = 7.5  # px per character of 12-px sans-serif, generous (capitals and digits run wider than average)


WIDE_CHAR_WIDTH = 12.5  # px per Hangul syllable (a full-width character is about 1 em wide)


def _text_width(text: str, bold: bool = False) -> float:
    """A safe estimate of the width of ``text`` in 12-px sans-serif, so the drawing is made wide enough for it
    (Hangul, in the Korean edition, runs about one em per character)."""
    width = sum(WIDE_CHAR_WIDTH if unicodedata.east_asian_width(ch) in "WF" else CHAR_WIDTH for ch in text)
    return width * (1.1 if bold else 1.0)


def draw_output_grid(report: OutputSizeReport, position: int = 0, max_width: int = 640) -> SvgDrawing:
    """Draw ``report`` (from :func:`cnnbook.explore.output_size_report`) with the kernel at output
    cell ``position`` (row-major). Units: one square = one pixel (input) or one unit (output)."""
    if not isinstance(report, OutputSizeReport):
        raise TypeError(tr("report must be an OutputSizeReport from output_size_report(...), got {kind}",
                           kind=type(report).__name__))
    n_in, n_out, P = report.padded_size, report.output_size, report.padding
    cell = max(4.0, min(22.0, (max_width - 140) / (n_in + max(n_out, 1))))
    top, left, gap = 58, 34, 60
    w_in = _cells(n_in, cell)
    title = (tr("input {W}x{W}, padding {P} -> padded {n}x{n}; kernel {K}, stride {S}", W=report.input_size, P=P,
                n=n_in, K=report.kernel_size, S=report.stride)
             + (tr(", dilation {D}", D=report.dilation) if report.dilation > 1 else "")
             + tr(" -> output {n}x{n}", n=n_out))
    key = tr("input column (pixels); grey = padding, blue = kernel")
    dropped_key = tr("red = never covered by a window (dropped)") if report.dropped else ""
    captions = [key, dropped_key, report.formula]
    # wide enough for the grids and for every line of text (nothing is cut off at the right edge)
    width = max(left + w_in + gap + _cells(max(n_out, 1), cell) + 20,
                left + _text_width(title, bold=True) + 10, *(left + _text_width(t) + 10 for t in captions))
    height = top + max(w_in, 40) + 46 + (18 if dropped_key else 0)
    taps = set(kernel_taps(report, position)) if n_out else set()
    covered = n_in - report.dropped
    current = divmod(position, n_out) if n_out else None
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cnnbook-output-grid" width="{width:.0f}" '
           f'height="{height:.0f}" font-family="sans-serif" font-size="12">']
    out.append(f'<text class="cnnbook-grid-title" x="{left}" y="18" font-weight="bold">{escape(title)}</text>')
    out.append(f'<text x="{left}" y="{top - 10}">{escape(tr("padded input (pixels)"))}</text>')
    for r in range(n_in):
        for c in range(n_in):
            pad = r < P or c < P or r >= n_in - P or c >= n_in - P
            dropped = r >= covered or c >= covered
            cls, fill = ("cnnbook-pad-cell", "#e6e6e6") if pad else ("cnnbook-input-cell", "#ffffff")
            if dropped:
                cls, fill = cls + " cnnbook-dropped-cell", "#f4a6a6"
            if (r, c) in taps:
                cls, fill = cls + " cnnbook-kernel-cell", "#4c8bf5"
            out.append(f'<rect class="{cls}" x="{left + c * cell:.1f}" y="{top + r * cell:.1f}" '
                       f'width="{cell:.1f}" height="{cell:.1f}" fill="{fill}" stroke="#999" stroke-width="0.5"/>')
    x0 = left + w_in + gap
    out.append(f'<text x="{x0}" y="{top - 10}">{escape(tr("output (units)"))}</text>')
    for r in range(n_out):
        for c in range(n_out):
            cls, fill = "cnnbook-output-cell", "#d9f2d9"
            if (r, c) == current:
                cls, fill = cls + " cnnbook-output-current", "#4c8bf5"
            out.append(f'<rect class="{cls}" x="{x0 + c * cell:.1f}" y="{top + r * cell:.1f}" '
                       f'width="{cell:.1f}" height="{cell:.1f}" fill="{fill}" stroke="#555" stroke-width="0.5"/>')
    if n_out:
        ar_y = top + cell * (current[0] + 0.5)
        out.append(f'<line x1="{left + w_in + 6:.1f}" y1="{ar_y:.1f}" x2="{x0 - 6:.1f}" y2="{ar_y:.1f}" '
                   'stroke="#4c8bf5" stroke-width="2"/>')
    y_lab = top + max(w_in, 40) + 18
    for line in filter(None, captions):
        out.append(f'<text x="{left}" y="{y_lab:.0f}">{escape(line)}</text>')
        y_lab += 18
    out.append(f'<text x="12" y="{top + w_in / 2:.0f}" transform="rotate(-90 12 {top + w_in / 2:.0f})" '
               f'text-anchor="middle">{escape(tr("input row (pixels)"))}</text>')
    out.append("</svg>")
    return SvgDrawing("\n".join(out))
