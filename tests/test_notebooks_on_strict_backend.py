"""Every notebook runs unchanged on a CuPy-like backend (NOTEBOOKS.md: "Runs unchanged on the CuPy backend").

CI has no GPU, so each notebook runs top to bottom in a fresh kernel whose default backend is the strict
stand-in for CuPy (tests/strict_array.py): every array the package creates is a ``StrictArray``, and any
place where a notebook or the package mixes it with a plain NumPy array, as CuPy would refuse, fails here.
The cells are the notebook's own; one cell is put in front to switch the backend.
"""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

SWITCH = f"""
import sys
sys.path.insert(0, {str(ROOT / "tests")!r})
import matplotlib
matplotlib.use("Agg")
from strict_array import strict_xp
from cnnbook import backend
backend._xp_override = strict_xp
"""


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_on_the_strict_backend(path):
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(SWITCH))
    # The notebook must not have switched the backend back to NumPy on the way.
    nb.cells.append(nbformat.v4.new_code_cell("assert backend.default_xp() is strict_xp"))
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError naming the cell and its traceback on the first failure
