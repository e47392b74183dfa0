"""Convolution (cross-correlation, as in CS231n and PyTorch): the fast, vectorised pair.

``conv2d_forward`` turns the convolution into one matrix product (im2col):

* the padded input is laid out channel-first, ``(C, N, Hp, Wp)``, so each of the
  ``KH*KW`` kernel offsets copies one strided slice with long contiguous rows;
* those slices stack into ``cols`` of shape ``(KH*KW*C, N*Ho*Wo)``, and
  ``out = w_mat @ cols`` is a single ``(F, K) x (K, M)`` product that BLAS (or cuBLAS) runs at full speed.

The output is that product reshaped ``(F, N, Ho, Wo)`` and *viewed* as ``(N, F, Ho, Wo)``:
no copy, and the next layer's backward finds ``dout`` already in the order it needs.
The backward pass is two more products plus ``col2im``: ``KH*KW`` strided slice-adds
(no ``np.add.at``, which is slow and missing from CuPy's core API).
Only array-module functions that NumPy and CuPy share are used, so the same code runs on both.
"""
from __future__ import annotations

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


def _im2col(x, KH, KW, stride, padding, out_size, xp):
    """``cols`` of shape ``(KH*KW*C, N*Ho*Wo)``: row ``(i, j, c)`` holds input pixel ``(c, i+S*ho, j+S*wo)``."""
    N, C, H, W = x.shape
    (SH, SW), (PH, PW), (Ho, Wo) = stride, padding, out_size
    x_cf = x.transpose(1, 0, 2, 3)  # (C, N, H, W), a view
    if PH or PW:
        xpad = xp.zeros((C, N, H + 2 * PH, W + 2 * PW), dtype=x.dtype)  # (C, N, Hp, Wp)
        xpad[:, :, PH:PH + H, PW:PW + W] = x_cf
    else:
        xpad = x_cf
    cols = xp.empty((KH, KW, C, N, Ho, Wo), dtype=x.dtype)
    for i in range(KH):
        for j in range(KW):
            cols[i, j] = xpad[:, :, _window(i, Ho, SH), _window(j, Wo, SW)]  # (C, N, Ho, Wo)
    return cols.reshape(KH * KW * C, N * Ho * Wo)


def _col2im(dcols, x_shape, KH, KW, stride, padding, out_size, xp):
    """The adjoint of :func:`_im2col`: sum each column entry back onto the input pixel it came from."""
    N, C, H, W = x_shape
    (SH, SW), (PH, PW), (Ho, Wo) = stride, padding, out_size
    dcols = dcols.reshape(KH, KW, C, N, Ho, Wo)
    dxpad = xp.zeros((C, N, H + 2 * PH, W + 2 * PW), dtype=dcols.dtype)  # (C, N, Hp, Wp)
    for i in range(KH):
        for j in range(KW):
            # Overlapping windows add into the same pixels; slice-adds sum them one offset at a time.
            dxpad[:, :, _window(i, Ho, SH), _window(j, Wo, SW)] += dcols[i, j]
    return dxpad[:, :, PH:PH + H, PW:PW + W].transpose(1, 0, 2, 3)  # (N, C, H, W), a view


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
        cache: ``(x, w, b, (SH, SW), (PH, PW), cols)`` where ``cols`` is the im2col matrix
            ``(KH*KW*C, N*Ho*Wo)``, kept so the backward pass need not rebuild it.
    """
    xp = get_array_module(x, w, b)
    stride, padding, (Ho, Wo) = check_conv_args(x, w, b, stride, padding)
    N = x.shape[0]
    F, C, KH, KW = w.shape
    cols = _im2col(x, KH, KW, stride, padding, (Ho, Wo), xp)  # (KH*KW*C, N*Ho*Wo)
    out = _w_matrix(w) @ cols  # (F, N*Ho*Wo): the one big product
    out += b[:, None]
    out = out.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)  # (N, F, Ho, Wo), a view
    return out, (x, w, b, stride, padding, cols)


def conv2d_backward(dout, cache):
    """Convolution backward pass, vectorised.

    Args:
        dout: upstream gradient ``(N, F, Ho, Wo)``.
        cache: from :func:`conv2d_forward` (or :func:`conv2d_forward_naive`, whose 5-tuple lacks ``cols``).

    Returns:
        dx: ``(N, C, H, W)``; dw: ``(F, C, KH, KW)``; db: ``(F,)``, in the forward pass's dtypes.

    With ``dout_mat`` of shape ``(F, N*Ho*Wo)``: ``dw = dout_mat @ cols.T``, ``db = dout_mat.sum(1)`` and
    ``dcols = w_mat.T @ dout_mat``, which col2im sums back onto the input pixels.
    """
    if isinstance(cache, tuple) and len(cache) == 5:  # a naive cache: rebuild cols
        x, w, b, stride, padding = cache
        stride, padding, out_size = check_conv_args(x, w, b, stride, padding)
        cache = cache + (_im2col(x, w.shape[2], w.shape[3], stride, padding, out_size, get_array_module(x)),)
    x, w, b, stride, padding, cols = check_cache(cache, 6, "conv2d_forward")
    xp = get_array_module(dout, x, w)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    Ho = conv_output_size(H, KH, stride[0], padding[0], what="height")
    Wo = conv_output_size(W, KW, stride[1], padding[1], what="width")
    dout = check_dout(dout, (N, F, Ho, Wo), x.dtype, "conv2d_forward")
    # Free when dout is (a view of) this layer's own output layout; one copy otherwise.
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(F, N * Ho * Wo)  # (F, N*Ho*Wo)
    db = dout_mat.sum(axis=1).astype(b.dtype, copy=False)  # (F,)
    dw = (dout_mat @ cols.T).reshape(F, KH, KW, C).transpose(0, 3, 1, 2)  # (F, C, KH, KW)
    dcols = _w_matrix(w).T @ dout_mat  # (KH*KW*C, N*Ho*Wo)
    dx = _col2im(dcols, x.shape, KH, KW, stride, padding, (Ho, Wo), xp)  # (N, C, H, W)
    return dx, xp.ascontiguousarray(dw), db
