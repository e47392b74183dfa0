"""Three other ways to write the convolution in NumPy, timed beside cnnbook's layer and PyTorch.

These are the measurements behind "why ``cnnbook/layers/conv.py`` stays an im2col convolution"
in ``benchmarks/README.md`` (issue 25: within 1.5x of PyTorch CPU on every layer). None is part
of the package; each computes the same layer (3x3 kernels, stride 1, any padding) and is checked
against ``cnnbook.layers.conv2d_forward``/``conv2d_backward`` before anything is timed.

* **Winograd F(2x2, 3x3)** (Lavin and Gray, 2016): each 4x4 input tile is transformed (``B^T d B``),
  multiplied elementwise by the transformed filters (``G g G^T``), which over the channels is 16
  matrix products, and transformed back (``A^T m A``) into a 2x2 output tile: 16 multiplications per
  tile instead of 36, so the products do 2.25x fewer operations than im2col's. The backward pass is
  the transpose of each of those linear steps. Pixels are stored batch last, ``(C, H, W, N)``, so
  every slice the transforms take has rows of ``N`` numbers.
* **Winograd F(2, 3) along the rows**: the same along the width only, im2col along the height:
  1.5x fewer operations, products over ``3C`` (not ``C``), transforms of two slices each.
* **Channels-last im2col**: columns stored one row per output pixel, ``(N*Ho*Wo, KH*KW*C)``, the
  layout whose three products ran fastest when timed alone (see the README), at the price of
  copies whose contiguous rows are ``C`` numbers long.

Run (one thread each, CPU time; ratios to PyTorch when it is installed)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.conv_alternatives --repeats 30
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from benchmarks import harness
from cnnbook.layers import conv2d_backward, conv2d_forward

# Winograd F(2x2, 3x3): filter transform G (4x3); the input transform B^T and the output transform
# A^T are written out as sums of taps below (they only add and subtract).
G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def _taps(z, axis, tiles, count):
    """The ``count`` taps ``z[k::2]`` along ``axis`` that the ``tiles`` tiles read (tile ``t`` starts at ``2t``)."""
    def tap(k):
        index = [slice(None)] * z.ndim
        index[axis] = slice(k, k + 2 * tiles, 2)
        return z[tuple(index)]
    return [tap(k) for k in range(count)]


def _input_transform(z, axis, tiles):
    """``B^T d`` along ``axis``: the four taps of each tile -> ``[d0 - d2, d1 + d2, d2 - d1, d1 - d3]``."""
    d0, d1, d2, d3 = _taps(z, axis, tiles, 4)
    return [d0 - d2, d1 + d2, d2 - d1, d1 - d3]


def _input_transform_adjoint(v, out, axis, tiles):
    """Add ``B v`` (the transpose of :func:`_input_transform`) onto the taps of ``out`` along ``axis``."""
    v0, v1, v2, v3 = v
    t0, t1, t2, t3 = _taps(out, axis, tiles, 4)  # views: += lands in out (overlapping tiles add up)
    t0 += v0
    t1 += v1 - v2 + v3
    t2 += v1 + v2 - v0
    t3 -= v3


def winograd_forward(x, w, b, padding=1):
    """Convolution by Winograd F(2x2, 3x3); ``x (N, C, H, W)``, ``w (F, C, 3, 3)``, stride 1.

    One row of tiles at a time, so that a row's transformed tiles are still in the CPU's cache when
    the products read them (in one interleaved run, 2.2x faster than all rows at once on 16->32 14x14,
    1.5x on 32->64 16x16, level on 32->64 7x7).
    """
    N, C, H, W = x.shape
    F = w.shape[0]
    Ho, Wo = H + 2 * padding - 2, W + 2 * padding - 2
    th, tw = -(-Ho // 2), -(-Wo // 2)  # 2x2 output tiles (an odd size gets a half-empty last tile)
    xpad = np.zeros((C, 2 * th + 2, 2 * tw + 2, N), x.dtype)  # batch last
    xpad[:, padding:padding + H, padding:padding + W] = x.transpose(1, 2, 3, 0)
    U = np.einsum("ai,fcij,bj->abfc", G, w, G).astype(x.dtype).reshape(16, F, C)  # G g G^T
    V = np.empty((th, 4, 4, C, tw, N), x.dtype)  # B^T d B of every tile, row by row, kept for dw
    out = np.empty((N, F, 2 * th, 2 * tw), x.dtype)
    for t in range(th):
        for a, rows in enumerate(_input_transform(xpad[:, 2 * t:2 * t + 4], 1, 1)):  # (C, 1, Wp, N)
            for c, v in enumerate(_input_transform(rows[:, 0], 1, tw)):
                V[t, a, c] = v  # (C, tw, N)
        M = np.matmul(U, V[t].reshape(16, C, tw * N)).reshape(4, 4, F, tw * N)  # 16 products over C
        M[1, 1] += b[:, None]  # A^T takes M[1, 1] into each of the 4 outputs of a tile with weight 1
        for i, r in enumerate((M[0] + M[1] + M[2], M[1] - M[2] - M[3])):  # A^T m
            for j, y in enumerate((r[0] + r[1] + r[2], r[1] - r[2] - r[3])):  # (A^T m) A
                out[:, :, 2 * t + i, j::2] = y.reshape(F, tw, N).transpose(2, 0, 1)
    return np.ascontiguousarray(out[:, :, :Ho, :Wo]), (x, w, padding, U, V)


def winograd_backward(dout, cache):
    """Gradients of :func:`winograd_forward`: each linear step of the forward pass, transposed."""
    x, w, padding, U, V = cache
    N, C, H, W = x.shape
    F = w.shape[0]
    th, tw = V.shape[0], V.shape[4]
    dy = np.zeros((F, 2 * th, 2 * tw, N), dout.dtype)
    dy[:, :dout.shape[2], :dout.shape[3]] = dout.transpose(1, 2, 3, 0)
    dU = np.zeros((16, F, C), dout.dtype)
    dxpad = np.zeros((C, 2 * th + 2, 2 * tw + 2, N), dout.dtype)
    for t in range(th):
        dM = np.empty((4, 4, F, tw, N), dout.dtype)
        for a, rows in enumerate(_output_transform_adjoint(dy[:, 2 * t:2 * t + 2], 1)):  # (F, 1, 2tw, N)
            for c, m in enumerate(_output_transform_adjoint(rows[:, 0], 1)):
                dM[a, c] = m  # (F, tw, N)
        dM = dM.reshape(16, F, tw * N)
        Vt = V[t].reshape(16, C, tw * N)
        dU += np.matmul(dM, Vt.transpose(0, 2, 1))
        dV = np.matmul(U.transpose(0, 2, 1), dM).reshape(4, 4, C, tw, N)
        drows = np.zeros((4, C, 1, 2 * tw + 2, N), dout.dtype)  # the gradient of B^T d, per transformed row
        for a in range(4):
            _input_transform_adjoint(dV[a], drows[a, :, 0], 1, tw)
        _input_transform_adjoint(drows, dxpad[:, 2 * t:2 * t + 4], 1, 1)
    dw = np.einsum("ai,abfc,bj->fcij", G, dU.reshape(4, 4, F, C), G).astype(w.dtype)
    db = dout.sum(axis=(0, 2, 3))
    dx = np.ascontiguousarray(dxpad[:, padding:padding + H, padding:padding + W].transpose(3, 0, 1, 2))
    return dx, dw, db


def _output_transform_adjoint(z, axis):
    """``A dy`` along ``axis`` (the transpose of ``A^T``): the two outputs of a tile -> ``[d0, d0+d1, d0-d1, -d1]``."""
    d0, d1 = _taps(z, axis, z.shape[axis] // 2, 2)
    return [d0, d0 + d1, d0 - d1, -d1]


def winograd_rows_forward(x, w, b, padding=1):
    """Winograd F(2, 3) along the width only, im2col along the height: ``V (4, KH, C, Ho, tw, N)``.

    Each kernel row's three taps become four transformed values for a pair of outputs, so the four
    products (one per transformed tap, over ``KH*C``) do 1.5x fewer operations than im2col's, and
    the transforms are sums of two slices (rows of ``N`` numbers, batch last).
    """
    N, C, H, W = x.shape
    F, _, KH, _ = w.shape
    Ho, Wo = H + 2 * padding - KH + 1, W + 2 * padding - 2
    tw = -(-Wo // 2)  # pairs of output columns
    xpad = np.zeros((C, H + 2 * padding, 2 * tw + 2, N), x.dtype)  # batch last
    xpad[:, padding:padding + H, padding:padding + W] = x.transpose(1, 2, 3, 0)
    V = np.empty((4, KH, C, Ho, tw, N), x.dtype)
    for i in range(KH):
        for k, v in enumerate(_input_transform(xpad[:, i:i + Ho], 2, tw)):  # (C, Ho, tw, N)
            V[k, i] = v
    U = np.einsum("bj,fcij->bfic", G, w).astype(x.dtype).reshape(4, F, KH * C)  # G g per kernel row
    M = np.matmul(U, V.reshape(4, KH * C, -1))  # (4, F, Ho*tw*N)
    M[1] += b[:, None]  # A^T takes M[1] into both outputs of a pair
    out = np.empty((N, F, Ho, 2 * tw), x.dtype)
    for j, y in enumerate((M[0] + M[1] + M[2], M[1] - M[2] - M[3])):  # A^T m
        out[:, :, :, j::2] = y.reshape(F, Ho, tw, N).transpose(3, 0, 1, 2)
    return np.ascontiguousarray(out[:, :, :, :Wo]), (x, w, padding, U, V)


def winograd_rows_backward(dout, cache):
    """Gradients of :func:`winograd_rows_forward`: each linear step of the forward pass, transposed."""
    x, w, padding, U, V = cache
    N, C, H, W = x.shape
    F, _, KH, _ = w.shape
    Ho, tw = V.shape[3], V.shape[4]
    dy = np.zeros((F, Ho, 2 * tw, N), dout.dtype)
    dy[:, :, :dout.shape[3]] = dout.transpose(1, 2, 3, 0)
    dM = np.stack(_output_transform_adjoint(dy, 2)).reshape(4, F, -1)  # (4, F, Ho*tw*N)
    dU = np.matmul(dM, V.reshape(4, KH * C, -1).transpose(0, 2, 1)).reshape(4, F, KH, C)
    dw = np.einsum("bj,bfic->fcij", G, dU).astype(w.dtype)
    dV = np.matmul(U.transpose(0, 2, 1), dM).reshape(4, KH, C, Ho, tw, N)
    dxpad = np.zeros((C, H + 2 * padding, 2 * tw + 2, N), dout.dtype)
    for i in range(KH):
        _input_transform_adjoint(dV[:, i], dxpad[:, i:i + Ho], 2, tw)
    dx = np.ascontiguousarray(dxpad[:, padding:padding + H, padding:padding + W].transpose(3, 0, 1, 2))
    return dx, dw, dout.sum(axis=(0, 2, 3))


def channels_last_forward(x, w, b, padding=1):
    """im2col with one row of columns per output pixel: ``cols (N, Ho, Wo, 3, 3, C)``, ``out = cols @ w_mat``."""
    N, C, H, W = x.shape
    F = w.shape[0]
    Ho, Wo = H + 2 * padding - 2, W + 2 * padding - 2
    xpad = np.zeros((N, H + 2 * padding, W + 2 * padding, C), x.dtype)  # channels last
    xpad[:, padding:padding + H, padding:padding + W] = x.transpose(0, 2, 3, 1)
    cols = np.empty((N, Ho, Wo, 3, 3, C), x.dtype)
    for i in range(3):
        for j in range(3):
            cols[:, :, :, i, j] = xpad[:, i:i + Ho, j:j + Wo]
    w_mat = w.transpose(2, 3, 1, 0).reshape(9 * C, F)  # (KH*KW*C, F), rows ordered like cols' columns
    out = cols.reshape(-1, 9 * C) @ w_mat + b  # (N*Ho*Wo, F)
    return np.ascontiguousarray(out.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2)), (x, w, padding, cols)


def channels_last_backward(dout, cache):
    """Gradients of :func:`channels_last_forward`: ``dw = cols^T dout``, ``dcols = dout w_mat^T``, col2im."""
    x, w, padding, cols = cache
    N, C, H, W = x.shape
    F = w.shape[0]
    Ho, Wo = cols.shape[1:3]
    d = np.ascontiguousarray(dout.transpose(0, 2, 3, 1)).reshape(-1, F)  # (N*Ho*Wo, F)
    w_mat = w.transpose(2, 3, 1, 0).reshape(9 * C, F)
    dw = (cols.reshape(-1, 9 * C).T @ d).reshape(3, 3, C, F).transpose(3, 2, 0, 1)
    dcols = (d @ w_mat.T).reshape(cols.shape)
    dxpad = np.zeros((N, H + 2 * padding, W + 2 * padding, C), dout.dtype)
    for i in range(3):
        for j in range(3):
            dxpad[:, i:i + Ho, j:j + Wo] += dcols[:, :, :, i, j]
    dx = np.ascontiguousarray(dxpad[:, padding:padding + H, padding:padding + W].transpose(0, 3, 1, 2))
    return dx, np.ascontiguousarray(dw), d.sum(axis=0)


ALTERNATIVES = {"winograd": (winograd_forward, winograd_backward),
                "winograd-rows": (winograd_rows_forward, winograd_rows_backward),
                "channels-last": (channels_last_forward, channels_last_backward)}


def _step(forward, backward, x, w, b, dout):
    """Like ``harness.conv_step``, for an alternative's ``forward(x, w, b, padding)`` (stride 1 only)."""
    def step():
        out, cache = forward(x, w, b, 1)
        return backward(dout, cache)
    return step


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conv_alternatives",
                                     description=__doc__.splitlines()[0])
    harness.add_layer_arguments(parser, repeats=15)
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        torch = None
    clock = time.process_time
    with harness.pinned_threads(1, torch):
        print(f"conv2d forward+backward, float32, batch {args.batch_size}, 3x3, padding 1; "
              f"median CPU time of {args.repeats} interleaved runs, one thread each")
        print(f"load average (1, 5, 15 min): {harness.load_average()}")
        sgemm = harness.sgemm_rate(clock)
        print(f"sgemm ceiling: {sgemm:.1f} GFLOP/s; {harness.blas_line()}")
        base = "torch" if torch else "cnnbook"
        names = ["cnnbook", *ALTERNATIVES] + (["torch"] if torch else [])
        print(f"{'layer':<16}{'cnnbook ms':>11}" + "".join(f"{n + '/' + base:>22}" for n in names if n != base)
              + f"{'products at ceiling':>21}")
        rng = np.random.default_rng(0)
        for C, F, H, W in args.shapes:
            x, w, b, dout = harness.random_layer(rng, args.batch_size, C, F, H, W)
            steps = {"cnnbook": harness.conv_step(conv2d_forward, conv2d_backward, x, w, b, dout)}
            for name, (forward, backward) in ALTERNATIVES.items():
                steps[name] = _step(forward, backward, x, w, b, dout)
            if torch:
                steps["torch"] = harness.torch_conv_step(torch, x, w, b, dout)
            reference = steps["cnnbook"]()
            for name, step in steps.items():
                if (bad := harness.disagreement(step(), reference)) is not None:
                    print(f"{name} disagrees with cnnbook on {bad} for {C}->{F}:{H}x{W}")
                    return 1
            med = harness.interleaved_medians(steps, args.repeats, clock)
            ceiling_ms = harness.conv_flops(args.batch_size, C, F, H, W) / (sgemm * 1e9) * 1e3
            print(f"{f'{C}->{F} {H}x{W}':<16}{med['cnnbook'] * 1e3:>11.2f}"
                  + "".join(f"{med[n] / med[base]:>22.2f}" for n in names if n != base) + f"{ceiling_ms:>18.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
