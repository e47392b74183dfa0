"""Numerical gradients by centred differences, for checking backward passes (as in CS231n's ``gradient_check.py``).

``df/dx[i] ~ (f(x + h e_i) - f(x - h e_i)) / (2h)``, with error ``O(h^2)``; use float64 arrays, where
``h = 1e-5`` leaves relative errors near ``1e-10`` for smooth functions. Each function nudges ``x``
in place, one entry at a time, and restores it, so ``f`` must read ``x`` afresh on every call
(``lambda _: loss(x)`` is the usual form). Works on NumPy and CuPy arrays (slowly on a GPU: one
host sync per entry), and gives back an array of ``x``'s kind.
"""
from __future__ import annotations

import numpy as np

from cnnbook.backend import get_array_module, to_numpy
from cnnbook.course.language import tr


def _check_x(x, h):
    get_array_module(x)
    if not hasattr(x, "dtype") or x.dtype.kind != "f":
        raise TypeError(tr("x must be a floating-point array (float64 for accurate checks), got {kind}",
                           kind=getattr(x, "dtype", type(x).__name__)))
    if not h > 0:
        raise ValueError(tr("step h must be > 0, got {h}", h=h))


def eval_numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function ``f(x)`` at ``x``, same shape and kind as ``x``.

    ``f`` takes ``x`` and returns a number (a Python float or a 0-d/size-1 array).
    """
    _check_x(x, h)
    xp = get_array_module(x)
    grad = np.zeros(x.shape, dtype=np.float64)  # on the host: filled one entry at a time
    for idx in np.ndindex(*x.shape):
        old = float(x[idx])
        x[idx] = old + h
        plus = float(f(x))
        x[idx] = old - h
        minus = float(f(x))
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return xp.asarray(grad.astype(x.dtype))


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Gradient of ``sum(f(x) * df)`` at ``x``: how an array-valued ``f`` passes an upstream gradient ``df`` back.

    ``f`` takes ``x`` and returns an array of ``df``'s shape; the result has ``x``'s shape.
    """
    _check_x(x, h)
    xp = get_array_module(x, df)
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        old = float(x[idx])
        x[idx] = old + h
        plus = f(x).copy()  # f may return a view that the next call overwrites
        x[idx] = old - h
        minus = f(x).copy()
        x[idx] = old
        if plus.shape != df.shape:
            raise ValueError(tr("f(x) has shape {got} but df has shape {want}; df must be the upstream gradient "
                                "of f's output", got=tuple(plus.shape), want=tuple(df.shape)))
        grad[idx] = float(((plus - minus) * df).sum()) / (2 * h)
    return xp.asarray(grad.astype(x.dtype))


def rel_error(x, y) -> float:
    """Largest elementwise relative error ``|x - y| / max(1e-8, |x| + |y|)``, as a Python float.

    The ``1e-8`` floor keeps entries where both are (near) zero from dividing by zero.
    """
    a = to_numpy(x).astype(np.float64)
    b = to_numpy(y).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(tr("rel_error needs arrays of one shape, got {a} and {b}", a=a.shape, b=b.shape))
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
