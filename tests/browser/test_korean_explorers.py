"""The explorers in the Korean edition, in a real JupyterLab: Korean labels, buttons, options and results.

A small notebook is written into the served copy's ``ko/`` folder (so its kernel runs there and speaks Korean,
as the Korean edition's notebooks do) and run; the test reads what the learner sees and uses the widgets.
Run with ``pytest -m browser -n0 tests/browser/test_korean_explorers.py``.
"""
from __future__ import annotations

import re

import nbformat
import pytest
from test_widgets_browser import open_and_run, set_slider, text_of, wait_text

from cnnbook import explore
from cnnbook.course.language import set_language

pytestmark = pytest.mark.browser
HANGUL = re.compile("[\uac00-\ud7a3]")

CELLS = ["import numpy as np\nfrom cnnbook import widgets",
         "widgets.output_size_explorer(8, 3, 2, 0)",
         "widgets.kernel_explorer(np.random.default_rng(0).random((12, 12)))",
         "widgets.receptive_field_explorer('3,1 2,2', input_size=12)"]


@pytest.fixture
def korean_notebook(lab):
    _, _, work = lab
    path = work / "ko" / "zz-korean-explorers.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    yield "ko/" + path.name
    path.unlink(missing_ok=True)


def korean(call):
    set_language("ko")
    try:
        return call()
    finally:
        set_language(None)


def test_the_korean_explorers_show_korean_labels_and_results(page, lab, korean_notebook):
    open_and_run(page, lab, korean_notebook)
    root = ".cnnbook-output-size-explorer"
    page.wait_for_selector(f"{root} svg")
    labels = page.locator(f"{root} .widget-label").all_inner_texts()
    assert "입력 크기 W" in labels and "스트라이드 S" in labels and "패딩 P" in labels, labels
    button = page.locator(f"{root} .cnnbook-apply-suggestion")
    assert button.inner_text().strip() == "첫 번째 제안 적용"
    r = korean(lambda: explore.output_size_report(8, 3, 2, 0))
    wait_text(page, f"{root} .cnnbook-result", "맞아떨어지지 않습니다")
    shown = text_of(page, f"{root} .cnnbook-result")
    assert r.message in shown and "Does not fit" not in shown
    assert "패딩한 입력 (픽셀)" in page.locator(f"{root} svg").text_content()
    button.click()  # the suggestion: padding 0, stride 1
    p, s, _ = r.suggestions[0]
    fixed = korean(lambda: explore.output_size_report(8, 3, s, p))
    wait_text(page, f"{root} .cnnbook-result", fixed.message)
    set_slider(page, root, "cnnbook-kernel-size", 5)
    wait_text(page, f"{root} .cnnbook-result", korean(lambda: explore.output_size_report(8, 5, s, p)).message)

    root = ".cnnbook-kernel-explorer"
    page.wait_for_selector(f"{root} .cnnbook-drawing")
    options = [t.replace("\xa0", " ") for t in page.locator(f"{root} .cnnbook-kernel-preset option").all_inner_texts()]
    assert options == ["항등", "수직 에지", "수평 에지", "블러", "샤프닝"], options
    assert page.locator(f"{root} .cnnbook-kernel-preset .widget-label").inner_text().strip() == "프리셋"
    page.locator(f"{root} .cnnbook-kernel-preset select").select_option(label="블러")
    wait_text(page, f"{root} .cnnbook-result", korean(lambda: explore.explain_kernel(explore.KERNELS["blur"])))
    assert page.locator(f"{root} .cnnbook-kernel-text textarea").input_value() == \
        explore.kernel_text(explore.KERNELS["blur"])

    root = ".cnnbook-receptive-field-explorer"
    page.wait_for_selector(f"{root} .cnnbook-drawing")
    assert page.locator(f"{root} .cnnbook-add-layer").inner_text().strip() == "층 추가"
    assert page.locator(f"{root} .cnnbook-remove-layer").inner_text().strip() == "마지막 층 삭제"
    wait_text(page, f"{root} .cnnbook-result", "층 2개를 지난 수용장")
    page.locator(f"{root} .cnnbook-add-layer").click()
    field = explore.receptive_field_growth([(3, 1), (2, 2), (3, 1)])[-1].field
    wait_text(page, f"{root} .cnnbook-result", f"층 3개를 지난 수용장: 입력 픽셀 {field} x {field}")
    headers = page.locator(f"{root} .cnnbook-result th").all_inner_texts()
    assert headers == ["층", "커널", "스트라이드", "수용장 (px)", "누적 스트라이드 (px)"], headers
    assert all(HANGUL.search(t) for t in page.locator(".jp-Notebook .widget-button").all_inner_texts()
               if t.strip())
