"""Output sizes and receptive fields: the arithmetic of stacking convolutions and pools."""
from __future__ import annotations

from cnnbook.course.language import N_, tr
from cnnbook.layers._checks import as_int

# The words conv_output_size's callers pass as ``what``, for the catalog: an error message shows them translated.
WHAT = (N_("input"), N_("height"), N_("width"))


def _fitting_paddings(input_size, kernel_size, stride, padding, limit=2):
    """The few paddings nearest ``padding`` that make ``(W - K + 2P) / S`` a whole number >= 0."""
    candidates = sorted(range(0, padding + 2 * stride + kernel_size + 1), key=lambda p: (abs(p - padding), p))
    found = []
    for p in candidates:
        span = input_size - kernel_size + 2 * p
        if p != padding and span >= 0 and span % stride == 0:
            found.append(tr("padding={padding} (gives {size})", padding=p, size=span // stride + 1))
    return found[:limit]


def _fitting_strides(span, stride, limit=2):
    strides = [s for s in range(1, max(span, 1) + 1) if s != stride and span % s == 0]
    strides.sort(key=lambda s: abs(s - stride))  # prefer strides close to the one asked for
    return [tr("stride={stride} (gives {size})", stride=s, size=span // s + 1) for s in strides[:limit]]


def conv_output_size(input_size, kernel_size, stride=1, padding=0, what: str = "input", *, dilation=1) -> int:
    """Side length of a convolution's (or pool's) output: ``(W - K + 2P) / S + 1``.

    With ``dilation`` D > 1 the kernel's taps sit D pixels apart, so it spans ``K_eff = D (K - 1) + 1``
    pixels and ``K_eff`` replaces ``K`` in the formula.

    Args:
        input_size: ``W``, the input's height or width in pixels (int >= 1).
        kernel_size: ``K``, the filter's height or width (int >= 1).
        stride: ``S`` (int >= 1).
        padding: ``P``, zeros added on each side (int >= 0).
        what: a word for error messages ("height", "width").
        dilation: ``D``, pixels between neighbouring kernel taps (int >= 1; 1 is an ordinary convolution).

    Raises ``ValueError`` when the kernel does not fit the padded input, or when the
    stride does not divide ``W - K + 2P`` (the last window would hang off the edge);
    the message shows the numbers and suggests paddings or strides that fit.
    """
    W = as_int(input_size, "input_size", 1)
    K = as_int(kernel_size, "kernel_size", 1)
    S = as_int(stride, "stride", 1)
    P = as_int(padding, "padding", 0)
    D = as_int(dilation, "dilation", 1)
    K = D * (K - 1) + 1  # the span of the dilated kernel; K itself when D = 1
    span = W - K + 2 * P
    sym = "H" if what == "height" else "W"
    kname = "K" if D == 1 else "K_eff"
    formula = f"({sym} - {kname} + 2P) / S + 1 = ({W} - {K} + 2*{P}) / {S} + 1"
    if span < 0:
        fits = _fitting_paddings(W, K, S, P)
        kernel = (tr("kernel {size}", size=K) if D == 1 else
                  tr("dilated kernel {size} ({taps} taps, dilation {dilation})", size=K, taps=kernel_size,
                     dilation=D))
        numbers = dict(what=tr(what), kernel=kernel, padded=W + 2 * P, W=W, P=P, formula=formula)
        if fits:
            raise ValueError(tr("{what}: {kernel} is larger than the padded {what} {padded} ({W} + 2*{P} padding): "
                                "{formula} < 1; use a kernel <= {padded} or {fit}", fit=fits[0], **numbers))
        raise ValueError(tr("{what}: {kernel} is larger than the padded {what} {padded} ({W} + 2*{P} padding): "
                            "{formula} < 1; use a kernel <= {padded}", **numbers))
    if span % S != 0:
        options = _fitting_paddings(W, K, S, P) + _fitting_strides(span, S)
        hint = tr("; try {options}", options=tr(" or ").join(options)) if options else ""
        raise ValueError(tr("{what}: {formula} = {value:g} is not a whole number, so the last window would hang "
                            "off the edge{hint}", what=tr(what), formula=formula, value=span / S + 1, hint=hint))
    return span // S + 1


def window(offset: int, size: int, step: int) -> slice:
    """The input rows (or columns) that kernel offset ``offset`` meets over ``size`` outputs at stride ``step``:
    ``slice(offset, offset + step * (size - 1) + 1, step)``, one row per output. ``x[:, :, window(di, Ho, S),
    window(dj, Wo, S)]`` is ``(N, C, Ho, Wo)``: for every output position, the input pixel under kernel tap ``(di, dj)``.
    """
    return slice(offset, offset + step * (size - 1) + 1, step)


def receptive_field(layers, *, dilation=1) -> int:
    """Side length, in input pixels, of the patch that one unit of the last layer sees.

    Args:
        layers: a sequence of ``(kernel_size, stride)`` pairs, first layer first
            (padding does not change the size, only where the patch sits); a
            ``(kernel_size, stride, dilation)`` triple gives that layer its own dilation.
        dilation: the dilation of every layer given as a pair (int >= 1; 1: ordinary convolutions).

    Each layer adds ``(K - 1)`` times the product of the strides before it:
    ``RF = 1 + sum_i (K_i - 1) * S_1 * ... * S_{i-1}``; a dilated layer adds ``D_i (K_i - 1)`` times it
    (its kernel spans ``D (K - 1) + 1`` pixels). An empty sequence gives 1.
    """
    try:
        pairs = list(layers)
    except TypeError:
        raise TypeError(tr("layers must be a sequence of (kernel_size, stride) pairs, got {kind}",
                           kind=type(layers).__name__)) from None
    default_d = as_int(dilation, "dilation", 1)
    field, jump = 1, 1  # jump: input pixels between neighbouring units of the current layer
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) not in (2, 3):
            raise ValueError(tr("layers[{i}] must be a (kernel_size, stride) pair or a (kernel_size, stride, "
                                "dilation) triple, got {pair!r}", i=i, pair=pair))
        k = as_int(pair[0], f"layers[{i}] kernel_size", 1)
        s = as_int(pair[1], f"layers[{i}] stride", 1)
        d = as_int(pair[2], f"layers[{i}] dilation", 1) if len(pair) == 3 else default_d
        field += d * (k - 1) * jump
        jump *= s
    return field
