"""Array backends: NumPy on the CPU, CuPy on an NVIDIA GPU.

Two ideas, as in CuPy's guide to CPU/GPU-agnostic code:

* Functions decide the array module from their arguments::

      xp = get_array_module(x, w)      # numpy or cupy
      out = xp.zeros((N, F, Ho, Wo), dtype=x.dtype)

* Arrays the package *creates* (model parameters, loaded data) go to the default
  backend: ``CNNBOOK_BACKEND=numpy|cupy|auto`` in the environment, or
  ``cnnbook.backend.use("cupy")`` in a notebook (the one-line switch).
  ``auto`` means CuPy when a working GPU is present, else NumPy; unset means NumPy.

Arrays reach the host only at the edges (plots, printed numbers) through
:func:`to_numpy`. Mixing a NumPy and a CuPy array in one call is a ``TypeError``
that names both, never a silent copy.
"""
from __future__ import annotations

import contextlib
import functools
import math
import numbers
import os
import sys
import time

import numpy as np

from cnnbook.course.language import N_, tr

BACKENDS = ("numpy", "cupy", "auto")
_ENV = "CNNBOOK_BACKEND"
_chosen: str | None = None  # set by use(); wins over the environment
_xp_override = None  # tests put a stand-in array module here (see tests/strict_array.py)


def _is_cupy_array(a) -> bool:
    # Looking at the type's module avoids importing CuPy (slow, and it may be broken).
    return type(a).__module__.split(".")[0] in ("cupy", "cupyx")


def gpu_status() -> tuple[bool, str]:
    """Return ``(works, reason)``: whether CuPy can run a kernel on a GPU, and why not (or which GPU works), in
    the learner's language.

    Never raises: a CuPy wheel on a machine without a driver fails in many ways
    (ImportError, CUDARuntimeError, even ``cupy.is_available()`` raising). The GPU is probed once;
    ``gpu_status.cache_clear()`` forgets the answer.
    """
    works, template, fields = _gpu_probe()
    return works, tr(template, **fields)


@functools.lru_cache(maxsize=1)
def _gpu_probe() -> tuple[bool, str, dict]:
    """``(works, template, fields)`` of :func:`gpu_status`'s answer, found once: the words are chosen when shown."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or a broken CUDA install raising anything
        return (False, N_("CuPy is not installed or does not import ({error}); install it with "
                          "`pip install -e \".[gpu]\"` on a machine with an NVIDIA GPU"),
                {"error": f"{type(exc).__name__}: {exc}"})
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count < 1:
            return False, N_("CuPy is installed but no CUDA device was found"), {}
        value = int((cupy.arange(4) * 2).sum())  # runs a real kernel
        if value != 12:
            return False, N_("CuPy computed {value} for a sum that is 12"), {"value": value}
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    except Exception as exc:
        return False, N_("CuPy is installed but no GPU works ({error})"), {"error": f"{type(exc).__name__}: {exc}"}
    return True, N_("CuPy {version} on {name}"), {"version": cupy.__version__, "name": name}


gpu_status.cache_clear = _gpu_probe.cache_clear


def _check_name(name, source: str) -> str:
    if not isinstance(name, str) or name.strip().lower() not in BACKENDS:
        raise ValueError(tr("unknown backend {name} from {source}; choose one of {choices}", name=repr(name),
                            source=source, choices=", ".join(BACKENDS)))
    return name.strip().lower()


def _resolve(name: str, source: str) -> str:
    if name == "numpy":
        return "numpy"
    works, reason = gpu_status()
    if name == "auto":
        return "cupy" if works else "numpy"
    if not works:
        raise RuntimeError(tr("backend 'cupy' was asked for by {source}, but no GPU works: {reason}. Use the NumPy "
                              "backend instead (unset {env} or call use('numpy')).", source=source, reason=reason,
                              env=_ENV))
    return "cupy"


def default_backend() -> str:
    """``"numpy"`` or ``"cupy"``: where the package puts the arrays it creates.

    Taken from :func:`use` if it was called, else from ``$CNNBOOK_BACKEND``
    (``numpy``, ``cupy`` or ``auto``), else ``"numpy"``.
    """
    if _chosen is not None:
        return _chosen
    raw = os.environ.get(_ENV, "").strip()
    if not raw:
        return "numpy"
    return _resolve(_check_name(raw, f"${_ENV}={raw!r}"), f"${_ENV}={raw!r}")


def use(name: str) -> str:
    """Set the default backend (``"numpy"``, ``"cupy"`` or ``"auto"``); return the one in use.

    ``ValueError`` for an unknown name; ``RuntimeError`` for ``"cupy"`` without a working GPU.
    """
    global _chosen
    _chosen = _resolve(_check_name(name, f"use({name!r})"), f"use({name!r})")
    return _chosen


def default_xp():
    """The array module (``numpy`` or ``cupy``) of the default backend."""
    if _xp_override is not None:
        return _xp_override
    if default_backend() == "cupy":
        import cupy
        return cupy
    return np


def get_array_module(*arrays):
    """``numpy`` or ``cupy``, decided by the array arguments (``None`` and Python scalars are ignored).

    Raises ``TypeError`` when NumPy and CuPy arrays are mixed. Array types that
    offer an Array-API namespace (``__array_namespace__``) get that namespace;
    the test suite uses this to run the package on a stand-in for CuPy.
    """
    found = {}
    for i, a in enumerate(arrays):
        if a is None or isinstance(a, (bool, int, float, complex, np.generic)):
            continue
        if _is_cupy_array(a):
            found.setdefault("cupy", (i, sys.modules["cupy"]))
        elif type(a) is np.ndarray:
            found.setdefault("numpy", (i, np))
        elif hasattr(a, "__array_namespace__"):
            xp = a.__array_namespace__()
            found.setdefault(getattr(xp, "__name__", repr(xp)), (i, xp))
        elif isinstance(a, np.ndarray):
            found.setdefault("numpy", (i, np))
        else:
            raise TypeError(tr("argument {i} is a {kind}, not an array; pass a NumPy or CuPy array "
                               "(numpy.asarray(...) converts lists)", i=i, kind=type(a).__name__))
    if len(found) > 1:
        where = ", ".join(tr("argument {i} is {name}", i=i, name=name) for name, (i, _) in found.items())
        raise TypeError(tr("arrays from different backends in one call ({where}); move them to one device first, "
                           "e.g. cnnbook.backend.to_device(a) or cnnbook.backend.to_numpy(a)", where=where))
    if not found:
        return np
    return next(iter(found.values()))[1]


def to_numpy(a) -> np.ndarray:
    """A host ``numpy.ndarray`` holding ``a`` (CuPy arrays are copied from the GPU)."""
    if _is_cupy_array(a):
        return a.get()
    if isinstance(a, np.ndarray):
        return np.asarray(a) if type(a) is np.ndarray else a.view(np.ndarray)
    return np.asarray(a)


def to_device(a, xp=None):
    """``a`` as an array of ``xp`` (default: the default backend), copying only when needed."""
    xp = default_xp() if xp is None else xp
    if xp is np:
        return to_numpy(a)
    if get_array_module(a) is xp:
        return a
    return xp.asarray(to_numpy(a))

def as_generator(rng) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``rng``: an int seed, a Generator, or ``None`` (fresh entropy)."""
    if rng is None or isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(tr("rng={value} is neither an int seed, a numpy.random.Generator nor None; pass e.g. rng=0 or "
                       "rng=numpy.random.default_rng(0)", value=repr(rng)))


# ---------------------------------------------------------------- threads
BLAS_THREADS_ENV = "CNNBOOK_BLAS_THREADS"
CGROUP_ROOT = "/sys/fs/cgroup"

_blas_limit = None  # inside blas_threads(): the block's thread count, 0 for the default; None outside


def _cgroup_cpu_limit(root: str) -> float | None:
    """The CPUs a cgroup CPU quota allows (cgroup v2 ``cpu.max``, else v1 ``cpu.cfs_quota_us``), None for none."""
    for quota_file, period_file in (("cpu.max", None), ("cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us")):
        try:
            with open(os.path.join(root, quota_file)) as f:
                fields = f.read().split()
            if period_file is not None:
                with open(os.path.join(root, period_file)) as f:
                    fields += f.read().split()
        except OSError:
            continue
        if len(fields) < 2 or fields[0] in ("max", "-1"):
            return None
        try:
            quota, period = int(fields[0]), int(fields[1])
        except ValueError:
            return None
        return quota / period if quota > 0 and period > 0 else None
    return None


@functools.lru_cache(maxsize=4)
def available_cpus(cgroup_root: str = CGROUP_ROOT) -> int:
    """The CPUs this process may use: those its affinity allows, at most its cgroup CPU quota (rounded up).

    A container limited to half a CPU or one CPU (a JupyterHub server with ``cpu.limit: 1``) gets 1.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS and Windows have no affinity call
        cpus = os.cpu_count() or 1
    limit = _cgroup_cpu_limit(cgroup_root)
    if limit is not None:
        cpus = min(cpus, math.ceil(limit))
    return max(1, cpus)


PROC_STAT = "/proc/stat"
BUSY_WINDOW_S = 0.5  # how often the default thread count looks again at what other processes use
_busy_sample = None  # (monotonic time, busy CPU seconds of this process's CPUs, this process's CPU seconds, count)


def _busy_cpu_seconds(cpus) -> float | None:
    """CPU seconds the CPUs numbered in ``cpus`` have been busy since boot (``/proc/stat``: all but idle and
    I/O wait, steal included), or None where that file is missing or unreadable."""
    try:
        with open(PROC_STAT) as f:
            lines = f.read().splitlines()
        busy = 0
        for line in lines:
            name, *fields = line.split()
            if name[:3] == "cpu" and name[3:].isdigit() and int(name[3:]) in cpus:
                user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in (fields + ["0"] * 8)[:8])
                busy += user + nice + system + irq + softirq + steal
        return busy / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return None


def default_threads() -> int:
    """The default thread count: :func:`available_cpus`, less the cores other processes kept busy lately.

    Looked at again every :data:`BUSY_WINDOW_S` seconds at most: a core that other processes used more than
    half of since the last look is left to them (with one core busy elsewhere, a second thread of ours waits
    for its time slices, and a thread that loses its core while it holds the GIL stops the other); the first
    look goes by the load average. Where ``/proc/stat`` is missing, every available CPU.
    """
    global _busy_sample
    cpus_allowed = available_cpus()
    now = time.monotonic()
    sample = _busy_sample
    if sample is not None and now - sample[0] < BUSY_WINDOW_S:
        return sample[3]
    try:
        cpus = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return cpus_allowed
    busy, mine = _busy_cpu_seconds(cpus), time.process_time()
    if busy is None:
        return cpus_allowed
    if sample is None:  # a first look: the load average of the last minute stands in for the others' use
        others = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    else:
        others = (busy - sample[1] - (mine - sample[2])) / (now - sample[0])  # cores, on average
    count = max(1, min(cpus_allowed, len(cpus) - math.floor(others + 0.5)))
    _busy_sample = (now, busy, mine, count)
    return count


def _requested_threads(n) -> int | None:
    """``n`` checked, else ``$CNNBOOK_BLAS_THREADS``, else None (the default, :func:`default_threads`)."""
    if n is None:
        raw = os.environ.get(BLAS_THREADS_ENV, "").strip()
        if not raw:
            return None
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(tr("${env}={value} must be a positive integer such as 1; unset it for the default (the "
                                "CPUs this process may use, here {cpus})", env=BLAS_THREADS_ENV, value=repr(raw),
                                cpus=available_cpus()))
        return int(raw)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(tr("n={value} must be a positive integer (BLAS threads) or None for the default",
                            value=repr(n)))
    return int(n)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """threadpoolctl's view of the BLAS libraries loaded (None without threadpoolctl); built once, on first use."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def layer_threads() -> int:
    """The threads the layers split NumPy work over now: the enclosing :func:`blas_threads` block's,
    else ``$CNNBOOK_BLAS_THREADS``, else :func:`default_threads`."""
    requested = _requested_threads(None) if _blas_limit is None else _blas_limit
    return requested or default_threads()


@contextlib.contextmanager
def blas_threads(n=None):
    """A block in which cnnbook's layers run NumPy's matrix products (and copies) on ``n`` threads; yields the
    count in effect as it starts.

    ``n=None``: inside another ``blas_threads`` block, keep that block's setting; else
    ``$CNNBOOK_BLAS_THREADS``, else the default, :func:`default_threads`: the CPUs this process may use
    (:func:`available_cpus`), less those other processes keep busy, looked at again as the block runs.
    The layers split their work over the threads themselves (:mod:`cnnbook.layers.parallel`), so inside
    the block NumPy's BLAS (OpenBLAS, MKL, ...) runs one thread per call; the previous setting comes
    back when the block ends, and nothing changes on import. The numbers computed do not depend on the
    thread count. ``fit``, ``predict``, ``evaluate`` and ``accuracy`` run inside ``blas_threads()``::

        with blas_threads(1):      # one thread, e.g. beside other busy processes
            out, _ = conv2d_forward(x, w, b)

    Needs threadpoolctl (a dependency) to pin BLAS; without it BLAS keeps its own setting. CuPy arrays
    always run as one stream of GPU work.
    """
    global _blas_limit
    if n is None and _blas_limit is not None:
        yield layer_threads()
        return
    requested = _requested_threads(n)
    controller = _blas_controller()
    limiter = contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")
    outer, _blas_limit = _blas_limit, requested or 0  # 0: the default, decided as the layers run
    try:
        with limiter:
            yield layer_threads()
    finally:
        _blas_limit = outer
