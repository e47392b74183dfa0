"""The web book's parts that need no build (``tests/book`` builds the whole book with ``pytest -m book``).

Widget stills from a saved widget state, link rewriting, the nbgitpuller launch link, a staged edition's
pages, a failing notebook named with its cell, and the command's refusals.
"""
import base64
import hashlib
import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest

from cnnbook.__main__ import main
from cnnbook.course.book import build, figures, fonts
from cnnbook.course.book.execute import NotebookFailed, cache_key, run_notebook
from cnnbook.course.book.figures import FIGURES
from cnnbook.course.book.stills import VIEW, freeze_widgets
from cnnbook.data.workbook import CLONE

REPO = Path(__file__).resolve().parents[1]


def _state(models):
    return {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": models, "version_major": 2,
                                                                        "version_minor": 0}}}


def test_a_widget_view_becomes_its_still_picture_with_a_note_and_the_state_goes():
    models = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_h", "IPY_MODEL_i",
                                                                  "IPY_MODEL_d"]}},
        "s": {"model_name": "IntSliderModel", "state": {"description": "kernel size", "value": 3}},
        "h": {"model_name": "HTMLModel", "state": {"value": "output <b>5 x 5</b>"}},
        "i": {"model_name": "ImageModel", "state": {"format": "png", "width": "300"},
              "buffers": [{"path": ["value"], "encoding": "base64", "data": "iVBORw0KGgo="}]},
        "d": {"model_name": "DropdownModel", "state": {"description": "preset", "index": 1,
                                                       "_options_labels": ["edge", "blur"]}},
    }
    cell = nbformat.v4.new_code_cell("explorer()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={VIEW: {"model_id": "box"}, "text/plain": "VBox()"})]
    nb = nbformat.v4.new_notebook(cells=[cell], metadata=_state(models))
    assert freeze_widgets(nb, "ko") == 1
    data = nb.cells[0].outputs[0]["data"]
    assert list(data) == ["text/html"]
    still = data["text/html"]
    for part in ["kernel size: <b>3</b>", "output <b>5 x 5</b>", 'src="data:image/png;base64,iVBORw0KGgo="',
                 'width="300"', "preset: <b>blur</b>", "대화형 위젯"]:
        assert part in still, part
    assert "widgets" not in nb.metadata


def test_links_point_at_the_book_pages_or_the_repository():
    origin = CLONE / "README.md"
    page_of = {(CLONE / "notebooks/03-convolution.ipynb").resolve(): "notebooks/03-convolution.ipynb",
               ("other", (CLONE / "README.ko.md").resolve()): "index.md"}
    text = ("[03](notebooks/03-convolution.ipynb#setup) [web](https://example.org) [here](#top) "
            "[ko](README.ko.md) [bench](benchmarks/README.md)")
    out = build._rewrite_links(text, origin, "index.md", page_of, "en", None)
    assert "[03](notebooks/03-convolution.ipynb#setup)" in out
    assert "[web](https://example.org)" in out and "[here](#top)" in out
    assert '<a href="ko/index.html">ko</a>' in out
    assert "bench (`benchmarks/README.md`, in the repository)" in out
    linked = build._rewrite_links(text, origin, "index.md", page_of, "en", "https://github.com/o/cnnbook")
    assert "[bench](https://github.com/o/cnnbook/blob/main/benchmarks/README.md)" in linked
    from_ko = build._rewrite_links("[en](../03-convolution.ipynb)", CLONE / "notebooks/ko/03-convolution.ipynb",
                                  "notebooks/03-convolution.ipynb",
                                  {("other", (CLONE / "notebooks/03-convolution.ipynb").resolve()):
                                   "notebooks/03-convolution.ipynb"}, "ko", None)
    assert from_ko == '<a href="../../notebooks/03-convolution.html">en</a>'


def test_the_launch_link_is_an_nbgitpuller_link_to_the_notebook():
    url = build.hub_link("https://hub.example.edu/", "https://github.com/o/cnnbook",
                         "notebooks/ko/03-convolution.ipynb")
    parts = urlsplit(url)
    assert parts.netloc == "hub.example.edu" and parts.path == "/hub/user-redirect/git-pull"
    query = parse_qs(parts.query)
    assert query == {"repo": ["https://github.com/o/cnnbook"], "branch": ["main"],
                     "urlpath": ["lab/tree/cnnbook/notebooks/ko/03-convolution.ipynb"]}


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_staged_edition_has_every_page_the_run_note_and_the_launch_link(tmp_path, lang):
    _, notebooks = build._sources(lang)
    executed = {path: nbformat.read(path, as_version=4) for path in notebooks.values()}
    src = tmp_path / lang
    build.stage(lang, executed, src, hub_url="https://hub.example.edu", repo_url="https://github.com/o/cnnbook")
    names = sorted(p.name for p in (src / "notebooks").glob("*.ipynb"))
    assert names == sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    index = (src / "index.md").read_text(encoding="utf-8")
    assert "```{toctree}" in index and "notebooks/00-start-here" in index and "claims" in index
    nb = nbformat.read(src / "notebooks" / "03-convolution.ipynb", as_version=4)
    note = nb.cells[1].source
    assert "cnnbook-run-note" in note and "/hub/user-redirect/git-pull?" in note
    assert ("python -m cnnbook lab --lang ko" in note) == (lang == "ko")
    claims = (src / "claims.md").read_text(encoding="utf-8")
    from cnnbook.course.claims import CLAIMS
    assert claims.count("\n| C") == len(CLAIMS)
    css = (src / "_static" / "cnnbook-book.css").read_text()
    assert "@FONT_FACE@" not in css and "cnnbook-Hangul" in css
    figures = json.loads((src / FIGURES).read_text(encoding="utf-8"))
    assert figures == {}, "the notebooks are committed without outputs: no figure to describe"


def test_a_failing_notebook_is_named_with_its_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("raise ValueError('broken on purpose')")])
    path = tmp_path / "99-broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(NotebookFailed, match=r"99-broken.ipynb: a cell failed(.|\n)*broken on purpose"):
        run_notebook(str(path))


def test_the_cache_key_follows_the_notebook_and_the_code(tmp_path):
    path = tmp_path / "a.ipynb"
    path.write_text("{}")
    first = cache_key(path, "code-1")
    assert cache_key(path, "code-1") == first and cache_key(path, "code-2") != first
    path.write_text('{"x": 1}')
    assert cache_key(path, "code-1") != first


def test_the_command_refuses_a_folder_that_is_not_a_book_and_a_half_launch_link(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["book", str(tmp_path), "--no-cache"]) == 1
    assert "is not a book built here" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert main(["book", str(tmp_path / "new"), "--hub-url", "https://hub.example.edu"]) == 1
    assert "needs both --hub-url and --repo-url" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_an_installed_package_says_the_book_needs_a_clone(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "in_clone", lambda: False)
    with pytest.raises(ValueError, match="built from a clone of the repository"):
        build.build_book(tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_a_new_run_replaces_the_notebooks_older_runs_in_the_cache(tmp_path):
    import stat

    from cnnbook.course.book.execute import execute_all
    path = tmp_path / "nb" / "98-tiny.ipynb"
    path.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")]), path)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "nb-98-tiny-0123456789abcdef01234567.ipynb").write_text("{}")  # a run of an older version
    (cache / "nb-97-other-0123456789abcdef01234567.ipynb").write_text("{}")  # another notebook's run
    executed = execute_all([path], cache, jobs=1, log=lambda line: None)
    assert executed[path].cells[0].outputs[0]["text"] == "42\n"
    runs = sorted(p.name for p in cache.iterdir())
    assert len(runs) == 2 and "nb-97-other-0123456789abcdef01234567.ipynb" in runs
    fresh = next(cache.glob("nb-98-tiny-*.ipynb"))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask, "a cached run gets a new file's mode, not 0600"
    assert execute_all([path], cache, jobs=1, log=lambda line: None)[path].cells[0].outputs  # from the cache now


def test_the_book_records_a_figures_titles_and_describes_it_in_the_pages_language(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    code = ("import matplotlib.pyplot as plt\nfig, axes = plt.subplots(1, 3)\nfig.suptitle('Edges of $3\\\\times 3$')\n"
            "axes[0].set_title('vertical')\naxes[1].set_title('(1, 28, 28)')\nplt.show()")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Filters at work"),
                                         nbformat.v4.new_code_cell(code),
                                         nbformat.v4.new_code_cell("plt.plot([1, 2]);")])
    path = tmp_path / "97-figure.ipynb"
    nbformat.write(nb, path)
    ran = nbformat.reads(run_notebook(str(path))[1], as_version=4)
    assert ran.cells[1].execution_count == 1, "the preamble runs outside the history"
    meta = ran.cells[1].outputs[0].metadata["image/png"]["cnnbook"]
    assert meta == {"title": "Edges of $3\\times 3$", "panels": ["vertical", "(1, 28, 28)"]}
    described = figures.describe_figures(ran, "ko")
    png = base64.b64decode(ran.cells[1].outputs[0].data["image/png"])
    first = described[hashlib.sha256(png).hexdigest()]
    assert first["alt"] == "그림: Edges of 3 × 3 (패널: vertical)"  # a shape is no panel title
    assert first["width"] == figures.png_size(png)[0] > 100
    untitled = [d["alt"] for d in described.values() if d is not first]
    assert untitled == ["그림 — 절 “Filters at work”"]
    assert figures.alt_text(None, "Filters at work", "en") == "Figure in the section “Filters at work”"
    many = figures.alt_text({"title": "", "panels": [f"class {i}" for i in range(9)]}, "", "en")
    assert many == "Figure: class 0, class 1, class 2, class 3, class 4, class 5, and 3 more"
    with pytest.raises(ValueError, match="lang='fr'"):
        figures.alt_text(None, "", "fr")


def test_a_widget_picture_is_described_in_the_pages_language():
    models = {"i": {"model_name": "ImageModel", "state": {"format": "png"},
                    "buffers": [{"path": ["value"], "encoding": "base64", "data": "iVBORw0KGgo="}]}}
    cell = nbformat.v4.new_code_cell("explorer()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={VIEW: {"model_id": "i"}, "text/plain": "Image()"})]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 합성곱 탐색기"), cell],
                                  metadata=_state(models))
    freeze_widgets(nb, "ko")
    assert 'alt="위젯의 첫 그림 — 합성곱 탐색기"' in nb.cells[1].outputs[0]["data"]["text/html"]


@pytest.mark.skipif(not Path(build.FONT_PLACES[0]).is_file(), reason="fonts-nanum is not installed here")
def test_the_hangul_face_is_a_small_woff2_subset_with_no_empty_table(tmp_path):
    source = build.FONT_PLACES[0]
    assert "TSI3" in fonts.empty_tables(source), "Debian's NanumGothic.ttf has the empty table Chromium rejects"
    chars = fonts.hangul_in(["합성곱 (convolution), 스트라이드!", "한국어 ㄱ"])
    assert chars == "".join(sorted("합성곱스트라이드한국어ㄱ"))
    out = tmp_path / fonts.FILE
    size = fonts.subset_font(source, chars, out)
    assert out.read_bytes()[:4] == b"wOF2" and size < 20_000
    assert fonts.empty_tables(out) == []
    from fontTools.ttLib import TTFont
    assert {ord(c) for c in chars} <= set(TTFont(out).getBestCmap())
    with pytest.raises(ValueError, match="nothing to subset"):
        fonts.subset_font(source, "", out)


def test_an_svg_drawing_is_described_by_its_section_under_the_name_myst_nb_gives_its_file():
    import hashlib

    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from cnnbook.course.book.figures import describe_figures
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">\n<rect width="4" height="4"/>\n</svg>'
    cell = new_code_cell("explorer()", outputs=[new_output("display_data", data={"image/svg+xml": svg})])
    nb = new_notebook(cells=[new_markdown_cell("## 2. The output size"), cell])
    name = hashlib.sha256(os.linesep.join(svg.splitlines()).encode("utf-8")).hexdigest()
    assert describe_figures(nb, "en") == {name: {"alt": "Figure in the section “2. The output size”", "width": None}}
    assert describe_figures(nb, "ko")[name]["alt"] == "그림 — 절 “2. The output size”"
