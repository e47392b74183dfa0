"""Checks for notebooks 06 and 09: max pooling forward and backward, and measuring shift equivariance."""
from __future__ import annotations

import numpy as np

from cnnbook import backend, layers
from cnnbook.course.exercises._common import (ExerciseError, call, compare_array, describe_call, device, passed,
                                       require_array, require_callable, require_unchanged, rng_for)
from cnnbook.course.language import tr


def _cases():
    """(description, x shape, kernel_size, stride); stride "default" means the learner's default is used."""
    return [
        (tr("2x2 windows, default stride"), (2, 3, 4, 4), 2, "default"),
        (tr("non-square 6x8 images, 2x2 windows, stride=2"), (1, 2, 6, 8), 2, 2),
        (tr("overlapping 3x3 windows, stride=2"), (2, 2, 5, 7), 3, 2),
        (tr("overlapping 3x3 windows, stride=1"), (1, 3, 5, 5), 3, 1),
        (tr("3x3 windows, stride=None"), (1, 2, 6, 9), 3, None),
    ]


def _call_args(kernel_size, stride):
    return {"kernel_size": kernel_size} if stride == "default" else {"kernel_size": kernel_size, "stride": stride}


def _windows(x_h, k, s):
    """Host loop over pooling windows: yields ``(i, j, window (N, C, k, k))`` with its top-left at (i*s, j*s)."""
    N, C, H, W = x_h.shape
    for i in range((H - k) // s + 1):
        for j in range((W - k) // s + 1):
            yield i, j, x_h[:, :, i * s:i * s + k, j * s:j * s + k]


def _backward_variant(dout_h, x_h, k, s, accumulate=True, spread=False):
    """A host max-pool backward, right (``accumulate``) or with a learner's mistake."""
    N, C = x_h.shape[:2]
    dx = np.zeros_like(x_h)
    for i, j, win in _windows(x_h, k, s):
        flat = win.reshape(N, C, k * k)
        mask = (flat == flat.max(axis=2, keepdims=True)).reshape(N, C, k, k)
        grad = (np.ones_like(mask, dtype=float) if spread else mask) * dout_h[:, :, i, j][:, :, None, None]
        target = dx[:, :, i * s:i * s + k, j * s:j * s + k]
        if accumulate:
            target += grad
        else:
            target[mask] = grad[mask]
    return dx


def _pool(x_h, k, s, how):
    try:
        forward = layers.max_pool2d_forward if how == "max" else layers.avg_pool2d_forward
        return forward(x_h, kernel_size=k, stride=s)[0]
    except ValueError:
        return None


def check_max_pool_forward(max_pool_forward) -> bool:
    """Check ``max_pool_forward(x, kernel_size=2, stride=None) -> out`` against ``layers.max_pool2d_forward``."""
    require_callable(max_pool_forward, "check_max_pool_forward", "max_pool_forward(x, kernel_size, stride)")
    rng = rng_for("max_pool_forward")
    cases = _cases()
    for _, shape, k, stride in cases:
        s = k if stride in (None, "default") else stride
        x_h = rng.permutation(np.prod(shape)).reshape(shape) / 10.0 - 2.0  # distinct values: one max per window
        x = device(x_h)
        kwargs = _call_args(k, stride)
        text = describe_call("max_pool_forward", ("x", x), **kwargs)
        out = call(max_pool_forward, text, x, **kwargs)
        require_unchanged(x_h, x, text, "x")
        require_array(out, text, "out", x)
        want, _ = layers.max_pool2d_forward(x, kernel_size=k, stride=s)
        N, C, Ho, Wo = want.shape
        H, W = shape[2:]
        mistakes = []
        if stride in (None, "default"):
            mistakes.append(((N, C, H - k + 1, W - k + 1), tr("stride=None means stride = kernel_size (windows "
                             "side by side, as in PyTorch), not stride 1")))
        if s != k:
            for wrong_s in (k, 1):
                mistakes.append(((N, C, (H - k) // wrong_s + 1, (W - k) // wrong_s + 1),
                                 tr("is the stride used? The windows move {s} pixel(s) at a time", s=s)))
        mistakes += [(_pool(x_h, k, s, "avg"), tr("these are the window means (average pooling); take the "
                                                  "maximum")),
                     (-_pool(-x_h, k, s, "max"), tr("these are the window minima; take the maximum")),
                     ((N, 1, Ho, Wo), tr("pool each channel on its own: the max runs over a window's rows and "
                                         "columns, not over channels")),
                     ((N, C, Ho - 1, Wo - 1), tr("the output is one row and column short: there are "
                                                 "(H - kernel_size) // stride + 1 window positions"))]
        compare_array(out, want, text, "out", mistakes=[(m, h) for m, h in mistakes if m is not None],
                      fallback=tr("out[n, c, i, j] is the max of x[n, c] over the window starting at row "
                                  "i*stride, column j*stride"))
    return passed("max_pool_forward", [c[0] for c in cases])


def check_max_pool_backward(max_pool_backward) -> bool:
    """Check ``max_pool_backward(dout, x, kernel_size=2, stride=None) -> dx``, overlapping windows included."""
    require_callable(max_pool_backward, "check_max_pool_backward", "max_pool_backward(dout, x, kernel_size, stride)")
    rng = rng_for("max_pool_backward")
    cases = _cases()
    for _, shape, k, stride in cases:
        s = k if stride in (None, "default") else stride
        x_h = rng.permutation(np.prod(shape)).reshape(shape) / 10.0 - 2.0
        x = device(x_h)
        out, cache = layers.max_pool2d_forward(x, kernel_size=k, stride=s)
        dout_h = rng.standard_normal(out.shape)
        dout = device(dout_h)
        want = layers.max_pool2d_backward(dout, cache)
        kwargs = _call_args(k, stride)
        text = describe_call("max_pool_backward", ("dout", dout), ("x", x), **kwargs)
        dx = call(max_pool_backward, text, dout, x, **kwargs)
        require_unchanged(x_h, x, text, "x")
        require_unchanged(dout_h, dout, text, "dout")
        require_array(dx, text, "dx", x)
        mistakes = [
            (tuple(out.shape), tr("dx has the output's shape; it must have the input's shape, x.shape")),
            (_backward_variant(dout_h, x_h, k, s, accumulate=False),
             tr("where windows overlap, one pixel can be the max of several windows: add their gradients "
                "(dx[...] += ...) instead of overwriting")),
            (_backward_variant(dout_h, x_h, k, s, spread=True),
             tr("dout goes to every pixel of the window; it must go only to the pixel that was the max")),
            (_backward_variant(np.ones_like(dout_h), x_h, k, s),
             tr("dx marks where the maxima are but does not carry dout: multiply the mask by dout[n, c, i, j]")),
            (layers.avg_pool2d_backward(dout_h, layers.avg_pool2d_forward(x_h, kernel_size=k, stride=s)[1]),
             tr("dout is spread evenly over the window (that is average pooling); route it to the max only")),
        ]
        compare_array(dx, want, text, "dx", mistakes=mistakes,
                      fallback=tr("each dout[n, c, i, j] goes to the position of the max of its window; where "
                                  "windows overlap the contributions add up"))
    return passed("max_pool_backward", [c[0] for c in cases])


def _same_conv(rng, C, bias: bool):
    """A 'same'-padded 3x3 convolution followed by ReLU, as a feature function on the default backend."""
    w = device(rng.standard_normal((4, C, 3, 3)))
    b = device(rng.standard_normal(4) if bias else np.zeros(4))

    def feature_fn(x):
        out, _ = layers.conv2d_forward(x, backend.to_device(w, backend.get_array_module(x)),
                                       backend.to_device(b, backend.get_array_module(x)), stride=1, padding=1)
        return backend.get_array_module(out).maximum(out, 0)
    return feature_fn


def _add_column_index(x):
    xp = backend.get_array_module(x)
    return x + xp.arange(x.shape[-1], dtype=x.dtype)


def _add_spike(x):
    xp = backend.get_array_module(x)
    spike = xp.zeros(x.shape[-1], dtype=x.dtype)
    spike[x.shape[-1] // 2] = 1.0
    return x + spike


def _number(value, text):
    if value is None:
        raise ExerciseError(tr("{call} returned None; return the largest absolute difference, one number",
                               call=text))
    try:
        host = backend.to_numpy(value)
    except Exception:
        raise ExerciseError(tr("{call} returned a {kind}; return one number",
                               call=text, kind=type(value).__name__)) from None
    if host.size != 1:
        raise ExerciseError(tr("{call} returned an array of shape {shape}; return one number, the largest "
                               "absolute difference: float(abs(a - b).max())", call=text, shape=host.shape))
    return float(host.reshape(()))


def check_equivariance(shift_error) -> bool:
    """Check ``shift_error(feature_fn, x, k) -> float`` on feature functions whose answer is known."""
    require_callable(shift_error, "check_equivariance", "shift_error(feature_fn, x, k)")
    rng = rng_for("equivariance")
    x_h = rng.standard_normal((2, 3, 8, 16))
    x = device(x_h)
    cases = [(tr("the identity"), lambda a: a, 2, 0.0,
              tr("the identity is shift-equivariant, so the difference must be 0: shift x and the features the "
                 "same way, by k pixels to the right")),
             (tr("ReLU (pointwise)"), lambda a: backend.get_array_module(a).maximum(a, 0), 1, 0.0,
              tr("a pointwise function is shift-equivariant, so the difference must be 0")),
             (tr("a 'same'-padded 3x3 conv + ReLU, no bias"), _same_conv(rng, 3, bias=False), 1, 0.0,
              tr("a convolution is shift-equivariant away from the borders; compare only the interior, leaving "
                 "out k columns at each side where the zero padding and the zeros shifted in differ (shift by "
                 "filling zeros in on the left, not with np.roll, which wraps the right edge around)")),
             (tr("a 'same'-padded 3x3 conv with bias + ReLU"), _same_conv(rng, 3, bias=True), 2, 0.0,
              tr("a convolution is shift-equivariant away from the borders; compare only the interior, leaving "
                 "out k columns at each side (with a bias, the zeros shifted in do not stay zero)")),
             (tr("adding the column index (not equivariant)"), _add_column_index, 3, 3.0,
              tr("adding the column index changes every value by exactly k under a shift by k, so the answer is "
                 "k; compare feature_fn(shift(x, k)) with shift(feature_fn(x), k)")),
             (tr("adding a spike at the centre column (not equivariant)"), _add_spike, 2, 1.0,
              tr("the features differ by 1 at the spike: return the largest absolute difference (max), not a "
                 "mean or a sum"))]
    for name, feature_fn, k, want, hint in cases:
        text = tr("shift_error(feature_fn, x {shape}, k={k}) with feature_fn = {name}",
                  shape=x_h.shape, k=k, name=name)
        got = _number(call(shift_error, text, feature_fn, x, k), text)
        require_unchanged(x_h, x, text, "x")
        if np.isclose(got, want, rtol=1e-6, atol=1e-6):
            continue
        if np.isclose(got, -want, rtol=1e-6):
            hint = tr("the sign is wrong: take the absolute value of the differences")
        elif want and np.isclose(got, 0.0, atol=1e-9):
            hint = tr("your function says 0 for a feature that is not shift-equivariant: are both sides really "
                      "computed, feature_fn(shift(x, k)) and shift(feature_fn(x), k)?")
        raise ExerciseError(tr("{call} returned {got:.6g}, expected {want:g}: {hint}",
                               call=text, got=got, want=want, hint=hint))
    return passed("shift_error", [c[0] for c in cases])
