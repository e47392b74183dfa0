"""What single units see: RGB filters on one shared colour scale, and the patches that most activate a unit.

Used by notebooks 08 (maximally activating patches of conv1 and conv2) and 12 (colour filters).
"""
from __future__ import annotations

import numpy as np

from cnnbook.course.language import tr
from cnnbook.viz.figure import finish_image_grid, host, image_grid, pyplot


def colour_filter_image(w, limit) -> np.ndarray:
    """RGB filters ``(F, 3, KH, KW)`` as images ``(F, KH, KW, 3)`` in [0, 1] on one fixed scale:
    each channel's weight ``v`` becomes intensity ``0.5 + v / (2 * limit)`` of that colour (clipped), so a
    zero filter is mid grey, equal weights in all channels are grey, and colour means the channels differ."""
    w = host(w)
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(tr("w has shape {shape}; expected RGB filters (F, 3, KH, KW)", shape=w.shape))
    if not np.isfinite(limit) or limit <= 0:
        raise ValueError(tr("limit={limit!r}; pass a positive weight (e.g. the largest |w| of the comparison)",
                            limit=limit))
    return np.clip(0.5 + w.transpose(0, 2, 3, 1) / (2 * float(limit)), 0, 1)


def show_colour_filters(w, limit=None, ncols=8, size=1.5, title=None, names=None):
    """Show RGB filters ``(F, 3, KH, KW)`` as colour images on one scale (:func:`colour_filter_image`).

    ``limit``: the weight shown at full intensity; pass the same value to every figure of a comparison
    (default: this ``w``'s largest ``|weight|``). A grey colour bar is the key: it maps a weight to the
    intensity each channel gets. ``names``: one title per filter.
    """
    w = host(w)
    lim = float(np.abs(w).max()) if limit is None else limit
    if lim == 0:
        raise ValueError(tr("every weight is 0; there is nothing to show (pass limit=... to show zeros grey)"))
    img = colour_filter_image(w, lim)
    F, _, KH, KW = w.shape
    if names is not None and len(names) != F:
        raise ValueError(tr("{n_names} names for {F} filters; pass one name per filter", n_names=len(names), F=F))
    fig, axes = image_grid(F, ncols, size,
                           title or tr("{n} RGB filters, weight shape {shape}", n=F, shape=tuple(w.shape)),
                           KH / KW, extra_width=1.2)
    for i, ax in enumerate(axes):
        ax.imshow(img[i], interpolation="nearest")
        ax.set_title(str(names[i]) if names is not None else tr("filter {i}", i=i), fontsize=8)
    mappable = pyplot().cm.ScalarMappable(norm=pyplot().Normalize(-lim, lim), cmap="gray")
    bar = fig.colorbar(mappable, ax=list(axes), shrink=0.8)
    bar.set_label(tr("weight of each channel\n(grey: 0 or all channels equal)"), fontsize=8)
    bar.ax.tick_params(labelsize=8)
    return finish_image_grid(fig, axes, tr("kernel column (pixels)"), tr("kernel row (pixels)"))


def show_top_patches(patches, values=None, unit_names=None, size=1.5, title=None):
    """Rows of the patches that most activate each unit: ``patches`` is ``(U, k, C, S, S)`` (C = 1 or 3),
    ``values`` ``(U, k)`` the activations (written on each patch). Grey patches share one scale, 0 to 1
    (the images' pixel range), with a colour bar as key."""
    patches = host(patches)
    if patches.ndim != 5 or patches.shape[2] not in (1, 3):
        raise ValueError(tr("patches has shape {shape}; expected (units, k, C, S, S) with C = 1 or 3",
                            shape=patches.shape))
    U, k, C, S, _ = patches.shape
    if unit_names is not None and len(unit_names) != U:
        raise ValueError(tr("{n_names} unit names for {U} units; pass one per unit", n_names=len(unit_names), U=U))
    if values is not None and np.shape(values) != (U, k):
        raise ValueError(tr("values has shape {shape}; expected ({U}, {k}), one per patch", shape=np.shape(values), U=U,
                            k=k))
    fig, axes = image_grid(U * k, k, size,
                           title or tr("top {k} patches of {U} units, {S} x {S} pixels each", k=k, U=U, S=S), 1.0,
                           extra_width=1.0 if C == 1 else 0.0)
    im = None
    for n, ax in enumerate(axes):
        u, j = divmod(n, k)
        p = patches[u, j]
        if C == 1:
            im = ax.imshow(p[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        else:
            ax.imshow(np.clip(p.transpose(1, 2, 0), 0, 1), interpolation="nearest")
        name = str(unit_names[u]) if unit_names is not None else tr("unit {u}", u=u)
        ax.set_title(f"{name}, #{j + 1}" + (tr("\nactivation {value:.3g}", value=float(host(values)[u, j]))
                                            if values is not None else ""), fontsize=8)
    if im is not None:
        bar = fig.colorbar(im, ax=list(axes), shrink=0.6)
        bar.set_label(tr("pixel intensity"), fontsize=8)
        bar.ax.tick_params(labelsize=8)
    return finish_image_grid(fig, axes, tr("patch column (pixels)"), tr("patch row (pixels)"))
