"""The workbook's plots: images with their shapes, activation maps, filters, receptive fields, pooling.

Arrays of either backend come back to the host in exactly one place, :func:`cnnbook.viz.figure.host`; what
every figure shares (matplotlib with a Hangul font, the size limits, the grid of image panels) is in
:mod:`cnnbook.viz.figure`.
Every function returns the figure it drew (``matplotlib.figure.Figure``), a new one, or, for
:func:`draw_receptive_field` and :func:`plot_receptive_field_growth` when given ``ax=``, the figure that holds
that axes; in a notebook write ``fig = show_images(X)`` (or end the line with ``;``) so Jupyter shows it once.
The text a function draws itself (axis labels, default titles, legends, colour-bar labels) goes through
:func:`cnnbook.course.language.tr`, so the Korean edition's figures speak Korean; titles and labels a caller
passes are drawn as given.
"""
from __future__ import annotations

import numpy as np

from cnnbook.course.language import tr
from cnnbook.viz.figure import annotate_cells, as_images, finish_image_grid, host, image_for_imshow, image_grid, pyplot


def show_images(X, labels=None, class_names=None, ncols=8, size=1.6, title=None, titles=None):
    """Show images ``X`` ``(N, C, H, W)`` (C = 1 or 3) with their shapes (and labels) in the titles.

    ``titles``: one string per image, written above its shape instead of the label (e.g. what the
    image is and what a model said)."""
    X = as_images(X)
    N = X.shape[0]
    if labels is not None:
        labels = host(labels).reshape(-1)
        if len(labels) != N:
            raise ValueError(tr("{n_labels} labels for {N} images; pass one label per image", n_labels=len(labels),
                                N=N))
    if titles is not None and len(titles) != N:
        raise ValueError(tr("{n_titles} titles for {N} images; pass one title per image", n_titles=len(titles), N=N))
    fig, axes = image_grid(N, ncols, size, title or tr("{n} image(s), array shape {shape}", n=N, shape=tuple(X.shape)),
                           X.shape[2] / X.shape[3])
    for i, ax in enumerate(axes):
        img, cmap = image_for_imshow(X[i])
        ax.imshow(img, cmap=cmap)
        name = ""
        if titles is not None:
            name = f"{titles[i]}\n"
        elif labels is not None:
            name = class_names[int(labels[i])] if class_names is not None else str(labels[i])
            name += "\n"
        ax.set_title(f"{name}{tuple(X[i].shape)}", fontsize=8)
    return finish_image_grid(fig, axes)


def show_activation_maps(maps, titles=None, ncols=4, size=2.6, title=None, cmap="gray", shared=True):
    """Show activation maps ``(F, H, W)`` (or ``(1, F, H, W)``, one ``(H, W)``, or a list of ``(H, W)``
    maps of different sizes), each with its shape, in activation units (the dot product of filter and patch).

    ``shared=True``: one colour scale for all maps (they are comparable: the same layer, or one map pooled)
    and one colour bar; ``shared=False``: each map its own scale and colour bar (e.g. an input beside a map)."""
    if isinstance(maps, (list, tuple)):
        maps = [host(m) for m in maps]
        if any(m.ndim != 2 for m in maps):
            raise ValueError(tr("a list of maps must hold 2-D (H, W) maps, got shapes {shapes}",
                                shapes=[m.shape for m in maps]))
        volume = tr("{n} maps of shapes {shapes}", n=len(maps), shapes=", ".join(str(m.shape) for m in maps))
    else:
        maps = host(maps)
        if maps.ndim == 4 and maps.shape[0] == 1:
            maps = maps[0]
        if maps.ndim == 2:
            maps = maps[None]
        if maps.ndim != 3:
            raise ValueError(tr("maps must be (F, H, W), (1, F, H, W) or (H, W), got shape {shape}", shape=maps.shape))
        volume = tr("volume shape {shape}", shape=tuple(maps.shape))
    F = len(maps)
    if titles is not None and len(titles) != F:
        raise ValueError(tr("{n_titles} titles for {F} maps; pass one title per map", n_titles=len(titles), F=F))
    aspect = max(m.shape[0] / m.shape[1] for m in maps)
    lo = min(float(m.min()) for m in maps) if shared else None
    hi = max(float(m.max()) for m in maps) if shared else None
    fig, axes = image_grid(F, ncols, size, title or tr("{n} activation map(s), {volume}", n=F, volume=volume), aspect,
                           extra_width=0.9 if shared else 0.9 * min(F, ncols))
    for i, ax in enumerate(axes):
        im = ax.imshow(maps[i], cmap=cmap, vmin=lo, vmax=hi)
        name = f"{titles[i]}\n" if titles is not None else tr("map {i}", i=i) + "\n"
        ax.set_title(f"{name}{tuple(maps[i].shape)}", fontsize=9)
        if not shared:
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04).set_label(tr("activation (a.u.)"), fontsize=8)
    if shared:
        fig.colorbar(im, ax=list(axes), shrink=0.8, aspect=30).set_label(tr("activation (a.u.)"), fontsize=9)
    return finish_image_grid(fig, axes)


def show_filters(w, ncols=8, size=1.6, title=None, annotate=None, names=None):
    """Show conv weights ``(F, C, KH, KW)``: RGB filters as colour patches, others channel by channel on one
    colour scale with a colour bar (red = positive weight, blue = negative, white = 0). Small kernels get
    their values written on them; ``names`` (one per filter) title them instead of their index."""
    w = host(w)
    if w.ndim == 2:
        w = w[None, None]
    if w.ndim != 4:
        raise ValueError(tr("w must be (F, C, KH, KW) or one (KH, KW) kernel, got shape {shape}", shape=w.shape))
    F, C, KH, KW = w.shape
    if names is not None and len(names) != F:
        raise ValueError(tr("{n_names} names for {F} filters; pass one name per filter", n_names=len(names), F=F))
    annotate = KH <= 5 and KW <= 5 if annotate is None else annotate
    per_channel = C != 3
    n = F * C if per_channel else F
    lim = float(np.abs(w).max()) or 1.0
    fig, axes = image_grid(n, ncols if not per_channel or C == 1 else C, size,
                           title or tr("{n} filter(s), weight shape {shape}", n=F, shape=tuple(w.shape)), KH / KW,
                           extra_width=1.0 if per_channel else 0.0)
    for i, ax in enumerate(axes):
        index = i // C if per_channel else i
        name = str(names[index]) if names is not None else tr("filter {i}", i=index)
        if per_channel:
            k = w[i // C, i % C]
            im = ax.imshow(k, cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(name + (tr(", ch {c}", c=i % C) if C > 1 else "") + f"\n{k.shape}", fontsize=8)
            if annotate:
                annotate_cells(ax, im, k, fontsize=8 if KH <= 3 else 7)
        else:
            img, _ = image_for_imshow(w[i])
            ax.imshow(img)
            ax.set_title(f"{name}\n{tuple(w[i].shape)}", fontsize=8)
    if per_channel:
        fig.colorbar(im, ax=list(axes), shrink=0.8).set_label(tr("weight"), fontsize=9)
    return finish_image_grid(fig, axes, tr("kernel column (pixels)"), tr("kernel row (pixels)"))


def draw_receptive_field(layers, input_size=None, unit=None, image=None, ax=None):
    """Draw, on the input, the field each layer's unit sees for one unit of the last layer.

    layers: ``[(kernel_size, stride), ...]``; input_size: pixels per side of the (square) input
    (default: just big enough); unit: which last-layer unit along each side (default: the middle one).
    image: an optional ``(H, W)`` or ``(C, H, W)`` picture drawn underneath.
    """
    from cnnbook.explore import input_region, output_length, receptive_field_growth
    steps = receptive_field_growth(layers)
    if image is not None:
        img = as_images(image)[0]
        input_size = min(img.shape[1:])
    if input_size is None:
        input_size = steps[-1].field + 2 * steps[-1].jump
    n_out = output_length(input_size, layers)
    unit = n_out // 2 if unit is None else unit
    if not 0 <= unit < n_out:
        raise ValueError(tr("unit {unit} is outside the last layer's {n_out} units; use 0..{last}", unit=unit,
                            n_out=n_out, last=n_out - 1))
    if ax is None:
        fig, ax = pyplot().subplots(figsize=(4.2, 4.2), layout="constrained")
    else:
        fig = ax.figure
    if image is not None:
        shown, cmap = image_for_imshow(img[:, :input_size, :input_size])
        ax.imshow(shown, cmap=cmap, extent=(0, input_size, input_size, 0))
    else:
        ax.set_xlim(0, input_size)
        ax.set_ylim(input_size, 0)
        ax.set_xticks(np.arange(0, input_size + 1, max(1, input_size // 8)))
        ax.set_yticks(np.arange(0, input_size + 1, max(1, input_size // 8)))
        ax.grid(True, color="0.85", linewidth=0.5)
        ax.set_aspect("equal")
    from matplotlib.patches import Rectangle
    colours = pyplot().cm.viridis(np.linspace(0.1, 0.9, len(steps)))
    for step, colour in zip(reversed(steps), reversed(colours)):
        start, stop = input_region(layers[: step.layer], _unit_at_layer(layers, step.layer, unit))
        ax.add_patch(Rectangle((start, start), stop - start, stop - start, fill=True, alpha=0.25,
                               facecolor=colour, edgecolor=colour, linewidth=2,
                               label=tr("layer {layer}: {field}x{field} px", layer=step.layer, field=step.field)))
    ax.legend(loc="upper right", fontsize=7, framealpha=0.9)
    ax.set_title(tr("receptive field of unit ({unit}, {unit}) of layer {layer}:\n{field}x{field} pixels",
                    unit=unit, layer=len(steps), field=steps[-1].field), fontsize=10)
    ax.set_xlabel(tr("input column (pixels)"))
    ax.set_ylabel(tr("input row (pixels)"))
    return fig


def _unit_at_layer(layers, layer: int, unit: int) -> int:
    """The middle unit of layer ``layer`` among those last-layer ``unit`` sees (one side, no padding)."""
    from cnnbook.layers import receptive_field
    rest = list(layers[layer:])
    if not rest:
        return unit
    jump = int(np.prod([s for _, s in rest]))
    return unit * jump + (receptive_field(rest) - 1) // 2


def plot_receptive_field_growth(stacks: dict, ax=None):
    """Receptive field (pixels per side) after each layer, one line per named stack of layers."""
    from cnnbook.explore import receptive_field_growth
    if ax is None:
        fig, ax = pyplot().subplots(figsize=(6, 3.5), layout="constrained")
    else:
        fig = ax.figure
    for name, layers in stacks.items():
        steps = receptive_field_growth(layers)
        ax.plot([0] + [s.layer for s in steps], [1] + [s.field for s in steps], marker="o", label=name)
    ax.set_title(tr("receptive field grows with depth"))
    ax.set_xlabel(tr("layer (count)"))
    ax.set_ylabel(tr("receptive field (pixels per side)"))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def draw_pooling(x, kernel_size=2, stride=None, mode="max", title=None):
    """Input map with pooling windows outlined (the max of each window ringed in red) beside the pooled
    map, both on one colour scale with a colour bar; small maps get their values written on them."""
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import MaxNLocator

    from cnnbook.explore import pool_map, pooling_mode
    out, info = pool_map(x, kernel_size, stride, mode)
    xh, oh = host(x), host(out)
    s, k = info["stride"], kernel_size
    fig, (a0, a1) = pyplot().subplots(1, 2, figsize=(9, 4.4), layout="constrained")
    vmin, vmax = xh.min(), xh.max()
    im0 = a0.imshow(xh, cmap="viridis", vmin=vmin, vmax=vmax)
    im1 = a1.imshow(oh, cmap="viridis", vmin=vmin, vmax=vmax)
    Ho, Wo = oh.shape
    for i in range(Ho):
        for j in range(Wo):
            a0.add_patch(Rectangle((j * s - 0.5, i * s - 0.5), k, k, fill=False, edgecolor="white", lw=1))
            if mode == "max":
                win = xh[i * s:i * s + k, j * s:j * s + k]
                r, c = np.unravel_index(np.argmax(win), win.shape)
                # a hollow ring around the cell, so the number in it stays readable
                a0.plot(j * s + c, i * s + r, "s", markersize=max(6.0, 260 / max(xh.shape)), markerfacecolor="none",
                        markeredgecolor="red", markeredgewidth=2)
    small = max(xh.shape) <= 12
    for arr, ax, im in ((xh, a0, im0), (oh, a1, im1)):
        if small:
            annotate_cells(ax, im, arr, fmt="{:.1f}", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(tr("column (pixels)"))
        ax.set_ylabel(tr("row (pixels)"))
    a0.set_title(tr("input {shape}", shape=xh.shape) + (tr(", red ring = max of its window") if mode == "max" else ""),
                 fontsize=9)
    a1.set_title(tr("{mode}-pooled {shape}", mode=pooling_mode(mode), shape=oh.shape), fontsize=9)
    fig.colorbar(im1, ax=[a0, a1], shrink=0.8).set_label(tr("value (one scale for both)"), fontsize=9)
    fig.suptitle(title or info["text"], fontsize=10, wrap=True)
    return fig


def plot_bars(values: dict, title: str, ylabel: str, log=False):
    """A bar chart of named numbers (e.g. seconds per method); ``ylabel`` should carry the unit."""
    names = list(values)
    nums = [float(host(values[n])) for n in names]
    # long names would collide under vertical bars: lay the bars down
    if sum(max(map(len, str(n).split("\n"))) for n in names) > 36:
        fig, ax = pyplot().subplots(figsize=(6.4, 0.45 * len(names) + 1.4), layout="constrained")
        ax.barh(names, nums, color="tab:blue")
        ax.invert_yaxis()  # first name on top, as it was written
        for i, v in enumerate(nums):
            ax.text(v, i, f" {v:.3g}", ha="left", va="center", fontsize=8)
        if log:
            ax.set_xscale("log")
        ax.margins(x=0.15)
        ax.set_title(title, wrap=True)
        ax.set_xlabel(ylabel)
        return fig
    fig, ax = pyplot().subplots(figsize=(5, 3), layout="constrained")
    ax.bar(names, nums, color="tab:blue")
    for i, v in enumerate(nums):
        ax.text(i, v, f"{v:.3g}", ha="center", va="bottom", fontsize=8)
    if log:
        ax.set_yscale("log")
    ax.set_title(title, wrap=True)
    ax.set_xlabel(tr("method"))
    ax.set_ylabel(ylabel)
    return fig
