"""cnnbook.models.local.LocallyConnected2d: gradients, parameter count, equality with Conv2d, bad input;
cnnbook.models.measures.neighbour_correlation."""
import numpy as np
import pytest

from cnnbook import backend
from cnnbook.data.augment import shift
from cnnbook.gradcheck import eval_numerical_gradient
from cnnbook.models.local import LocallyConnected2d
from cnnbook.models.measures import neighbour_correlation
from cnnbook.nn import Conv2d

F64 = np.float64


def _close(analytic, numerical):
    """Largest difference relative to the gradient's size (an entry near 0 makes rel_error meaningless)."""
    a, b = backend.to_numpy(analytic), backend.to_numpy(numerical)
    return float(np.abs(a - b).max() / np.abs(b).max()) < 1e-7


@pytest.mark.parametrize("stride, padding", [(1, 1), (2, 0), (1, 0)])
def test_locally_connected_gradients(xp, stride, padding):
    layer = LocallyConnected2d(2, 3, 3, (5, 7) if stride == 1 else (5, 5), stride=stride, padding=padding,
                               rng=0, dtype=F64)
    layer.bias.data = layer.bias.data + backend.to_device(np.random.default_rng(3).normal(size=layer.bias.shape), xp)
    x = backend.to_device(np.random.default_rng(1).normal(size=(2, 2) + layer.input_size), xp)
    out = layer(x)
    assert backend.get_array_module(out) is xp and out.shape == (2, 3) + layer.output_size
    dout = backend.to_device(np.random.default_rng(2).normal(size=out.shape), xp)
    layer.zero_grad()
    dx = layer.backward(dout)
    loss = lambda _: float((layer(x) * dout).sum())  # noqa: E731
    assert dx.shape == x.shape and _close(dx, eval_numerical_gradient(loss, x))
    for name, p in layer.named_parameters():
        assert _close(p.grad, eval_numerical_gradient(loss, p.data)), name


def test_locally_connected_parameter_count_separates_locality_and_sharing():
    layer = LocallyConnected2d(1, 16, 3, 28, padding=1)
    assert layer.weight.shape == (28, 28, 16, 1, 3, 3) and layer.bias.shape == (16, 28, 28)
    assert layer.num_parameters() == 125_440 == 28 * 28 * (16 * 9) + 16 * 28 * 28
    assert Conv2d(1, 16, 3, padding=1).num_parameters() == 160


def test_from_conv_computes_the_convolution_and_free_weights_are_not_equivariant(xp):
    conv = Conv2d(1, 4, 3, padding=1, rng=0, dtype=F64)
    conv.bias.data = conv.bias.data + 0.1
    x = backend.to_device(np.random.default_rng(0).normal(size=(3, 1, 12, 12)), xp)
    tied = LocallyConnected2d.from_conv(conv, 12)
    np.testing.assert_allclose(backend.to_numpy(tied(x)), backend.to_numpy(conv(x)), atol=1e-12)
    free = LocallyConnected2d(1, 4, 3, 12, padding=1, rng=1, dtype=F64)

    def shift_error(fn, k=3):
        return float(xp.abs(fn(shift(x, 0, k)) - shift(fn(x), 0, k))[..., k:12 - k].max())

    assert shift_error(tied) < 1e-12
    assert shift_error(free) > 0.1 * float(xp.abs(free(x)).max())


@pytest.mark.parametrize("make, x_shape, words", [
    (lambda: LocallyConnected2d(1, 2, 3, 8), (2, 1, 9, 8), "input_size"),
    (lambda: LocallyConnected2d(2, 2, 3, 8), (2, 1, 8, 8), "in_channels"),
    (lambda: LocallyConnected2d(1, 2, 3, 0), None, "input_size=0"),
    (lambda: LocallyConnected2d(1, 2, 3, 8, stride=2), None, "not a whole number"),
])
def test_locally_connected_bad_input(make, x_shape, words):
    with pytest.raises(ValueError, match=words):
        layer = make()
        layer(np.zeros(x_shape, dtype=np.float32))


def test_backward_before_forward_says_so():
    with pytest.raises(RuntimeError, match="before forward"):
        LocallyConnected2d(1, 2, 3, 8).backward(np.zeros((1, 2, 6, 6), dtype=np.float32))


def test_backward_checks_dout_and_keeps_the_input_dtype():
    layer = LocallyConnected2d(1, 2, 3, 8, rng=0)  # float32
    out = layer(np.ones((2, 1, 8, 8), np.float32))
    assert layer.backward(np.ones(out.shape, np.float64)).dtype == np.float32
    with pytest.raises(ValueError, match=r"dout has shape \(2, 2, 5, 5\) but LocallyConnected2d.forward's output "
                                         r"had shape \(2, 2, 6, 6\)"):
        layer.backward(np.ones((2, 2, 5, 5), np.float32))


def test_neighbour_correlation(xp):
    rng = np.random.default_rng(0)
    noise = backend.to_device(rng.normal(size=(200, 1, 5, 5)), xp)
    assert abs(neighbour_correlation(noise)) < 0.05
    ramp = np.add.outer(np.arange(5.0), np.arange(5.0))[None, None] * rng.normal(size=(20, 3, 1, 1))
    assert neighbour_correlation(backend.to_device(ramp, xp)) > 0.9
    checker = (-1.0) ** np.add.outer(np.arange(4), np.arange(4))[None, None] * np.ones((2, 1, 1, 1))
    assert neighbour_correlation(checker) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="expected"):
        neighbour_correlation(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="constant"):
        neighbour_correlation(np.ones((2, 1, 3, 3)))
