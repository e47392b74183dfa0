"""Convolution (cross-correlation, as in CS231n and PyTorch): the fast, vectorised pair.

``conv2d_forward`` turns the convolution into one matrix product (im2col):

* the zero-padded input is stored channel first, and what the ``KH*KW`` kernel offsets read (shifted,
  strided slices of it) is copied into ``cols`` in one copy of a strided view (:func:`_windows`);
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

On the CPU the work runs in blocks of output pixels (:func:`_blocks`, set by the shape alone), which the
layers' threads share out (:mod:`cnnbook.layers.parallel`); each block's piece of work is a function here
(:func:`_im2col_product`, :func:`_backward_products`), and sums over blocks (``dw``, ``db``) are added in
the blocks' order, so the numbers are the same bit for bit on any thread count.
Only array-module functions that NumPy and CuPy share are used, so the same code runs on both.
``benchmarks/README.md`` has the measurements behind these choices and how to repeat them.
"""
from __future__ import annotations

import functools

import numpy as np

from cnnbook.backend import available_cpus, get_array_module
from cnnbook.course.language import tr
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
        raise ValueError(tr("x has {C} channels (x.shape={shape}, (N, C, H, W)) but w expects {Cw} "
                            "(w.shape={w_shape}, (F, C, KH, KW)); the filters' C must match the input's",
                            C=C, shape=tuple(x.shape), Cw=Cw, w_shape=tuple(w.shape)))
    if b.shape[0] != F:
        raise ValueError(tr("b has {count} entries but w has F={F} filters (w.shape={w_shape}); give one bias "
                            "per filter, b.shape == ({F},)", count=b.shape[0], F=F, w_shape=tuple(w.shape)))
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
MIN_BLOCKS = 4  # blocks for threads come in a multiple of at least this (block_multiple)


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


def _blocks(pixels, K, xp):
    """The first of the ``pixels`` axes cut into equal slices of about :data:`COLUMNS_PER_BLOCK` output pixels
    (columns of ``K`` numbers each). Their count is rounded up to a multiple of :func:`block_multiple`, or of
    the largest power of two below it whose blocks still hold enough numbers for threads to share them out
    (:data:`cnnbook.layers.parallel.MIN_PIECE_SIZE` each), so that the threads get equal shares.

    The blocks depend on the shape and the machine only, never on the thread count or the load, so neither
    do the results: threads share the blocks out, and ``dw`` sums their products in their order. CuPy gets
    one block: on a GPU, fewer and bigger launches win."""
    size, per_step = pixels[0], pixels[1] * pixels[2]
    if xp is not np or size == 0:
        return [slice(0, size)]
    count = max(1, -(-size * per_step // COLUMNS_PER_BLOCK))  # blocks of at most COLUMNS_PER_BLOCK columns
    multiple = block_multiple()
    while multiple > 1:  # the largest multiple whose blocks are big enough to share out over threads
        shared = -(-count // multiple) * multiple
        if K * size * per_step >= parallel.MIN_PIECE_SIZE * shared:
            count = shared
            break
        multiple //= 2
    count = min(size, count)
    bounds = [size * k // count for k in range(count + 1)]
    return [slice(bounds[k], bounds[k + 1]) for k in range(count)]


def block_multiple() -> int:
    """Blocks big enough for threads come in a multiple of this: the CPUs this process may use, rounded up to
    a power of two and at least :data:`MIN_BLOCKS` (so that 2, 4, ... threads share equal blocks evenly, and
    a thread slowed by another process leaves blocks to the others); 1 where the process has one CPU."""
    cpus = available_cpus()
    return 1 if cpus == 1 else max(MIN_BLOCKS, 1 << (cpus - 1).bit_length())


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


def _col2im(dxpad, dcols, order, blk, out_size, stride):
    """Add ``dcols`` ``(KH, KW, C, *block's pixels)`` onto the padded input pixels its columns were copied
    from; overlapping windows add into the same pixels, one kernel offset at a time."""
    KH, KW = dcols.shape[:2]
    for i in range(KH):
        for j in range(KW):
            dxpad[_shifted(order, i, j, blk, out_size, stride)] += dcols[i, j]


def _windows(xpad, order, blk, kernel, out_size, stride):
    """What each kernel offset reads for the output pixels in ``blk``, as one view of the padded input, no copy:
    ``(KH, KW, C, *block's pixels)``, ``[i, j, c, n, ho, wo] = xpad[c, n, ho*SH + i, wo*SW + j]`` (pixel axes in
    ``order``). The windows overlap in memory (``as_strided``), so the view is only ever read."""
    (KH, KW), (Ho, Wo), (SH, SW) = kernel, out_size, stride
    if order == BATCH_FIRST:  # (C, N, Hp, Wp)
        base = xpad[:, blk]
        sC, sN, sH, sW = base.strides
        shape, strides = (KH, KW, base.shape[0], base.shape[1], Ho, Wo), (sH, sW, sC, sN, sH * SH, sW * SW)
    else:  # (C, Hp, Wp, N): blk is a slice of output rows
        base = xpad[:, blk.start * SH:]
        sC, sH, sW, sN = base.strides
        shape = (KH, KW, base.shape[0], blk.stop - blk.start, Wo, base.shape[3])
        strides = (sH, sW, sC, sH * SH, sW * SW, sN)
    return get_array_module(xpad).lib.stride_tricks.as_strided(base, shape, strides)


def _im2col_product(blk, xpad, cols, out, w_mat, b, order, out_size, stride):
    """The forward pass on one block of output pixels ``blk`` (a slice of the first pixel axis): copy its
    columns into ``cols`` (im2col), multiply, add the bias, into its part of ``out``. Blocks are independent."""
    cols[:, :, :, blk] = _windows(xpad, order, blk, cols.shape[:2], out_size, stride)  # im2col: one copy
    block = out[:, blk].reshape(out.shape[0], -1)  # (F, m), a view: the product lands in place
    xp = get_array_module(out)
    xp.matmul(w_mat, cols[:, :, :, blk].reshape(w_mat.shape[1], -1), out=block)  # im2col's matrix product
    block += b[:, None]


def _backward_products(blk, dout_o, cols, w_mat_t, dxpad, order, out_size, stride, own_band):
    """The backward pass on one block ``blk``: its shares of ``dw_t`` ``(K, F)`` and ``db`` ``(F,)``, and its
    ``dcols`` summed back onto input pixels (col2im): straight into ``dxpad`` when no other block touches
    those pixels, else (``own_band``) into a band of input rows of its own, returned for the caller to add.
    Without ``dxpad`` (no input gradient wanted), only the shares."""
    F, K = dout_o.shape[0], w_mat_t.shape[0]
    dout_mat = dout_o[:, blk].reshape(F, -1)  # (F, m)
    cols_mat = cols[:, :, :, blk].reshape(K, -1)  # (K, m), a view
    dw_share = cols_mat @ dout_mat.T  # (K, F)
    if dxpad is None:
        return dw_share, dout_mat.sum(axis=1), None
    dcols = (w_mat_t @ dout_mat).reshape(cols[:, :, :, blk].shape)  # (KH, KW, C, *block's pixels)
    band = None
    if own_band:  # batch last: the block's output rows read input rows its neighbours read too
        rows = blk.stop - blk.start
        band = get_array_module(dxpad).zeros(_band_shape(dxpad, rows, cols.shape[0], stride), dtype=dxpad.dtype)
        _col2im(band, dcols, order, slice(0, rows), out_size, stride)
    else:
        _col2im(dxpad, dcols, order, blk, out_size, stride)
    return dw_share, dout_mat.sum(axis=1), band


def _band_shape(dxpad, rows, KH, stride):
    """The shape of the padded input rows that ``rows`` output rows read, batch last: ``(C, rows_in, Wp, N)``."""
    C, _, Wp, N = dxpad.shape
    return C, (rows - 1) * stride[0] + KH, Wp, N


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
    order = pixel_order(Wo)
    pixels = (N, Ho, Wo) if order == BATCH_FIRST else (Ho, Wo, N)
    xpad = _stored(x, order, padding, xp)  # (C, N, Hp, Wp) or (C, Hp, Wp, N)
    cols = xp.empty((KH, KW, C) + pixels, dtype=x.dtype)
    out = xp.empty((F,) + pixels, dtype=x.dtype)
    w_mat = _w_matrix(w)  # (F, KH*KW*C)

    fill = functools.partial(_im2col_product, xpad=xpad, cols=cols, out=out, w_mat=w_mat, b=b, order=order,
                             out_size=(Ho, Wo), stride=stride)
    blocks = _blocks(pixels, KH * KW * C, xp)
    parallel.run(fill, blocks, xp, size=cols.size)  # the blocks, shared out over the CPU's threads
    out = out.transpose(_inverse(order))  # (N, F, Ho, Wo), a view
    if order == BATCH_LAST:
        # Pooling, ReLU and the loss run several times slower on batch-last views than on images one
        # after another, so the output is copied back (one pass); batch first, the view is fine.
        out = xp.ascontiguousarray(out)
    return out, (x, w, b, stride, padding, cols)


def conv2d_backward(dout, cache, input_grad=True):
    """Convolution backward pass, vectorised.

    Args:
        dout: upstream gradient ``(N, F, Ho, Wo)``.
        cache: from :func:`conv2d_forward` (or :func:`conv2d_forward_naive`, whose 5-tuple lacks ``cols``).
        input_grad: ``False`` where the gradient for the input is not wanted (a network's first layer): ``dx`` is
            then ``None`` and neither its product nor col2im runs (about half the backward pass).

    Returns:
        dx: ``(N, C, H, W)`` (batch first a view, like the forward output); dw: ``(F, C, KH, KW)``; db: ``(F,)``,
        in the forward pass's dtypes.

    With ``dout_mat`` ``(F, M)`` and ``cols`` seen as ``(KH*KW*C, M)``, pixels in the same order:
    ``dw = dout_mat @ cols.T``, ``db = dout_mat.sum(1)``, and ``dcols = w_mat.T @ dout_mat``, which col2im
    sums back onto the input pixels the columns were copied from (overlapping windows add up).
    """
    if not isinstance(input_grad, (bool, np.bool_)):
        raise TypeError(tr("input_grad={value} must be True (compute dx) or False (dx is None)",
                           value=repr(input_grad)))
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
    dxpad = xp.zeros(_padded_shape(x.shape, order, padding), dtype=x.dtype) if input_grad else None  # like xpad
    blocks = _blocks(cols.shape[3:], K, xp)
    products = functools.partial(_backward_products, dout_o=dout_o, cols=cols, w_mat_t=w_mat_t, dxpad=dxpad,
                                 order=order, out_size=(Ho, Wo), stride=stride,
                                 own_band=order == BATCH_LAST and len(blocks) > 1)
    shares = parallel.run(products, blocks, xp, size=cols.size)  # the blocks, shared out over the CPU's threads
    dw_t = xp.zeros((K, F), dtype=w.dtype)
    db = xp.zeros(F, dtype=w.dtype)
    for blk, (dw_share, db_share, band) in zip(blocks, shares):  # in the blocks' order: the same sums
        dw_t += dw_share                                          # whatever the thread count
        db += db_share
        if band is not None:
            dxpad[:, blk.start * SH:blk.start * SH + band.shape[1]] += band
    dx = None
    if input_grad:
        dx = dxpad[_hw(order, slice(PH, PH + H), slice(PW, PW + W))].transpose(_inverse(order))  # (N, C, H, W), a view
        if order == BATCH_LAST:
            dx = xp.ascontiguousarray(dx)  # as the forward output: the layers before run faster on it
    dw = dw_t.reshape(KH, KW, C, F).transpose(3, 2, 0, 1)  # (F, C, KH, KW)
    return dx, xp.ascontiguousarray(dw), db
