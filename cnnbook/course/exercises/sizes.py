"""Checks for notebooks 04 and 05: output sizes, a small architecture, receptive fields."""
from __future__ import annotations

import re

import numpy as np

from cnnbook import backend, layers
from cnnbook.course.exercises._common import (
    ExerciseError,
    call,
    describe_call,
    device,
    explain,
    module_name,
    passed,
    require_callable,
    require_count,
    rng_for,
)
from cnnbook.course.language import tr


def _size_mistakes():
    """Plausible wrong formulas for the output size, as functions of (W, K, S, P), with what to tell the learner."""
    return [
        (lambda W, K, S, P: (W - K) // S + 1, tr("is the padding counted? It adds 2P: (W - K + 2P) / S + 1")),
        (lambda W, K, S, P: (W - K + P) // S + 1, tr("the padding goes on both sides, so it adds 2P, not P")),
        (lambda W, K, S, P: (W - K + 2 * P) // S, tr("the + 1 is missing: a window at the first position counts "
                                                     "too")),
        (lambda W, K, S, P: W - K + 2 * P + 1, tr("is the stride used? The span (W - K + 2P) is divided by the "
                                                  "stride")),
        (lambda W, K, S, P: (W + K + 2 * P) // S + 1, tr("the kernel size is subtracted, not added: "
                                                         "(W - K + 2P) / S + 1")),
        (lambda W, K, S, P: (W - K + 2 * P + 1) // S, tr("the + 1 comes after the division: (W - K + 2P) / S + 1")),
    ]


def check_conv_output_size(conv_output_size) -> bool:
    """Check ``conv_output_size(input_size, kernel_size, stride=1, padding=0) -> int``."""
    require_callable(conv_output_size, "check_conv_output_size",
                     "conv_output_size(input_size, kernel_size, stride, padding)")
    cases = [(tr("a 3x3 conv with padding 1 keeps 32"), (32, 3), {"padding": 1}),
             (tr("a 5x5 conv, default stride and padding"), (28, 5), {}),
             (tr("stride 2 with padding 1"), (7, 3), {"stride": 2, "padding": 1}),
             (tr("AlexNet's first layer, 11x11 stride 4"), (227, 11), {"stride": 4, "padding": 0}),
             (tr("a 4x4 kernel, stride 2, padding 1"), (10, 4), {"stride": 2, "padding": 1}),
             (tr("a 1x1 conv"), (14, 1), {})]
    results = []
    for _, (W, K), kwargs in cases:
        S, P = kwargs.get("stride", 1), kwargs.get("padding", 0)
        text = describe_call("conv_output_size", W, K, **kwargs)
        got = require_count(call(conv_output_size, text, W, K, **kwargs), text, tr("the output size"))
        results.append((text, got, layers.conv_output_size(W, K, S, P), (W, K, S, P)))
    explain(results, _size_mistakes(), tr("the formula is (W - K + 2P) / S + 1"))
    misfits = [(tr("ValueError for a stride that does not divide W - K + 2P"), (28, 3), {"stride": 2, "padding": 0}),
               (tr("ValueError for a kernel larger than the padded input"), (3, 5), {})]
    for _, (W, K), kwargs in misfits:
        _require_value_error(conv_output_size, W, K, kwargs.get("stride", 1), kwargs.get("padding", 0))
    return passed("conv_output_size", [c[0] for c in cases + misfits])


def _require_value_error(conv_output_size, W, K, S, P) -> None:
    """The instructions: when the kernel does not fit or the stride does not divide, raise a ValueError that
    shows the numbers. A misfit that returns a number, or raises another error, fails."""
    kwargs = {"stride": S, "padding": P} if (S, P) != (1, 0) else {}
    text = describe_call("conv_output_size", W, K, **kwargs)
    span = W - K + 2 * P
    if span < 0:
        why = tr("a {K}-wide kernel does not fit in {W} pixels padded by {P} on each side, so the output size "
                 "(W - K + 2P) / S + 1 = {size:g} is less than 1", K=K, W=W, P=P, size=span / S + 1)
    else:
        why = tr("(W - K + 2P) / S + 1 = ({W} - {K} + {twoP}) / {S} + 1 = {size:g} is not a whole number: the last "
                 "window would hang off the edge", W=W, K=K, twoP=2 * P, S=S, size=span / S + 1)
    try:
        value = conv_output_size(W, K, **kwargs)
    except NotImplementedError:
        raise
    except ValueError as exc:
        numbers = {W, K, abs(span)} | ({S} if S != 1 else set()) | ({P, W + 2 * P} if P else set())
        if not any(re.search(rf"(?<![\d.]){n}(?!\d)", str(exc)) for n in numbers):
            raise ExerciseError(tr("{call} raised ValueError({message!r}); the instructions ask for a message that "
                                   "shows the numbers, e.g. the input size {W} and the kernel size {K}, so that "
                                   "whoever reads it sees what does not fit", call=text, message=str(exc), W=W,
                                   K=K)) from None
        return
    except Exception as exc:
        raise ExerciseError(tr("{call} raised {error}; {why}, and the instructions ask for a ValueError there",
                               call=text, error=type(exc).__name__, why=why)) from exc
    raise ExerciseError(tr("{call} returned {value!r}, but {why}: raise ValueError there, with a message that shows "
                           "the numbers", call=text, value=value, why=why))


def _layer_counts(model):
    from cnnbook import nn
    found = list(model.modules()) if isinstance(model, nn.Module) else []
    convs = [m for m in found if isinstance(m, nn.Conv2d)]
    pools = [m for m in found if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
    return convs, pools


def _check_stages(model, convs, pools) -> None:
    """The layers the instructions name: two stages of 3x3 conv with same padding, ReLU, 2x2 max pooling,
    with 8 then 16 filters. The output shape alone lets average pooling, a model without ReLU or 5x5 filters
    through."""
    from cnnbook import nn
    leaves = [m for m in model.modules() if not list(m.named_children())]  # the layers, Sequential unpacked
    averages = [m for m in pools if isinstance(m, nn.AvgPool2d)]
    if averages:
        raise ExerciseError(tr("the model pools with {kind}; the exercise asks for 2x2 max pooling (nn.MaxPool2d(2)), "
                               "which keeps the strongest response of each window instead of the mean",
                               kind=type(averages[0]).__name__))
    relus = [m for m in leaves if isinstance(m, nn.ReLU)]
    if len(relus) < 2:
        raise ExerciseError(tr("the model has {count} ReLU layers; the exercise asks for each stage to be a Conv2d, "
                               "then a ReLU, then a MaxPool2d. The ReLU is the stage's nonlinearity: max pooling "
                               "alone passes negative values on (notebook 06)",
                               count=len(relus)))
    for i, conv in enumerate(convs):
        if tuple(conv.kernel_size) != (3, 3):
            raise ExerciseError(tr("Conv2d number {i} has kernel_size {k}; the exercise asks for 3x3 convolutions",
                                   i=i + 1, k=conv.kernel_size[0] if conv.kernel_size[0] == conv.kernel_size[1]
                                   else tuple(conv.kernel_size)))
        if (conv.stride, conv.padding) != (1, 1):
            raise ExerciseError(tr("Conv2d number {i} has stride={stride}, padding={padding}; 'same' padding for a "
                                   "3x3 convolution is stride=1, padding=1, so that the convolutions keep the size "
                                   "and only the pooling shrinks it", i=i + 1, stride=conv.stride,
                                   padding=conv.padding))
    for i, pool in enumerate(pools):
        if (pool.kernel_size, pool.stride or pool.kernel_size) != (2, 2):
            raise ExerciseError(tr("MaxPool2d number {i} has kernel_size={k}, stride={s}; the exercise asks for "
                                   "2x2 max pooling with stride 2, MaxPool2d(2)", i=i + 1, k=pool.kernel_size,
                                   s=pool.stride or pool.kernel_size))
    if [c.out_channels for c in convs] != [8, 16]:
        raise ExerciseError(tr("the convolutions have {first} and {second} filters; the exercise asks for 8 in the "
                               "first and 16 in the second", first=convs[0].out_channels,
                               second=convs[1].out_channels))
    names = [type(m).__name__ for m in leaves]
    if names != ["Conv2d", "ReLU", "MaxPool2d"] * 2:
        raise ExerciseError(tr("the layers are {names}; the exercise asks for exactly two stages, each Conv2d, ReLU, "
                               "MaxPool2d in this order", names=", ".join(names)))


def check_architecture(build_model) -> bool:
    """Check ``build_model() -> nn.Sequential`` maps ``(N, 1, 28, 28)`` to ``(N, 16, 7, 7)`` in two conv+pool stages."""
    from cnnbook import nn
    require_callable(build_model, "check_architecture", "build_model()")
    text = "build_model()"
    model = call(build_model, text)
    if model is None:
        raise ExerciseError(tr("build_model() returned None; end it with `return model` (an nn.Sequential)"))
    if not isinstance(model, nn.Module):
        raise ExerciseError(tr("build_model() returned a {kind}; return a model built from cnnbook.nn modules, "
                               "e.g. nn.Sequential(nn.Conv2d(...), nn.ReLU(), nn.MaxPool2d(2), ...)",
                               kind=type(model).__name__))
    rng = rng_for("architecture")
    x_h = rng.standard_normal((3, 1, 28, 28)).astype(np.float32)
    x = device(x_h)
    model.to(backend_name=backend.get_array_module(x))
    call_text = tr("model(x) with x of shape (3, 1, 28, 28)")
    out = call(model, call_text, x)
    shape = tuple(np.shape(out))
    if len(shape) != 4:
        raise ExerciseError(tr("{call} gives shape {shape}; the model should end at a feature map (N, 16, 7, 7): "
                               "leave out Flatten and Linear here", call=call_text, shape=shape))
    _, F, H, W = shape
    if (H, W) != (7, 7):
        if (H, W) == (28, 28):
            hint = tr("nothing shrinks the image: each MaxPool2d(2) halves height and width, and two take 28 to 7")
        elif (H, W) == (14, 14):
            hint = tr("one pooling halves 28 to 14; a second conv+pool stage takes it to 7")
        elif H < 7:
            hint = tr("the convolutions shrink the image too: give each Conv2d padding=(kernel_size - 1) // 2, "
                      "e.g. kernel_size=3, padding=1, so only the pooling changes the size")
        else:
            hint = tr("two 2x2 max-poolings (stride 2) take 28 to 14 to 7, with size-keeping convolutions")
        raise ExerciseError(tr("{call} gives shape {shape}, expected (3, 16, 7, 7): {hint}",
                               call=call_text, shape=shape, hint=hint))
    if F != 16:
        raise ExerciseError(tr("{call} gives {F} channels, expected 16: the last Conv2d's out_channels sets the "
                               "number of feature maps", call=call_text, F=F))
    convs, pools = _layer_counts(model)
    if len(convs) != 2 or len(pools) != 2:
        raise ExerciseError(tr("the model has {convs} Conv2d and {pools} pooling layer(s); the exercise asks "
                               "for two stages, each a Conv2d (then ReLU) followed by a MaxPool2d",
                               convs=len(convs), pools=len(pools)))
    _check_stages(model, convs, pools)
    if backend.get_array_module(out) is not backend.get_array_module(x):
        raise ExerciseError(tr("{call} returned a {got} array for {given} input", call=call_text,
                               got=module_name(backend.get_array_module(out)),
                               given=module_name(backend.get_array_module(x))))
    dx = call(model.backward, tr("model.backward(dout) with dout of shape (3, 16, 7, 7)"),
              device(rng.standard_normal(shape).astype(np.float32)))
    if tuple(np.shape(dx)) != x_h.shape:
        raise ExerciseError(tr("model.backward(dout) gives shape {got}, expected {want}",
                               got=tuple(np.shape(dx)), want=x_h.shape))
    return passed("build_model", ["(3, 1, 28, 28) -> (3, 16, 7, 7)",
                                  tr("two stages of 3x3 Conv2d with same padding, ReLU and 2x2 MaxPool2d, with 8 "
                                     "then 16 filters"),
                                  tr("backward runs")])



def field_results(fn, name, cases, reference):
    """Run the learner's ``fn`` on each case's layer list (a fresh copy, which it must not change); returns
    ``(call text, its answer, the reference answer, (stack,))`` rows for
    :func:`~cnnbook.course.exercises._common.explain`."""
    results = []
    for _, stack in cases:
        given = [tuple(t) for t in stack]
        text = f"{name}({stack})"
        got = require_count(call(fn, text, given), text, tr("the receptive field"))
        if given != stack:
            raise ExerciseError(tr("{call} changed the list it was given; read the layers without modifying them",
                                   call=text))
        results.append((text, got, reference(stack), (stack,)))
    return results


def check_receptive_field(receptive_field) -> bool:
    """Check ``receptive_field(layers) -> int`` for ``layers`` a list of ``(kernel_size, stride)`` pairs."""
    require_callable(receptive_field, "check_receptive_field", "receptive_field(layers)")
    cases = [(tr("one 3x3 conv"), [(3, 1)]),
             (tr("three stacked 3x3 convs (VGG)"), [(3, 1), (3, 1), (3, 1)]),
             (tr("conv, 2x2 pool, conv"), [(3, 1), (2, 2), (3, 1)]),
             (tr("LeNet: 5x5 conv, pool, 5x5 conv, pool"), [(5, 1), (2, 2), (5, 1), (2, 2)]),
             (tr("a strided stem: 7x7 stride 2, 3x3 stride 2, two 3x3"), [(7, 2), (3, 2), (3, 1), (3, 1)])]
    results = field_results(receptive_field, "receptive_field", cases, layers.receptive_field)
    explain(results, _field_mistakes(), tr("RF = 1 + sum over layers of (K_i - 1) * S_1 * ... * S_(i-1)"))
    return passed("receptive_field", [c[0] for c in cases])


def _own_stride_too(stack):
    field, jump = 1, 1
    for k, s in stack:
        jump *= s
        field += (k - 1) * jump
    return field


def _field_mistakes():
    """Plausible wrong receptive fields, as functions of the layer list, with what to tell the learner."""
    return [
        (lambda stack: 1 + sum(k - 1 for k, _ in stack),
         tr("the strides are missing: after a stride-s layer, neighbouring units are s input pixels apart, so each "
            "later layer adds (K - 1) times the product of the earlier strides")),
        (_own_stride_too, tr("a layer's own stride does not widen its field: multiply (K - 1) by the strides of the "
                             "layers before it only")),
        (lambda stack: int(np.prod([k for k, _ in stack])), tr("kernel sizes do not multiply: each layer adds "
                                                               "(K - 1) * (product of earlier strides), starting "
                                                               "from 1")),
        (lambda stack: sum(k for k, _ in stack), tr("start from 1 and add (K - 1) per layer (times the earlier "
                                                    "strides), not K")),
        (lambda stack: layers.receptive_field(stack[::-1]),
         tr("you went through the layers last first; the list is first layer first, and each layer's (K - 1) is "
            "multiplied by the strides of the layers before it, the ones nearer the input")),
    ]
