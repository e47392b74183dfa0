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

from cnnbook.course.book import fonts
from cnnbook.course.book.figures import FIGURES
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
    for prefix in EDITIONS.values():
        claims = (out / f"{prefix}claims.html").read_text(encoding="utf-8")
        assert all(f">{c.id}<" in claims for c in CLAIMS)
        front = (out / f"{prefix}index.html").read_text(encoding="utf-8")
        assert "03-convolution.html" in front and "claims.html" in front
    assert "성립하지 않음" in (out / "ko/claims.html").read_text(encoding="utf-8")
    assert (out / "ko/glossary.html").is_file() and (out / "lab-guide.html").is_file()


def test_search_indexes_both_languages_and_each_edition_carries_its_hangul_face(book):
    out, _, _ = book
    def terms(path):
        text = path.read_text(encoding="utf-8")
        return json.loads(text[text.index("(") + 1:text.rindex(")")])["terms"]
    en, ko = terms(out / "searchindex.js"), terms(out / "ko/searchindex.js")
    assert "convolut" in en and any(t.startswith("합성곱") for t in ko), sorted(ko)[:20]
    for prefix in EDITIONS.values():
        face = out / prefix / "_static" / "fonts" / fonts.FILE
        assert face.is_file(), f"no bundled Hangul face {face}: install fonts-nanum"
        assert face.read_bytes()[:4] == b"wOF2" and fonts.empty_tables(face) == []
        assert face.stat().st_size < 600_000, face.stat().st_size
        css = (out / prefix / "_static" / "cnnbook-book.css").read_text()
        assert f'url("fonts/{fonts.FILE}") format("woff2")' in css and "unicode-range: U+1100-11FF" in css
    assert not list(out.rglob("*.ttf")), "the whole TrueType font is no longer shipped"


def test_the_site_has_nothing_beside_it(book):
    out, _, _ = book
    assert not list(out.rglob("*.map")), "source maps are left out unless --source-maps"
    assert not [p for p in out.rglob("*.js") if "sourceMappingURL=" in p.read_text(errors="replace")[-300:]]
    assert not list(out.rglob("jupyter_execute")) and not list(out.rglob("_sources"))
    assert not list(out.rglob(FIGURES))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"the site: {size / 1e6:.1f} MB")


def test_every_figure_is_described_and_opens_at_full_size(book):
    out, _, _ = book
    described = linked = 0
    for lang, prefix in EDITIONS.items():
        for name in NAMES:
            text = (out / f"{prefix}notebooks/{name}.html").read_text(encoding="utf-8")
            for tag in re.findall(r"<img [^>]*>", text):
                alt = re.search(r'alt="([^"]*)"', tag)
                assert alt and alt[1].strip(), f"{lang} {name}: a picture without alt text: {tag[:200]}"
                assert not re.search(r"\.(png|jpe?g|svg)$|_images/|[0-9a-f]{32}", alt[1]), f"{lang} {name}: {alt[1]}"
                assert bool(HANGUL.search(alt[1])) == (lang == "ko") or lang == "en", f"{lang} {name}: {alt[1]}"
                described += 1
            for href in re.findall(r'<a [^>]*href="([^"]*_images/[^"]+\.png)"[^>]*>\s*<img [^>]*>', text):
                assert (out / f"{prefix}notebooks" / href).resolve().is_file(), href
                linked += 1
            if lang == "ko":
                assert "the widget's picture" not in text
    assert described >= 100 and linked >= 80, (described, linked)
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


FACE_STATUS = f"""async () => {{
    await document.fonts.ready;
    return [...document.fonts].filter(f => f.family.replace(/"/g, '') === '{fonts.FAMILY}').map(f => f.status);
}}"""


def _visit(chromium, url, viewport=None):
    context = chromium.new_context(viewport=viewport or {"width": 1280, "height": 900})
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
        if rel.startswith("ko/"):  # the first heading or paragraph with Hangul is drawn in the bundled face
            text = page.locator("article h1, article p").filter(has_text=HANGUL).first
            family = text.evaluate("e => getComputedStyle(e).fontFamily")
            assert fonts.FAMILY in family, family
            assert page.evaluate(FACE_STATUS) == ["loaded"]
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


# ---- on a phone, with no Korean font on the machine, and audited by axe-core ---------------------------


@pytest.mark.parametrize("lang", list(EDITIONS))
def test_on_a_phone_the_menu_opens_and_leads_to_another_notebook_and_search_opens(book, chromium, lang):
    out, _, _ = book
    prefix = EDITIONS[lang]
    context, page, errors, remote = _visit(chromium, (out / f"{prefix}notebooks/08-training-a-cnn.html").as_uri(),
                                           viewport={"width": 390, "height": 844})
    try:
        wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"the page scrolls sideways by {wide} px on a phone"
        page.locator(".primary-toggle:visible").first.click()
        menu = page.locator("#pst-primary-sidebar-modal")
        menu.locator("a[href*='05-receptive-field']").first.click(timeout=5_000)
        page.wait_for_url("**/notebooks/05-receptive-field.html")
        page.locator(".secondary-toggle:visible").first.click()
        assert page.locator("#pst-secondary-sidebar-modal").evaluate("d => d.open"), "the contents do not open"
        page.keyboard.press("Escape")
        page.locator(".search-button:visible").first.click()
        search = page.locator("#pst-search-dialog input[name=q]")
        search.wait_for(state="visible", timeout=5_000)
        assert search.evaluate("e => e === document.activeElement"), "the search field did not get the focus"
        placeholder = search.get_attribute("placeholder")
        assert bool(HANGUL.search(placeholder)) == (lang == "ko"), placeholder
        assert not errors, errors
        assert not remote, remote
    finally:
        context.close()


NO_HANGUL_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def test_korean_pages_draw_hangul_with_the_books_face_where_no_korean_font_is_installed(book, chromium, tmp_path):
    """Chromium with a fontconfig that lists no Hangul font: only the bundled face can draw Korean."""
    out, _, _ = book
    conf = tmp_path / "fonts.conf"
    conf.write_text(NO_HANGUL_FONTS.format(cache=tmp_path / "cache"))
    # a second Chromium from the module's Playwright (a second sync_playwright() in one thread is refused)
    if True:
        browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                               env={**os.environ, "FONTCONFIG_FILE": str(conf)},
                                               args=["--no-sandbox", "--disable-gpu",
                                                     "--disable-background-networking"])
        try:
            page = browser.new_page()
            page.goto((out / "ko/notebooks/03-convolution.html").as_uri())
            page.wait_for_load_state("load")
            assert not page.evaluate(HANGUL_RENDERS, "sans-serif"), "a system Hangul font stands in: no proof"
            assert page.evaluate(FACE_STATUS) == ["loaded"]
            assert page.evaluate(HANGUL_RENDERS, f'"{fonts.FAMILY}", sans-serif')
            widths = page.evaluate(f"""() => {{
                const ctx = document.createElement('canvas').getContext('2d');
                const width = (font) => {{ ctx.font = font; return ctx.measureText('합성곱 신경망').width; }};
                return [width('20px "{fonts.FAMILY}"'), width('20px sans-serif')];
            }}""")
            assert widths[0] != widths[1], f"Hangul measures the same with and without the face: {widths}"
            en = browser.new_page()
            fetched = []
            en.on("request", lambda r: fetched.append(r.url))
            en.goto((out / "notebooks/05-receptive-field.html").as_uri())
            en.wait_for_load_state("load")
            assert not [u for u in fetched if "ko/_static/fonts" in u or u.endswith(".ttf")], fetched
        finally:
            browser.close()


AXE = Path(os.environ.get("CNNBOOK_AXE", ROOT / ".book-node/node_modules/axe-core/axe.min.js"))


@pytest.mark.parametrize("rel", [f"{prefix}{page}" for prefix in EDITIONS.values() for page in
                                 ["index.html", "notebooks/03-convolution.html", "notebooks/08-training-a-cnn.html",
                                  "notebooks/11-cnn-limitations.html"]])
def test_axe_core_finds_no_serious_or_critical_violation(book, chromium, rel):
    if not AXE.is_file():
        pytest.fail(f"no axe-core at {AXE}: npm install --prefix .book-node axe-core@4 (as .ci/run does), "
                    "or set CNNBOOK_AXE")
    out, _, _ = book
    context, page, errors, _ = _visit(chromium, (out / rel).as_uri())
    try:
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        violations = page.evaluate("""async () => (await axe.run(document)).violations.map(
            v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
        print(rel, [(v["id"], v["impact"]) for v in violations])
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not bad, bad
        assert page.evaluate("() => document.documentElement.lang") == ("ko" if rel.startswith("ko/") else "en")
    finally:
        context.close()


def test_a_first_visit_to_notebook_08_loads_what_it_shows(book, chromium):
    out, _, _ = book
    context, page, _, _ = _visit(chromium, "about:blank")
    fetched = []
    page.on("request", lambda r: fetched.append(r.url))
    try:
        page.goto((out / "notebooks/08-training-a-cnn.html").as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(1000)
        files = {Path(unquote(urlsplit(u).path)) for u in fetched if u.startswith("file:")}
        total = sum(f.stat().st_size for f in files if f.is_file())
        print(f"a first visit to notebook 08: {len(files)} files, {total / 1e6:.2f} MB")
        assert not [f for f in files if f.suffix in (".ttf", ".map")], files
        assert total < 5_000_000, f"{total / 1e6:.1f} MB"
    finally:
        context.close()
