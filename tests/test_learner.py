"""The learner's working copy behind ``python -m cnnbook lab``, and ``show_solution`` for a learner who is stuck.

No JupyterLab is started here: ``lab`` prepares its folder with :func:`cnnbook.commands.lab.prepare_folder`
and then hands over to JupyterLab with ``os.execv``, which these tests replace to read the command line.
"""
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from cnnbook.__main__ import main
from cnnbook.commands import lab
from cnnbook.course import language
from cnnbook.course.learner import MANIFEST, default_home, prepare_working_copy
from cnnbook.course.solutions import find_solution, list_exercises, show_solution
from cnnbook.course.student import BEGIN_HIDDEN, BEGIN_SOLUTION, MarkerError, student_notebook
from cnnbook.course.translations import same_code

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"


def _sources(folder):
    return {p.name: "\n".join(c.source for c in nbformat.read(p, as_version=4).cells)
            for p in sorted(Path(folder).glob("*.ipynb"))}


@pytest.fixture
def workbook(tmp_path):
    """A temporary copy of the workbook's notebooks, to update as a later version of the workbook would."""
    return Path(shutil.copytree(NOTEBOOKS, tmp_path / "workbook", ignore=shutil.ignore_patterns("ko")))


def _solution_lines():
    """The lines only the solution regions of the real notebooks hold (not also found outside them)."""
    inside_lines, outside_lines = set(), set()
    for path in NOTEBOOKS.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            inside = False
            for line in cell.source.split("\n"):
                if line.strip() in (BEGIN_SOLUTION, "### END SOLUTION"):
                    inside = line.strip() == BEGIN_SOLUTION
                else:
                    (inside_lines if inside else outside_lines).add(line.strip())
    only = inside_lines - outside_lines - {""}
    assert len(only) > 50, "too few solution lines to tell a leak"
    return only


def _run_lab(monkeypatch, argv):
    """``main(["lab", *argv])`` with ``os.execv`` replaced: returns the argv JupyterLab would get."""
    handed = []

    class Handed(Exception):
        pass

    def execv(path, args):  # a real exec does not return either
        handed.append(args)
        raise Handed

    monkeypatch.setattr(lab, "_has_jupyterlab", lambda: True)
    monkeypatch.setattr(lab.os, "execv", execv)
    monkeypatch.setattr(lab, "_call_forwarding_ctrl_c",  # elsewhere than POSIX: the same command line
                        lambda cmd: handed.append([cmd[0], "-m", "cnnbook.commands.lab", *cmd[3:]]) or 0)
    try:
        main(["lab", *argv])
    except Handed:
        pass
    assert len(handed) == 1, "the command must hand over to JupyterLab exactly once"
    return handed[0]


# ---- the command ----------------------------------------------------------------------------------
def test_lab_opens_a_working_copy_with_every_stub_and_no_solution(tmp_path, monkeypatch, capsys):
    home = tmp_path / "my work"
    argv = _run_lab(monkeypatch, ["--home", str(home), "--", "--no-browser"])
    assert argv[1:4] == ["-m", "cnnbook.commands.lab", str(home.resolve())] and "--no-browser" in argv
    assert str(home.resolve()) in capsys.readouterr().out, "the command must say where the working copy is"
    written = _sources(home)
    assert sorted(written) == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    text = "\n".join(written.values())
    assert BEGIN_SOLUTION not in text and BEGIN_HIDDEN not in text
    lines = {line.strip() for line in text.split("\n")}
    leaked = [line for line in _solution_lines() if line in lines]
    assert not leaked, f"solution lines in the learner's copy: {leaked[:5]}"
    for name in list_exercises():
        assert (f'raise NotImplementedError("Your turn: {name}: replace this with your solution")' in text
                or f" = ...  # Your turn: {name}: replace ... with your answer" in text), name
    # nbgrader's metadata stays, so a completed working copy can be autograded (tests/test_nbgrader.py)
    nb = nbformat.read(home / "03-convolution.ipynb", as_version=4)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert ids == ["conv_forward_naive", "check_conv_forward_naive"]


def test_cnnbook_home_chooses_the_folder_and_solutions_opens_the_instructors_edition(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNBOOK_HOME", str(tmp_path / "from-env"))
    assert default_home() == tmp_path / "from-env"
    argv = _run_lab(monkeypatch, [])
    assert argv[3] == str((tmp_path / "from-env").resolve())
    assert (tmp_path / "from-env" / "03-convolution.ipynb").is_file()
    monkeypatch.setenv("CNNBOOK_HOME", str(tmp_path / "unused"))
    argv = _run_lab(monkeypatch, ["--solutions"])
    assert argv[3] == str(lab.NOTEBOOKS)
    assert not (tmp_path / "unused").exists(), "--solutions must not make a working copy"


def test_default_home_is_outside_the_tracked_sources(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNBOOK_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_home() == tmp_path / "cnnbook-work"


def test_a_home_inside_the_notebooks_folder_or_a_file_is_refused(workbook, tmp_path, monkeypatch, capsys):
    with pytest.raises(ValueError, match="inside the workbook's notebooks folder"):
        prepare_working_copy(workbook / "mine", source=workbook)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        prepare_working_copy(tmp_path / "a-file", source=workbook)
    monkeypatch.setattr(lab, "_has_jupyterlab", lambda: True)
    assert main(["lab", "--home", str(tmp_path / "a-file")]) == 1
    assert "error:" in capsys.readouterr().err


# ---- later starts -------------------------------------------------------------------------------
def _edit(path, text):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(nb, path)


def test_an_edited_notebook_survives_an_updated_workbook_and_a_new_notebook_is_added(workbook, tmp_path):
    home = tmp_path / "work"
    first = prepare_working_copy(home, source=workbook)
    assert {c.status for c in first.changes} == {"added"}
    # the learner works on 08 and leaves 03 alone
    _edit(home / "08-training-a-cnn.ipynb", "my notes on training")
    learner_08 = (home / "08-training-a-cnn.ipynb").read_bytes()
    # the workbook is updated: 08 and 03 change, a notebook is added
    for name in ("08-training-a-cnn.ipynb", "03-convolution.ipynb"):
        _edit(workbook / name, f"new in the workbook: {name}")
    shutil.copy(workbook / "05-receptive-field.ipynb", workbook / "13-new-lesson.ipynb")
    second = prepare_working_copy(home, source=workbook)
    status = {c.name: c.status for c in second.changes}
    assert status["08-training-a-cnn.ipynb"] == "offered"
    assert status["03-convolution.ipynb"] == "updated" and status["13-new-lesson.ipynb"] == "added"
    assert status["00-start-here.ipynb"] == "unchanged"
    assert (home / "08-training-a-cnn.ipynb").read_bytes() == learner_08, "the learner's work was overwritten"
    offered = (home / "08-training-a-cnn.updated.ipynb").read_text()
    assert "new in the workbook: 08" in offered and "my notes" not in offered
    assert "new in the workbook: 03" in (home / "03-convolution.ipynb").read_text()
    assert (home / "13-new-lesson.ipynb").is_file()
    message = next(c.message for c in second.changes if c.name == "08-training-a-cnn.ipynb")
    assert "08-training-a-cnn.updated.ipynb" in message and "kept" in message
    # a third start with nothing new changes nothing and leaves the learner's work alone
    third = prepare_working_copy(home, source=workbook)
    assert {c.name: c.status for c in third.changes}["08-training-a-cnn.ipynb"] == "offered"
    assert {c.status for c in third.changes} <= {"unchanged", "offered"}
    assert (home / "08-training-a-cnn.ipynb").read_bytes() == learner_08


def test_an_edited_notebook_is_kept_quietly_while_the_workbook_has_not_changed(workbook, tmp_path):
    home = tmp_path / "work"
    prepare_working_copy(home, source=workbook)
    _edit(home / "03-convolution.ipynb", "mine")
    again = prepare_working_copy(home, source=workbook)
    assert {c.name: c.status for c in again.changes}["03-convolution.ipynb"] == "kept"
    assert "mine" in (home / "03-convolution.ipynb").read_text()
    assert not (home / "03-convolution.updated.ipynb").exists()


def test_a_changed_offer_is_not_written_over_either(workbook, tmp_path):
    home = tmp_path / "work"
    prepare_working_copy(home, source=workbook)
    _edit(home / "03-convolution.ipynb", "mine")
    _edit(workbook / "03-convolution.ipynb", "update 1")
    prepare_working_copy(home, source=workbook)
    _edit(home / "03-convolution.updated.ipynb", "I edited the offer too")
    _edit(workbook / "03-convolution.ipynb", "update 2")
    third = prepare_working_copy(home, source=workbook)
    change = next(c for c in third.changes if c.name == "03-convolution.ipynb")
    assert change.status == "blocked" and "rename or delete 03-convolution.updated.ipynb" in change.message
    assert "I edited the offer too" in (home / "03-convolution.updated.ipynb").read_text()


def test_bad_markers_or_a_damaged_manifest_write_nothing(workbook, tmp_path):
    home = tmp_path / "work"
    prepare_working_copy(home, source=workbook)
    before = {p.name: p.read_bytes() for p in home.iterdir()}
    nb = nbformat.read(workbook / "03-convolution.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1"))
    nbformat.write(nb, workbook / "03-convolution.ipynb")
    with pytest.raises(MarkerError, match="03-convolution.ipynb"):
        prepare_working_copy(home, source=workbook)
    assert {p.name: p.read_bytes() for p in home.iterdir()} == before
    (home / MANIFEST).write_text("{not json")
    shutil.copy(NOTEBOOKS / "03-convolution.ipynb", workbook / "03-convolution.ipynb")
    with pytest.raises(ValueError, match="is damaged"):
        prepare_working_copy(home, source=workbook)
    assert sorted(p.name for p in home.iterdir()) == sorted(before)


# ---- show_solution ------------------------------------------------------------------------------
def test_show_solution_prints_the_reference_solution(capsys):
    show_solution("conv_forward_naive")
    printed = capsys.readouterr().out
    assert "03-convolution.ipynb" in printed and "def conv_forward_naive(" in printed
    assert "out[n, f, i, j] = (window * w[f]).sum() + b[f]" in printed  # the body, not the stub
    assert BEGIN_SOLUTION not in printed and "NotImplementedError" not in printed
    assert find_solution("shift_error").exercise == "equivariance", "a function's name finds its exercise"


def test_show_solution_names_the_exercises_on_a_typo():
    with pytest.raises(ValueError) as info:
        show_solution("conv_foward_naive")
    message = str(info.value)
    assert "'conv_forward_naive'" in message.split("The exercises")[0], "the closest name comes first"
    for name in list_exercises():
        assert name in message
    with pytest.raises(TypeError, match="as a string"):
        show_solution(3)


def test_every_exercise_has_a_solution_to_show():
    names = list_exercises()
    assert len(names) == len(set(names)) and "conv_forward_naive" in names
    for name in names:
        assert BEGIN_SOLUTION not in find_solution(name).source


# ---- the Korean edition -------------------------------------------------------------------------------
def test_lab_lang_ko_opens_the_korean_working_copy_and_its_checks_speak_korean(tmp_path, monkeypatch, capsys):
    home = tmp_path / "work"
    monkeypatch.setenv("CNNBOOK_LANG", "en")  # restored after the test, whatever the command sets
    argv = _run_lab(monkeypatch, ["--lang", "ko", "--home", str(home)])
    ko_home = (home / "ko").resolve()
    assert argv[3] == str(ko_home)
    assert os.environ.get("CNNBOOK_LANG") == "ko", "the server's kernels must speak Korean"
    written = _sources(ko_home)
    korean = NOTEBOOKS / "ko"
    assert sorted(written) == sorted(p.name for p in korean.glob("*.ipynb"))
    assert BEGIN_SOLUTION not in "\n".join(written.values())
    # the same code as the English working copy (only the text it shows differs: strings, comments, the stubs'
    # words), Korean prose; the folder itself says Korean
    en_nb = student_notebook(nbformat.read(NOTEBOOKS / "03-convolution.ipynb", as_version=4), "03")[0]
    ko_nb = nbformat.read(ko_home / "03-convolution.ipynb", as_version=4)
    en_code, ko_code = ([c.source for c in nb.cells if c.cell_type == "code"] for nb in (en_nb, ko_nb))
    assert len(en_code) == len(ko_code) and all(map(same_code, en_code, ko_code))
    assert 'raise NotImplementedError("직접 해 보기: conv_forward_naive: ' in "\n".join(ko_code)
    assert (ko_home / "glossary.md").is_file()
    assert language.edition_of(ko_home) == "ko"
    argv = _run_lab(monkeypatch, ["--lang", "ko", "--solutions"])
    assert argv[3] == str(korean)


def test_the_korean_working_copy_keeps_the_learners_edits_like_the_english(tmp_path):
    first = prepare_working_copy(tmp_path, lang="ko")
    assert first.home == (tmp_path / "ko").resolve() and {c.status for c in first.changes} == {"added"}
    mine = first.home / "03-convolution.ipynb"
    mine.write_text(mine.read_text(encoding="utf-8").replace("합성곱", "합성곱!", 1), encoding="utf-8")
    again = prepare_working_copy(tmp_path, lang="ko")
    assert {c.name: c.status for c in again.changes}["03-convolution.ipynb"] == "kept"
    assert "합성곱!" in mine.read_text(encoding="utf-8")
