"""``python -m cnnbook bench``: what the vectorised convolution gains over the loops, and how close it is to PyTorch.

Times convolution forward+backward (float32, 3x3 kernels, padding 1) on the feature-map sizes of a small
CNN (:data:`SHAPES`): the fast im2col layer (``cnnbook.layers.conv2d_forward``/``conv2d_backward``) and,
when PyTorch is installed, PyTorch's ``conv2d`` with autograd; one line per layer with both times and
their ratio. The naive loops run on one small layer only (:data:`NAIVE_SHAPE`): they are slow, and one
layer is enough to show what vectorising gains.

cnnbook runs on the threads that training uses (:func:`cnnbook.backend.blas_threads`), PyTorch
with its own default; ``--threads N`` gives both ``N``. The threads each library used and the load
average are printed, since both move the ratios. The implementations take turns
(:func:`interleaved_medians`), so a busy machine slows them alike. Timings are printed, never asserted.

The maintainers' benchmarks (other libraries' convolutions, profiles, training steps) live in the
repository's ``benchmarks/`` folder; they import the public functions below.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time

import numpy as np

from cnnbook.commands.cli import positive_int

# (C, F, H, W): the feature-map sizes of a small Fashion-MNIST / CIFAR-10 CNN.
SHAPES = ((1, 16, 28, 28), (16, 32, 14, 14), (32, 64, 7, 7), (3, 32, 32, 32), (32, 64, 16, 16))
NAIVE_SHAPE = (4, 3, 8, 16, 16)  # (N, C, F, H, W): small, because the loops are slow


def add_arguments(parser) -> None:
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per layer call (default 64)")
    parser.add_argument("--repeats", type=positive_int, default=15,
                        help="timed runs per implementation and layer (default 15)")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="threads for both cnnbook's layers and PyTorch (default: cnnbook's training default, "
                             "$CNNBOOK_BLAS_THREADS else the CPUs this process may use, and PyTorch's own)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is installed")


def random_layer(rng, N, C, F, H, W):
    """float32 ``x (N, C, H, W)``, ``w (F, C, 3, 3)``, ``b (F,)`` and ``dout (N, F, H, W)`` for a 3x3 layer
    with padding 1 (``w`` scaled by ``1/sqrt(9C)``, so outputs stay near unit size)."""
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((F, C, 3, 3), dtype=np.float32) * np.float32(1 / np.sqrt(9 * C))
    b = rng.standard_normal(F, dtype=np.float32)
    dout = rng.standard_normal((N, F, H, W), dtype=np.float32)
    return x, w, b, dout


def conv_step(forward, backward, x, w, b, dout):
    """A function that runs ``forward(x, w, b, 1, 1)`` then ``backward`` and returns ``(dx, dw, db)``."""
    def step():
        _, cache = forward(x, w, b, 1, 1)
        return backward(dout, cache)
    return step


def torch_conv_step(torch, x, w, b, dout):
    """The same step in PyTorch: ``conv2d`` (stride 1, padding 1), then autograd; returns ``(dx, dw, db)``."""
    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    tdout = torch.from_numpy(dout)

    def step():
        tx.grad = tw.grad = tb.grad = None
        out = torch.nn.functional.conv2d(tx, tw, tb, stride=1, padding=1)
        out.backward(tdout)
        return tx.grad, tw.grad, tb.grad
    return step


def interleaved_medians(steps: dict, repeats: int, clock=time.perf_counter, burst: int = 3) -> dict:
    """``{name: median seconds per call}`` of each step in ``steps`` (``{name: function}``), taking turns.

    Each round gives every step one untimed call, then ``burst`` timed ones. The untimed call is the
    hand-over: right after another library ran, its thread pool may still spin on the cores, which made
    the next call 2-3x slower on a 2-core machine. Rounds alternate, so a noisy neighbour slows every
    step alike.
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


def load_average() -> str:
    """The load average over 1, 5 and 15 minutes, two decimals each ("unknown" where the system has none):
    other processes on the machine slow every timing down."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _blas_pools() -> list[dict] | None:
    """threadpoolctl's description of each BLAS library NumPy loaded, or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    pools = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    # SciPy (loaded by scikit-image) brings a BLAS of its own; a wheel's NumPy keeps its BLAS in numpy.libs
    own = [info for info in pools if "numpy" in os.path.basename(os.path.dirname(info.get("filepath", "")))]
    return own or pools


def blas_line() -> str:
    """Which BLAS NumPy runs, its kernel and its threads right now (threadpoolctl), or why that is unknown."""
    pools = _blas_pools()
    if pools is None:
        return "BLAS: unknown (threadpoolctl is not installed)"
    return "; ".join(f"BLAS: {i.get('internal_api')} {i.get('version')}, kernel {i.get('architecture')}, "
                     f"{i.get('num_threads')} threads" for i in pools) or "BLAS: none found by threadpoolctl"


def threads_line(torch=None) -> str:
    """The threads each library uses right now: cnnbook's layers (:func:`cnnbook.backend.layer_threads`) with
    NumPy's BLAS threads in each, and, when given, PyTorch's."""
    from cnnbook.backend import layer_threads

    pools = _blas_pools()
    blas = ", ".join(str(i.get("num_threads")) for i in pools) if pools else "unknown"
    return (f"threads: cnnbook {layer_threads()} (the layers' threads; NumPy's BLAS {blas} in each)"
            + (f", torch {torch.get_num_threads()}" if torch else ""))


def run(args) -> int:
    from cnnbook.backend import blas_threads

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing cnnbook alone (pip install torch for the comparison)")
    torch_threads = torch.get_num_threads() if torch is not None else None
    try:
        if torch is not None and args.threads is not None:
            torch.set_num_threads(args.threads)
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(blas_threads(args.threads))
            except ValueError as exc:  # a $CNNBOOK_BLAS_THREADS that is not a positive integer
                print(f"error: {exc}", file=sys.stderr)
                return 1
            return _report(args, torch)
    finally:
        if torch is not None:
            torch.set_num_threads(torch_threads)


def _report(args, torch) -> int:
    from cnnbook.layers import conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive

    rng = np.random.default_rng(0)
    print(f"conv2d forward+backward, float32, batch {args.batch_size}, 3x3 kernels, padding 1; "
          f"median time of {args.repeats} interleaved runs")
    print(f"numpy {np.__version__}" + (f"; torch {torch.__version__}" if torch is not None else ""))
    print(threads_line(torch))
    print(f"load average (1, 5, 15 min): {load_average()} on {os.cpu_count()} CPUs")
    print(f"{'layer':<16}{'fast ms':>9}" + (f"{'torch ms':>10}{'fast/torch':>12}" if torch else ""))
    ratios = []
    for C, F, H, W in SHAPES:
        x, w, b, dout = random_layer(rng, args.batch_size, C, F, H, W)
        steps = {"fast": conv_step(conv2d_forward, conv2d_backward, x, w, b, dout)}
        if torch is not None:
            steps["torch"] = torch_conv_step(torch, x, w, b, dout)
        med = interleaved_medians(steps, args.repeats)
        line = f"{f'{C}->{F} {H}x{W}':<16}{med['fast'] * 1e3:>9.2f}"
        if torch is not None:
            ratios.append(med["fast"] / med["torch"])
            line += f"{med['torch'] * 1e3:>10.2f}{ratios[-1]:>12.2f}"
        print(line)
    if ratios:
        print(f"fast/torch ratio: median {statistics.median(ratios):.2f}, worst {max(ratios):.2f} "
              "(above 1: cnnbook takes longer)")
    N, C, F, H, W = NAIVE_SHAPE
    x, w, b, dout = random_layer(rng, N, C, F, H, W)
    med = interleaved_medians({"naive": conv_step(conv2d_forward_naive, conv2d_backward_naive, x, w, b, dout),
                               "fast": conv_step(conv2d_forward, conv2d_backward, x, w, b, dout)},
                              min(args.repeats, 3))
    print(f"naive vs fast on batch {N}, {C}->{F} {H}x{W}: naive {med['naive'] * 1e3:.1f} ms, "
          f"fast {med['fast'] * 1e3:.3f} ms, fast is {med['naive'] / med['fast']:.0f}x faster")
    return 0
