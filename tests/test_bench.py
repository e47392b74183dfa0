"""A quick run of ``python -m cnnbook bench`` on tiny shapes: the output format, not the speed."""
import argparse
import re

import pytest

from cnnbook.commands import bench


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
    assert re.search(r"^1->2 6x6\s+\d+\.\d\d", out, re.M)
    assert re.search(r"^2->3 5x4\s+\d+\.\d\d", out, re.M)
    assert re.search(r"fast is \d+x faster$", out, re.M)


def test_bench_compares_with_torch_when_installed(capsys, monkeypatch):
    pytest.importorskip("torch")
    status, out = _run(capsys, "--batch", "2", "--repeats", "1", "--shapes", "3->4:8x8", "--no-naive", "--threads", "1",
                       "--clock", "cpu")
    assert status == 0
    assert re.search(r"^3->4 8x8\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d$", out, re.M)
    assert re.search(r"^median fast/torch ratio: \d+\.\d\d$", out, re.M)
    assert "naive" not in out
    assert "median cpu time" in out and "threads: 1" in out


def test_bench_without_torch(capsys):
    status, out = _run(capsys, "--batch", "1", "--repeats", "1", "--shapes", "1->1:3x3", "--no-torch", "--no-naive")
    assert status == 0
    assert "torch" not in out.split("\n", 1)[1]  # no torch column or ratio after the title


def test_bench_rejects_a_malformed_shape():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--shapes", "16x32"])
