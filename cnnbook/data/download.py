"""Verified downloads: a file appears under its name only once its content has been checked.

The bytes go to a hidden temporary file in the destination folder (:func:`cnnbook.serialize.atomic_file`);
it is checked, then renamed, and removed on every failure, so an interrupted or corrupt transfer leaves
nothing behind. Mirrors are tried in order.

A mirror that makes no real progress is abandoned: one silent for ``stall_seconds`` (default
:data:`STALL_SECONDS`, 30 s), or one that trickles, delivering under ``min_rate`` bytes per second
(default :data:`MIN_BYTES_PER_SECOND`, 1 KiB/s) over ``stall_seconds``. So each mirror gives up
within about twice ``stall_seconds`` once it stops making progress, and the whole download is bounded.
"""
from __future__ import annotations

import http.client
import os
import sys
import time
import urllib.error
import urllib.request

from tqdm.auto import tqdm

from cnnbook.course.language import tr
from cnnbook.data.idx import DataError, a_kind, file_kind, not_a_file_error
from cnnbook.serialize import atomic_file

STALL_SECONDS = 30.0
"""A mirror silent this long, or slower than :data:`MIN_BYTES_PER_SECOND` over this long, is abandoned."""
MIN_BYTES_PER_SECOND = 1024.0
"""Below this rate (over :data:`STALL_SECONDS`) a transfer counts as making no real progress."""

_CHUNK = 1 << 16


class _LocalError(DataError):
    """A problem on this machine (the destination cannot be written): no other mirror would help."""


class _MirrorFailed(Exception):
    """A mirror's transfer broke off or stalled, or its copy failed the check: the next mirror may do better."""


def _write(out, chunk: bytes, path: str) -> None:
    try:
        out.write(chunk)
    except OSError as exc:  # a full disk, a quota: no other mirror would help
        raise _LocalError(tr("cannot write the download to {path}: {reason}", path=path,
                             reason=exc.strerror or exc)) from exc


def _fetch(url: str, out, path: str, progress: bool, label: str, timeout: float, stall_seconds: float,
           min_rate: float) -> None:
    """Stream ``url`` into ``out``, the open binary file ``path``; ``DataError`` when the transfer breaks off
    or stalls."""
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except TimeoutError:  # connected, but the server sent no reply
        raise DataError(tr("no reply for {timeout:g} s; abandoned the transfer", timeout=timeout)) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise DataError(tr("no connection within {timeout:g} s; abandoned the transfer",
                               timeout=timeout)) from None
        raise
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        received = 0
        # Progress is judged over windows of stall_seconds; every socket read waits at most `timeout`.
        window_start, window_bytes = time.monotonic(), 0
        with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=not progress, leave=False) as bar:
            while True:
                try:
                    chunk = response.read1(_CHUNK)  # what has arrived (read() would wait for a full chunk)
                except TimeoutError:
                    raise DataError(tr("no data for {timeout:g} s after {received} bytes; abandoned the transfer",
                                       timeout=timeout, received=received)) from None
                if not chunk:
                    break
                _write(out, chunk, path)
                received += len(chunk)
                bar.update(len(chunk))
                now = time.monotonic()
                if now - window_start >= stall_seconds:
                    rate = (received - window_bytes) / (now - window_start)
                    if rate < min_rate:
                        raise DataError(tr("no real progress: {rate:.0f} bytes/s over the last {seconds:.0f} s "
                                           "(under {min_rate:g} bytes/s), after {received} bytes; "
                                           "abandoned the transfer", rate=rate, seconds=now - window_start,
                                           min_rate=min_rate, received=received))
                    window_start, window_bytes = now, received
    if total is not None and received != total:
        raise DataError(tr("the transfer broke off after {received} of {total} bytes",
                           received=received, total=total))


def _copy_from_mirror(url, out, verify, progress, label, timeout, stall_seconds, min_rate) -> None:
    """Download ``url`` into ``out`` (an open temporary file) and ``verify`` it; :class:`_MirrorFailed` when the
    mirror is at fault."""
    try:
        _fetch(url, out, out.name, progress, label, timeout, stall_seconds, min_rate)
        out.close()
        verify(out.name)
    except _LocalError:
        raise
    except (OSError, http.client.HTTPException, DataError, ValueError) as exc:  # URLError is an OSError
        raise _MirrorFailed(_described(exc)) from exc


def _described(exc: BaseException) -> str:
    """``"DataError: the transfer broke off ..."``: the exception's type (a name in code) and its message."""
    return f"{type(exc).__name__}: {exc}"


def _make_folder(folder: str) -> list[str]:
    """Create ``folder`` and its missing parents; return the folders created, outermost first."""
    missing, path = [], os.path.abspath(folder)
    while file_kind(path) == "missing":
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        _remove_folders(list(reversed(missing)))
        raise DataError(tr("cannot create the folder {folder} for the download: {reason}", folder=folder,
                           reason=exc.strerror or exc)) from exc
    return list(reversed(missing))


def _remove_folders(created: list[str]) -> None:
    for path in reversed(created):  # innermost first; stop at one that is not empty (not ours alone)
        try:
            os.rmdir(path)
        except OSError:
            return


def download_verified(filename: str, folder: str, mirrors, verify, timeout: float | None = None,
                      progress: bool = True, *, stall_seconds: float | None = None,
                      min_rate: float | None = None, create: bool = False) -> str:
    """Download ``filename`` from the first mirror that serves a good copy; return its final path.

    ``mirrors`` are base URLs (``base + filename`` is fetched); ``verify(path)`` checks a
    candidate file and raises (any ``Exception``) when it is bad. ``folder`` must exist, unless
    ``create`` is true (then missing folders are made, and removed again when the download fails).
    ``timeout`` (seconds, default ``stall_seconds``) bounds connecting and waiting for the reply;
    ``stall_seconds`` and ``min_rate`` (bytes per second) say when a transfer makes no real progress
    (defaults :data:`STALL_SECONDS`, :data:`MIN_BYTES_PER_SECOND`). Raises :class:`DataError`
    listing what went wrong at each mirror when none worked. Nothing but the verified file
    is left in ``folder``.
    """
    mirrors = list(mirrors)
    if not mirrors:
        raise ValueError(tr("mirrors is empty; pass at least one base URL, e.g. cnnbook.data.MIRRORS"))
    stall_seconds = STALL_SECONDS if stall_seconds is None else float(stall_seconds)
    min_rate = MIN_BYTES_PER_SECOND if min_rate is None else float(min_rate)
    if not stall_seconds > 0 or not min_rate >= 0:
        raise ValueError(tr("stall_seconds={stall_seconds} must be > 0 and min_rate={min_rate} >= 0",
                            stall_seconds=repr(stall_seconds), min_rate=repr(min_rate)))
    timeout = stall_seconds if timeout is None else timeout
    created = _make_folder(folder) if create else []
    try:
        return _download(filename, folder, mirrors, verify, progress, timeout, stall_seconds, min_rate)
    except BaseException:
        _remove_folders(created)
        raise


def _download(filename, folder, mirrors, verify, progress, timeout, stall_seconds, min_rate) -> str:
    kind = file_kind(folder)
    if kind != "folder":
        if kind == "missing":
            raise DataError(tr("cannot download {filename} into {folder}: that folder does not exist",
                               filename=filename, folder=folder))
        raise DataError(tr("cannot download {filename} into {folder}: it is {a_kind}, not a folder",
                           filename=filename, folder=folder, a_kind=a_kind(kind)))
    final = os.path.join(folder, filename)
    if file_kind(final) not in ("missing", "file"):
        raise not_a_file_error(final)
    suffix = ".part.gz" if filename.endswith(".gz") else ".part"  # the checker decompresses by suffix
    failures = []
    for number, base in enumerate(mirrors, 1):
        url = base.rstrip("/") + "/" + filename
        try:
            with atomic_file(final, suffix=suffix) as out:
                _copy_from_mirror(url, out, verify, progress, filename, timeout, stall_seconds, min_rate)
            return final
        except _MirrorFailed as exc:
            failures.append(f"  {url}: {exc}")
            if progress and number < len(mirrors):
                tqdm.write(tr("{url}: {error}; trying the next mirror", url=url, error=exc.__cause__),
                           file=sys.stderr)
        except OSError as exc:  # making or renaming the temporary file: no other mirror would help
            raise DataError(tr("cannot download {filename} into {folder}: {reason}; "
                               "choose a folder you may write (root=..., or $CNNBOOK_DATA)",
                               filename=filename, folder=folder, reason=exc.strerror or exc)) from exc
    raise DataError(tr("could not download a good copy of {filename} into {folder}:\n{failures}\n"
                       "Check the network connection, or copy the official file into that folder by hand.",
                       filename=filename, folder=folder, failures="\n".join(failures)))
