"""The student edition, nothing solved, runs to the end: each exercise's check says it is not done yet (on
stderr, in the edition's language) and the lesson goes on with the package's reference.

Every notebook with an exercise, English and Korean, runs in nbclient exactly as written by
``python -m cnnbook student`` (nbclient stops at the first error, as ``jupyter nbconvert --execute`` does and as
JupyterLab's Run All does). Notebooks without exercises are left out: their student edition is the source minus
outputs, which nbval runs already. One kernel per notebook; the two editions are two classes, so
``--dist loadscope`` can give them to two workers.
"""
from pathlib import Path

import nbformat
import pytest

from cnnbook.course.student import write_student_edition

REPO = Path(__file__).resolve().parents[1]
WITH_EXERCISES = [p.name for p in sorted((REPO / "notebooks").glob("*.ipynb"))
                  if "### BEGIN SOLUTION" in p.read_text(encoding="utf-8")]
NOT_DONE = {"en": "not done yet: ", "ko": "아직 하지 않았습니다: "}


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    """``{lang: folder}``: the student editions, written once per worker."""
    root = tmp_path_factory.mktemp("student-runs")
    return {lang: write_student_edition(root / lang, lang=lang)[0][0].parent for lang in NOT_DONE}


def run_to_the_end(folder: Path, name: str, lang: str):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    nb = nbformat.read(folder / name, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"the {lang} student edition of {name} stopped with nothing solved:\n{error}")
    checks = [index for index, cell in enumerate(nb.cells)  # nbgrader's test cells; 07's hidden tests are gone
              if cell.metadata.get("nbgrader", {}).get("grade") and cell.source.strip()]
    assert checks, f"{name}: no check cell found"
    for index in checks:
        outputs = nb.cells[index].outputs
        notes = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
        assert any(text.startswith(NOT_DONE[lang]) for text in notes), \
            f"{name}, cell {index}: the check of an unsolved exercise printed no '{NOT_DONE[lang]}' note: {outputs}"
        assert not [o for o in outputs if o.output_type in ("error", "execute_result")], (name, index, outputs)


@pytest.mark.slow
class TestTheEnglishStudentEdition:
    @pytest.mark.parametrize("name", WITH_EXERCISES)
    def test_runs_to_the_end_with_nothing_solved(self, name, editions):
        run_to_the_end(editions["en"], name, "en")


@pytest.mark.slow
class TestTheKoreanStudentEdition:
    @pytest.mark.parametrize("name", WITH_EXERCISES)
    def test_runs_to_the_end_with_nothing_solved(self, name, editions):
        run_to_the_end(editions["ko"], name, "ko")


# ---- what a learner sees in a real kernel: a stub, a wrong answer, a crash --------------------------
CHECK_MODULES = ["_common", "_flow", "conv", "basics"]
STUB = '''def conv_forward_naive(x, w, b, stride=1, padding=0):
    # YOUR CODE HERE
    raise NotImplementedError("Your turn: conv_forward_naive: replace this with your solution")'''
IGNORES_STRIDE = '''from cnnbook.layers import conv2d_forward_naive

def conv_forward_naive(x, w, b, stride=1, padding=0):
    return conv2d_forward_naive(x, w, b, stride=1, padding=padding)[0]  # my line: the stride is ignored'''
CRASHES = '''def relu_backward(dout, x):
    return dout * (x > 0) + {}["my missing key"]'''


def _ansi_free(lines) -> str:
    import re
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(lines))


def test_in_a_kernel_a_stub_runs_on_and_a_wrong_answer_shows_the_learners_code_not_the_checks(tmp_path):
    """Executed as JupyterLab and nbgrader execute it (nbclient, ipykernel, IPython's traceback display)."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    from cnnbook.course import exercises
    cells = [STUB, "from cnnbook.course.exercises import check_conv_forward_naive\n\n"
                   "conv_forward_naive = check_conv_forward_naive(conv_forward_naive)",
             "print('the lesson goes on with', conv_forward_naive.__module__)",
             IGNORES_STRIDE, "check_conv_forward_naive(conv_forward_naive);",
             CRASHES, "from cnnbook.course.exercises import check_relu_backward\n\ncheck_relu_backward(relu_backward);"]
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [c.outputs for c in nb.cells]
    # the stub: a note on stderr, no error, no value nbgrader could read as a score; the next cell runs on
    assert [o.output_type for o in outputs[1]] == ["stream"] and outputs[1][0].name == "stderr"
    assert outputs[1][0].text.startswith("not done yet: conv_forward_naive")
    assert 'show_solution("conv_forward_naive")' in outputs[1][0].text
    assert outputs[2][0].text == "the lesson goes on with cnnbook.course.exercises.references\n"
    # a wrong answer: an ExerciseError with its hint; the traceback shows the learner's cell and no check's lines
    (wrong,) = [o for o in outputs[4] if o.output_type == "error"]
    assert wrong.ename == "ExerciseError" and "is the stride applied?" in wrong.evalue
    shown = _ansi_free(wrong.traceback)
    assert "check_conv_forward_naive(conv_forward_naive);" in shown and "is the stride applied?" in shown
    module_dir = Path(exercises.__file__).parent
    leaked = [(name, line.strip()) for name in CHECK_MODULES
              for line in (module_dir / f"{name}.py").read_text(encoding="utf-8").splitlines()
              if len(line.strip()) > 25 and not line.strip().startswith("#") and line.strip() in shown]
    assert not leaked, f"the traceback shows the checks' source:\n{shown}"
    assert str(module_dir) not in shown
    # a crash in the learner's function: their own line is shown, with the check's explanation,
    # still nothing of the check
    (crash,) = [o for o in outputs[6] if o.output_type == "error"]
    shown = _ansi_free(crash.traceback)
    assert crash.ename == "ExerciseError" and "raised KeyError" in crash.evalue
    assert '{}["my missing key"]' in shown and "check_relu_backward(relu_backward);" in shown
    assert str(module_dir) not in shown, shown


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_references_keep_the_dtype_the_lesson_gives_them(dtype):
    """10 calls patchify on float32 images, the check on float64 ones: the fallback must take both."""
    import numpy as np

    from cnnbook.course.exercises import references as ref
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(dtype)
    assert ref.patchify(x, 4).dtype == x.dtype and ref.im2col(x, 3, padding=1).dtype == x.dtype
    assert ref.conv_forward_naive(x, x[:2, :, :3, :3], np.zeros(2, dtype)).dtype == x.dtype
