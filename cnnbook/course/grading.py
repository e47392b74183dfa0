"""nbgrader's cell metadata for the workbook's exercises: which cell is an answer, which a test, and their ids.

nbgrader (https://nbgrader.readthedocs.io) grades a notebook by the ``nbgrader`` entry of each cell's metadata
(schema version 3). The source notebooks carry it, committed, so an nbgrader course takes them with its default
configuration:

* an exercise cell (it holds ``### BEGIN SOLUTION``) is an *autograded answer*:
  ``{"solution": true, "grade": false, "locked": false, "grade_id": "<exercise name>"}``;
* its check cell (it calls a ``check_...`` function of :mod:`cnnbook.course.exercises`) is an *autograder test*
  worth :data:`POINTS`: ``{"solution": false, "grade": true, "locked": true, "points": 1,
  "grade_id": "<check function>"}``; a wrong answer raises, which scores zero, and the check's hint is in the
  traceback that nbgrader's feedback shows; an exercise not done yet writes its note to stderr, which scores
  zero too (``nbgrader.utils.determine_grade``);
* a cell of hidden tests (``### BEGIN HIDDEN TESTS``) is an autograder test too, ``hidden_tests_<exercise>``.

The exercise's name is the cell's first line, ``# Your turn: <name>``, as in :mod:`cnnbook.course.student`.
:func:`mark_notebook` writes this metadata; :func:`graded_cells` lists what a notebook holds.
"""
from __future__ import annotations

import re

from cnnbook.course.student import BEGIN_HIDDEN, BEGIN_SOLUTION, exercise_name

__all__ = ["POINTS", "SCHEMA_VERSION", "cell_role", "graded_cells", "mark_notebook"]

SCHEMA_VERSION = 3
POINTS = 1
_CHECK_IMPORT = re.compile(r"^\s*from\s+cnnbook\.course\.exercises\s+import\s+(?P<name>check_\w+)", re.MULTILINE)


def _source(cell) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def cell_role(cell, last_exercise: str | None = None) -> tuple[str, str] | None:
    """``("solution", grade_id)``, ``("tests", grade_id)`` or ``None`` for a cell (a dict or NotebookNode).

    ``last_exercise`` is the name of the exercise before this cell; it names a cell of hidden tests.
    Raises ``ValueError`` for a solution region outside a code cell (nbgrader would not stub it as code).
    """
    source = _source(cell)
    lines = source.split("\n")
    if any(line.strip() == BEGIN_SOLUTION for line in lines):
        if cell["cell_type"] != "code":
            raise ValueError(f"a {cell['cell_type']} cell holds {BEGIN_SOLUTION!r}; exercises are code cells")
        begin = next(i for i, line in enumerate(lines) if line.strip() == BEGIN_SOLUTION)
        return "solution", exercise_name(lines, begin)
    if cell["cell_type"] != "code":
        return None
    check = _CHECK_IMPORT.search(source)
    # called alone, check_f(f);, or handing the function on, f = check_f(f)
    if check and re.search(rf"^\s*(?:\w+\s*=\s*)?{check.group('name')}\(", source, re.MULTILINE):
        return "tests", check.group("name")
    if any(line.strip() == BEGIN_HIDDEN for line in lines):
        return "tests", f"hidden_tests_{last_exercise or 'notebook'}"
    return None


def graded_cells(nb) -> list[tuple[int, str, str]]:
    """``[(cell_index, role, grade_id), ...]`` for the answer and test cells of a notebook, in order."""
    found, last = [], None
    for index, cell in enumerate(nb["cells"]):
        role = cell_role(cell, last)
        if role is None:
            continue
        if role[0] == "solution":
            last = role[1]
        found.append((index, *role))
    return found


def nbgrader_metadata(role: str, grade_id: str) -> dict:
    """The ``nbgrader`` metadata nbgrader's *Create Assignment* toolbar gives such a cell."""
    if role == "solution":
        return {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": SCHEMA_VERSION,
                "solution": True, "task": False}
    if role == "tests":
        return {"grade": True, "grade_id": grade_id, "locked": True, "points": POINTS,
                "schema_version": SCHEMA_VERSION, "solution": False, "task": False}
    raise ValueError(f"role={role!r}; choose 'solution' or 'tests'")


def mark_notebook(nb, name: str = "notebook") -> int:
    """Set the ``nbgrader`` metadata of every answer and test cell of ``nb`` (in place); return how many.

    Raises ``ValueError`` naming ``name`` and the id when two cells would get the same ``grade_id``.
    """
    seen = {}
    for index, role, grade_id in graded_cells(nb):
        if grade_id in seen:
            raise ValueError(f"{name}: cells {seen[grade_id]} and {index} would both have grade_id {grade_id!r}; "
                             "give the exercises different names (`# Your turn: <name>`)")
        seen[grade_id] = index
        nb["cells"][index].setdefault("metadata", {})["nbgrader"] = nbgrader_metadata(role, grade_id)
    return len(seen)
