"""Sphinx configuration of the web book (``python -m cnnbook book``), one build per edition.

:mod:`cnnbook.course.book` stages each edition's pages in a folder and runs Sphinx with this file; the
edition comes in through the environment (``CNNBOOK_BOOK_LANG``: ``en`` or ``ko``). The notebooks arrive
executed (``nb_execution_mode = "off"``), their widgets already turned into still pictures, so no page
needs a script from the network: MathJax is served from the book itself (``sphinx_mathjax_offline``) and
MyST-NB's ipywidgets scripts are switched off.

Each notebook picture gets the alt text and the width in pixels that the book staged for it
(``_cnnbook_figures.json``, :mod:`cnnbook.course.book.figures`); with a width, Sphinx links the picture to
its file, so a reader on a phone can open it at full size. ``cnnbook-book.js`` works around the theme's
phone menus (see the file).
"""
import json
import os
from pathlib import Path

LANG = os.environ.get("CNNBOOK_BOOK_LANG", "en")

project = "cnnbook"
author = "cnnbook"
language = LANG
extensions = ["myst_nb", "sphinx-mathjax-offline"]  # MathJax served from the book itself
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["cnnbook-book.css"]
html_js_files = ["cnnbook-book.js"]
html_theme = "sphinx_book_theme"
html_title = "cnnbook" if LANG == "en" else "cnnbook 한국어판"
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
# the pages the other edition has too: the language switch links to the same page there, else to its front page
OTHER_PAGES = [p for p in os.environ.get("CNNBOOK_BOOK_OTHER_PAGES", "").split(",") if p]
WORDS = {  # the frame's own words (the theme has no Korean for them)
    "en": {"search": "Search", "home": "cnnbook: front page", "search_bar": "Search this book…", "by": "By cnnbook"},
    "ko": {"search": "검색", "home": "cnnbook 첫 페이지", "search_bar": "이 책에서 검색…", "by": "만든 이: cnnbook"},
}[LANG]
html_context = {"cnnbook_lang": LANG, "cnnbook_other_pages": OTHER_PAGES, "default_mode": "light",
                "cnnbook_words": WORDS}
html_show_search_summary = False  # summaries fetch() each page, which browsers refuse for file:// pages
html_sidebars = {"**": ["cnnbook-brand.html", "lang-switch.html", "search-button-field.html",
                        "sbt-sidebar-nav.html"]}
html_theme_options = {
    "use_download_button": False,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "search_bar_text": WORDS["search_bar"],
}
if LANG == "ko":
    html_search_language = "en"  # Sphinx has no Korean stemmer; words are split at spaces, partial matches found

myst_enable_extensions = ["dollarmath", "amsmath", "html_image", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_ipywidgets_js = {}
nb_output_stderr = "remove-warn"
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]


FIGURES = Path(__file__).resolve().parent / "_cnnbook_figures.json"


def describe_pictures(app, doctree):
    """Alt text and pixel width for every notebook picture (MyST-NB names its file by the SHA-256 of its bytes)."""
    from docutils import nodes
    described = json.loads(FIGURES.read_text(encoding="utf-8")) if FIGURES.is_file() else {}
    for image in doctree.findall(nodes.image):
        found = described.get(Path(image["uri"]).stem)
        if found is None:
            continue
        image["alt"] = found["alt"]
        if found.get("width") and not any(key in image for key in ("width", "height", "scale")):
            image["width"] = f"{found['width']}px"  # a sized picture: Sphinx links it to its full-size file


def setup(app):
    app.connect("doctree-read", describe_pictures)
