"""Max and average pooling over ``KH x KW`` windows, overlapping ones included (stride < kernel).

Pooling does not pad. Like PyTorch's ``MaxPool2d``, the output size rounds down:
``Ho = floor((H - KH) / SH) + 1``; rows or columns that no window reaches get zero gradient.
The backward passes add each kernel offset's contribution with one strided slice-add
(``KH*KW`` of them), so overlapping windows sum correctly without ``np.add.at``.
"""
from __future__ import annotations

import functools
import math

from cnnbook.backend import get_array_module
from cnnbook.course.language import tr
from cnnbook.layers import checks, parallel
from cnnbook.layers.sizes import window


def _pool_args(x, kernel_size, stride):
    """Validate; return ``((KH, KW), (SH, SW), (Ho, Wo))``."""
    checks.array(x, "x", ("N", "C", "H", "W"))
    KH, KW = checks.pair(kernel_size, "kernel_size", minimum=1)
    SH, SW = (KH, KW) if stride is None else checks.pair(stride, "stride", minimum=1)
    H, W = x.shape[2:]
    if KH > H or KW > W:
        raise ValueError(tr("pooling window {KH}x{KW} is larger than the input {H}x{W} (x.shape={shape}); use "
                            "kernel_size <= {fit}", KH=KH, KW=KW, H=H, W=W, shape=tuple(x.shape), fit=min(H, W)))
    return (KH, KW), (SH, SW), ((H - KH) // SH + 1, (W - KW) // SW + 1)


def _running_max(n, x, out, winner, kernel, stride):
    """Max pooling of the images ``n`` (a slice of the batch) into ``out`` and ``winner``: a running maximum
    over the KH*KW shifted slices (a few passes over the output, and no (n, C, Ho, Wo, KH*KW) copy of every
    window)."""
    (KH, KW), (SH, SW), (Ho, Wo) = kernel, stride, out.shape[2:]
    xp = get_array_module(x)
    best, won = out[n], winner[n]  # views: writing them writes out and winner (which starts at 0)
    best[...] = x[n, :, window(0, Ho, SH), window(0, Wo, SW)]  # offset 0 leads
    for k in range(1, KH * KW):
        di, dj = divmod(k, KW)
        candidate = x[n, :, window(di, Ho, SH), window(dj, Wo, SW)]  # (n, C, Ho, Wo)
        better = candidate > best  # strictly: on ties the first offset keeps the win
        won += better * (k - won)  # won = k where better; arithmetic beats masked writes
        xp.maximum(best, candidate, out=best)


def _route(n, dout, winner, dx, kernel, stride):
    """Max pooling's backward pass for the images ``n``: each window's gradient added to its winner's pixel,
    or, where windows do not overlap (stride >= kernel), written there: each pixel is in one window at most."""
    (KH, KW), (SH, SW), (Ho, Wo) = kernel, stride, winner.shape[2:]
    xp = get_array_module(dout)
    apart = SH >= KH and SW >= KW
    for k in range(KH * KW):
        di, dj = divmod(k, KW)
        pixels = dx[n, :, window(di, Ho, SH), window(dj, Wo, SW)]  # (n, C, Ho, Wo), a view
        if apart:
            xp.multiply(dout[n], winner[n] == k, out=pixels)  # a product is faster than where()
        else:
            pixels += dout[n] * (winner[n] == k)
    if apart:
        dx[n] += 0.0  # -0.0 (a negative gradient times a loser's 0) prints as "-0."; adding 0.0 makes it 0.0


def _winner_dtype(kernel, xp):
    """The smallest integer type that holds every window offset ``0 .. KH*KW - 1``: fewer bytes to pass over."""
    return xp.uint8 if kernel[0] * kernel[1] <= 256 else xp.int32


def max_pool2d_forward(x, kernel_size=2, stride=None):
    """Max pooling forward pass.

    Args:
        x: ``(N, C, H, W)``.
        kernel_size: int or ``(KH, KW)``; stride: int, ``(SH, SW)``, or ``None`` for ``stride = kernel_size``.

    Returns:
        out: ``(N, C, Ho, Wo)``, ``Ho = floor((H - KH) / SH) + 1`` (likewise ``Wo``).
        cache: ``(x_shape, winner, (KH, KW), (SH, SW), dtype)``; ``winner`` ``(N, C, Ho, Wo)`` holds, for each
            window, the flat index ``di*KW + dj`` of its maximum (the first one on ties; ``uint8`` for up to 256
            offsets); ``dtype`` is ``x``'s, which ``dx`` keeps whatever ``dout``'s dtype.
    """
    xp = get_array_module(x)
    kernel, stride, out_size = _pool_args(x, kernel_size, stride)
    out = xp.empty(x.shape[:2] + out_size, dtype=x.dtype)  # (N, C, Ho, Wo)
    winner = xp.zeros(out.shape, dtype=_winner_dtype(kernel, xp))  # (N, C, Ho, Wo)
    pieces = parallel.chunks(x.shape[0], math.prod(x.shape[1:]), xp)  # pieces of the batch, over the CPU's threads
    parallel.run(functools.partial(_running_max, x=x, out=out, winner=winner, kernel=kernel, stride=stride), pieces,
                 xp, size=x.size)
    return out, (tuple(x.shape), winner, kernel, stride, x.dtype)


def max_pool2d_backward(dout, cache):
    """Max pooling backward pass: each window's gradient goes to its winner alone.

    Args:
        dout: ``(N, C, Ho, Wo)``; cache: from :func:`max_pool2d_forward`.

    Returns:
        dx: ``(N, C, H, W)``; a pixel that wins several overlapping windows collects all their gradients.
    """
    x_shape, winner, (KH, KW), (SH, SW), dtype = checks.forward_cache(cache, 5, "max_pool2d_forward")
    xp = get_array_module(dout, winner)
    N, C, Ho, Wo = winner.shape
    dout = checks.upstream_gradient(dout, winner.shape, dtype, "max_pool2d_forward")
    tiled = (SH, SW) == (KH, KW) and tuple(x_shape[2:]) == (Ho * KH, Wo * KW)  # each pixel in exactly one window
    dx = (xp.empty if tiled else xp.zeros)(x_shape, dtype=dtype)  # tiled, _route writes every pixel
    pieces = parallel.chunks(N, math.prod(x_shape[1:]), xp)  # pieces of the batch, over the CPU's threads
    parallel.run(functools.partial(_route, dout=dout, winner=winner, dx=dx, kernel=(KH, KW), stride=(SH, SW)),
                 pieces, xp, size=dx.size)
    return dx


def avg_pool2d_forward(x, kernel_size=2, stride=None):
    """Average pooling forward pass.

    Args:
        x: ``(N, C, H, W)``; kernel_size: int or ``(KH, KW)``; stride: int, pair, or ``None`` (= kernel_size).

    Returns:
        out: ``(N, C, Ho, Wo)``, each the mean of its ``KH x KW`` window.
        cache: ``(x_shape, (KH, KW), (SH, SW), (Ho, Wo), dtype)``; the mean needs nothing else to differentiate
            (``dtype`` is ``x``'s: ``dx`` keeps it whatever ``dout``'s dtype).
    """
    xp = get_array_module(x)
    kernel, stride, out_size = _pool_args(x, kernel_size, stride)
    (KH, KW), (SH, SW), (Ho, Wo) = kernel, stride, out_size
    # Summing the KH*KW shifted slices avoids materialising the windows.
    out = xp.zeros(x.shape[:2] + out_size, dtype=x.dtype)
    for di in range(KH):
        for dj in range(KW):
            out += x[:, :, window(di, Ho, SH), window(dj, Wo, SW)]
    out /= KH * KW
    return out, (tuple(x.shape), kernel, stride, out_size, x.dtype)


def avg_pool2d_backward(dout, cache):
    """Average pooling backward pass: each window's gradient is shared equally by its ``KH*KW`` pixels.

    Args:
        dout: ``(N, C, Ho, Wo)``; cache: from :func:`avg_pool2d_forward`.

    Returns:
        dx: ``(N, C, H, W)``.
    """
    x_shape, (KH, KW), (SH, SW), (Ho, Wo), dtype = checks.forward_cache(cache, 5, "avg_pool2d_forward")
    xp = get_array_module(dout)
    dout = checks.upstream_gradient(dout, x_shape[:2] + (Ho, Wo), dtype, "avg_pool2d_forward")
    dx = xp.zeros(x_shape, dtype=dtype)
    share = dout / (KH * KW)
    for di in range(KH):
        for dj in range(KW):
            dx[:, :, window(di, Ho, SH), window(dj, Wo, SW)] += share
    return dx
