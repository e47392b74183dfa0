"""Threads for the convolution and the training step: three designs, timed side by side.

Issue 35: use the cores a learner has, and stay robust when one of them is busy. Every variant runs the
same float32 work, interleaved in rounds (one untimed hand-over call after a pause, then ``burst`` timed
calls each), and each time reported is a median of wall-clock times (threads shorten wall time, not CPU time):

* ``1 thr``: cnnbook's layers with one thread (``blas_threads(1)``);
* ``blas``: (a) the layers run serially and OpenBLAS splits each matrix product over ``T`` threads
  (what ``$CNNBOOK_BLAS_THREADS=T`` meant before issue 35);
* ``size``: (c) like ``blas``, but each product gets ``T`` BLAS threads only when it is big enough
  (``--size-threshold`` floating-point operations), else one (a copy of the layer's loops, below);
* ``pool``: (b) the layers' blocks and batch shares spread over a pool of ``T`` threads, each running
  single-threaded BLAS (``blas_threads(T)``, :mod:`cnnbook.layers.parallel`): the design chosen;
* ``default``: (b) with the default thread count (``blas_threads()``: the CPUs this process may use, less
  those other processes keep busy).

With ``--before DIR`` (a checkout of the package before issue 35, e.g. ``git archive d5eb677 cnnbook | tar -x -C
DIR``) its layers join as ``before 1`` and ``before blas`` (``(a)`` on the old code), and the training step runs
on them too (its conv, pool and ReLU functions swapped in). With ``--torch``, PyTorch's ``conv2d`` at one and at
``T`` threads, and the training step in PyTorch (the model ported) likewise. A third table times max pooling (the
reference CNN's two pools: new, old with ``--before``, PyTorch with ``--torch``). ``--busy`` keeps one core busy with
another process (a ``while True: pass`` loop) for the whole run. Each table ends with the load average, and each
row with how many cores other processes took while it ran (``others``, from ``/proc/stat``; the busy loop
counts): on a shared machine they skew thread timings.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.threads --before /tmp/before
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.threads --before /tmp/before --busy

Results are checked before timing: ``pool`` against ``1 thr`` (bit for bit), the others within float32 rounding.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from benchmarks import harness
from cnnbook import backend, layers
from cnnbook.layers import conv as conv_module
from cnnbook.layers import softmax_cross_entropy
from cnnbook.models import reference_cnn

SHAPES = ((1, 16, 28, 28), (16, 32, 14, 14), (32, 64, 7, 7), (3, 32, 32, 32), (32, 64, 16, 16))  # (C, F, H, W)
POOL_SHAPES = ((16, 28, 28), (32, 14, 14))  # (C, H, W): the inputs of reference_cnn()'s two 2x2 max pools
SWAPPED = ("conv2d_forward", "conv2d_backward", "max_pool2d_forward", "max_pool2d_backward",
           "relu_forward", "relu_backward")


def blas_controller():
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


@contextlib.contextmanager
def blas_limit(n):
    """Layers on one thread (``blas_threads(1)``) and OpenBLAS itself on ``n`` threads: design (a)."""
    with backend.blas_threads(1), blas_controller().limit(limits=n, user_api="blas"):
        yield


def load_before(folder):
    """``{name: function}`` for the layer functions of the package in ``folder`` (its conv, pool and basic modules)."""
    found = {}
    for name in ("conv", "pool", "basic"):
        path = os.path.join(folder, "cnnbook", "layers", f"{name}.py")
        spec = importlib.util.spec_from_file_location(f"before_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # it imports the current package's backend and checks: same API
        found.update({f: getattr(module, f) for f in SWAPPED if hasattr(module, f)})
    return found


# ------------------------------------------------------------------ (c): BLAS threads chosen per product
class PerProduct:
    """``matmul`` that sets OpenBLAS's thread count per product: ``threads`` when the product has at least
    ``threshold`` floating-point operations, else 1."""

    def __init__(self, threads, threshold):
        self.threads, self.threshold, self.now = threads, threshold, None
        self.blas = blas_controller().select(user_api="blas").lib_controllers[0]

    def matmul(self, a, b, out=None):
        n = self.threads if 2 * a.shape[0] * a.shape[1] * b.shape[1] >= self.threshold else 1
        if n != self.now:
            self.blas.set_num_threads(n)
            self.now = n
        return np.matmul(a, b, out=out)


def conv_step_per_product(pp, x, w, b, dout):
    """conv2d_forward + conv2d_backward (stride 1, padding 1) with cnnbook's loops, products through ``pp``."""
    c = conv_module
    pp.now = None  # the variant's context has just set OpenBLAS's threads
    stride, padding, (Ho, Wo) = c.check_conv_args(x, w, b, 1, 1)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    K = KH * KW * C
    side = c.side_by_side(N, (Ho, Wo), K, np)
    pixels = (N // side, Ho, Wo, side)
    xpad = np.zeros((C, N // side, H + 2 * padding[0], W + 2 * padding[1], side), dtype=x.dtype)
    xpad[c._interior(padding, (H, W))] = c._as_groups(x, side)
    cols = np.empty((KH, KW, C) + pixels, dtype=x.dtype)
    out = np.empty((F,) + pixels, dtype=x.dtype)
    w_mat = c._w_matrix(w)
    blocks = c._blocks(pixels, K, np)
    for blk in blocks:
        cols[:, :, :, blk] = c._windows(xpad, blk, (KH, KW), (Ho, Wo), stride)
        block = out[:, blk].reshape(F, -1)
        pp.matmul(w_mat, cols[:, :, :, blk].reshape(K, -1), out=block)
        block += b[:, None]
    out = out.transpose(1, 4, 0, 2, 3).reshape(N, F, Ho, Wo)  # a view when side == 1
    dout_s = c._as_groups(dout, side)
    w_mat_t = w_mat.T
    dw_t = np.zeros((K, F), dtype=w.dtype)
    dxpad = np.zeros(xpad.shape, dtype=x.dtype)
    for blk in blocks:
        dout_mat = dout_s[:, blk].reshape(F, -1)
        dw_t += pp.matmul(cols[:, :, :, blk].reshape(K, -1), dout_mat.T)
        dcols = pp.matmul(w_mat_t, dout_mat).reshape(cols[:, :, :, blk].shape)
        c._col2im(dxpad, dcols, blk, (Ho, Wo), stride)
    dx = dxpad[c._interior(padding, (H, W))].transpose(1, 4, 0, 2, 3).reshape(N, C, H, W)
    dw = np.ascontiguousarray(dw_t.reshape(KH, KW, C, F).transpose(3, 2, 0, 1))
    return out, dx, dw, dout.sum(axis=(0, 2, 3))


# ------------------------------------------------------------------ timing
def cpu_busy_seconds() -> float:
    """CPU seconds all processes have used since boot (``/proc/stat``), or NaN where there is none."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return float("nan")
    busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def interleaved(variants, repeats, burst=3, warm=0.2):
    """Median wall seconds per call of each ``{name: (context, step)}``, in rounds: each variant enters its
    context, runs untimed for ``warm`` seconds, then makes ``burst`` timed calls.

    The untimed calls are the hand-over. OpenBLAS's idle threads spin for up to ~0.1 s after a
    multi-threaded call and would slow the next variant. And a pause does not do instead: on this
    virtual machine an idle CPU is slow to wake, so after 0.2 s asleep the pool's two threads ran the
    16->32 14x14 layer no faster than one thread (8.6 ms against 8.9), and 5.0 ms when kept busy.
    A training loop keeps them busy."""
    times = {name: [] for name in variants}
    for _ in range(max(1, -(-repeats // burst))):
        for name, (context, step) in variants.items():
            with context():
                start = time.perf_counter()
                step()
                while time.perf_counter() - start < warm:
                    step()
                for _ in range(burst):
                    start = time.perf_counter()
                    step()
                    times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


class Others:
    """CPU that other processes used while a table was timed, in cores (0 = they took nothing)."""

    def __enter__(self):
        self.wall, self.all, self.mine = time.perf_counter(), cpu_busy_seconds(), time.process_time()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.wall
        self.cores = (cpu_busy_seconds() - self.all - (time.process_time() - self.mine)) / wall


def wake_up_table(repeats=50):
    """How long an idle pool thread takes to start a task, by how long it sat idle (the calling thread keeps
    its own core busy meanwhile, as a layer's serial parts do): the cost of every parallel region."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:
        pool.submit(time.perf_counter).result()
        print("idle pool thread: median (max) microseconds from submit to start")
        for idle in (0, 0.0002, 0.001, 0.005, 0.02, 0.1):
            waits = []
            for _ in range(repeats):
                start = time.perf_counter()
                while time.perf_counter() - start < idle:
                    pass
                submitted = time.perf_counter()
                waits.append(pool.submit(time.perf_counter).result() - submitted)
            print(f"  idle {idle * 1e3:6.1f} ms: {statistics.median(waits) * 1e6:7.1f} ({max(waits) * 1e6:.0f})")


def conv_step(forward, backward, x, w, b, dout):
    def step():
        out, cache = forward(x, w, b, 1, 1)
        return (out, *backward(dout, cache))
    return step


def torch_step(torch, x, w, b, dout):
    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))

    def step():
        tx.grad = tw.grad = tb.grad = None
        out = torch.nn.functional.conv2d(tx, tw, tb, stride=1, padding=1)
        out.backward(torch.from_numpy(dout))
        return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()
    return step


def torch_threads(torch, n):
    @contextlib.contextmanager
    def context():
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)
    return context


def check(name, got, reference, exact):
    for a, r in zip(got, reference):
        a, r = np.asarray(a, dtype=np.float64), np.asarray(r, dtype=np.float64)
        if exact and not np.array_equal(a, r):
            raise AssertionError(f"{name} differs from one thread (max {np.abs(a - r).max():.3g}); it must be the same")
        if np.abs(a - r).max() > 1e-4 * max(1.0, np.abs(r).max()):
            raise AssertionError(f"{name} differs from one thread by {np.abs(a - r).max():.3g}")


def layer_variants(T, x, w, b, dout, before, pp, torch):
    ours = conv_step(layers.conv2d_forward, layers.conv2d_backward, x, w, b, dout)
    variants = {}
    if before:
        old = conv_step(before["conv2d_forward"], before["conv2d_backward"], x, w, b, dout)
        variants["before 1"] = (lambda: blas_limit(1), old)
        variants["before blas"] = (lambda: blas_limit(T), old)
        # its layers inside blas_threads(T): on the pool when the package has one (after issue 35's first stop)
        variants["before pool"] = (lambda: backend.blas_threads(T), old)
    variants["1 thr"] = (lambda: backend.blas_threads(1), ours)
    variants["blas"] = (lambda: blas_limit(T), ours)
    variants["size"] = (lambda: blas_limit(1), lambda: conv_step_per_product(pp, x, w, b, dout))
    variants["pool"] = (lambda: backend.blas_threads(T), ours)
    variants["default"] = (backend.blas_threads, ours)
    if torch is not None:
        variants["torch 1"] = (torch_threads(torch, 1), torch_step(torch, x, w, b, dout))
        variants[f"torch {T}"] = (torch_threads(torch, T), torch_step(torch, x, w, b, dout))
    return variants


def pool_step(forward, backward, x, dout):
    def step():
        out, cache = forward(x, 2)
        return out, backward(dout, cache)
    return step


def torch_pool_step(torch, x, dout):
    tx = torch.from_numpy(x).requires_grad_()

    def step():
        tx.grad = None
        out = torch.nn.functional.max_pool2d(tx, 2)
        out.backward(torch.from_numpy(dout))
        return out.detach().numpy(), tx.grad.numpy()
    return step


def pooling_table(T, batch, repeats, warm, before, torch):
    """Max pooling (2x2, forward + backward) on the reference CNN's two pooling inputs, after a ReLU (many tied
    windows), one and ``T`` threads; with ``before``, its old functions on one thread; with ``torch``, PyTorch's."""
    rng = np.random.default_rng(1)
    print(f"\nmax pooling 2x2 forward+backward, float32, batch {batch}, input after a ReLU: median wall ms of "
          f"{repeats}")
    rows = []
    for C, H, W in POOL_SHAPES:
        x = np.maximum(rng.standard_normal((batch, C, H, W), dtype=np.float32), 0)
        dout = rng.standard_normal((batch, C, H // 2, W // 2), dtype=np.float32)
        ours = pool_step(layers.max_pool2d_forward, layers.max_pool2d_backward, x, dout)
        variants = {}
        if before:
            variants["before 1"] = (lambda: blas_limit(1),
                                    pool_step(before["max_pool2d_forward"], before["max_pool2d_backward"], x, dout))
        variants["1 thr"] = (lambda: backend.blas_threads(1), ours)
        variants["pool"] = (lambda: backend.blas_threads(T), ours)
        variants["default"] = (backend.blas_threads, ours)
        with backend.blas_threads(1):
            reference = ours()
        for name, (context, step) in variants.items():
            with context():
                check(name, step(), reference, exact=True)  # the same maxima and the same winners, everywhere
        if torch is not None:  # it may route a tied window's gradient to another pixel: timed, not compared
            variants["torch 1"] = (torch_threads(torch, 1), torch_pool_step(torch, x, dout))
            variants[f"torch {T}"] = (torch_threads(torch, T), torch_pool_step(torch, x, dout))
        with Others() as row_others:
            med = interleaved(variants, repeats, warm=warm)
        rows.append((f"{C}x{H}x{W}", med, row_others.cores))
    names = list(rows[0][1])
    print(f"{'input':<14}" + "".join(f"{n:>12}" for n in names) + f"{'pool/1':>8}{'dflt/1':>8}"
          + (f"{'1/before':>9}" if before else "") + (f"{'1/torch1':>9}{'pool/torch':>11}" if torch else "")
          + f"{'others':>8}")
    for label, med, cores in rows:
        line = f"{label:<14}" + "".join(f"{med[n] * 1e3:>12.2f}" for n in names)
        line += "".join(f"{med['1 thr'] / med[n]:>8.2f}" for n in ("pool", "default"))
        if before:
            line += f"{med['before 1'] / med['1 thr']:>9.2f}"
        if torch is not None:
            line += f"{med['1 thr'] / med['torch 1']:>9.2f}{med['pool'] / med[f'torch {T}']:>11.2f}"
        print(line + f"{cores:>8.2f}")


def train_step(batch, swap=None):
    """One training step (forward, softmax loss, backward) of ``reference_cnn()``, as ``fit`` runs it (no gradient
    for the input: ``backward_params``); ``swap`` replaces the layer functions the nn modules call (the ``--before``
    package's, whose convolution always computes it: the full ``backward``) while it runs."""
    rng = np.random.default_rng(0)
    X = rng.random((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    model = reference_cnn(seed=0)

    def step():
        saved = {f: getattr(layers, f) for f in swap or {}}
        for f, fn in (swap or {}).items():
            setattr(layers, f, fn)
        try:
            model.zero_grad()
            loss, dscores = softmax_cross_entropy(model(X), y)
            if swap:
                model.backward(dscores)
            else:
                model.backward_params(dscores)
        finally:
            for f, fn in saved.items():
                setattr(layers, f, fn)
        return [float(loss)] + [p.grad.copy() for p in model.parameters()]
    return step


def torch_train_step(torch, batch):
    """The same training step in PyTorch: ``reference_cnn()`` ported (``cnnbook.models.torch_port.to_torch``), the same
    data, cross-entropy loss, forward and backward; returns the loss and the gradients, as :func:`train_step`."""
    from cnnbook.models.torch_port import to_torch

    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.random((batch, 1, 28, 28), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, 10, batch))
    model = to_torch(reference_cnn(seed=0))

    def step():
        model.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        return [loss.item()] + [p.grad.numpy().copy() for p in model.parameters()]
    return step


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.threads", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="T, the threads of the multi-threaded variants")
    parser.add_argument("--batch-size", type=int, default=64, help="the layers' batch (default 64)")
    parser.add_argument("--train-batch-size", type=int, default=128, help="the training step's batch (default 128)")
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per variant (default 15)")
    parser.add_argument("--warm", type=float, default=0.2,
                        help="seconds each variant runs untimed before its timed calls, in every round (default 0.2)")
    parser.add_argument("--size-threshold", type=float, default=20e6,
                        help="(c): products of at least this many operations get T BLAS threads (default 2e7)")
    parser.add_argument("--before", metavar="DIR", help="a checkout of the package before issue 35, timed beside")
    parser.add_argument("--torch", action="store_true", help="PyTorch's conv2d at 1 and T threads too")
    parser.add_argument("--busy", action="store_true", help="keep one core busy with another process throughout")
    parser.add_argument("--no-layers", action="store_true", help="only the training step")
    parser.add_argument("--no-train", action="store_true", help="only the layers")
    parser.add_argument("--wake-up", action="store_true", help="only how long an idle pool thread takes to wake")
    args = parser.parse_args(argv)
    if args.wake_up:
        print(f"load average (1, 5, 15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        wake_up_table()
        return 0
    T = args.threads
    before = load_before(args.before) if args.before else None
    torch = None
    if args.torch:
        import torch
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        if busy:
            time.sleep(1.0)
        print(f"numpy {np.__version__}; {os.cpu_count()} CPUs, this process may use {backend.available_cpus()}; "
              f"T = {T}; {'one core kept busy by another process' if busy else 'no busy process'}")
        print(f"load average (1, 5, 15 min) at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        rng = np.random.default_rng(0)
        pp = PerProduct(T, args.size_threshold)
        if not args.no_layers:
            print(f"\nconv2d forward+backward, float32, batch {args.batch_size}, 3x3, padding 1: median wall ms of "
                  f"{args.repeats}; speed-ups over the first column of each pair")
            with Others() as others:
                rows = []
                for C, F, H, W in SHAPES:
                    x, w, b, dout = harness.random_layer(rng, args.batch_size, C, F, H, W)
                    variants = layer_variants(T, x, w, b, dout, before, pp, torch)
                    with backend.blas_threads(1):
                        reference = variants["1 thr"][1]()
                    for name, (context, step) in variants.items():
                        with context():
                            check(name, step(), reference, exact=name in ("pool", "default"))
                    with Others() as row_others:
                        med = interleaved(variants, args.repeats, warm=args.warm)
                    rows.append((f"{C}->{F} {H}x{W}", med, row_others.cores))
            names = list(rows[0][1])
            print(f"{'layer':<14}" + "".join(f"{n:>12}" for n in names)
                  + f"{'blas/1':>8}{'size/1':>8}{'pool/1':>8}{'dflt/1':>8}"
                  + (f"{'1/before':>9}{'pool/bpool':>11}" if before else "")
                  + (f"{'pool/torch':>11}{'1/torch1':>9}" if torch else "") + f"{'others':>8}")
            for label, med, row_others in rows:
                line = f"{label:<14}" + "".join(f"{med[n] * 1e3:>12.2f}" for n in names)
                line += "".join(f"{med['1 thr'] / med[n]:>8.2f}" for n in ("blas", "size", "pool", "default"))
                if before:
                    line += f"{med['before 1'] / med['1 thr']:>9.2f}{med['before pool'] / med['pool']:>11.2f}"
                if torch:
                    line += f"{med['pool'] / med[f'torch {T}']:>11.2f}{med['1 thr'] / med['torch 1']:>9.2f}"
                print(line + f"{row_others:>8.2f}")
            print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; other processes "
                  f"used {others.cores:.2f} cores on average{' (the busy loop included)' if busy else ''}")
            pooling_table(T, args.train_batch_size, args.repeats, args.warm, before, torch)
        if not args.no_train:
            print(f"\none training step of reference_cnn(), batch {args.train_batch_size}: "
                  f"median wall ms of {args.repeats}")
            ours = train_step(args.train_batch_size)
            variants = {}
            if before:
                old = train_step(args.train_batch_size, before)
                variants["before 1"] = (lambda: blas_limit(1), old)
                variants["before blas"] = (lambda: blas_limit(T), old)
            variants["1 thr"] = (lambda: backend.blas_threads(1), ours)
            variants["blas"] = (lambda: blas_limit(T), ours)
            variants["pool"] = (lambda: backend.blas_threads(T), ours)
            variants["default"] = (backend.blas_threads, ours)
            with backend.blas_threads(1):
                reference = ours()
            for name, (context, step) in variants.items():
                with context():
                    check(name, step(), reference, exact=name in ("pool", "default"))
            if torch is not None:  # its gradients come in its own layout: timed, not compared
                theirs = torch_train_step(torch, args.train_batch_size)
                variants["torch 1"] = (torch_threads(torch, 1), theirs)
                variants[f"torch {T}"] = (torch_threads(torch, T), theirs)
            with Others() as others:
                med = interleaved(variants, args.repeats, warm=args.warm)
            print("".join(f"{n:>12}" for n in med) + f"{'blas/1':>8}{'pool/1':>8}{'default/1':>10}"
                  + (f"{'torch T/1':>10}{'1/torch1':>9}{'pool/torchT':>12}" if torch else ""))
            print("".join(f"{v * 1e3:>12.2f}" for v in med.values())
                  + "".join(f"{med['1 thr'] / med[n]:>8.2f}" for n in ("blas", "pool"))
                  + f"{med['1 thr'] / med['default']:>10.2f}"
                  + (f"{med['torch 1'] / med[f'torch {T}']:>10.2f}{med['1 thr'] / med['torch 1']:>9.2f}"
                     f"{med['pool'] / med[f'torch {T}']:>12.2f}" if torch else ""))
            print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; other processes "
                  f"used {others.cores:.2f} cores on average{' (the busy loop included)' if busy else ''}")
    finally:
        if busy:
            busy.kill()
            busy.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
