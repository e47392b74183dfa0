"""Where cnnbook's convolution spends its time, line by line (line_profiler on the real layer).

Runs ``conv2d_forward`` + ``conv2d_backward`` on the bench's layers (float32, batch 64, 3x3, padding 1)
on one BLAS thread under ``line_profiler``, then sums the lines into the stages that
``benchmarks/README.md`` discusses: the three matrix products, the im2col copies, the col2im adds,
and everything else (padding, transposed copies, bias, checks, Python). The profiler itself costs
a few microseconds a line, so the layer runs somewhat slower than in ``python -m cnnbook bench``;
what this is for is the split. ``--lines`` also prints every line's share.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.conv_profile --repeats 20
"""
from __future__ import annotations

import argparse
import linecache
import sys
import time

import numpy as np

from benchmarks import harness
from cnnbook.layers import conv as conv_module

# Each stage, and a piece of source text that only its lines of conv.py contain.
STAGES = (("products", ("xp.matmul(", " @ ")), ("im2col", ("cols[:, :, :, blk] =",)), ("col2im", ("+= dcols[i, j",)))


# The layer and the pieces of work it hands to its threads (cnnbook/layers/parallel.py).
LAYER_FUNCTIONS = (conv_module.conv2d_forward, conv_module.conv2d_backward, conv_module._im2col_product,
                   conv_module._backward_products, conv_module._col2im)


def stage_of(source: str) -> str:
    """The stage a line of ``conv.py`` belongs to: one of :data:`STAGES`, else ``"other"``."""
    for stage, marks in STAGES:
        if any(mark in source for mark in marks):
            return stage
    return "other"


# A line that calls another of LAYER_FUNCTIONS (a piece of source text it contains, and the function called):
# the profiler counts the callee's time in that line too, so it is taken out there (exclusive times).
CALLS = (("parallel.run(fill", "_im2col_product"), ("parallel.run(products", "_backward_products"),
         ("_col2im(", "_col2im"))


def exclusive(lines: dict, sources: dict) -> dict:
    """``lines`` ``{(function, line number): seconds}`` with each calling line's callee time taken out (see
    :data:`CALLS`), so that every second is counted once, in the line that spends it, and the lines add up
    to the layer's time."""
    inclusive = {}
    for (function, _), seconds in lines.items():
        inclusive[function] = inclusive.get(function, 0.0) + seconds
    result = {}
    for key, seconds in lines.items():
        callee = next((called for mark, called in CALLS if mark in sources[key] and called != key[0]), None)
        result[key] = max(0.0, seconds - inclusive.get(callee, 0.0)) if callee else seconds
    return result


def profile_layer(x, w, b, dout, repeats: int):
    """``{(function, line number): seconds per call}`` of the layer's own lines, each counted once (a line that
    calls another of the layer's functions without the callee's time: :func:`exclusive`), and their sources.

    On one thread (``blas_threads(1)``): the profiler sees only the thread it runs in, and the layers' pool
    (cnnbook/layers/parallel.py) would run the copies in other threads."""
    from line_profiler import LineProfiler

    from cnnbook.backend import blas_threads

    profiler = LineProfiler(*LAYER_FUNCTIONS)
    with blas_threads(1):
        for _ in range(2):  # warm-up outside the profile
            conv_module.conv2d_backward(dout, conv_module.conv2d_forward(x, w, b, 1, 1)[1])
        profiler.enable_by_count()
        try:
            for _ in range(repeats):
                conv_module.conv2d_backward(dout, conv_module.conv2d_forward(x, w, b, 1, 1)[1])
        finally:
            profiler.disable_by_count()
    stats = profiler.get_stats()
    lines, sources = {}, {}
    for (filename, _, function), timings in stats.timings.items():
        for lineno, _, total in timings:
            lines[(function, lineno)] = total * stats.unit / repeats
            sources[(function, lineno)] = linecache.getline(filename, lineno).strip()
    return exclusive(lines, sources), sources


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conv_profile", description=__doc__.splitlines()[0])
    harness.add_layer_arguments(parser, repeats=10)
    parser.add_argument("--lines", action="store_true", help="also print every line of at least 1%% of a layer")
    args = parser.parse_args(argv)
    stage_names = [stage for stage, _ in STAGES] + ["other"]
    rng = np.random.default_rng(0)
    with harness.pinned_threads(1):
        sgemm = harness.sgemm_rate(time.process_time)
        print(f"conv2d forward+backward under line_profiler, float32, batch {args.batch_size}, 3x3, padding 1, "
              f"one BLAS thread; ms per call, mean of {args.repeats}")
        print(f"sgemm ceiling: {sgemm:.1f} GFLOP/s; {harness.blas_line()}")
        print(f"{'layer':<16}{'total':>8}" + "".join(f"{name:>10}" for name in stage_names)
              + f"{'products GFLOP/s':>18}")
        for C, F, H, W in args.shapes:
            x, w, b, dout = harness.random_layer(rng, args.batch_size, C, F, H, W)
            lines, sources = profile_layer(x, w, b, dout, args.repeats)
            total = sum(lines.values())
            per_stage = {name: 0.0 for name in stage_names}
            for key, seconds in lines.items():
                per_stage[stage_of(sources[key])] += seconds
            rate = harness.conv_flops(args.batch_size, C, F, H, W) / max(per_stage["products"], 1e-12) / 1e9
            print(f"{f'{C}->{F} {H}x{W}':<16}{total * 1e3:>8.2f}"
                  + "".join(f"{per_stage[name] * 1e3:>10.2f}" for name in stage_names) + f"{rate:>18.1f}")
            if args.lines:
                for key in sorted(lines, key=lambda k: (k[0] != "conv2d_forward", k[1])):
                    if lines[key] >= 0.01 * total:
                        print(f"    {lines[key] * 1e3:7.3f} ms {100 * lines[key] / total:5.1f}%  {key[0]}:{key[1]}  "
                              f"{sources[key][:90]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
