"""conv_output_size and receptive_field: exact arithmetic, checked against properties and real layers."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnbook.explore import output_size_report
from cnnbook.layers import conv2d_backward, conv2d_forward, conv_output_size, receptive_field
from cnnbook.layers.sizes import fitting_settings, window

sizes = st.integers(1, 64)
kernels = st.integers(1, 11)
strides = st.integers(1, 5)
paddings = st.integers(0, 5)


@settings(deadline=None)  # a busy CI machine must not turn slowness into failures
@given(sizes, kernels, strides, paddings)
def test_output_size_is_exact_or_refused(W, K, S, P):
    try:
        out = conv_output_size(W, K, S, P)
    except ValueError as err:
        message = str(err)
        assert W - K + 2 * P < 0 or (W - K + 2 * P) % S != 0
        assert f"({W} - {K} + 2*{P}) / {S}" in message
        # Every suggestion the message makes must itself fit.
        for p in re.findall(r"padding=(\d+)", message):
            conv_output_size(W, K, S, int(p))
        for s in re.findall(r"stride=(\d+)", message):
            conv_output_size(W, K, int(s), P)
    else:
        assert out >= 1
        assert (out - 1) * S + K == W + 2 * P  # the last window ends exactly at the padded edge


@settings(deadline=None)
@given(sizes, kernels, paddings)
def test_stride_one_always_fits_when_the_kernel_does(W, K, P):
    if K <= W + 2 * P:
        assert conv_output_size(W, K, 1, P) == W - K + 2 * P + 1


def test_same_padding_keeps_the_size():
    assert conv_output_size(32, 3, 1, 1) == 32
    assert conv_output_size(32, 5, 1, 2) == 32
    assert conv_output_size(227, 11, 4, 0) == 55  # AlexNet's first layer


def test_refusal_messages_suggest_a_fix():
    with pytest.raises(ValueError, match=r"\(7 - 3 \+ 2\*0\) / 3.*padding=1 \(gives 3\)"):
        conv_output_size(7, 3, 3, 0)
    with pytest.raises(ValueError, match=r"kernel 7 is larger than the padded input 5"):
        conv_output_size(5, 7)


@settings(deadline=None)
@given(sizes, kernels, strides, paddings)
def test_the_error_and_the_explorer_suggest_the_same_fixes(W, K, S, P):
    settings_ = fitting_settings(W, K, S, P)
    assert output_size_report(W, K, S, P).suggestions == settings_
    for p, s, size in settings_:
        assert conv_output_size(W, K, s, p) == size
    try:
        conv_output_size(W, K, S, P)
    except ValueError as err:
        fixes = re.findall(r"(padding|stride)=(\d+) \(gives (\d+)\)", str(err))
        shown = [(int(n) if name == "padding" else P, int(n) if name == "stride" else S, int(size))
                 for name, n, size in fixes]
        assert shown == (settings_[:1] if W - K + 2 * P < 0 else settings_)


def test_a_kernel_far_larger_than_the_input_is_offered_the_padding_that_fits():
    assert fitting_settings(3, 11, 2, 0) == [(4, 2, 1)]  # 3 - 11 + 2*4 = 0
    assert fitting_settings(8, 3, 2, 0) == [(0, 1, 6)]  # 5 is odd: no padding fits stride 2; stride 5 is too far


def test_window_picks_the_row_under_a_kernel_tap_for_every_output():
    x = np.arange(7)
    assert list(x[window(0, 3, 2)]) == [0, 2, 4] and list(x[window(2, 3, 2)]) == [2, 4, 6]
    assert list(x[window(1, 1, 3)]) == [1]


@settings(max_examples=30, deadline=None)
@given(sizes, kernels, strides, paddings)
def test_conv2d_output_shape_agrees_with_conv_output_size(W, K, S, P):
    try:
        expected = conv_output_size(W, K, S, P)
    except ValueError:
        with pytest.raises(ValueError):
            conv2d_forward(np.zeros((1, 1, 2, W)), np.zeros((1, 1, 1, K)), np.zeros(1), (1, S), (0, P))
        return
    out, _ = conv2d_forward(np.zeros((1, 1, 2, W)), np.zeros((1, 1, 1, K)), np.zeros(1), (1, S), (0, P))
    assert out.shape == (1, 1, 2, expected)


def _receptive_field_backwards(layers):
    """The same quantity computed from the top down: r <- (r - 1) * S + K."""
    r = 1
    for k, s in reversed(layers):
        r = (r - 1) * s + k
    return r


@settings(deadline=None)
@given(st.lists(st.tuples(kernels, strides), max_size=8))
def test_receptive_field_agrees_with_top_down_recursion(layers):
    assert receptive_field(layers) == _receptive_field_backwards(layers)


def test_receptive_field_known_values():
    assert receptive_field([]) == 1
    assert receptive_field([(3, 1)] * 3) == 7  # three 3x3 convs see as much as one 7x7
    assert receptive_field([(3, 1), (2, 2), (3, 1), (2, 2)]) == 10


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3)), min_size=1, max_size=3))
def test_receptive_field_is_what_backprop_reaches(layers):
    # Push the gradient of one output unit back through real convolutions with all-ones kernels:
    # the input pixels it reaches span exactly the receptive field.
    field = receptive_field(layers)
    W = field + 8
    while True:  # grow the input until every layer's size fits exactly
        try:
            w_ = W
            for k, s in layers:
                w_ = conv_output_size(w_, k, s)
            break
        except ValueError:
            W += 1
    x, caches = np.zeros((1, 1, 1, W)), []
    for k, s in layers:
        x, cache = conv2d_forward(x, np.ones((1, 1, 1, k)), np.zeros(1), (1, s))
        caches.append(cache)
    dout = np.zeros(x.shape)
    dout[0, 0, 0, 0] = 1.0
    for cache in reversed(caches):
        dout, _, _ = conv2d_backward(dout, cache)
    reached = np.flatnonzero(dout[0, 0, 0])
    assert reached[-1] - reached[0] + 1 == field


def _dilated(w, D):
    """``w`` ``(F, C, KH, KW)`` with ``D - 1`` zeros between neighbouring taps: ``(F, C, D(KH-1)+1, D(KW-1)+1)``."""
    F, C, KH, KW = w.shape
    out = np.zeros((F, C, D * (KH - 1) + 1, D * (KW - 1) + 1), dtype=w.dtype)
    out[:, :, ::D, ::D] = w
    return out


@settings(max_examples=40, deadline=None)
@given(sizes, st.integers(1, 5), strides, paddings, st.integers(1, 4))
def test_dilated_output_size_agrees_with_a_zero_inserted_kernel(W, K, S, P, D):
    wd = _dilated(np.ones((1, 1, 1, K)), D)  # (1, 1, 1, D(K-1)+1)
    try:
        expected = conv_output_size(W, K, S, P, dilation=D)
    except ValueError as err:
        assert f"({W} - {D * (K - 1) + 1} + 2*{P}) / {S}" in str(err)
        with pytest.raises(ValueError):
            conv2d_forward(np.zeros((1, 1, 2, W)), wd, np.zeros(1), (1, S), (0, P))
        return
    out, _ = conv2d_forward(np.zeros((1, 1, 2, W)), wd, np.zeros(1), (1, S), (0, P))
    assert out.shape == (1, 1, 2, expected)


def test_dilation_one_is_the_ordinary_formula_and_bad_dilation_is_refused():
    assert conv_output_size(28, 3, dilation=1) == conv_output_size(28, 3) == 26
    assert conv_output_size(28, 3, dilation=2) == 24           # K_eff = 5
    assert conv_output_size(28, 3, 1, 2, dilation=2) == 28     # same padding for K_eff = 5
    with pytest.raises(ValueError, match=r"dilated kernel 9 \(3 taps, dilation 4\).*padded input 7"):
        conv_output_size(7, 3, dilation=4)
    with pytest.raises(ValueError, match="dilation=0 must be >= 1"):
        conv_output_size(28, 3, dilation=0)
    with pytest.raises(TypeError, match="dilation=.* is not a whole number"):
        receptive_field([(3, 1)], dilation=1.5)
    with pytest.raises(ValueError, match=r"\(kernel_size, stride, dilation\) triple"):
        receptive_field([(3, 1, 2, 1)])


@settings(deadline=None)
@given(st.lists(st.tuples(kernels, strides, st.integers(1, 4)), max_size=6))
def test_dilated_receptive_field_is_that_of_the_zero_inserted_kernels(layers):
    as_dense = [(d * (k - 1) + 1, s) for k, s, d in layers]
    assert receptive_field(layers) == receptive_field(as_dense) == _receptive_field_backwards(as_dense)
    if layers:
        pairs = [(k, s) for k, s, _ in layers]
        assert receptive_field(pairs, dilation=2) == receptive_field([(k, s, 2) for k, s in pairs])


def test_dilated_receptive_field_is_where_the_gradient_reaches():
    """Two 3x3 layers with dilation 1 then 2 (stride 1): one output unit depends on a 7x7 patch, with holes."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((1, 1, 3, 3)) + 2.0   # no zero taps
    w2 = _dilated(rng.standard_normal((1, 1, 3, 3)) + 2.0, 2)
    x = rng.standard_normal((1, 1, 15, 15))
    h, c1 = conv2d_forward(x, w1, np.zeros(1))
    y, c2 = conv2d_forward(h, w2, np.zeros(1))
    dout = np.zeros_like(y)
    dout[0, 0, 4, 4] = 1.0
    dh, _, _ = conv2d_backward(dout, c2)
    dx, _, _ = conv2d_backward(dh, c1)
    rows, cols = np.nonzero(dx[0, 0])
    rf = receptive_field([(3, 1), (3, 1, 2)])
    assert rf == 7
    assert rows.max() - rows.min() + 1 == rf and cols.max() - cols.min() + 1 == rf
