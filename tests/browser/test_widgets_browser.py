"""Every notebook with widgets, in a real JupyterLab: run all cells, no errors, and the widgets respond.

Each test opens a notebook, runs it top to bottom, checks that no cell shows a traceback, then moves
sliders and edits inputs and checks that what the learner sees (the text and the drawing) changes as the
plain functions in ``cnnbook.explore`` predict. Run with ``pytest -m browser -n0 tests/browser``.
"""
from __future__ import annotations

import html
import re
import time

import numpy as np
import pytest
from hangul_check import HANGUL_RENDERS
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cnnbook import explore

pytestmark = pytest.mark.browser

RUN_TIMEOUT_S = 150


def open_and_run(page, lab, name: str):
    """Open notebook ``name``, run all cells, wait until every code cell has run; fail on a traceback."""
    base, token, _ = lab
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
    page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        state = page.evaluate("""() => {
            const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
                .map(p => p.textContent.trim());
            const errors = [...document.querySelectorAll(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
                .map(e => e.textContent).filter(t => t.includes('Traceback') || /\\w+Error\\b/.test(t));
            return {prompts, errors};
        }""")
        busy = any(p in ("[*]:", "[ ]:", "[ ]", "") for p in state["prompts"])
        if state["errors"] and not any(p == "[*]:" for p in state["prompts"]):
            pytest.fail(f"{name}: a cell shows an error:\n{state['errors'][0][-2000:]}")
        if not busy:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"{name}: cells still not run after {RUN_TIMEOUT_S} s: {state['prompts']}")
        time.sleep(0.5)
    assert all(re.fullmatch(r"\[\d+\]:", p) for p in state["prompts"]), state["prompts"]


def set_slider(page, root: str, cls: str, value: int):
    """Type ``value`` into the slider's editable readout (as a learner can) and wait for it to stick."""
    readout = page.locator(f"{root} .{cls} .widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelector('{root} .{cls} .widget-readout')"
                           f".textContent.trim() === '{value}'")


def text_of(page, selector: str) -> str:
    return page.locator(selector).first.inner_text()


def wait_text(page, selector: str, needle: str, timeout_ms: int = 20_000):
    """Wait until the element's visible text contains ``needle``."""
    page.wait_for_function("([sel, needle]) => { const e = document.querySelector(sel);"
                           " return e !== null && e.innerText.includes(needle); }",
                           arg=[selector, needle], timeout=timeout_ms)


def count(page, selector: str) -> int:
    return page.locator(selector).count()


def wait_counts(page, expected: dict, timeout_ms: int = 20_000) -> dict:
    """``{selector: number of matching elements}``, once every count is as ``expected`` or ``timeout_ms`` ran out.

    A widget sets its text and then its drawing, two messages to the browser: right after the text changed,
    the drawing may still be the previous one, so the counts are waited for, not read once.
    """
    try:
        page.wait_for_function("(expected) => Object.entries(expected).every("
                               "([sel, n]) => document.querySelectorAll(sel).length === n)",
                               arg=expected, timeout=timeout_ms)
    except PlaywrightTimeout:
        pass  # the comparison the caller asserts shows which count is off
    return {selector: count(page, selector) for selector in expected}


def drawing_src(page, root: str) -> str:
    return page.locator(f"{root} img.cnnbook-drawing, {root} .cnnbook-drawing img").first.get_attribute("src")


def wait_new_drawing(page, root: str, before: str):
    """Wait until the explorer's picture is a different one than ``before``."""
    page.wait_for_function("([sel, src]) => { const e = document.querySelector(sel);"
                           " const img = e && (e.tagName === 'IMG' ? e : e.querySelector('img'));"
                           " return img !== null && img.getAttribute('src') !== src; }",
                           arg=[f"{root} .cnnbook-drawing", before])


def test_00_hello_widget(page, lab):
    open_and_run(page, lab, "00-start-here.ipynb")
    root = ".cnnbook-hello"
    page.wait_for_selector(root)
    wait_text(page, f"{root} .cnnbook-result", "5 x 5")
    set_slider(page, root, "cnnbook-kernel-size", 5)
    r = explore.output_size_report(7, 5)
    wait_text(page, f"{root} .cnnbook-result", f"{r.output_size} x {r.output_size} = 7 - 5 + 1")


def test_03_kernel_explorer(page, lab):
    open_and_run(page, lab, "03-convolution.ipynb")
    root = ".cnnbook-kernel-explorer"
    page.wait_for_selector(f"{root} .cnnbook-drawing")
    wait_text(page, f"{root} .cnnbook-result", explore.explain_kernel(explore.KERNELS["vertical edge"]))
    before = drawing_src(page, root)
    page.locator(f"{root} .cnnbook-kernel-preset select").select_option("blur")
    wait_text(page, f"{root} .cnnbook-result", explore.explain_kernel(explore.KERNELS["blur"]))
    assert page.locator(f"{root} .cnnbook-kernel-text textarea").input_value() == \
        explore.kernel_text(explore.KERNELS["blur"])
    wait_new_drawing(page, root, before)
    page.locator(f"{root} .cnnbook-kernel-text textarea").fill("0 0 0\n0 2 0\n0 0 0")
    wait_text(page, f"{root} .cnnbook-result", explore.explain_kernel([[0, 0, 0], [0, 2, 0], [0, 0, 0]]))
    page.locator(f"{root} .cnnbook-kernel-text textarea").fill("1 2\n3")
    wait_text(page, f"{root} .cnnbook-result", "must be square")


def test_04_output_size_explorer(page, lab):
    open_and_run(page, lab, "04-stride-padding-output-size.ipynb")
    root = ".cnnbook-output-size-explorer"
    page.wait_for_selector(f"{root} svg")
    current = dict(input_size=7, kernel_size=3, stride=2, padding=1)
    for W, K, S, P in [(8, 3, 2, 0), (8, 3, 1, 0), (12, 5, 3, 2), (9, 5, 1, 2), (4, 7, 1, 0)]:
        for name, value in (("input-size", W), ("kernel-size", K), ("stride", S), ("padding", P)):
            key = name.replace("-", "_")
            if current[key] != value:
                set_slider(page, root, f"cnnbook-{name}", value)
                current[key] = value
        r = explore.output_size_report(W, K, S, P)
        wait_text(page, f"{root} .cnnbook-result", r.formula)
        shown = text_of(page, f"{root} .cnnbook-result")
        assert html.unescape(r.message) in shown
        assert ("Does not fit" in shown) == (r.numerator >= 0 and not r.fits)
        n, covered = r.padded_size, r.padded_size - r.dropped
        expected = {f"{root} svg rect.cnnbook-output-cell": r.output_size ** 2,
                    f"{root} svg rect.cnnbook-input-cell, {root} svg rect.cnnbook-pad-cell": n * n,
                    f"{root} svg rect.cnnbook-dropped-cell": n * n - covered * covered,
                    f"{root} svg rect.cnnbook-kernel-cell": K * K if r.output_size else 0}
        assert wait_counts(page, expected) == expected
    # back to a misfit, then let the button apply the suggested fix
    set_slider(page, root, "cnnbook-input-size", 8)
    set_slider(page, root, "cnnbook-kernel-size", 3)
    set_slider(page, root, "cnnbook-stride", 2)
    set_slider(page, root, "cnnbook-padding", 0)
    r = explore.output_size_report(8, 3, 2, 0)
    wait_text(page, f"{root} .cnnbook-result", "Does not fit")
    page.locator(f"{root} .cnnbook-apply-suggestion").click()
    p, s, out = r.suggestions[0]
    fixed = explore.output_size_report(8, 3, s, p)
    wait_text(page, f"{root} .cnnbook-result", fixed.formula)
    expected = {f"{root} svg rect.cnnbook-output-cell": out ** 2}
    assert wait_counts(page, expected) == expected
    # the kernel moves with the position slider
    first_x = page.locator(f"{root} svg rect.cnnbook-kernel-cell").first.get_attribute("x")
    set_slider(page, root, "cnnbook-position", 1)
    page.wait_for_function(f"(x) => document.querySelector('{root} svg rect.cnnbook-kernel-cell')"
                           ".getAttribute('x') !== x", arg=first_x)


def test_05_receptive_field_explorer(page, lab):
    open_and_run(page, lab, "05-receptive-field.ipynb")
    root = ".cnnbook-receptive-field-explorer"
    page.wait_for_selector(f"{root} .cnnbook-drawing")
    layers = explore.parse_layers("3,1 3,1 2,2 3,1")
    field = explore.receptive_field_growth(layers)[-1].field
    wait_text(page, f"{root} .cnnbook-result", f"{field} x {field}")
    before = drawing_src(page, root)
    page.locator(f"{root} .cnnbook-layers input").fill("3,1 3,1 2,2")
    field = explore.receptive_field_growth([(3, 1), (3, 1), (2, 2)])[-1].field
    wait_text(page, f"{root} .cnnbook-result", f"after 3 layer(s): {field} x {field}")
    wait_new_drawing(page, root, before)
    page.locator(f"{root} .cnnbook-add-layer").click()         # adds the sliders' layer: kernel 3, stride 1
    field = explore.receptive_field_growth([(3, 1), (3, 1), (2, 2), (3, 1)])[-1].field
    wait_text(page, f"{root} .cnnbook-result", f"after 4 layer(s): {field} x {field}")
    page.locator(f"{root} .cnnbook-remove-layer").click()
    wait_text(page, f"{root} .cnnbook-result", "after 3 layer(s)")


def test_06_pooling_explorer(page, lab):
    open_and_run(page, lab, "06-pooling.ipynb")
    root = ".cnnbook-pooling-explorer"
    page.wait_for_selector(f"{root} .cnnbook-drawing")
    x = np.zeros((8, 8), dtype=np.float32)  # the text depends on the shapes only
    wait_text(page, f"{root} .cnnbook-result", explore.pool_map(x, 2, 2)[1]["text"])
    before = drawing_src(page, root)
    set_slider(page, root, "cnnbook-kernel-size", 3)
    wait_text(page, f"{root} .cnnbook-result", explore.pool_map(x, 3, 2)[1]["text"])
    set_slider(page, root, "cnnbook-stride", 1)
    wait_text(page, f"{root} .cnnbook-result", explore.pool_map(x, 3, 1)[1]["text"])
    page.locator(f"{root} .cnnbook-pool-mode button", has_text="avg").click()
    wait_text(page, f"{root} .cnnbook-result", explore.pool_map(x, 3, 1, mode="avg")[1]["text"])
    wait_new_drawing(page, root, before)


def test_the_korean_edition_runs_its_widget_and_renders_hangul(page, lab):
    """ko/00: the same hello widget, in the Korean notebook, and its Korean text drawn with a Hangul font."""
    open_and_run(page, lab, "ko/00-start-here.ipynb")
    root = ".cnnbook-hello"
    page.wait_for_selector(root)
    set_slider(page, root, "cnnbook-kernel-size", 5)
    r = explore.output_size_report(7, 5)
    wait_text(page, f"{root} .cnnbook-result", f"{r.output_size} x {r.output_size} = 7 - 5 + 1")
    heading = page.locator(".jp-RenderedMarkdown h1").first
    assert re.search("[\uac00-\ud7a3]", heading.inner_text()), heading.inner_text()
    family = heading.evaluate("e => getComputedStyle(e).fontFamily")
    assert page.evaluate(HANGUL_RENDERS, family), \
        f"Hangul is drawn as boxes in {family!r}: install a Hangul font (Debian: fonts-nanum)"
