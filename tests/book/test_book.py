"""The web book, built for real: ``python -m cnnbook book OUTDIR`` (run with ``pytest -m book -n 0 tests/book``).

One build per session, both editions, every notebook executed (cached by content in
``$CNNBOOK_BOOK_CACHE``, default ``artifacts/book-cache``). Then: every notebook has a page in both
languages, pages of notebooks with figures show them, every internal link and anchor resolves, every page has
the language switch, nothing is loaded from the network, the claims ledger and the search index are there,
the Korean pages carry their font, and in Chromium the index and one page per language load with no console
error and no request off the machine, Korean drawn with a real Hangul font, and search finds a term in both
languages.
"""
from __future__ import annotations

import html.parser
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from hangul_check import HANGUL_RENDERS
from process_helpers import check_no_leftovers, marked_env, stop_popen

from cnnbook.course.claims import CLAIMS

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
EDITIONS = {"en": "", "ko": "ko/"}
CHROMIUM = os.environ.get("CNNBOOK_CHROMIUM", "/usr/bin/chromium")
HANGUL = re.compile("[\uac00-\ud7a3]")
CACHE = Path(os.environ.get("CNNBOOK_BOOK_CACHE", ROOT / "artifacts" / "book-cache"))  # executed runs


class Page(html.parser.HTMLParser):
    """The links, resources and ids of one HTML page."""

    def __init__(self):
        super().__init__()
        self.links, self.resources, self.ids, self.imgs = [], [], set(), 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for key in ("src", "href") if tag in ("script", "img", "link", "source", "iframe") else ():
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") in ("canonical",)):
                self.resources.append(attrs[key])
        if tag == "img":
            self.imgs += 1


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """``(folder, build log, seconds)`` of one build of the whole book."""
    out = tmp_path_factory.mktemp("book") / "site"
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "cnnbook", "book", str(out), "--cache", str(CACHE)],
                            cwd=ROOT, env=marked_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=1500)
    finally:
        stop_popen(proc)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, f"the book did not build (exit {proc.returncode}):\n{log[-4000:]}"
    print(f"book built in {seconds:.0f} s:\n{log[-600:]}")
    yield out, log, seconds
    check_no_leftovers()


def all_pages(out: Path):
    return sorted(p for p in out.rglob("*.html") if "_static" not in p.parts)


def test_every_notebook_has_a_page_in_both_languages(book):
    out, log, _ = book
    for lang, prefix in EDITIONS.items():
        for name in NAMES:
            page = out / f"{prefix}notebooks/{name}.html"
            assert page.is_file(), f"no {lang} page for {name}"
        title = re.search(r"<title>(.*?)</title>", (out / f"{prefix}notebooks/03-convolution.html").read_text())[1]
        assert bool(HANGUL.search(title)) == (lang == "ko"), title
    for lang in EDITIONS:
        assert re.search(rf"^{lang}: \d+ pages, {len(NAMES)} notebooks", log, re.M), log[-600:]


def _figures(nb_path: Path) -> int:
    nb = nbformat.read(nb_path, as_version=4)
    return sum(1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))


def test_pages_show_the_figures_their_notebooks_draw(book):
    """Each page holds at least as many pictures as its notebook's run drew (cached runs are the ones used)."""
    out, _, _ = book
    with_figures = 0
    for lang, prefix in EDITIONS.items():
        folder = "ko" if lang == "ko" else "notebooks"
        for name in NAMES:
            runs = sorted(CACHE.glob(f"{folder}-{name}-*.ipynb"), key=lambda p: p.stat().st_mtime)
            assert runs, f"no executed {lang} {name} in the cache {CACHE}"
            drawn = _figures(runs[-1])
            shown = parse(out / f"{prefix}notebooks/{name}.html").imgs
            assert shown >= drawn, f"{lang} {name}: the run drew {drawn} figures, the page shows {shown}"
            with_figures += drawn > 0
    assert with_figures >= 20, f"only {with_figures} notebook pages with figures"


def test_every_internal_link_and_anchor_resolves(book):
    out, _, _ = book
    pages = {p: parse(p) for p in all_pages(out)}
    broken = []
    for path, page in pages.items():
        for href in page.links + page.resources:
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("data:", "mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.exists():
                broken.append(f"{path.relative_to(out)}: {href}")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if parts.fragment not in ids:
                    broken.append(f"{path.relative_to(out)}: {href} (no id {parts.fragment!r})")
    assert not broken, f"{len(broken)} broken links, e.g.:\n" + "\n".join(broken[:20])
    assert len(pages) >= 2 * (len(NAMES) + 3)


def test_no_page_loads_anything_from_the_network(book):
    out, _, _ = book
    remote = []
    for path in all_pages(out):
        for src in parse(path).resources:
            if urlsplit(src).scheme in ("http", "https") or src.startswith("//"):
                remote.append(f"{path.relative_to(out)}: {src}")
    for css in out.rglob("*.css"):
        remote += [f"{css.relative_to(out)}: {m}" for m in re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)",
                                                                        css.read_text(errors="replace"))]
    assert not remote, "\n".join(remote[:20])


def test_every_page_has_the_language_switch_to_the_same_page(book):
    out, _, _ = book
    for lang, prefix in EDITIONS.items():
        for path in all_pages(out / prefix if prefix else out):
            rel = path.relative_to(out / prefix if prefix else out).as_posix()
            if lang == "en" and rel.startswith("ko/"):
                continue
            text = path.read_text(encoding="utf-8")
            match = re.search(r'class="cnnbook-lang-switch".*?<a href="([^"]+)"', text, re.S)
            assert match, f"{lang} {rel}: no language switch"
            target = (path.parent / match[1]).resolve()
            other_rel = target.relative_to(out.resolve()).as_posix()
            same = f"ko/{rel}" if lang == "en" else rel
            front = "ko/index.html" if lang == "en" else "index.html"
            # the same page in the other edition, or its front page where only one edition has the page
            assert other_rel == (same if (out / same).is_file() else front), (lang, rel, other_rel)


def test_the_claims_page_and_the_front_page_in_both_languages(book):
    out, _, _ = book
    for lang, prefix in EDITIONS.items():
        claims = (out / f"{prefix}claims.html").read_text(encoding="utf-8")
        assert all(f">{c.id}<" in claims for c in CLAIMS)
        front = (out / f"{prefix}index.html").read_text(encoding="utf-8")
        assert "03-convolution.html" in front and "claims.html" in front
    assert "성립하지 않음" in (out / "ko/claims.html").read_text(encoding="utf-8")
    assert (out / "ko/glossary.html").is_file() and (out / "lab-guide.html").is_file()


def test_search_indexes_both_languages_and_the_korean_pages_carry_their_font(book):
    out, _, _ = book
    def terms(path):
        text = path.read_text(encoding="utf-8")
        return json.loads(text[text.index("(") + 1:text.rindex(")")])["terms"]
    en, ko = terms(out / "searchindex.js"), terms(out / "ko/searchindex.js")
    assert "convolut" in en and any(t.startswith("합성곱") for t in ko), sorted(ko)[:20]
    font = out / "ko" / "_static" / "fonts" / "NanumGothic.ttf"
    assert font.is_file() and font.stat().st_size > 1_000_000, "no bundled Hangul font: install fonts-nanum"
    css = (out / "ko" / "_static" / "cnnbook-book.css").read_text()
    assert 'url("fonts/NanumGothic.ttf")' in css


def test_widgets_are_still_pictures_with_a_note(book):
    out, _, _ = book
    page = (out / "notebooks/03-convolution.html").read_text(encoding="utf-8")
    assert "cnnbook-widget-still" in page and "open this notebook in JupyterLab to use it" in page
    assert "application/vnd.jupyter.widget" not in page
    assert "대화형 위젯" in (out / "ko/notebooks/03-convolution.html").read_text(encoding="utf-8")


# ---- in Chromium -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}; install Debian's chromium or set CNNBOOK_CHROMIUM")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield browser
        finally:
            browser.close()


def _visit(chromium, url):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors, remote = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else remote.append(r.url))
    page.goto(url)
    page.wait_for_load_state("load")
    return context, page, errors, remote


@pytest.mark.parametrize("rel", ["index.html", "notebooks/04-stride-padding-output-size.html", "ko/index.html",
                                 "ko/notebooks/04-stride-padding-output-size.html"])
def test_pages_load_in_chromium_without_errors_or_network(book, chromium, rel):
    out, _, _ = book
    context, page, errors, remote = _visit(chromium, (out / rel).as_uri())
    try:
        page.wait_for_timeout(1000)
        if "04-" in rel:  # the one display formula, typeset by the bundled MathJax
            page.wait_for_selector("mjx-container", timeout=20_000)
        if rel.startswith("ko/"):  # the first heading or paragraph with Hangul is drawn in the bundled font
            text = page.locator("article h1, article p").filter(has_text=HANGUL).first
            family = text.evaluate("e => getComputedStyle(e).fontFamily")
            assert "NanumGothic" in family, family
            assert page.evaluate("() => document.fonts.check('16px NanumGothic', '한')")
            assert page.evaluate(HANGUL_RENDERS, family), f"Hangul drawn as boxes in {family}"
        assert not errors, errors
        assert not remote, remote
    finally:
        context.close()


@pytest.mark.parametrize("lang,query,expect", [("en", "receptive", "05-receptive-field"),
                                               ("ko", "수용장", "05-receptive-field")])
def test_search_finds_a_term_in_each_language(book, chromium, lang, query, expect):
    out, _, _ = book
    prefix = EDITIONS[lang]
    context, page, errors, _ = _visit(chromium, (out / f"{prefix}search.html").as_uri() + f"?q={query}")
    try:
        page.wait_for_selector(f"#search-results a[href*='{expect}']", timeout=30_000)
        assert not errors, errors
    finally:
        context.close()
