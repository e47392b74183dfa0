"""Plots for notebooks 10 and 12: how far attention reaches, attention maps, accuracy against data size,
cross-validation results. Import explicitly: ``from cnnbook.viz.attention import plot_attention_distance``.

Every function draws a new figure and returns it; arrays reach the host through :func:`cnnbook.viz.host`.
"""
from __future__ import annotations

import numpy as np

from cnnbook.course.language import tr
from cnnbook.viz.figure import MAX_WIDTH, MIN_PANEL, host, pyplot


def plot_attention_distance(distances, cnn_reach=None, image_size=28, title=None):
    """Mean attention distance per layer (one dot per head, a line through the means) in pixels.

    distances : ``(depth, H)`` from :func:`cnnbook.models.measures.attention_distances`.
    cnn_reach : optional ``{label: [pixels per conv layer]}``, e.g. each conv layer's receptive-field
        radius, drawn as lines on the same axes for comparison.
    """
    d = np.asarray(host(distances), dtype=float)
    if d.ndim != 2:
        raise ValueError(tr("distances must be (depth, heads), got shape {shape}", shape=d.shape))
    fig, ax = pyplot().subplots(figsize=(5.5, 3.6), layout="constrained")
    layers = np.arange(1, d.shape[0] + 1)
    for h in range(d.shape[1]):
        ax.scatter(layers, d[:, h], color="tab:orange", alpha=0.6, s=25, label=tr("ViT head") if h == 0 else None)
    ax.plot(layers, d.mean(axis=1), "o-", color="tab:red", label=tr("ViT mean over heads"))
    for i, (label, reach) in enumerate((cnn_reach or {}).items()):
        reach = np.asarray(host(reach), dtype=float)
        ax.plot(np.arange(1, reach.size + 1), reach, "s--", color=f"C{i}", label=label)
    ax.axhline(image_size * np.sqrt(2), color="gray", lw=0.8, ls=":", label=tr("image diagonal"))
    ax.set_xlabel(tr("layer"))
    ax.set_ylabel(tr("distance (pixels)"))
    ax.set_xticks(np.arange(1, max(d.shape[0], *[len(r) for r in (cnn_reach or {}).values()], 1) + 1))
    ax.set_title(title or tr("how far each layer looks"), wrap=True)
    ax.legend(fontsize=7, loc="best")
    return fig


def show_attention_maps(image, maps, grid_size, query=0, num_prefix_tokens=1, size=1.7, title=None):
    # size is at least MIN_PANEL inches: a smaller panel is too small to read on screen
    """Where one query token looks, per layer (rows) and head (columns), over the image.

    image : ``(C, H, W)`` or ``(H, W)``; maps : one ``(H_heads, T, T)`` array per layer (for this image);
    query : the attending token (0 is the class token when there is one); the weights on the
    ``grid_size x grid_size`` patches are shown as a heat map over the image.
    """
    img = np.asarray(host(image), dtype=float)
    img = img[0] if img.ndim == 3 else img
    maps = [np.asarray(host(a), dtype=float) for a in maps]
    heads = maps[0].shape[0]
    p = int(num_prefix_tokens)
    plt = pyplot()
    size = max(size, MIN_PANEL)
    fig, axes = plt.subplots(len(maps), heads + 1, figsize=(size * (heads + 1) + 1.0, 1.2 * size * len(maps) + 0.7),
                             squeeze=False, layout="constrained")
    top = max(float(a[:, query, p:].max()) for a in maps)  # one colour scale for every head and layer
    extent = (0, img.shape[1], img.shape[0], 0)
    for layer, a in enumerate(maps):
        if a.ndim != 3 or a.shape[-1] != grid_size ** 2 + p:
            raise ValueError(tr("layer {layer}: attention must be (heads, T, T) with T = {T}, got shape {shape}",
                                layer=layer, T=grid_size ** 2 + p, shape=a.shape))
        axes[layer, 0].imshow(img, cmap="gray", extent=extent)
        axes[layer, 0].set_title(tr("layer {layer}", layer=layer + 1) + f"\n{img.shape}", fontsize=8)
        for h in range(heads):
            w = a[h, query, p:].reshape(grid_size, grid_size)
            ax = axes[layer, h + 1]
            ax.imshow(img, cmap="gray", extent=extent)
            heat = ax.imshow(w, cmap="inferno", alpha=0.6, extent=extent, vmin=0, vmax=top)
            ax.set_title(tr("head {h}, max {top:.2f}", h=h + 1, top=w.max()), fontsize=8)
        for ax in axes[layer]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.colorbar(heat, ax=axes[:, 1:].ravel().tolist(), shrink=0.8).set_label(
        tr("attention weight"), fontsize=9)
    fig.suptitle(title or tr("attention of token {query} over the {n}x{n} patches", query=query, n=grid_size),
                 wrap=True)
    return fig


def plot_accuracy_vs_data(sizes, accuracies: dict, title=None):
    """Test accuracy against the number of training images (log scale), one line per model."""
    sizes = np.asarray(host(sizes))
    fig, ax = pyplot().subplots(figsize=(5.5, 3.6), layout="constrained")
    for label, acc in accuracies.items():
        acc = np.asarray(host(acc), dtype=float)
        if acc.shape != sizes.shape:
            raise ValueError(tr("{label!r}: {n_acc} accuracies for {n_sizes} data sizes", label=label, n_acc=acc.size,
                                n_sizes=sizes.size))
        ax.plot(sizes, acc, "o-", label=label)
    ax.set_xscale("log")
    from matplotlib.ticker import NullFormatter
    ax.set_xticks(sizes, [f"{s:,}" for s in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())  # the log axis's own 3x10^2 labels would collide with these
    ax.set_xlabel(tr("training images"))
    ax.set_ylabel(tr("test accuracy (fraction)"))
    ax.set_title(title or tr("accuracy against training-set size"), wrap=True)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_cross_validation(scores, row_values, col_values, row_name, col_name, title=None):
    """Mean validation accuracy (colour, with ``mean ± std``) over a grid of two hyperparameters.

    scores : ``(rows, cols, k)`` validation accuracies of the ``k`` folds.
    """
    s = np.asarray(host(scores), dtype=float)
    if s.ndim != 3 or s.shape[:2] != (len(row_values), len(col_values)):
        raise ValueError(tr("scores must be (rows, cols, folds) = ({rows}, {cols}, k), got shape {shape}",
                            rows=len(row_values), cols=len(col_values), shape=s.shape))
    mean, std = s.mean(axis=2), s.std(axis=2)
    fig, ax = pyplot().subplots(figsize=(1.6 * len(col_values) + 2.2, 1.0 * len(row_values) + 1.6),
                                layout="constrained")
    im = ax.imshow(mean, cmap="viridis")
    for (i, j), m in np.ndenumerate(mean):
        ax.text(j, i, f"{m:.3f}\n± {std[i, j]:.3f}", ha="center", va="center", fontsize=8,
                color="white" if m < mean.mean() else "black")
    ax.set_xticks(range(len(col_values)), [str(v) for v in col_values])
    ax.set_yticks(range(len(row_values)), [str(v) for v in row_values])
    ax.set_xlabel(col_name)
    ax.set_ylabel(row_name)
    ax.set_title(title or tr("{k}-fold cross-validation accuracy", k=s.shape[2]))
    fig.colorbar(im, ax=ax, label=tr("mean validation accuracy"))
    return fig


def show_filter_rows(rows: dict, size=1.0, title=None):
    """One row of first-layer filters per entry of ``rows`` (``{label: weights (F, 1, KH, KW)}``),
    e.g. snapshots during training; all on one colour scale (red positive, blue negative)."""
    rows = {label: np.asarray(host(w), dtype=float) for label, w in rows.items()}
    for label, w in rows.items():
        if w.ndim != 4 or w.shape[1] != 1:
            raise ValueError(tr("{label!r}: weights must be (F, 1, KH, KW) single-channel filters, got shape {shape}",
                                label=label, shape=w.shape))
    F = max(w.shape[0] for w in rows.values())
    lim = max(np.abs(w).max() for w in rows.values()) or 1.0
    size = max(size, MIN_PANEL)
    shown = max(1, min(F, int((MAX_WIDTH - 2.4) // size)))  # more would shrink every filter below readable
    note = tr(" (first {shown} of {n} filters)", shown=shown, n=F) if shown < F else ""
    F = shown
    fig, axes = pyplot().subplots(len(rows), F, figsize=(size * F + 2.4, size * len(rows) + 0.9), squeeze=False)
    fig.set_layout_engine("constrained", w_pad=0.1)  # the default pad leaves the row labels a pixel outside
    for r, (label, w) in enumerate(rows.items()):
        for f in range(F):
            ax = axes[r, f]
            ax.set_xticks([])
            ax.set_yticks([])
            if f < w.shape[0]:
                im = ax.imshow(w[f, 0], cmap="RdBu_r", vmin=-lim, vmax=lim)
            if r == 0:
                ax.set_title(tr("filter {i}", i=f), fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=8)
    shape = next(iter(rows.values())).shape
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8).set_label(tr("weight (one scale)"), fontsize=9)
    fig.suptitle((title or tr("filters {KH}x{KW} pixels, one colour scale (red > 0, blue < 0)", KH=shape[2],
                              KW=shape[3])) + note,
                 wrap=True)
    return fig
