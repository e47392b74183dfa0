"""cnnbook.models.blocks: Concat, Pad2d and the Inception block (gradients, shapes, errors)."""
import numpy as np
import pytest

from cnnbook import backend
from cnnbook.gradcheck import eval_numerical_gradient, rel_error
from cnnbook.models.blocks import Concat, Pad2d, inception_block
from cnnbook.nn import Conv2d, MaxPool2d, ReLU, Sequential

F64 = np.float64


def _check_gradients(module, x, xp):
    out = module(x)
    dout = backend.to_device(np.random.default_rng(2).normal(size=out.shape), xp)
    module.zero_grad()
    dx = module.backward(dout)
    assert backend.get_array_module(dx) is xp and dx.shape == x.shape
    loss = lambda _: float((module(x) * dout).sum())  # noqa: E731
    assert rel_error(dx, eval_numerical_gradient(loss, x)) < 1e-6
    for name, p in module.named_parameters():
        assert rel_error(p.grad, eval_numerical_gradient(loss, p.data)) < 1e-6, name
    return out


def test_inception_block_gradients_and_shape(xp):
    block = inception_block(2, 1, 2, 1, 1, rng=0, dtype=F64)
    # distinct values, so no max-pool window has a tie that a nudge could flip
    x = backend.to_device(np.random.default_rng(1).permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) / 7.0 - 3.0, xp)
    out = _check_gradients(block, x, xp)
    assert out.shape == (2, 1 + 2 + 1 + 1, 5, 5)
    assert [name for name, _ in block.named_parameters()][:2] == ["0.0.weight", "0.0.bias"]


def test_concat_adds_the_gradients_of_branches_that_share_the_input(xp):
    conv = Conv2d(1, 2, 3, padding=1, rng=0, dtype=F64)
    block = Concat(conv, Sequential(ReLU()), conv)  # one module used twice: its gradients add too
    x = backend.to_device(np.random.default_rng(0).normal(size=(2, 1, 4, 4)), xp)
    out = block(x)
    assert out.shape == (2, 5, 4, 4)
    np.testing.assert_allclose(backend.to_numpy(out[:, 0:2]), backend.to_numpy(out[:, 3:5]))
    dout = xp.ones(out.shape, dtype=F64)
    block.zero_grad()
    dx = block.backward(dout)
    conv.zero_grad()
    conv(x)
    dx_conv = conv.backward(xp.ones((2, 2, 4, 4), dtype=F64))
    expected = 2 * backend.to_numpy(dx_conv) + (backend.to_numpy(x) > 0)
    np.testing.assert_allclose(backend.to_numpy(dx), expected)


def test_pad_with_minus_infinity_keeps_size_under_max_pool(xp):
    x = backend.to_device(-np.arange(16, dtype=F64).reshape(1, 1, 4, 4) - 1.0, xp)  # all negative
    pooled = MaxPool2d(3, stride=1)(Pad2d(1, -np.inf)(x))
    assert pooled.shape == (1, 1, 4, 4)
    assert backend.to_numpy(pooled)[0, 0, 0, 0] == -1.0  # zero padding would have given 0 here
    _check_gradients(Pad2d(2), x, xp)


@pytest.mark.parametrize("make, error, words", [
    (lambda: Concat(), ValueError, "at least one branch"),
    (lambda: Concat(Conv2d, ReLU()), TypeError, "branch 0"),
    (lambda: Concat(Conv2d(1, 2, 3), Conv2d(1, 2, 1))(np.zeros((1, 1, 5, 5), np.float32)), ValueError,
     "(1, 2, 3, 3)"),
    (lambda: inception_block(1, 0, 0, 0, 0), ValueError, "all of c1, c3, c5, c_pool are 0"),
    (lambda: inception_block(1, -1, 2, 2, 2), ValueError, "c1=-1 must be >= 0"),
    (lambda: Pad2d(-1), ValueError, "padding=-1"),
    (lambda: Pad2d(1)(np.zeros((3, 3))), ValueError, "(3, 3)"),
])
def test_bad_input_raises_errors_that_name_it(make, error, words):
    with pytest.raises(error) as info:
        make()
    assert words in str(info.value)
