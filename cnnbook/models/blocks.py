"""Branching blocks: several layers read the same input and their outputs are stacked along channels.

:class:`Concat` runs each branch on ``x`` ``(N, C, H, W)`` and concatenates the outputs
``(N, F_i, H', W')`` into ``(N, sum F_i, H', W')``; backward splits ``dout`` by channels and
**adds** the branches' input gradients, since every branch read the same ``x``.
:func:`inception_block` builds GoogLeNet's Inception module (Szegedy et al. 2015) from it: one layer
that looks through 1x1, 3x3 and 5x5 windows and a 3x3 max pool at once, sizes kept by padding.
Modules follow :mod:`cnnbook.nn`'s protocol.
"""
from __future__ import annotations

import numpy as np

from cnnbook import backend
from cnnbook.backend import as_generator
from cnnbook.course.language import tr
from cnnbook.layers.checks import whole_number
from cnnbook.nn import Conv2d, MaxPool2d, Module, ReLU, Sequential


class Concat(Module):
    """Branches applied to one input, outputs concatenated along channels (axis 1)."""

    def __init__(self, *branches):
        if not branches:
            raise ValueError(tr("Concat needs at least one branch, e.g. Concat(Conv2d(...), Conv2d(...))"))
        for i, m in enumerate(branches):
            if not isinstance(m, Module):
                raise TypeError(tr("Concat branch {index} is a {kind}, not a Module", index=i, kind=type(m).__name__))
        self.branches = list(branches)

    def forward(self, x):
        outs = [branch(x) for branch in self.branches]
        shapes = [tuple(o.shape) for o in outs]
        if len({(s[0],) + s[2:] for s in shapes}) != 1:
            raise ValueError(tr("Concat branches give outputs of shapes {shapes}; all must share N, H and W "
                                "(pad each branch so it keeps the spatial size)", shapes=shapes))
        self._cache = [s[1] for s in shapes]
        return backend.get_array_module(*outs).concatenate(outs, axis=1)  # (N, sum F_i, H', W')

    def backward(self, dout):
        dx = None
        start = 0
        for branch, F in zip(self.branches, self._cached()):
            d = branch.backward(dout[:, start:start + F])
            dx = d if dx is None else dx + d  # every branch read the same x: gradients add up
            start += F
        return dx

    def named_children(self):
        for i, m in enumerate(self.branches):
            yield str(i), m


class Pad2d(Module):
    """Pad ``(N, C, H, W)`` by ``padding`` rows and columns on every side with ``value``.

    ``value=-inf`` before a max pool makes the padding never win a window (a max pool that keeps the size).
    """

    def __init__(self, padding, value=0.0):
        self.padding = whole_number(padding, "padding", minimum=0)
        self.value = float(value)

    def forward(self, x):
        if getattr(x, "ndim", 0) != 4:
            raise ValueError(tr("Pad2d expects (N, C, H, W), got shape {shape}", shape=getattr(x, "shape", type(x))))
        xp = backend.get_array_module(x)
        p = self.padding
        N, C, H, W = x.shape
        out = xp.full((N, C, H + 2 * p, W + 2 * p), self.value, dtype=x.dtype)
        out[:, :, p:p + H, p:p + W] = x
        self._cache = (H, W)
        return out

    def backward(self, dout):
        H, W = self._cached()
        p = self.padding
        return dout[:, :, p:p + H, p:p + W]

    def extra_repr(self):
        return f"{self.padding}, value={self.value:g}"


def inception_block(in_channels, c1, c3, c5, c_pool, *, rng=None, dtype=np.float32) -> Concat:
    """An Inception module: ``(N, C, H, W)`` to ``(N, c1 + c3 + c5 + c_pool, H, W)``.

    Branches, each followed by ReLU: 1x1 conv (``c1`` filters); 3x3 conv, padding 1 (``c3``);
    5x5 conv, padding 2 (``c5``); 3x3 max pool, stride 1, padded with ``-inf``, then a 1x1 conv
    (``c_pool``). A count of 0 leaves that branch out.
    """
    rng = as_generator(rng)
    C = whole_number(in_channels, "in_channels", minimum=1)
    branches = []
    for F, k, name in ((c1, 1, "c1"), (c3, 3, "c3"), (c5, 5, "c5")):
        if whole_number(F, name, minimum=0):
            branches.append(Sequential(Conv2d(C, F, k, padding=k // 2, rng=rng, dtype=dtype), ReLU()))
    if whole_number(c_pool, "c_pool", minimum=0):
        branches.append(Sequential(Pad2d(1, -np.inf), MaxPool2d(3, stride=1),
                                   Conv2d(C, c_pool, 1, rng=rng, dtype=dtype), ReLU()))
    if not branches:
        raise ValueError(tr("inception_block needs at least one branch with filters; all of c1, c3, c5, c_pool are 0"))
    return Concat(*branches)
