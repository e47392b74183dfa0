"""Convolution (cross-correlation, as in CS231n and PyTorch): the fast, vectorised pair.

``conv2d_forward`` turns the convolution into one matrix product (im2col):

* the zero-padded input is stored channel first, and each of the ``KH*KW`` kernel offsets copies one
  shifted (strided) slice of it into ``cols``;
* ``cols`` is seen as a ``(KH*KW*C, M)`` matrix, one column per output pixel (``M = N*Ho*Wo``), and
  ``out = w_mat @ cols`` is an ``(F, K) x (K, M)`` product that BLAS (or cuBLAS) runs at full speed.

Besides that product, the time goes into the copies, and a copy's cost is set by the length of its
contiguous rows: NumPy pays a fixed price per row, so rows of 7 numbers cost several times more per
number than long ones. So the output pixels are kept in one of two orders (:func:`pixel_order`):

* ``(N, Ho, Wo)``, images one after another: rows of ``Wo`` numbers; ``x`` ``(N, C, H, W)`` gets there
  by a cheap swap of its first two axes, and the output is a view of the ``(F, N, Ho, Wo)`` product;
* ``(Ho, Wo, N)``, batch last, for narrow outputs (< :data:`SHORT_ROW` pixels, e.g. 7x7): a row holds
  one output row of every image, ``Wo*N`` numbers, so im2col and col2im copy long rows, for the
  price of transposed copies of ``x`` and ``dout`` on the way in and of ``out`` and ``dx`` on the way
  out (the layers around expect images one after another).

The backward pass is two more products plus ``col2im``: ``KH*KW`` strided slice-adds
(no ``np.add.at``, which is slow and missing from CuPy's core API).
Only array-module functions that NumPy and CuPy share are used, so the same code runs on both.
``benchmarks/README.md`` has the measurements behind these choices and how to repeat them.
"""
from __future__ import annotations

import numpy as np

from cnnbook.backend import get_array_module
from cnnbook.layers import checks, parallel
from cnnbook.layers.sizes import conv_output_size, window


def check_conv_args(x, w, b, stride, padding):
    """Validate a convolution's arguments; return ``((SH, SW), (PH, PW), (Ho, Wo))``."""
    checks.array(x, "x", ("N", "C", "H", "W"))
    checks.array(w, "w", ("F", "C", "KH", "KW"))
    checks.array(b, "b", ("F",))
    checks.same_dtype(x=x, w=w, b=b)
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if C != Cw:
        raise ValueError(f"x has {C} channels (x.shape={tuple(x.shape)}, (N, C, H, W)) but w expects "
                         f"{Cw} (w.shape={tuple(w.shape)}, (F, C, KH, KW)); the filters' C must match the input's")
    if b.shape[0] != F:
        raise ValueError(f"b has {b.shape[0]} entries but w has F={F} filters (w.shape={tuple(w.shape)}); "
                         f"give one bias per filter, b.shape == ({F},)")
    stride = checks.pair(stride, "stride", minimum=1)
    padding = checks.pair(padding, "padding", minimum=0)
    Ho = conv_output_size(H, KH, stride[0], padding[0], what="height")
    Wo = conv_output_size(W, KW, stride[1], padding[1], what="width")
    return stride, padding, (Ho, Wo)


# The two orders of the stored axes, as permutations of x's (N, C, H, W).
BATCH_FIRST = (1, 0, 2, 3)  # (C, N, H, W): images one after another
BATCH_LAST = (1, 2, 3, 0)  # (C, H, W, N): one pixel of every image side by side

# Outputs narrower than this are stored batch last: below it the faster copies more than pay for the
# four transposed ones, at it they no longer do (the break-even measured in benchmarks/README.md).
SHORT_ROW = 14

# NumPy: work in blocks of about this many output pixels (whole images when batch first, whole output
# rows when batch last), so that a block's columns, product panels and col2im sums stay in the CPU's
# cache instead of streaming through memory; OpenBLAS also runs dw's product, whose inner dimension
# is the pixels, slower in one call over all of them than summed over blocks (benchmarks/README.md).
# CuPy gets one block: on a GPU, fewer and bigger launches win.
COLUMNS_PER_BLOCK = 4096


def pixel_order(Wo: int) -> tuple:
    """How the layer stores images, columns and outputs: :data:`BATCH_LAST` when an output row is
    shorter than :data:`SHORT_ROW` pixels, else :data:`BATCH_FIRST`."""
    return BATCH_LAST if Wo < SHORT_ROW else BATCH_FIRST


def _hw(order, rows, cols, batch=slice(None)):
    """An index into a 4-D array stored in ``order``: ``rows`` of its H axis, ``cols`` of W, ``batch`` of N."""
    index = [slice(None)] * 4
    index[order.index(0)] = batch
    index[order.index(2)] = rows
    index[order.index(3)] = cols
    return tuple(index)


def _blocks(pixels, xp):
    """Slices of the first of the ``pixels`` axes, each about :data:`COLUMNS_PER_BLOCK` output pixels.

    The blocks do not depend on the thread count, so neither do the results: the threads share them out,
    and dw sums their products in their order."""
    size, per_step = pixels[0], pixels[1] * pixels[2]
    per = max(1, COLUMNS_PER_BLOCK // max(1, per_step)) if xp is np else size
    return [slice(start, min(start + per, size)) for start in range(0, size, per)]


def _shifted(order, i, j, block, out_size, stride):
    """The index of the padded input that kernel offset ``(i, j)`` reads for the outputs in ``block``,
    a slice of the first pixel axis: images when batch first, output rows when batch last."""
    (Ho, Wo), (SH, SW) = out_size, stride
    if order == BATCH_FIRST:  # (C, N, Hp, Wp)
        return slice(None), block, window(i, Ho, SH), window(j, Wo, SW)
    rows = window(i + block.start * SH, block.stop - block.start, SH)  # (C, Hp, Wp, N)
    return slice(None), rows, window(j, Wo, SW), slice(None)


def _inverse(order):
    """The permutation that undoes ``order``: ``a.transpose(order).transpose(_inverse(order))`` is ``a``."""
    return tuple(order.index(axis) for axis in range(4))


def _padded_shape(x_shape, order, padding) -> tuple:
    """The shape of ``x`` ``(N, C, H, W)`` stored in ``order`` with ``padding`` zeros around H and W."""
    shape = [x_shape[axis] for axis in order]
    shape[order.index(2)] += 2 * padding[0]
    shape[order.index(3)] += 2 * padding[1]
    return tuple(shape)


def _stored(x, order, padding, xp):
    """``x`` ``(N, C, H, W)`` stored in ``order`` and zero-padded: ``(C, N, Hp, Wp)`` or ``(C, Hp, Wp, N)``."""
    PH, PW = padding
    x_o = x.transpose(order)  # a view; contiguous when x came from a layer that stores this order
    if not (PH or PW):
        return xp.ascontiguousarray(x_o)
    xpad = xp.zeros(_padded_shape(x.shape, order, padding), dtype=x.dtype)
    xpad[_hw(order, slice(PH, PH + x.shape[2]), slice(PW, PW + x.shape[3]))] = x_o
    return xpad


def _col2im(dxpad, dcols, order, blk, out_size, stride, channels=slice(None)):
    """Add ``dcols`` ``(KH, KW, C, *block's pixels)`` onto the padded input pixels its columns were copied
    from (the ``channels`` given); overlapping windows add into the same pixels, one kernel offset at a time."""
    KH, KW = dcols.shape[:2]
    for i in range(KH):
        for j in range(KW):
            dxpad[(channels,) + _shifted(order, i, j, blk, out_size, stride)[1:]] += dcols[i, j, channels]


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
            Batch first (:func:`pixel_order`) it is a view of an ``(F, N, Ho, Wo)`` buffer, batch last a
            contiguous copy; ``x``'s dtype is kept.
        cache: ``(x, w, b, (SH, SW), (PH, PW), cols)``; ``cols`` is the im2col array, ``(KH, KW, C, N, Ho, Wo)``
            or ``(KH, KW, C, Ho, Wo, N)``, ``cols[i, j, c, n, ho, wo] = xpad[n, c, ho*SH + i, wo*SW + j]``
            (pixel axes in the same order as the output's), kept for the backward pass.
    """
    xp = get_array_module(x, w, b)
    stride, padding, (Ho, Wo) = check_conv_args(x, w, b, stride, padding)
    N = x.shape[0]
    F, C, KH, KW = w.shape
    K = KH * KW * C
    order = pixel_order(Wo)
    pixels = (N, Ho, Wo) if order == BATCH_FIRST else (Ho, Wo, N)
    xpad = _stored(x, order, padding, xp)  # (C, N, Hp, Wp) or (C, Hp, Wp, N)
    cols = xp.empty((KH, KW, C) + pixels, dtype=x.dtype)
    out = xp.empty((F,) + pixels, dtype=x.dtype)
    w_mat = _w_matrix(w)  # (F, KH*KW*C)

    def im2col_product(blk):  # blk: a slice of the first pixel axis; blocks are independent of each other
        for i in range(KH):
            for j in range(KW):
                cols[i, j, :, blk] = xpad[_shifted(order, i, j, blk, (Ho, Wo), stride)]  # (C, *block's pixels)
        block = out[:, blk].reshape(F, -1)  # (F, m), a view: the product lands in place
        xp.matmul(w_mat, cols[:, :, :, blk].reshape(K, -1), out=block)  # im2col's matrix product
        block += b[:, None]
    parallel.run(im2col_product, _blocks(pixels, xp), xp, size=cols.size)  # the blocks, over the CPU's threads
    out = out.transpose(_inverse(order))  # (N, F, Ho, Wo), a view
    if order == BATCH_LAST:
        # Pooling, ReLU and the loss run several times slower on batch-last views than on images one
        # after another, so the output is copied back (one pass); batch first, the view is fine.
        out = xp.ascontiguousarray(out)
    return out, (x, w, b, stride, padding, cols)


def conv2d_backward(dout, cache):
    """Convolution backward pass, vectorised.

    Args:
        dout: upstream gradient ``(N, F, Ho, Wo)``.
        cache: from :func:`conv2d_forward` (or :func:`conv2d_forward_naive`, whose 5-tuple lacks ``cols``).

    Returns:
        dx: ``(N, C, H, W)`` (batch first a view, like the forward output); dw: ``(F, C, KH, KW)``; db: ``(F,)``,
        in the forward pass's dtypes.

    With ``dout_mat`` ``(F, M)`` and ``cols`` seen as ``(KH*KW*C, M)``, pixels in the same order:
    ``dw = dout_mat @ cols.T``, ``db = dout_mat.sum(1)``, and ``dcols = w_mat.T @ dout_mat``, which col2im
    sums back onto the input pixels the columns were copied from (overlapping windows add up).
    """
    if isinstance(cache, tuple) and len(cache) == 5:  # a naive cache: rebuild cols
        x, w, b, stride, padding = cache
        cache = conv2d_forward(x, w, b, stride, padding)[1]
    x, w, b, stride, padding, cols = checks.forward_cache(cache, 6, "conv2d_forward")
    xp = get_array_module(dout, x, w)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    (SH, SW), (PH, PW), K = stride, padding, KH * KW * C
    Ho, Wo = (H + 2 * PH - KH) // SH + 1, (W + 2 * PW - KW) // SW + 1
    dout = checks.upstream_gradient(dout, (N, F, Ho, Wo), x.dtype, "conv2d_forward")
    order = pixel_order(Wo)
    dout_o = dout.transpose(order)  # (F, *pixels); contiguous when dout is stored like this layer's output
    w_mat_t = _w_matrix(w).T  # (KH*KW*C, F)
    dxpad = xp.zeros(_padded_shape(x.shape, order, padding), dtype=x.dtype)  # stored like xpad
    blocks = _blocks(cols.shape[3:], xp)
    # Batch last, neighbouring blocks of output rows add into the same input rows: when threads share the
    # blocks out, dcols is kept whole and col2im runs once the products are done, by channels, block after
    # block (each pixel gets its sums in the order one thread gives them).
    later = order == BATCH_LAST and len(blocks) > 1 and parallel.threads(xp) > 1
    dcols_all = xp.empty_like(cols) if later else None

    def products(blk):  # blk: a slice of the first pixel axis
        dout_mat = dout_o[:, blk].reshape(F, -1)  # (F, m)
        cols_mat = cols[:, :, :, blk].reshape(K, -1)  # (K, m), a view
        if dcols_all is None:
            dcols = (w_mat_t @ dout_mat).reshape(cols[:, :, :, blk].shape)  # (KH, KW, C, *block's pixels)
            _col2im(dxpad, dcols, order, blk, (Ho, Wo), stride)  # images of other blocks are other pixels
        else:
            xp.matmul(w_mat_t, dout_mat, out=dcols_all[:, :, :, blk].reshape(K, -1))  # lands in place
        return cols_mat @ dout_mat.T  # this block's share of dw_t (K, F)

    shares = parallel.run(products, blocks, xp, size=cols.size)  # the blocks, shared out over the CPU's threads
    dw_t = xp.zeros((K, F), dtype=w.dtype)
    for dw_share in shares:  # in the blocks' order: the same sum whatever the thread count
        dw_t += dw_share
    if dcols_all is not None:
        parallel.run(lambda c: [_col2im(dxpad, dcols_all[:, :, :, blk], order, blk, (Ho, Wo), stride, c)
                                for blk in blocks], parallel.split(C, xp), xp, size=dcols_all.size)
    dx = dxpad[_hw(order, slice(PH, PH + H), slice(PW, PW + W))].transpose(_inverse(order))  # (N, C, H, W), a view
    if order == BATCH_LAST:
        dx = xp.ascontiguousarray(dx)  # as the forward output: the layers before run faster on it
    dw = dw_t.reshape(KH, KW, C, F).transpose(3, 2, 0, 1)  # (F, C, KH, KW)
    db = dout.sum(axis=(0, 2, 3))  # (F,)
    return dx, xp.ascontiguousarray(dw), db
