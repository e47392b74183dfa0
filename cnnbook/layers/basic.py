"""ReLU and the fully connected (linear) layer."""
from __future__ import annotations

import math

from cnnbook.backend import get_array_module
from cnnbook.course.language import N_, tr
from cnnbook.layers import checks, parallel


def _relu(x, out):
    return get_array_module(x).maximum(x, 0, out=out)


def _pass_where_positive(dout, x, out):
    return get_array_module(x).multiply(dout, x > 0, out=out)  # a product with the mask: faster than where()


def relu_forward(x):
    """ReLU forward pass, ``max(x, 0)`` elementwise.

    Args:
        x: any shape.

    Returns:
        out: ``x``'s shape and dtype; cache: ``x``.
    """
    xp = get_array_module(x)
    checks.array(x, "x", "(N, ...)", min_ndim=1)
    return parallel.elementwise(_relu, xp.empty_like(x), x), x  # in pieces of the batch, over the CPU's threads


def relu_backward(dout, cache):
    """ReLU backward pass: the gradient passes where ``x > 0`` and stops elsewhere (at 0 too).

    Args:
        dout: ``x``'s shape; cache: ``x`` from :func:`relu_forward`.

    Returns:
        dx: ``x``'s shape.
    """
    x = cache
    checks.array(x, "cache", N_("(N, ...) (the x kept by relu_forward)"), min_ndim=1)
    xp = get_array_module(dout, x)  # TypeError when NumPy and CuPy arrays meet
    dout = checks.upstream_gradient(dout, tuple(x.shape), x.dtype, "relu_forward")
    dx = xp.empty_like(dout)
    return parallel.elementwise(_pass_where_positive, dx, dout, x)  # in pieces of the batch, over the threads


def linear_forward(x, w, b):
    """Fully connected layer forward pass, ``out = x_flat @ w + b``.

    Args:
        x: ``(N, D)``, or ``(N, d1, ..., dk)`` flattened to ``(N, D)`` with ``D = d1 * ... * dk``.
        w: ``(D, M)``; b: ``(M,)``.

    Returns:
        out: ``(N, M)``; cache: ``(x, w, b)``.
    """
    get_array_module(x, w, b)
    checks.array(x, "x", N_("(N, D) or (N, ...)"), min_ndim=2)
    checks.array(w, "w", ("D", "M"))
    checks.array(b, "b", ("M",))
    checks.same_dtype(x=x, w=w, b=b)
    N = x.shape[0]
    x_flat = x.reshape(N, math.prod(x.shape[1:]))  # (N, D); explicit D, since -1 is ambiguous when N = 0
    D, M = w.shape
    if x_flat.shape[1] != D:
        raise ValueError(tr("x has {d} features per example (x.shape={shape} flattens to {flat}) but w expects "
                            "D={D} (w.shape={w_shape}, (D, M))", d=x_flat.shape[1], shape=tuple(x.shape),
                            flat=tuple(x_flat.shape), D=D, w_shape=tuple(w.shape)))
    if b.shape[0] != M:
        raise ValueError(tr("b has {count} entries but w has M={M} outputs (w.shape={w_shape}); b.shape must be "
                            "({M},)", count=b.shape[0], M=M, w_shape=tuple(w.shape)))
    return x_flat @ w + b, (x, w, b)


def linear_backward(dout, cache):
    """Fully connected layer backward pass.

    Args:
        dout: ``(N, M)``; cache: ``(x, w, b)`` from :func:`linear_forward`.

    Returns:
        dx: ``x``'s original shape; dw: ``(D, M)``; db: ``(M,)``.
    """
    x, w, b = checks.forward_cache(cache, 3, "linear_forward")
    get_array_module(dout, x, w)
    N = x.shape[0]
    dout = checks.upstream_gradient(dout, (N, w.shape[1]), x.dtype, "linear_forward")
    x_flat = x.reshape(N, math.prod(x.shape[1:]))  # (N, D)
    dx = (dout @ w.T).reshape(x.shape)  # (N, ...)
    dw = x_flat.T @ dout  # (D, M)
    db = dout.sum(axis=0)  # (M,)
    return dx, dw, db
