"""The plain functions behind the explorers: every number and sentence a widget shows."""
import numpy as np
import pytest

from cnnbook import explore
from cnnbook.backend import get_array_module, to_numpy
from cnnbook.layers import conv_output_size, receptive_field


@pytest.mark.parametrize("W", range(1, 13))
def test_output_size_report_agrees_with_conv_output_size(W):
    for K in range(1, 6):
        for S in range(1, 4):
            for P in range(0, 3):
                r = explore.output_size_report(W, K, S, P)
                if r.fits:
                    assert r.output_size == conv_output_size(W, K, S, P)
                else:
                    with pytest.raises(ValueError):
                        conv_output_size(W, K, S, P)
                if r.output_size:
                    # the floored windows plus the dropped pixels tile the padded input exactly
                    assert r.starts[-1] + r.effective_kernel + r.dropped == W + 2 * P
                    assert len(r.starts) == r.output_size
                    assert r.dropped < S


def test_even_fit_says_so():
    r = explore.output_size_report(7, 3, stride=2, padding=1)
    assert r.fits and r.output_size == 4 and r.dropped == 0
    assert r.formula == "(W - K + 2P) / S + 1 = (7 - 3 + 2*1) / 2 + 1 = 6/2 + 1 = 4"
    assert "Output size 4 x 4" in r.message


def test_misfit_explains_drop_and_suggests_settings_that_fit():
    r = explore.output_size_report(8, 3, stride=2, padding=0)
    assert not r.fits
    assert r.numerator == 5 and r.output_size == 3  # floor(5 / 2) + 1, what PyTorch returns
    assert r.dropped == 1 and r.dropped_input == 1
    assert "5 is not divisible by stride 2" in r.message
    assert "silently returns 3" in r.message
    assert "not a whole number" in r.formula
    assert r.suggestions, "a misfit must come with a suggestion"
    for p, s, out in r.suggestions:
        assert conv_output_size(8, 3, s, p) == out
        assert f"padding {p}, stride {s} (output {out})" in r.message


def test_misfit_dropping_only_padding_counts_no_input_pixels():
    r = explore.output_size_report(6, 3, stride=2, padding=1)  # (6 - 3 + 2) = 5, one padded column left over
    assert not r.fits and r.dropped == 1 and r.dropped_input == 0


def test_kernel_larger_than_input():
    r = explore.output_size_report(3, 5)
    assert not r.fits and r.output_size == 0 and r.starts == []
    assert "larger than the padded input" in r.message
    assert any(out >= 1 for _, _, out in r.suggestions)


def test_dilation_widens_the_kernel():
    r = explore.output_size_report(7, 3, dilation=2)
    assert r.effective_kernel == 5 and r.output_size == 3
    taps = explore.kernel_taps(r, 0)
    assert sorted({c for _, c in taps}) == [0, 2, 4]


@pytest.mark.parametrize("args, error, words", [
    ((7.0, 3), TypeError, "input_size"),
    ((7, "3"), TypeError, "kernel_size"),
    ((7, 3, 0), ValueError, "stride=0 must be >= 1"),
    ((7, 3, 1, -1), ValueError, "padding=-1 must be >= 0"),
    ((True, 3), TypeError, "input_size"),
])
def test_output_size_report_rejects_bad_input(args, error, words):
    with pytest.raises(error, match=words):
        explore.output_size_report(*args)


def test_kernel_taps_follow_stride_and_stay_inside():
    r = explore.output_size_report(7, 3, stride=2, padding=1)
    last = explore.kernel_taps(r, r.output_size ** 2 - 1)
    assert len(last) == 9
    assert max(max(t) for t in last) == r.padded_size - 1
    assert explore.kernel_taps(r, 1)[0] == (0, 2)  # one step right = one stride
    with pytest.raises(ValueError, match="outside the 4 x 4 output"):
        explore.kernel_taps(r, 16)


def test_parse_kernel_and_text_round_trip():
    for name, k in explore.KERNELS.items():
        np.testing.assert_allclose(explore.parse_kernel(explore.kernel_text(k)), k, rtol=1e-5, err_msg=name)
    np.testing.assert_array_equal(explore.parse_kernel("1, 0, -1; 2 0 -2\n1 0 -1"),
                                  [[1, 0, -1], [2, 0, -2], [1, 0, -1]])


@pytest.mark.parametrize("text, words", [("1 2; 3", "square"), ("1 x; 2 3", "row 1"), ("", "square")])
def test_parse_kernel_rejects_bad_text(text, words):
    with pytest.raises(ValueError, match=words):
        explore.parse_kernel(text)


def test_explain_kernel():
    assert "edge detector" in explore.explain_kernel(explore.KERNELS["vertical edge"])
    assert "keeps its brightness" in explore.explain_kernel(explore.KERNELS["blur"])
    assert "2 times" in explore.explain_kernel([[0, 0, 0], [0, 2, 0], [0, 0, 0]])
    # the text the explorer shows (6 digits) reads as the exact kernel does
    blur_text = explore.parse_kernel(explore.kernel_text(explore.KERNELS["blur"]))
    assert explore.explain_kernel(blur_text) == explore.explain_kernel(explore.KERNELS["blur"])


def test_activation_map_finds_a_vertical_edge(xp):
    img = xp.zeros((6, 8), dtype=xp.float32)
    img[:, 4:] = 1.0  # dark left half, bright right half
    amap = explore.activation_map(img, explore.KERNELS["vertical edge"])
    assert get_array_module(amap) is get_array_module(img) and amap.dtype == img.dtype
    assert amap.shape == (4, 6)
    host = to_numpy(amap)
    assert np.all(host[:, [2, 3]] == -4)  # windows straddling the edge (Sobel weights 1+2+1)
    assert np.all(host[:, [0, 1, 4, 5]] == 0)  # flat windows


def test_activation_map_identity_with_padding_gives_the_image(xp):
    img = xp.asarray(np.arange(20, dtype=np.float64).reshape(4, 5))
    np.testing.assert_array_equal(to_numpy(explore.activation_map(img, explore.KERNELS["identity"], padding=1)),
                                  to_numpy(img))
    with pytest.raises(ValueError, match="grey image"):
        explore.activation_map(img[None], explore.KERNELS["identity"])


def test_parse_layers():
    assert explore.parse_layers("3,1 3,1 2,2") == [(3, 1), (3, 1), (2, 2)]
    assert explore.parse_layers("(5, 2), (3, 1)") == [(5, 2), (3, 1)]
    for bad in ["", "3", "3,1 x", "3,0"]:
        with pytest.raises(ValueError):
            explore.parse_layers(bad)


def test_receptive_field_growth_linear_then_faster():
    steps = explore.receptive_field_growth([(3, 1)] * 4)
    assert [s.field for s in steps] == [3, 5, 7, 9]  # +2 per stride-1 layer
    steps = explore.receptive_field_growth([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)])
    assert [s.field for s in steps] == [3, 4, 8, 10, 18]
    assert [s.jump for s in steps] == [1, 2, 2, 4, 4]
    assert steps[-1].field == receptive_field([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)])


def test_input_region_and_output_length():
    layers = [(3, 1), (2, 2)]
    assert explore.input_region(layers, 0) == (0, 4)
    assert explore.input_region(layers, 3) == (6, 10)
    assert explore.output_length(16, layers) == 7
    with pytest.raises(ValueError, match="does not fit"):
        explore.output_length(2, [(3, 1)])


def test_pool_map(xp):
    x = xp.asarray(np.arange(16, dtype=np.float32).reshape(4, 4))
    out, info = explore.pool_map(x, 2)
    np.testing.assert_array_equal(to_numpy(out), [[5, 7], [13, 15]])
    assert get_array_module(out) is get_array_module(x)
    assert info["output_shape"] == (2, 2) and info["reduction"] == 4.0
    assert "(4, 4) → (2, 2), 4.0x fewer values" in info["text"]
    out, info = explore.pool_map(x, 2, mode="avg")
    np.testing.assert_allclose(to_numpy(out), [[2.5, 4.5], [10.5, 12.5]])
    out, _ = explore.pool_map(x, 3, 1)  # overlapping windows
    np.testing.assert_array_equal(to_numpy(out), [[10, 11], [14, 15]])


def test_pool_map_says_what_flooring_drops_and_rejects_bad_settings(xp):
    x = xp.zeros((5, 6), dtype=xp.float32)
    out, info = explore.pool_map(x, 2)
    assert out.shape == (2, 3) and info["dropped"] == (1, 0)
    assert "the last 1 row(s) and 0 column(s) are never pooled" in info["text"]
    with pytest.raises(ValueError, match="larger than the map's side 5"):
        explore.pool_map(x, 6)
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg'"):
        explore.pool_map(xp.zeros((4, 4), dtype=xp.float32), 2, mode="min")


def test_output_size_report_bounds_its_work():
    r = explore.output_size_report(explore.MAX_SIZE, 3, stride=2)  # the limit itself is fine, and quick
    assert r.output_size == len(r.starts) == (explore.MAX_SIZE - 3) // 2 + 1
    for kwargs in ({"input_size": 10**9, "kernel_size": 3}, {"input_size": 28, "kernel_size": 3, "stride": 10**9},
                   {"input_size": 28, "kernel_size": 3, "padding": 10**7}):
        name = next(k for k, v in kwargs.items() if v > explore.MAX_SIZE)
        with pytest.raises(ValueError, match=rf"{name}={kwargs[name]} is above the explorer's limit of 10,000.*"
                                             r"conv_output_size"):
            explore.output_size_report(**kwargs)
    with pytest.raises(ValueError, match="more than 1,000,000 taps"):
        explore.kernel_taps(explore.output_size_report(2000, 1001), 0)
