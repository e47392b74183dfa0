"""Where the workbook's own files are: the notebooks and the bundled Fashion-MNIST subset.

* In a clone of the repository (installed editable by ``pip install -r requirements.txt``), they are the
  clone's ``notebooks/`` and ``data/``, next to the ``cnnbook`` package, as they are in git.
* A regular install (``pip install .``, a wheel) carries copies inside the package, in
  ``cnnbook/data/bundled/notebooks/`` and ``cnnbook/data/bundled/data/`` (``setup.py`` copies them in when
  the wheel is built), so the workbook runs from any folder.

:func:`workbook_dir` is the one place that decides; the loader, the student edition, ``lab`` and ``doctor``
all ask it.
"""
from __future__ import annotations

from pathlib import Path

from cnnbook.course.language import tr

__all__ = ["KINDS", "in_clone", "restore_hint", "workbook_dir"]

KINDS = ("notebooks", "data")
BUNDLED = Path(__file__).resolve().parent / "bundled"  # only in a regular install
CLONE = Path(__file__).resolve().parents[2]  # the repository root, when the package sits in a clone


def in_clone() -> bool:
    """Whether the package runs from a clone of the repository (no bundled copies; the clone's folders)."""
    return not BUNDLED.is_dir() and (CLONE / "pyproject.toml").is_file()


def workbook_dir(kind: str) -> Path:
    """The folder holding the workbook's ``"notebooks"`` or its bundled ``"data"`` (the Fashion-MNIST subset).

    The clone's ``notebooks/`` or ``data/`` in a clone; the copies inside the package in a regular install.
    The folder is not checked: callers say what is missing, with :func:`restore_hint`.
    """
    if kind not in KINDS:
        raise ValueError(tr("kind={kind}; choose one of {kinds}", kind=repr(kind), kinds=", ".join(map(repr, KINDS))))
    return (CLONE if in_clone() else BUNDLED) / kind


def restore_hint(kind: str) -> str:
    """How to get back a missing or damaged file of ``workbook_dir(kind)``, true for this kind of install."""
    folder = workbook_dir(kind)
    if in_clone():
        return tr("It is part of the repository: restore it with `git checkout -- {kind}/` (in {clone}).",
                  kind=kind, clone=CLONE)
    return tr("It is part of the installed package ({folder}): reinstall cnnbook "
              "(`pip install --force-reinstall --no-deps` with the wheel or folder you installed it from).",
              folder=folder)
