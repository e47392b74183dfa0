"""A quick run of ``python -m cnnbook bench`` on tiny shapes: the output format, not the speed."""
import argparse
import re
import sys
import textwrap

import pytest

from cnnbook.commands import bench


@pytest.fixture(autouse=True)
def no_peers_from_the_environment(monkeypatch):
    for name in ("CNNBOOK_BENCH_CS231N", "CNNBOOK_BENCH_DLFS"):
        monkeypatch.delenv(name, raising=False)


def _run(capsys, *argv):
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    status = bench.run(parser.parse_args(list(argv)))
    return status, capsys.readouterr().out


def test_bench_prints_a_row_per_shape_and_the_naive_speedup(capsys, monkeypatch):
    monkeypatch.setattr(bench, "NAIVE_SHAPE", (1, 1, 2, 5, 5))
    status, out = _run(capsys, "--batch", "2", "--repeats", "2", "--shapes", "1->2:6x6", "2->3:5x4")
    assert status == 0
    assert "median wall time of 2 interleaved runs" in out
    assert re.search(r"^sgemm ceiling: \d+\.\d GFLOP/s", out, re.M)
    assert re.search(r"^load average \(1, 5, 15 min\): [\d.]+ [\d.]+ [\d.]+ on \d+ CPUs$", out, re.M)
    assert re.search(r"^1->2 6x6\s+\d+\.\d\d", out, re.M)
    assert re.search(r"^2->3 5x4\s+\d+\.\d\d", out, re.M)
    assert re.search(r"fast is \d+x faster$", out, re.M)


def test_bench_compares_with_torch_when_installed(capsys, monkeypatch):
    pytest.importorskip("torch")
    status, out = _run(capsys, "--batch", "2", "--repeats", "1", "--shapes", "3->4:8x8", "--no-naive", "--threads", "1",
                       "--clock", "cpu")
    assert status == 0
    # fast ms, GFLOP/s, % of sgemm, torch ms, torch's % of sgemm, fast/torch
    assert re.search(r"^3->4 8x8\s+\d+\.\d\d\s+\d+\.\d\s+\d+\s+\d+\.\d\d\s+\d+\s+\d+\.\d\d$", out, re.M)
    assert re.search(r"^layer\s+fast ms\s+GFLOP/s\s+%sgemm\s+torch ms\s+%sgemm\s+fast/torch$", out, re.M)
    assert re.search(r"^fast/torch ratio: median \d+\.\d\d, worst \d+\.\d\d$", out, re.M)
    assert re.search(r"^fast is more than 1\.5x torch's time on: (no layer|3->4 8x8)$", out, re.M)
    assert "naive" not in out
    assert "median cpu time" in out and "threads: 1" in out


def test_bench_names_the_layers_over_the_goal(capsys, monkeypatch):
    pytest.importorskip("torch")
    argv = ("--batch", "2", "--repeats", "1", "--shapes", "3->4:8x8", "2->2:5x5", "--no-naive", "--threads", "1")
    monkeypatch.setattr(bench, "GOAL_RATIO", 0.0)  # every layer is over a goal of 0
    assert "fast is more than 0.0x torch's time on: 3->4 8x8, 2->2 5x5\n" in _run(capsys, *argv)[1]
    monkeypatch.setattr(bench, "GOAL_RATIO", 1e9)
    assert "fast is more than 1000000000.0x torch's time on: no layer\n" in _run(capsys, *argv)[1]


def test_bench_without_torch(capsys):
    status, out = _run(capsys, "--batch", "1", "--repeats", "1", "--shapes", "1->1:3x3", "--no-torch", "--no-naive")
    assert status == 0
    assert "torch" not in out.split("\n", 1)[1]  # no torch column or ratio after the title


def test_bench_rejects_a_malformed_shape():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--shapes", "16x32"])


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


def test_bench_times_the_peers_beside_the_fast_version(capsys, tmp_path, forget_peer_modules):
    _write_peers(tmp_path)
    status, out = _run(capsys, "--batch", "1", "--repeats", "1", "--shapes", "1->2:5x5", "2->2:4x4", "--no-torch",
                       "--no-naive", "--cs231n", str(tmp_path / "cs"), "--dlfs", str(tmp_path / "dl"))
    assert status == 0, out
    assert re.search(r"^layer .*cs231n/fast\s+dlfs/fast$", out, re.M)
    assert re.search(r"^2->2 4x4\s+\d+\.\d\d\s+\d+\.\d\s+\d+\s+\d+\.\d\d\s+\d+\.\d\d$", out, re.M)
    assert re.search(r"^fast is slower than cs231n on: ", out, re.M)
    assert re.search(r"^dlfs/fast ratio: median \d+\.\d\d, worst \d+\.\d\d$", out, re.M)


def test_bench_stops_when_a_peer_disagrees(capsys, tmp_path, forget_peer_modules):
    _write_peers(tmp_path, scale=1.5)
    status, out = _run(capsys, "--batch", "1", "--repeats", "1", "--shapes", "1->2:5x5", "--no-torch", "--no-naive",
                       "--cs231n", str(tmp_path / "cs"))
    assert status == 1
    assert "cs231n and fast disagree on dw for 1->2:5x5" in out


def test_bench_skips_a_peer_it_cannot_import(capsys, tmp_path):
    status, out = _run(capsys, "--batch", "1", "--repeats", "1", "--shapes", "1->1:3x3", "--no-torch", "--no-naive",
                       "--dlfs", str(tmp_path / "missing"))
    assert status == 0
    assert re.search(r"^dlfs: skipped, cannot import it from .*missing \(ImportError: .*is not a folder\)$", out, re.M)
    assert "dlfs/fast" not in out
