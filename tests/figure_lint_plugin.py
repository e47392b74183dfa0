"""The figure lint on every notebook that nbval runs (loaded from the root ``conftest.py``).

nbval runs each notebook cell by cell in one kernel. Before the first cell this plugin installs
``tests/figure_lint.py`` in that kernel (``figure_lint.install``); after every cell it collects what the
kernel measured: each figure drawn into a picture is linted (overlapping or cut-off text, tiny fonts,
small images, unreadable cell numbers), each figure that reached the notebook as text is recorded, and
the cell's text outputs are checked for noise (a bare ``True``, ``np.int64(10)``, 16-digit floats).
Any of these fails the cell's test, naming the notebook, the cell and the texts.

The lint shares nbval's run instead of running every notebook a second time: the extra requests go
to the kernel silently (no execution count, no output), and nbval ignores messages that answer them.
``CNNBOOK_FIGURE_LINT_LOG=path`` also appends every finding to ``path`` as JSON lines (for counting).
"""
from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import figure_lint
import pytest

TESTS = str(Path(__file__).resolve().parent)
INSTALL = f"import sys\nif {TESTS!r} not in sys.path: sys.path.append({TESTS!r})\n" \
          "import figure_lint\nfigure_lint.install()\ndel figure_lint"
POP = "__import__('figure_lint').pop_json()"


def _ask_kernel(kernel, code: str, expression: str | None = None, timeout: float = 60):
    """Run ``code`` silently in nbval's kernel; the value of ``expression`` as text (or None)."""
    kc = kernel.kc
    msg_id = kc.execute(code, silent=True, store_history=False,
                        user_expressions={"value": expression} if expression else {})
    while True:
        msg = kc.get_shell_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            break
    content = msg["content"]
    if content.get("status") != "ok":
        raise RuntimeError(f"figure lint: the kernel refused {code!r}: {content.get('ename')}: {content.get('evalue')}")
    if expression is None:
        return None
    value = content["user_expressions"]["value"]
    if value.get("status") != "ok":
        raise RuntimeError(f"figure lint: {expression} failed in the kernel: "
                           f"{value.get('ename')}: {value.get('evalue')}")
    return ast.literal_eval(value["data"]["text/plain"])


def _is_nbval_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item, "parent") and hasattr(item.parent, "kernel")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if not _is_nbval_cell(item):
        return (yield)
    kernel = item.parent.kernel
    if kernel is not None and kernel.is_alive() and not getattr(kernel, "_cnnbook_figure_lint", False):
        _ask_kernel(kernel, INSTALL)
        kernel._cnnbook_figure_lint = True
    result = yield  # nbval runs the cell; an error in the cell itself propagates from here
    findings = []
    if kernel is not None and kernel.is_alive():
        for record in json.loads(_ask_kernel(kernel, "", POP)):
            where = f" ({record['where']})" if record["where"] else ""
            findings += [f"{d}{where}" for d in record["defects"]]
    findings += figure_lint.lint_text_outputs(item.test_outputs or [], item.cell.source)
    if findings:
        log = os.environ.get("CNNBOOK_FIGURE_LINT_LOG")
        if log:
            with open(log, "a") as f:
                f.write(json.dumps({"notebook": Path(str(item.fspath)).name, "cell": item.cell_num,
                                    "defects": findings}) + "\n")
        raise AssertionError(f"{Path(str(item.fspath)).name}, code cell {item.cell_num}: "
                             f"{len(findings)} readability defect(s) (NOTEBOOKS.md, figure rules):\n  - "
                             + "\n  - ".join(findings))
    return result
