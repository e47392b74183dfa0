"""Max and average pooling, overlapping windows included, on every backend."""
import numpy as np
import pytest
from layer_helpers import randn

from cnnbook import backend
from cnnbook.backend import get_array_module
from cnnbook.gradcheck import eval_numerical_gradient_array, rel_error
from cnnbook.layers import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward

POOLS = [(max_pool2d_forward, max_pool2d_backward), (avg_pool2d_forward, avg_pool2d_backward)]
# (input H, W, kernel_size, stride): non-overlapping, overlapping (stride < kernel), non-square, leftover rows,
# gaps between windows (stride > kernel: pixels no window reads).
GEOMETRIES = [((4, 6), 2, None), ((7, 7), 3, 2), ((5, 6), (3, 2), (1, 2)), ((7, 5), 2, 1), ((5, 5), 2, 2),
              ((8, 7), 2, 3)]


@pytest.mark.parametrize("forward,backward", POOLS)
@pytest.mark.parametrize("size,kernel,stride", GEOMETRIES)
def test_pool_backward_matches_numerical_gradients(xp, forward, backward, size, kernel, stride):
    rng = np.random.default_rng(sum(size))
    x = randn(xp, rng, 2, 3, *size)
    out, cache = forward(x, kernel, stride)
    dout = randn(xp, rng, *out.shape)
    dx = backward(dout, cache)
    num = eval_numerical_gradient_array(lambda _: forward(x, kernel, stride)[0], x, dout)
    assert dx.shape == x.shape
    assert get_array_module(out) is xp and get_array_module(dx) is xp
    assert rel_error(dx, num) < 1e-7


def _reference_pool(x, kernel, stride, reduce):
    KH, KW = (kernel, kernel) if isinstance(kernel, int) else kernel
    SH, SW = (KH, KW) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    N, C, H, W = x.shape
    Ho, Wo = (H - KH) // SH + 1, (W - KW) // SW + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = reduce(x[:, :, i * SH:i * SH + KH, j * SW:j * SW + KW], axis=(2, 3))
    return out


@pytest.mark.parametrize("size,kernel,stride", GEOMETRIES)
def test_pool_forward_matches_a_loop(size, kernel, stride):
    x = np.random.default_rng(1).standard_normal((2, 2, *size))
    np.testing.assert_allclose(max_pool2d_forward(x, kernel, stride)[0], _reference_pool(x, kernel, stride, np.max))
    np.testing.assert_allclose(avg_pool2d_forward(x, kernel, stride)[0], _reference_pool(x, kernel, stride, np.mean))


def test_max_pool_routes_gradient_to_the_winner_only():
    x = np.array([[[[1., 5., 2., 0.], [3., 4., 9., 8.]]]])  # (1, 1, 2, 4): windows [[1,5],[3,4]] and [[2,0],[9,8]]
    out, cache = max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(out, [[[[5., 9.]]]])
    dx = max_pool2d_backward(np.array([[[[10., 20.]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0., 10., 0., 0.], [0., 0., 20., 0.]]]])


def test_max_pool_overlapping_winner_collects_every_window():
    x = np.zeros((1, 1, 1, 5))
    x[0, 0, 0, 2] = 1.0  # wins the three 1x3 windows that contain it
    out, cache = max_pool2d_forward(x, (1, 3), 1)
    dx = max_pool2d_backward(np.ones(out.shape), cache)
    assert dx[0, 0, 0, 2] == 3.0 and dx.sum() == 3.0


def test_max_pool_with_more_offsets_than_a_byte_holds():
    # 17x17 = 289 window offsets: the winner's index needs more than uint8
    x = np.zeros((1, 1, 17, 17))
    x[0, 0, 16, 10] = 1.0  # offset 16 * 17 + 10 = 282
    out, cache = max_pool2d_forward(x, 17)
    dx = max_pool2d_backward(np.full(out.shape, 2.0), cache)
    assert out[0, 0, 0, 0] == 1.0 and dx[0, 0, 16, 10] == 2.0 and dx.sum() == 2.0


@pytest.mark.parametrize("kernel,stride", [(2, None), (3, 2), (2, 3)])
def test_max_pool_batch_in_pieces_equals_image_by_image(kernel, stride):
    # A batch large enough to be cut into pieces (parallel.chunks) gives each image what it gets alone.
    rng = np.random.default_rng(5)
    x = np.maximum(rng.standard_normal((40, 8, 29, 29)).astype(np.float32), 0)  # ReLU'd: many tied windows
    out, cache = max_pool2d_forward(x, kernel, stride)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = max_pool2d_backward(dout, cache)
    for n in (0, 17, 39):
        out_n, cache_n = max_pool2d_forward(x[n:n + 1], kernel, stride)
        np.testing.assert_array_equal(out[n:n + 1], out_n)
        np.testing.assert_array_equal(dx[n:n + 1], max_pool2d_backward(dout[n:n + 1], cache_n))


@pytest.mark.parametrize("kernel,stride", [(2, None), (2, 3), (3, 2)])
def test_max_pool_backward_gives_no_negative_zeros(kernel, stride):
    # A loser's pixel gets 0.0, not -0.0 (which NumPy prints as "-0."), whatever the sign of the gradient.
    x = np.arange(2 * 64.).reshape(2, 1, 8, 8)
    out, cache = max_pool2d_forward(x, kernel, stride)
    dx = max_pool2d_backward(-np.ones(out.shape), cache)
    assert (dx == 0).sum() > 0 and not np.signbit(dx[dx == 0]).any()
    assert "-0." not in np.array2string(dx)


def test_max_pool_ties_send_the_gradient_once():
    out, cache = max_pool2d_forward(np.ones((1, 1, 2, 2)), 2)
    dx = max_pool2d_backward(np.ones(out.shape), cache)
    assert dx.sum() == 1.0  # not 4: one winner per window


@pytest.mark.parametrize("forward,backward", POOLS)
def test_pool_float32_in_float32_out(xp, forward, backward):
    x = randn(xp, np.random.default_rng(2), 2, 3, 6, 6, dtype=np.float32)
    out, cache = forward(x, 3, 1)
    dx = backward(backend.to_device(np.ones(out.shape, np.float32), xp), cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32
    assert get_array_module(dx) is xp


@pytest.mark.parametrize("forward,backward", POOLS)
def test_pool_caches_stay_valid_after_another_forward(forward, backward):
    rng = np.random.default_rng(4)
    x1, x2 = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((1, 2, 4, 4))
    out, cache = forward(x1, 2)
    dout = rng.standard_normal(out.shape)
    before = backward(dout, cache)
    forward(x2, 2)
    np.testing.assert_array_equal(before, backward(dout, cache))


@pytest.mark.parametrize("forward, backward", [(max_pool2d_forward, max_pool2d_backward),
                                               (avg_pool2d_forward, avg_pool2d_backward)])
def test_backward_keeps_the_forward_dtype_whatever_dout(forward, backward):
    # A gradient has the dtype of the value it is the gradient of (as conv, ReLU and linear do).
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    out, cache = forward(x, 2)
    dx = backward(np.ones(out.shape, dtype=np.float64), cache)
    assert dx.dtype == np.float32
