"""``python -m cnnbook bench`` on tiny layers: what it prints and which threads it runs on, not the speed."""
import argparse
import re

import pytest

from cnnbook import backend
from cnnbook.commands import bench

TINY = ((1, 2, 6, 6), (2, 3, 5, 4))


@pytest.fixture(autouse=True)
def tiny_layers(monkeypatch):
    monkeypatch.setattr(bench, "SHAPES", TINY)
    monkeypatch.setattr(bench, "NAIVE_SHAPE", (1, 1, 2, 5, 5))
    monkeypatch.delenv(backend.BLAS_THREADS_ENV, raising=False)


def _parse(*argv):
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(list(argv))


def _run(capsys, *argv):
    status = bench.run(_parse(*argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_bench_prints_a_row_per_layer_and_the_naive_speedup(capsys):
    status, out, _ = _run(capsys, "--batch-size", "2", "--repeats", "2", "--no-torch")
    assert status == 0
    assert out.startswith("conv2d forward+backward, float32, batch 2, 3x3 kernels, padding 1; "
                          "median time of 2 interleaved runs\n")
    assert re.search(r"^load average \(1, 5, 15 min\): [\d.]+ [\d.]+ [\d.]+ on \d+ CPUs$", out, re.M)
    assert re.search(r"^layer\s+fast ms$", out, re.M)
    assert re.search(r"^1->2 6x6\s+\d+\.\d\d$", out, re.M)
    assert re.search(r"^2->3 5x4\s+\d+\.\d\d$", out, re.M)
    assert re.search(r"^naive vs fast on batch 1, 1->2 5x5: naive [\d.]+ ms, fast [\d.]+ ms, fast is \d+x faster$",
                     out, re.M)
    assert "torch" not in out.split("\n", 1)[1]  # no torch column or ratio after the title


def _blas_threads_now(threadpoolctl):
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]


def test_bench_runs_cnnbook_on_the_training_threads_and_says_so(capsys, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.setenv(backend.BLAS_THREADS_ENV, "1")  # what fit() would use, whatever the library's own setting
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads_now(threadpoolctl)
        status, out, _ = _run(capsys, "--repeats", "1", "--no-torch")
        assert _blas_threads_now(threadpoolctl) == before  # the library's setting comes back
    assert status == 0
    assert re.search(r"^threads: cnnbook 1 \(the layers' threads; NumPy's BLAS 1 in each\)$", out, re.M), out


def test_bench_threads_option_sets_cnnbooks_blas_threads(capsys, monkeypatch):
    pytest.importorskip("threadpoolctl")
    monkeypatch.setenv(backend.BLAS_THREADS_ENV, "2")  # --threads wins over training's setting
    status, out, _ = _run(capsys, "--repeats", "1", "--threads", "1", "--no-torch")
    assert status == 0
    assert re.search(r"^threads: cnnbook 1 \(the layers' threads; NumPy's BLAS 1 in each\)$", out, re.M), out


def test_bench_says_how_many_threads_the_layers_use(capsys, monkeypatch):
    pytest.importorskip("threadpoolctl")
    monkeypatch.setenv(backend.BLAS_THREADS_ENV, "3")  # the layers' threads; BLAS stays at one in each
    status, out, _ = _run(capsys, "--repeats", "1", "--no-torch")
    assert status == 0
    assert re.search(r"^threads: cnnbook 3 \(the layers' threads; NumPy's BLAS 1 in each\)$", out, re.M), out


def test_bench_compares_with_torch_and_gives_back_its_threads(capsys):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    status, out, _ = _run(capsys, "--batch-size", "2", "--repeats", "1", "--threads", "1")
    assert status == 0
    assert re.search(r"^threads: cnnbook 1 \(the layers' threads; NumPy's BLAS 1 in each\), torch 1$", out, re.M), out
    assert re.search(r"^layer\s+fast ms\s+torch ms\s+fast/torch$", out, re.M)
    assert re.search(r"^1->2 6x6\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d$", out, re.M)
    assert re.search(r"^fast/torch ratio: median \d+\.\d\d, worst \d+\.\d\d \(above 1: cnnbook takes longer\)$",
                     out, re.M)
    assert torch.get_num_threads() == before  # a notebook that runs the bench keeps its own setting


def test_bench_refuses_a_bad_thread_setting_in_one_line(capsys, monkeypatch):
    monkeypatch.setenv(backend.BLAS_THREADS_ENV, "two")
    status, out, err = _run(capsys, "--repeats", "1", "--no-torch")
    assert status == 1 and out == ""
    assert err.startswith("error: $CNNBOOK_BLAS_THREADS='two' must be a positive integer") and err.count("\n") == 1


@pytest.mark.parametrize("option", ["--cs231n", "--dlfs", "--shapes", "--clock"])
def test_the_learners_bench_leaves_the_peers_and_the_knobs_to_benchmarks(option):
    # benchmarks/bench_conv.py has them (tests/test_conv_benchmarks.py)
    with pytest.raises(SystemExit):
        _parse(option, "x")
