"""Convolution: fast vs naive vs numerical gradients, on every backend."""
import numpy as np
import pytest
from layer_helpers import randn, random_conv_case

from cnnbook import backend
from cnnbook.backend import get_array_module
from cnnbook.gradcheck import eval_numerical_gradient_array, rel_error
from cnnbook.layers import conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive


@pytest.mark.parametrize("seed", range(6))
def test_conv_backward_matches_numerical_gradients(xp, seed):
    rng = np.random.default_rng(seed)
    case = random_conv_case(rng)
    x, w, b = randn(xp, rng, *case["x"]), randn(xp, rng, *case["w"]), randn(xp, rng, case["w"][0])
    S, P = case["stride"], case["padding"]
    out, cache = conv2d_forward(x, w, b, S, P)
    assert out.shape == case["out"]
    dout = randn(xp, rng, *out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    for name, arr, grad in (("x", x, dx), ("w", w, dw), ("b", b, db)):
        num = eval_numerical_gradient_array(lambda _: conv2d_forward(x, w, b, S, P)[0], arr, dout)
        assert grad.shape == arr.shape
        assert get_array_module(grad) is xp
        assert rel_error(grad, num) < 1e-7, f"d{name} for {case}"


@pytest.mark.parametrize("seed", range(4))
def test_naive_and_fast_agree(xp, seed):
    rng = np.random.default_rng(100 + seed)
    case = random_conv_case(rng, max_out=2)
    x, w, b = randn(xp, rng, *case["x"]), randn(xp, rng, *case["w"]), randn(xp, rng, case["w"][0])
    out, cache = conv2d_forward(x, w, b, case["stride"], case["padding"])
    out_n, cache_n = conv2d_forward_naive(x, w, b, case["stride"], case["padding"])
    assert get_array_module(out_n) is xp
    assert rel_error(out, out_n) < 1e-12
    dout = randn(xp, rng, *out.shape)
    fast = conv2d_backward(dout, cache)
    naive = conv2d_backward_naive(dout, cache_n)
    for a, b_ in zip(fast, naive):
        assert get_array_module(b_) is xp
        assert rel_error(a, b_) < 1e-12
    # The caches are interchangeable: each backward accepts the other forward's cache.
    for a, b_ in zip(conv2d_backward(dout, cache_n), conv2d_backward_naive(dout, cache)):
        assert rel_error(a, b_) < 1e-12


def test_naive_gradients_match_numerical(xp):
    rng = np.random.default_rng(7)
    x, w, b = randn(xp, rng, 1, 2, 5, 4), randn(xp, rng, 2, 2, 3, 2), randn(xp, rng, 2)
    out, cache = conv2d_forward_naive(x, w, b, stride=(2, 1), padding=1)
    dout = randn(xp, rng, *out.shape)
    dx, dw, db = conv2d_backward_naive(dout, cache)
    for arr, grad in ((x, dx), (w, dw), (b, db)):
        num = eval_numerical_gradient_array(lambda _: conv2d_forward(x, w, b, (2, 1), 1)[0], arr, dout)
        assert rel_error(grad, num) < 1e-7


def test_conv_matches_a_hand_computed_example():
    # A 1x1 "image" window: out = sum(x * w) + b; with padding 1 a 3x3 all-ones kernel counts neighbours.
    x = np.ones((1, 1, 3, 3))
    w = np.ones((1, 1, 3, 3))
    out, _ = conv2d_forward(x, w, np.array([0.5]), padding=1)
    expected = np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]]) + 0.5
    np.testing.assert_array_equal(out[0, 0], expected)


def test_conv_is_cross_correlation_not_flipped():
    x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 0, 0] = 1.0  # picks the top-left pixel of each window, unflipped
    out, _ = conv2d_forward(x, w, np.zeros(1))
    assert out[0, 0, 0, 0] == 0.0


@pytest.mark.parametrize("forward,backward", [(conv2d_forward, conv2d_backward),
                                              (conv2d_forward_naive, conv2d_backward_naive)])
def test_float32_in_float32_out(xp, forward, backward):
    rng = np.random.default_rng(3)
    f32 = np.float32
    x, w, b = randn(xp, rng, 2, 3, 6, 5, dtype=f32), randn(xp, rng, 4, 3, 3, 2, dtype=f32), randn(xp, rng, 4, dtype=f32)
    out, cache = forward(x, w, b, 1, 1)
    assert out.dtype == f32 and get_array_module(out) is xp
    # A float64 upstream gradient is cast: gradients have the dtype of what they differentiate.
    grads = backward(backend.to_device(np.ones(out.shape), xp), cache)
    assert [g.dtype for g in grads] == [f32, f32, f32]
    ref, _ = conv2d_forward(*(backend.to_numpy(a).astype(np.float64) for a in (x, w, b)), 1, 1)
    np.testing.assert_allclose(backend.to_numpy(out), ref, rtol=1e-5, atol=1e-5)


def test_a_second_forward_does_not_change_the_first_cache():
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((2, 2, 5, 5))
    w, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    out1, cache1 = conv2d_forward(x1, w, b, 1, 1)
    dout = rng.standard_normal(out1.shape)
    before = conv2d_backward(dout, cache1)
    conv2d_forward(x2, w, b, 1, 1)
    after = conv2d_backward(dout, cache1)
    again = conv2d_backward(dout, cache1)  # backward does not consume or mutate its cache either
    for a, b_, c in zip(before, after, again):
        np.testing.assert_array_equal(a, b_)
        np.testing.assert_array_equal(a, c)
    assert len(cache1) == 6


def test_output_feeds_the_next_layer_and_its_gradient_back():
    # The forward output is a transposed view; stacking two convs must still be exact.
    rng = np.random.default_rng(9)
    x, w1, b1 = rng.standard_normal((2, 2, 7, 7)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    w2, b2 = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)

    def net(_):
        h, _c = conv2d_forward(x, w1, b1, 1, 1)
        return conv2d_forward(h, w2, b2, 2, 1)[0]

    h, c1 = conv2d_forward(x, w1, b1, 1, 1)
    out, c2 = conv2d_forward(h, w2, b2, 2, 1)
    dout = rng.standard_normal(out.shape)
    dh, _, _ = conv2d_backward(dout, c2)
    dx, dw1, _ = conv2d_backward(dh, c1)
    assert rel_error(dx, eval_numerical_gradient_array(net, x, dout)) < 1e-7
    assert rel_error(dw1, eval_numerical_gradient_array(net, w1, dout)) < 1e-7


@pytest.mark.parametrize("short_row", [0, 10**9], ids=["one-after-another", "side-by-side"])
@pytest.mark.parametrize("seed", range(4))
def test_both_layouts_match_naive(xp, monkeypatch, seed, short_row):
    # The layer stores images one after another or side by side by the output's width; force each on every geometry.
    import cnnbook.layers.conv as conv
    monkeypatch.setattr(conv, "SHORT_ROW", short_row)
    rng = np.random.default_rng(200 + seed)
    case = random_conv_case(rng, max_out=5)
    x, w, b = randn(xp, rng, *case["x"]), randn(xp, rng, *case["w"]), randn(xp, rng, case["w"][0])
    S, P = case["stride"], case["padding"]
    out, cache = conv2d_forward(x, w, b, S, P)
    N = case["x"][0]
    G, side = cache[5].shape[3], cache[5].shape[6]  # cols (KH, KW, C, G, Ho, Wo, side)
    assert (G, side) == ((N, 1) if short_row == 0 else (1, N))  # these small layers make one block
    out_n, cache_n = conv2d_forward_naive(x, w, b, S, P)
    assert rel_error(out, out_n) < 1e-12
    dout = randn(xp, rng, *out.shape)
    for a, b_ in zip(conv2d_backward(dout, cache), conv2d_backward_naive(dout, cache_n)):
        assert get_array_module(a) is xp and a.shape == b_.shape
        assert rel_error(a, b_) < 1e-12
    # The layer's own output layout as the next dout (no copy on that path) gives the same gradients.
    dout_own = out * 0 + dout
    for a, b_ in zip(conv2d_backward(dout_own, cache), conv2d_backward_naive(dout, cache_n)):
        assert rel_error(a, b_) < 1e-12


@pytest.mark.parametrize("shape", [(3, 2, 4, 21, 33), (2, 3, 5, 9, 7)], ids=["one-after-another", "side-by-side"])
def test_fast_conv_matches_pytorch(shape):
    torch = pytest.importorskip("torch")
    N, C, F, H, W = shape
    rng = np.random.default_rng(13)
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, 3, 3)), rng.standard_normal(F)
    for stride, padding in ((1, 1), (2, 1), (1, 0)):
        out, cache = conv2d_forward(x, w, b, stride, padding)
        dout = rng.standard_normal(out.shape)
        tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
        t_out = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
        t_out.backward(torch.from_numpy(dout))
        # float64 both; only the order of the sums differs (PyTorch does not use im2col here).
        assert rel_error(out, t_out.detach().numpy()) < 1e-10
        for ours, theirs in zip(conv2d_backward(dout, cache), (tx.grad, tw.grad, tb.grad)):
            assert rel_error(ours, theirs.numpy()) < 1e-10


@pytest.mark.parametrize("short_row,columns,layout", [(0, 1, (6, 1)), (10**9, 1, (6, 1)), (10**9, 80, (3, 2))],
                         ids=["one-after-another", "side-by-side-one-each", "side-by-side-in-pairs"])
def test_blocks_give_the_same_result(monkeypatch, short_row, columns, layout):
    # NumPy runs the layer in blocks of whole groups of images; blocks of one image, or of two images side by
    # side, must change nothing but the order of dw's and db's sums.
    import cnnbook.layers.conv as conv
    monkeypatch.setattr(conv, "SHORT_ROW", short_row)
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((6, 3, 9, 7)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out, cache = conv2d_forward(x, w, b, (2, 1), 1)  # 6 outputs of 5x8: 240 columns, one block
    assert cache[5].shape[3] * cache[5].shape[6] == 6 and len(conv._blocks(cache[5].shape[3:], 18, np)) == 1
    dout = rng.standard_normal(out.shape)
    whole = (out,) + conv2d_backward(dout, cache)
    monkeypatch.setattr(conv, "COLUMNS_PER_BLOCK", columns)  # 240 blocks wanted (one image each), or 3
    out1, cache1 = conv2d_forward(x, w, b, (2, 1), 1)
    G, side = cache1[5].shape[3], cache1[5].shape[6]  # cols (KH, KW, C, G, Ho, Wo, side)
    assert (G, side) == layout
    assert len(conv._blocks(cache1[5].shape[3:], 18, np)) == G  # a block a group
    blocked = (out1,) + conv2d_backward(dout, cache1)
    for a, b_ in zip(whole, blocked):
        np.testing.assert_allclose(a, b_, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("H,W", [(16, 16), (6, 6)])  # outputs 16 wide: images one after another; 6: side by side
def test_conv_backward_without_the_input_gradient(xp, H, W):
    N = 3
    rng = np.random.default_rng(7)
    x, w, b = randn(xp, rng, N, 2, H, W), randn(xp, rng, 4, 2, 3, 3), randn(xp, rng, 4)
    out, cache = conv2d_forward(x, w, b, 1, 1)
    dout = randn(xp, rng, *out.shape)
    _, dw, db = conv2d_backward(dout, cache)
    dx, dw_only, db_only = conv2d_backward(dout, cache, input_grad=False)
    assert dx is None  # the same weight and bias gradients, bit for bit
    assert bool((dw_only == dw).all()) and bool((db_only == db).all())
    with pytest.raises(TypeError, match=r"input_grad='no' must be True \(compute dx\) or False"):
        conv2d_backward(dout, cache, input_grad="no")
