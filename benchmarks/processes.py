"""Child processes of the benchmarks: nothing they start outlives the benchmark.

:func:`run` starts a command in its own process session and, whatever happens (it runs past its timeout,
Ctrl-C, SIGTERM to the benchmark under :func:`sigterm_stops`), stops it and what it started: a notebook's
kernel runs in a session of its own, so it is looked up (with psutil, which Jupyter brings) while its
parent still lives, and stopped too.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess

try:
    import psutil
except ImportError:  # then only the child's own process group is stopped; an orphaned kernel exits by itself
    psutil = None


def run(cmd, timeout: float, on_start=None, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(cmd, capture_output=True, text=True)`` that leaves nothing running.

    ``on_start(proc)``, when given, is called with the started ``Popen`` (to watch it while it runs).
    Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds, once everything is stopped.
    """
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **kwargs)
    if on_start is not None:
        on_start(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            stop_tree(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def stop_tree(proc: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM ``proc``, its process group and every process below it; SIGKILL what is left after ``grace`` s."""
    family = []
    if psutil is not None:
        with contextlib.suppress(psutil.NoSuchProcess):
            family = psutil.Process(proc.pid).children(recursive=True)
    _signal_group(proc.pid, signal.SIGTERM)
    for child in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
    if family:
        _, alive = psutil.wait_procs(family, timeout=grace)
        for child in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
    with contextlib.suppress(ValueError, OSError):
        proc.communicate()  # close the pipes


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def sigterm_stops():
    """Within the block, SIGTERM (``timeout``, a batch system) unwinds like Ctrl-C, so ``run`` cleans up."""
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
