"""Convolution (cross-correlation, as in CS231n and PyTorch): the fast, vectorised pair.

``conv2d_forward`` turns the convolution into one matrix product (im2col):

* the zero-padded input is stored channel first, and what the ``KH*KW`` kernel offsets read (shifted,
  strided slices of it) is copied into ``cols`` in one copy of a strided view (:func:`_windows`);
* ``cols`` is seen as a ``(K, M)`` matrix, ``K = KH*KW*C``, one column per output pixel (``M = N*Ho*Wo``), and
  with ``w_mat``, the filters flattened to ``(F, K)`` in ``cols``' row order (:func:`_w_matrix`),
  ``out = w_mat @ cols`` is an ``(F, K) x (K, M)`` product that BLAS (or cuBLAS) runs at full speed.

Besides that product, the time goes into the copies, and a copy's cost is set by the length of its
contiguous rows: NumPy pays a fixed price per row, so rows of 7 numbers cost several times more per
number than long ones. So the layer stores the (padded) batch as ``(C, G, H + 2PH, W + 2PW, side)``: ``G`` groups of
``side`` images side by side, the values of one pixel in the ``side`` images next to each other in memory
(:func:`side_by_side`, :func:`_as_groups`):

* ``side = 1``, images one after another, for outputs at least :data:`SHORT_ROW` pixels wide: rows of ``Wo``
  numbers; ``x`` ``(N, C, H, W)`` gets there by a cheap swap of its first two axes, and the output is a view
  of the ``(F, N, Ho, Wo)`` product;
* ``side > 1`` for narrow outputs (e.g. 7x7): a row holds one output row of ``side`` images, ``Wo*side`` numbers,
  so im2col and col2im copy long rows, for the price of transposed copies of ``x`` and ``dout`` on the way
  in and of ``out`` and ``dx`` on the way out (the layers around expect images one after another). The
  groups are the blocks below, so those copies are shared out over the threads too. CuPy gets one block,
  so there narrow outputs make a single group of all ``N`` images.

The backward pass is two more products plus ``col2im``: ``KH*KW`` strided slice-adds
(no ``np.add.at``, which is slow and missing from CuPy's core API).

On the CPU the work runs in blocks of whole groups of images (:func:`_blocks`, set by the shape and the CPUs this
process may use, never by the thread count), which the
layers' threads share out (:mod:`cnnbook.layers.parallel`); each block's piece of work is a function here
(:func:`_im2col_product`, :func:`_backward_products`), and sums over blocks (``dw``, ``db``) are added in
the blocks' order, so the numbers are the same bit for bit on any thread count.
Only array-module functions that NumPy and CuPy share are used, so the same code runs on both.
``benchmarks/README.md`` has the measurements behind these choices and how to repeat them.
"""
from __future__ import annotations

import functools
import math

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


# Outputs narrower than this store several images side by side (:func:`side_by_side`): below it the longer rows
# more than pay for the transposed copies, at it they no longer do (the break-even in benchmarks/README.md).
SHORT_ROW = 14

# NumPy: work in blocks of about this many output pixels (whole images, or whole groups of images side by side),
# so that a block's columns, product panels and col2im sums stay in the CPU's cache instead of streaming through
# memory; OpenBLAS also runs dw's product, whose inner dimension is the pixels, slower in one call over all of
# them than summed over blocks (benchmarks/README.md). CuPy gets one block: on a GPU, fewer and bigger launches win.
COLUMNS_PER_BLOCK = 4096
MIN_BLOCKS = 4  # blocks for threads come in a multiple of at least this (block_multiple)


def _block_count(columns, K, xp) -> int:
    """How many blocks ``columns`` output pixels (columns of ``K`` numbers each) are cut into: about
    :data:`COLUMNS_PER_BLOCK` each, the count rounded up to a multiple of :func:`block_multiple`, or of the largest
    power of two below it whose blocks still hold enough numbers for threads to share them out
    (:data:`cnnbook.layers.parallel.MIN_PIECE_SIZE` each), so that the threads get equal shares. 1 for CuPy."""
    if xp is not np or columns == 0:
        return 1
    count = max(1, -(-columns // COLUMNS_PER_BLOCK))
    multiple = block_multiple()
    while multiple > 1:  # the largest multiple whose blocks are big enough to share out over threads
        shared = -(-count // multiple) * multiple
        if K * columns >= parallel.MIN_PIECE_SIZE * shared:
            return shared
        multiple //= 2
    return count


def block_multiple() -> int:
    """Blocks big enough for threads come in a multiple of this: the CPUs this process may use, rounded up to
    a power of two and at least :data:`MIN_BLOCKS` (so that 2, 4, ... threads share equal blocks evenly, and
    a thread slowed by another process leaves blocks to the others); 1 where the process has one CPU."""
    cpus = available_cpus()
    return 1 if cpus == 1 else max(MIN_BLOCKS, 1 << (cpus - 1).bit_length())


def side_by_side(N, out_size, K, xp) -> int:
    """``side``, how many images the layer stores side by side, pixel by pixel: 1 (images one after another) when an
    output row is at least :data:`SHORT_ROW` pixels long; else the fewest that cut the batch into no more groups
    than :func:`_block_count` blocks, with ``side`` dividing ``N``. A prime ``N`` (a last, partial batch) larger than
    the number of blocks makes one group, so one block and no threads."""
    Ho, Wo = out_size
    if Wo >= SHORT_ROW or N == 0:
        return 1
    least = -(-N // _block_count(N * Ho * Wo, K, xp))
    return next(side for side in range(least, N + 1) if N % side == 0)


def _blocks(pixels, K, xp):
    """The groups of ``pixels`` ``(G, Ho, Wo, side)`` cut into ``min(G, _block_count(...))`` slices of whole groups,
    as equal as they can be (each at least one group).

    The blocks depend on the shape and the machine only, never on the thread count or the load, so neither
    do the results: threads share the blocks out, and ``dw`` sums their products in their order."""
    G, columns = pixels[0], math.prod(pixels)
    count = min(G, _block_count(columns, K, xp)) if G else 1
    bounds = [G * k // count for k in range(count + 1)]
    return [slice(bounds[k], bounds[k + 1]) for k in range(count)]


def _as_groups(a, side):
    """``a`` ``(N, C, H, W)`` seen as ``(C, G, H, W, side)``: ``G = N / side`` groups of ``side`` images side by side,
    ``[c, g, h, w, s]`` is image ``g*side + s``. A view: assigning to it writes into ``a``."""
    N, C, H, W = a.shape
    return a.reshape(N // side, side, C, H, W).transpose(2, 0, 3, 4, 1)


def _interior(padding, size, groups=slice(None)):
    """The index of the unpadded ``size = (H, W)`` pixels of ``groups`` in a padded ``(C, G, Hp, Wp, side)`` array."""
    (PH, PW), (H, W) = padding, size
    return slice(None), groups, slice(PH, PH + H), slice(PW, PW + W)


def _col2im(dxpad, dcols, blk, out_size, stride):
    """Add ``dcols`` ``(KH, KW, C, *block's pixels)`` onto the padded input pixels of the groups ``blk`` its columns
    were copied from; overlapping windows add into the same pixels, one kernel offset at a time."""
    KH, KW = dcols.shape[:2]
    (Ho, Wo), (SH, SW) = out_size, stride
    for i in range(KH):
        for j in range(KW):
            dxpad[:, blk, window(i, Ho, SH), window(j, Wo, SW)] += dcols[i, j]


def _windows(xpad, blk, kernel, out_size, stride):
    """What each kernel offset reads for the groups ``blk``, as one view of the padded input, no copy:
    ``(KH, KW, C, g, Ho, Wo, side)`` with ``g`` the number of groups in ``blk``,
    ``[i, j, c, k, ho, wo, s] = xpad[c, blk.start + k, ho*SH + i, wo*SW + j, s]``. The windows overlap in memory
    (``as_strided``), so the view is only ever read."""
    (KH, KW), (Ho, Wo), (SH, SW) = kernel, out_size, stride
    base = xpad[:, blk]  # (C, g, Hp, Wp, side)
    sC, sG, sH, sW, sS = base.strides
    shape = (KH, KW, base.shape[0], base.shape[1], Ho, Wo, base.shape[4])
    strides = (sH, sW, sC, sG, sH * SH, sW * SW, sS)
    return get_array_module(xpad).lib.stride_tricks.as_strided(base, shape, strides)


def _im2col_product(blk, x, xpad, store, cols, out, images, w_mat, b, padding, out_size, stride):
    """The forward pass on the groups ``blk``: store their images in ``xpad`` (padded, side by side) if ``store``
    (else ``xpad`` is ``x`` itself, seen as groups), copy their columns into ``cols`` (im2col), multiply, add the bias,
    into their part of ``out``, and copy that to ``images`` ``(N, F, Ho, Wo)`` when one is given (images side by
    side). Blocks are independent."""
    side = xpad.shape[4]
    if store:
        xpad[_interior(padding, x.shape[2:], blk)] = _as_groups(x, side)[:, blk]
    cols[:, :, :, blk] = _windows(xpad, blk, cols.shape[:2], out_size, stride)  # im2col: one copy
    block = out[:, blk].reshape(out.shape[0], -1)  # (F, m), m = the block's output pixels; a view: in place
    xp = get_array_module(out)
    xp.matmul(w_mat, cols[:, :, :, blk].reshape(w_mat.shape[1], -1), out=block)  # im2col's matrix product
    block += b[:, None]
    if images is not None:
        _as_groups(images, side)[:, blk] = out[:, blk]


def _backward_products(blk, dout_s, cols, w_mat_t, dxpad, dx, padding, out_size, stride):
    """The backward pass on the groups ``blk``: their shares of ``dw_t`` ``(K, F)`` and ``db`` ``(F,)``, and their
    ``dcols`` summed back onto their input pixels (col2im; no other block touches those), copied to ``dx``
    ``(N, C, H, W)`` when one is given (images side by side). Without ``dxpad`` (no input gradient wanted), only
    the shares."""
    F, K = dout_s.shape[0], w_mat_t.shape[0]
    dout_mat = dout_s[:, blk].reshape(F, -1)  # (F, m)
    cols_mat = cols[:, :, :, blk].reshape(K, -1)  # (K, m), a view
    dw_share = cols_mat @ dout_mat.T  # (K, F)
    if dxpad is not None:
        dcols = (w_mat_t @ dout_mat).reshape(cols[:, :, :, blk].shape)  # (KH, KW, C, *block's pixels)
        _col2im(dxpad, dcols, blk, out_size, stride)
        if dx is not None:
            _as_groups(dx, dxpad.shape[4])[:, blk] = dxpad[_interior(padding, dx.shape[2:], blk)]
    return dw_share, dout_mat.sum(axis=1)


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
            With images one after another (``side = 1``, :func:`side_by_side`) it is a view of an
            ``(F, N, Ho, Wo)`` buffer, else a contiguous copy; ``x``'s dtype is kept.
        cache: ``(x, w, b, (SH, SW), (PH, PW), cols)``; ``cols`` is the im2col array, ``(KH, KW, C, G, Ho, Wo, side)``,
            ``cols[i, j, c, g, ho, wo, s] = x_padded[g*side + s, c, ho*SH + i, wo*SW + j]`` with ``x_padded`` the input
            zero-padded, ``(N, C, H + 2PH, W + 2PW)`` as in :mod:`cnnbook.layers.conv_naive`; kept for the backward
            pass.
    """
    xp = get_array_module(x, w, b)
    stride, padding, (Ho, Wo) = check_conv_args(x, w, b, stride, padding)
    N = x.shape[0]
    F, C, KH, KW = w.shape
    side = side_by_side(N, (Ho, Wo), KH * KW * C, xp)
    G, (PH, PW) = N // side, padding
    pixels = (G, Ho, Wo, side)  # G groups of side images side by side
    store = bool(PH or PW or side > 1)
    if store:  # the blocks store their images here: (C, G, Hp, Wp, side)
        padded = (C, G, x.shape[2] + 2 * PH, x.shape[3] + 2 * PW, side)
        xpad = xp.zeros(padded, dtype=x.dtype) if PH or PW else xp.empty(padded, dtype=x.dtype)
    else:
        xpad = _as_groups(x, 1)  # images one after another, unpadded: x itself, seen as (C, N, H, W, 1)
    cols = xp.empty((KH, KW, C) + pixels, dtype=x.dtype)
    out = xp.empty((F,) + pixels, dtype=x.dtype)
    # Images one after another, the output is a view of `out`; side by side, the blocks copy it into `images`
    # (pooling, ReLU and the loss run several times slower on a view whose images are side by side).
    images = xp.empty((N, F, Ho, Wo), dtype=x.dtype) if side > 1 else None
    w_mat = _w_matrix(w)  # (F, KH*KW*C)

    fill = functools.partial(_im2col_product, x=x, xpad=xpad, store=store, cols=cols, out=out, images=images,
                             w_mat=w_mat, b=b, padding=padding, out_size=(Ho, Wo), stride=stride)
    blocks = _blocks(pixels, KH * KW * C, xp)
    parallel.run(fill, blocks, xp, size=cols.size)  # the blocks, shared out over the CPU's threads
    if images is None:
        images = out[..., 0].transpose(1, 0, 2, 3)  # (N, F, Ho, Wo), a view
    return images, (x, w, b, stride, padding, cols)


def conv2d_backward(dout, cache, input_grad=True):
    """Convolution backward pass, vectorised.

    Args:
        dout: upstream gradient ``(N, F, Ho, Wo)``.
        cache: from :func:`conv2d_forward` (or :func:`conv2d_forward_naive`, whose 5-tuple lacks ``cols``).
        input_grad: ``False`` where the gradient for the input is not wanted (a network's first layer): ``dx`` is
            then ``None`` and neither its product nor col2im runs (about half the backward pass).

    Returns:
        dx: ``(N, C, H, W)`` (a view when ``side = 1``, like the forward output); dw: ``(F, C, KH, KW)``; db: ``(F,)``,
        in the forward pass's dtypes.

    With ``dout_mat`` ``(F, M)`` and ``cols`` seen as ``(KH*KW*C, M)``, pixels in the same order:
    ``dw = dout_mat @ cols.T`` (``(F, K)``, reshaped to ``(F, KH, KW, C)`` and transposed to ``w``'s
    ``(F, C, KH, KW)``), ``db = dout_mat.sum(1)``, and ``dcols = w_mat.T @ dout_mat``, which col2im
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
    G, side = cols.shape[3], cols.shape[6]
    dout_s = _as_groups(dout, side)  # (F, G, Ho, Wo, side), a view
    w_mat_t = _w_matrix(w).T  # (KH*KW*C, F)
    dxpad = xp.zeros((C, G, H + 2 * PH, W + 2 * PW, side), dtype=x.dtype) if input_grad else None  # like xpad
    dx = xp.empty(x.shape, dtype=x.dtype) if input_grad and side > 1 else None  # side by side: the blocks copy to it
    blocks = _blocks(cols.shape[3:], K, xp)
    products = functools.partial(_backward_products, dout_s=dout_s, cols=cols, w_mat_t=w_mat_t, dxpad=dxpad, dx=dx,
                                 padding=padding, out_size=(Ho, Wo), stride=stride)
    shares = parallel.run(products, blocks, xp, size=cols.size)  # the blocks, shared out over the CPU's threads
    dw_t = xp.zeros((K, F), dtype=w.dtype)
    db = xp.zeros(F, dtype=w.dtype)
    for dw_share, db_share in shares:  # in the blocks' order: the same sums whatever the thread count
        dw_t += dw_share
        db += db_share
    if input_grad and dx is None:  # images one after another: a view of dxpad
        dx = dxpad[_interior(padding, (H, W))][..., 0].transpose(1, 0, 2, 3)  # (N, C, H, W)
    dw = dw_t.reshape(KH, KW, C, F).transpose(3, 2, 0, 1)  # (F, C, KH, KW)
    return dx, xp.ascontiguousarray(dw), db
