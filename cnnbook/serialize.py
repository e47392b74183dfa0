"""Saving and loading model parameters as ``.npz`` files (one array per ``named_parameters`` name).

``save(model, "cnn.npz")`` writes to a temporary file in the same folder and renames it, so a crash
never leaves half a file behind; ``load(model, "cnn.npz")`` reads it with ``allow_pickle=False``
(no code runs from a file) and checks every name and shape before changing anything.
"""
from __future__ import annotations

import os
import tempfile
import zipfile

import numpy as np

from cnnbook import backend


def load_state_dict(model, state) -> None:
    """Copy ``{name: array}`` into ``model``'s parameters, keeping their dtype and backend.

    ``ValueError`` naming the missing, unexpected or wrongly shaped entries; nothing is changed then.
    """
    params = dict(model.named_parameters())
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
    for name, p in params.items():
        value = backend.to_numpy(state[name]).astype(p.data.dtype, copy=False)
        xp = backend.get_array_module(p.data)
        p.data[...] = backend.to_device(value, xp)


def save(model, path) -> None:
    """Write ``model.state_dict()`` to ``path`` (an ``.npz`` file), atomically."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **model.state_dict())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(model, path) -> None:
    """Load parameters saved by :func:`save` into ``model`` (same architecture)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no model file at {path!r}; save one first with model.save(path)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path!r} is not a parameter file written by model.save() "
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
