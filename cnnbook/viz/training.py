"""Training plots: loss curves (also live, while training), confusion matrices, misclassified images.

The numbers come from :mod:`cnnbook.train` (``History``, ``confusion_matrix``); this module only draws.
Every function returns a new ``matplotlib.figure.Figure``.
"""
from __future__ import annotations

import math
import time

import numpy as np

from cnnbook.course.language import tr
from cnnbook.viz.figure import host, image_for_imshow, image_grid, pyplot, text_colour


def _draw_history(axes, loss, history):
    ax_loss, ax_acc = axes
    ax_loss.clear()
    ax_acc.clear()
    ax_loss.plot(np.arange(1, len(loss) + 1), loss, lw=0.6, alpha=0.5, label=tr("per step"))
    steps = history.steps_per_epoch if history.epoch_loss else 0
    if steps:
        ends = steps * np.arange(1, len(history.epoch_loss) + 1)
        ax_loss.plot(ends, history.epoch_loss, "o-", label=tr("epoch mean"))
    ax_loss.set_title(tr("training loss"))
    ax_loss.set_xlabel(tr("step (minibatch)"))
    ax_loss.set_ylabel(tr("loss (nats)"))
    ax_loss.legend(fontsize=8)
    epochs = np.arange(1, len(history.train_acc) + 1)
    if len(epochs):
        ax_acc.plot(epochs, history.train_acc, "o-", label=tr("train (minibatches)"))
    if history.val_acc:
        ax_acc.plot(epochs[:len(history.val_acc)], history.val_acc, "s-", label=tr("validation"))
    ax_acc.set_title(tr("accuracy per epoch"))
    ax_acc.set_xlabel(tr("epoch"))
    from matplotlib.ticker import MaxNLocator
    ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole: no tick at 1.5
    ax_acc.set_ylabel(tr("accuracy (fraction correct)"))
    if len(epochs):
        ax_acc.legend(fontsize=8)


def plot_history(history, title=None):
    """Loss per step (and per-epoch mean) and accuracy per epoch of a ``cnnbook.train.History``
    (``title`` defaults to "training history")."""
    title = tr("training history") if title is None else title
    fig, axes = pyplot().subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    _draw_history(axes, history.loss, history)
    fig.suptitle(title)
    return fig


class LiveLossPlot:
    """A loss plot that ``fit(..., callback=LiveLossPlot())`` redraws in place in a Jupyter notebook.

    Outside IPython it draws nothing. Uses a bare ``Figure`` (not pyplot), so Jupyter does not
    show a second copy when the cell ends, and shows it as a PNG picture (``IPython.display.Image``):
    a bare ``Figure`` handed to ``display`` would print ``<Figure size ...>`` in a kernel where no
    pyplot figure was shown yet, and the PNG is what the saved notebook and its HTML export keep.
    Redraws at most once per ``interval`` seconds (drawing costs far more than a training step),
    and always when ``force=True`` (the end of an epoch).
    """

    def __init__(self, interval: float = 5.0):
        self.interval = interval
        self.last = -math.inf
        self.handle = None
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if get_ipython() is None:
            return
        from matplotlib.figure import Figure
        self.fig = Figure(figsize=(10, 3.4), layout="constrained")
        self.axes = self.fig.subplots(1, 2)
        self.fig.suptitle(tr("training (live)"))
        self.handle = display(self._picture(), display_id=True)

    def _picture(self):
        """The figure as it is now, as a PNG ``IPython.display.Image`` (100 dpi, shown pixel for pixel)."""
        import io

        from IPython.display import Image
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=100)
        return Image(data=buf.getvalue(), format="png")

    def due(self) -> bool:
        """Whether the next :meth:`update` would redraw (``interval`` seconds have passed)."""
        return self.handle is not None and time.monotonic() - self.last >= self.interval

    def update(self, loss, history, force: bool = False) -> None:
        """Redraw with ``loss`` (per step, so far) and ``history`` (per epoch), if due or forced."""
        if self.handle is None or not (force or self.due()):
            return
        self.last = time.monotonic()
        _draw_history(self.axes, loss, history)
        self.handle.update(self._picture())

    def __call__(self, history, end_of_epoch: bool) -> None:
        """The :func:`cnnbook.train.fit` callback: redraw when due, and always at the end of an epoch."""
        if end_of_epoch or self.due():
            self.update(history.loss, history, force=True)

    def close(self) -> None:
        self.handle = None


def plot_confusion_matrix(cm, class_names=None, title=None):
    """Draw ``cm`` ``(K, K)``: row = true class, column = predicted class, counts written in the cells
    (``title`` defaults to "confusion matrix")."""
    title = tr("confusion matrix") if title is None else title
    cm = host(cm)
    K = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(k) for k in range(K)]
    fig, ax = pyplot().subplots(figsize=(6.5, 5.5), layout="constrained")
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax).set_label(tr("test images"))
    for (r, c), v in np.ndenumerate(cm):
        ax.text(c, r, str(int(v)), ha="center", va="center", fontsize=7, color=text_colour(im.to_rgba(v)))
    ax.set_xticks(range(K), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(K), names, fontsize=8)
    ax.set_xlabel(tr("predicted class"))
    ax.set_ylabel(tr("true class"))
    ax.set_title(title)
    return fig


def show_misclassified(X, y_true, y_pred, class_names=None, max_images=16, ncols=8, size=1.6):
    """The first ``max_images`` images of ``X`` ``(N, C, H, W)`` whose prediction is wrong, titled true/predicted."""
    X, y_true, y_pred = host(X), host(y_true), host(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)[:max_images]
    if len(wrong) == 0:
        raise ValueError(tr("no misclassified images to show: every prediction is right"))
    name = (lambda k: class_names[int(k)]) if class_names is not None else str
    fig, axes = image_grid(len(wrong), ncols, size, tr("{n} misclassified test images (true / predicted), each {shape}",
                                                       n=len(wrong), shape=tuple(X.shape[1:])))
    for ax, i in zip(axes, wrong):
        img, cmap = image_for_imshow(X[i])
        ax.imshow(img, cmap=cmap)
        ax.set_title(f"{name(y_true[i])}\n/ {name(y_pred[i])}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig
