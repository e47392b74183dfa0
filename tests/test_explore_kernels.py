"""explore.dilate_kernel and explore.compose_convolutions: checked against real convolutions and SciPy."""
import numpy as np
import pytest
from scipy.signal import convolve2d

from cnnbook import explore
from cnnbook.backend import get_array_module, to_numpy
from cnnbook.layers import conv2d_forward, conv_output_size, relu_forward


def test_dilated_kernel_is_the_dilated_convolution(xp):
    rng = np.random.default_rng(0)
    x = xp.asarray(rng.standard_normal((2, 3, 13, 11)))
    w = xp.asarray(rng.standard_normal((4, 3, 3, 3)))
    wd = explore.dilate_kernel(w, 2)
    assert get_array_module(wd) is get_array_module(w) and wd.shape == (4, 3, 5, 5)
    out, _ = conv2d_forward(x, wd, xp.zeros(4))
    assert out.shape[2:] == (conv_output_size(13, 3, dilation=2), conv_output_size(11, 3, dilation=2))
    # The definition, tap by tap: out[i, j] = sum_ab w[a, b] x[i + 2a, j + 2b].
    xh, wh = to_numpy(x), to_numpy(w)
    direct = sum(np.einsum("fc,nchw->nfhw", wh[:, :, a, b], xh[:, :, 2 * a:2 * a + 9, 2 * b:2 * b + 7])
                 for a in range(3) for b in range(3))
    np.testing.assert_allclose(to_numpy(out), direct, atol=1e-12)
    np.testing.assert_array_equal(to_numpy(explore.dilate_kernel(w, 1)), wh)


def test_dilate_kernel_refuses_bad_input():
    with pytest.raises(ValueError, match="dilation=0 must be >= 1"):
        explore.dilate_kernel(np.ones((1, 1, 3, 3)), 0)
    with pytest.raises(ValueError, match=r"\(F, C, KH, KW\), got shape \(3, 3\)"):
        explore.dilate_kernel(np.ones((3, 3)), 2)


def test_two_convolutions_compose_into_one(xp):
    rng = np.random.default_rng(1)
    x = xp.asarray(rng.standard_normal((2, 3, 12, 10)))
    w1, b1 = xp.asarray(rng.standard_normal((4, 3, 3, 3))), xp.asarray(rng.standard_normal(4))
    w2, b2 = xp.asarray(rng.standard_normal((5, 4, 3, 2))), xp.asarray(rng.standard_normal(5))
    w, b = explore.compose_convolutions(w1, b1, w2, b2)
    assert w.shape == (5, 3, 5, 4) and b.shape == (5,)
    h, _ = conv2d_forward(x, w1, b1)
    two, _ = conv2d_forward(h, w2, b2)
    one, _ = conv2d_forward(x, w, b)
    np.testing.assert_allclose(to_numpy(one), to_numpy(two), atol=1e-10)
    w1h, w2h = to_numpy(w1), to_numpy(w2)
    scipy_w = sum(convolve2d(w2h[2, f], w1h[f, 1], mode="full") for f in range(4))
    np.testing.assert_allclose(to_numpy(w)[2, 1], scipy_w, atol=1e-12)
    # A ReLU between them breaks it (the composition is only for linear layers).
    relu_two, _ = conv2d_forward(relu_forward(h)[0], w2, b2)
    assert np.abs(to_numpy(relu_two) - to_numpy(one)).max() > 0.5


def test_compose_convolutions_refuses_shapes_that_do_not_chain():
    w1, b1 = np.ones((4, 3, 3, 3)), np.ones(4)
    with pytest.raises(ValueError, match="w2 needs 4 input channels"):
        explore.compose_convolutions(w1, b1, np.ones((2, 5, 3, 3)), np.ones(2))
    with pytest.raises(ValueError, match="b1 must have 1 axes"):
        explore.compose_convolutions(w1, np.ones((4, 1)), np.ones((2, 4, 3, 3)), np.ones(2))
