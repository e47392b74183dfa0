"""``python -m cnnbook bench``: time convolution forward+backward, naive vs fast vs PyTorch (CPU).

Every implementation runs the same float32 layers (batch 64, 3x3 kernels, padding 1 by default).
Runs are interleaved (fast, torch, fast, torch, ...) so a busy machine slows all of them alike,
and each time reported is a median. The naive loops run only on one small layer: they are
slow, and one layer is enough to show how much the vectorised version gains.
Timings are printed, never asserted: they depend on the machine and on what else runs there.
"""
from __future__ import annotations

import argparse
import re
import statistics
import time

import numpy as np

from cnnbook.commands._cli import positive_int, seed

# (C, F, H, W): the feature-map sizes of a small Fashion-MNIST / CIFAR-10 CNN.
DEFAULT_SHAPES = ((1, 16, 28, 28), (16, 32, 14, 14), (32, 64, 7, 7), (3, 32, 32, 32))
NAIVE_SHAPE = (4, 3, 8, 16, 16)  # (N, C, F, H, W): small, because the loops are slow


def _parse_shape(text: str) -> tuple[int, int, int, int]:
    """``"C->F:HxW"`` (e.g. ``"16->32:14x14"``) as ``(C, F, H, W)``."""
    match = re.fullmatch(r"\s*(\d+)->(\d+):(\d+)x(\d+)\s*", text)
    if not match or 0 in (shape := tuple(int(v) for v in match.groups())):
        raise argparse.ArgumentTypeError(f"shape {text!r} is not of the form C->F:HxW with sizes >= 1, "
                                         "e.g. 16->32:14x14")
    return shape


def add_arguments(parser) -> None:
    parser.add_argument("--batch", type=positive_int, default=64, help="batch size N (default 64)")
    parser.add_argument("--repeats", type=positive_int, default=15, help="timed runs per implementation and shape")
    parser.add_argument("--shapes", type=_parse_shape, nargs="+", metavar="C->F:HxW",
                        default=list(DEFAULT_SHAPES), help="layers to time (default: four CNN layers)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is installed")
    parser.add_argument("--no-naive", action="store_true", help="skip the (slow) naive comparison")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="threads for both NumPy's BLAS and PyTorch (default: each library's own default)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, steadier on a busy "
                             "machine and fair with --threads 1")
    parser.add_argument("--seed", type=seed, default=0)


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


def _report(args, torch) -> int:
    from cnnbook.layers import conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive

    rng = np.random.default_rng(args.seed)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"conv2d forward+backward, float32, batch {args.batch}, 3x3 kernels, padding 1; "
          f"median {args.clock} time of {args.repeats} interleaved runs")
    if torch is not None:
        print(f"numpy {np.__version__}; torch {torch.__version__} with {torch.get_num_threads()} threads")
    if args.threads is not None:
        print(f"threads: {args.threads} for BLAS and PyTorch")
    print(f"{'layer':<16}{'fast ms':>10}" + (f"{'torch ms':>10}{'fast/torch':>12}" if torch else ""))
    ratios = []
    for C, F, H, W in args.shapes:
        x, w, b, dout = _layer(rng, args.batch, C, F, H, W)
        steps = {"fast": _ours(conv2d_forward, conv2d_backward, x, w, b, dout)}
        if torch is not None:
            steps["torch"] = _torch_step(torch, x, w, b, dout)
            ours = steps["fast"]()
            theirs = [t.numpy() for t in steps["torch"]()]
            for name, a, t in zip(("dx", "dw", "db"), ours, theirs):
                scale = float(np.abs(t).max()) or 1.0
                if float(np.abs(a - t).max()) > 1e-3 * scale:
                    print(f"fast and torch disagree on {name} for {C}->{F}:{H}x{W}")
                    return 1
        med = _interleaved_medians(steps, args.repeats, clock)
        line = f"{f'{C}->{F} {H}x{W}':<16}{med['fast'] * 1e3:>10.2f}"
        if torch is not None:
            ratios.append(med["fast"] / med["torch"])
            line += f"{med['torch'] * 1e3:>10.2f}{ratios[-1]:>12.2f}"
        print(line)
    if ratios:
        print(f"median fast/torch ratio: {statistics.median(ratios):.2f}")
    if not args.no_naive:
        N, C, F, H, W = NAIVE_SHAPE
        x, w, b, dout = _layer(rng, N, C, F, H, W)
        med = _interleaved_medians({"naive": _ours(conv2d_forward_naive, conv2d_backward_naive, x, w, b, dout),
                                    "fast": _ours(conv2d_forward, conv2d_backward, x, w, b, dout)},
                                   max(1, min(args.repeats, 3)), clock)
        print(f"naive vs fast on batch {N}, {C}->{F} {H}x{W}: naive {med['naive'] * 1e3:.1f} ms, "
              f"fast {med['fast'] * 1e3:.3f} ms, fast is {med['naive'] / med['fast']:.0f}x faster")
    return 0
