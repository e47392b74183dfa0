"""Pictures of backward passes, one channel each, drawn as tables of numbers (notebook 07).

* :func:`draw_dx_full_convolution`: ``dx`` is the full convolution of ``dout`` with the flipped filter.
* :func:`draw_dw_correlation`: ``dw`` is the input correlated with ``dout`` (``dout`` slides over the input).
* :func:`draw_im2col`: each window of the (padded) image becomes one column of ``cols``.
* :func:`draw_max_pool_routing`: max pooling sends each window's gradient to the window's maximum.

The arrays are small (a few rows and columns), so every value is written in its cell; there is no colour scale to
read. Coloured frames mark what the title's equation uses: the same colour in two panels is the same window.
Each function returns a new figure; arrays of either backend come back to the host through :func:`host`.
"""
from __future__ import annotations

import numpy as np

from cnnbook.course.language import tr
from cnnbook.viz.figure import MAX_WIDTH, host, pyplot

CELL = 0.42  # inches per table cell: room for a value such as "-12" at 8 pt
FRAMES = ("tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
          "tab:cyan")


def _plane(a, name: str) -> np.ndarray:
    a = np.asarray(host(a), dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(tr("{name} has shape {shape}; pass one channel, a 2-D (H, W) array", name=name, shape=a.shape))
    return a


def _format(values) -> str:
    """Whole numbers as integers, others with 2 significant digits."""
    return "{:.0f}" if np.allclose(values, np.round(values)) else "{:.2g}"


def _table(ax, values, title, shade=None, frames=(), fills=(), row_labels=None, col_labels=None, xlabel=None,
           ylabel=None):
    """Draw the 2-D ``values`` as a table: one cell per value, the value written in it.

    ``shade``: a boolean mask of cells drawn grey (padding, or zeros that are no input); ``frames``: a list of
    ``(row, col, height, width, colour)`` rectangles drawn around cells; ``fills``: ``(row, col, colour)`` cells
    tinted with that colour."""
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Rectangle
    H, W = values.shape
    fmt = _format(values)
    for (r, c), v in np.ndenumerate(values):
        grey = shade is not None and shade[r, c]
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="0.85" if grey else "white", edgecolor="0.6",
                               linewidth=0.5))
        ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=8, color="0.3" if grey else "black",
                zorder=3)
    for r, c, colour in fills:
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=to_rgba(colour, 0.3), edgecolor="none"))
    for r, c, h, w, colour in frames:
        ax.add_patch(Rectangle((c - 0.5 + 0.06, r - 0.5 + 0.06), w - 0.12, h - 0.12, fill=False, edgecolor=colour,
                               linewidth=2.2))
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks(range(W), col_labels if col_labels is not None else [str(c) for c in range(W)],
                  rotation=90 if col_labels is not None else 0)
    ax.set_yticks(range(H), row_labels if row_labels is not None else [str(r) for r in range(H)])
    ax.tick_params(labelsize=7, length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(tr("column") if xlabel is None else xlabel, fontsize=8)
    ax.set_ylabel(tr("row") if ylabel is None else ylabel, fontsize=8)


def _tables(widths, heights, title):
    """One row of table panels ``widths[i]`` x ``heights[i]`` cells wide and high, sized so that every cell is
    about :data:`CELL` inches (less when the row would be wider than ``MAX_WIDTH``)."""
    cell = min(CELL, (MAX_WIDTH - 0.9 * len(widths)) / sum(widths))
    fig, axes = pyplot().subplots(1, len(widths), layout="constrained", gridspec_kw={"width_ratios": widths},
                                  figsize=(cell * sum(widths) + 0.9 * len(widths), cell * max(heights) + 1.9))
    fig.suptitle(title, fontsize=10, wrap=True)
    return fig, np.atleast_1d(axes)


def draw_dx_full_convolution(dout, w, dx, at=(0, 0)):
    """``dx`` as the full convolution of ``dout`` with the flipped filter (one channel, stride 1, no padding).

    dout: ``(Ho, Wo)``; w: ``(KH, KW)``; dx: ``(Ho + KH - 1, Wo + KW - 1)``, the gradient the backward pass gave.
    ``dout`` is drawn padded with ``KH - 1`` and ``KW - 1`` zeros (grey); the red window under the flipped filter,
    multiplied by it and summed, gives ``dx[at]`` (the title writes the sum)."""
    dout, w, dx = _plane(dout, "dout"), _plane(w, "w"), _plane(dx, "dx")
    (Ho, Wo), (KH, KW) = dout.shape, w.shape
    if dx.shape != (Ho + KH - 1, Wo + KW - 1):
        raise ValueError(tr("dx has shape {shape}; the full convolution of dout {dout} with w {w} is {expected}",
                            shape=dx.shape, dout=dout.shape, w=w.shape, expected=(Ho + KH - 1, Wo + KW - 1)))
    p, q = at
    if not (0 <= p < dx.shape[0] and 0 <= q < dx.shape[1]):
        raise ValueError(tr("at={at!r} is outside dx {shape}", at=at, shape=dx.shape))
    padded = np.pad(dout, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    zeros = np.pad(np.zeros(dout.shape, bool), ((KH - 1, KH - 1), (KW - 1, KW - 1)), constant_values=True)
    flipped = w[::-1, ::-1]
    value = float((padded[p:p + KH, q:q + KW] * flipped).sum())
    fig, axes = _tables([padded.shape[1], KW, KW, dx.shape[1]], [padded.shape[0], KH, KH, dx.shape[0]],
                        tr("dx[{p}, {q}] = sum(red window of padded dout times flipped w) = {value:.4g}: "
                           "dx is the full convolution of dout with the flipped filter", p=p, q=q, value=value))
    _table(axes[0], padded, tr("dout {shape},\npadded with zeros (grey)", shape=dout.shape), shade=zeros,
           frames=[(p, q, KH, KW, "tab:red")])
    _table(axes[1], w, tr("filter w {shape}", shape=w.shape))
    _table(axes[2], flipped, tr("w flipped:\nw[::-1, ::-1]"), frames=[(0, 0, KH, KW, "tab:red")])
    _table(axes[3], dx, f"dx {dx.shape}", frames=[(p, q, 1, 1, "tab:red")])
    return fig


def draw_dw_correlation(x, dout, dw, at=(0, 0)):
    """``dw`` as the input correlated with ``dout`` (one channel, stride 1, no padding): ``dout`` slides over ``x``.

    x: ``(H, W)``; dout: ``(Ho, Wo)``; dw: ``(H - Ho + 1, W - Wo + 1)``, the filter's gradient. The red window of
    ``x`` at offset ``at``, times ``dout`` and summed, gives ``dw[at]`` (the title writes the sum)."""
    x, dout, dw = _plane(x, "x"), _plane(dout, "dout"), _plane(dw, "dw")
    (H, W), (Ho, Wo) = x.shape, dout.shape
    if dw.shape != (H - Ho + 1, W - Wo + 1):
        raise ValueError(tr("dw has shape {shape}; x {x} correlated with dout {dout} gives {expected}",
                            shape=dw.shape, x=x.shape, dout=dout.shape, expected=(H - Ho + 1, W - Wo + 1)))
    di, dj = at
    if not (0 <= di < dw.shape[0] and 0 <= dj < dw.shape[1]):
        raise ValueError(tr("at={at!r} is outside dw {shape}", at=at, shape=dw.shape))
    value = float((x[di:di + Ho, dj:dj + Wo] * dout).sum())
    fig, axes = _tables([W, Wo, dw.shape[1]], [H, Ho, dw.shape[0]],
                        tr("dw[{di}, {dj}] = sum(red window of x times dout) = {value:.4g}: "
                           "dout slides over the input (a correlation), one offset per filter weight",
                           di=di, dj=dj, value=value))
    _table(axes[0], x, tr("input x {shape}", shape=x.shape), frames=[(di, dj, Ho, Wo, "tab:red")])
    _table(axes[1], dout, f"dout {dout.shape}", frames=[(0, 0, Ho, Wo, "tab:red")])
    _table(axes[2], dw, f"dw {dw.shape}", frames=[(di, dj, 1, 1, "tab:red")])
    return fig


def draw_im2col(x, cols, kernel_size, stride=1, padding=0, windows=((0, 0),)):
    """im2col's layout for one channel: each ``K x K`` window of the padded image becomes one column of ``cols``.

    x: ``(H, W)``; cols: ``(K * K, Ho * Wo)``, column ``i * Wo + j`` = window ``(i, j)`` read row by row.
    ``windows``: the output positions ``(i, j)`` whose window and column are framed, one colour each."""
    x, cols = _plane(x, "x"), _plane(cols, "cols")
    K, S, P = kernel_size, stride, padding
    xpad = np.pad(x, P)
    Ho, Wo = (xpad.shape[0] - K) // S + 1, (xpad.shape[1] - K) // S + 1
    if cols.shape != (K * K, Ho * Wo):
        raise ValueError(tr("cols has shape {shape}; a {K}x{K} kernel, stride {S}, padding {P} on {x} gives {expected}",
                            shape=cols.shape, K=K, S=S, P=P, x=x.shape, expected=(K * K, Ho * Wo)))
    bad = [ij for ij in windows if not (0 <= ij[0] < Ho and 0 <= ij[1] < Wo)]
    if bad or len(windows) > len(FRAMES):
        raise ValueError(tr("windows={windows!r}: pass at most {most} output positions (i, j) with "
                            "0 <= i < {Ho} and 0 <= j < {Wo}", windows=list(windows), most=len(FRAMES), Ho=Ho, Wo=Wo))
    pad_mask = np.pad(np.zeros(x.shape, bool), P, constant_values=True)
    colours = FRAMES[:len(windows)]
    fig, axes = _tables([xpad.shape[1], Ho * Wo], [xpad.shape[0], K * K],
                        tr("im2col: the {K}x{K} window under output (i, j) becomes column i * {Wo} + j of cols; "
                           "then out = w.reshape(F, -1) @ cols is the convolution", K=K, Wo=Wo))
    _table(axes[0], xpad, tr("image {shape}", shape=x.shape) + (tr(", padded by {P} (grey)", P=P) if P else ""),
           shade=pad_mask, frames=[(i * S, j * S, K, K, c) for (i, j), c in zip(windows, colours)])
    _table(axes[1], cols, tr("cols {shape}: one column per window", shape=cols.shape),
           frames=[(0, i * Wo + j, K * K, 1, c) for (i, j), c in zip(windows, colours)],
           row_labels=[f"({a}, {b})" for a in range(K) for b in range(K)],
           col_labels=[f"({i}, {j})" for i in range(Ho) for j in range(Wo)],
           xlabel=tr("output position (i, j)"), ylabel=tr("place in the window (row, col)"))
    return fig


def draw_max_pool_routing(x, dout, dx, kernel_size=2, stride=None):
    """How max pooling routes the gradient, for one channel: each window (one colour) sends its ``dout`` to its
    maximum (the first one, row by row, on a tie); every other pixel gets 0.

    x: ``(H, W)``; dout: ``(Ho, Wo)``; dx: ``(H, W)``, the gradient the backward pass gave."""
    x, dout, dx = _plane(x, "x"), _plane(dout, "dout"), _plane(dx, "dx")
    K, S = kernel_size, kernel_size if stride is None else stride
    Ho, Wo = (x.shape[0] - K) // S + 1, (x.shape[1] - K) // S + 1
    if dout.shape != (Ho, Wo) or dx.shape != x.shape:
        raise ValueError(tr("dout {dout} and dx {dx}: a {K}x{K} pool with stride {S} on x {x} "
                            "needs dout {need_dout} and dx {x}", dout=dout.shape, dx=dx.shape, K=K, S=S, x=x.shape,
                            need_dout=(Ho, Wo)))
    if Ho * Wo > len(FRAMES):
        raise ValueError(tr("{n} windows; the picture tells at most {most} apart by colour", n=Ho * Wo,
                            most=len(FRAMES)))
    colours = FRAMES[:Ho * Wo]
    windows, winners = [], []
    for (i, j), c in zip(np.ndindex(Ho, Wo), colours):
        window = x[i * S:i * S + K, j * S:j * S + K]
        r, s = np.unravel_index(int(np.argmax(window)), window.shape)
        windows.append((i * S, j * S, K, K, c))
        winners.append((i * S + r, j * S + s, c))
    fig, axes = _tables([x.shape[1], Wo, x.shape[1]], [x.shape[0], Ho, x.shape[0]],
                        tr("max pooling's backward pass: each window's dout goes to the window's maximum, "
                           "the other pixels get 0 (same colour = same window)"))
    _table(axes[0], x, tr("input x {shape}: windows\n(frames), their maxima (tinted)", shape=x.shape),
           frames=windows, fills=winners)
    _table(axes[1], dout, f"dout {dout.shape}", fills=[(i, j, c) for (i, j), c in zip(np.ndindex(Ho, Wo), colours)])
    _table(axes[2], dx, f"dx {dx.shape}", fills=winners)
    return fig
