"""Sphinx configuration of the web book (``python -m cnnbook book``), one build per edition.

:mod:`cnnbook.course.book` stages each edition's pages in a folder and runs Sphinx with this file; the
edition comes in through the environment (``CNNBOOK_BOOK_LANG``: ``en`` or ``ko``). The notebooks arrive
executed (``nb_execution_mode = "off"``), their widgets already turned into still pictures, so no page
needs a script from the network: MathJax is served from the book itself (``sphinx_mathjax_offline``) and
MyST-NB's ipywidgets scripts are switched off.
"""
import os

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
html_theme = "sphinx_book_theme"
html_title = "cnnbook" if LANG == "en" else "cnnbook 한국어판"
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
# the pages the other edition has too: the language switch links to the same page there, else to its front page
OTHER_PAGES = [p for p in os.environ.get("CNNBOOK_BOOK_OTHER_PAGES", "").split(",") if p]
html_context = {"cnnbook_lang": LANG, "cnnbook_other_pages": OTHER_PAGES, "default_mode": "light"}
html_show_search_summary = False  # summaries fetch() each page, which browsers refuse for file:// pages
html_sidebars = {"**": ["navbar-logo.html", "lang-switch.html", "search-field.html", "sbt-sidebar-nav.html"]}
html_theme_options = {
    "use_download_button": False,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
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
