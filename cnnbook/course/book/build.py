"""The web book's build, :func:`build_book` (the steps are described in :mod:`cnnbook.course.book`): stage one
Sphinx project per edition (:func:`stage`), run Sphinx on each, prune what no page loads, bundle the Hangul face.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnnbook.course.book import fonts
from cnnbook.course.book.execute import execute_all
from cnnbook.course.book.figures import FIGURES, describe_figures
from cnnbook.course.book.stills import freeze_widgets
from cnnbook.course.student import default_source
from cnnbook.data.workbook import CLONE, in_clone
from cnnbook.serialize import atomic_folder

HERE = Path(__file__).resolve().parent
EDITIONS = ("en", "ko")
MARKER = ".cnnbook-book"
FONT_NAME = "NanumGothic.ttf"  # the font the book's Hangul face is cut from
FONT_PLACES = (Path("/usr/share/fonts/truetype/nanum") / FONT_NAME,)
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)\s]+)\)")

TEXT = {
    "en": {
        "run_title": "Run this notebook",
        "run": "This page shows the notebook as it ran, every figure and number included. To run it yourself, "
               "open the workbook in JupyterLab from a clone of the repository: `python -m cnnbook lab` "
               "(your own working copy, exercises as stubs) or `python -m cnnbook lab --solutions` (this "
               "edition, solutions included), then open `{name}`.",
        "launch": "Or open it on the class hub: [launch {name} in JupyterLab]({url}).",
        "notebooks": "Notebooks", "more": "More", "claims_title": "The lecture notes' claims, audited",
        "claims_intro": "Every claim of the lecture notes this workbook follows, the notebook that measures "
                        "it and the verdict (`python -m cnnbook claims`).",
        "cols": ("id", "notebook", "verdict", "claim", "what is measured"), "repo_file": "in the repository",
    },
    "ko": {
        "run_title": "이 노트북 실행하기",
        "run": "이 페이지는 노트북을 실행한 결과를 그림과 숫자까지 그대로 보여 줍니다. 직접 실행하려면 저장소를 "
               "클론한 폴더에서 JupyterLab으로 여세요: `python -m cnnbook lab --lang ko` (연습 문제가 빈칸으로 "
               "남은 나만의 작업 사본) 또는 `python -m cnnbook lab --lang ko --solutions` (풀이가 들어 있는 이 "
               "판), 그다음 `{name}`을 엽니다.",
        "launch": "수업 허브에서 열 수도 있습니다: [{name}을 JupyterLab에서 열기]({url}).",
        "notebooks": "노트북", "more": "더 보기", "claims_title": "강의 노트의 주장, 측정으로 확인",
        "claims_intro": "이 워크북이 따르는 강의 노트의 모든 주장과 그것을 측정하는 노트북, 판정입니다 "
                        "(`python -m cnnbook claims --lang ko`).",
        "cols": ("번호", "노트북", "판정", "주장", "측정하는 것"), "repo_file": "저장소의 파일",
    },
}


@dataclass
class Book:
    """What :func:`build_book` made: the folder, and per edition its page count and notebook pages."""

    outdir: Path
    pages: dict = field(default_factory=dict)
    notebooks: dict = field(default_factory=dict)
    stills: dict = field(default_factory=dict)
    font: Path | None = None
    font_bytes: dict = field(default_factory=dict)


def _sources(lang: str) -> dict:
    """Where each page of an edition comes from (repository paths), in reading order."""
    nb_dir = default_source(lang)
    root = CLONE
    pages = {"index.md": root / ("README.ko.md" if lang == "ko" else "README.md")}
    guide = root / "docs" / ("LAB-GUIDE.ko.md" if lang == "ko" else "LAB-GUIDE.md")
    if guide.is_file():
        pages["lab-guide.md"] = guide
    if lang == "ko" and (nb_dir / "glossary.md").is_file():
        pages["glossary.md"] = nb_dir / "glossary.md"
    notebooks = {f"notebooks/{p.name}": p for p in sorted(nb_dir.glob("[0-9][0-9]-*.ipynb"))}
    return pages, notebooks


def find_font(explicit=None) -> Path | None:
    """The Hangul font the Korean pages carry: ``explicit``, ``$CNNBOOK_BOOK_FONT``, or Debian's fonts-nanum."""
    for candidate in [explicit, os.environ.get("CNNBOOK_BOOK_FONT"), *FONT_PLACES]:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def hub_link(hub_url: str, repo_url: str, path: str, branch: str = "main") -> str:
    """An nbgitpuller link that clones ``repo_url`` on the hub and opens ``path`` in JupyterLab."""
    from urllib.parse import quote, urlencode
    folder = repo_url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    query = urlencode({"repo": repo_url, "branch": branch, "urlpath": f"lab/tree/{folder}/{path}"}, quote_via=quote)
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def _rewrite_links(text: str, origin: Path, page: str, page_of: dict, lang: str, repo_url: str | None) -> str:
    """Links in ``text`` (from repository file ``origin``, staged as ``page``) pointed at the book's pages.

    ``page_of`` maps resolved repository paths to staged page names of this edition, and ``("other", path)``
    to pages of the other edition. External links and in-page anchors stay.
    """
    def replace(match):
        text_, target = match["text"], match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            return match[0]
        path_part, _, anchor = target.partition("#")
        resolved = (origin.parent / path_part).resolve()
        here = Path(page).parent
        if resolved in page_of:
            rel = os.path.relpath(page_of[resolved], here)
            return f"[{text_}]({rel}{'#' + anchor if anchor else ''})"
        if ("other", resolved) in page_of:
            other = page_of[("other", resolved)]
            prefix = "ko/" if lang == "en" else "../"
            rel = os.path.relpath(prefix + other, here).replace(".md", ".html").replace(".ipynb", ".html")
            return f'<a href="{rel}{"#" + anchor if anchor else ""}">{text_}</a>'
        try:
            repo_path = resolved.relative_to(CLONE).as_posix()
        except ValueError:
            return text_
        if repo_url:
            return f"[{text_}]({repo_url.rstrip('/')}/blob/main/{repo_path})"
        return f"{text_} (`{repo_path}`, {TEXT[lang]['repo_file']})"
    return _LINK.sub(replace, text)


def _claims_page(lang: str) -> str:
    from cnnbook.course.claims import CLAIMS, ledger_text, verdict_counts
    words = TEXT[lang]
    counts = ", ".join(f"**{n}** {ledger_text(v, lang)}" for v, n in verdict_counts().items())
    lines = [f"# {words['claims_title']}", "", words["claims_intro"], "", counts, "",
             "| " + " | ".join(words["cols"]) + " |", "|" + "---|" * len(words["cols"])]
    for c in CLAIMS:
        row = c.as_dict(lang)
        cells = [c.id, f"[{c.notebook[:2]}](notebooks/{c.notebook})", ledger_text(c.verdict, lang), row["claim"],
                 row["measured"]]
        lines.append("| " + " | ".join(str(x).replace("|", "\\|").replace("\n", " ") for x in cells) + " |")
    return "\n".join(lines) + "\n"


def _toc(notebooks, extra, words) -> str:
    nb_lines = "\n".join(p.removesuffix(".ipynb") for p in notebooks)
    extra_lines = "\n".join(p.removesuffix(".md") for p in extra)
    return (f"\n\n```{{toctree}}\n:hidden:\n:caption: {words['notebooks']}\n\n{nb_lines}\n```\n\n"
            f"```{{toctree}}\n:hidden:\n:caption: {words['more']}\n\n{extra_lines}\n```\n")


def stage(lang: str, executed: dict, srcdir: Path, hub_url=None, repo_url=None, font=None) -> dict:
    """Write edition ``lang``'s Sphinx project into ``srcdir``; return ``{page: number of widget stills}``."""
    words = TEXT[lang]
    pages, notebooks = _sources(lang)
    other_pages, other_notebooks = _sources("ko" if lang == "en" else "en")
    page_of = {path.resolve(): page for page, path in {**pages, **notebooks}.items()}
    page_of.update({("other", path.resolve()): page for page, path in {**other_pages, **other_notebooks}.items()})
    srcdir.mkdir(parents=True)
    shutil.copy(HERE / "conf.py", srcdir / "conf.py")
    shutil.copytree(HERE / "_templates", srcdir / "_templates")
    shutil.copytree(HERE / "_static", srcdir / "_static")
    css = srcdir / "_static" / "cnnbook-book.css"  # the Hangul face: a subset written after Sphinx (fonts.py)
    face = (f'@font-face {{\n  font-family: "{fonts.FAMILY}";\n  src: url("fonts/{fonts.FILE}") format("woff2");\n'
            f"  unicode-range: {fonts.UNICODE_RANGE};\n  font-display: swap;\n}}\n") if font is not None else ""
    css.write_text(css.read_text(encoding="utf-8").replace("@FONT_FACE@\n", face), encoding="utf-8")
    extra = ["claims.md", *[p for p in pages if p != "index.md"]]
    for page, origin in pages.items():
        text = _rewrite_links(origin.read_text(encoding="utf-8"), origin, page, page_of, lang, repo_url)
        if page == "index.md":
            text += _toc(notebooks, extra, words)
        (srcdir / page).write_text(text, encoding="utf-8")
    (srcdir / "claims.md").write_text(_claims_page(lang), encoding="utf-8")
    stills, figures = {}, {}
    (srcdir / "notebooks").mkdir()
    for page, origin in notebooks.items():
        nb = copy.deepcopy(executed[origin])
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = _rewrite_links(cell.source, origin, page, page_of, lang, repo_url)
        note = [words["run"].format(name=origin.name)]
        if hub_url and repo_url:
            repo_path = origin.resolve().relative_to(CLONE).as_posix()
            note.append(words["launch"].format(name=origin.name, url=hub_link(hub_url, repo_url, repo_path)))
        run_cell = nbformat.v4.new_markdown_cell("```{admonition} " + words["run_title"]
                                                 + "\n:class: cnnbook-run-note\n\n"
                                                 + "\n\n".join(note) + "\n```")
        nb.cells.insert(1, run_cell)
        stills[page] = freeze_widgets(nb, lang)
        figures.update(describe_figures(nb, lang))
        nbformat.write(nb, srcdir / page)
    (srcdir / FIGURES).write_text(json.dumps(figures, ensure_ascii=False, indent=0), encoding="utf-8")
    return stills


def build_book(outdir, langs=EDITIONS, jobs: int = 2, cache=None, hub_url=None, repo_url=None, font=None,
               force: bool = False, source_maps: bool = False, log=print) -> Book:
    """Build the web book into ``outdir`` (English there, Korean in ``outdir/ko``); return a :class:`Book`.

    ``cache``: folder for executed notebooks (``None``: run everything). ``force``: replace a non-empty
    ``outdir`` that is not an earlier book. ``source_maps``: keep the themes' ``.map`` files (for debugging
    their scripts; 7 MB). Raises ``ValueError`` for a bad choice, ``FileExistsError`` for
    a folder that is not a book, :class:`~cnnbook.course.book.execute.NotebookFailed` for a failing notebook
    and ``RuntimeError`` when Sphinx fails (with its last lines).
    """
    langs = tuple(langs)
    bad = [lang for lang in langs if lang not in EDITIONS]
    if bad or not langs or langs[0] != "en":
        raise ValueError(f"langs={langs!r}: the book has English first and optionally Korean: ('en', 'ko')")
    if bool(hub_url) != bool(repo_url):
        raise ValueError("a launch link needs both --hub-url and --repo-url (the repository the hub clones)")
    if not in_clone():
        raise ValueError("the web book is built from a clone of the repository (it uses README.md and docs/, "
                         "which an installed package does not carry): git clone it, "
                         "`pip install -e \".[book]\"`, then python -m cnnbook book OUTDIR there")
    missing = missing_tools()
    if missing:
        extra = "[book,torch]" if "torch" in missing else "[book]"
        raise ValueError(f"the web book needs {', '.join(missing)}, not installed here: "
                         f"`pip install -e \".{extra}\"` in the clone adds them (notebook 13 runs PyTorch)")
    outdir = Path(outdir).resolve()
    if outdir.exists() and (not outdir.is_dir() or (any(outdir.iterdir()) and not (outdir / MARKER).exists()
                                                    and not force)):
        raise FileExistsError(f"{outdir} exists and is not a book built here; choose an empty or new folder, "
                              "or pass --force to replace it")
    font = find_font(font)
    if font is None:
        log("warning: no Hangul font to bundle (install Debian's fonts-nanum or pass --font FILE); "
            "Hangul on the pages will use the reader's own fonts")
    book = Book(outdir, font=font)
    all_notebooks = [path for lang in langs for path in _sources(lang)[1].values()]
    executed = execute_all(all_notebooks, Path(cache) if cache else None, jobs=jobs, log=log)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".cnnbook-book-", dir=outdir.parent) as scratch, \
            atomic_folder(outdir) as html_root:  # the sources and doctrees in scratch, the pages in html_root
        work = Path(scratch)
        for lang in langs:
            src = work / "src" / lang
            book.stills[lang] = stage(lang, executed, src, hub_url, repo_url, font)
            target = html_root if lang == "en" else html_root / lang
            other = "ko" if lang == "en" else "en"
            _sphinx(src, target, work / "doctrees" / lang, lang, log, other_pages=_docnames(other))
            _prune(target, source_maps)
            if font is not None:
                book.font_bytes[lang] = _bundle_font(font, target)
            book.pages[lang] = sorted(p.relative_to(target).as_posix() for p in target.rglob("*.html")
                                      if not p.relative_to(target).as_posix().startswith(("ko/", "_")))
            book.notebooks[lang] = [p for p in book.pages[lang] if p.startswith("notebooks/")]
        shutil.rmtree(html_root / "jupyter_execute", ignore_errors=True)  # MyST-NB's, of the edition in ko/
        (html_root / MARKER).write_text(json.dumps({"langs": list(langs)}) + "\n", encoding="utf-8")
    return book


MATHJAX_KEEP = ("tex-chtml.js", "output/chtml/fonts")
_SOURCE_MAP_COMMENT = re.compile(r"\n?(//# sourceMappingURL=\S+|/\*# sourceMappingURL=\S+ \*/)\s*$")


def _bundle_font(font: Path, html: Path) -> int:
    """Write the edition's Hangul face (the characters its pages and search index show) into ``html``;
    return its size in bytes (0 when the edition shows no Hangul and the style sheet's face is dropped)."""
    texts = (path.read_text(encoding="utf-8", errors="replace") for pattern in ("*.html", "searchindex.js")
             for path in html.rglob(pattern) if not path.relative_to(html).as_posix().startswith("ko/"))
    chars = fonts.hangul_in(texts)
    if not chars:
        return 0
    return fonts.subset_font(font, chars, html / "_static" / "fonts" / fonts.FILE)


def _prune(html: Path, source_maps: bool = False) -> None:
    """Drop what no page loads: MyST-NB's copies of the executed notebooks and their images (the pages use
    ``_images/``), the page sources, the staged figure descriptions, the parts of MathJax other than the
    TeX-to-HTML bundle and its fonts (sphinx-mathjax-offline copies all of MathJax, 24 MB, for each edition),
    and, unless ``source_maps``, the themes' source maps and the comments that point at them."""
    for name in ("jupyter_execute", "_sources"):
        shutil.rmtree(html / name, ignore_errors=True)
    for name in (".buildinfo", FIGURES):
        (html / name).unlink(missing_ok=True)
    if not source_maps:
        for path in list(html.rglob("*.map")):
            if not path.relative_to(html).as_posix().startswith("ko/"):
                path.unlink()
        for path in [*html.rglob("*.js"), *html.rglob("*.css")]:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            if "sourceMappingURL=" in text[-300:]:
                path.write_text(_SOURCE_MAP_COMMENT.sub("", text) + "\n", encoding="utf-8", errors="surrogateescape")
    mathjax = html / "_static" / "mathjax"
    if mathjax.is_dir():
        for path in sorted(mathjax.rglob("*"), reverse=True):
            rel = path.relative_to(mathjax).as_posix()
            keep = any(rel == k or rel.startswith(k + "/") or k.startswith(rel + "/") for k in MATHJAX_KEEP)
            if not keep:
                shutil.rmtree(path) if path.is_dir() else path.unlink()


def _docnames(lang: str) -> list[str]:
    """The page names (Sphinx docnames) of an edition, with the pages Sphinx makes itself."""
    pages, notebooks = _sources(lang)
    return [p.rsplit(".", 1)[0] for p in [*pages, *notebooks, "claims.md"]] + ["search", "genindex"]


BOOK_TOOLS = ("sphinx", "myst_nb", "sphinx_book_theme", "sphinx-mathjax-offline", "nbclient", "fontTools",
              "brotli", "torch")  # as Python imports them
"""The modules the book's build imports (the ``[book]`` extra), and PyTorch, which notebook 13 runs (``[torch]``)."""


def missing_tools() -> list[str]:
    """The modules of :data:`BOOK_TOOLS` that are not installed (the learner's install has none of them)."""
    return [name for name in BOOK_TOOLS if importlib.util.find_spec(name) is None]


def _sphinx(src: Path, out: Path, doctrees: Path, lang: str, log, other_pages=()) -> None:
    env = dict(os.environ, CNNBOOK_BOOK_LANG=lang, CNNBOOK_BOOK_OTHER_PAGES=",".join(other_pages))
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(doctrees), str(src), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=1200)
    warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    if proc.returncode != 0:
        raise RuntimeError(f"Sphinx failed on the {lang} edition (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    for line in warnings:
        log(f"sphinx ({lang}): {line}")
