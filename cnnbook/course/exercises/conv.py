"""Checks for notebooks 03 and 07: the explicit-loop convolution, forward and backward."""
from __future__ import annotations

import numpy as np

from cnnbook import backend, layers
from cnnbook.course.exercises import references
from cnnbook.course.exercises._common import (
    ExerciseError,
    call,
    compare_array,
    describe_call,
    device,
    passed,
    require_array,
    require_callable,
    require_unchanged,
    rng_for,
)
from cnnbook.course.language import tr


def _cases():
    """(description, x shape, w shape, stride, padding); None stride/padding: the learner's defaults are used."""
    return [
        (tr("3x3 filters on 5x5 images, default stride and padding"), (2, 3, 5, 5), (4, 3, 3, 3), None, None),
        (tr("non-square 5x7 images, padding=1"), (2, 3, 5, 7), (2, 3, 3, 3), 1, 1),
        (tr("stride=2 with padding=1 on 7x9 images"), (1, 2, 7, 9), (3, 2, 3, 3), 2, 1),
        (tr("non-square 2x4 filters, stride=2"), (2, 1, 6, 8), (2, 1, 2, 4), 2, 0),
        (tr("1x1 filters"), (1, 3, 4, 4), (5, 3, 1, 1), 1, 0),
    ]


def _case(rng, x_shape, w_shape):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    return x, w, b


def _kwargs(stride, padding):
    return {} if stride is None else {"stride": stride, "padding": padding}


def _size(n, k, s, p):
    """The output size ``(n - k + 2p) // s + 1`` without the divisibility check (for mistaken shapes)."""
    return (n - k + 2 * p) // s + 1


def _forward(x_h, w_h, b_h, stride, padding):
    """The reference output on the host, or None when these arguments do not fit."""
    try:
        out, _ = layers.conv2d_forward(x_h, w_h, b_h, stride=stride, padding=padding)
    except ValueError:
        return None
    return out


def _forward_mistakes(x_h, w_h, b_h, S, P):
    """What plausible wrong convolutions return, with what to tell the learner."""
    N, _, H, W = x_h.shape
    F, _, KH, KW = w_h.shape
    Ho, Wo = _size(H, KH, S, P), _size(W, KW, S, P)
    mistakes = []
    if P:
        mistakes.append(((N, F, _size(H, KH, S, 0), _size(W, KW, S, 0)),
                         tr("is the padding applied? Pad x with {P} zero(s) on every side of H and W (xp.pad) "
                            "before sliding the filter", P=P)))
        mistakes.append(((N, F, _size(H + P, KH, S, 0), _size(W + P, KW, S, 0)),
                         tr("the padding goes on both sides: P rows at the top and P at the bottom, "
                            "likewise columns")))
    if S > 1:
        mistakes.append(((N, F, _size(H, KH, 1, P), _size(W, KW, 1, P)),
                         tr("is the stride applied? With stride={S} the filter moves {S} pixels at a time, so the "
                            "output has (H + 2P - KH) // stride + 1 rows", S=S)))
        dense = _forward(x_h, w_h, b_h, 1, P)
        if dense is not None:
            mistakes.append((dense[:, :, :Ho, :Wo], tr("the output size is right but the windows do not move by "
                             "the stride: output (i, j) starts at input row i*stride, column j*stride")))
    mistakes.append(((N, F, Ho - 1, Wo - 1), tr("the output is one row and one column short: there are "
                     "(H + 2P - KH) // stride + 1 window positions (mind the + 1 in range(...))")))
    mistakes.append(((N, F, Ho + 1, Wo + 1), tr("the output is one row and one column too big: the last window "
                     "must fit inside the (padded) input")))
    mistakes.append(((N, 1, Ho, Wo), tr("there must be one output channel per filter: loop over the F filters")))
    mistakes.append(((N, w_h.shape[1], Ho, Wo), tr("there must be one output channel per filter (F of them), not "
                     "one per input channel: each filter sums over all C input channels")))
    flipped = references.conv_forward_naive(x_h, np.ascontiguousarray(w_h[:, :, ::-1, ::-1]), b_h, S, P)
    mistakes.append((flipped, tr("you flipped the filter: in CS231n and PyTorch 'convolution' is "
                                 "cross-correlation, the window is multiplied by w as it is, without flipping")))
    mistakes.append((references.conv_forward_naive(x_h, w_h, np.zeros_like(b_h), S, P),
                     tr("the bias is missing: add b[f] to every output value of filter f")))
    return [(m, hint) for m, hint in mistakes if m is not None]


def check_conv_forward_naive(conv_forward_naive) -> bool:
    """Check ``conv_forward_naive(x, w, b, stride=1, padding=0) -> out`` against ``layers.conv2d_forward``."""
    require_callable(conv_forward_naive, "check_conv_forward_naive", "conv_forward_naive(x, w, b, stride, padding)")
    rng = rng_for("conv_forward_naive")
    cases = _cases() + [(tr("stride=2 on 6x8 images: the last row and column are left out (// rounds down)"),
                         (1, 2, 6, 8), (2, 2, 3, 3), 2, 0)]
    for _, x_shape, w_shape, stride, padding in cases:
        x_h, w_h, b_h = _case(rng, x_shape, w_shape)
        S, P = (1, 0) if stride is None else (stride, padding)
        x, w, b = device(x_h), device(w_h), device(b_h)
        kwargs = _kwargs(stride, padding)
        text = describe_call("conv_forward_naive", ("x", x), ("w", w), ("b", b), **kwargs)
        out = call(conv_forward_naive, text, x, w, b, **kwargs)
        for label, host, arr in (("x", x_h, x), ("w", w_h, w), ("b", b_h, b)):
            require_unchanged(host, arr, text, label)
        require_array(out, text, "out", x)
        want = references.conv_forward_naive(x, w, b, S, P)
        compare_array(out, want, text, "out", mistakes=_forward_mistakes(x_h, w_h, b_h, S, P),
                      fallback=tr("out[n, f, i, j] is the sum of w[f] times the (padded) window of x[n] at row "
                                  "i*stride, column j*stride, plus b[f]"))
    return passed("conv_forward_naive", [c[0] for c in cases])


def _result_triple(result, text, x, w):
    if result is None:
        raise ExerciseError(tr("{call} returned None; return the three gradients (dx, dw, db)", call=text))
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        kind = tr("{count} values", count=len(result)) if isinstance(result, (tuple, list)) else type(result).__name__
        raise ExerciseError(tr("{call} returned {kind}; return the three gradients (dx, dw, db)",
                               call=text, kind=kind))
    dx, dw, db = result
    shapes = [tuple(np.shape(a)) if hasattr(a, "shape") else None for a in result]
    if shapes[0] == tuple(w.shape) and shapes[1] == tuple(x.shape) and x.shape != w.shape:
        raise ExerciseError(tr("{call}: the first gradient has w's shape and the second x's: "
                               "return them in the order (dx, dw, db)", call=text))
    return dx, dw, db


def check_conv_backward_naive(conv_backward_naive) -> bool:
    """Check ``conv_backward_naive(dout, x, w, stride=1, padding=0) -> (dx, dw, db)`` against the package."""
    require_callable(conv_backward_naive, "check_conv_backward_naive",
                     "conv_backward_naive(dout, x, w, stride, padding)")
    rng = rng_for("conv_backward_naive")
    cases = _cases()
    for _, x_shape, w_shape, stride, padding in cases:
        x_h, w_h, b_h = _case(rng, x_shape, w_shape)
        S, P = (1, 0) if stride is None else (stride, padding)
        x, w, b = device(x_h), device(w_h), device(b_h)
        out, cache = layers.conv2d_forward(x, w, b, stride=S, padding=P)
        dout_h = rng.standard_normal(out.shape)
        dout = device(dout_h)
        want_dx, want_dw, want_db = layers.conv2d_backward(dout, cache)
        kwargs = _kwargs(stride, padding)
        text = describe_call("conv_backward_naive", ("dout", dout), ("x", x), ("w", w), **kwargs)
        result = call(conv_backward_naive, text, dout, x, w, **kwargs)
        for label, host, arr in (("dout", dout_h, dout), ("x", x_h, x), ("w", w_h, w)):
            require_unchanged(host, arr, text, label)
        dx, dw, db = _result_triple(result, text, x, w)
        N, C, H, W = x_h.shape
        F = w_h.shape[0]
        for what, got in (("dx", dx), ("dw", dw), ("db", db)):
            require_array(got, text, what, x)
        compare_array(dx, want_dx, text, "dx", mistakes=[
            ((N, C, H + 2 * P, W + 2 * P), tr("dx has the padded input's shape: cut the padding off, the "
                                              "first and last {P} rows and columns of dxpad", P=P)),
        ], fallback=tr("every output position adds w[f] * dout[n, f, i, j] onto the input window it came from; "
                       "where windows overlap the contributions add up (+=)"))
        compare_array(dw, want_dw, text, "dw", factor_hints={
            1 / N: tr("dw is divided by N: the 1/N of a mean belongs to the loss, here sum over the batch"),
        }, fallback=tr("dw[f] is the sum over n, i, j of dout[n, f, i, j] times the input window at (i, j)"))
        db_shapes = [(N, F), (F, N), (N, F, 1, 1), (1, F, 1, 1), (F, 1), tuple(np.shape(dout_h)[1:])]
        per_filter = tr("db has one entry per filter: sum dout over every axis but the filter axis, the batch "
                        "and both spatial axes")
        compare_array(db, want_db, text, "db", mistakes=[(shape, per_filter) for shape in db_shapes] + [
            (backend.to_numpy(want_db) / (N * out.shape[2] * out.shape[3]),
             tr("db is a mean; it is the sum of dout over the batch and both spatial axes"))],
            factor_hints={1 / N: tr("db is divided by N: sum dout over the batch, do not average")})
    return passed("conv_backward_naive", [c[0] for c in cases])
