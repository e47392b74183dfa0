"""Verified downloads: a file appears under its name only once its content has been checked.

The bytes go to a hidden temporary file in the destination folder (same file system, so the
final ``os.replace`` is atomic); it is checked, then renamed, and removed on every failure,
so an interrupted or corrupt transfer leaves nothing behind. Mirrors are tried in order.
"""
from __future__ import annotations

import http.client
import os
import tempfile
import urllib.request

from tqdm.auto import tqdm

from cnnbook.data.idx import DataError

_CHUNK = 1 << 16


def _fetch(url: str, out, timeout: float, progress: bool, label: str) -> None:
    """Stream ``url`` into the open binary file ``out``; ``DataError`` when the transfer breaks off."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        received = 0
        with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=not progress, leave=False) as bar:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received != total:
        raise DataError(f"the transfer broke off after {received} of {total} bytes")


def download_verified(filename: str, folder: str, mirrors, verify, timeout: float = 60.0,
                      progress: bool = True) -> str:
    """Download ``filename`` from the first mirror that serves a good copy; return its final path.

    ``mirrors`` are base URLs (``base + filename`` is fetched); ``verify(path)`` checks a
    candidate file and raises (any ``Exception``) when it is bad. Raises :class:`DataError`
    listing what went wrong at each mirror when none worked. Nothing but the verified file
    is left in ``folder``.
    """
    mirrors = list(mirrors)
    if not mirrors:
        raise ValueError("mirrors is empty; pass at least one base URL, e.g. cnnbook.data.MIRRORS")
    os.makedirs(folder, exist_ok=True)
    final = os.path.join(folder, filename)
    suffix = ".part.gz" if filename.endswith(".gz") else ".part"  # the checker decompresses by suffix
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{filename}.", suffix=suffix, dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                _fetch(url, out, timeout, progress, filename)
            verify(tmp)
            os.replace(tmp, final)
            return final
        except (OSError, http.client.HTTPException, DataError, ValueError) as exc:  # URLError is an OSError
            failures.append(f"  {url}: {type(exc).__name__}: {exc}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise DataError(f"could not download a good copy of {filename} into {folder}:\n" + "\n".join(failures)
                    + "\nCheck the network connection, or copy the official file into that folder by hand.")
