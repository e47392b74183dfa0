"""What the commands share: argument types that refuse a bad value while parsing, the one ``--lang`` option,
and the words for a stop.

A type below raises ``argparse.ArgumentTypeError``, so a bad value ends in one ``error: argument --x: ...``
line and exit status 2, before any work starts. The commands run under the package's one signal policy,
:func:`cnnbook.serialize.sigterm_as_ctrl_c`: SIGTERM raises :class:`~cnnbook.serialize.Interrupted`, a
``KeyboardInterrupt``, so a command stops the same way for Ctrl-C and for SIGTERM, and ``python -m cnnbook``
reports either in one line with exit status ``128 + signal number`` (:func:`signal_of`, :func:`describe_stop`).
"""
from __future__ import annotations

import argparse
import signal

from cnnbook.course.language import LANGUAGES
from cnnbook.layers import checks

IN_USE = "the language in use: $CNNBOOK_LANG, else the edition whose folder you are in, else en"
"""What ``--lang`` left out means to a command that speaks or opens one edition (doctor, claims, lab, student)."""

FLOAT32_MAX = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max


def _parsed(parse, text: str, message: str):
    """``parse(text)`` (``int`` or ``float``), or argparse's error with ``message``."""
    try:
        return parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(message) from None


def _checked(check, value, message: str, **bounds):
    """``check(value, "value", **bounds)``, a check from :mod:`cnnbook.layers.checks`, with its
    ``ValueError``/``TypeError`` turned into argparse's error with ``message``: a type serves several commands and
    options, so it says what a good value is in its own words, not in the check's ``value=...``."""
    try:
        return check(value, "value", **bounds)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(message) from None


def positive_int(text: str) -> int:
    """An integer >= 1 (epochs, batch size, threads, repeats)."""
    value = _parsed(int, text, f"{text!r} is not an integer")
    return _checked(checks.whole_number, value, f"must be a positive integer, got {text}", minimum=1)


def seed(text: str) -> int:
    """A NumPy seed: an integer >= 0."""
    value = _parsed(int, text, f"{text!r} is not an integer")
    return _checked(checks.whole_number, value, f"a seed is an integer >= 0, got {text}", minimum=0)


def learning_rate(text: str) -> float:
    """A positive, finite learning rate that float32 (the models' dtype) can hold."""
    value = _parsed(float, text, f"{text!r} is not a number")
    value = _checked(checks.number, value, f"a learning rate is a finite number > 0, got {text}", above=0)
    return _checked(checks.number, value, f"{text} is too large: the models compute in float32, whose largest "
                    f"number is {FLOAT32_MAX:.3g}", maximum=FLOAT32_MAX)


def add_lang_argument(parser, without: str = IN_USE) -> None:
    """``--lang en|ko``, the same option in every command: the edition the command works on, in that language.

    ``args.lang`` is ``None`` when it is left out; ``without`` tells the help what the command does then.
    """
    parser.add_argument("--lang", choices=LANGUAGES, default=None, help=f"en or ko (default: {without})")


def signal_of(exc: KeyboardInterrupt) -> int:
    """The signal behind a ``KeyboardInterrupt``: SIGINT for Ctrl-C, or the one an ``Interrupted`` carries."""
    return getattr(exc, "signum", signal.SIGINT)


def describe_stop(exc: KeyboardInterrupt) -> str:
    """``Ctrl-C`` or the signal's name (``SIGTERM``), for the one line a stopped command prints."""
    signum = signal_of(exc)
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
