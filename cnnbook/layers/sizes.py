"""Output sizes and receptive fields: the arithmetic of stacking convolutions and pools."""
from __future__ import annotations

from cnnbook.course.language import N_, tr
from cnnbook.layers import checks

# The words conv_output_size's callers pass as ``what``, for the catalog: an error message shows them translated.
WHAT = (N_("input"), N_("height"), N_("width"))


def fitting_settings(input_size: int, kernel_size: int, stride: int, padding: int) -> list:
    """Settings near ``(padding, stride)`` at which a kernel of ``kernel_size`` pixels (a dilated kernel: its span)
    fits ``input_size`` exactly: ``(padding, stride, output_size)`` triples, in this order, each when one exists:

    * the next padding up and the next padding down (stride kept);
    * the next stride down and the next stride up, to at most twice the stride (padding kept).

    Empty when the setting already fits and nothing else near it does. The one source of the fixes that
    :func:`conv_output_size`'s error and the stride/padding explorer (:func:`cnnbook.explore.output_size_report`)
    suggest. The arguments are ints (``W``, ``K``, ``S`` >= 1, ``P`` >= 0), as :func:`conv_output_size` checks them.
    """
    W, K, S, P = input_size, kernel_size, stride, padding
    found = []
    lowest = max(P + 1, -(-(K - W) // 2))  # the kernel fits the padded input from this padding on
    for p in range(lowest, lowest + S):  # 2p mod S repeats after S paddings: none further up fits
        if (W - K + 2 * p) % S == 0:
            found.append((p, S, (W - K + 2 * p) // S + 1))
            break
    for p in range(P - 1, -1, -1):
        span = W - K + 2 * p
        if span < 0:
            break
        if span % S == 0:
            found.append((p, S, span // S + 1))
            break
    span = W - K + 2 * P
    if span >= 0:
        for strides in (range(S - 1, 0, -1), range(S + 1, 2 * S + 1)):
            s = next((s for s in strides if span % s == 0), None)
            if s is not None:
                found.append((P, s, span // s + 1))
    return found


def _fixes(settings, padding: int) -> list:
    """The words for :func:`fitting_settings`' triples: ``padding=1 (gives 4)``, ``stride=1 (gives 6)``."""
    return [tr("padding={padding} (gives {size})", padding=p, size=size) if p != padding else
            tr("stride={stride} (gives {size})", stride=s, size=size) for p, s, size in settings]


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
    W = checks.whole_number(input_size, "input_size", minimum=1)
    K = checks.whole_number(kernel_size, "kernel_size", minimum=1)
    S = checks.whole_number(stride, "stride", minimum=1)
    P = checks.whole_number(padding, "padding", minimum=0)
    D = checks.whole_number(dilation, "dilation", minimum=1)
    K = D * (K - 1) + 1  # the span of the dilated kernel; K itself when D = 1
    span = W - K + 2 * P
    sym = "H" if what == "height" else "W"
    kname = "K" if D == 1 else "K_eff"
    formula = f"({sym} - {kname} + 2P) / S + 1 = ({W} - {K} + 2*{P}) / {S} + 1"
    if span < 0:
        fixes = _fixes(fitting_settings(W, K, S, P), P)  # at most a padding up: nothing else near this one fits
        kernel = (tr("kernel {size}", size=K) if D == 1 else
                  tr("dilated kernel {size} ({taps} taps, dilation {dilation})", size=K, taps=kernel_size,
                     dilation=D))
        numbers = dict(what=tr(what), kernel=kernel, padded=W + 2 * P, W=W, P=P, formula=formula)
        if fixes:
            raise ValueError(tr("{what}: {kernel} is larger than the padded {what} {padded} ({W} + 2*{P} padding): "
                                "{formula} < 1; use a kernel <= {padded} or {fit}", fit=fixes[0], **numbers))
        raise ValueError(tr("{what}: {kernel} is larger than the padded {what} {padded} ({W} + 2*{P} padding): "
                            "{formula} < 1; use a kernel <= {padded}", **numbers))
    if span % S != 0:
        fixes = _fixes(fitting_settings(W, K, S, P), P)
        hint = tr("; try {options}", options=tr(" or ").join(fixes)) if fixes else ""
        raise ValueError(tr("{what}: {formula} = {value:g} is not a whole number, so the last window would hang "
                            "off the edge{hint}", what=tr(what), formula=formula, value=span / S + 1, hint=hint))
    return span // S + 1


def window(offset: int, size: int, step: int) -> slice:
    """The input rows (or columns) that kernel offset ``offset`` meets over ``size`` outputs at stride ``step``:
    ``slice(offset, offset + step * (size - 1) + 1, step)``, one row per output. So
    ``x[:, :, window(di, Ho, S), window(dj, Wo, S)]`` is ``(N, C, Ho, Wo)``: for every output position, the input
    pixel under kernel tap ``(di, dj)``.
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
    default_d = checks.whole_number(dilation, "dilation", minimum=1)
    field, jump = 1, 1  # jump: input pixels between neighbouring units of the current layer
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) not in (2, 3):
            raise ValueError(tr("layers[{i}] must be a (kernel_size, stride) pair or a (kernel_size, stride, "
                                "dilation) triple, got {pair!r}", i=i, pair=pair))
        k = checks.whole_number(pair[0], f"layers[{i}] kernel_size", minimum=1)
        s = checks.whole_number(pair[1], f"layers[{i}] stride", minimum=1)
        d = checks.whole_number(pair[2], f"layers[{i}] dilation", minimum=1) if len(pair) == 3 else default_d
        field += d * (k - 1) * jump
        jump *= s
    return field
