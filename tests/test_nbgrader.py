"""nbgrader out of the box: the cell metadata is complete, and a real nbgrader course generates and autogrades.

The first tests read the notebooks only (fast): every exercise cell is an autograded answer, every check cell
(and 07's hidden tests) an autograder test with points, ``grade_id`` s unique, and the student edition keeps
all of it. They keep the metadata complete when an exercise is added.

The round trip runs nbgrader itself (0.9, the [instructor] extra, in requirements-test.txt) in a temporary course with
nbgrader's default configuration plus the cell timeout and the exchange, exactly as docs/LAB-GUIDE.md says
(the guide's commands are checked against :data:`COMMANDS` and :data:`CONFIG`):

* ``nbgrader generate_assignment cnnbook`` on ALL notebooks;
* ``nbgrader autograde cnnbook`` on four submissions:
  ``complete`` (the release with the solutions filled in, all notebooks): full marks;
  ``untouched`` (the release as handed out), ``student_edition`` (``python -m cnnbook student``'s edition with
  the solutions filled in) and ``wrong_stride`` (03's convolution ignoring the stride) on :data:`SUBSET`:
  zero; full marks; zero on that exercise only;
* ``nbgrader generate_feedback`` for ``wrong_stride``: the check's hint is in the feedback.

:data:`SUBSET` holds 03, 04 and 07: three kinds of exercise (a loop forward pass, two exercises in one
notebook, hidden tests in a cell of their own), short enough that the whole round trip fits CI (2 cores).
Each nbgrader command runs in its own session with a timeout and is stopped in ``finally``.
"""
import ast
import html
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from process_helpers import check_no_leftovers, marked_env, stop_popen

from cnnbook.course.grading import SCHEMA_VERSION, cell_role, graded_cells, mark_notebook
from cnnbook.course.student import BEGIN_HIDDEN, BEGIN_SOLUTION, exercise_name, student_notebook, write_student_edition

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
ASSIGNMENT = "cnnbook"
SUBSET = ["03-convolution", "04-stride-padding-output-size", "07-backprop-through-conv"]
# what docs/LAB-GUIDE.md tells an instructor to run and configure; the round trip runs exactly these
CONFIG = ['c.CourseDirectory.course_id = "cnnbook"', "c.ExecutePreprocessor.timeout = 300"]
COMMANDS = ["nbgrader generate_assignment cnnbook", "nbgrader autograde cnnbook",
            "nbgrader generate_feedback cnnbook"]
TIMEOUT = 1500  # seconds for one nbgrader command (autograding all notebooks takes a few minutes)


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


# ---- the metadata (fast) ------------------------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_exercise_and_check_cell_carries_complete_nbgrader_metadata(path):
    nb = nbformat.read(path, as_version=4)
    ids, last_exercise = [], None
    for index, cell in enumerate(nb.cells):
        meta, where = _nbgrader(cell), f"{path.name}, cell {index}"
        lines = cell.source.split("\n")
        if any(line.strip() == BEGIN_SOLUTION for line in lines):
            name = exercise_name(lines, next(i for i, line in enumerate(lines) if line.strip() == BEGIN_SOLUTION))
            assert cell.cell_type == "code", where
            assert meta.get("solution") is True and meta.get("grade") is False, f"{where}: not an answer cell"
            assert meta.get("grade_id") == name and meta.get("locked") is False, where
            last_exercise = name
        elif cell.cell_type == "code" and ("from cnnbook.course.exercises import check_" in cell.source
                                           or BEGIN_HIDDEN in cell.source):
            assert meta.get("grade") is True and meta.get("solution") is False, f"{where}: not a test cell"
            assert meta.get("points", 0) > 0 and meta.get("locked") is True, where
            assert last_exercise is not None, f"{where}: a test cell before any exercise"
        else:
            assert not meta, f"{where}: nbgrader metadata on a cell that is neither answer nor test: {meta}"
            continue
        assert meta["schema_version"] == SCHEMA_VERSION and meta.get("task") is False, where
        ids.append(meta["grade_id"])
    assert len(ids) == len(set(ids)), f"{path.name}: grade_ids repeat: {ids}"
    marked = nbformat.from_dict(nb)
    mark_notebook(marked)
    assert [c.metadata for c in marked.cells] == [c.metadata for c in nb.cells], \
        "cnnbook.course.grading.mark_notebook would change this notebook's metadata"


def test_grade_ids_are_unique_across_the_workbook_and_each_answer_has_a_test():
    seen = {}
    for path in NOTEBOOKS:
        cells = graded_cells(nbformat.read(path, as_version=4))
        roles = [role for _, role, _ in cells]
        for i, role in enumerate(roles):
            if role == "solution":
                assert i + 1 < len(roles) and roles[i + 1] == "tests", f"{path.name}: an answer without a check"
        for _, _, grade_id in cells:
            assert grade_id not in seen, f"{grade_id!r} in {path.name} and {seen[grade_id]}"
            seen[grade_id] = path.name
    assert sum(1 for g in seen if not g.startswith(("check_", "hidden_tests_"))) >= 15


def test_cell_role_tells_answers_checks_hidden_tests_and_claims_apart():
    code = nbformat.v4.new_code_cell
    assert cell_role(code("# Your turn: f\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")) \
        == ("solution", "f")
    assert cell_role(code("from cnnbook.course.exercises import check_f\n\ncheck_f(f);")) == ("tests", "check_f")
    assert cell_role(code("from cnnbook.course.exercises import check_f\n\nf = check_f(f)")) == ("tests", "check_f")
    assert cell_role(code("### BEGIN HIDDEN TESTS\nassert f() == 1\n### END HIDDEN TESTS"), "f") \
        == ("tests", "hidden_tests_f")
    assert cell_role(code("from cnnbook.course.claims import check_claim\ncheck_claim('C1', 1, above=0);")) is None
    with pytest.raises(ValueError, match="exercises are code cells"):
        cell_role(nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nx\n### END SOLUTION"))
    nb = nbformat.v4.new_notebook(cells=[code("# Your turn: f\n### BEGIN SOLUTION\n### END SOLUTION")
                                         for _ in range(2)])
    with pytest.raises(ValueError, match="would both have grade_id 'f'"):
        mark_notebook(nb, "x.ipynb")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_check_cells_end_without_a_value(path):
    """nbgrader reads a test cell's last value as its score ("cannot be converted to a float" for True)."""
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if not _nbgrader(cell).get("grade") or not cell.source.strip():
            continue
        body = ast.parse(cell.source).body
        if body and isinstance(body[-1], ast.Expr):
            assert cell.source.rstrip().endswith(";"), f"{path.name}, cell {index}: ends in a value; add ';'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_student_edition_keeps_the_metadata_and_the_hidden_test_cells(path):
    nb = nbformat.read(path, as_version=4)
    student, _ = student_notebook(nb, path.name)
    assert [c.id for c in student.cells] == [c.id for c in nb.cells], "cells dropped or reordered"
    assert [c.metadata for c in student.cells] == [c.metadata for c in nb.cells]
    for before, after in zip(nb.cells, student.cells):
        if BEGIN_HIDDEN in before.source:
            assert BEGIN_HIDDEN not in after.source and _nbgrader(after).get("grade") is True


# ---- the round trip with nbgrader ----------------------------------------------------------------
def _run(args, cwd, env, log):
    """One nbgrader command in its own session, with a timeout, stopped (with its kernels) in finally."""
    started = time.monotonic()
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(args)}\n")
        out.flush()
        proc = subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            stop_popen(proc)
    seconds = time.monotonic() - started
    if code != 0:
        tail = Path(log).read_text()[-4000:]
        pytest.fail(f"`nbgrader {' '.join(args)}` {'timed out' if code is None else f'exited {code}'} "
                    f"after {seconds:.0f} s; log:\n{tail}")
    return seconds


def _fill_in(nb, solutions):
    """The notebook with each answer cell's source replaced by the reference solution (by grade_id)."""
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if meta.get("solution"):
            cell.source = solutions[meta["grade_id"]]
    return nb


def _wrong_stride(source):
    """03's reference convolution, made to ignore the stride: every output position, window at (i, j)."""
    wrong = source
    for right, bad in [("(H - KH + 2 * padding) // stride + 1", "H - KH + 2 * padding + 1"),
                       ("(W - KW + 2 * padding) // stride + 1", "W - KW + 2 * padding + 1"),
                       ("i * stride:i * stride + KH", "i:i + KH"), ("j * stride:j * stride + KW", "j:j + KW")]:
        assert right in wrong, f"03's solution changed; update the wrong answer here: {right!r} not found"
        wrong = wrong.replace(right, bad)
    return wrong


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The course after generate_assignment, four autogradings and one feedback:
    ``(course, seconds, submissions)``. The notebooks are copied once, at the start: the tests compare with
    that copy, ``course/source/cnnbook/``."""
    root = tmp_path_factory.mktemp("nbgrader")
    course = root / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy(path, course / "source" / ASSIGNMENT / path.name)
    (course / "nbgrader_config.py").write_text("\n".join(
        ["c = get_config()", *CONFIG, f"c.Exchange.root = {str(root / 'exchange')!r}", ""]))
    env = marked_env(JUPYTER_CONFIG_DIR=str(root / "jupyter-config"), JUPYTER_RUNTIME_DIR=str(root / "runtime"),
                     JUPYTER_DATA_DIR=str(root / "jupyter-data"))
    log, seconds = root / "nbgrader.log", {}
    try:
        seconds["generate_assignment"] = _run(["generate_assignment", ASSIGNMENT], course, env, log)
        release = course / "release" / ASSIGNMENT
        source = sorted((course / "source" / ASSIGNMENT).glob("*.ipynb"))  # as copied, while others edit
        solutions = {_nbgrader(c)["grade_id"]: c.source for path in source
                     for c in nbformat.read(path, as_version=4).cells if _nbgrader(c).get("solution")}
        edition = write_student_edition(root / "student", source=course / "source" / ASSIGNMENT)
        submissions = {
            "complete": {p.stem: _fill_in(nbformat.read(p, as_version=4), solutions)
                         for p in sorted(release.glob("*.ipynb"))},
            "untouched": {s: nbformat.read(release / f"{s}.ipynb", as_version=4) for s in SUBSET},
            "student_edition": {p.stem: _fill_in(nbformat.read(p, as_version=4), solutions)
                                for p, _ in edition if p.stem in SUBSET},
            "wrong_stride": {"03-convolution": _fill_in(nbformat.read(release / "03-convolution.ipynb",
                                                                      as_version=4),
                                                        dict(solutions, conv_forward_naive=_wrong_stride(
                                                            solutions["conv_forward_naive"])))},
        }
        for student, notebooks in submissions.items():
            folder = course / "submitted" / student / ASSIGNMENT
            folder.mkdir(parents=True)
            for stem, nb in notebooks.items():
                nbformat.write(nb, folder / f"{stem}.ipynb")
        for student in submissions:
            seconds[f"autograde {student}"] = _run(["autograde", ASSIGNMENT, "--student", student], course, env, log)
        seconds["generate_feedback"] = _run(["generate_feedback", ASSIGNMENT, "--student", "wrong_stride"],
                                            course, env, log)
        yield course, seconds, submissions
    finally:
        print(json.dumps({k: round(v, 1) for k, v in seconds.items()}))
        check_no_leftovers()


def _source(course):
    return sorted((course / "source" / ASSIGNMENT).glob("*.ipynb"))


def _scores(course, student):
    """``{notebook: (score, max_score)}`` and ``{grade_id: score}`` of one student, from the gradebook."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        notebooks = {nb.name: (nb.score, nb.max_score) for nb in submission.notebooks}
        cells = {grade.name: grade.score for nb in submission.notebooks for grade in nb.grades}
    return notebooks, cells


@pytest.mark.slow
def test_generate_assignment_releases_every_notebook_without_solutions(graded):
    course, _, _ = graded
    release = course / "release" / ASSIGNMENT
    assert sorted(p.name for p in release.glob("*.ipynb")) == [p.name for p in _source(course)]
    assert len(_source(course)) == len(NOTEBOOKS)
    text = "\n".join(p.read_text() for p in release.glob("*.ipynb"))
    assert BEGIN_SOLUTION not in text and BEGIN_HIDDEN not in text
    assert "out[n, f, i, j] = (window * w[f]).sum() + b[f]" not in text


@pytest.mark.slow
def test_the_release_with_the_solutions_filled_in_scores_full_marks_on_every_notebook(graded):
    course, seconds, _ = graded
    notebooks, cells = _scores(course, "complete")
    assert sorted(notebooks) == [p.stem for p in _source(course)]
    total = sum(m for _, m in notebooks.values())
    points = sum(_nbgrader(c).get("points", 0)
                 for p in _source(course) for c in nbformat.read(p, as_version=4).cells)
    assert total == points >= 16, f"the gradebook holds {total} points, the notebooks {points}: {notebooks}"
    assert {name: s for name, (s, m) in notebooks.items() if s != m} == {}, notebooks
    print(f"complete: {sum(s for s, _ in notebooks.values()):g}/{total:g} in {seconds['autograde complete']:.0f} s")


@pytest.mark.slow
def test_the_untouched_release_scores_zero(graded):
    course, _, _ = graded
    notebooks, _ = _scores(course, "untouched")
    for stem in SUBSET:
        score, max_score = notebooks[stem]
        assert max_score > 0 and score == 0, (stem, score, max_score)


@pytest.mark.slow
def test_the_completed_student_edition_scores_full_marks(graded):
    course, _, submissions = graded
    handed_out = (course.parent / "student" / "03-convolution.ipynb").read_text()
    assert 'raise NotImplementedError(\\"Your turn: conv_forward_naive' in handed_out, "not the student edition"
    notebooks, cells = _scores(course, "student_edition")
    for stem in SUBSET:
        score, max_score = notebooks[stem]
        assert max_score > 0 and score == max_score, (stem, score, max_score)
    assert cells["hidden_tests_conv_backward_naive"] == 1, "07's hidden tests were put back and passed"


@pytest.mark.slow
def test_a_convolution_that_ignores_the_stride_scores_zero_with_the_hint_in_the_feedback(graded):
    course, _, _ = graded
    notebooks, cells = _scores(course, "wrong_stride")
    assert notebooks["03-convolution"] == (0, 1) and cells["check_conv_forward_naive"] == 0
    feedback = (course / "feedback" / "wrong_stride" / ASSIGNMENT / "03-convolution.html").read_text()
    assert "ExerciseError" in feedback and "is the stride applied?" in feedback


def test_the_lab_guide_says_what_the_round_trip_runs():
    guide = (REPO / "docs" / "LAB-GUIDE.md").read_text(encoding="utf-8")
    section = guide.split("## Using nbgrader")[1].split("\n## ")[0]
    for line in [*CONFIG, *COMMANDS]:
        assert line in section, f"docs/LAB-GUIDE.md's nbgrader section does not say {line!r}"
    assert "c.ClearSolutions.enforce_metadata = False" not in section, "the guide must not switch off its checks"
    assert "otter" in guide.lower() and "not supported" in guide


# ---- the Korean edition through the same round trip ----------------------------------------------------
KO_SUBSET = ["03-convolution", "07-backprop-through-conv"]


@pytest.fixture(scope="module")
def graded_ko(tmp_path_factory):
    """The Korean edition's 03 and 07 through generate_assignment, autograde (complete, wrong stride; and 03 of the
    Korean student edition with its Korean stub untouched) and feedback, with ``CNNBOOK_LANG=ko`` as
    docs/LAB-GUIDE.ko.md tells the instructor to set: ``(course, solutions)``."""
    root = tmp_path_factory.mktemp("nbgrader-ko")
    course = root / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    for stem in KO_SUBSET:
        shutil.copy(REPO / "notebooks" / "ko" / f"{stem}.ipynb", course / "source" / ASSIGNMENT)
    (course / "nbgrader_config.py").write_text("\n".join(
        ["c = get_config()", *CONFIG, f"c.Exchange.root = {str(root / 'exchange')!r}", ""]))
    env = marked_env(JUPYTER_CONFIG_DIR=str(root / "jupyter-config"), JUPYTER_RUNTIME_DIR=str(root / "runtime"),
                     JUPYTER_DATA_DIR=str(root / "jupyter-data"), CNNBOOK_LANG="ko")
    log = root / "nbgrader.log"
    try:
        _run(["generate_assignment", ASSIGNMENT], course, env, log)
        release = course / "release" / ASSIGNMENT
        solutions = {_nbgrader(c)["grade_id"]: c.source for p in sorted((course / "source" / ASSIGNMENT).glob("*"))
                     for c in nbformat.read(p, as_version=4).cells if _nbgrader(c).get("solution")}
        wrong = dict(solutions, conv_forward_naive=_wrong_stride(solutions["conv_forward_naive"]))
        for student, answers, stems in [("complete", solutions, KO_SUBSET),
                                        ("wrong_stride", wrong, ["03-convolution"])]:
            folder = course / "submitted" / student / ASSIGNMENT
            folder.mkdir(parents=True)
            for stem in stems:
                nbformat.write(_fill_in(nbformat.read(release / f"{stem}.ipynb", as_version=4), answers),
                               folder / f"{stem}.ipynb")
            _run(["autograde", ASSIGNMENT, "--student", student], course, env, log)
        # the Korean student edition (``student --lang ko``), handed in with its Korean stubs untouched
        edition = write_student_edition(root / "student", source=course / "source" / ASSIGNMENT, lang="ko")
        folder = course / "submitted" / "student_edition_untouched" / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(root / "student" / "03-convolution.ipynb", folder)
        assert [names for path, names in edition if path.stem == "03-convolution"] == [["conv_forward_naive"]]
        _run(["autograde", ASSIGNMENT, "--student", "student_edition_untouched"], course, env, log)
        _run(["generate_feedback", ASSIGNMENT, "--student", "wrong_stride"], course, env, log)
        yield course, release
    finally:
        check_no_leftovers()


@pytest.mark.slow
def test_the_korean_edition_releases_grades_and_gives_korean_feedback(graded_ko):
    course, release = graded_ko
    released = (release / "03-convolution.ipynb").read_text(encoding="utf-8")
    assert BEGIN_SOLUTION not in released and "합성곱" in released
    notebooks, _ = _scores(course, "complete")
    assert sorted(notebooks) == KO_SUBSET and all(s == m > 0 for s, m in notebooks.values()), notebooks
    notebooks, cells = _scores(course, "wrong_stride")
    assert notebooks["03-convolution"] == (0, 1) and cells["check_conv_forward_naive"] == 0
    feedback = (course / "feedback" / "wrong_stride" / ASSIGNMENT / "03-convolution.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", feedback))  # the traceback's colours are markup
    assert "ExerciseError" in text, text[-2000:]
    message = text.rsplit("ExerciseError", 1)[-1][:600]  # the exception's own line, after the traceback
    assert re.search("[\uac00-\ud7a3]", message), f"the hint in the Korean feedback is not Korean: {message}"
    handed_out = (course.parent / "student" / "03-convolution.ipynb").read_text(encoding="utf-8")
    assert '직접 해 보기: conv_forward_naive: ' in handed_out and "Your turn: conv_forward_naive" not in handed_out
    notebooks, cells = _scores(course, "student_edition_untouched")
    assert notebooks["03-convolution"] == (0, 1) and cells["check_conv_forward_naive"] == 0, notebooks


def test_the_korean_lab_guide_says_what_the_round_trip_runs():
    guide = (REPO / "docs" / "LAB-GUIDE.ko.md").read_text(encoding="utf-8")
    for line in [*CONFIG, *COMMANDS, "CNNBOOK_LANG=ko", "student", "--lang ko"]:
        assert line in guide, f"docs/LAB-GUIDE.ko.md does not say {line!r}"
