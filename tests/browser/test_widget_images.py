"""Widget pictures in a real JupyterLab are sharp and whole: never stretched past their natural size.

For each notebook with an explorer that draws a picture, the notebook runs top to bottom, and its first
explorer is measured in the browser (and a screenshot of it saved in ``artifacts/browser/``):

* a matplotlib picture (an ``<img>``) is shown at no more than its natural size (``naturalWidth``), so the
  browser never upscales it into blur, and is drawn at about twice the size it is shown at, so it stays
  sharp on high-density screens;
* the output-size drawing (an inline ``<svg>``) is shown at its own width and every text in it lies
  inside it (no caption cut off at the right edge);
* the receptive-field explorer, controls, picture and numbers, fits on one screen.

Run with ``python -m pytest -p no:cacheprovider -m browser tests/browser``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_widgets_browser import open_and_run

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREEN_HEIGHT_PX = 900  # a laptop's browser window, less its tool bars

IMAGE_EXPLORERS = [("03-convolution.ipynb", ".cnnbook-kernel-explorer"),
                   ("05-receptive-field.ipynb", ".cnnbook-receptive-field-explorer"),
                   ("06-pooling.ipynb", ".cnnbook-pooling-explorer")]

MEASURE_IMG = """(root) => {
    const box = document.querySelector(root);
    const img = box.querySelector('img.cnnbook-drawing, .cnnbook-drawing img');
    const r = img.getBoundingClientRect();
    const b = box.getBoundingClientRect();
    return {natural: img.naturalWidth, naturalHeight: img.naturalHeight, shown: r.width, shownHeight: r.height,
            complete: img.complete, boxHeight: b.height};
}"""

MEASURE_SVG = """(root) => {
    const svg = document.querySelector(root + ' svg.cnnbook-output-grid');
    const width = parseFloat(svg.getAttribute('width'));
    const shown = svg.getBoundingClientRect().width;
    const s = svg.getBoundingClientRect();
    const outside = [...svg.querySelectorAll('text')].map(t => {
        const b = t.getBoundingClientRect();  // on screen, after any rotation
        return {text: t.textContent, left: b.left - s.left, right: b.right - s.left,
                top: b.top - s.top, bottom: b.bottom - s.top};
    }).filter(t => t.left < -0.5 || t.right > s.width + 0.5 || t.top < -0.5 || t.bottom > s.height + 0.5)
      .map(t => t.text);
    return {width, shown, outside};
}"""


def _screenshot(page, root: str, name: str) -> None:
    folder = Path(os.environ.get("CNNBOOK_ARTIFACTS", ROOT / "artifacts" / "browser"))
    folder.mkdir(parents=True, exist_ok=True)
    page.locator(root).first.screenshot(path=str(folder / f"widget-{Path(name).stem}.png"))


@pytest.mark.parametrize("name, root", IMAGE_EXPLORERS, ids=[n[:2] for n, _ in IMAGE_EXPLORERS])
def test_explorer_picture_is_not_upscaled(page, lab, name, root):
    open_and_run(page, lab, name)
    page.wait_for_selector(f"{root} .cnnbook-drawing")
    page.wait_for_function("(root) => { const img = document.querySelector(root + ' img.cnnbook-drawing');"
                           " return img !== null && img.complete && img.naturalWidth > 0; }", arg=root)
    page.locator(root).first.scroll_into_view_if_needed()
    _screenshot(page, root, name)
    m = page.evaluate(MEASURE_IMG, root)
    assert m["shown"] > 100, f"{name}: the picture is only {m['shown']:.0f} px wide: {m}"
    assert m["shown"] <= m["natural"] + 0.5, \
        f"{name}: the picture is stretched to {m['shown']:.0f} px from its natural {m['natural']} px (blurry): {m}"
    assert m["natural"] >= 1.9 * m["shown"], \
        f"{name}: drawn at {m['natural']} px for {m['shown']:.0f} px shown: not sharp on a high-density screen: {m}"
    if name.startswith("05"):
        assert m["boxHeight"] <= SCREEN_HEIGHT_PX, \
            f"{name}: the explorer is {m['boxHeight']:.0f} px tall; controls and picture must fit one screen: {m}"


def test_output_size_drawing_is_whole_and_not_stretched(page, lab):
    name, root = "04-stride-padding-output-size.ipynb", ".cnnbook-output-size-explorer"
    open_and_run(page, lab, name)
    page.wait_for_selector(f"{root} svg.cnnbook-output-grid")
    page.locator(root).first.scroll_into_view_if_needed()
    _screenshot(page, root, name)
    m = page.evaluate(MEASURE_SVG, root)
    assert abs(m["shown"] - m["width"]) <= 0.5, f"the drawing is {m['shown']:.0f} px wide, drawn for {m['width']:.0f}"
    assert m["outside"] == [], f"texts cut off at the drawing's edge: {m['outside']}"
    button = page.evaluate("(root) => { const b = document.querySelector(root + ' .cnnbook-apply-suggestion');"
                           " return {scroll: b.scrollWidth, client: b.clientWidth, text: b.textContent}; }", root)
    assert button["scroll"] <= button["client"] + 1, f"the button's label is cut off: {button}"
