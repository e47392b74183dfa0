"""The learner's own working copy of the student edition: made on first use, never overwritten.

``python -m cnnbook lab`` opens this folder, not the instructor's ``notebooks/``: a learner studying alone sees each
exercise as a stub (``raise NotImplementedError("Your turn: ...")``, in Korean in the Korean edition) and no hidden
tests, and edits files that ``git pull`` in a clone never touches.

Where: ``--home DIR``, else ``$CNNBOOK_HOME``, else ``~/cnnbook-work`` (:func:`default_home`). The Korean
edition (``lab --lang ko``) is the folder ``ko/`` inside it, with the glossary and the marker that makes the
checks speak Korean (:func:`cnnbook.course.student.edition_extras`).

What a start does (:func:`prepare_working_copy`): it builds the student edition of the workbook's notebooks in
memory (:mod:`cnnbook.course.student`), then, notebook by notebook,

* a notebook the folder does not hold is **added**;
* one the learner has not changed since it was written (its SHA-256 is the one recorded) is **updated** to the
  new edition, or left as it is when the edition has not changed;
* one the learner has changed is **kept**; when the workbook's edition of it has changed, the new version is
  written beside it as ``<name>.updated.ipynb`` (itself never written over once the learner edits it) and a
  message says so.

What was written is recorded in ``.cnnbook-manifest.json`` in the folder (file name -> SHA-256 of the bytes
written). Every file is written to a temporary file beside it and moved into place, and the manifest last, so an
interrupted start leaves the learner's notebooks whole.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnnbook.course.language import N_, tr
from cnnbook.course.student import default_source, edition_extras, student_notebook
from cnnbook.serialize import write_atomic

__all__ = ["MANIFEST", "Change", "WorkingCopy", "default_home", "prepare_working_copy", "updated_name"]

MANIFEST = ".cnnbook-manifest.json"
ENV = "CNNBOOK_HOME"
# A start's summary, one count per status (shown through tr, in the language in use).
COUNTS = {"added": N_("{n} added"), "updated": N_("{n} updated"), "unchanged": N_("{n} unchanged"),
          "kept": N_("{n} kept"), "offered": N_("{n} offered"), "blocked": N_("{n} blocked")}


def default_home() -> Path:
    """``$CNNBOOK_HOME`` when set (and not empty), else ``~/cnnbook-work``."""
    chosen = os.environ.get(ENV, "").strip()
    return Path(chosen).expanduser() if chosen else Path.home() / "cnnbook-work"


def updated_name(name: str) -> str:
    """``08-training-a-cnn.ipynb`` -> ``08-training-a-cnn.updated.ipynb``: where a newer edition is offered."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.updated.{suffix}" if dot else f"{name}.updated"


@dataclass
class Change:
    """What a start did to one notebook: ``status`` is ``added``, ``updated``, ``unchanged``, ``kept``
    (the learner's changes, nothing newer), ``offered`` (kept, newer edition beside it) or ``blocked``
    (kept, and the newer edition could not be offered because the learner changed its ``.updated`` file too)."""
    name: str
    status: str
    message: str = ""


@dataclass
class WorkingCopy:
    home: Path
    changes: list[Change] = field(default_factory=list)

    def summary(self) -> str:
        counts = {}
        for change in self.changes:
            counts[change.status] = counts.get(change.status, 0) + 1
        return ", ".join(tr(COUNTS[status], n=n) for status, n in counts.items())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_hash(path: Path) -> str | None:
    try:
        return _sha256(path.read_bytes())
    except FileNotFoundError:
        return None


def _read_manifest(home: Path) -> dict[str, str]:
    path = home / MANIFEST
    if not path.exists():
        return {}
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        if not (isinstance(files, dict) and all(isinstance(v, str) for v in files.values())):
            raise TypeError(tr("files is not a mapping of names to hashes"))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(tr("{path} is damaged ({exc}); delete it to treat every notebook in {home} as your own "
                            "work (none is overwritten; newer editions are written beside them)",
                            path=path, exc=exc, home=home)) from exc
    return dict(files)


def _edition(source: Path, lang: str = "en") -> dict[str, bytes]:
    """The student edition of every notebook in ``source``, as the bytes a start writes, with the edition's
    extra files."""
    paths = sorted(source.glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(tr("no notebooks (*.ipynb) in {source}", source=source))
    edition = {}
    for path in paths:
        nb, _ = student_notebook(nbformat.read(path, as_version=4), path.name, lang)
        text = nbformat.writes(nb)
        edition[path.name] = (text if text.endswith("\n") else text + "\n").encode("utf-8")
    return {**edition, **edition_extras(lang)}


def prepare_working_copy(home=None, source=None, lang: str = "en") -> WorkingCopy:
    """Make or refresh the learner's working copy in ``home`` (default :func:`default_home`, with ``ko/``
    inside it for ``lang="ko"``) from the notebooks in ``source`` (default: the workbook's edition in
    ``lang``, :func:`cnnbook.course.student.default_source`).

    Returns the :class:`WorkingCopy` with one :class:`Change` per notebook of the edition. Raises
    ``ValueError`` when ``home`` is the source folder or inside it, or its manifest is damaged,
    ``NotADirectoryError`` when ``home`` is a file, ``FileNotFoundError`` for a missing or empty source, and
    :class:`cnnbook.course.student.MarkerError` for unbalanced markers (then nothing is written).
    """
    source = Path(default_source(lang) if source is None else source).resolve()
    home = Path(default_home() if home is None else home).expanduser().resolve()
    if lang == "ko":
        home = home / "ko"
    if not source.is_dir():
        raise FileNotFoundError(tr("no notebooks folder at {source}", source=source))
    if home == source or source in home.parents:
        where = (N_("the working copy {home} would be the workbook's notebooks folder {source}; choose another "
                    "folder with --home or ${env} (default ~/cnnbook-work)") if home == source else
                 N_("the working copy {home} would be inside the workbook's notebooks folder {source}; choose "
                    "another folder with --home or ${env} (default ~/cnnbook-work)"))
        raise ValueError(tr(where, home=home, source=source, env=ENV))
    if home.exists() and not home.is_dir():
        raise NotADirectoryError(tr("{home} exists and is not a folder; choose a folder for your working copy with "
                                    "--home or ${env}", home=home, env=ENV))
    edition = _edition(source, lang)  # everything is transformed before anything is written
    recorded = _read_manifest(home) if home.is_dir() else {}
    home.mkdir(parents=True, exist_ok=True)
    copy, manifest = WorkingCopy(home), dict(recorded)
    try:
        for name, data in edition.items():
            change = _refresh(home, name, data, manifest)
            copy.changes.append(change)
    finally:
        if manifest != recorded or not (home / MANIFEST).exists():
            body = json.dumps({"about": "cnnbook's record of the notebooks it wrote here (name: SHA-256); "
                                        "a notebook whose hash differs is yours and is never overwritten",
                               "files": dict(sorted(manifest.items()))}, indent=1)
            write_atomic(home / MANIFEST, (body + "\n").encode("utf-8"))
    return copy


def _refresh(home: Path, name: str, data: bytes, manifest: dict[str, str]) -> Change:
    new, written, current = _sha256(data), manifest.get(name), _file_hash(home / name)
    if current is None:
        write_atomic(home / name, data)
        manifest[name] = new
        return Change(name, "added")
    if current == written or current == new:  # the learner has not changed it (or has the same bytes)
        if current != new:
            write_atomic(home / name, data)
        manifest[name] = new
        return Change(name, "updated" if current != new else "unchanged")
    # the learner's own version: never written over
    offer = updated_name(name)
    if written == new:
        return Change(name, "kept")  # the edition has not changed since it was written
    offered = _file_hash(home / offer)
    if offered == new:
        return Change(name, "offered", tr("{name}: you changed it, so it was kept; the workbook's newer version "
                                          "is in {offer}", name=name, offer=offer))
    if offered is not None and offered != manifest.get(offer):
        return Change(name, "blocked", tr("{name}: you changed it, so it was kept; a newer version exists but "
                                          "{offer} is yours too: rename or delete {offer} and start again to get it",
                                          name=name, offer=offer))
    write_atomic(home / offer, data)
    manifest[offer] = new
    return Change(name, "offered", tr("{name}: you changed it, so it was kept; the workbook's newer version is "
                                      "beside it in {offer} (compare them, copy what you need)",
                                      name=name, offer=offer))
