"""The student edition of the notebooks: solutions become stubs, hidden tests go, outputs are cleared.

In the source notebooks an exercise's solution sits between a line ``### BEGIN SOLUTION`` and a line
``### END SOLUTION`` (nbgrader's markers); tests only the instructor keeps sit between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``. The student edition

* replaces each solution region, markers included, with a stub at the indentation of its BEGIN line::

      # YOUR CODE HERE
      raise NotImplementedError("Your turn: conv_forward_naive: replace this with your solution")

  naming the exercise from the cell's first line ``# Your turn: <name>``, else from the enclosing ``def``
  (a region in a Markdown cell becomes ``YOUR ANSWER HERE``). A region at the top of a cell that only assigns
  names (a *predict first* exercise: ``predicted_drop = 0.1``) becomes those names set to ``...`` instead::

      # YOUR CODE HERE
      predicted_drop = ...  # Your turn: predict_shift_drop: replace ... with your answer

  since a cell that raises would stop Run All there; the check notes such a prediction as not done yet.
  The Korean edition writes these stubs in Korean (``# 여기에 코드를 작성하세요``,
  ``NotImplementedError("직접 해 보기: NAME: 이 줄을 여러분의 풀이로 바꾸세요")``): the words of each edition
  are in :mod:`cnnbook.course.stubs`, which the checks read to recognise a stub;
* removes hidden-test regions, markers included; a cell that held only hidden tests stays, empty, as nbgrader
  leaves it (nbgrader's autograder puts the tests back into it by its ``grade_id``);
* clears every output and execution count; everything else (metadata, nbgrader's included, cell ids, other
  cells) stays, so a learner's completed student notebook autogrades like one of nbgrader's release.

:func:`write_student_edition` transforms and validates every notebook in memory first, then writes them to a
temporary folder beside ``outdir`` and moves them in, so a failure leaves nothing half-written.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat

from cnnbook.course.stubs import PREFIXES, stub
from cnnbook.data.workbook import workbook_dir
from cnnbook.serialize import atomic_folder

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MARKERS = {BEGIN_SOLUTION: "solution", END_SOLUTION: "solution", BEGIN_HIDDEN: "hidden", END_HIDDEN: "hidden"}
_YOUR_TURN = re.compile(rf"^\s*#\s*(?:{'|'.join(map(re.escape, PREFIXES))}):\s*(?P<name>.+?)\s*$", re.IGNORECASE)
_DEF = re.compile(r"^(?P<indent>\s*)(?:async\s+)?def\s+(?P<name>\w+)")


class MarkerError(ValueError):
    """Exercise markers that do not pair up; the message names the notebook and the cell."""


EDITIONS = ("en", "ko")
"""The editions: English (``notebooks/``) and Korean (``notebooks/ko/``)."""


def default_source(lang: str = "en") -> Path:
    """The workbook's notebooks in ``lang``: the clone's ``notebooks/`` (Korean: ``notebooks/ko/``), or their
    copy in a regular install (:func:`cnnbook.data.workbook.workbook_dir`)."""
    if lang not in EDITIONS:
        raise ValueError(f"lang={lang!r}: the editions are {', '.join(map(repr, EDITIONS))}")
    return workbook_dir("notebooks") / ("ko" if lang == "ko" else "")


def edition_extras(lang: str) -> dict[str, bytes]:
    """The files besides the notebooks that an edition's folder holds: for Korean, the marker that makes the
    checks speak Korean there (:data:`cnnbook.course.language.MARKER`) and the glossary."""
    if lang != "ko":
        return {}
    from cnnbook.course.language import MARKER
    extras = {MARKER: b"ko\n"}
    glossary = default_source("ko") / "glossary.md"
    if glossary.is_file():
        extras[glossary.name] = glossary.read_bytes()
    return extras


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def exercise_name(lines: list[str], begin: int) -> str:
    """The exercise a solution region belongs to: ``# Your turn: <name>`` (or another edition's prefix,
    :data:`cnnbook.course.stubs.PREFIXES`) on the cell's first line, else the ``def`` enclosing line ``begin``,
    else ``"this exercise"``."""
    first = next((line for line in lines if line.strip()), "")
    match = _YOUR_TURN.match(first)
    if match:
        return match.group("name")
    depth = len(_indent(lines[begin]))
    for line in reversed(lines[:begin]):
        match = _DEF.match(line)
        if match and len(match.group("indent")) < depth:
            return match.group("name")
    return "this exercise"


def _assigned_names(region: list[str]) -> list[str]:
    """The names a top-level region assigns when it does nothing else (``x = 1``, ``y = "a"``), else ``[]``."""
    try:
        body = ast.parse("\n".join(region)).body
    except SyntaxError:
        return []
    if not body or not all(isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
                           for s in body):
        return []
    return list(dict.fromkeys(s.targets[0].id for s in body))


def _stub(indent: str, name: str, cell_type: str, region: list[str] = (), lang: str = "en") -> list[str]:
    words = stub(lang)
    if cell_type != "code":
        return [f"{indent}{words.answer}"]
    assigned = _assigned_names(list(region)) if not indent else []
    if assigned:
        note = words.predicts.format(prefix=words.prefix, name=name)
        return [f"{indent}{words.code}"] + [f"{variable} = ...  # {note}" for variable in assigned]
    message = words.raises.format(prefix=words.prefix, name=name).replace("\\", "\\\\").replace('"', '\\"')
    return [f"{indent}{words.code}", f'{indent}raise NotImplementedError("{message}")']


def strip_cell(source: str, where: str, cell_type: str = "code", lang: str = "en") -> tuple[str, list[str]]:
    """The student version of one cell's source, and the names of the exercises stubbed in it; ``lang`` is the
    language of the stubs (:data:`cnnbook.course.stubs.STUBS`).

    ``where`` names the cell in errors (``"03-convolution.ipynb, cell 12"``). Raises :class:`MarkerError`
    for an END without a BEGIN, a BEGIN without an END, or one region opened inside another.
    """
    lines = source.split("\n")
    out, names = [], []
    open_kind, open_line = None, 0
    for number, line in enumerate(lines):
        marker = line.strip()
        if marker not in MARKERS:
            if open_kind is None:
                out.append(line)
            continue
        kind = MARKERS[marker]
        if marker in (BEGIN_SOLUTION, BEGIN_HIDDEN):
            if open_kind is not None:
                raise MarkerError(f"{where}: line {number + 1} {marker!r} opens a region inside the {open_kind} "
                                  f"region opened at line {open_line + 1}; close that one first")
            open_kind, open_line = kind, number
            if kind == "solution":
                name = exercise_name(lines, number)
                names.append(name)
                end = next((i for i in range(number + 1, len(lines)) if lines[i].strip() in MARKERS), len(lines))
                out += _stub(_indent(line), name, cell_type, lines[number + 1:end], lang)
        else:
            if open_kind != kind:
                opened = f"the {open_kind} region opened at line {open_line + 1} is still open" if open_kind \
                    else "no region is open"
                raise MarkerError(f"{where}: line {number + 1} {marker!r} has no matching BEGIN ({opened})")
            open_kind = None
    if open_kind is not None:
        end = END_SOLUTION if open_kind == "solution" else END_HIDDEN
        raise MarkerError(f"{where}: {lines[open_line].strip()!r} at line {open_line + 1} is never closed by {end!r}")
    return "\n".join(out), names


def student_notebook(nb, name: str, lang: str | None = None):
    """Return ``(student_nb, exercise_names)`` for a notebook read with ``nbformat.read(..., as_version=4)``.

    ``lang`` is the language of the stubs; ``None``: the notebook's own (its metadata's ``cnnbook.language``,
    which the Korean edition's notebooks carry), else English.
    ``nb`` is not changed. Raises :class:`MarkerError` naming ``name`` and the cell for unbalanced markers.
    """
    if lang is None:
        lang = nb.get("metadata", {}).get("cnnbook", {}).get("language") or "en"
    stub(lang)  # refuses an unknown language before any work
    nb = nbformat.from_dict(nb)  # a deep copy
    cells, names = [], []
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}" + (f" (id {cell['id']})" if cell.get("id") else "")
        source, stubbed = strip_cell(cell.source, where, cell.cell_type, lang)
        names += stubbed
        cell.source = source
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    nb.cells = cells
    nbformat.validate(nb)
    return nb, names


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def write_student_edition(outdir, source=None, force: bool = False, lang: str = "en") -> list[tuple[Path, list[str]]]:
    """Write the student edition of every ``*.ipynb`` in ``source`` (default: the repository's notebooks/ in
    ``lang``, ``notebooks/ko/`` for ``"ko"``) into ``outdir``; return ``[(written_path, exercise_names), ...]``.
    The Korean edition's folder also gets :func:`edition_extras` (the language marker and the glossary).

    Raises ``ValueError`` when ``outdir`` is the source folder or inside it, ``FileExistsError`` when a
    notebook it would write exists already (unless ``force``), ``FileNotFoundError`` for a missing source,
    ``NotADirectoryError`` when ``outdir`` is a file, and :class:`MarkerError` for unbalanced markers.
    """
    extras = edition_extras(lang)  # refuses an unknown lang before anything else
    source = Path(default_source(lang) if source is None else source).resolve()
    outdir = Path(outdir).resolve()
    if not source.is_dir():
        raise FileNotFoundError(f"no notebooks folder at {source}; pass the folder that holds the source "
                                "notebooks with --source")
    if _inside(outdir, source):
        raise ValueError(f"the output folder {outdir} is {'the' if outdir == source else 'inside the'} source "
                         f"notebooks folder {source}; write the student edition somewhere else, e.g. ./student")
    if outdir.exists() and not outdir.is_dir():
        raise NotADirectoryError(f"{outdir} exists and is not a folder; choose a folder for the student edition")
    paths = sorted(source.glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no notebooks (*.ipynb) in {source}")
    editions = [(path.name, *student_notebook(nbformat.read(path, as_version=4), path.name, lang)) for path in paths]
    existing = [name for name, _, _ in editions if (outdir / name).exists()]
    if existing and not force:
        raise FileExistsError(f"{outdir} already holds {', '.join(existing)}; pass --force to overwrite them")
    with atomic_folder(outdir, merge=True) as tmp:  # an existing folder keeps the files not written here
        for name, nb, _ in editions:
            nbformat.write(nb, tmp / name)
        for name, data in extras.items():
            (tmp / name).write_bytes(data)
    return [(outdir / name, names) for name, _, names in editions]
