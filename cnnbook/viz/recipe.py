"""Plots for notebooks 01, 02 and 09: curves of measured numbers and linear-classifier templates.

* :func:`plot_curves` several named curves on one pair of axes (loss per step for three learning
  rates, accuracy against a shift in pixels, ...), with a title and labelled axes;
* :func:`show_templates` the columns of a weight matrix ``(D, K)`` drawn as ``K`` images, in red
  (positive weight) and blue (negative), one colour scale per template centred on zero.

Every function returns a new ``matplotlib.figure.Figure``; arrays come back to the host through
:func:`cnnbook.viz.figure.host`.
"""
from __future__ import annotations

import numpy as np

from cnnbook.course.language import tr
from cnnbook.viz.figure import finish_image_grid, host, image_grid, pyplot


def _curve_xy(label, curve) -> tuple[np.ndarray, np.ndarray]:
    """``curve`` is ``y`` or ``(x, y)``; returns host 1-D arrays of equal length."""
    if isinstance(curve, tuple) and len(curve) == 2:
        x, y = (host(a).astype(float).reshape(-1) for a in curve)
    else:
        y = host(curve).astype(float).reshape(-1)
        x = np.arange(len(y), dtype=float)
    if len(x) != len(y):
        raise ValueError(tr("curve {label!r}: {n_x} x values for {n_y} y values; pass equal lengths", label=label,
                            n_x=len(x), n_y=len(y)))
    if len(y) == 0:
        raise ValueError(tr("curve {label!r} is empty; pass at least one value", label=label))
    return x, y


def plot_curves(curves: dict, title: str, xlabel: str, ylabel: str, logy: bool = False, markers: bool = False,
                hline: float | None = None, hline_label: str | None = None):
    """Draw each ``label: y`` (or ``label: (x, y)``) of ``curves`` as a line; returns the figure.

    ``xlabel`` and ``ylabel`` should carry units (``"step (minibatch updates)"``, ``"loss (nats)"``).
    ``logy`` puts the y axis on a log scale; non-finite values (a diverged loss) are left out of the
    line, and a note says from which ``x`` on. ``hline`` draws a dashed reference level (e.g.
    ``ln 10``, the loss of a guess) labelled ``hline_label``.
    """
    if not isinstance(curves, dict) or not curves:
        raise ValueError(tr("curves must be a non-empty dict {{label: y or (x, y)}}"))
    for name, text in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(tr("{name}={text!r}: every plot needs a title and labelled axes (with units)", name=name,
                                text=text))
    fig, ax = pyplot().subplots(figsize=(6.4, 3.6), layout="constrained")
    for label, curve in curves.items():
        x, y = _curve_xy(label, curve)
        finite = np.isfinite(y)
        (line,) = ax.plot(x[finite], y[finite], marker="o" if markers else None, ms=4, label=str(label))
        if not finite.all():  # e.g. a loss that overflowed: say where the line stops
            ax.annotate(tr("{label}: not finite from x = {x:g}", label=label, x=x[~finite][0]), xy=(0.02, 0.95),
                        xycoords="axes fraction", va="top", fontsize=8, color=line.get_color())
    if hline is not None:
        ax.axhline(float(hline), color="gray", ls="--", lw=1, label=hline_label)
    if logy:
        ax.set_yscale("log")
    xs = np.concatenate([_curve_xy(label, c)[0] for label, c in curves.items()])
    if np.all(xs == np.round(xs)):  # whole numbers (epochs, layers, pixels): no tick at 1.5
        from matplotlib.ticker import MaxNLocator
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, wrap=True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def templates_as_images(w, image_shape=(1, 28, 28)) -> np.ndarray:
    """The columns of ``w`` ``(D, K)`` as ``K`` images ``(K, C, H, W)`` (host array), ``D = C * H * W``.

    A ``Linear`` layer's weight is ``(D, K)``: column ``k`` is what class (or hidden unit) ``k``
    takes the dot product with, so it has the shape of the input image.
    """
    w = host(w)
    C, H, W = (int(s) for s in image_shape)
    if w.ndim != 2 or w.shape[0] != C * H * W:
        raise ValueError(tr("w has shape {shape}; expected (D, K) with D = C*H*W = {C}*{H}*{W} = {D} "
                            "for images of shape {image_shape}", shape=w.shape, C=C, H=H, W=W, D=C * H * W,
                            image_shape=tuple(image_shape)))
    return np.ascontiguousarray(w.T).reshape(w.shape[1], C, H, W)  # (K, C, H, W)


def show_templates(w, image_shape=(1, 28, 28), names=None, ncols=5, size=1.8, title=None):
    """Show the columns of ``w`` ``(D, K)`` as images: red where the weight is positive, blue where negative.

    Each template gets its own colour scale, symmetric about zero, so a template's shape shows even when
    its weights are small; ``names`` (one per column) title the images.
    """
    T = templates_as_images(w, image_shape)
    K, C = T.shape[:2]
    if names is not None and len(names) != K:
        raise ValueError(tr("{n_names} names for {K} templates; pass one name per column of w", n_names=len(names),
                            K=K))
    fig, axes = image_grid(K, ncols, size, title or tr("{n} templates, weight shape {shape}, each shown as {image}",
                                                       n=K, shape=(T[0].size, K), image=tuple(T.shape[1:])))
    for k, ax in enumerate(axes):
        img = T[k].mean(axis=0) if C > 1 else T[k, 0]  # (H, W)
        lim = float(np.abs(img).max()) or 1.0
        ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
        # one line: rows stay apart
        ax.set_title(str(names[k]) if names is not None else tr("column {k}", k=k), fontsize=8)
    return finish_image_grid(fig, axes, tr("column (pixels); red = positive weight, blue = negative"))
