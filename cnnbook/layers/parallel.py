"""The layers' threads: NumPy work split over a small pool of threads, each running single-threaded BLAS.

A layer cuts its work into independent pieces (blocks of output pixels in the convolution, pieces of
the batch in max pooling) and hands them to :func:`run`; NumPy releases the GIL in its matrix
products and in most copies and ufuncs, so the pieces run at the same time on different cores.
Inside a piece, BLAS runs one thread (:func:`cnnbook.backend.blas_threads` pins it), which avoids
OpenBLAS's own threads: they split these small products badly and spin-wait when another process
holds a core.

Each thread takes the next piece when it is done with one, so a thread whose core is busy with
another process simply does fewer pieces. How many threads: :func:`cnnbook.backend.layer_threads`
(a ``blas_threads(n)`` block, ``$CNNBOOK_BLAS_THREADS``, else the CPUs this process may use, less those
other processes keep busy). CuPy arrays, one thread, small pieces or a single piece run in the calling
thread, in order, as a plain loop would.

The pieces of a layer must write to disjoint parts of its arrays; results that are sums over pieces
(a convolution's ``dw``) come back from :func:`run` in the pieces' order and are added up in that
order, so the numbers do not depend on the thread count. The pool starts on first use (never on
import), lives as long as the process, and its threads are stopped at exit (or by :func:`shutdown`).
"""
from __future__ import annotations

import atexit
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cnnbook import backend

# Between two NumPy calls a thread needs the GIL back, and on a busy GIL that takes a wake-up (tens of
# microseconds); pieces of fewer numbers than this spend more on those hand-overs than a second thread saves
# (benchmarks/README.md, issue 35), so they stay on the calling thread.
MIN_PIECE_SIZE = 1 << 16
# Pieces of the batch for element-wise work (pooling): about this many numbers each, so that a piece's
# temporaries stay small (max pooling's backward at batch 512 peaks at 31 MB instead of 44 MB for the whole
# batch at once) and a batch gives several pieces to keep the threads busy.
PIECE_NUMBERS = 1 << 18
THREAD_NAME = "cnnbook-layer"  # the pool's threads are named cnnbook-layer_0, cnnbook-layer_1, ...

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def chunks(n: int, numbers_each: int, xp) -> list[slice]:
    """``range(n)`` (a batch) cut into contiguous slices of about :data:`PIECE_NUMBERS` numbers each, when
    each item holds ``numbers_each`` numbers: the same slices whatever the thread count. One slice for
    arrays of other modules (CuPy: one launch wins)."""
    if xp is not np or n == 0:
        return [slice(0, n)]
    per = max(1, PIECE_NUMBERS // max(1, numbers_each))
    return [slice(start, min(start + per, n)) for start in range(0, n, per)]


def elementwise(function, out, *arrays):
    """``function(*arrays, out=out)`` for arrays of ``out``'s shape, the batch (the first axis) cut into
    :func:`chunks` shared out over the threads; returns ``out``. ``function`` works element by element (a ufunc
    or a few of them), so each number is the same as in one call."""
    xp = backend.get_array_module(out)
    n = out.shape[0] if out.ndim else 0
    pieces = chunks(n, out.size // max(1, n), xp)
    if len(pieces) == 1 or backend.layer_threads() == 1:  # one call: pieces on one thread only cost time
        function(*arrays, out=out)
        return out

    def piece(part):
        function(*(a[part] for a in arrays), out=out[part])
    run(piece, pieces, xp, size=out.size)
    return out


def _workers(count: int) -> ThreadPoolExecutor:
    """The pool, with room for at least ``count`` threads (it grows, never shrinks; threads start on demand)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < count:
            old, _pool, _pool_size = _pool, ThreadPoolExecutor(count, thread_name_prefix=THREAD_NAME), count
            if old is None:
                atexit.register(shutdown)
            else:
                old.shutdown(wait=True)
        return _pool


def shutdown() -> None:
    """Stop the pool's threads (the next :func:`run` that needs them starts a new pool)."""
    global _pool, _pool_size
    with _pool_lock:
        pool, _pool, _pool_size = _pool, None, 0
    if pool is not None:
        pool.shutdown(wait=True)


def _forget_pool_in_child() -> None:
    # A forked child has none of the parent's threads: its copy of the pool would wait for them forever.
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def run(work, pieces, xp, size: int) -> list:
    """``[work(piece) for piece in pieces]``, the pieces shared out over
    :func:`cnnbook.backend.layer_threads` threads, each running BLAS on one thread.

    ``size``: about how many numbers the pieces work on together. Pieces of fewer than :data:`MIN_PIECE_SIZE`
    each, arrays of another module, one thread, and the pieces of a call from one of the pool's threads run
    in the calling thread as a plain loop (BLAS as the caller left it: ``fit`` and the others pin it to one
    thread), without the cost of pinning it. Else the calling thread takes part, and each thread takes the
    next piece as soon as it is free. The results come back in the pieces' order. An exception in any piece
    is raised here, once every thread has stopped taking pieces.
    """
    pieces = list(pieces)
    n = min(backend.layer_threads(), len(pieces)) if xp is np else 1  # (a bad $CNNBOOK_BLAS_THREADS raises here)
    if n <= 1 or size < MIN_PIECE_SIZE * len(pieces) or threading.current_thread().name.startswith(THREAD_NAME):
        return [work(piece) for piece in pieces]
    with backend.blas_threads():  # BLAS on one thread in each of ours
        results = [None] * len(pieces)
        order = itertools.count()  # next() on it is atomic under the GIL: each piece is taken once
        failed = threading.Event()

        def take_pieces():
            for k in order:
                if k >= len(pieces) or failed.is_set():
                    return
                try:
                    results[k] = work(pieces[k])
                except BaseException:
                    failed.set()
                    raise

        helpers = []
        try:
            pool = _workers(n - 1)
            for _ in range(n - 1):
                helpers.append(pool.submit(take_pieces))
        except RuntimeError:  # the interpreter is shutting down: no new threads, the calling thread does it all
            pass
        try:
            take_pieces()
        except BaseException:  # an error or Ctrl-C here: no thread starts another piece
            failed.set()
            raise
        finally:
            errors = []
            for helper in helpers:
                try:
                    helper.result()
                except BaseException as exc:  # noqa: BLE001 (re-raised below, the first one)
                    errors.append(exc)
        if errors:
            raise errors[0]
        return results
