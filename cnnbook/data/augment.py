"""Data augmentation: label-preserving random changes to training images, on any backend.

The random choices (which shift, which image to flip) are drawn on the host from a
``numpy.random.Generator``; the images stay where they are (NumPy or CuPy), so a seed gives the
same augmented batch on both. Every function takes ``X`` of shape ``(N, C, H, W)`` and returns a
new array of the same shape and dtype::

    aug = Augment(shift=2, flip=True)
    X_batch = aug(X_batch, rng)           # what fit(..., augment=aug) does to every minibatch
"""
from __future__ import annotations

import numpy as np

from cnnbook import backend
from cnnbook.backend import as_generator
from cnnbook.course.language import tr
from cnnbook.layers.checks import number, whole_number


def _check_images(X):
    if not hasattr(X, "ndim") or X.ndim != 4:
        raise ValueError(tr("expected images of shape (N, C, H, W), got {got}",
                            got=getattr(X, "shape", type(X).__name__)))


def shift(X, dy: int, dx: int):
    """Every image moved ``dy`` pixels down and ``dx`` right; pixels moved in are zero. ``(N, C, H, W)``."""
    _check_images(X)
    xp = backend.get_array_module(X)
    H, W = X.shape[2:]
    out = xp.zeros(X.shape, dtype=X.dtype)
    if abs(dy) >= H or abs(dx) >= W:
        return out
    out[:, :, max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
        X[:, :, max(-dy, 0):H + min(-dy, 0), max(-dx, 0):W + min(-dx, 0)]
    return out


def random_shift(X, max_shift: int, rng=None):
    """Each image moved by its own random ``(dy, dx)``, each uniform in ``[-max_shift, max_shift]``."""
    _check_images(X)
    max_shift = whole_number(max_shift, "max_shift", minimum=0)
    rng = as_generator(rng)
    offsets = rng.integers(-max_shift, max_shift + 1, size=(X.shape[0], 2))  # host (N, 2)
    xp = backend.get_array_module(X)
    out = xp.empty_like(X)
    # One slice copy per distinct shift (at most (2 * max_shift + 1) ** 2), not per image.
    for dy, dx in np.unique(offsets, axis=0):
        idx = np.flatnonzero((offsets[:, 0] == dy) & (offsets[:, 1] == dx))
        idx_dev = backend.to_device(idx, xp)
        out[idx_dev] = shift(X[idx_dev], int(dy), int(dx))
    return out


def random_hflip(X, p: float = 0.5, rng=None):
    """Each image mirrored left-right with probability ``p``."""
    _check_images(X)
    p = number(p, "p", minimum=0, maximum=1)
    rng = as_generator(rng)
    flip = rng.random(X.shape[0]) < p  # host (N,)
    xp = backend.get_array_module(X)
    mask = backend.to_device(flip, xp)[:, None, None, None]  # (N, 1, 1, 1)
    return xp.where(mask, X[..., ::-1], X)


class Augment:
    """Random shifts of up to ``shift`` pixels, then random horizontal flips (``flip=True``).

    ``aug(X, rng)`` returns the augmented copy; ``rng`` is a seed or ``numpy.random.Generator``.
    """

    def __init__(self, shift: int = 2, flip: bool = True):
        self.shift = shift
        self.flip = flip

    def __call__(self, X, rng=None):
        rng = as_generator(rng)
        if self.shift:
            X = random_shift(X, self.shift, rng)
        if self.flip:
            X = random_hflip(X, 0.5, rng)
        return X

    def __repr__(self):
        return f"Augment(shift={self.shift!r}, flip={self.flip!r})"
