"""One training step (forward, loss, backward) of the reference CNN, side by side.

Compares, in one run with interleaved repetitions and median times:

* cnnbook on NumPy (the CPU),
* cnnbook on CuPy (when a GPU works),
* the same network in PyTorch on the CPU and, when CUDA works, on the GPU (when torch is installed).

Usage::

    python benchmarks/bench_step.py --batch 128 512 --repeats 7
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_step.py   # NumPy at full speed

Ratios are printed against PyTorch on the same device. Speed goals live here, never in the tests.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cnnbook import backend
from cnnbook.layers import softmax_cross_entropy
from cnnbook.models import reference_cnn


def _cnnbook_step(xp):
    model = reference_cnn(seed=0).to(backend_name=xp)

    def step(X, y):
        scores = model(X)
        loss, dscores = softmax_cross_entropy(scores, y)
        model.zero_grad()
        model.backward(dscores)
        return loss

    return step


def _torch_step(device):
    import torch
    from torch import nn

    # The same layers as cnnbook.models.reference_cnn with its defaults.
    net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(32 * 7 * 7, 10)).to(device)
    loss_fn = nn.CrossEntropyLoss()

    def step(X, y):
        net.zero_grad(set_to_none=False)
        loss = loss_fn(net(X), y)
        loss.backward()
        return loss

    return step


def _candidates(batch):
    """(name, step, X, y, sync) for every backend that works here."""
    rng = np.random.default_rng(0)
    X = rng.random((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)
    out = [("numpy", _cnnbook_step(np), X, y, lambda: None)]
    works, _ = backend.gpu_status()
    if works:
        import cupy
        sync = cupy.cuda.Device().synchronize
        out.append(("cupy", _cnnbook_step(cupy), cupy.asarray(X), cupy.asarray(y), sync))
    try:
        import torch
    except ImportError:
        return out
    out.append(("torch-cpu", _torch_step("cpu"), torch.from_numpy(X), torch.from_numpy(y), lambda: None))
    if torch.cuda.is_available():
        out.append(("torch-gpu", _torch_step("cuda"), torch.from_numpy(X).cuda(), torch.from_numpy(y).cuda(),
                    torch.cuda.synchronize))
    return out


def bench(batch: int, repeats: int) -> dict[str, float]:
    runs = _candidates(batch)
    for _, step, X, y, sync in runs:  # warm up: first calls compile kernels and allocate
        step(X, y)
        sync()
    times = {name: [] for name, *_ in runs}
    for _ in range(repeats):  # interleaved, so a noisy neighbour hurts every backend alike
        for name, step, X, y, sync in runs:
            sync()
            t0 = time.perf_counter()
            step(X, y)
            sync()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    for batch in args.batch:
        med = bench(batch, args.repeats)
        print(f"batch {batch}: median seconds per training step")
        for name, t in med.items():
            print(f"  {name:<10} {t * 1e3:9.2f} ms")
        if "torch-cpu" in med:
            print(f"  numpy / torch-cpu = {med['numpy'] / med['torch-cpu']:.2f}x")
        if "cupy" in med:
            print(f"  numpy / cupy      = {med['numpy'] / med['cupy']:.1f}x (GPU speed-up)")
            if "torch-gpu" in med:
                print(f"  cupy / torch-gpu  = {med['cupy'] / med['torch-gpu']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
