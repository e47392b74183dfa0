"""The exercise checks accept right answers and explain plausible wrong ones in words.

Each check gets a learner-style right answer (explicit loops, backend-generic) and wrong answers with a
known mistake; the tests assert the hint that names the mistake.
"""
import re

import numpy as np
import pytest
from exercise_helpers import rejects
from test_exercises_deeper import RIGHT as RIGHT_DEEPER
from test_exercises_models import RIGHT as RIGHT_MORE

from cnnbook import backend, exercises, layers, nn
from cnnbook.course.exercises import ExerciseError
from cnnbook.course.exercises.sizes import _own_stride_too

gam = backend.get_array_module


# ---- learner-style right answers ---------------------------------------------------------------
def softmax_loss(scores, y):
    xp = gam(scores)
    N = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = xp.exp(shifted) / xp.exp(shifted).sum(axis=1, keepdims=True)
    loss = -xp.log(probs[xp.arange(N), y]).mean()
    dscores = probs.copy()
    dscores[xp.arange(N), y] -= 1
    return float(loss), dscores / N


def relu_backward(dout, x):
    return dout * (x > 0)


def sgd_step(w, dw, lr):
    return w - lr * dw


def conv_forward_naive(x, w, b, stride=1, padding=0):
    xp = gam(x)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xpad = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - KH) // stride + 1, (W + 2 * padding - KW) // stride + 1
    out = xp.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            window = xpad[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]  # (N, C, KH, KW)
            out[:, :, i, j] = (window[:, None] * w[None]).sum(axis=(2, 3, 4)) + b
    return out


def conv_backward_naive(dout, x, w, stride=1, padding=0):
    xp = gam(x)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xpad = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxpad, dw = xp.zeros(xpad.shape, dtype=x.dtype), xp.zeros(w.shape, dtype=w.dtype)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + KH), slice(j * stride, j * stride + KW)
            g = dout[:, :, i, j]  # (N, F)
            dxpad[:, :, rows, cols] += (g[:, :, None, None, None] * w[None]).sum(axis=1)
            dw += (g[:, :, None, None, None] * xpad[:, None, :, rows, cols]).sum(axis=0)
    return dxpad[:, :, padding:padding + H, padding:padding + W], dw, dout.sum(axis=(0, 2, 3))


def conv_output_size(input_size, kernel_size, stride=1, padding=0):
    span = input_size - kernel_size + 2 * padding
    if span < 0:
        raise ValueError(f"kernel {kernel_size} is larger than the padded input {input_size + 2 * padding}")
    if span % stride:
        raise ValueError(f"stride {stride} does not fit span {span}")
    return span // stride + 1


def receptive_field(stack):
    field, jump = 1, 1
    for k, s in stack:
        field += (k - 1) * jump
        jump *= s
    return field


def max_pool_forward(x, kernel_size=2, stride=None):
    xp, k = gam(x), kernel_size
    s = k if stride is None else stride
    N, C, H, W = x.shape
    out = xp.zeros((N, C, (H - k) // s + 1, (W - k) // s + 1), dtype=x.dtype)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out


def max_pool_backward(dout, x, kernel_size=2, stride=None, accumulate=True):
    xp, k = gam(x), kernel_size
    s = k if stride is None else stride
    N, C = x.shape[:2]
    n, c = xp.arange(N)[:, None], xp.arange(C)[None, :]
    dx = xp.zeros(x.shape, dtype=x.dtype)  # the CuPy stand-in lacks zeros_like
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            first = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(N, C, k * k).argmax(axis=2)  # (N, C)
            rows, cols = i * s + first // k, j * s + first % k
            if accumulate:
                dx[n, c, rows, cols] += dout[:, :, i, j]
            else:
                dx[n, c, rows, cols] = dout[:, :, i, j]
    return dx


def max_pool_backward_every_tie(dout, x, kernel_size=2, stride=None):
    """Right without ties; on a tie every maximum of the window gets the gradient."""
    xp, k = gam(x), kernel_size
    s = k if stride is None else stride
    dx = xp.zeros(x.shape, dtype=x.dtype)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * s:i * s + k, j * s:j * s + k]
            mask = win == win.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * s:i * s + k, j * s:j * s + k] += mask * dout[:, :, i, j][:, :, None, None]
    return dx


def shift(a, k):
    xp = gam(a)
    out = xp.zeros(a.shape, dtype=a.dtype)
    out[..., k:] = a[..., :a.shape[-1] - k]
    return out


def shift_error(feature_fn, x, k):
    a, b = feature_fn(shift(x, k)), shift(feature_fn(x), k)
    W = a.shape[-1]
    return float(abs(a - b)[..., k:W - k].max())


def kfold_indices(num_samples, k, seed=0):
    order = np.random.default_rng(seed).permutation(num_samples)
    parts = np.array_split(order, k)
    return [(np.concatenate(parts[:i] + parts[i + 1:]), parts[i]) for i in range(k)]


def build_model():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))


RIGHT = [(exercises.check_softmax_loss, softmax_loss), (exercises.check_relu_backward, relu_backward),
         (exercises.check_sgd_step, sgd_step), (exercises.check_conv_forward_naive, conv_forward_naive),
         (exercises.check_conv_output_size, conv_output_size), (exercises.check_architecture, build_model),
         (exercises.check_receptive_field, receptive_field), (exercises.check_max_pool_forward, max_pool_forward),
         (exercises.check_max_pool_backward, max_pool_backward),
         (exercises.check_conv_backward_naive, conv_backward_naive),
         (exercises.check_equivariance, shift_error), (exercises.check_cross_validation, kfold_indices)]
IDS = [check.__name__ for check, _ in RIGHT]
# The checks of notebooks 08, 10 and 11 (tests/test_exercises_models.py) share the generic tests below.
ALL = RIGHT + RIGHT_MORE + RIGHT_DEEPER
ALL_IDS = IDS + [f"{check.__name__}-{fn.__name__}" for check, fn in RIGHT_MORE + RIGHT_DEEPER]


# ---- every check: right answers pass, on every backend; the stub and crashes -----------------
@pytest.mark.parametrize("check, fn", ALL, ids=ALL_IDS)
def test_right_answer_passes_on_every_backend(check, fn, xp, capsys):
    assert check(fn) is fn, "a check hands the learner's function back once it passes"
    out = capsys.readouterr().out
    assert out.startswith("correct: ") and "tip" not in out
    count, listed = re.fullmatch(r"correct: \S+ passed (\d+) hidden test cases \((.*)\)\n", out).groups()
    assert int(count) == len(listed.split("; ")), out  # the count and the list agree


@pytest.mark.parametrize("check, fn", ALL, ids=ALL_IDS)
@pytest.mark.parametrize("message", ["Your turn: the exercise: replace this with your solution",
                                     "직접 해 보기: the exercise: 이 줄을 여러분의 풀이로 바꾸세요", ""],
                         ids=["english-stub", "korean-stub", "nbgrader-stub"])
def test_a_stub_is_not_done_yet_on_stderr_and_the_reference_takes_its_place(check, fn, message, xp, capsys):
    """The student edition's stub, English or Korean (and nbgrader's bare one): no exception, a note on stderr (nbgrader
    scores a test cell with stderr 0), and the package's reference back, which passes the check itself."""
    def stub(*args, **kwargs):
        raise NotImplementedError(message)
    reference = check(stub)
    out, err = capsys.readouterr()
    assert err.startswith("not done yet: ") and "show_solution(" in err and "run on" in err, err
    assert "correct" not in out
    assert callable(reference) and reference is not stub
    assert check(reference) is reference, "the reference handed back must be a right answer"
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("check, fn", ALL, ids=ALL_IDS)
def test_a_notimplementederror_that_is_no_stub_still_fails(check, fn):
    def unfinished(*args, **kwargs):
        raise NotImplementedError("MyLayer must define forward(x)")
    with pytest.raises(NotImplementedError, match="MyLayer must define forward"):
        check(unfinished)


@pytest.mark.parametrize("check, fn", ALL, ids=ALL_IDS)
def test_a_crash_is_shown_with_its_cause(check, fn):
    def crashes(*args, **kwargs):
        return {}["missing key"]
    message = rejects(check, crashes, "raised KeyError", "'missing key'", "traceback above")
    assert "Traceback" not in message


@pytest.mark.parametrize("check, fn", ALL, ids=ALL_IDS)
def test_passing_the_result_instead_of_the_function_is_a_type_error(check, fn):
    with pytest.raises(TypeError, match="pass the function itself"):
        check(42)


def test_exercise_error_is_an_assertion_error():
    assert issubclass(ExerciseError, AssertionError)


# ---- backend mistakes, on the CuPy stand-in ---------------------------------------------------
def test_numpy_result_for_device_input_is_named(xp):
    if xp is np:
        pytest.skip("needs a non-NumPy backend")
    message = rejects(exercises.check_relu_backward, lambda dout, x: backend.to_numpy(dout) * (backend.to_numpy(x) > 0),
                      "returned a numpy array for", "get_array_module(x)")
    assert "cupy" in message


def test_np_zeros_in_a_loop_is_caught_on_the_device_backend(xp):
    if xp is np:
        pytest.skip("needs a non-NumPy backend")

    def uses_np_zeros(x, kernel_size=2, stride=None):
        N, C, H, W = x.shape
        return np.zeros((N, C, H // 2, W // 2))
    rejects(exercises.check_max_pool_forward, uses_np_zeros, "numpy array for")


# ---- per-exercise mistakes ---------------------------------------------------------------------
def test_softmax_loss_mistakes():
    def sum_not_mean(scores, y):
        loss, dscores = softmax_loss(scores, y)
        return loss * scores.shape[0], dscores * scores.shape[0]
    rejects(exercises.check_softmax_loss, sum_not_mean, "sum over the batch", "divide by N")

    def gradient_not_divided(scores, y):
        loss, dscores = softmax_loss(scores, y)
        return loss, dscores * scores.shape[0]
    rejects(exercises.check_softmax_loss, gradient_not_divided, "times the right values", "divide by N")

    def unstable(scores, y):
        xp = gam(scores)
        probs = xp.exp(scores) / xp.exp(scores).sum(axis=1, keepdims=True)
        N = scores.shape[0]
        loss = -xp.log(probs[xp.arange(N), y]).mean()
        dscores = probs.copy()
        dscores[xp.arange(N), y] -= 1
        return float(loss), dscores / N
    with np.errstate(all="ignore"):
        rejects(exercises.check_softmax_loss, unstable, "overflows", "max score before exp")

    def in_place(scores, y):
        scores -= scores.max(axis=1, keepdims=True)
        return softmax_loss(scores, y)
    rejects(exercises.check_softmax_loss, in_place, "changed its input scores in place")
    rejects(exercises.check_softmax_loss, lambda s, y: softmax_loss(s, y)[0], "return a pair (loss, dscores)")
    rejects(exercises.check_softmax_loss, lambda s, y: (gam(s).asarray([softmax_loss(s, y)[0]]), softmax_loss(s, y)[1]),
            "the loss is a ndarray of shape (1,)", "return it as a Python float")
    rejects(exercises.check_softmax_loss, lambda s, y: (softmax_loss(s, y)[0], softmax_loss(s, y)[1].astype("float16")),
            "dscores has dtype float16, expected float64")


def test_relu_backward_mistakes():
    message = rejects(exercises.check_relu_backward, lambda dout, x: dout * (dout > 0),
                      "mask must come from the input x")
    message += rejects(exercises.check_relu_backward, lambda dout, x: dout, "dx equals dout")
    assert "dout * (x > 0)" not in message  # hints, not the solution line
    rejects(exercises.check_relu_backward, lambda dout, x: dout * (x >= 0), "x (2, 6)", "at x == 0", "not x >= 0")
    rejects(exercises.check_relu_backward, lambda dout, x: dout * (x > 0).astype(float), "x (3, 4)",
            "has dtype float64, expected float32", "dtype=x.dtype")
    rejects(exercises.check_relu_backward, lambda dout, x: (dout * (x > 0)).astype("float16"),
            "has dtype float16, expected float64")
    rejects(exercises.check_relu_backward, lambda dout, x: None, "returned None", "return dx")

    def zero_in_place(dout, x):
        dout[x <= 0] = 0
        return dout
    rejects(exercises.check_relu_backward, zero_in_place, "changed its input dout in place")


def test_sgd_step_mistakes():
    def in_place(w, dw, lr):
        w -= lr * dw
        return w
    rejects(exercises.check_sgd_step, in_place, "changed w in place", "must be pure")

    def in_place_no_return(w, dw, lr):
        w -= lr * dw
    rejects(exercises.check_sgd_step, in_place_no_return, "changed w in place")
    rejects(exercises.check_sgd_step, lambda w, dw, lr: w + lr * dw, "against it")
    rejects(exercises.check_sgd_step, lambda w, dw, lr: w - dw, "learning rate")
    rejects(exercises.check_sgd_step, lambda w, dw, lr: (w - lr * dw).astype("float32"),
            "has dtype float32, expected float64")


def test_conv_forward_mistakes():
    def no_padding(x, w, b, stride=1, padding=0):
        return conv_forward_naive(x, w, b, stride=stride, padding=0)
    message = rejects(exercises.check_conv_forward_naive, no_padding, "is the padding applied?")
    assert "out has shape (2, 2, 3, 5), expected (2, 2, 5, 7)" in message

    def no_stride(x, w, b, stride=1, padding=0):
        return conv_forward_naive(x, w, b, stride=1, padding=padding)
    rejects(exercises.check_conv_forward_naive, no_stride, "is the stride applied?")

    def stride_in_size_only(x, w, b, stride=1, padding=0):
        out = conv_forward_naive(x, w, b, stride=1, padding=padding)
        Ho = (x.shape[2] + 2 * padding - w.shape[2]) // stride + 1
        Wo = (x.shape[3] + 2 * padding - w.shape[3]) // stride + 1
        return out[:, :, :Ho, :Wo].copy()
    rejects(exercises.check_conv_forward_naive, stride_in_size_only, "do not move by the stride")

    def flipped(x, w, b, stride=1, padding=0):
        return conv_forward_naive(x, w[:, :, ::-1, ::-1], b, stride, padding)
    rejects(exercises.check_conv_forward_naive, flipped, "flipped the filter", "cross-correlation")
    rejects(exercises.check_conv_forward_naive, lambda x, w, b, stride=1, padding=0:
            conv_forward_naive(x, w, 0 * b, stride, padding), "the bias is missing")
    rejects(exercises.check_conv_forward_naive, lambda x, w, b, stride=1, padding=0:
            conv_forward_naive(x, w, b, stride, padding) + 0.01, "wrong values", "entries differ")
    rejects(exercises.check_conv_forward_naive, lambda x, w, b, stride=1, padding=0:
            layers.conv2d_forward(x, w, b, stride, padding), "returned a tuple of 2 items", "return only out")
    rejects(exercises.check_conv_forward_naive, lambda x, w, b, stride=1, padding=0:
            conv_forward_naive(x, w, b, stride, padding).astype("float32"), "out has dtype float32, expected float64")

    def rounds_up(x, w, b, stride=1, padding=0):
        xp = gam(x)
        H, W = x.shape[2:]
        extra_h = -(H + 2 * padding - w.shape[2]) % stride
        extra_w = -(W + 2 * padding - w.shape[3]) % stride
        return conv_forward_naive(xp.pad(x, ((0, 0), (0, 0), (0, extra_h), (0, extra_w))), w, b, stride, padding)
    rejects(exercises.check_conv_forward_naive, rounds_up, "out has shape (1, 2, 3, 4), expected (1, 2, 2, 3)",
            "one row and one column too big")


def test_conv_backward_mistakes():
    def dw_float32(dout, x, w, stride=1, padding=0):
        dx, dw, db = conv_backward_naive(dout, x, w, stride, padding)
        return dx, dw.astype("float32"), db
    rejects(exercises.check_conv_backward_naive, dw_float32, "dw has dtype float32, expected float64")

    def dw_mean(dout, x, w, stride=1, padding=0):
        dx, dw, db = conv_backward_naive(dout, x, w, stride, padding)
        return dx, dw / x.shape[0], db
    rejects(exercises.check_conv_backward_naive, dw_mean, "dw is 0.5 times", "sum over the batch")

    def padded_dx(dout, x, w, stride=1, padding=0):
        dx, dw, db = conv_backward_naive(dout, x, w, stride, padding)
        xp = gam(dx)
        return xp.pad(dx, ((0, 0), (0, 0), (padding, padding), (padding, padding))), dw, db
    rejects(exercises.check_conv_backward_naive, padded_dx, "padded input's shape", "cut the padding off")

    def db_per_example(dout, x, w, stride=1, padding=0):
        dx, dw, db = conv_backward_naive(dout, x, w, stride, padding)
        return dx, dw, dout.sum(axis=(2, 3))
    message = rejects(exercises.check_conv_backward_naive, db_per_example, "db has shape (2, 4), expected (4,)",
                      "every axis but the filter axis")
    assert "dout.sum(" not in message  # a hint, not the solution line

    def swapped(dout, x, w, stride=1, padding=0):
        dx, dw, db = conv_backward_naive(dout, x, w, stride, padding)
        return dw, dx, db
    rejects(exercises.check_conv_backward_naive, swapped, "order (dx, dw, db)")
    rejects(exercises.check_conv_backward_naive, lambda dout, x, w, stride=1, padding=0:
            conv_backward_naive(dout, x, w, stride, padding)[:2], "returned 2 values")


def test_conv_output_size_mistakes(capsys):
    rejects(exercises.check_conv_output_size, lambda W, K, stride=1, padding=0: (W - K) // stride + 1,
            "returned 30, expected 32", "is the padding counted?")
    rejects(exercises.check_conv_output_size, lambda W, K, stride=1, padding=0: (W - K + 2 * padding) // stride,
            "+ 1 is missing")
    rejects(exercises.check_conv_output_size, lambda W, K, stride=1, padding=0: (W - K + 2 * padding) / stride + 1,
            "returned 32.0 (a float)", "return an int")


def test_conv_output_size_must_raise_where_the_instructions_say():
    # Flooring instead of raising: the rule the instructions state, not a tip.
    rejects(exercises.check_conv_output_size, lambda W, K, stride=1, padding=0: (W - K + 2 * padding) // stride + 1,
            "conv_output_size(28, 3, stride=2, padding=0) returned 13", "13.5 is not a whole number",
            "raise ValueError there")

    def stride_only(W, K, stride=1, padding=0):
        if (W - K + 2 * padding) % stride:
            raise ValueError(f"stride {stride} does not divide {W - K + 2 * padding}")
        return (W - K + 2 * padding) // stride + 1
    rejects(exercises.check_conv_output_size, stride_only, "conv_output_size(3, 5) returned -1",
            "does not fit", "less than 1", "raise ValueError")

    def wordless(W, K, stride=1, padding=0):
        if W - K + 2 * padding < 0 or (W - K + 2 * padding) % stride:
            raise ValueError("does not fit")
        return (W - K + 2 * padding) // stride + 1
    rejects(exercises.check_conv_output_size, wordless, "raised ValueError('does not fit')", "shows the numbers")

    def type_error(W, K, stride=1, padding=0):
        if W - K + 2 * padding < 0 or (W - K + 2 * padding) % stride:
            raise TypeError(f"{W}, {K}, {stride}, {padding} do not fit")
        return (W - K + 2 * padding) // stride + 1
    rejects(exercises.check_conv_output_size, type_error, "raised TypeError", "ask for a ValueError there")


def test_receptive_field_mistakes():
    rejects(exercises.check_receptive_field, lambda stack: 1 + sum(k - 1 for k, _ in stack), "strides are missing")
    rejects(exercises.check_receptive_field, lambda stack: receptive_field(stack[::-1]), "returned 28, expected 16",
            "last first", "first layer first")
    # Each layer's own stride counted too: the mistake the check's hint table models.
    rejects(exercises.check_receptive_field, _own_stride_too, "before it only")


def test_architecture_mistakes():
    rejects(exercises.check_architecture, lambda: nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.MaxPool2d(2)),
            "expected (3, 16, 7, 7)", "second conv+pool stage")
    rejects(exercises.check_architecture, lambda: nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2)),
        "padding=(kernel_size - 1) // 2")
    rejects(exercises.check_architecture, lambda: nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(8, 32, 3, padding=1), nn.MaxPool2d(2)),
        "32 channels, expected 16")
    rejects(exercises.check_architecture, lambda: nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.MaxPool2d(4)),
            "1 Conv2d and 1 pooling")
    rejects(exercises.check_architecture, lambda: None, "returned None")


def _stages(conv=lambda c_in, c_out: nn.Conv2d(c_in, c_out, 3, padding=1), relu=nn.ReLU, pool=lambda: nn.MaxPool2d(2),
            filters=(8, 16), order="crp"):
    """The two stages of the 04 exercise with one part swapped for a wrong one."""
    layers_ = []
    for c_in, c_out in zip((1,) + filters[:1], filters):
        made = {"c": conv(c_in, c_out), "r": relu() if relu else None, "p": pool()}
        layers_ += [made[part] for part in order if made[part] is not None]
    return nn.Sequential(*layers_)


@pytest.mark.parametrize("model, hints", [
    (lambda: _stages(relu=None),
     ["0 ReLU layers", "Conv2d, then a ReLU, then a MaxPool2d", "max pooling alone passes negative values on"]),
    (lambda: _stages(pool=lambda: nn.AvgPool2d(2)), ["pools with AvgPool2d", "2x2 max pooling"]),
    (lambda: _stages(conv=lambda c_in, c_out: nn.Conv2d(c_in, c_out, 5, padding=2)),
     ["Conv2d number 1 has kernel_size 5", "3x3 convolutions"]),
    (lambda: _stages(filters=(16, 16)), ["16 and 16 filters", "8 in the first and 16 in the second"]),
    (lambda: nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=2), nn.ReLU(),
                           nn.MaxPool2d(2)), ["Conv2d number 1 has stride=1, padding=0", "'same' padding"]),
    (lambda: _stages(order="rcp"), ["the layers are ReLU, Conv2d, MaxPool2d", "in this order"]),
    (lambda: _stages(order="cpr"), ["the layers are Conv2d, MaxPool2d, ReLU", "in this order"]),
    (lambda: nn.Sequential(*_stages(), nn.Conv2d(16, 16, 3, padding=1)), ["3 Conv2d and 2 pooling"]),
    (lambda: nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
                           nn.ReLU(), nn.MaxPool2d(2, 2), nn.ReLU()), ["the layers are", "exactly two stages"]),
], ids=["no ReLU", "average pooling", "5x5", "16 first", "valid padding", "ReLU first", "ReLU after the pool",
        "a third conv", "an extra ReLU"])
def test_architecture_checks_the_layers_the_instructions_name(model, hints):
    rejects(exercises.check_architecture, model, *hints)


def test_max_pool_forward_mistakes():
    def stride_one_default(x, kernel_size=2, stride=None):
        return max_pool_forward(x, kernel_size, 1 if stride is None else stride)
    rejects(exercises.check_max_pool_forward, stride_one_default, "stride = kernel_size")

    def average(x, kernel_size=2, stride=None):
        s = kernel_size if stride is None else stride
        return layers.avg_pool2d_forward(x, kernel_size=kernel_size, stride=s)[0]
    rejects(exercises.check_max_pool_forward, average, "average pooling")

    def ignores_stride(x, kernel_size=2, stride=None):
        return max_pool_forward(x, kernel_size, kernel_size)
    rejects(exercises.check_max_pool_forward, ignores_stride, "is the stride used?")

    def keeps_partial_windows(x, kernel_size=2, stride=None):
        xp, k = gam(x), kernel_size
        s = k if stride is None else stride
        N, C, H, W = x.shape
        out = xp.zeros((N, C, -(-(H - k) // s) + 1, -(-(W - k) // s) + 1), dtype=x.dtype)
        for i in range(out.shape[2]):
            for j in range(out.shape[3]):
                out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
        return out
    rejects(exercises.check_max_pool_forward, keeps_partial_windows, "(1, 2, 3, 4), expected (1, 2, 2, 3)",
            "rounds down")
    rejects(exercises.check_max_pool_forward, lambda x, kernel_size=2, stride=None:
            gam(x).maximum(max_pool_forward(x, kernel_size, stride), 0), "negative", "not from zeros")
    rejects(exercises.check_max_pool_forward, lambda x, kernel_size=2, stride=None:
            max_pool_forward(x, kernel_size, stride).astype("float32"), "has dtype float32, expected float64")


def test_max_pool_backward_mistakes():
    def overwrites(dout, x, kernel_size=2, stride=None):
        return max_pool_backward(dout, x, kernel_size, stride, accumulate=False)
    rejects(exercises.check_max_pool_backward, overwrites, "overlap", "+=")

    def spreads(dout, x, kernel_size=2, stride=None):
        s = kernel_size if stride is None else stride
        cache = layers.avg_pool2d_forward(x, kernel_size=kernel_size, stride=s)[1]
        return layers.avg_pool2d_backward(dout, cache)
    rejects(exercises.check_max_pool_backward, spreads, "average pooling")


def test_max_pool_backward_ties_go_to_the_first_maximum():
    rejects(exercises.check_max_pool_backward, max_pool_backward_every_tie, "tie for the max", "first of them only")

    def last_of_ties(dout, x, kernel_size=2, stride=None):
        # The flipped window's first maximum is the original's last.
        k = kernel_size
        flipped = x[:, :, ::-1, ::-1]
        s = k if stride is None else stride
        if (x.shape[2] - k) % s or (x.shape[3] - k) % s:
            return max_pool_backward(dout, x, kernel_size, stride)
        return max_pool_backward(dout[:, :, ::-1, ::-1], flipped, kernel_size, stride)[:, :, ::-1, ::-1]
    rejects(exercises.check_max_pool_backward, last_of_ties, "first maximum", "not the last")
    rejects(exercises.check_max_pool_backward, lambda dout, x, kernel_size=2, stride=None:
            max_pool_backward(dout, x, kernel_size, stride).astype("float16"), "has dtype float16, expected float64")


def test_equivariance_mistakes():
    def no_crop(feature_fn, x, k):
        return float(abs(feature_fn(shift(x, k)) - shift(feature_fn(x), k)).max())
    rejects(exercises.check_equivariance, no_crop, "compare only the interior")

    def mean(feature_fn, x, k):
        a, b = feature_fn(shift(x, k)), shift(feature_fn(x), k)
        return float(abs(a - b)[..., k:a.shape[-1] - k].mean())
    rejects(exercises.check_equivariance, mean, "not a mean")

    def compares_nothing(feature_fn, x, k):
        return float(abs(feature_fn(x) - feature_fn(x)).max())
    rejects(exercises.check_equivariance, compares_nothing, "are both sides really computed")
    rejects(exercises.check_equivariance, lambda f, x, k: abs(f(x) - f(x)), "return one number")


def _shift_error_with(move):
    def shift_error_moved(feature_fn, x, k):
        a, b = feature_fn(move(x, k)), move(feature_fn(x), k)
        return float(abs(a - b)[..., k:a.shape[-1] - k].max())
    return shift_error_moved


def _left(a, k):
    out = gam(a).zeros(a.shape, dtype=a.dtype)
    out[..., :a.shape[-1] - k] = a[..., k:]
    return out


def _down(a, k):
    out = gam(a).zeros(a.shape, dtype=a.dtype)
    out[..., k:, :] = a[..., :a.shape[-2] - k, :]
    return out


@pytest.mark.parametrize("move, hints", [
    (_left, ["shifted to the left", "k pixels to the right"]),  # gives every number right: only the input tells
    (_down, ["shifted down, along the rows", "(W, the columns)"]),
    (lambda a, k: gam(a).roll(a, k, axis=-1), ["np.roll", "with zeros"]),
], ids=["left", "down", "roll"])
def test_equivariance_shift_the_wrong_way_is_named(move, hints):
    message = rejects(exercises.check_equivariance, _shift_error_with(move), *hints)
    assert "are both sides really computed" not in message


def test_cross_validation_mistakes():
    def contiguous(num_samples, k, seed=0):
        parts = np.array_split(np.arange(num_samples), k)
        return [(np.concatenate(parts[:i] + parts[i + 1:]), parts[i]) for i in range(k)]
    rejects(exercises.check_cross_validation, contiguous, "contiguous blocks", "shuffle")

    def leaky(num_samples, k, seed=0):
        return [(np.arange(num_samples), val) for _, val in kfold_indices(num_samples, k, seed)]
    rejects(exercises.check_cross_validation, leaky, "also in its validation part")

    def uneven(num_samples, k, seed=0):
        order = np.random.default_rng(seed).permutation(num_samples)
        size = num_samples // k
        parts = [order[i * size:(i + 1) * size] for i in range(k - 1)] + [order[(k - 1) * size:]]
        return [(np.concatenate(parts[:i] + parts[i + 1:]), parts[i]) for i in range(k)]
    rejects(exercises.check_cross_validation, uneven, "split evenly")
    rejects(exercises.check_cross_validation, lambda n, k, seed=0: kfold_indices(n, k, seed)[:-1], "expected k=")

    def unseeded(num_samples, k, seed=0):
        return kfold_indices(num_samples, k, seed=int(np.random.default_rng().integers(1 << 30)))
    rejects(exercises.check_cross_validation, unseeded, "same seed gives the same folds")


def test_cross_validation_gives_the_folds_the_instructions_ask_for():
    def legacy_generator(num_samples, k, seed=0):
        parts = np.array_split(np.random.RandomState(seed).permutation(num_samples), k)
        return [(np.concatenate(parts[:i] + parts[i + 1:]), parts[i]) for i in range(k)]
    rejects(exercises.check_cross_validation, legacy_generator, "not with the shuffle the instructions ask for",
            "np.random.default_rng(seed)")
    rejects(exercises.check_cross_validation, lambda n, k, seed=0: kfold_indices(n, k, seed)[::-1],
            "fold 0 validates on part 4", "part i be the validation indices of fold i")

    def shuffled_in_place(num_samples, k, seed=0):  # the same permutation as default_rng(seed).permutation
        order = np.arange(num_samples)
        np.random.default_rng(seed).shuffle(order)
        parts = [np.sort(p) for p in np.array_split(order, k)]
        return [(np.concatenate(parts[:i] + parts[i + 1:]), parts[i]) for i in range(k)]
    assert exercises.check_cross_validation(shuffled_in_place)


def test_float32_arithmetic_is_accepted():
    def conv_in_float32(x, w, b, stride=1, padding=0):
        out = conv_forward_naive(x.astype("float32"), w.astype("float32"), b.astype("float32"), stride, padding)
        return out.astype(x.dtype)
    assert exercises.check_conv_forward_naive(conv_in_float32)

    def pool_backward_in_float32(dout, x, kernel_size=2, stride=None):
        return max_pool_backward(dout.astype("float32"), x.astype("float32"), kernel_size, stride).astype(x.dtype)
    assert exercises.check_max_pool_backward(pool_backward_in_float32)
