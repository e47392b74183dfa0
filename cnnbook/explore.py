"""Plain functions behind the explorers: they compute every number and sentence a widget shows.

The widgets in :mod:`cnnbook.widgets` only read sliders, call these functions and display the result,
so everything a learner sees is unit-tested here (tests/test_explore.py) without a browser.

* :func:`output_size_report` - the stride/padding/output-size explorer: the formula with numbers filled
  in, whether it divides evenly, what a flooring framework silently drops, and settings that fit.
* :data:`KERNELS`, :func:`parse_kernel`, :func:`activation_map` - the kernel explorer.
* :func:`receptive_field_growth`, :func:`parse_layers`, :func:`check_layers`, :func:`input_region` - the
  receptive-field explorer.
* :func:`pool_map` - the pooling explorer.
* :func:`dilate_kernel`, :func:`compose_convolutions` - convolution variants: a dilated kernel as an
  ordinary one with zeros between its taps, and two stacked convolutions as one.

"Convolution" means cross-correlation here, as in CS231n and PyTorch: the kernel is not flipped.

Every sentence is written through :func:`cnnbook.course.language.tr`, so the Korean edition shows it in Korean
(the catalog ``cnnbook/course/locale/ko/explorers.po``); the numbers and formulas are the same in both.

The explorers list every window they draw, so their sizes are bounded: :func:`output_size_report`
refuses numbers above :data:`MAX_SIZE` (:func:`cnnbook.layers.conv_output_size` computes the size
alone, for any numbers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from cnnbook.backend import get_array_module
from cnnbook.course.language import N_, tr
from cnnbook.layers import avg_pool2d_forward, conv2d_forward, max_pool2d_forward, receptive_field
from cnnbook.layers.checks import whole_number
from cnnbook.layers.sizes import fitting_settings

MAX_SIZE = 10_000
"""Largest input size, kernel size, stride, padding or dilation :func:`output_size_report` accepts:
it lists every window start and searches nearby settings, work that grows with these numbers."""

MAX_KERNEL_TAPS = 1_000_000
"""Largest number of kernel taps (``kernel_size ** 2``) :func:`kernel_taps` lists."""


def _size(value, name: str, minimum: int) -> int:
    """``value`` as :func:`cnnbook.layers.checks.whole_number` checks it, and at most :data:`MAX_SIZE`."""
    value = whole_number(value, name, minimum)
    if value > MAX_SIZE:
        raise ValueError(tr("{name}={value} is above the explorer's limit of {maximum:,} (it lists every window); "
                            "for the output size alone use cnnbook.layers.conv_output_size, which has no limit",
                            name=name, value=value, maximum=MAX_SIZE))
    return value


# ---------------------------------------------------------------- output size
@dataclass
class OutputSizeReport:
    """Everything the stride/padding explorer shows, for one side of a square input.

    ``numerator`` is ``W - K_eff + 2P`` with ``K_eff = D (K - 1) + 1`` the dilated kernel's extent.
    ``fits`` is True when the numerator is >= 0 and divisible by the stride; ``output_size`` is the
    floored result a framework such as PyTorch computes (0 when the kernel does not fit at all).
    ``starts`` are the padded-input coordinates where each kernel window begins.
    ``dropped`` counts padded-input pixels at the right/bottom that no window covers;
    ``dropped_input`` counts how many of them are real input pixels (not padding).
    ``suggestions`` are ``(padding, stride, output_size)`` triples that divide evenly
    (:func:`cnnbook.layers.sizes.fitting_settings`, which ``conv_output_size``'s error suggests too).
    """

    input_size: int
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    effective_kernel: int
    numerator: int
    fits: bool
    output_size: int
    starts: list = field(default_factory=list)
    dropped: int = 0
    dropped_input: int = 0
    suggestions: list = field(default_factory=list)
    formula: str = ""
    message: str = ""

    @property
    def padded_size(self) -> int:
        return self.input_size + 2 * self.padding


def output_size_report(input_size, kernel_size, stride=1, padding=0, dilation=1) -> OutputSizeReport:
    """The output size of a convolution or pooling along one side, with the explanation a learner reads.

    ``(W - K + 2P) / S + 1`` (with ``K`` replaced by ``D (K - 1) + 1`` when ``dilation`` D > 1).
    Never raises for a setting that does not divide: it says so and suggests one that does, because
    that is what the explorer must show. Bad types, negative numbers or numbers above :data:`MAX_SIZE`
    raise ``TypeError``/``ValueError``.
    """
    W = _size(input_size, "input_size", minimum=1)
    K = _size(kernel_size, "kernel_size", minimum=1)
    S = _size(stride, "stride", minimum=1)
    P = _size(padding, "padding", minimum=0)
    D = _size(dilation, "dilation", minimum=1)
    K_eff = D * (K - 1) + 1
    num = W - K_eff + 2 * P
    fits = num >= 0 and num % S == 0
    out = num // S + 1 if num >= 0 else 0
    kname = f"K={K}" if D == 1 else tr("K_eff={K_eff} (K={K}, dilation {D})", K_eff=K_eff, K=K, D=D)
    formula = f"(W - K + 2P) / S + 1 = ({W} - {K_eff} + 2*{P}) / {S} + 1 = {num}/{S} + 1"
    starts = [i * S for i in range(out)]
    dropped = num - (out - 1) * S if num >= 0 else 0
    dropped_input = max(0, dropped - P)
    sugg = fitting_settings(W, K_eff, S, P)
    if num < 0:
        formula += " < 1"
        message = tr("The kernel ({kname}) is larger than the padded input ({W} + 2*{P} = {padded} pixels): "
                     "no output at all. Use more padding or a smaller kernel.", kname=kname, W=W, P=P,
                     padded=W + 2 * P)
    elif fits:
        formula += f" = {out}"
        message = tr("Output size {out} x {out}: {out} kernel positions along each side, {S} pixel(s) apart.",
                     out=out, S=S)
    else:
        formula += tr(" = {value:.2f} (not a whole number)", value=num / S + 1)
        tips = (tr(" or ").join(tr("padding {p}, stride {s} (output {o})", p=p, s=s, o=o) for p, s, o in sugg)
                or tr("another setting"))
        message = tr("Does not fit: {num} is not divisible by stride {S}. A framework that floors the result "
                     "(PyTorch, TensorFlow 'valid') silently returns {out} and never looks at the last "
                     "{dropped} column(s) and row(s) of the padded input ({dropped_input} of them real "
                     "input pixels). Try {tips}.", num=num, S=S, out=out, dropped=dropped,
                     dropped_input=dropped_input, tips=tips)
    return OutputSizeReport(W, K, S, P, D, K_eff, num, fits, out, starts, dropped, dropped_input,
                            sugg, formula, message)


def kernel_taps(report: OutputSizeReport, position: int) -> list:
    """``(row, col)`` padded-input coordinates the kernel covers at output cell ``position`` (row-major)."""
    n = report.output_size
    position = whole_number(position, "position", minimum=0)
    if report.kernel_size ** 2 > MAX_KERNEL_TAPS:
        raise ValueError(tr("a {k}x{k} kernel has more than {limit:,} taps to list; kernel_taps is for drawing "
                            "small kernels", k=report.kernel_size, limit=MAX_KERNEL_TAPS))
    if n == 0 or position >= n * n:
        raise ValueError(tr("position {position} is outside the {n} x {n} output; use 0..{last}",
                            position=position, n=n, last=max(n * n - 1, 0)))
    r0, c0 = report.starts[position // n], report.starts[position % n]
    taps = [r * report.dilation for r in range(report.kernel_size)]
    return [(r0 + dr, c0 + dc) for dr in taps for dc in taps]


# ---------------------------------------------------------------- kernels
KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "vertical edge": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "horizontal edge": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}
"""Hand-made 3x3 kernels (Sobel edges, box blur, sharpen); rows top to bottom. The keys are names code uses;
:func:`kernel_label` gives the one a learner reads."""

KERNEL_LABELS = {"identity": N_("identity"), "vertical edge": N_("vertical edge"),
                 "horizontal edge": N_("horizontal edge"), "blur": N_("blur"), "sharpen": N_("sharpen")}


def kernel_label(name: str) -> str:
    """The name of preset kernel ``name`` (a key of :data:`KERNELS`) in the learner's language."""
    return tr(KERNEL_LABELS[name]) if name in KERNEL_LABELS else name


def kernel_text(kernel) -> str:
    """A kernel as the editable text the explorer shows: rows on lines, numbers split by spaces."""
    k = np.asarray(kernel, dtype=float)
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in k)


def parse_kernel(text: str) -> np.ndarray:
    """A square kernel from text: rows split by newlines or ``;``, numbers by spaces or commas.

    ``"1 0 -1; 2 0 -2; 1 0 -1"`` gives a 3x3 float64 array. ``ValueError`` names what is wrong.
    """
    if not isinstance(text, str):
        raise TypeError(tr("kernel text must be a str, got {kind}", kind=type(text).__name__))
    rows = [r for r in re.split(r"[;\n]", text) if r.strip()]
    values = []
    for i, row in enumerate(rows):
        try:
            values.append([float(v) for v in re.split(r"[,\s]+", row.strip())])
        except ValueError:
            raise ValueError(tr("row {row} of the kernel, {text!r}, holds something that is not a number; "
                                "write numbers split by spaces, e.g. '1 0 -1'", row=i + 1, text=row.strip())) from None
    n = len(values)
    if n == 0 or any(len(r) != n for r in values):
        raise ValueError(tr("the kernel must be square (3 rows of 3 numbers, say); got rows of lengths {lengths}",
                            lengths=[len(r) for r in values]))
    return np.array(values)


def explain_kernel(kernel) -> str:
    """One sentence on what a kernel does to flat regions, from the sum of its weights."""
    k = np.asarray(kernel, dtype=float)
    total = float(k.sum())
    if abs(total) < 1e-4:
        what = tr("a flat patch gives 0, so the map lights up only where brightness changes (an edge detector)")
    elif abs(total - 1) < 1e-4:
        what = tr("a flat patch keeps its brightness (blur, sharpen and identity kernels sum to 1)")
    else:
        what = tr("a flat patch comes out {total:.3g} times as bright", total=total)
    return tr("weights sum to {total:.3g}: {what}.", total=total, what=what)


def activation_map(image, kernel, stride=1, padding=0):
    """Slide ``kernel`` over a grey ``image`` and return the activation map, on the image's backend.

    image: ``(H, W)``; kernel: ``(KH, KW)`` (a list or a host array is moved to the image's device).
    Returns ``(Ho, Wo)`` computed by :func:`cnnbook.layers.conv2d_forward` with zero bias.
    """
    xp = get_array_module(image)
    if getattr(image, "ndim", None) != 2:
        raise ValueError(tr("image must be a 2-D grey image (H, W), got shape {shape}; "
                            "average the colour channels first, e.g. image.mean(axis=0)",
                            shape=getattr(image, "shape", None)))
    k = xp.asarray(np.asarray(kernel, dtype=np.float64), dtype=image.dtype)
    if k.ndim != 2:
        raise ValueError(tr("kernel must be 2-D (KH, KW), got shape {shape}", shape=k.shape))
    out, _ = conv2d_forward(image[None, None], k[None, None], xp.zeros(1, dtype=image.dtype),
                            stride=stride, padding=padding)
    return out[0, 0]


# ---------------------------------------------------------------- receptive field
def parse_layers(text: str) -> list:
    """Layers from text such as ``"3,1 3,1 2,2"`` or ``"(3, 1), (2, 2)"``: ``[(kernel, stride), ...]``."""
    if not isinstance(text, str):
        raise TypeError(tr("layers text must be a str, got {kind}", kind=type(text).__name__))
    pairs = re.findall(r"(-?\d+)\s*[,x/]\s*(-?\d+)", text)
    leftover = re.sub(r"(-?\d+)\s*[,x/]\s*(-?\d+)|[\s(),\[\];]", "", text)
    if not pairs or leftover:
        raise ValueError(tr("could not read layers from {text!r}; write kernel,stride pairs like '3,1 3,1 2,2'",
                            text=text))
    layers = [(int(k), int(s)) for k, s in pairs]
    check_layers(layers)
    return layers


def check_layers(layers) -> list:
    """``layers`` as a list of ``(kernel_size, stride)`` tuples of whole numbers >= 1; ``TypeError``/``ValueError``
    naming the bad layer otherwise."""
    try:
        layers = [tuple(layer) for layer in layers]
    except TypeError:
        raise TypeError(tr("layers must be a sequence of (kernel_size, stride) pairs, got {layers!r}",
                           layers=layers)) from None
    for i, layer in enumerate(layers):
        if len(layer) != 2:
            raise ValueError(tr("layer {i} is {layer!r}; each layer is a (kernel_size, stride) pair", i=i,
                                layer=layer))
        whole_number(layer[0], f"layers[{i}] kernel_size", minimum=1)
        whole_number(layer[1], f"layers[{i}] stride", minimum=1)
    return layers


@dataclass
class ReceptiveFieldStep:
    """One layer of a stack: its receptive field (input pixels per side) and jump (input pixels between
    neighbouring units)."""

    layer: int
    kernel_size: int
    stride: int
    field: int
    jump: int


def receptive_field_growth(layers) -> list:
    """Receptive field after each layer, first layer first, as :class:`ReceptiveFieldStep` items.

    ``field`` comes from :func:`cnnbook.layers.receptive_field` on the first ``i + 1`` layers;
    ``jump`` is the product of the strides so far (how far apart neighbouring units look).
    """
    layers = check_layers(layers)
    steps, jump = [], 1
    for i, (k, s) in enumerate(layers):
        jump *= s
        steps.append(ReceptiveFieldStep(i + 1, k, s, receptive_field(layers[: i + 1]), jump))
    return steps


def input_region(layers, unit: int) -> tuple:
    """``(start, stop)`` input pixels (one side, no padding) seen by unit ``unit`` of the last layer."""
    layers = check_layers(layers)
    unit = whole_number(unit, "unit", minimum=0)
    jump = int(np.prod([s for _, s in layers])) if layers else 1
    start = unit * jump
    return start, start + receptive_field(layers)


def output_length(input_size: int, layers) -> int:
    """Units per side after the stack on an ``input_size`` input (no padding, flooring like PyTorch)."""
    n = whole_number(input_size, "input_size", minimum=1)
    for i, (k, s) in enumerate(check_layers(layers)):
        if n < k:
            raise ValueError(tr("layer {layer} (kernel {k}) does not fit on its {n}-pixel input; "
                                "use a larger input than {input_size} or fewer layers",
                                layer=i + 1, k=k, n=n, input_size=input_size))
        n = (n - k) // s + 1
    return n


# ---------------------------------------------------------------- pooling
def pool_map(x, kernel_size=2, stride=None, mode="max"):
    """Pool a 2-D map ``x`` ``(H, W)``; return ``(out (Ho, Wo), report dict)`` on ``x``'s backend.

    The report holds ``input_shape``, ``output_shape``, ``kernel_size``, ``stride``, ``mode``, the
    ``reduction`` in values (``H*W / (Ho*Wo)``), ``dropped`` (rows, columns no window reaches: pooling
    floors the size, as in PyTorch) and a ``text`` line for the explorer.
    Uses :func:`cnnbook.layers.max_pool2d_forward` / ``avg_pool2d_forward``.
    """
    if getattr(x, "ndim", None) != 2:
        raise ValueError(tr("x must be a 2-D map (H, W), got shape {shape}", shape=getattr(x, "shape", None)))
    stride = kernel_size if stride is None else stride
    reports = [output_size_report(side, kernel_size, stride) for side in x.shape]
    for side, report in zip(x.shape, reports):
        if report.output_size < 1:
            raise ValueError(tr("pooling window {k} is larger than the map's side {side}; use a smaller window",
                                k=kernel_size, side=side))
    if mode == "max":
        forward = max_pool2d_forward
    elif mode == "avg":
        forward = avg_pool2d_forward
    else:
        raise ValueError(tr("mode must be 'max' or 'avg', got {mode!r}", mode=mode))
    out, _ = forward(x[None, None], kernel_size=kernel_size, stride=stride)
    out = out[0, 0]
    H, W = x.shape
    Ho, Wo = out.shape
    text = tr("{mode} pooling {k}x{k}, stride {stride}: ({H}, {W}) → ({Ho}, {Wo}), {ratio:.1f}x fewer values",
              mode=pooling_mode(mode), k=kernel_size, stride=stride, H=H, W=W, Ho=Ho, Wo=Wo,
              ratio=H * W / (Ho * Wo))
    dropped = (reports[0].dropped, reports[1].dropped)
    if any(dropped):
        text += tr(". The windows do not tile the map: the last {rows} row(s) and {cols} column(s) are never "
                   "pooled (the size is floored, as in PyTorch)", rows=dropped[0], cols=dropped[1])
    return out, {"input_shape": (H, W), "output_shape": (Ho, Wo), "kernel_size": kernel_size,
                 "stride": stride, "mode": mode, "reduction": H * W / (Ho * Wo), "dropped": dropped,
                 "text": text}


POOLING_MODES = {"max": N_("max"), "avg": N_("avg")}


def pooling_mode(mode: str) -> str:
    """``"max"`` or ``"avg"`` as the learner reads it (the code's values stay ``"max"``/``"avg"``)."""
    return tr(POOLING_MODES[mode]) if mode in POOLING_MODES else mode


# ---------------------------------------------------------------- kernels: dilation and composition
def dilate_kernel(w, dilation):
    """The dilated kernel as an ordinary one: ``w`` ``(F, C, KH, KW)`` with ``dilation - 1`` zeros between taps.

    Returns ``(F, C, D (KH - 1) + 1, D (KW - 1) + 1)`` on ``w``'s backend; a convolution with it is the
    dilated convolution (``torch.nn.Conv2d(..., dilation=D)``), so its output size is
    ``conv_output_size(W, K, S, P, dilation=D)``.
    """
    D = whole_number(dilation, "dilation", minimum=1)
    if getattr(w, "ndim", None) != 4:
        raise ValueError(tr("w must be conv weights (F, C, KH, KW), got shape {shape}",
                            shape=getattr(w, "shape", None)))
    xp = get_array_module(w)
    F, C, KH, KW = w.shape
    out = xp.zeros((F, C, D * (KH - 1) + 1, D * (KW - 1) + 1), dtype=w.dtype)
    out[:, :, ::D, ::D] = w
    return out


def compose_convolutions(w1, b1, w2, b2):
    """One convolution ``(w, b)`` equal to ``conv(w2, b2)`` applied after ``conv(w1, b1)`` (stride 1, no padding).

    ``w1`` ``(F1, C, K1H, K1W)``, ``w2`` ``(F2, F1, K2H, K2W)`` give ``w`` ``(F2, C, K1H + K2H - 1, K1W + K2W - 1)``:
    ``w[g, c]`` is the sum over ``f`` of the full (flipped) convolution of ``w2[g, f]`` with ``w1[f, c]``
    (``scipy.signal.convolve2d(w2[g, f], w1[f, c], mode="full")``), because
    ``sum_a w2[a] sum_b w1[b] x[i + a + b] = sum_k (sum_{a + b = k} w2[a] w1[b]) x[i + k]``.
    ``b[g] = b2[g] + sum_f b1[f] * w2[g, f].sum()``. With padding the two differ at the border, where the
    first layer's padded zeros were not convolved.
    """
    for name, a, nd in (("w1", w1, 4), ("b1", b1, 1), ("w2", w2, 4), ("b2", b2, 1)):
        if getattr(a, "ndim", None) != nd:
            raise ValueError(tr("{name} must have {nd} axes, got shape {shape}", name=name, nd=nd,
                                shape=getattr(a, "shape", None)))
    F1, C, K1H, K1W = w1.shape
    F2, F1b, K2H, K2W = w2.shape
    if F1b != F1 or b1.shape != (F1,) or b2.shape != (F2,):
        raise ValueError(tr("shapes do not chain: w1 {w1}, b1 {b1}, w2 {w2}, b2 {b2}; w2 needs {F1} input "
                            "channels (w1's filters) and b1, b2 one bias per filter", w1=tuple(w1.shape),
                            b1=tuple(b1.shape), w2=tuple(w2.shape), b2=tuple(b2.shape), F1=F1))
    xp = get_array_module(w1, w2)
    w = xp.zeros((F2, C, K1H + K2H - 1, K1W + K2W - 1), dtype=w1.dtype)
    for a in range(K2H):
        for c in range(K2W):  # tap (a, c) of the second kernel shifts the first by (a, c)
            w[:, :, a:a + K1H, c:c + K1W] += xp.einsum("gf,fcij->gcij", w2[:, :, a, c], w1)
    b = b2 + w2.sum(axis=(2, 3)) @ b1
    return w, b
