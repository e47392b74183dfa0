"""Convolution (cross-correlation, as in CS231n and PyTorch): the fast, vectorised pair.

``conv2d_forward`` turns the convolution into a matrix product (im2col):

* the padded input is laid out channel-first, ``(C, N, Hp, Wp)``, so each of the
  ``KH*KW`` kernel offsets copies one strided slice whose rows are contiguous;
* those slices stack into ``cols``, seen as a ``(KH*KW*C, N*Ho*Wo)`` matrix, and
  ``out = w_mat @ cols`` is a ``(F, K) x (K, M)`` product that BLAS (or cuBLAS) runs at full speed.
  On NumPy the batch is cut into blocks (see :data:`COLUMNS_PER_BLOCK`) that stay in cache.

The output is that product reshaped ``(F, N, Ho, Wo)`` and *viewed* as ``(N, F, Ho, Wo)``:
no copy, and the next layer's backward finds ``dout`` already in the order it needs.
The backward pass is two more products plus ``col2im``: ``KH*KW`` strided slice-adds
(no ``np.add.at``, which is slow and missing from CuPy's core API).
Only array-module functions that NumPy and CuPy share are used, so the same code runs on both.
"""
from __future__ import annotations

import numpy as np

from cnnbook.backend import get_array_module
from cnnbook.layers._checks import as_pair, check_array, check_cache, check_dout, check_same_dtype
from cnnbook.layers.sizes import conv_output_size


def check_conv_args(x, w, b, stride, padding):
    """Validate a convolution's arguments; return ``((SH, SW), (PH, PW), (Ho, Wo))``."""
    check_array(x, "x", 4, "(N, C, H, W)")
    check_array(w, "w", 4, "(F, C, KH, KW)")
    check_array(b, "b", 1, "(F,)")
    check_same_dtype(x=x, w=w, b=b)
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if C != Cw:
        raise ValueError(f"x has {C} channels (x.shape={tuple(x.shape)}, (N, C, H, W)) but w expects "
                         f"{Cw} (w.shape={tuple(w.shape)}, (F, C, KH, KW)); the filters' C must match the input's")
    if b.shape[0] != F:
        raise ValueError(f"b has {b.shape[0]} entries but w has F={F} filters (w.shape={tuple(w.shape)}); "
                         f"give one bias per filter, b.shape == ({F},)")
    stride = as_pair(stride, "stride", 1)
    padding = as_pair(padding, "padding", 0)
    Ho = conv_output_size(H, KH, stride[0], padding[0], what="height")
    Wo = conv_output_size(W, KW, stride[1], padding[1], what="width")
    return stride, padding, (Ho, Wo)


def _window(offset, size, step):
    """The slice that picks, for kernel offset ``offset``, the input row (or column) of every output."""
    return slice(offset, offset + step * (size - 1) + 1, step)


# NumPy: work in blocks of whole images, about this many output pixels each, so that a block's
# im2col columns, GEMM panels and col2im sums stay in the CPU's cache instead of streaming through
# memory (measured 5-25% faster than one product over the whole batch). CuPy gets one block:
# on a GPU, fewer and bigger launches win.
COLUMNS_PER_BLOCK = 4096


def _batch_blocks(N, pixels, xp):
    """Slices of the batch, each about :data:`COLUMNS_PER_BLOCK` output pixels (whole images)."""
    per = N if xp is not np else max(1, COLUMNS_PER_BLOCK // pixels)
    return [slice(n, min(n + per, N)) for n in range(0, N, per)]


def _pad_channels_first(x, padding, xp):
    """``x`` ``(N, C, H, W)`` as ``(C, N, Hp, Wp)`` with zero padding (a view when there is none)."""
    N, C, H, W = x.shape
    PH, PW = padding
    x_cf = x.transpose(1, 0, 2, 3)  # (C, N, H, W), a view
    if not (PH or PW):
        return x_cf
    xpad = xp.zeros((C, N, H + 2 * PH, W + 2 * PW), dtype=x.dtype)  # (C, N, Hp, Wp)
    xpad[:, :, PH:PH + H, PW:PW + W] = x_cf
    return xpad


def _w_matrix(w):
    """``w`` as ``(F, KH*KW*C)``, its columns ordered like the rows of ``cols``."""
    F, C, KH, KW = w.shape
    return w.transpose(0, 2, 3, 1).reshape(F, KH * KW * C)


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Convolution forward pass (cross-correlation, like PyTorch's ``conv2d``), vectorised.

    Args:
        x: input, ``(N, C, H, W)``.
        w: filters, ``(F, C, KH, KW)``.
        b: biases, ``(F,)``.
        stride: ``S``, an int or a ``(SH, SW)`` pair (>= 1).
        padding: ``P`` zeros on each side, an int or a ``(PH, PW)`` pair (>= 0).

    Returns:
        out: ``(N, F, Ho, Wo)`` with ``Ho = (H - KH + 2PH) / SH + 1`` and ``Wo = (W - KW + 2PW) / SW + 1``
            (see :func:`conv_output_size`; a stride that does not divide evenly is a ``ValueError``).
            It is a view of an ``(F, N, Ho, Wo)`` buffer; ``x``'s dtype is kept.
        cache: ``(x, w, b, (SH, SW), (PH, PW), cols)``; ``cols`` ``(KH, KW, C, N, Ho, Wo)`` is the im2col
            array, ``cols[i, j, c, n, ho, wo] = xpad[n, c, ho*SH + i, wo*SW + j]``, kept for the backward pass.
    """
    xp = get_array_module(x, w, b)
    stride, padding, (Ho, Wo) = check_conv_args(x, w, b, stride, padding)
    N = x.shape[0]
    F, C, KH, KW = w.shape
    (SH, SW), K = stride, KH * KW * C
    xpad = _pad_channels_first(x, padding, xp)  # (C, N, Hp, Wp)
    w_mat = _w_matrix(w)  # (F, KH*KW*C)
    cols = xp.empty((KH, KW, C, N, Ho, Wo), dtype=x.dtype)
    out = xp.empty((F, N, Ho, Wo), dtype=x.dtype)
    for nb in _batch_blocks(N, Ho * Wo, xp):
        for i in range(KH):
            for j in range(KW):
                cols[i, j, :, nb] = xpad[:, nb, _window(i, Ho, SH), _window(j, Wo, SW)]  # (C, n, Ho, Wo)
        block = out[:, nb].reshape(F, -1)  # (F, n*Ho*Wo), a view: the product lands in place
        xp.matmul(w_mat, cols[:, :, :, nb].reshape(K, -1), out=block)  # im2col's matrix product
        block += b[:, None]
    return out.transpose(1, 0, 2, 3), (x, w, b, stride, padding, cols)  # out: (N, F, Ho, Wo), a view


def conv2d_backward(dout, cache):
    """Convolution backward pass, vectorised.

    Args:
        dout: upstream gradient ``(N, F, Ho, Wo)``.
        cache: from :func:`conv2d_forward` (or :func:`conv2d_forward_naive`, whose 5-tuple lacks ``cols``).

    Returns:
        dx: ``(N, C, H, W)``; dw: ``(F, C, KH, KW)``; db: ``(F,)``, in the forward pass's dtypes.

    With ``dout_mat`` ``(F, N*Ho*Wo)`` and ``cols`` seen as ``(KH*KW*C, N*Ho*Wo)``:
    ``dw = dout_mat @ cols.T``, ``db = dout_mat.sum(1)``, and ``dcols = w_mat.T @ dout_mat``, which col2im
    sums back onto the input pixels the columns were copied from (overlapping windows add up).
    """
    if isinstance(cache, tuple) and len(cache) == 5:  # a naive cache: rebuild cols
        x, w, b, stride, padding = cache
        cache = conv2d_forward(x, w, b, stride, padding)[1]
    x, w, b, stride, padding, cols = check_cache(cache, 6, "conv2d_forward")
    xp = get_array_module(dout, x, w)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    (SH, SW), (PH, PW), K = stride, padding, KH * KW * C
    Ho, Wo = cols.shape[-2:]
    dout = check_dout(dout, (N, F, Ho, Wo), x.dtype, "conv2d_forward")
    dout_f = dout.transpose(1, 0, 2, 3)  # (F, N, Ho, Wo); contiguous when dout is this layer's own layout
    w_mat_t = _w_matrix(w).T  # (KH*KW*C, F)
    dw_t = xp.zeros((K, F), dtype=w.dtype)
    dxpad = xp.zeros((C, N, H + 2 * PH, W + 2 * PW), dtype=x.dtype)  # (C, N, Hp, Wp)
    for nb in _batch_blocks(N, Ho * Wo, xp):
        dout_mat = dout_f[:, nb].reshape(F, -1)  # (F, n*Ho*Wo)
        dw_t += cols[:, :, :, nb].reshape(K, -1) @ dout_mat.T  # (KH*KW*C, F)
        dcols = (w_mat_t @ dout_mat).reshape(KH, KW, C, -1, Ho, Wo)  # (KH, KW, C, n, Ho, Wo)
        for i in range(KH):
            for j in range(KW):
                # col2im: overlapping windows add into the same pixels, one kernel offset at a time.
                dxpad[:, nb, _window(i, Ho, SH), _window(j, Wo, SW)] += dcols[i, j]
    dx = dxpad[:, :, PH:PH + H, PW:PW + W].transpose(1, 0, 2, 3)  # (N, C, H, W), a view
    dw = dw_t.reshape(KH, KW, C, F).transpose(3, 2, 0, 1)  # (F, C, KH, KW)
    db = dout.sum(axis=(0, 2, 3))  # (F,)
    return dx, xp.ascontiguousarray(dw), db
