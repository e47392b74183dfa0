"""Writing a file the course makes (a notebook, a manifest, a cached run) so that a failure never leaves half of it.

:func:`write_atomic` writes to a temporary file beside the target and moves it into place in one step; the
file gets the mode a new file gets under the umask (``tempfile.mkstemp`` alone would make it private).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` in one step: the old file (if any) stays whole until the new one is complete."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a notebook or cache file should not be
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
