"""Checks for exercises that go past a one-line formula: a receptive field through a dilated stack (05), im2col by
hand (07) and the parameters of a locally connected layer against a convolution's (09)."""
from __future__ import annotations

import numpy as np

from cnnbook import backend
from cnnbook.course.exercises import references
from cnnbook.course.exercises._common import (
    call,
    compare_array,
    describe_call,
    device,
    explain,
    passed,
    require_array,
    require_callable,
    require_count,
    require_unchanged,
    rng_for,
)
from cnnbook.course.exercises.sizes import field_results
from cnnbook.course.language import tr


# ---- 05: the receptive field of a dilated stack --------------------------------------------------
def _dilation_as_stride(stack):
    field, jump = 1, 1
    for k, s, d in stack:
        field += (k - 1) * jump
        jump *= s * d
    return field


def _dilation_own_layer_too(stack):
    field, jump = 1, 1
    for k, s, d in stack:
        jump *= d
        field += (k - 1) * jump
        jump *= s
    return field


def _dilated_mistakes():
    """Plausible wrong receptive fields of a dilated stack, as functions of the stack, with what to tell the learner."""
    return [
        (lambda stack: references.dilated_receptive_field([(k, s, 1) for k, s, _ in stack]),
         tr("the dilations are missing: a K x K kernel with dilation d spans d * (K - 1) + 1 pixels of its input, "
            "so it adds d * (K - 1) times the jump, not K - 1")),
        (lambda stack: references.dilated_receptive_field([(d * k, s, 1) for k, s, d in stack]),
         tr("a dilated kernel spans d * (K - 1) + 1 pixels, not d * K: the gaps lie between the K taps, not after "
            "the last")),
        (_dilation_as_stride,
         tr("dilation is not stride: it spreads one layer's taps apart, widening that layer's span, and leaves the "
            "output as dense as its input, so it does not multiply the jump of later layers")),
        (_dilation_own_layer_too,
         tr("dilation widens its own layer's span (d * (K - 1)), but it does not carry over to later layers: only "
            "strides multiply the jump")),
        (lambda stack: references.dilated_receptive_field([(k, 1, d) for k, _, d in stack]),
         tr("the strides are missing: after a stride-s layer neighbouring units are s input pixels apart, so the "
            "jump multiplies by s")),
        (lambda stack: references.dilated_receptive_field([(k, d, s) for k, s, d in stack]),
         tr("stride and dilation are swapped: each layer is a triple (kernel_size, stride, dilation), in that order")),
        (lambda stack: references.dilated_receptive_field(stack[::-1]),
         tr("you went through the layers last first; the list is first layer first, and each layer's d * (K - 1) is "
            "multiplied by the strides of the layers before it, the ones nearer the input")),
    ]


def check_dilated_receptive_field(dilated_receptive_field) -> bool:
    """Check ``dilated_receptive_field(layers) -> int`` for ``layers`` a list of ``(kernel_size, stride, dilation)``
    triples, first layer first."""
    require_callable(dilated_receptive_field, "check_dilated_receptive_field", "dilated_receptive_field(layers)")
    cases = [(tr("one 3x3 conv, dilation 2"), [(3, 1, 2)]),
             (tr("dilations 1, 2, 4 (a context module)"), [(3, 1, 1), (3, 1, 2), (3, 1, 4)]),
             (tr("no dilation: the plain stack"), [(3, 1, 1), (3, 2, 1), (3, 1, 1)]),
             (tr("stride 2, then dilation 2"), [(3, 2, 1), (3, 1, 2), (3, 1, 1)]),
             (tr("dilation 2 with stride 2, then a 5x5"), [(3, 2, 2), (5, 1, 1)]),
             (tr("pooling, then dilations 2 and 3"), [(3, 1, 1), (2, 2, 1), (3, 1, 2), (3, 1, 3)])]
    results = field_results(dilated_receptive_field, "dilated_receptive_field", cases,
                            references.dilated_receptive_field)
    explain(results, _dilated_mistakes(),
            tr("RF = 1 + sum over layers of d_i * (K_i - 1) * S_1 * ... * S_(i-1)"))
    return passed("dilated_receptive_field", [c[0] for c in cases])


# ---- 07: im2col ----------------------------------------------------------------------------------
def check_im2col(im2col) -> bool:
    """Check ``im2col(x, kernel_size, stride=1, padding=0) -> cols (N, C*K*K, Ho*Wo)``: column ``i * Wo + j``
    holds the window under output position ``(i, j)`` flattened ``(C, K, K)``, so that
    ``w.reshape(F, -1) @ cols`` is the convolution."""
    require_callable(im2col, "check_im2col", "im2col(x, kernel_size, stride, padding)")
    rng = rng_for("im2col")
    cases = [(tr("3x3 windows over a 2-channel 5x6 image"), (2, 2, 5, 6), 3, 1, 0),
             (tr("3x3 windows with padding 1"), (1, 3, 4, 5), 3, 1, 1),
             (tr("2x2 windows, stride 2 (no overlap)"), (2, 2, 6, 8), 2, 2, 0),
             (tr("3x3 windows, stride 2, padding 1"), (1, 2, 7, 9), 3, 2, 1),
             (tr("1x1 windows: one pixel per column"), (2, 4, 3, 2), 1, 1, 0),
             (tr("a 5x5 window covering the whole image"), (3, 1, 5, 5), 5, 1, 0)]
    for _, shape, K, S, P in cases:
        N, C, H, W = shape
        x_h = rng.standard_normal(shape)
        x = device(x_h)
        text = describe_call("im2col", ("x", x), K, stride=S, padding=P)
        out = require_array(call(im2col, text, x, K, stride=S, padding=P), text, "cols", x)
        require_unchanged(x_h, x, text, "x")
        want = references.im2col(x, K, S, P)
        Ho, Wo = (H - K + 2 * P) // S + 1, (W - K + 2 * P) // S + 1
        D, L = C * K * K, Ho * Wo
        grid = backend.to_numpy(want).reshape(N, C, K, K, Ho, Wo)
        batch_first = tr("keep the batch axis first: cols is (N, C*K*K, Ho*Wo), one matrix per image")
        mistakes = [
            ((N, L, D), tr("one column per output position: cols is (N, C*K*K, Ho*Wo), so that w.reshape(F, -1) "
                           "(F, C*K*K) @ cols gives (N, F, Ho*Wo); transpose the last two axes")),
            ((N, C, K, K, Ho, Wo), tr("flatten each window into one column of C*K*K numbers and the positions into "
                                      "Ho*Wo columns: reshape to (N, C*K*K, Ho*Wo)")),
            ((N, D, Ho, Wo), tr("merge the positions into one axis of Ho*Wo columns, row by row")),
            ((N * L, D), batch_first),
            ((D, N * L), batch_first),
            ((N, D, ((H - K) // S + 1) * ((W - K) // S + 1)),
             tr("is the padding applied? Pad x with P zeros on each side of H and W first (xp.pad)")),
            ((N, D, (H + 2 * P - K + 1) * (W + 2 * P - K + 1)),
             tr("is the stride applied? Window (i, j) starts at row i * stride, column j * stride")),
            (grid.transpose(0, 2, 3, 1, 4, 5).reshape(N, D, L),
             tr("each window is flattened (K, K, C), channels last; flatten it (C, K, K), channel first, the order "
                "in which w.reshape(F, -1) flattens a filter (F, C, KH, KW)")),
            (grid.transpose(0, 1, 3, 2, 4, 5).reshape(N, D, L),
             tr("each window is flattened column by column (transposed); flatten it row by row, as "
                "w.reshape(F, -1) does: the row offset di before the column offset dj")),
            (references.im2col(np.pad(x_h, ((0, 0), (0, 0), (P, P), (P, P)), mode="edge"), K, S, 0) if P else None,
             tr("the padding repeats the edge pixels; pad with zeros, as the instructions say (xp.pad's default "
                "mode, 'constant')")),
            (grid.transpose(0, 1, 2, 3, 5, 4).reshape(N, D, L),
             tr("the positions are numbered column by column; number them row by row, column = i * Wo + j, the "
                "order in which (N, F, Ho*Wo).reshape(N, F, Ho, Wo) reads them")),
        ]
        compare_array(out, want, text, "cols", [(m, hint) for m, hint in mistakes if m is not None],
                      fallback=tr("column i * Wo + j holds the K x K window of the zero-padded image whose top-left "
                                  "corner is at row i * stride, column j * stride, all channels, flattened (C, K, K)"))
    return passed("im2col", [c[0] for c in cases])


# ---- 09: a locally connected layer's parameters ----------------------------------------------------
def _out(W: int, K: int, S: int, P: int) -> int:
    return (W - K + 2 * P) // S + 1


def _local_mistakes():
    """Plausible wrong counts as functions of (C, F, K, W, S, P), with what to tell the learner."""
    return [
        (lambda C, F, K, W, S, P: F * (C * K * K + 1),
         tr("that is the convolution's count, one filter shared by all positions; a locally connected layer has "
            "its own filters at every one of the Ho x Wo output positions")),
        (lambda C, F, K, W, S, P: W * W * F * (C * K * K + 1),
         tr("count the positions of the output, Ho x Wo with Ho = (W - K + 2P) / S + 1, not the pixels of the "
            "input")),
        (lambda C, F, K, W, S, P: _out(W, K, S, P) ** 2 * F * C * K * K + F,
         tr("the bias is not shared either: one bias per output value, F * Ho * Wo of them")),
        (lambda C, F, K, W, S, P: _out(W, K, S, P) ** 2 * F * C * K * K,
         tr("the biases are missing: one per output value, F * Ho * Wo of them")),
        (lambda C, F, K, W, S, P: _out(W, K, S, 0) ** 2 * F * (C * K * K + 1),
         tr("is the padding counted in the output size? Ho = (W - K + 2P) / S + 1")),
        (lambda C, F, K, W, S, P: _out(W, K, 1, P) ** 2 * F * (C * K * K + 1),
         tr("is the stride used in the output size? Ho = (W - K + 2P) / S + 1")),
        (lambda C, F, K, W, S, P: _out(W, K, S, P) ** 2 * F * (K * K + 1),
         tr("each filter spans all input channels: in_channels * K * K weights, not K * K")),
        (lambda C, F, K, W, S, P: _out(W, K, S, P) * F * (C * K * K + 1),
         tr("the output has Ho x Wo positions (square here): multiply by both sides, not one")),
    ]


def check_local_param_count(local_param_count) -> bool:
    """Check ``local_param_count(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0) -> int``:
    the weights and biases of a locally connected layer on square ``input_size x input_size`` images."""
    require_callable(local_param_count, "check_local_param_count",
                     "local_param_count(in_channels, out_channels, kernel_size, input_size, stride, padding)")
    cases = [(tr("notebook 09's layer: 1 -> 16, 3x3, 28x28, padding 1"), (1, 16, 3, 28), {"padding": 1}),
             (tr("3 -> 8, 5x5 on 32x32, no padding"), (3, 8, 5, 32), {}),
             (tr("2 -> 4, 3x3 on 11x11, stride 2"), (2, 4, 3, 11), {"stride": 2}),
             (tr("8 -> 2, 3x3 on 9x9, stride 2, padding 1"), (8, 2, 3, 9), {"stride": 2, "padding": 1}),
             (tr("a 1x1 layer: 16 -> 32 on 7x7"), (16, 32, 1, 7), {}),
             (tr("one window covering the image: 4 -> 3, 6x6 on 6x6"), (4, 3, 6, 6), {})]
    results = []
    for _, (C, F, K, W), kwargs in cases:
        S, P = kwargs.get("stride", 1), kwargs.get("padding", 0)
        text = describe_call("local_param_count", C, F, K, W, **kwargs)
        got = require_count(call(local_param_count, text, C, F, K, W, **kwargs), text, tr("the parameter count"))
        results.append((text, got, references.local_param_count(C, F, K, W, S, P), (C, F, K, W, S, P)))
    explain(results, _local_mistakes(), tr("every output position (i, j) has its own F filters of "
                                           "in_channels * K * K weights, and every output value its own bias: "
                                           "Ho * Wo * F * (in_channels * K * K + 1)"))
    return passed("local_param_count", [c[0] for c in cases])


__all__ = ["check_dilated_receptive_field", "check_im2col", "check_local_param_count"]
