"""Convolution forward+backward: cnnbook's fast layer against PyTorch's CPU conv2d and the teaching peers.

Every implementation runs the same float32 layers (batch 64, 3x3 kernels, padding 1 by default), taking
turns (``harness.interleaved_medians``), so a busy machine slows all of them alike; each time reported is
a median. It first measures this machine's float32 matrix-product (sgemm) rate, the ceiling for an im2col
convolution. Every layer gets a line: the fast version's time, its GFLOP/s and their share of the sgemm
rate, PyTorch's time and share of that rate (for the same operation count: to come within 1.5x of
PyTorch, the fast version needs at least two thirds of PyTorch's share), then every other implementation's
time as a ratio to PyTorch's. The last lines name the layers where the fast version takes more than
:data:`GOAL_RATIO` times PyTorch's time, and those where a peer beats it. All gradients are checked against
PyTorch's (or the fast version's) before anything is timed. The naive loops run on one small layer.

The peers (``--cs231n DIR``, ``--dlfs DIR``; not part of the workbook) are described in benchmarks/README.md,
with how to fetch and build them. Run from the repository root, e.g.::

    python -m benchmarks.bench_conv --repeats 30
    python -m benchmarks.bench_conv --shapes '16->32:14x14' --batch-size 128
    python -m benchmarks.bench_conv --threads 1 --clock cpu \\
        --cs231n /tmp/peers/cs231n/assignment2 --dlfs /tmp/peers/dlfs
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np

from benchmarks import harness

GOAL_RATIO = 1.5  # the fast version's time over PyTorch's that the report names layers above (a goal, not a test)


def add_arguments(parser) -> None:
    harness.add_layer_arguments(parser)
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even when it is installed")
    parser.add_argument("--no-naive", action="store_true", help="skip the (slow) naive comparison")
    parser.add_argument("--threads", type=harness.positive_int, default=None,
                        help="threads for both cnnbook's layers and PyTorch (default: each library's own default)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, steadier on a busy "
                             "machine and fair with --threads 1")
    parser.add_argument("--seed", type=harness.seed, default=0)
    harness.add_peer_arguments(parser)


def run(args) -> int:
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing the fast convolution alone (pip install torch for the comparison)")
    with harness.pinned_threads(args.threads, torch):
        return _report(args, torch)


def _report(args, torch) -> int:
    from cnnbook.layers import conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive

    rng = np.random.default_rng(args.seed)
    clock = harness.clock(args.clock)
    peers = harness.peers(args.cs231n, args.dlfs)
    print(f"conv2d forward+backward, float32, batch {args.batch_size}, 3x3 kernels, padding 1; "
          f"median {args.clock} time of {args.repeats} interleaved runs")
    print(f"numpy {np.__version__}" + (f"; torch {torch.__version__}" if torch is not None else ""))
    print(harness.blas_line())
    print(harness.threads_line(torch))
    print(f"load average (1, 5, 15 min): {harness.load_average()} on {os.cpu_count()} CPUs")
    sgemm = harness.sgemm_rate(clock)
    print(f"sgemm ceiling: {sgemm:.1f} GFLOP/s (float32 1024x1024 matrix product, NumPy's BLAS threads as above)")
    base = "torch" if torch is not None else "fast"  # every ratio is a time over this one's
    compared = [name for name in ["fast", *peers] if name != base]
    print(f"{'layer':<16}{'fast ms':>9}{'GFLOP/s':>9}{'%sgemm':>8}"
          + (f"{'torch ms':>10}{'%sgemm':>8}" if torch else "")
          + "".join(f"{f'{name}/{base}':>14}" for name in compared))
    medians = []
    for C, F, H, W in args.shapes:
        x, w, b, dout = harness.random_layer(rng, args.batch_size, C, F, H, W)
        steps = {"fast": harness.conv_step(conv2d_forward, conv2d_backward, x, w, b, dout)}
        if torch is not None:
            steps["torch"] = harness.torch_conv_step(torch, x, w, b, dout)
        steps.update({name: factory(x, w, b, dout) for name, factory in peers.items()})
        reference = [np.asarray(g) for g in steps[base]()]  # also every step's warm-up
        for name in compared:
            bad = harness.disagreement(steps[name](), reference)
            if bad:
                print(f"{name} and {base} disagree on {bad} for {C}->{F}:{H}x{W}")
                return 1
        med = harness.interleaved_medians(steps, args.repeats, clock)
        medians.append(med)
        flops = harness.conv_flops(args.batch_size, C, F, H, W)
        share = {name: 100 * flops / med[name] / 1e9 / sgemm for name in med}  # % of the ceiling, im2col's count
        print(f"{f'{C}->{F} {H}x{W}':<16}{med['fast'] * 1e3:>9.2f}"
              f"{flops / med['fast'] / 1e9:>9.1f}{share['fast']:>8.0f}"
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
        N, C, F, H, W = harness.NAIVE_SHAPE
        x, w, b, dout = harness.random_layer(rng, N, C, F, H, W)
        med = harness.interleaved_medians(
            {"naive": harness.conv_step(conv2d_forward_naive, conv2d_backward_naive, x, w, b, dout),
             "fast": harness.conv_step(conv2d_forward, conv2d_backward, x, w, b, dout)},
            min(args.repeats, 3), clock)
        print(f"naive vs fast on batch {N}, {C}->{F} {H}x{W}: naive {med['naive'] * 1e3:.1f} ms, "
              f"fast {med['fast'] * 1e3:.3f} ms, fast is {med['naive'] / med['fast']:.0f}x faster")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_conv", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
