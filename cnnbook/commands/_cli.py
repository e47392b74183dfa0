"""What the commands share: argument types that refuse a bad value while parsing, and a clean stop on a signal.

A type below raises ``argparse.ArgumentTypeError``, so a bad value ends in one ``error: argument --x: ...``
line and exit status 2, before any work starts. :func:`stop_on_sigterm` turns SIGTERM into
:class:`Interrupted`, a ``KeyboardInterrupt``: a command stops the same way for Ctrl-C and for SIGTERM,
and ``python -m cnnbook`` reports either in one line with exit status ``128 + signal number``.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import signal
import threading

FLOAT32_MAX = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max, without importing NumPy to parse


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def positive_int(text: str) -> int:
    """An integer >= 1 (epochs, batch size, threads, repeats)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def seed(text: str) -> int:
    """A NumPy seed: an integer >= 0."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is an integer >= 0, got {text}")
    return value


def learning_rate(text: str) -> float:
    """A positive, finite learning rate that float32 (the models' dtype) can hold."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"a learning rate is a finite number > 0, got {text} "
                                         "(the default is 0.002)")
    if value > FLOAT32_MAX:
        raise argparse.ArgumentTypeError(f"{text} is too large: the models compute in float32, whose largest "
                                         f"number is {FLOAT32_MAX:.3g} (the default is 0.002)")
    return value


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised where the program runs, so that it stops like Ctrl-C (``signum``: the signal)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = signum


def signal_of(exc: KeyboardInterrupt) -> int:
    """The signal behind a ``KeyboardInterrupt``: SIGINT for Ctrl-C, or :class:`Interrupted`'s own."""
    return getattr(exc, "signum", signal.SIGINT)


def describe_stop(exc: KeyboardInterrupt) -> str:
    signum = signal_of(exc)
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_on_sigterm():
    """Within the block, SIGTERM raises :class:`Interrupted` (only in the main thread, where signals arrive)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
