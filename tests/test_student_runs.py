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
NOT_DONE = {"en": "not done yet: ", "ko": "아직 안 했어요: "}


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
