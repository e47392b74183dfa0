"""What the benchmarks share: the layers they time, how they time them, the machine's ceiling, the peers.

* Layers: :data:`SHAPES` (the feature-map sizes of a small CNN), :func:`parse_shape` and
  :func:`add_layer_arguments` (``--batch-size``, ``--repeats``, ``--shapes``), :func:`random_layer`; the
  command line's argument types :func:`positive_int` and :func:`seed`, so the scripts refuse what
  ``python -m cnnbook`` refuses.
* Timing: :func:`conv_step`, :func:`torch_conv_step`, :func:`interleaved_medians` (the implementations take
  turns, one untimed hand-over call each, then a burst of timed ones; medians), :func:`clock`
  (``"wall"`` or ``"cpu"``), :func:`pinned_threads`.
* The machine: :func:`sgemm_rate` (its float32 matrix-product rate, the ceiling for an im2col convolution),
  :func:`conv_flops`, :func:`blas_line`, :func:`threads_line`, :func:`load_average`.
* Checks: :func:`disagreement` (which gradient of two implementations differs).
* The teaching peers, whose code is not part of the workbook: :func:`add_peer_arguments` and :func:`peers`
  (CS231n assignment 2's Cython fast layers, *Deep Learning from Scratch*'s NumPy im2col).

``python -m cnnbook bench`` uses the same timing functions; they are public functions of
``cnnbook.commands.bench`` (the installed package cannot import this folder) and are re-exported here.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import statistics
import sys
import time

import numpy as np

from cnnbook.commands.bench import (
    NAIVE_SHAPE,
    SHAPES,
    blas_line,
    conv_step,
    interleaved_medians,
    load_average,
    random_layer,
    threads_line,
    torch_conv_step,
)
from cnnbook.commands.cli import positive_int, seed

__all__ = ["NAIVE_SHAPE", "SHAPES", "PEER_FOLDERS", "add_layer_arguments", "add_peer_arguments", "blas_line", "clock",
           "conv_flops", "conv_step", "disagreement", "interleaved_medians", "load_average", "parse_shape", "peers",
           "pinned_threads", "positive_int", "random_layer", "seed", "sgemm_rate", "threads_line", "torch_conv_step"]

# ---------------------------------------------------------------- layers


def parse_shape(text: str) -> tuple[int, int, int, int]:
    """``"C->F:HxW"`` (e.g. ``"16->32:14x14"``) as ``(C, F, H, W)``; an ``argparse`` type."""
    match = re.fullmatch(r"\s*(\d+)->(\d+):(\d+)x(\d+)\s*", text)
    if not match or 0 in (shape := tuple(int(v) for v in match.groups())):
        raise argparse.ArgumentTypeError(f"shape {text!r} is not of the form C->F:HxW with sizes >= 1, "
                                         "e.g. 16->32:14x14")
    return shape


def add_layer_arguments(parser, repeats: int = 15) -> None:
    """``--batch-size``, ``--repeats`` and ``--shapes``: which layers to time, and how often."""
    parser.add_argument("--batch-size", type=positive_int, default=64, help="batch size N (default 64)")
    parser.add_argument("--repeats", type=positive_int, default=repeats,
                        help=f"timed runs per implementation and layer (default {repeats})")
    parser.add_argument("--shapes", type=parse_shape, nargs="+", metavar="C->F:HxW",
                        default=list(SHAPES), help="layers to time (default: five CNN layers)")


# ---------------------------------------------------------------- timing


def clock(name: str):
    """``time.perf_counter`` for ``"wall"``, ``time.process_time`` (this process's CPU time) for ``"cpu"``."""
    if name == "wall":
        return time.perf_counter
    if name == "cpu":
        return time.process_time
    raise ValueError(f"clock {name!r} is neither 'wall' nor 'cpu'")


@contextlib.contextmanager
def pinned_threads(n: int | None, torch=None):
    """A block in which cnnbook's layers run on ``n`` threads (:func:`cnnbook.backend.blas_threads`, NumPy's
    BLAS one thread in each) and ``torch``, when given, on ``n`` threads; ``n=None`` leaves every library at
    its default. The previous settings come back at the end."""
    if n is None:
        yield
        return
    from cnnbook.backend import blas_threads

    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        with blas_threads(n):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)


# ---------------------------------------------------------------- the machine


def sgemm_rate(clock=time.perf_counter, n: int = 1024, repeats: int = 7) -> float:
    """This machine's float32 matrix-product rate in GFLOP/s (median of ``repeats`` ``n x n`` products)."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    a @ a  # warm-up: thread pool and caches
    times = []
    for _ in range(repeats):
        start = clock()
        a @ a
        times.append(clock() - start)
    return 2 * n ** 3 / max(statistics.median(times), 1e-9) / 1e9


def conv_flops(N, C, F, H, W, k: int = 3) -> int:
    """Floating-point operations of forward+backward: three products of ``2*N*H*W*F*C*k*k`` each (same padding)."""
    return 3 * 2 * N * H * W * F * C * k * k


# ---------------------------------------------------------------- checks


def disagreement(ours, reference) -> str | None:
    """The name of the first gradient (dx, dw, db) off by more than 1e-3 of its largest value, else None."""
    for name, a, t in zip(("dx", "dw", "db"), ours, reference):
        a, t = np.asarray(a, dtype=np.float64), np.asarray(t, dtype=np.float64)
        scale = float(np.abs(t).max()) or 1.0
        if a.shape != t.shape or float(np.abs(a - t).max()) > 1e-3 * scale:
            return name
    return None


# ---------------------------------------------------------------- the peers

PEER_FOLDERS = {"cs231n": "CNNBOOK_BENCH_CS231N", "dlfs": "CNNBOOK_BENCH_DLFS"}  # name: environment variable


def add_peer_arguments(parser) -> None:
    """``--cs231n DIR`` and ``--dlfs DIR``, defaulting to ``$CNNBOOK_BENCH_CS231N`` and ``$CNNBOOK_BENCH_DLFS``."""
    parser.add_argument("--cs231n", metavar="DIR", default=os.environ.get(PEER_FOLDERS["cs231n"]),
                        help="folder holding CS231n assignment 2's cs231n package, Cython extension built "
                             "(default: $CNNBOOK_BENCH_CS231N; skipped when unset)")
    parser.add_argument("--dlfs", metavar="DIR", default=os.environ.get(PEER_FOLDERS["dlfs"]),
                        help="folder holding Deep Learning from Scratch's common package "
                             "(default: $CNNBOOK_BENCH_DLFS; skipped when unset)")


def _import_from(folder: str, module: str):
    """``module`` imported with ``folder`` first on ``sys.path`` (the peers are folders, not installed packages)."""
    if not os.path.isdir(folder):
        raise ImportError(f"{folder} is not a folder")
    sys.path.insert(0, os.path.abspath(folder))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.pop(0)


def _cs231n(folder: str):
    """CS231n assignment 2's ``conv_forward_fast``/``conv_backward_fast`` (im2col by strides, Cython col2im)."""
    fast = _import_from(folder, "cs231n.fast_layers")
    if not hasattr(fast, "col2im_6d_cython"):
        raise ImportError(f"its Cython extension is not built "
                          f"(cd {folder}/cs231n && python setup.py build_ext --inplace)")

    def factory(x, w, b, dout):
        def step():
            _, cache = fast.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
            return fast.conv_backward_fast(dout, cache)
        return step
    return factory


def _dlfs(folder: str):
    """*Deep Learning from Scratch*'s ``common.layers.Convolution`` (NumPy im2col and col2im)."""
    layers = _import_from(folder, "common.layers")

    def factory(x, w, b, dout):
        conv = layers.Convolution(w, b, stride=1, pad=1)

        def step():
            conv.forward(x)
            dx = conv.backward(dout)
            return dx, conv.dW, conv.db
        return step
    return factory


def peers(cs231n: str | None = None, dlfs: str | None = None) -> dict:
    """``{name: factory}`` for the peers whose folders are given and import; ``factory(x, w, b, dout)`` returns a
    step like :func:`conv_step`'s. A peer that cannot run is reported on one line and left out, never fatal."""
    found = {}
    for name, folder, make in (("cs231n", cs231n, _cs231n), ("dlfs", dlfs, _dlfs)):
        if not folder:
            continue
        try:
            found[name] = make(folder)
        except Exception as err:  # noqa: BLE001 (anything a foreign package raises on import)
            print(f"{name}: skipped, cannot import it from {folder} ({type(err).__name__}: {err})")
    return found
