"""Receptive fields seen through the gradient: where one unit's input gradient is large, beside the squares
that say how far it could reach (notebook 05)."""
from __future__ import annotations

import numpy as np

from cnnbook.course.language import tr
from cnnbook.viz.figure import host, pyplot


def show_gradient_field(grad, squares: dict, title=None):
    """Show the magnitude of one unit's input gradient ``(H, W)`` with squares drawn on it, and its profile.

    ``squares`` maps a label to ``(row0, col0, side)`` in input pixels (e.g. the theoretical receptive field and
    the square that holds half of the gradient's magnitude). Left: the map, one colour scale with its key;
    right: the map's middle row (where the squares are centred) as a fraction of its largest value, with
    each square's edges marked in the same colour."""
    g = np.abs(host(grad)).astype(np.float64)
    if g.ndim != 2:
        raise ValueError(tr("grad must be one (H, W) map, got shape {shape}", shape=g.shape))
    if not squares:
        raise ValueError(tr("squares is empty: pass at least one {{label: (row0, col0, side)}}"))
    from matplotlib.patches import Rectangle
    fig, (ax, prof) = pyplot().subplots(1, 2, figsize=(9.6, 4.2), layout="constrained",
                                        gridspec_kw={"width_ratios": [1, 1.15]})
    im = ax.imshow(g, cmap="magma")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04).set_label(tr("|gradient| (a.u.)"), fontsize=8)
    colours = ["#4cc9f0", "#80ed99", "#f9c74f", "#f94144"]
    row0, col0, side = next(iter(squares.values()))
    middle = row0 + side // 2
    line = g[middle] / g.max()
    prof.plot(np.arange(g.shape[1]), line, color="0.2", linewidth=1.2, label=tr("row {row}", row=middle))
    for (label, (r0, c0, s)), colour in zip(squares.items(), colours):
        ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), s, s, fill=False, edgecolor=colour, linewidth=1.6,
                               linestyle="-" if colour == colours[0] else "--"))
        prof.axvspan(c0 - 0.5, c0 + s - 0.5, color=colour, alpha=0.18,
                     label=tr("{label}: {side} px", label=label, side=s))
    ax.set_title(tr("|d unit / d input|, input {height} x {width}", height=g.shape[0], width=g.shape[1]), fontsize=10)
    ax.set_xlabel(tr("input column (pixels)"))
    ax.set_ylabel(tr("input row (pixels)"))
    prof.set_title(tr("profile through the unit's centre"), fontsize=10)
    prof.set_xlabel(tr("input column (pixels)"))
    prof.set_ylabel(tr("|gradient| / largest"))
    prof.set_xlim(0, g.shape[1] - 1)
    prof.set_ylim(0, 1.05)
    prof.grid(True, alpha=0.3)
    prof.legend(fontsize=8, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
