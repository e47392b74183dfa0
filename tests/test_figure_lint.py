"""The figure lint (tests/figure_lint.py) catches what makes a figure unreadable, and passes a good one.

The lint itself runs on every notebook inside nbval's run (tests/figure_lint_plugin.py, loaded by the
root conftest.py); these tests check the linter on figures made to be bad, and the plugin end to end on
a small notebook.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import nbformat
import numpy as np

matplotlib.use("Agg")
import figure_lint  # noqa: E402
from figure_lint import lint_figure, lint_text_outputs  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

TESTS = Path(figure_lint.__file__).resolve().parent


def _kinds(defects):
    return sorted({d.split(":")[0] for d in defects})


def good_figure():
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax, ax_img = fig.subplots(1, 2)
    ax.plot([1, 2, 3], [3, 1, 2], label="loss")
    ax.set_title("a good figure")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (nats)")
    ax.legend()
    im = ax_img.imshow(np.arange(4.0).reshape(2, 2), cmap="gray", vmin=0, vmax=3)
    ax_img.text(0, 0, "0", ha="center", va="center", color="white")
    ax_img.text(1, 1, "3", ha="center", va="center", color="black")
    fig.colorbar(im, ax=ax_img, label="value")
    return fig


def test_a_good_figure_passes():
    assert lint_figure(good_figure()) == []


def test_overlapping_labels_are_flagged():
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.bar(["plain", "clean", "shifted", "mirrored", "augmented"], [1, 2, 3, 4, 5])
    ax.tick_params(labelsize=16)
    defects = lint_figure(fig)
    overlaps = [d for d in defects if d.startswith("overlap")]
    assert overlaps, defects
    assert "overlap: x tick 'clean' and x tick 'shifted'" in overlaps


def test_a_cut_off_title_is_flagged():
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().set_title("a colour photo: stored (128, 128, 3), for plotting (3, 128, 128)")
    for tight in (False, True):
        assert any(d.startswith("cut off: title 'a colour photo") for d in lint_figure(fig, tight=tight))


def test_a_tiny_font_is_flagged_also_when_a_wide_figure_is_shrunk_to_fit():
    fig = Figure(figsize=(4, 3), layout="constrained")
    fig.add_subplot().set_title("tiny", fontsize=5)
    assert _kinds(lint_figure(fig)) == ["tiny font"]
    wide = Figure(figsize=(20, 3), layout="constrained")  # 1920 px wide, shown at about half: 9 pt -> 4.7 pt
    wide.add_subplot().set_title("normal size, wide figure", fontsize=9)
    assert any("tiny font: title 'normal size" in d for d in lint_figure(wide))


def test_a_small_image_panel_is_flagged():
    fig = Figure(figsize=(8, 1.2), layout="constrained")
    for ax in fig.subplots(1, 8):
        ax.imshow(np.zeros((5, 5)))
        ax.set_axis_off()
    assert "small image" in _kinds(lint_figure(fig))


def test_unreadable_cell_numbers_and_markers_over_numbers_are_flagged():
    fig = Figure(figsize=(4, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(np.array([[0.0, 1.0]]), cmap="viridis", vmin=0, vmax=1)  # 1.0 is yellow
    ax.text(1, 0, "0.9", ha="center", va="center", color="white")
    ax.text(0, 0, "0.1", ha="center", va="center", color="white")  # white on dark purple: fine
    ax.plot([0], [0], "r.", markersize=6)
    defects = lint_figure(fig)
    assert [d for d in defects if d.startswith("low contrast")] == [
        next(d for d in defects if "low contrast: annotation '0.9'" in d)]
    assert any(d.startswith("marker over text") and "'0.1'" in d for d in defects)


def test_noisy_text_outputs_are_flagged():
    out = [{"output_type": "execute_result", "data": {"text/plain": "True"}},
           {"output_type": "stream", "name": "stdout", "text": "sizes: (np.int64(10), np.int64(19))\n"},
           {"output_type": "stream", "name": "stdout", "text": "loss 2.670831035492183\n"}]
    assert _kinds(lint_text_outputs(out)) == ["NumPy repr in output", "bare result",
                                              "number with 16 significant digits"]
    quiet = [{"output_type": "stream", "name": "stdout", "text": "loss 2.671, accuracy 0.8125, 1e-16\n"},
             {"output_type": "stream", "name": "stderr", "text": "100%|####| 50/50 [00:01<00:00, 31.22it/s]\n"}]
    assert lint_text_outputs(quiet) == []
    # a final ';' hides the result in JupyterLab (nbval, running without history, still records it)
    assert lint_text_outputs(out[:1], source="check_softmax_loss(fn);  # verdict") == []
    assert _kinds(lint_text_outputs(out[:1], source="check_softmax_loss(fn)  # no ;")) == ["bare result"]


NOTEBOOK_CELLS = [
    # cell 0: a bare Figure displayed in a fresh kernel, before pyplot: Jupyter shows it as a line of text
    "from matplotlib.figure import Figure\nfrom IPython.display import display\nf = Figure(figsize=(10, 3.4))\n"
    "f.subplots(1, 2)\ndisplay(f)",
    # cell 1: a readable figure, shown inline
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 3))\nax.plot([1, 2])\n"
    "ax.set_title('fine')\nax.set_xlabel('x (px)')\nax.set_ylabel('y (px)')\nfig.tight_layout()",
    # cell 2: labels that collide
    "fig, ax = plt.subplots(figsize=(3, 2))\nax.bar(['plain', 'clean', 'shifted', 'mirrored'], [1, 2, 3, 4])\n"
    "ax.tick_params(labelsize=14)",
    # cell 3: noise
    "import numpy as np\nprint((np.int64(10), np.int64(19)))\nbool(np.int64(3) == 3)",
]


def test_the_nbval_plugin_fails_the_cells_with_defects_and_names_them(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "lint_me.ipynb"
    nbformat.write(nb, path)
    (tmp_path / "conftest.py").write_text(f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n"
                                          "pytest_plugins = ['figure_lint_plugin']\n")
    log = tmp_path / "lint.jsonl"
    env = dict(os.environ, CNNBOOK_FIGURE_LINT_LOG=str(log))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-o", "addopts=",
                           "--rootdir", str(tmp_path), "--nbval-lax", "--nbval-current-env", str(path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    records = {r["cell"]: r["defects"] for r in map(json.loads, log.read_text().splitlines())}
    assert sorted(records) == [0, 2, 3], out
    assert any(d.startswith("figure shown as text: <Figure size 1000x340 with 2 Axes>") for d in records[0]), records[0]
    assert any(d.startswith("overlap: x tick '") for d in records[2]), records[2]
    assert _kinds(records[3]) == ["NumPy repr in output", "bare result"]
    assert "lint_me.ipynb, code cell 2:" in out and "overlap: x tick" in out, out
    assert "1 passed" in out and "3 failed" in out, out
