"""Every notebook has the shape NOTEBOOKS.md asks for and is committed clean.

nbval runs the notebooks themselves (pytest collects notebooks/*.ipynb); these tests check what
nbval does not: names, outputs, structure, seeding and exercise markers.
"""
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]


def _read(path):
    return nbformat.read(path, as_version=4)


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOKS_DIR}"
    assert NOTEBOOKS[0].name == "00-start-here.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_name_is_numbered_topic(path):
    assert re.fullmatch(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*\.ipynb", path.name), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_valid_and_committed_without_outputs(path):
    nb = _read(path)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if "keep_output" in tags:
            assert "# NBVAL_CHECK_OUTPUT" in cell.source, \
                f"{path.name} cell {i}: keep_output without NBVAL_CHECK_OUTPUT"
            continue
        assert not cell.outputs, f"{path.name} cell {i} carries outputs; clear them before committing"
        assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_shape_of_a_lesson(path):
    nb = _read(path)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.lstrip().startswith("# "), \
        f"{path.name} must open with a title"
    lowered = markdown.lower()
    assert "learning goals" in lowered, f"{path.name}: no learning goals"
    assert "key terms" in lowered, f"{path.name}: no key terms"
    assert re.search(r"[\uac00-\ud7a3]", markdown), f"{path.name}: key terms need the Korean beside the English"
    assert "summary" in lowered, f"{path.name}: no summary"
    assert "what's next" in lowered or "what’s next" in lowered, f"{path.name}: no what's next"
    first_goal_cell = next(i for i, c in enumerate(nb.cells) if "learning goals" in c.source.lower())
    assert first_goal_cell <= 2, f"{path.name}: learning goals come first"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_checks_its_own_results(path):
    code = "\n".join(c.source for c in _read(path).cells if c.cell_type == "code")
    assert re.search(r"^\s*assert ", code, re.M) or "check_" in code, f"{path.name} has no assert cells"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_exercise_markers_are_balanced(path):
    for i, cell in enumerate(_read(path).cells):
        for begin, end in [("### BEGIN SOLUTION", "### END SOLUTION"),
                           ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")]:
            assert cell.source.count(begin) == cell.source.count(end), f"{path.name} cell {i}: unbalanced {begin!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_numpy_only_shortcuts(path):
    # Notebooks must run unchanged on CuPy: no `import cupy as np`-style switches.
    code = "\n".join(c.source for c in _read(path).cells if c.cell_type == "code")
    assert not re.search(r"import\s+cupy\s+as\s+np", code), path.name
    assert "from cnnbook" in code or "import cnnbook" in code, f"{path.name} does not use the package"


LIVE = re.compile(r"(_explorer\(|hello_widget\(|LiveLossPlot\(|timeit|perf_counter)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_widget_live_and_timing_cells_ignore_their_output(path):
    # Their outputs differ from run to run (widget models, live plots, timings); nbval must not compare them.
    for i, cell in enumerate(_read(path).cells):
        if cell.cell_type == "code" and LIVE.search(cell.source):
            tags = cell.metadata.get("tags", [])
            assert "nbval-ignore-output" in tags, f"{path.name} cell {i} needs the tag nbval-ignore-output"
