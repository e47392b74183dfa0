"""One exercise's reference solution, for a learner who is stuck: ``show_solution("conv_forward_naive")``.

The student edition holds no solutions; the workbook's source notebooks, shipped with the package, do.
:func:`show_solution` reads the exercise's cell from them and prints it, so a learner sees the one solution
asked for without opening the instructor's edition. An exercise is named as in its cell's first line
(``# Your turn: <name>``, which is also its nbgrader ``grade_id``) or by the function the cell defines
(``shift_error`` for the exercise ``equivariance``).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from cnnbook.course.language import tr
from cnnbook.course.student import BEGIN_SOLUTION, END_SOLUTION, default_source, exercise_name

__all__ = ["Solution", "find_solution", "list_exercises", "show_solution"]

_DEF = re.compile(r"^\s*def\s+(\w+)", re.MULTILINE)


@dataclass(frozen=True)
class Solution:
    exercise: str      # the name in "# Your turn: <name>" (the nbgrader grade_id)
    notebook: str      # the notebook's file name
    functions: tuple   # the functions the cell defines
    source: str        # the cell as the instructor's edition has it, without the solution markers


def _solutions(source=None) -> list[Solution]:
    folder = Path(default_source() if source is None else source)
    if not folder.is_dir():
        raise FileNotFoundError(tr("no notebooks folder at {folder}: the workbook's notebooks ship with the package; "
                                   "reinstall it (`pip install -r requirements.txt` in a clone)", folder=folder))
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            lines = cell.source.split("\n")
            begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN_SOLUTION]
            if cell.cell_type != "code" or not begins:
                continue
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            name = grade_id or exercise_name(lines, begins[0])
            kept = "\n".join(line for line in lines if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))
            found.append(Solution(name, path.name, tuple(_DEF.findall(cell.source)), kept))
    return found


def list_exercises(source=None) -> list[str]:
    """The names of the workbook's exercises, in notebook order."""
    return [s.exercise for s in _solutions(source)]


def find_solution(name: str, source=None) -> Solution:
    """The :class:`Solution` of exercise ``name`` (its ``# Your turn`` name or a function it defines).

    Raises ``TypeError`` for a name that is not a string and ``ValueError``, listing the exercises and the
    closest names, for one that names no exercise.
    """
    if not isinstance(name, str):
        raise TypeError(tr("name={name!r} is a {kind}; pass the exercise's name as a string, e.g. "
                           'show_solution("conv_forward_naive")', name=name, kind=type(name).__name__))
    solutions = _solutions(source)
    wanted = name.strip()
    for solution in solutions:
        if wanted == solution.exercise:
            return solution
    for solution in solutions:
        if wanted in solution.functions:
            return solution
    names = [s.exercise for s in solutions]
    candidates = list(dict.fromkeys(names + [f for s in solutions for f in s.functions]))
    close = difflib.get_close_matches(wanted, candidates, n=3)
    if close:
        raise ValueError(tr("no exercise is called {name!r}. Did you mean {close}? The exercises: {names}",
                            name=name, close=tr(" or ").join(map(repr, close)), names=", ".join(names)))
    raise ValueError(tr("no exercise is called {name!r}. The exercises: {names}", name=name, names=", ".join(names)))


def show_solution(name: str, source=None) -> None:
    """Print the reference solution of exercise ``name``, e.g. ``show_solution("conv_forward_naive")``."""
    solution = find_solution(name, source)
    print(tr("# the reference solution of {exercise!r} ({notebook}); copy it into your cell, or better, compare it "
             "with yours", exercise=solution.exercise, notebook=solution.notebook))
    print(solution.source)
