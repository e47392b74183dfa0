"""benchmarks/conv_alternatives.py and conv_profile.py: the three convolutions timed against cnnbook's must compute
the same layer, or the README's comparison would time the wrong thing; the profile must find the stages in conv.py."""
import ast
import inspect
import os
import re
import sys

import numpy as np
import pytest

from cnnbook.gradcheck import rel_error
from cnnbook.layers import conv2d_backward, conv2d_forward

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import conv_alternatives  # noqa: E402  (benchmarks/conv_alternatives.py)
import conv_profile  # noqa: E402  (benchmarks/conv_profile.py)

# (N, C, H, W, F, padding): odd and even output sizes (Winograd's last tile half empty), no padding, 1x1 outputs.
SHAPES = [(2, 3, 5, 6, 4, 1), (3, 4, 7, 8, 5, 0), (1, 2, 4, 9, 3, 1), (2, 1, 3, 3, 2, 0), (4, 5, 6, 6, 3, 1)]


@pytest.mark.parametrize("name", sorted(conv_alternatives.ALTERNATIVES))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_the_alternative_computes_the_layer_and_its_gradients(name, shape):
    N, C, H, W, F, padding = shape
    rng = np.random.default_rng(sum(shape))
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, 3, 3)), rng.standard_normal(F)
    out, cache = conv2d_forward(x, w, b, 1, padding)
    dout = rng.standard_normal(out.shape)
    forward, backward = conv_alternatives.ALTERNATIVES[name]
    out_alt, cache_alt = forward(x, w, b, padding)
    assert out_alt.shape == out.shape and out_alt.dtype == out.dtype
    assert rel_error(out_alt, out) < 1e-12
    for ours, theirs in zip(backward(dout, cache_alt), conv2d_backward(dout, cache)):
        assert ours.shape == theirs.shape
        assert rel_error(ours, theirs) < 1e-12


@pytest.mark.parametrize("name", sorted(conv_alternatives.ALTERNATIVES))
def test_float32_stays_float32_and_close(name):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6, 10, 10), dtype=np.float32)
    w = rng.standard_normal((5, 6, 3, 3), dtype=np.float32)
    b = rng.standard_normal(5, dtype=np.float32)
    out, cache = conv2d_forward(x, w, b, 1, 1)
    dout = rng.standard_normal(out.shape, dtype=np.float32)
    forward, backward = conv_alternatives.ALTERNATIVES[name]
    out_alt, cache_alt = forward(x, w, b, 1)
    for ours, theirs in zip((out_alt, *backward(dout, cache_alt)), (out, *conv2d_backward(dout, cache))):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_the_benchmark_prints_a_row_per_layer(capsys):
    assert conv_alternatives.main(["--batch", "2", "--repeats", "1", "--shapes", "2->3:6x6", "3->2:5x7"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^sgemm ceiling: \d+\.\d GFLOP/s", out, re.M)
    for layer in ("2->3 6x6", "3->2 5x7"):
        assert re.search(rf"^{layer}(\s+\d+\.\d\d)+ ms$", out, re.M), out


def test_the_benchmark_refuses_an_alternative_that_disagrees(capsys, monkeypatch):
    forward, backward = conv_alternatives.ALTERNATIVES["winograd"]

    def wrong_dx(dout, cache):
        dx, dw, db = backward(dout, cache)
        return dx * 1.01, dw, db
    monkeypatch.setitem(conv_alternatives.ALTERNATIVES, "winograd", (forward, wrong_dx))
    assert conv_alternatives.main(["--batch", "2", "--repeats", "1", "--shapes", "2->3:6x6"]) == 1
    assert "winograd disagrees with cnnbook on dx for 2->3:6x6" in capsys.readouterr().out


def test_the_profile_finds_every_stage_in_the_layers_code():
    # If conv.py is rewritten, its lines must still be sorted into stages (not all into "other").
    from cnnbook.layers import conv
    source = inspect.getsource(conv.conv2d_forward) + inspect.getsource(conv.conv2d_backward)
    statements = [ast.get_source_segment(source, node) for node in ast.walk(ast.parse(source))
                  if isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr))
                  and not isinstance(getattr(node, "value", None), ast.Constant)]  # the code, not the docstrings
    stages = [conv_profile.stage_of(statement) for statement in statements]
    assert stages.count("products") == 3  # out = w_mat @ cols, dw = cols @ dout^T, dcols = w_mat^T @ dout
    assert stages.count("im2col") == 1 and stages.count("col2im") == 1


def test_the_profile_splits_the_layer_into_stages(capsys):
    pytest.importorskip("line_profiler")  # in requirements-test.txt; the skip is for a learner's install
    assert conv_profile.main(["--batch", "3", "--repeats", "2", "--shapes", "4->5:9x9", "--lines"]) == 0
    out = capsys.readouterr().out
    row = re.search(r"^4->5 9x9\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.M)
    assert row, out
    total, products, im2col, col2im, other, rate = map(float, row.groups())
    assert min(products, im2col, col2im) > 0 and rate > 0
    assert abs(products + im2col + col2im + other - total) <= 0.02  # the stages add up to the layer (2 decimals)
    assert re.search(r"^\s+[\d.]+ ms\s+[\d.]+%  conv2d_backward:\d+  dxpad\[", out, re.M)  # --lines: col2im's line
