"""The IDX file format of MNIST and Fashion-MNIST, read directly (no pickle), and checked.

An IDX file is a header followed by raw big-endian numbers::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4*d bytes   the size of each dimension, big-endian uint32 (N first)
    the data    prod(sizes) elements, row-major

So Fashion-MNIST's image files start with the magic number ``0x00000803`` (uint8, 3 dimensions:
N, 28, 28) and its label files with ``0x00000801`` (uint8, 1 dimension: N).

:class:`DataError` is raised for anything wrong with a data file; it is a ``ValueError`` whose
message names the file, says what was expected, and how to get a good copy.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import stat
import zlib
from collections.abc import Callable

import numpy as np

from cnnbook.course.language import N_, tr

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataError(ValueError):
    """A data file is missing, truncated, altered or not what it claims to be."""


A_KIND = {"file": N_("a file"), "folder": N_("a folder"), "broken symbolic link": N_("a broken symbolic link"),
          "named pipe (FIFO)": N_("a named pipe (FIFO)"), "socket": N_("a socket"), "device": N_("a device")}
"""What :func:`file_kind` found, as a message names it (``"a folder"``); :func:`a_kind` translates it."""


def a_kind(kind: str) -> str:
    """``kind`` (a :func:`file_kind` answer other than ``"missing"``) as a message names it, in the learner's
    language: ``"a named pipe (FIFO)"``."""
    return tr(A_KIND[kind])


def hint_text(hint) -> str:
    """The text of a ``hint``: a string, or a function returning it (called only when a message is made, so that
    loading a good file looks no message up)."""
    return hint() if callable(hint) else hint


def parse_idx(data: bytes, name: str = "<bytes>", hint: str | Callable[[], str] = "") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into a host NumPy array.

    Returns an array with the header's shape, e.g. ``(60000, 28, 28)`` uint8 for
    ``train-images-idx3-ubyte``, in native byte order. ``name`` and ``hint`` (how to get a
    good copy, or a function returning it) go into the :class:`DataError` raised for a malformed or truncated file.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _TYPES:
        magic = data[:4].hex() if len(data) >= 4 else tr("only {count} bytes", count=len(data))
        raise DataError(tr("{name} is not an IDX file: its magic number is {magic}, expected "
                           "0x0000TTDD with type TT in {{08, 09, 0b, 0c, 0d, 0e}}. {hint}",
                           name=name, magic=magic, hint=hint_text(hint)).rstrip())
    dtype = np.dtype(_TYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(tr("{name} is truncated: {size} bytes, but its header alone needs {header}. {hint}",
                           name=name, size=len(data), header=header, hint=hint_text(hint)).rstrip())
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        fields = dict(name=name, size=len(data), expected=expected, shape=shape, dtype=dtype.name,
                      hint=hint_text(hint))
        if len(data) < expected:
            raise DataError(tr("{name} is truncated: {size} bytes, expected {expected} for shape {shape} "
                               "of {dtype}. {hint}", **fields).rstrip())
        raise DataError(tr("{name} is longer than its header says: {size} bytes, expected {expected} for shape "
                           "{shape} of {dtype}. {hint}", **fields).rstrip())
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def file_kind(path) -> str:
    """What is at ``path``: ``"file"``, ``"folder"``, ``"missing"``, ``"broken symbolic link"``,
    ``"named pipe (FIFO)"``, ``"socket"`` or ``"device"`` (symbolic links are followed)."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "broken symbolic link" if os.path.islink(path) else "missing"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def not_a_file_error(path, hint: str | Callable[[], str] = "") -> DataError:
    """The :class:`DataError` for something at ``path`` that is not a regular file (or nothing at all)."""
    kind = file_kind(path)
    if kind == "missing":
        return DataError(tr("{path} does not exist. {hint}", path=path, hint=hint_text(hint)).rstrip())
    return DataError(tr("{path} is {a_kind}, not a data file: move it away or remove it. {hint}",
                        path=path, a_kind=a_kind(kind), hint=hint_text(hint)).rstrip())


def read_bytes(path: str, max_bytes: int | None = None, hint: str | Callable[[], str] = "") -> bytes:
    """The (decompressed, when the name ends in ``.gz``) bytes of ``path``.

    ``max_bytes`` caps the decompressed size (a file that is larger is wrong, and a
    cap keeps a corrupt or hostile gzip stream from filling memory). Raises :class:`DataError` naming
    the file for a damaged gzip stream, a file that cannot be read (permission denied, ...), and
    anything that is not a regular file (a folder, a FIFO, which would block a reader forever, ...); ``hint`` (how
    to get a good copy, or a function returning it, called only then) ends the messages about the file's content.
    """
    if file_kind(path) != "file":
        raise not_a_file_error(path, hint)
    limit = -1 if max_bytes is None else max_bytes + 1
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                data = f.read(limit)
        else:
            with open(path, "rb") as f:
                data = f.read(limit)
    except PermissionError as exc:
        raise DataError(tr("{path} cannot be read: permission denied. Make it readable "
                           "(`chmod a+r {path}`) or run as a user who may read it.", path=path)) from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataError(tr("{path} is not a complete gzip file ({error}); it is probably truncated. {hint}",
                           path=path, error=f"{type(exc).__name__}: {exc}", hint=hint_text(hint)).rstrip()) from exc
    except OSError as exc:  # a disk or network file system error: not the file's content
        raise DataError(tr("{path} cannot be read: {reason}.", path=path, reason=exc.strerror or exc)) from exc
    if max_bytes is not None and len(data) > max_bytes:
        raise DataError(tr("{path} holds more than the expected {max_bytes} bytes. {hint}",
                           path=path, max_bytes=max_bytes, hint=hint_text(hint)).rstrip())
    return data


def load_verified(path: str, sha256: str, shape: tuple, hint: str | Callable[[], str] = "") -> np.ndarray:
    """Read, check and parse one IDX file (gzipped or not) whose content is known.

    Checks the IDX header against ``shape`` and the SHA-256 of the decompressed bytes
    against ``sha256`` (hex). Returns the host array; raises :class:`DataError` naming
    ``path`` when anything differs.
    """
    itemsize = 1  # the known files are all uint8
    size = 4 + 4 * len(shape) + itemsize * int(np.prod(shape))
    data = read_bytes(path, max_bytes=size, hint=hint)
    array = parse_idx(data, name=path, hint=hint)
    if array.shape != tuple(shape) or array.dtype != np.uint8:
        raise DataError(tr("{path} holds a {dtype} array of shape {shape}, expected uint8 {expected}. {hint}",
                           path=path, dtype=array.dtype, shape=array.shape, expected=tuple(shape),
                           hint=hint_text(hint)).rstrip())
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise DataError(tr("{path} has been altered: the SHA-256 of its content is {digest}, expected {sha256}. "
                           "{hint}", path=path, digest=digest, sha256=sha256, hint=hint_text(hint)).rstrip())
    return array
