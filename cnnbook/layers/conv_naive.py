"""Convolution with explicit loops: the readable teaching version of :mod:`cnnbook.layers.conv`.

Same signatures and results as the fast pair, one output pixel at a time. Slow (Python loops over
``N, F, Ho, Wo``): use it on small inputs, to read, and to check the fast version against.
"""
from __future__ import annotations

from cnnbook.backend import get_array_module
from cnnbook.layers import checks
from cnnbook.layers.conv import check_conv_args


def _pad(x, PH, PW, xp):
    """``x`` ``(N, C, H, W)`` with ``PH`` rows and ``PW`` columns of zeros on each side."""
    N, C, H, W = x.shape
    xpad = xp.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=x.dtype)
    xpad[:, :, PH:PH + H, PW:PW + W] = x
    return xpad


def conv2d_forward_naive(x, w, b, stride=1, padding=0):
    """Convolution forward pass (cross-correlation), with explicit loops.

    Args:
        x: ``(N, C, H, W)``; w: ``(F, C, KH, KW)``; b: ``(F,)``;
        stride: int or ``(SH, SW)`` (>= 1); padding: int or ``(PH, PW)`` (>= 0).

    Returns:
        out: ``(N, F, Ho, Wo)``, ``Ho = (H - KH + 2PH) / SH + 1``, ``Wo = (W - KW + 2PW) / SW + 1``.
        cache: ``(x, w, b, (SH, SW), (PH, PW))``.

    ``out[n, f, i, j] = sum over c, di, dj of xpad[n, c, i*SH + di, j*SW + dj] * w[f, c, di, dj] + b[f]``.
    """
    xp = get_array_module(x, w, b)
    (SH, SW), (PH, PW), (Ho, Wo) = check_conv_args(x, w, b, stride, padding)
    N = x.shape[0]
    F, C, KH, KW = w.shape
    xpad = _pad(x, PH, PW, xp)
    out = xp.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xpad[n, :, i * SH:i * SH + KH, j * SW:j * SW + KW]  # (C, KH, KW)
                    out[n, f, i, j] = (window * w[f]).sum() + b[f]
    return out, (x, w, b, (SH, SW), (PH, PW))


def conv2d_backward_naive(dout, cache):
    """Convolution backward pass, with explicit loops.

    Args:
        dout: upstream gradient ``(N, F, Ho, Wo)``.
        cache: from :func:`conv2d_forward_naive` (a fast cache works too; its extra ``cols`` is ignored).

    Returns:
        dx: ``(N, C, H, W)``; dw: ``(F, C, KH, KW)``; db: ``(F,)``.

    Each output pixel ``out[n, f, i, j]`` was ``window . w[f] + b[f]``, so its gradient
    ``dout[n, f, i, j]`` flows to ``w[f]`` times the window, to the window times ``w[f]``, and to ``b[f]``.
    """
    if isinstance(cache, tuple) and len(cache) == 6:
        cache = cache[:5]
    x, w, b, stride, padding = checks.forward_cache(cache, 5, "conv2d_forward_naive")
    xp = get_array_module(dout, x, w)
    (SH, SW), (PH, PW), (Ho, Wo) = check_conv_args(x, w, b, stride, padding)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    dout = checks.upstream_gradient(dout, (N, F, Ho, Wo), x.dtype, "conv2d_forward_naive")
    xpad = _pad(x, PH, PW, xp)
    dxpad = xp.zeros(xpad.shape, dtype=x.dtype)
    dw = xp.zeros(w.shape, dtype=w.dtype)
    db = dout.sum(axis=(0, 2, 3))  # each b[f] was added to every output pixel of filter f
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows = slice(i * SH, i * SH + KH)
                    cols = slice(j * SW, j * SW + KW)
                    g = dout[n, f, i, j]
                    dw[f] += xpad[n, :, rows, cols] * g
                    dxpad[n, :, rows, cols] += w[f] * g
    dx = dxpad[:, :, PH:PH + H, PW:PW + W]  # the padding's gradient is dropped: it is not an input
    return dx, dw, db
