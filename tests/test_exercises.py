"""The exercise checks accept right answers and explain plausible wrong ones in words.

Each check gets a learner-style right answer (explicit loops, backend-generic) and wrong answers with a
known mistake; the tests assert the hint that names the mistake.
"""
import numpy as np
import pytest

from cnnbook import backend, exercises, layers, nn
from cnnbook.course.exercises import ExerciseError
from cnnbook.course.exercises.sizes import _own_stride_too
from exercise_helpers import rejects
from test_exercises_more import RIGHT as RIGHT_MORE
from test_exercises_predict import RIGHT as RIGHT_DEEPER

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
    dx = xp.zeros(x.shape, dtype=x.dtype)  # the CuPy stand-in lacks zeros_like
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * s:i * s + k, j * s:j * s + k]
            mask = win == win.max(axis=(2, 3), keepdims=True)
            if accumulate:
                dx[:, :, i * s:i * s + k, j * s:j * s + k] += mask * dout[:, :, i, j][:, :, None, None]
            else:
                region = dx[:, :, i * s:i * s + k, j * s:j * s + k]
                region[mask] = (mask * dout[:, :, i, j][:, :, None, None])[mask]
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
# The checks of notebooks 08, 10 and 11 (tests/test_exercises_more.py) share the generic tests below.
ALL = RIGHT + RIGHT_MORE + RIGHT_DEEPER
ALL_IDS = IDS + [f"{check.__name__}-{fn.__name__}" for check, fn in RIGHT_MORE + RIGHT_DEEPER]


# ---- every check: right answers pass, on every backend; the stub and crashes -----------------
@pytest.mark.parametrize("check, fn", ALL, ids=ALL_IDS)
def test_right_answer_passes_on_every_backend(check, fn, xp, capsys):
    assert check(fn) is fn, "a check hands the learner's function back once it passes"
    out = capsys.readouterr().out
    assert out.startswith("correct: ") and "tip" not in out


@pytest.mark.parametrize("check, fn", ALL, ids=ALL_IDS)
@pytest.mark.parametrize("message", ["Your turn: the exercise: replace this with your solution", ""])
def test_a_stub_is_not_done_yet_on_stderr_and_the_reference_takes_its_place(check, fn, message, xp, capsys):
    """The student edition's stub (and nbgrader's bare one): no exception, a note on stderr (nbgrader scores a
    test cell with stderr 0), and the package's reference back, which passes the check itself."""
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


def test_relu_backward_mistakes():
    rejects(exercises.check_relu_backward, lambda dout, x: dout * (dout > 0), "mask must come from the input x")
    rejects(exercises.check_relu_backward, lambda dout, x: dout, "dx equals dout")
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


def test_conv_backward_mistakes():
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
    rejects(exercises.check_conv_backward_naive, db_per_example, "db has shape (2, 4), expected (4,)",
            "dout.sum(axis=(0, 2, 3))")

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
    assert exercises.check_conv_output_size(lambda W, K, stride=1, padding=0: (W - K + 2 * padding) // stride + 1)
    assert "tip:" in capsys.readouterr().out  # a stride that does not fit: a tip, not a failure


def test_receptive_field_mistakes():
    rejects(exercises.check_receptive_field, lambda stack: 1 + sum(k - 1 for k, _ in stack), "strides are missing")
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


def test_max_pool_backward_mistakes():
    def overwrites(dout, x, kernel_size=2, stride=None):
        return max_pool_backward(dout, x, kernel_size, stride, accumulate=False)
    rejects(exercises.check_max_pool_backward, overwrites, "overlap", "+=")

    def spreads(dout, x, kernel_size=2, stride=None):
        s = kernel_size if stride is None else stride
        cache = layers.avg_pool2d_forward(x, kernel_size=kernel_size, stride=s)[1]
        return layers.avg_pool2d_backward(dout, cache)
    rejects(exercises.check_max_pool_backward, spreads, "average pooling")


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


def test_float32_arithmetic_is_accepted():
    def conv_in_float32(x, w, b, stride=1, padding=0):
        out = conv_forward_naive(x.astype("float32"), w.astype("float32"), b.astype("float32"), stride, padding)
        return out.astype(x.dtype)
    assert exercises.check_conv_forward_naive(conv_in_float32)

    def pool_backward_in_float32(dout, x, kernel_size=2, stride=None):
        return max_pool_backward(dout.astype("float32"), x.astype("float32"), kernel_size, stride).astype(x.dtype)
    assert exercises.check_max_pool_backward(pool_backward_in_float32)
