"""Checks for notebooks 06 and 09: max pooling forward and backward, and measuring shift equivariance."""
from __future__ import annotations

import numpy as np

from cnnbook import backend, layers
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
    """(description, x shape, kernel_size, stride, values); stride "default" means the learner's default is used;
    values: "distinct" (one max per window), "negative" (all below 0) or "ties" (a few repeated values)."""
    return [
        (tr("2x2 windows, default stride"), (2, 3, 4, 4), 2, "default", "distinct"),
        (tr("non-square 6x8 images, 2x2 windows, stride=2"), (1, 2, 6, 8), 2, 2, "distinct"),
        (tr("overlapping 3x3 windows, stride=2"), (2, 2, 5, 7), 3, 2, "distinct"),
        (tr("overlapping 3x3 windows, stride=1"), (1, 3, 5, 5), 3, 1, "distinct"),
        (tr("3x3 windows, stride=None"), (1, 2, 6, 9), 3, None, "distinct"),
        (tr("2x2 windows on 5x7 images: the last row and column are left out (// rounds down)"), (1, 2, 5, 7), 2, 2,
         "distinct"),
        (tr("images with only negative values"), (1, 2, 4, 6), 2, 2, "negative"),
        (tr("windows with ties, several pixels equal to the max"), (2, 2, 4, 6), 2, 2, "ties"),
    ]


def _values(rng, shape, kind):
    if kind == "ties":
        return rng.integers(0, 3, size=shape).astype(np.float64)
    x = rng.permutation(np.prod(shape)).reshape(shape) / 10.0  # distinct values: one max per window
    return -1.0 - x if kind == "negative" else x - 2.0


def _call_args(kernel_size, stride):
    return {"kernel_size": kernel_size} if stride == "default" else {"kernel_size": kernel_size, "stride": stride}


def _windows(x_h, k, s):
    """Host loop over pooling windows: yields ``(i, j, window (N, C, k, k))`` with its top-left at (i*s, j*s)."""
    N, C, H, W = x_h.shape
    for i in range((H - k) // s + 1):
        for j in range((W - k) // s + 1):
            yield i, j, x_h[:, :, i * s:i * s + k, j * s:j * s + k]


def _routed_to_one(dout_h, x_h, k, s, last: bool):
    """A host max-pool backward that sends each window's gradient to one maximum: the first or the last on ties."""
    N, C = x_h.shape[:2]
    dx = np.zeros_like(x_h)
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i, j, win in _windows(x_h, k, s):
        flat = win.reshape(N, C, k * k)
        where = k * k - 1 - flat[:, :, ::-1].argmax(axis=2) if last else flat.argmax(axis=2)
        np.add.at(dx, (n, c, i * s + where // k, j * s + where % k), dout_h[:, :, i, j])
    return dx


def _backward_variant(dout_h, x_h, k, s, accumulate=True, spread=False):
    """A host max-pool backward with a learner's mistake (``accumulate``: every tied maximum gets the gradient)."""
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
    for _, shape, k, stride, values in cases:
        s = k if stride in (None, "default") else stride
        x_h = _values(rng, shape, values)
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
                     (np.maximum(backend.to_numpy(want), 0), tr("where every value of a window is negative, its max "
                                                                 "is negative, not 0: start from the window's own "
                                                                 "values (or -inf), not from zeros")),
                     ((N, 1, Ho, Wo), tr("pool each channel on its own: the max runs over a window's rows and "
                                         "columns, not over channels")),
                     ((N, C, Ho - 1, Wo - 1), tr("the output is one row and column short: there are "
                                                 "(H - kernel_size) // stride + 1 window positions")),
                     ((N, C, Ho + 1, Wo + 1), tr("the output is one row and column too big: a window that would hang "
                                                 "off the edge is left out, Ho = (H - kernel_size) // stride + 1 "
                                                 "rounds down"))]
        compare_array(out, want, text, "out", mistakes=[(m, h) for m, h in mistakes if m is not None],
                      fallback=tr("out[n, c, i, j] is the max of x[n, c] over the window starting at row "
                                  "i*stride, column j*stride"))
    return passed("max_pool_forward", [c[0] for c in cases])


def check_max_pool_backward(max_pool_backward) -> bool:
    """Check ``max_pool_backward(dout, x, kernel_size=2, stride=None) -> dx``, overlapping windows included."""
    require_callable(max_pool_backward, "check_max_pool_backward", "max_pool_backward(dout, x, kernel_size, stride)")
    rng = rng_for("max_pool_backward")
    cases = _cases()
    for _, shape, k, stride, values in cases:
        s = k if stride in (None, "default") else stride
        x_h = _values(rng, shape, values)
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
            (_backward_variant(dout_h, x_h, k, s),
             tr("where several pixels of a window tie for the max, the gradient goes to the first of them only (the "
                "first in reading order, row by row, as argmax picks it), not to each of them")),
            (_routed_to_one(dout_h, x_h, k, s, last=True),
             tr("on a tie the gradient goes to the first maximum of the window in reading order (row by row, as "
                "argmax picks it), not the last")),
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


def _recording(feature_fn, seen: list):
    """``feature_fn`` that also keeps a host copy of every input it is given, to see how the learner shifted x."""
    def recorded(a):
        seen.append(backend.to_numpy(a).copy())
        return feature_fn(a)
    return recorded


def _shifted(x_h, k, axis, how):
    """``x_h`` moved ``k`` pixels along ``axis`` (positive: right or down): zeros filled in, or wrapped round."""
    if how == "roll":
        return np.roll(x_h, k, axis=axis)
    out = np.zeros_like(x_h)
    size = x_h.shape[axis]
    src = [slice(None)] * x_h.ndim
    dst = [slice(None)] * x_h.ndim
    src[axis], dst[axis] = (slice(0, size - k), slice(k, size)) if k > 0 else (slice(-k, size), slice(0, size + k))
    out[tuple(dst)] = x_h[tuple(src)]
    return out


def _given(seen, a) -> bool:
    return any(b.shape == a.shape and np.allclose(b, a, rtol=0, atol=1e-12) for b in seen)


def _check_shift_direction(seen, x_h, k, text) -> None:
    """The instructions fix the shift: ``k`` pixels to the right (along W), zeros filled in. A shift to the
    left gives the same numbers for these feature functions, and one down or round gives numbers whose hint
    would mislead, so look at what feature_fn was given."""
    if _given(seen, _shifted(x_h, k, -1, "zeros")):
        return
    wrong_ways = [(_shifted(x_h, -k, -1, "zeros"),
                   tr("x is shifted to the left; the exercise shifts it k pixels to the right, so that column j "
                      "moves to column j + k")),
                  (_shifted(x_h, k, -1, "roll"),
                   tr("the shift wraps the last columns round to the left edge (np.roll); fill the k columns it "
                      "opens with zeros instead")),
                  (_shifted(x_h, -k, -1, "roll"),
                   tr("x is rolled to the left; shift it k pixels to the right and fill the columns it opens with "
                      "zeros")),
                  (_shifted(x_h, k, -2, "zeros"),
                   tr("x is shifted down, along the rows; the exercise shifts it to the right, along the last axis "
                      "(W, the columns)")),
                  (_shifted(x_h, -k, -2, "zeros"),
                   tr("x is shifted up, along the rows; the exercise shifts it to the right, along the last axis "
                      "(W, the columns)"))]
    hint = next((h for shifted, h in wrong_ways if _given(seen, shifted)), None)
    if hint:
        raise ExerciseError(tr("{call} did not give feature_fn the shifted x the exercise asks for: {hint}",
                               call=text, hint=hint))


def _require_shifted_input(unshifted) -> None:
    """Right numbers without ever computing feature_fn(shift(x, k)) are luck: ``unshifted`` holds those calls."""
    if unshifted:
        text = unshifted[0]
        raise ExerciseError(tr("{call} did not give feature_fn the shifted x the exercise asks for: none of the "
                               "inputs feature_fn was given is x shifted k pixels to the right with zeros filled in "
                               "on the left; are both sides really computed, feature_fn(shift(x, k)) and "
                               "shift(feature_fn(x), k)?", call=text))


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
    unshifted = []
    for name, feature_fn, k, want, hint in cases:
        text = tr("shift_error(feature_fn, x {shape}, k={k}) with feature_fn = {name}",
                  shape=x_h.shape, k=k, name=name)
        seen = []
        got = _number(call(shift_error, text, _recording(feature_fn, seen), x, k), text)
        require_unchanged(x_h, x, text, "x")
        _check_shift_direction(seen, x_h, k, text)
        if np.isclose(got, want, rtol=1e-6, atol=1e-6):
            if not _given(seen, _shifted(x_h, k, -1, "zeros")):
                unshifted.append(text)
            continue
        if np.isclose(got, -want, rtol=1e-6):
            hint = tr("the sign is wrong: take the absolute value of the differences")
        elif want and np.isclose(got, 0.0, atol=1e-9):
            hint = tr("your function says 0 for a feature that is not shift-equivariant: are both sides really "
                      "computed, feature_fn(shift(x, k)) and shift(feature_fn(x), k)?")
        raise ExerciseError(tr("{call} returned {got:.6g}, expected {want:g}: {hint}",
                               call=text, got=got, want=want, hint=hint))
    _require_shifted_input(unshifted)
    return passed("shift_error", [c[0] for c in cases])
