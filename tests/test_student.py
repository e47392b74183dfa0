"""The student edition: solutions become stubs, hidden tests go, outputs are cleared, errors are clear.

That the student edition of every notebook runs to the end with nothing solved is tests/test_student_runs.py.
"""
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from cnnbook.__main__ import main
from cnnbook.course.student import MarkerError, strip_cell, student_notebook, write_student_edition
from cnnbook.course.translations import same_code

REPO = Path(__file__).resolve().parents[1]

SOLUTION_CELL = """# Your turn: conv_output_size
def conv_output_size(input_size, kernel_size, stride=1, padding=0):
    \"\"\"Return the output size.\"\"\"
    ### BEGIN SOLUTION
    span = input_size - kernel_size + 2 * padding
    return span // stride + 1
    ### END SOLUTION"""


def notebook(*sources):
    """A notebook of code cells (strings) and Markdown cells (``("md", text)``), with outputs filled in."""
    cells = []
    for i, source in enumerate(sources):
        if isinstance(source, tuple):
            cells.append(new_markdown_cell(source[1]))
        else:
            cell = new_code_cell(source, execution_count=i + 1)
            cell.outputs = [new_output("stream", name="stdout", text="old output\n")]
            cells.append(cell)
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def write(folder: Path, name: str, nb) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


# ---- one cell -----------------------------------------------------------------------------------
def test_solution_becomes_a_stub_at_the_begin_lines_indentation():
    source, names = strip_cell(SOLUTION_CELL, "nb, cell 0")
    assert names == ["conv_output_size"]
    assert source.splitlines() == [
        "# Your turn: conv_output_size",
        "def conv_output_size(input_size, kernel_size, stride=1, padding=0):",
        '    """Return the output size."""',
        "    # YOUR CODE HERE",
        '    raise NotImplementedError("Your turn: conv_output_size: replace this with your solution")']
    compile(source, "cell", "exec")


def test_the_korean_edition_writes_its_stubs_in_korean_and_the_english_stays_as_it_was():
    korean_cell = SOLUTION_CELL.replace("# Your turn:", "# 직접 해 보기:")
    for cell in (SOLUTION_CELL, korean_cell):  # either edition's first line names the exercise
        source, names = strip_cell(cell, "nb, cell 0", lang="ko")
        assert names == ["conv_output_size"]
        assert source.splitlines()[-2:] == [
            "    # 여기에 코드를 작성하세요",
            '    raise NotImplementedError("직접 해 보기: conv_output_size: 이 줄을 여러분의 풀이로 바꾸세요")']
        compile(source, "cell", "exec")
    prediction = "# Your turn: predict_drop\n### BEGIN SOLUTION\npredicted_drop = 0.1\n### END SOLUTION\nprint(1)"
    assert strip_cell(prediction, "nb", lang="ko")[0].splitlines() == [
        "# Your turn: predict_drop", "# 여기에 코드를 작성하세요",
        "predicted_drop = ...  # 직접 해 보기: predict_drop: ... 자리에 여러분의 답을 쓰세요", "print(1)"]
    assert strip_cell(prediction, "nb")[0].splitlines()[1:3] == [
        "# YOUR CODE HERE", "predicted_drop = ...  # Your turn: predict_drop: replace ... with your answer"]
    assert strip_cell("### BEGIN SOLUTION\nx\n### END SOLUTION", "nb", "markdown", lang="ko")[0] == \
        "여기에 답을 작성하세요"
    with pytest.raises(ValueError, match="lang='fr'"):
        strip_cell(SOLUTION_CELL, "nb", lang="fr")


def test_a_notebook_gets_the_stubs_of_its_own_language_unless_told():
    nb = notebook(SOLUTION_CELL)
    nb.metadata["cnnbook"] = {"language": "ko"}
    assert "직접 해 보기: conv_output_size" in student_notebook(nb, "nb")[0].cells[0].source
    assert "Your turn: conv_output_size: replace" in student_notebook(nb, "nb", "en")[0].cells[0].source
    assert "Your turn: conv_output_size: replace" in student_notebook(notebook(SOLUTION_CELL), "nb")[0].cells[0].source


def test_name_from_the_enclosing_def_without_a_your_turn_line():
    source, names = strip_cell("import numpy as np\n\nclass A:\n    def forward(self, x):\n"
                               "        ### BEGIN SOLUTION\n        return x\n        ### END SOLUTION\n", "c")
    assert names == ["forward"]
    assert '        raise NotImplementedError("Your turn: forward:' in source
    compile(source, "cell", "exec")


def test_two_regions_and_top_level_code():
    source, names = strip_cell("### BEGIN SOLUTION\nx = 1\nprint(x)\n### END SOLUTION\ny = 2\n"
                               "def f():\n    ### BEGIN SOLUTION\n    return 3\n    ### END SOLUTION", "c")
    assert names == ["this exercise", "f"]
    assert source.count("raise NotImplementedError") == 2 and "y = 2" in source and "x = 1" not in source


def test_a_top_level_answer_that_only_assigns_becomes_an_ellipsis_not_a_raise():
    """A *predict first* answer cell: a raise there would stop Run All, so the names are set to ``...``, which
    the check notes as not done yet."""
    source, names = strip_cell('# Your turn: predict_cue\n# predicted_cue = <"shape" or "texture">\n'
                               '### BEGIN SOLUTION\npredicted_cue = "texture"\n### END SOLUTION', "c")
    assert names == ["predict_cue"]
    assert source.splitlines()[2:] == ["# YOUR CODE HERE",
                                       "predicted_cue = ...  # Your turn: predict_cue: replace ... with your answer"]
    namespace = {}
    exec(source, namespace)
    assert namespace["predicted_cue"] is Ellipsis
    # anything else at the top level still raises
    source, _ = strip_cell("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION", "c")
    assert "raise NotImplementedError" in source


def test_hidden_tests_are_removed_and_the_rest_kept():
    source, names = strip_cell("check(f)\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS\n"
                               "print('done')", "c")
    assert names == [] and source == "check(f)\nprint('done')"


@pytest.mark.parametrize("source, fragment", [
    ("### BEGIN SOLUTION\nx = 1", "'### BEGIN SOLUTION' at line 1 is never closed by '### END SOLUTION'"),
    ("x = 1\n### END SOLUTION", "line 2 '### END SOLUTION' has no matching BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION", "opens a region inside"),
    ("### BEGIN SOLUTION\n### END HIDDEN TESTS", "solution region opened at line 1 is still open"),
])
def test_unbalanced_markers_name_the_cell(source, fragment):
    with pytest.raises(MarkerError) as info:
        strip_cell(source, "03-convolution.ipynb, cell 7")
    assert "03-convolution.ipynb, cell 7" in str(info.value) and fragment in str(info.value)


# ---- one notebook -------------------------------------------------------------------------------
def test_student_notebook_clears_outputs_empties_hidden_cells_and_keeps_the_rest():
    nb = notebook(("md", "# Title\n### BEGIN SOLUTION\nanswer\n### END SOLUTION"), "import numpy as np",
                  SOLUTION_CELL, "check(conv_output_size)",
                  "### BEGIN HIDDEN TESTS\nassert conv_output_size(5, 3) == 3\n### END HIDDEN TESTS")
    nb.cells[1].metadata["tags"] = ["keep_output"]
    before = nbformat.writes(nb)
    out, names = student_notebook(nb, "01-x.ipynb")
    assert nbformat.writes(nb) == before, "the source notebook must not change"
    assert names == ["this exercise", "conv_output_size"]
    assert len(out.cells) == 5, "a cell of hidden tests stays, empty, as nbgrader leaves it"
    assert out.cells[4].source == "" and out.cells[4].id == nb.cells[4].id
    assert out.cells[0].source == "# Title\nYOUR ANSWER HERE"
    assert out.cells[1].metadata["tags"] == ["keep_output"] and out.cells[1].id == nb.cells[1].id
    assert out.cells[3].source == "check(conv_output_size)"
    for cell in out.cells[1:]:
        assert cell.outputs == [] and cell.execution_count is None
    nbformat.validate(out)


def test_marker_error_names_notebook_and_cell():
    nb = notebook("x = 1", "def f():\n    ### BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(MarkerError, match=r"07-backprop\.ipynb, cell 1 \(id [\w-]+\): '### BEGIN SOLUTION' at line 2"):
        student_notebook(nb, "07-backprop.ipynb")


# ---- the whole edition and the command ----------------------------------------------------------
@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "notebooks"
    write(folder, "01-a.ipynb", notebook("import math", SOLUTION_CELL, "print(conv_output_size(5, 3))"))
    write(folder, "02-b.ipynb", notebook("print('no exercise')"))
    return folder


def test_command_writes_every_notebook(source, tmp_path, capsys):
    outdir = tmp_path / "class" / "student"
    assert main(["student", str(outdir), "--source", str(source)]) == 0
    assert sorted(p.name for p in outdir.iterdir()) == ["01-a.ipynb", "02-b.ipynb"]
    printed = capsys.readouterr().out
    assert "01-a.ipynb: 1 exercise(s): conv_output_size" in printed and "02-b.ipynb: no exercises" in printed
    nb = nbformat.read(outdir / "01-a.ipynb", as_version=4)
    nbformat.validate(nb)
    assert "raise NotImplementedError" in nb.cells[1].source and "span" not in nb.cells[1].source
    umask = os.umask(0)
    os.umask(umask)
    assert outdir.stat().st_mode & 0o777 == 0o777 & ~umask, "the folder must not stay private like a temp dir"
    assert [p.name for p in outdir.parent.iterdir()] == ["student"], "no temporary folder is left beside it"


def test_existing_files_need_force(source, tmp_path, capsys):
    outdir = tmp_path / "student"
    write(outdir, "01-a.ipynb", notebook("my own work"))
    assert main(["student", str(outdir), "--source", str(source)]) == 1
    err = capsys.readouterr().err
    assert "already holds 01-a.ipynb" in err and "--force" in err
    assert "my own work" in (outdir / "01-a.ipynb").read_text()
    assert not (outdir / "02-b.ipynb").exists()
    assert main(["student", str(outdir), "--source", str(source), "--force"]) == 0
    assert "my own work" not in (outdir / "01-a.ipynb").read_text()


@pytest.mark.parametrize("where", [".", "sub/dir"])
def test_refuses_to_write_into_the_source_folder(source, where, capsys):
    assert main(["student", str(source / where), "--source", str(source)]) == 1
    assert "source notebooks folder" in capsys.readouterr().err
    assert sorted(p.name for p in source.iterdir()) == ["01-a.ipynb", "02-b.ipynb"]


def test_a_bad_notebook_writes_nothing(source, tmp_path, capsys):
    write(source, "03-c.ipynb", notebook("def g():\n    ### END SOLUTION"))
    outdir = tmp_path / "student"
    assert main(["student", str(outdir), "--source", str(source)]) == 1
    assert "03-c.ipynb, cell 0" in capsys.readouterr().err
    assert not outdir.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder is left behind"


def test_missing_source_and_outdir_that_is_a_file(tmp_path, capsys):
    assert main(["student", str(tmp_path / "out"), "--source", str(tmp_path / "nowhere")]) == 1
    assert "no notebooks folder" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    (tmp_path / "notebooks").mkdir()
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        write_student_edition(tmp_path / "file", source=tmp_path / "notebooks")


# ---- the real notebooks (that each runs to the end unsolved: tests/test_student_runs.py) ---------------
def test_the_korean_student_edition_has_the_english_code_korean_text_and_speaks_korean(tmp_path, capsys):
    from cnnbook.course import language
    assert main(["student", str(tmp_path / "ko"), "--lang", "ko"]) == 0
    assert "wrote 14 Korean student notebooks with" in capsys.readouterr().out
    out = tmp_path / "ko"
    en = tmp_path / "en"
    assert main(["student", str(en)]) == 0
    stubs = 0
    for path in sorted(en.glob("*.ipynb")):
        en_cells = nbformat.read(path, as_version=4).cells
        ko_cells = nbformat.read(out / path.name, as_version=4).cells
        assert [c.get("id") for c in en_cells] == [c.get("id") for c in ko_cells], path.name
        for en_cell, ko_cell in zip(en_cells, ko_cells):
            if en_cell.cell_type != "code":
                continue
            # the same code; only the text it shows (strings, comments: the stubs' words too) is Korean
            assert same_code(en_cell.source, ko_cell.source), (path.name, ko_cell.get("id"))
            if 'raise NotImplementedError("Your turn: ' in en_cell.source or "= ...  # Your turn: " in en_cell.source:
                stubs += 1
                assert "# 여기에 코드를 작성하세요" in ko_cell.source and "직접 해 보기: " in ko_cell.source
                assert "Your turn: " not in ko_cell.source.split("\n", 1)[1] and "YOUR CODE" not in ko_cell.source
    assert stubs >= 15
    assert (out / "glossary.md").is_file()
    # the folder tells the checks to speak Korean even where it is not called ko (the marker file)
    renamed = out.rename(tmp_path / "학생용")
    assert language.edition_of(renamed) == "ko" and language.edition_of(en) == "en"


def test_an_unknown_edition_is_refused_naming_the_choices(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["student", str(tmp_path / "x"), "--lang", "fr"])
    assert stop.value.code == 2 and "invalid choice: 'fr' (choose from 'en', 'ko')" in capsys.readouterr().err
    with pytest.raises(ValueError, match="lang='fr'"):
        write_student_edition(tmp_path / "x", lang="fr")
    assert not (tmp_path / "x").exists()


def test_without_lang_the_command_writes_the_edition_of_the_language_in_use(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CNNBOOK_LANG", "ko")  # as for doctor and claims: $CNNBOOK_LANG, else the folder, else en
    assert main(["student", str(tmp_path / "ko")]) == 0
    assert "Korean student notebooks" in capsys.readouterr().out
    assert main(["student", str(tmp_path / "en"), "--lang", "en"]) == 0
    assert "Korean" not in capsys.readouterr().out
