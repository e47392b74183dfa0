"""The convolution benchmarks in benchmarks/: what they time must be the layer they claim to time.

bench_conv.py checks every implementation's gradients before timing, takes the peers from their folders and names
the layers over the goal; conv_alternatives.py's three convolutions compute cnnbook's layer (or the README's
comparison would time the wrong thing); conv_profile.py finds the stages in conv.py. Formats, never speeds."""
import argparse
import ast
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from benchmarks import bench_conv, conv_alternatives, conv_profile, harness, threads
from cnnbook.gradcheck import rel_error
from cnnbook.layers import conv2d_backward, conv2d_forward

ROOT = Path(__file__).resolve().parents[1]

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
    assert conv_alternatives.main(["--batch-size", "2", "--repeats", "1", "--shapes", "2->3:6x6", "3->2:5x7"]) == 0
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
    assert conv_alternatives.main(["--batch-size", "2", "--repeats", "1", "--shapes", "2->3:6x6"]) == 1
    assert "winograd disagrees with cnnbook on dx for 2->3:6x6" in capsys.readouterr().out


def test_the_profile_finds_every_stage_in_the_layers_code():
    # If conv.py is rewritten, its lines must still be sorted into stages (not all into "other").
    source = "\n".join(inspect.getsource(f) for f in conv_profile.LAYER_FUNCTIONS)
    statements = [ast.get_source_segment(source, node) for node in ast.walk(ast.parse(source))
                  if isinstance(node, (ast.Assign, ast.AugAssign, ast.Expr))
                  and not isinstance(getattr(node, "value", None), ast.Constant)]  # the code, not the docstrings
    stages = [conv_profile.stage_of(statement) for statement in statements]
    assert stages.count("products") == 3  # out = w_mat @ cols, dw = cols @ dout^T, dcols = w_mat^T @ dout
    assert stages.count("im2col") == 1 and stages.count("col2im") == 1


def test_the_profile_counts_a_callees_time_once():
    # parallel.run's line and the _col2im call line hold their callees' time too; it is taken out there
    sources = {("conv2d_backward", 1): "shares = parallel.run(products, blocks, xp)",
               ("_backward_products", 2): "dw_share = cols_mat @ dout_mat.T",
               ("_backward_products", 3): "_col2im(dxpad, dcols, order, blk, out_size, stride)",
               ("_col2im", 4): "dxpad[...] += dcols[i, j]"}
    lines = {("conv2d_backward", 1): 10.0, ("_backward_products", 2): 6.0, ("_backward_products", 3): 3.5,
             ("_col2im", 4): 3.0}
    counted = conv_profile.exclusive(lines, sources)
    assert counted == {("conv2d_backward", 1): 0.5, ("_backward_products", 2): 6.0, ("_backward_products", 3): 0.5,
                       ("_col2im", 4): 3.0}
    assert sum(counted.values()) == 10.0  # the layer's time, each second once
    source = "\n".join(inspect.getsource(f) for f in conv_profile.LAYER_FUNCTIONS)
    for mark, callee in conv_profile.CALLS:  # a rename in conv.py must not bring the double count back
        assert mark in source and callee in {f.__name__ for f in conv_profile.LAYER_FUNCTIONS}


def test_the_profile_splits_the_layer_into_stages(capsys):
    pytest.importorskip("line_profiler")  # in requirements-test.txt; the skip is for a learner's install
    assert conv_profile.main(["--batch-size", "3", "--repeats", "2", "--shapes", "4->5:9x9", "--lines"]) == 0
    out = capsys.readouterr().out
    row = re.search(r"^4->5 9x9\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.M)
    assert row, out
    total, products, im2col, col2im, other, rate = map(float, row.groups())
    assert min(products, im2col, col2im) > 0 and rate > 0
    # the stages add up to the layer: five numbers printed to 2 decimals, each off by at most 0.005
    assert abs(products + im2col + col2im + other - total) <= 5 * 0.005 + 1e-9
    assert re.search(r"^\s+[\d.]+ ms\s+[\d.]+%  _col2im:\d+  dxpad\[", out, re.M)  # --lines: col2im's line


# ---------------------------------------------------------------- bench_conv.py


@pytest.fixture(autouse=True)
def no_peers_from_the_environment(monkeypatch):
    for name in harness.PEER_FOLDERS.values():
        monkeypatch.delenv(name, raising=False)


def _bench(capsys, *argv):
    parser = argparse.ArgumentParser()
    bench_conv.add_arguments(parser)  # parsed after the fixture: the peers' defaults come from the environment
    status = bench_conv.run(parser.parse_args(list(argv)))
    return status, capsys.readouterr().out


def test_bench_conv_prints_the_ceiling_a_row_per_shape_and_the_naive_speedup(capsys, monkeypatch):
    monkeypatch.setattr(harness, "NAIVE_SHAPE", (1, 1, 2, 5, 5))
    status, out = _bench(capsys, "--batch-size", "2", "--repeats", "2", "--shapes", "1->2:6x6", "2->3:5x4",
                         "--no-torch")
    assert status == 0
    assert "median wall time of 2 interleaved runs" in out
    assert re.search(r"^sgemm ceiling: \d+\.\d GFLOP/s", out, re.M)
    assert re.search(r"^BLAS: |^BLAS: unknown", out, re.M) and re.search(r"^threads: cnnbook ", out, re.M)
    assert re.search(r"^1->2 6x6\s+\d+\.\d\d\s+\d+\.\d\s+\d+$", out, re.M)  # ms, GFLOP/s, % of sgemm
    assert re.search(r"^2->3 5x4\s+\d+\.\d\d", out, re.M)
    assert re.search(r"^naive vs fast on batch 1, 1->2 5x5: .* fast is \d+x faster$", out, re.M)


def test_bench_conv_compares_with_torch_when_installed(capsys):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    status, out = _bench(capsys, "--batch-size", "2", "--repeats", "1", "--shapes", "3->4:8x8", "--no-naive",
                         "--threads", "1", "--clock", "cpu")
    assert status == 0
    # fast ms, GFLOP/s, % of sgemm, torch ms, torch's % of sgemm, fast/torch
    assert re.search(r"^3->4 8x8\s+\d+\.\d\d\s+\d+\.\d\s+\d+\s+\d+\.\d\d\s+\d+\s+\d+\.\d\d$", out, re.M)
    assert re.search(r"^layer\s+fast ms\s+GFLOP/s\s+%sgemm\s+torch ms\s+%sgemm\s+fast/torch$", out, re.M)
    assert re.search(r"^fast/torch ratio: median \d+\.\d\d, worst \d+\.\d\d$", out, re.M)
    assert re.search(r"^fast is more than 1\.5x torch's time on: (no layer|3->4 8x8)$", out, re.M)
    assert re.search(r"^threads: cnnbook 1 \(the layers' threads; NumPy's BLAS 1 in each\), torch 1$", out, re.M)
    assert "naive" not in out and "median cpu time" in out
    assert torch.get_num_threads() == before


def test_bench_conv_names_the_layers_over_the_goal(capsys, monkeypatch):
    pytest.importorskip("torch")
    argv = ("--batch-size", "2", "--repeats", "1", "--shapes", "3->4:8x8", "2->2:5x5", "--no-naive", "--threads", "1")
    monkeypatch.setattr(bench_conv, "GOAL_RATIO", 0.0)  # every layer is over a goal of 0
    assert "fast is more than 0.0x torch's time on: 3->4 8x8, 2->2 5x5\n" in _bench(capsys, *argv)[1]
    monkeypatch.setattr(bench_conv, "GOAL_RATIO", 1e9)
    assert "fast is more than 1000000000.0x torch's time on: no layer\n" in _bench(capsys, *argv)[1]


@pytest.mark.parametrize("shape", ["16x32", "0->2:6x6", "16->32:14"])
def test_bench_conv_refuses_a_malformed_shape(shape):
    with pytest.raises(argparse.ArgumentTypeError, match=r"is not of the form C->F:HxW"):
        harness.parse_shape(shape)


def _write_peers(root, scale=1.0):
    """Stand-ins for the two peers' packages, computing with cnnbook's naive layers (``scale`` spoils dw)."""
    (root / "cs" / "cs231n").mkdir(parents=True)
    (root / "cs" / "cs231n" / "__init__.py").write_text("")
    (root / "cs" / "cs231n" / "fast_layers.py").write_text(textwrap.dedent(f"""
        from cnnbook.layers import conv2d_forward_naive, conv2d_backward_naive
        col2im_6d_cython = None  # what a built Cython extension provides
        def conv_forward_fast(x, w, b, conv_param):
            return conv2d_forward_naive(x, w, b, conv_param["stride"], conv_param["pad"])
        def conv_backward_fast(dout, cache):
            dx, dw, db = conv2d_backward_naive(dout, cache)
            return dx, dw * {scale}, db
    """))
    (root / "dl" / "common").mkdir(parents=True)
    (root / "dl" / "common" / "__init__.py").write_text("")
    (root / "dl" / "common" / "layers.py").write_text(textwrap.dedent("""
        from cnnbook.layers import conv2d_forward_naive, conv2d_backward_naive
        class Convolution:
            def __init__(self, W, b, stride=1, pad=0):
                self.W, self.b, self.stride, self.pad = W, b, stride, pad
            def forward(self, x):
                out, self.cache = conv2d_forward_naive(x, self.W, self.b, self.stride, self.pad)
                return out
            def backward(self, dout):
                dx, self.dW, self.db = conv2d_backward_naive(dout, self.cache)
                return dx
    """))


@pytest.fixture
def forget_peer_modules():
    yield
    for name in [m for m in sys.modules if m.split(".")[0] in ("cs231n", "common")]:
        del sys.modules[name]


def test_bench_conv_times_the_peers_beside_the_fast_version(capsys, tmp_path, forget_peer_modules):
    _write_peers(tmp_path)
    status, out = _bench(capsys, "--batch-size", "1", "--repeats", "1", "--shapes", "1->2:5x5", "2->2:4x4",
                         "--no-torch", "--no-naive", "--cs231n", str(tmp_path / "cs"), "--dlfs", str(tmp_path / "dl"))
    assert status == 0, out
    assert re.search(r"^layer .*cs231n/fast\s+dlfs/fast$", out, re.M)
    assert re.search(r"^2->2 4x4\s+\d+\.\d\d\s+\d+\.\d\s+\d+\s+\d+\.\d\d\s+\d+\.\d\d$", out, re.M)
    assert re.search(r"^fast is slower than cs231n on: ", out, re.M)
    assert re.search(r"^dlfs/fast ratio: median \d+\.\d\d, worst \d+\.\d\d$", out, re.M)


def test_bench_conv_takes_the_peers_folders_from_the_environment(capsys, tmp_path, monkeypatch, forget_peer_modules):
    _write_peers(tmp_path)
    monkeypatch.setenv(harness.PEER_FOLDERS["dlfs"], str(tmp_path / "dl"))
    status, out = _bench(capsys, "--batch-size", "1", "--repeats", "1", "--shapes", "1->2:5x5", "--no-torch",
                         "--no-naive")
    assert status == 0, out
    assert re.search(r"^layer .*dlfs/fast$", out, re.M) and "cs231n" not in out


def test_bench_conv_stops_when_a_peer_disagrees(capsys, tmp_path, forget_peer_modules):
    _write_peers(tmp_path, scale=1.5)
    status, out = _bench(capsys, "--batch-size", "1", "--repeats", "1", "--shapes", "1->2:5x5", "--no-torch",
                         "--no-naive", "--cs231n", str(tmp_path / "cs"))
    assert status == 1
    assert "cs231n and fast disagree on dw for 1->2:5x5" in out


def test_bench_conv_skips_a_peer_it_cannot_import(capsys, tmp_path):
    status, out = _bench(capsys, "--batch-size", "1", "--repeats", "1", "--shapes", "1->1:3x3", "--no-torch",
                         "--no-naive", "--dlfs", str(tmp_path / "missing"))
    assert status == 0
    assert re.search(r"^dlfs: skipped, cannot import it from .*missing \(ImportError: .*is not a folder\)$", out, re.M)
    assert "dlfs/fast" not in out


@pytest.mark.parametrize("script", sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py")
                                          if p.stem not in ("__init__", "harness", "processes")))
def test_every_benchmark_runs_as_a_module_from_the_repository_root(script):
    # the way benchmarks/README.md says to run them; --help imports everything the script needs at its top
    result = subprocess.run([sys.executable, "-m", f"benchmarks.{script}", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m benchmarks.{script}")


# ---------------------------------------------------------------- threads.py


def test_the_threads_benchmark_checks_every_design_then_times_it(capsys, monkeypatch):
    # It checks each design's results against one thread before timing them (the pool's bit for bit); the
    # arrays here are small, so every piece may go to the pool.
    from cnnbook.layers import parallel
    monkeypatch.setattr(parallel, "MIN_PIECE_SIZE", 0)
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    assert threads.main(["--batch-size", "2", "--train-batch-size", "3", "--repeats", "1", "--warm", "0",
                         "--torch"]) == 0
    out = capsys.readouterr().out
    for C, F, H, W in threads.SHAPES:
        assert re.search(rf"^{C}->{F} {H}x{W}(\s+\d+\.\d\d){{7}}(\s+\d+\.\d\d){{4}}", out, re.M), out
    assert re.search(r"^\s+1 thr\s+blas\s+pool\s+default\s+torch 1\s+torch 2\s+blas/1\s+pool/1", out, re.M), out
    assert re.search(r"^(\s+\d+\.\d\d){6}(\s+\d+\.\d\d){6}$", out, re.M), out  # the training step's row
    for C, H, W in threads.POOL_SHAPES:  # max pooling: five times, four ratios, others
        assert re.search(rf"^{C}x{H}x{W}(\s+\d+\.\d\d){{5}}(\s+\d+\.\d\d){{4}}\s+-?\d+\.\d\d$", out, re.M), out
    assert torch.get_num_threads() == before
