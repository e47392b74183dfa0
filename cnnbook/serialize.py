"""Saving and loading model parameters as ``.npz`` files (one array per ``named_parameters`` name).

``save(model, "cnn.npz")`` writes a hidden temporary file next to the target,
``.tmp-<pid>-<random>-cnn.npz``, and renames it over the target only once it is complete, so an
interrupted save never leaves half a file under the target's name:

* the file gets the mode a new file gets under the umask (0644 under 022), or the mode of the file it
  replaces; a read-only target (no write permission) is refused with ``PermissionError``, not replaced;
* Ctrl-C or SIGTERM during the save removes the temporary file (SIGTERM then ends the process as it
  would have); SIGKILL cannot be caught, so each save first removes temporary files of the same target
  left by processes that no longer run.

``load(model, "cnn.npz")`` reads the file with ``allow_pickle=False`` (no code runs from a file) and
checks every name, shape and value (floating point, finite) before changing anything: a refused load
leaves the model exactly as it was.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import signal
import stat
import threading
import zipfile

import numpy as np

from cnnbook import backend

_TEMP_PREFIX = ".tmp-"


def _check_value(name: str, value, target_dtype) -> np.ndarray:
    """``value`` as a host array of ``target_dtype``; ``TypeError``/``ValueError`` naming ``name``."""
    host = backend.to_numpy(value)
    if host.dtype.kind != "f":
        raise TypeError(f"parameter {name!r} holds {host.dtype} values; parameters must be floating point "
                        f"(the model's are {np.dtype(target_dtype)}): was the file written by model.save()?")
    cast = host.astype(target_dtype, copy=False)
    bad = ~np.isfinite(cast)
    if bad.any():
        nan, inf = int(np.isnan(cast).sum()), int(np.isinf(cast).sum())
        what = " and ".join(f"{n} {kind}" for n, kind in ((nan, "NaN"), (inf, "infinite")) if n)
        raise ValueError(f"parameter {name!r} holds {what} value(s) (as {np.dtype(target_dtype)}); a model "
                         "with such weights computes nothing useful: save it again from a model that trained "
                         "without diverging")
    return cast


def load_state_dict(model, state) -> None:
    """Copy ``{name: array}`` into ``model``'s parameters, keeping their dtype and backend.

    Every entry is checked first (names, shapes, a floating-point dtype, finite values), and moved to
    the parameters' device; only then is anything copied, so on an error the model is unchanged.
    ``ValueError`` names the missing, unexpected or wrongly shaped entries, or the non-finite ones;
    ``TypeError`` an entry that is not floating point (integers, complex numbers, strings).
    """
    params = dict(model.named_parameters())
    if not hasattr(state, "keys"):
        raise TypeError(f"state must be a dict {{name: array}} such as model.state_dict(), "
                        f"got {type(state).__name__}")
    missing = sorted(set(params) - set(state))
    unexpected = sorted(set(state) - set(params))
    if missing or unexpected:
        raise ValueError(f"parameter names do not match the model: missing {missing}, unexpected "
                         f"{unexpected}; was the file saved from a model built the same way?")
    wrong = [f"{name}: file {tuple(np.shape(state[name]))}, model {p.shape}"
             for name, p in params.items() if tuple(np.shape(state[name])) != p.shape]
    if wrong:
        raise ValueError("parameter shapes do not match the model (" + "; ".join(wrong) +
                         "); build the model with the same layer sizes as the saved one")
    ready = []
    for name, p in params.items():
        value = _check_value(name, state[name], p.data.dtype)
        ready.append((p, backend.to_device(value, backend.get_array_module(p.data))))
    for p, value in ready:
        p.data[...] = value


# ---------------------------------------------------------------- temporary files
def _temp_name(target_name: str, pid: int, token: str | None = None) -> str:
    """The hidden temporary file a save of ``target_name`` by process ``pid`` writes."""
    return f"{_TEMP_PREFIX}{pid}-{token or secrets.token_hex(4)}-{target_name}"


def _process_started_after(pid: int, mtime: float) -> bool:
    """Whether process ``pid`` started after ``mtime`` (so it cannot have written a file then)."""
    try:
        import psutil
        return psutil.Process(pid).create_time() > mtime + 1.0
    except Exception:  # psutil missing, no permission, process gone in between: assume it is the writer
        return False


def _remove_stale_temps(folder: str, target_name: str) -> list:
    """Remove temporary files of ``target_name`` whose writer no longer runs; return their names.

    A writer no longer runs when its PID is gone, or when the process holding that PID now started
    after the file was last written (the PID was reused). Saves in progress, of this or another
    process, are left alone, and so is every file not named like a temporary of this target.
    """
    pattern = re.compile(re.escape(_TEMP_PREFIX) + r"(\d+)-[0-9a-f]{8}-" + re.escape(target_name) + r"\Z")
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match is None:
            continue
        pid, path = int(match.group(1)), os.path.join(folder, name)
        if pid == os.getpid():
            continue  # another thread of this process may be saving right now
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except PermissionError:  # exists, owned by someone else
            alive = True
        try:
            if alive and not _process_started_after(pid, os.stat(path).st_mtime):
                continue
            os.unlink(path)
            removed.append(name)
        except OSError:
            pass  # gone already, or not ours to remove
    return removed


class _Terminated(BaseException):
    """Raised by the SIGTERM handler during a save, so the temporary file is removed first."""


@contextlib.contextmanager
def _sigterm_like_ctrl_c():
    """During the block, SIGTERM raises (cleanup runs), then ends the process as SIGTERM would.

    Only where SIGTERM still has its default action (kill the process) and only in the main thread
    (where Python runs signal handlers); a program's own SIGTERM handler is left in charge.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(signum, frame):
        raise _Terminated

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)  # die by the signal, as the sender asked
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _existing_mode(path: str):
    """The permission bits of the file at ``path``, ``None`` if there is none; refuses a read-only one."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, f"cannot save to {path!r}: it is a folder; pass a file name "
                                              f"such as {os.path.join(path, 'model.npz')!r}")
    mode = stat.S_IMODE(st.st_mode)
    # Root may write anything, so os.access alone would never call a file read-only there.
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, f"cannot save to {path!r}: the file is read-only (mode "
                                            f"{mode:o}); save under another name, or make it writable "
                                            f"first (chmod u+w {path})")
    return mode


def save(model, path) -> None:
    """Write ``model.state_dict()`` to ``path`` (an ``.npz`` file), atomically (see the module docstring)."""
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"cannot save to {path!r}: the folder {folder!r} does not exist; "
                                              f"create it first (os.makedirs({folder!r}))")
    mode = _existing_mode(path)
    _remove_stale_temps(folder, name)
    state = model.state_dict()
    tmp = os.path.join(folder, _temp_name(name, os.getpid()))
    with _sigterm_like_ctrl_c():
        try:
            # 0o666 through os.open: the kernel applies the umask, as for any new file.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            raise type(exc)(exc.errno, f"cannot save to {path!r}: {exc.strerror} (writing in {folder!r})") \
                from None
        try:
            with os.fdopen(fd, "wb") as f:
                if mode is not None:
                    os.fchmod(f.fileno(), mode)
                np.savez(f, **state)
            os.replace(tmp, path)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError) and exc.filename == tmp:
                raise type(exc)(exc.errno, f"cannot save to {path!r}: {exc.strerror}") from exc
            raise


def load(model, path) -> None:
    """Load parameters saved by :func:`save` into ``model`` (same architecture); all or nothing."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no model file at {path!r}; save one first with model.save(path)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path!r} is not a parameter file written by model.save(), or it is truncated "
                         f"({type(exc).__name__}: {exc})") from exc
    if not hasattr(archive, "files"):
        raise ValueError(f"{path!r} holds a single array, not named parameters; "
                         "write it with model.save(path)")
    try:
        with archive:
            state = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{path!r} is damaged or holds objects that need pickle "
                         f"({type(exc).__name__}: {exc}); save it again with model.save(path)") from exc
    load_state_dict(model, state)
