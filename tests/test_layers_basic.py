"""ReLU, linear, and the two losses, on every backend."""
import numpy as np
import pytest
from layer_helpers import randn

from cnnbook import backend
from cnnbook.backend import get_array_module
from cnnbook.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from cnnbook.layers import linear_backward, linear_forward, relu_backward, relu_forward, softmax_cross_entropy, svm_loss


def test_relu_gradients(xp):
    rng = np.random.default_rng(0)
    x = randn(xp, rng, 3, 4, 5)
    out, cache = relu_forward(x)
    dout = randn(xp, rng, *out.shape)
    dx = relu_backward(dout, cache)
    num = eval_numerical_gradient_array(lambda _: relu_forward(x)[0], x, dout)
    assert get_array_module(out) is xp and get_array_module(dx) is xp
    assert rel_error(dx, num) < 1e-7
    assert float((out >= 0).all()) == 1.0


def test_relu_stops_the_gradient_at_zero():
    x = np.array([[-1.0, 0.0, 2.0]])
    _, cache = relu_forward(x)
    np.testing.assert_array_equal(relu_backward(np.ones((1, 3)), cache), [[0.0, 0.0, 1.0]])


@pytest.mark.parametrize("x_shape", [(4, 6), (3, 2, 3, 2)])
def test_linear_gradients(xp, x_shape):
    rng = np.random.default_rng(len(x_shape))
    D = int(np.prod(x_shape[1:]))
    x, w, b = randn(xp, rng, *x_shape), randn(xp, rng, D, 5), randn(xp, rng, 5)
    out, cache = linear_forward(x, w, b)
    assert out.shape == (x_shape[0], 5)
    dout = randn(xp, rng, *out.shape)
    dx, dw, db = linear_backward(dout, cache)
    assert dx.shape == x_shape
    for arr, grad in ((x, dx), (w, dw), (b, db)):
        num = eval_numerical_gradient_array(lambda _: linear_forward(x, w, b)[0], arr, dout)
        assert get_array_module(grad) is xp
        assert rel_error(grad, num) < 1e-7


@pytest.mark.parametrize("loss_fn", [softmax_cross_entropy, svm_loss])
def test_loss_gradients(xp, loss_fn):
    rng = np.random.default_rng(1)
    scores = randn(xp, rng, 6, 4)
    y = backend.to_device(rng.integers(0, 4, size=6), xp)
    loss, dscores = loss_fn(scores, y)
    assert isinstance(loss, float) and loss > 0
    assert get_array_module(dscores) is xp
    num = eval_numerical_gradient(lambda s: loss_fn(s, y)[0], scores)
    assert rel_error(dscores, num) < 1e-7


def test_softmax_known_values():
    # Uniform scores over K classes: loss log(K); the gradient is (1/K - onehot) / N.
    loss, dscores = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    assert loss == pytest.approx(np.log(4))
    np.testing.assert_allclose(dscores[0], [(0.25 - 1) / 2, 0.125, 0.125, 0.125])


def test_svm_known_values():
    scores = np.array([[3.0, 2.5, 0.0], [1.0, 2.0, 3.0]])
    loss, dscores = svm_loss(scores, np.array([0, 2]))
    # Row 0: margin 2.5 - 3 + 1 = 0.5 violated, 0 - 3 + 1 < 0 not; row 1: both below margin.
    assert loss == pytest.approx(0.5 / 2)
    np.testing.assert_allclose(dscores, [[-0.5, 0.5, 0.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("loss_fn", [softmax_cross_entropy, svm_loss])
def test_losses_are_stable_for_huge_scores(xp, loss_fn):
    scores = backend.to_device(np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]]), xp)
    loss, dscores = loss_fn(scores, backend.to_device(np.array([1, 2]), xp))
    host = backend.to_numpy(dscores)
    assert np.isfinite(loss) and np.isfinite(host).all()
    if loss_fn is softmax_cross_entropy:
        # Row 0: log-prob of class 1 is -2000; row 1: -log(sigmoid(-1)) = 1.3133.
        assert loss == pytest.approx((2000 + 1.3132616875182228) / 2)


@pytest.mark.parametrize("loss_fn", [softmax_cross_entropy, svm_loss])
def test_losses_keep_float32(xp, loss_fn):
    scores = randn(xp, np.random.default_rng(0), 3, 5, dtype=np.float32)
    _, dscores = loss_fn(scores, backend.to_device(np.array([0, 1, 4]), xp))
    assert dscores.dtype == np.float32


def test_relu_and_linear_keep_float32(xp):
    rng = np.random.default_rng(0)
    x, w, b = (randn(xp, rng, *s, dtype=np.float32) for s in ((2, 3), (3, 4), (4,)))
    out, cache = linear_forward(x, w, b)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in linear_backward(out, cache))
    out, cache = relu_forward(x)
    assert out.dtype == np.float32 and relu_backward(out, cache).dtype == np.float32
