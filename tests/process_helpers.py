"""Processes the tests start (JupyterLab, its kernels, the command line), and a check that none outlives them.

Every process a test starts gets ``CNNBOOK_TEST_SESSION=<random>`` in its environment (:func:`marked_env`);
its own children (JupyterLab's kernels) inherit it, so :func:`leftovers` finds them even once they have been
re-parented to PID 1 and are nobody's children any more. psutil comes with Jupyter (jupyter_server needs it).
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess

import psutil

MARK = "CNNBOOK_TEST_SESSION"
SESSION = secrets.token_hex(8)  # one per pytest process (each xdist worker has its own)


def marked_env(base=None, **overrides) -> dict:
    """``os.environ`` (or ``base``) with this session's mark and ``overrides``."""
    return dict(os.environ if base is None else base, **overrides, **{MARK: SESSION})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[psutil.Process]:
    """``pid`` and every process below it, while they are still attached to it."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def leftovers() -> list[psutil.Process]:
    """Live processes carrying this session's mark (zombies and processes of other users are skipped)."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if proc.environ().get(MARK) == SESSION and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def describe(procs) -> str:
    out = []
    for p in procs:
        try:
            out.append(f"{p.pid}: {' '.join(p.cmdline())[:160]}")
        except psutil.Error:
            out.append(f"{p.pid}: (gone)")
    return "; ".join(out)


def stop(procs, grace: float = 20) -> list[psutil.Process]:
    """SIGTERM every process in ``procs``, SIGKILL those still alive after ``grace`` s; returns those killed."""
    procs = [p for p in procs if p.is_running()]
    for p in procs:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace)
    return alive


def stop_popen(proc: subprocess.Popen, family=(), grace: float = 20) -> None:
    """Stop a process started with ``start_new_session=True``, its process group, and ``family`` (processes
    seen below it earlier, which may have been re-parented since); reap it."""
    procs = {*family, *descendants(proc.pid)}
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    stop(procs, grace)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def check_no_leftovers(grace: float = 15) -> None:
    """Fail (after stopping them) if processes this session started are still running.

    An orphaned kernel notices its lost parent within a second or two and exits, so those still alive after
    ``grace`` seconds are leaks.
    """
    left = leftovers()
    if left:
        _, left = psutil.wait_procs(left, timeout=grace)
    if left:
        names = describe(left)
        stop(left)
        raise AssertionError(f"processes started by this test session are still running: {names}")
