"""``python -m cnnbook bench``: time convolution forward+backward, naive vs fast vs PyTorch (CPU).

Every implementation runs the same float32 layers (batch 64, 3x3 kernels, padding 1 by default).
Runs are interleaved (fast, torch, fast, torch, ...) so a busy machine slows all of them alike,
and each time reported is a median. Every layer gets its own line: the fast version's time, its
GFLOP/s and their share of this machine's float32 matrix-product (sgemm) rate, measured first (the
ceiling for an im2col convolution), PyTorch's time and share of that rate (for the same operation
count: to come within 1.5x of PyTorch, the fast version needs at least two thirds of PyTorch's
share), then every other implementation's time as a ratio to PyTorch's. The last lines name the
layers where the fast version takes more than 1.5x PyTorch's time, and those where a peer beats it.

Two public peers join when their code is on this machine (none of it is part of the workbook):
``--cs231n DIR`` (or ``$CNNBOOK_BENCH_CS231N``), the folder that holds CS231n assignment 2's ``cs231n``
package with its Cython extension built (``fast_layers.conv_forward_fast``), and ``--dlfs DIR``
(or ``$CNNBOOK_BENCH_DLFS``), the folder that holds *Deep Learning from Scratch*'s ``common``
package (``common.layers.Convolution``, NumPy im2col). Their gradients are checked against
PyTorch's (or the fast version's) before anything is timed.

The naive loops run only on one small layer: they are slow, and one layer is enough to show how
much the vectorised version gains. Timings are printed, never asserted: they depend on the machine
and on what else runs there.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import statistics
import sys
import time

import numpy as np

from cnnbook.commands._cli import positive_int, seed

# (C, F, H, W): the feature-map sizes of a small Fashion-MNIST / CIFAR-10 CNN.
DEFAULT_SHAPES = ((1, 16, 28, 28), (16, 32, 14, 14), (32, 64, 7, 7), (3, 32, 32, 32), (32, 64, 16, 16))
GOAL_RATIO = 1.5  # the fast version's time over PyTorch's that the bench reports layers above (a goal, not a test)
NAIVE_SHAPE = (4, 3, 8, 16, 16)  # (N, C, F, H, W): small, because the loops are slow


def _parse_shape(text: str) -> tuple[int, int, int, int]:
    """``"C->F:HxW"`` (e.g. ``"16->32:14x14"``) as ``(C, F, H, W)``."""
    match = re.fullmatch(r"\s*(\d+)->(\d+):(\d+)x(\d+)\s*", text)
    if not match or 0 in (shape := tuple(int(v) for v in match.groups())):
        raise argparse.ArgumentTypeError(f"shape {text!r} is not of the form C->F:HxW with sizes >= 1, "
                                         "e.g. 16->32:14x14")
    return shape


def add_layer_arguments(parser, repeats: int = 15) -> None:
    """``--batch``, ``--repeats`` and ``--shapes``: which layers to time, and how often (also used by
    ``benchmarks/conv_profile.py`` and ``benchmarks/conv_alternatives.py``)."""
    parser.add_argument("--batch", type=positive_int, default=64, help="batch size N (default 64)")
    parser.add_argument("--repeats", type=positive_int, default=repeats,
                        help=f"timed runs per implementation and shape (default {repeats})")
    parser.add_argument("--shapes", type=_parse_shape, nargs="+", metavar="C->F:HxW",
                        default=list(DEFAULT_SHAPES), help="layers to time (default: five CNN layers)")


def add_arguments(parser) -> None:
    add_layer_arguments(parser)
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is installed")
    parser.add_argument("--no-naive", action="store_true", help="skip the (slow) naive comparison")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="threads for both NumPy's BLAS and PyTorch (default: each library's own default)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, steadier on a busy "
                             "machine and fair with --threads 1")
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--cs231n", metavar="DIR", default=os.environ.get("CNNBOOK_BENCH_CS231N"),
                        help="folder holding CS231n assignment 2's cs231n package, Cython extension built "
                             "(default: $CNNBOOK_BENCH_CS231N; skipped when unset)")
    parser.add_argument("--dlfs", metavar="DIR", default=os.environ.get("CNNBOOK_BENCH_DLFS"),
                        help="folder holding Deep Learning from Scratch's common package "
                             "(default: $CNNBOOK_BENCH_DLFS; skipped when unset)")


def _ours(forward, backward, x, w, b, dout):
    def step():
        out, cache = forward(x, w, b, 1, 1)
        return backward(dout, cache)
    return step


def _torch_step(torch, x, w, b, dout):
    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    tdout = torch.from_numpy(dout)

    def step():
        tx.grad = tw.grad = tb.grad = None
        out = torch.nn.functional.conv2d(tx, tw, tb, stride=1, padding=1)
        out.backward(tdout)
        return tx.grad, tw.grad, tb.grad
    return step


def _import_from(folder: str, module: str):
    """``module`` imported with ``folder`` first on ``sys.path`` (the peers are folders, not installed packages)."""
    if not os.path.isdir(folder):
        raise ImportError(f"{folder} is not a folder")
    sys.path.insert(0, os.path.abspath(folder))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.pop(0)


def _cs231n_factory(folder: str):
    """CS231n assignment 2's ``conv_forward_fast``/``conv_backward_fast`` (im2col by strides, Cython col2im)."""
    fast = _import_from(folder, "cs231n.fast_layers")
    if not hasattr(fast, "col2im_6d_cython"):
        raise ImportError(f"its Cython extension is not built (cd {folder}/cs231n && python setup.py build_ext --inplace)")

    def factory(x, w, b, dout):
        def step():
            out, cache = fast.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
            return fast.conv_backward_fast(dout, cache)
        return step
    return factory


def _dlfs_factory(folder: str):
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


def _peers(args) -> dict:
    """``{name: factory}`` for the peers whose folders were given and import; one line for each that does not."""
    found = {}
    for name, folder, make in (("cs231n", args.cs231n, _cs231n_factory), ("dlfs", args.dlfs, _dlfs_factory)):
        if not folder:
            continue
        try:
            found[name] = make(folder)
        except Exception as err:  # noqa: BLE001 (a peer that cannot run is reported and skipped, never fatal)
            print(f"{name}: skipped, cannot import it from {folder} ({type(err).__name__}: {err})")
    return found


def _sgemm_rate(clock, n: int = 1024, repeats: int = 7) -> float:
    """This machine's float32 matrix-product rate in GFLOP/s (median of ``repeats`` ``n x n`` products)."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    a @ a  # warm-up: thread pool and caches
    times = []
    for _ in range(repeats):
        start = clock()
        a @ a
        times.append(clock() - start)
    return 2 * n ** 3 / max(statistics.median(times), 1e-9) / 1e9


def _conv_flops(N, C, F, H, W, k: int = 3) -> int:
    """Floating-point operations of forward+backward: three products of ``2*N*H*W*F*C*k*k`` each (same padding)."""
    return 3 * 2 * N * H * W * F * C * k * k


def _disagreement(ours, reference) -> str | None:
    """The name of the first gradient (dx, dw, db) off by more than 1e-3 of its largest value, else None."""
    for name, a, t in zip(("dx", "dw", "db"), ours, reference):
        a, t = np.asarray(a, dtype=np.float64), np.asarray(t, dtype=np.float64)
        scale = float(np.abs(t).max()) or 1.0
        if a.shape != t.shape or float(np.abs(a - t).max()) > 1e-3 * scale:
            return name
    return None


def _interleaved_medians(steps: dict, repeats: int, clock=time.perf_counter, burst: int = 3) -> dict:
    """Median seconds per call of each step, interleaved in rounds.

    Each round gives every step one untimed call, then ``burst`` timed ones. The untimed call is the
    hand-over: right after the other library ran, its thread pool is still spinning on the cores
    (PyTorch's OpenMP threads do, for a while), and on a 2-core machine that alone made the first
    NumPy call after a PyTorch call 2-3x slower. Rounds still alternate, so a noisy neighbour slows
    every step alike.
    """
    times = {name: [] for name in steps}
    for _ in range(max(1, -(-repeats // burst))):  # ceil(repeats / burst) rounds
        for name, step in steps.items():
            step()
            for _ in range(burst):
                start = clock()
                step()
                times[name].append(clock() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def _layer(rng, N, C, F, H, W):
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((F, C, 3, 3), dtype=np.float32) * np.float32(1 / np.sqrt(9 * C))
    b = rng.standard_normal(F, dtype=np.float32)
    dout = rng.standard_normal((N, F, H, W), dtype=np.float32)
    return x, w, b, dout


def run(args) -> int:
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing the fast convolution alone (pip install torch for the comparison)")
    limiter = None
    if args.threads is not None:
        if torch is not None:
            torch.set_num_threads(args.threads)
        try:
            from threadpoolctl import threadpool_limits
            limiter = threadpool_limits(limits=args.threads, user_api="blas")
        except ImportError:
            print("threadpoolctl is not installed: NumPy's BLAS keeps its default thread count")
    try:
        return _report(args, torch)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def load_average() -> str:
    """The load average over 1, 5 and 15 minutes, two decimals each ("unknown" where the system has none);
    every benchmark prints it, since other processes on the machine slow the runs down."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _blas_line() -> str:
    """Which BLAS kernel NumPy runs, and on how many threads (threadpoolctl), or why that is unknown."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (threadpoolctl is not installed)"
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(f"BLAS: {i.get('internal_api')} {i.get('version')}, kernel {i.get('architecture')}, "
                     f"{i.get('num_threads')} threads" for i in blas) or "BLAS: none found by threadpoolctl"


def _report(args, torch) -> int:
    from cnnbook.layers import conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive

    rng = np.random.default_rng(args.seed)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    peers = _peers(args)
    print(f"conv2d forward+backward, float32, batch {args.batch}, 3x3 kernels, padding 1; "
          f"median {args.clock} time of {args.repeats} interleaved runs")
    print(f"numpy {np.__version__}" + (f"; torch {torch.__version__} with {torch.get_num_threads()} threads"
                                       if torch is not None else ""))
    print(_blas_line())
    if args.threads is not None:
        print(f"threads: {args.threads} for BLAS and PyTorch")
    print(f"load average (1, 5, 15 min): {load_average()} on {os.cpu_count()} CPUs")
    sgemm = _sgemm_rate(clock)
    print(f"sgemm ceiling: {sgemm:.1f} GFLOP/s (float32 1024x1024 matrix product)")
    base = "torch" if torch is not None else "fast"  # every ratio is a time over this one's
    compared = [name for name in ["fast", *peers] if name != base]
    print(f"{'layer':<16}{'fast ms':>9}{'GFLOP/s':>9}{'%sgemm':>8}" + (f"{'torch ms':>10}{'%sgemm':>8}" if torch else "")
          + "".join(f"{f'{name}/{base}':>14}" for name in compared))
    medians = []
    for C, F, H, W in args.shapes:
        x, w, b, dout = _layer(rng, args.batch, C, F, H, W)
        steps = {"fast": _ours(conv2d_forward, conv2d_backward, x, w, b, dout)}
        if torch is not None:
            steps["torch"] = _torch_step(torch, x, w, b, dout)
        steps.update({name: factory(x, w, b, dout) for name, factory in peers.items()})
        reference = [np.asarray(g) for g in steps[base]()]  # also every step's warm-up
        for name in compared:
            bad = _disagreement(steps[name](), reference)
            if bad:
                print(f"{name} and {base} disagree on {bad} for {C}->{F}:{H}x{W}")
                return 1
        med = _interleaved_medians(steps, args.repeats, clock)
        medians.append(med)
        flops = _conv_flops(args.batch, C, F, H, W)
        share = {name: 100 * flops / med[name] / 1e9 / sgemm for name in med}  # % of the ceiling, im2col's count
        print(f"{f'{C}->{F} {H}x{W}':<16}{med['fast'] * 1e3:>9.2f}{flops / med['fast'] / 1e9:>9.1f}{share['fast']:>8.0f}"
              + (f"{med['torch'] * 1e3:>10.2f}{share['torch']:>8.0f}" if torch else "")
              + "".join(f"{med[name] / med[base]:>14.2f}" for name in compared))
    for name in compared:
        ratios = [med[name] / med[base] for med in medians]
        print(f"{name}/{base} ratio: median {statistics.median(ratios):.2f}, worst {max(ratios):.2f}")
    if torch is not None:  # the goal of issue 25: within 1.5x of PyTorch CPU on every layer
        over = [f"{C}->{F} {H}x{W}" for (C, F, H, W), med in zip(args.shapes, medians)
                if med["fast"] > GOAL_RATIO * med["torch"]]
        print(f"fast is more than {GOAL_RATIO}x torch's time on: {', '.join(over) or 'no layer'}")
    for name in peers:
        slower = [f"{C}->{F} {H}x{W}" for (C, F, H, W), med in zip(args.shapes, medians) if med["fast"] > med[name]]
        print(f"fast is slower than {name} on: {', '.join(slower) or 'no layer'}")
    if not args.no_naive:
        N, C, F, H, W = NAIVE_SHAPE
        x, w, b, dout = _layer(rng, N, C, F, H, W)
        med = _interleaved_medians({"naive": _ours(conv2d_forward_naive, conv2d_backward_naive, x, w, b, dout),
                                    "fast": _ours(conv2d_forward, conv2d_backward, x, w, b, dout)},
                                   max(1, min(args.repeats, 3)), clock)
        print(f"naive vs fast on batch {N}, {C}->{F} {H}x{W}: naive {med['naive'] * 1e3:.1f} ms, "
              f"fast {med['fast'] * 1e3:.3f} ms, fast is {med['naive'] / med['fast']:.0f}x faster")
    return 0
