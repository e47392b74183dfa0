"""Files that are never half-written, and model parameters saved and loaded as ``.npz`` files.

The package writes every file it makes the same way, with :func:`atomic_file` (or :func:`write_atomic` for
bytes in hand): into a hidden temporary file in the target's folder, renamed over the target in one step
(``os.replace``) only once it is complete, and removed on every failure. So an interrupted write leaves the
old file whole and no temporary file behind:

* the new file gets the mode a new file gets under the umask (0644 under 022);
* Ctrl-C or SIGTERM during the write removes the temporary file; SIGTERM then ends the process as it would
  have (:func:`sigterm_as_ctrl_c`, the package's one signal policy, which the commands share);
* SIGKILL cannot be caught: the next write of the same target removes the temporary files that writers
  which no longer run left beside it (their process id is in the name, ``.tmp-<name>.<pid>-<random>``).

A folder of files (the student edition, the book) is built the same way in a hidden folder beside it, and
swapped in only once it is complete (:func:`atomic_folder`).

``save(model, "cnn.npz")`` writes ``model.state_dict()`` that way; the file keeps the mode of the file it
replaces, and a read-only target is refused with ``PermissionError``, not replaced.
``load(model, "cnn.npz")`` reads the file with ``allow_pickle=False`` (no code runs from a file) and checks
every name, shape and value (floating point, finite) before changing anything: a refused load leaves the
model exactly as it was.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import signal
import stat
import threading
import zipfile
from pathlib import Path

import numpy as np

from cnnbook import backend
from cnnbook.course.language import tr

_TEMP_PREFIX = ".tmp-"


def _check_value(name: str, value, target_dtype) -> np.ndarray:
    """``value`` as a host array of ``target_dtype``; ``TypeError``/``ValueError`` naming ``name``."""
    host = backend.to_numpy(value)
    if host.dtype.kind != "f":
        raise TypeError(tr("parameter {name!r} holds {dtype} values; parameters must be floating point (the "
                           "model's are {target}): was the file written by model.save()?",
                           name=name, dtype=host.dtype, target=np.dtype(target_dtype)))
    cast = host.astype(target_dtype, copy=False)
    bad = ~np.isfinite(cast)
    if bad.any():
        nan, inf = int(np.isnan(cast).sum()), int(np.isinf(cast).sum())
        if nan and inf:
            what = tr("{nan} NaN and {inf} infinite", nan=nan, inf=inf)
        else:
            what = tr("{count} NaN", count=nan) if nan else tr("{count} infinite", count=inf)
        raise ValueError(tr("parameter {name!r} holds {what} value(s) (as {target}); a model with such weights "
                            "computes nothing useful: save it again from a model that trained without diverging",
                            name=name, what=what, target=np.dtype(target_dtype)))
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
        raise TypeError(tr("state must be a dict {{name: array}} such as model.state_dict(), got {kind}",
                           kind=type(state).__name__))
    missing = sorted(set(params) - set(state))
    unexpected = sorted(set(state) - set(params))
    if missing or unexpected:
        raise ValueError(tr("parameter names do not match the model: missing {missing}, unexpected {unexpected}; "
                            "was the file saved from a model built the same way?",
                            missing=missing, unexpected=unexpected))
    wrong = [(name, tuple(np.shape(state[name])), p.shape)
             for name, p in params.items() if tuple(np.shape(state[name])) != p.shape]
    if wrong:
        shapes = "; ".join(tr("{name}: file {file}, model {model}", name=name, file=file, model=model)
                           for name, file, model in wrong)
        raise ValueError(tr("parameter shapes do not match the model ({shapes}); build the model with the same "
                            "layer sizes as the saved one", shapes=shapes))
    ready = []
    for name, p in params.items():
        value = _check_value(name, state[name], p.data.dtype)
        ready.append((p, backend.to_device(value, backend.get_array_module(p.data))))
    for p, value in ready:
        p.data[...] = value


# ---------------------------------------------------------------- the signal policy
class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised where the program runs so that it stops as for Ctrl-C (``signum``: the signal)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def sigterm_as_ctrl_c():
    """Within the block, SIGTERM raises :class:`Interrupted`, a ``KeyboardInterrupt``: clean-up code
    (``finally``, ``except BaseException``) runs as it does for Ctrl-C.

    The commands run inside it (``python -m cnnbook`` reports the stop in one line and exits with
    128 + the signal's number), and so does every :func:`atomic_file`. It acts only in the main thread (where
    Python runs signal handlers) and only while SIGTERM has its default action: an enclosing block, or a
    program's own handler, stays in charge. An ``Interrupted`` that leaves the block ends the process by
    SIGTERM, as the sender asked.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    except Interrupted:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


# ---------------------------------------------------------------- the file writer
def _temp_name(target_name: str, pid: int, token: str | None = None, suffix: str = "") -> str:
    """The hidden temporary file that process ``pid`` writes ``target_name`` through."""
    return f"{_TEMP_PREFIX}{target_name}.{pid}-{token or secrets.token_hex(4)}{suffix}"


def _remove_dead_writers_files(folder: str, target_name: str) -> None:
    """Remove the temporary files of ``target_name`` whose writer no longer runs (it was killed by SIGKILL).

    Writes in progress, of this or another process, are left alone, and so is every file not named like a
    temporary file of this target. POSIX only (elsewhere ``os.kill(pid, 0)`` would end the process).
    """
    if os.name != "posix":
        return
    pattern = re.compile(re.escape(f"{_TEMP_PREFIX}{target_name}.") + r"(\d+)-[0-9a-f]{8}[\w.]*\Z")
    with contextlib.suppress(OSError):
        for entry in os.listdir(folder):
            match = pattern.match(entry)
            if match and int(match.group(1)) != os.getpid() and not _running(int(match.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, entry))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to someone else
        pass
    return True


@contextlib.contextmanager
def atomic_file(path, *, suffix: str = ""):
    """Yield a new binary file, open for writing, that becomes ``path`` once the block ends without an error.

    The file is a hidden temporary one in ``path``'s folder (its path is the file's ``name``; ``suffix`` ends
    it, e.g. ``.gz`` for a checker that goes by the suffix). When the block ends normally it is closed and
    renamed over ``path`` in one step; when the block raises (a full disk, a failed check, Ctrl-C, SIGTERM),
    it is removed and ``path`` keeps what it held. An ``OSError`` names ``path``, not the temporary file.
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    _remove_dead_writers_files(folder, name)
    tmp = os.path.join(folder, _temp_name(name, os.getpid(), suffix=suffix))
    with sigterm_as_ctrl_c():
        try:
            with open(tmp, "xb") as f:  # a new file, of mode 0o666 less the umask
                yield f
            os.replace(tmp, path)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError) and exc.filename == tmp:
                raise type(exc)(exc.errno, tr("cannot write {path!r}: {reason}", path=path,
                                              reason=exc.strerror)) from None
            raise


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` with :func:`atomic_file`: the old file (if any) stays whole until the new
    one is complete."""
    with atomic_file(path) as f:
        f.write(data)


@contextlib.contextmanager
def atomic_folder(outdir, *, merge: bool = False):
    """Yield a new, empty folder (a ``Path``) that becomes ``outdir`` once the block ends without an error.

    The folder is hidden beside ``outdir`` (so the swap is a rename) and gets the mode a new folder gets under
    the umask (0755 under 022). When the block ends normally and ``outdir`` does not exist, the folder is
    renamed to it. When ``outdir`` exists, ``merge=False`` replaces it whole (the old folder is moved aside,
    then removed); ``merge=True`` moves each entry of the new folder into it, over an entry of the same name,
    and leaves its other entries alone. When the block raises (Ctrl-C and SIGTERM included), the new folder
    is removed and ``outdir`` keeps what it held.
    """
    outdir = Path(outdir).resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = outdir.parent / _temp_name(outdir.name, os.getpid())
    with sigterm_as_ctrl_c():
        os.mkdir(tmp)  # of mode 0o777 less the umask, unlike tempfile.mkdtemp's private 0o700
        try:
            yield tmp
            if not outdir.exists():
                os.replace(tmp, outdir)
            elif merge:
                for name in os.listdir(tmp):
                    os.replace(tmp / name, outdir / name)
            else:
                old = outdir.parent / _temp_name(outdir.name, os.getpid())
                os.replace(outdir, old)
                try:
                    os.replace(tmp, outdir)
                except BaseException:
                    os.replace(old, outdir)
                    raise
                shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- model files
def _existing_mode(path: str):
    """The permission bits of the file at ``path``, ``None`` if there is none; refuses a folder or a
    read-only file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, tr("cannot save to {path!r}: it is a folder; pass a file name such "
                                                 "as {example!r}", path=path,
                                                 example=os.path.join(path, "model.npz")))
    mode = stat.S_IMODE(st.st_mode)
    # Root may write anything, so os.access alone would never call a file read-only there.
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, tr("cannot save to {path!r}: the file is read-only (mode {mode:o}); "
                                               "save under another name, or make it writable first "
                                               "(chmod u+w {path})", path=path, mode=mode))
    return mode


def save(model, path) -> None:
    """Write ``model.state_dict()`` to ``path`` (an ``.npz`` file) with :func:`atomic_file`, keeping the
    mode of the file it replaces (see the module docstring)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, tr("cannot save to {path!r}: the folder {folder!r} does not exist; "
                                                 "create it first (os.makedirs({folder!r}))",
                                                 path=path, folder=folder))
    mode = _existing_mode(path)
    state = model.state_dict()
    with atomic_file(path) as f:
        if mode is not None:
            os.fchmod(f.fileno(), mode)
        np.savez(f, **state)


def load(model, path) -> None:
    """Load parameters saved by :func:`save` into ``model`` (same architecture); all or nothing."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(tr("no model file at {path!r}; save one first with model.save(path)", path=path))
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(tr("{path!r} is not a parameter file written by model.save(), or it is truncated "
                            "({kind}: {exc})", path=path, kind=type(exc).__name__, exc=exc)) from exc
    if not hasattr(archive, "files"):
        raise ValueError(tr("{path!r} holds a single array, not named parameters; write it with model.save(path)",
                            path=path))
    try:
        with archive:
            state = {name: archive[name] for name in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(tr("{path!r} is damaged or holds objects that need pickle ({kind}: {exc}); save it again "
                            "with model.save(path)", path=path, kind=type(exc).__name__, exc=exc)) from exc
    load_state_dict(model, state)
