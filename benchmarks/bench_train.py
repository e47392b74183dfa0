"""Training speed of the reference CNN: cnnbook (NumPy, CuPy) against PyTorch (CPU, CUDA), and the full command.

1. One training step (forward, softmax loss, backward; float32) of ``cnnbook.models.reference_cnn``
   and of the same network in PyTorch, built from the cnnbook model (same layers, same weights, so
   the losses must agree), timed interleaved; prints the medians and their ratio. Where a GPU works,
   cnnbook on CuPy and PyTorch on CUDA join in (``tools/gpu_check.sh`` runs it so).
2. With ``--command``: runs ``python -m cnnbook train --full`` once and reports its last lines,
   with the load average before and after (other processes on the machine slow it down).

Run NumPy's BLAS at full speed::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.bench_train --batch-size 128 --repeats 15
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.bench_train --command

Speed goals (within 2x of PyTorch; >= 91% in <= 10 minutes) live here, never in the tests.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

from benchmarks import harness, processes
from cnnbook import backend, nn
from cnnbook.layers import softmax_cross_entropy
from cnnbook.models import reference_cnn


def torch_copy(model: nn.Sequential):
    """The same network in PyTorch, with the cnnbook model's weights (Linear weights transposed)."""
    import torch
    from torch import nn as tnn

    layers = []
    for m in model:
        if isinstance(m, nn.Conv2d):
            t = tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding)
        elif isinstance(m, nn.Linear):
            t = tnn.Linear(m.in_features, m.out_features)
        elif isinstance(m, nn.ReLU):
            t = tnn.ReLU()
        elif isinstance(m, nn.MaxPool2d):
            t = tnn.MaxPool2d(m.kernel_size, m.stride)
        elif isinstance(m, nn.Flatten):
            t = tnn.Flatten()
        else:
            raise ValueError(f"no PyTorch counterpart for {m!r}")
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            w = backend.to_numpy(m.weight.data)
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(w.T.copy() if isinstance(m, nn.Linear) else w))
                t.bias.copy_(torch.from_numpy(backend.to_numpy(m.bias.data)))
        layers.append(t)
    return tnn.Sequential(*layers)


def step_functions(batch: int) -> dict:
    """``{name: (step, sync)}``: one training step of the same network (same weights) on every backend here.

    Always cnnbook on NumPy and PyTorch on the CPU; cnnbook on CuPy and PyTorch on CUDA where a GPU works.
    The losses must agree before anything is timed.
    """
    import torch

    rng = np.random.default_rng(0)
    X = rng.random((batch, 1, 28, 28), dtype=np.float32)  # (N, 1, 28, 28)
    y = rng.integers(0, 10, batch)
    loss_fn = torch.nn.CrossEntropyLoss()

    def ours(xp):
        model = reference_cnn(seed=0).to(backend_name=xp)
        Xd, yd = backend.to_device(X, xp), backend.to_device(y, xp)

        def step():
            model.zero_grad()
            loss, dscores = softmax_cross_entropy(model(Xd), yd)
            model.backward_params(dscores)  # as fit does, and PyTorch: no gradient for the input
            return float(loss)
        return step

    def theirs(device):
        net = torch_copy(reference_cnn(seed=0).to(backend_name="numpy")).to(device)
        Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)

        def step():
            net.zero_grad(set_to_none=False)
            loss = loss_fn(net(Xt), yt)
            loss.backward()
            return float(loss.detach())
        return step

    steps = {"cnnbook-numpy": (ours(np), lambda: None), "torch-cpu": (theirs("cpu"), lambda: None)}
    if backend.gpu_status()[0]:
        import cupy
        steps["cnnbook-cupy"] = (ours(cupy), cupy.cuda.Device().synchronize)
    if torch.cuda.is_available():
        steps["torch-gpu"] = (theirs("cuda"), torch.cuda.synchronize)
    losses = {name: step() for name, (step, _) in steps.items()}  # also the warm-up
    reference = losses["torch-cpu"]
    for name, loss in losses.items():
        if abs(loss - reference) > 1e-3 * max(1.0, abs(reference)):
            raise AssertionError(f"the networks disagree: {name} loss {loss}, PyTorch CPU loss {reference}")
    return steps


def bench_step(batch: int, repeats: int, clock=time.perf_counter) -> dict:
    """Median seconds per step of each backend (``harness.interleaved_medians``; a GPU step waits for its device)."""
    steps = {name: _synced(step, sync) for name, (step, sync) in step_functions(batch).items()}
    return harness.interleaved_medians(steps, repeats, clock)


def _synced(step, sync):
    def synced():
        step()
        sync()
    return synced


COMMAND_TIMEOUT_S = 3600  # the full command is stopped (with a message) if it runs longer than this


def run_command(args: list[str]) -> None:
    load_before = harness.load_average()
    t0 = time.perf_counter()
    try:  # in its own session: a timeout, Ctrl-C or SIGTERM here stops it too (processes.run)
        result = processes.run([sys.executable, "-m", "cnnbook", "train", *args], COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"python -m cnnbook train {' '.join(args)}: still running after {COMMAND_TIMEOUT_S} s, stopped")
        return
    wall = time.perf_counter() - t0
    print("\n".join(result.stdout.strip().splitlines()[-12:]))
    print(f"exit {result.returncode}; wall {wall:.1f} s; load average (1, 5, 15 min) before "
          f"{load_before}, after {harness.load_average()} on {os.cpu_count()} CPUs")
    if result.returncode:
        print(result.stderr[-2000:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_train", description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=harness.positive_int, nargs="+", default=[128],
                        help="batch sizes to time, one after the other (default 128)")
    parser.add_argument("--repeats", type=harness.positive_int, default=15, help="timed steps per backend (default 15)")
    parser.add_argument("--command", action="store_true", help="also time `python -m cnnbook train --full`")
    parser.add_argument("--command-args", default="--full --no-progress",
                        help="arguments of the timed train command (default: --full --no-progress)")
    parser.add_argument("--threads", type=harness.positive_int, default=None,
                        help="threads for both cnnbook's layers and PyTorch (default: each library's own)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: this process's CPU time, steadier on a shared machine with --threads 1")
    args = parser.parse_args(argv)
    import torch
    with harness.pinned_threads(args.threads, torch):
        _time_steps(args, torch)
    if args.command:
        with processes.sigterm_stops():
            run_command(args.command_args.split())
    return 0


def _time_steps(args, torch) -> None:
    print(f"load average before: {harness.load_average()} on {os.cpu_count()} CPUs; "
          f"{harness.threads_line(torch)}; {harness.blas_line()}")
    for batch in args.batch_size:
        med = bench_step(batch, args.repeats, clock=harness.clock(args.clock))
        print(f"one training step, batch {batch}, float32, median {args.clock} time of {args.repeats} (interleaved):")
        for name, t in med.items():
            print(f"  {name:<14} {t * 1e3:8.1f} ms")
        print(f"  cnnbook-numpy / torch-cpu = {med['cnnbook-numpy'] / med['torch-cpu']:.2f}x (goal: <= 2x)")
        if "cnnbook-cupy" in med:
            print(f"  cnnbook-numpy / cnnbook-cupy = {med['cnnbook-numpy'] / med['cnnbook-cupy']:.1f}x "
                  "(goal: GPU >= 10x faster)")
        if "torch-gpu" in med and "cnnbook-cupy" in med:
            print(f"  cnnbook-cupy / torch-gpu = {med['cnnbook-cupy'] / med['torch-gpu']:.2f}x (goal: <= 3x)")


if __name__ == "__main__":
    raise SystemExit(main())
