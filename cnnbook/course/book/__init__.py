"""The workbook as a web book: every notebook with its outputs, in English and Korean, readable offline.

``python -m cnnbook book OUTDIR`` (:func:`build_book`, in :mod:`cnnbook.course.book.build`):

1. runs every notebook of both editions in a fresh kernel (:mod:`cnnbook.course.book.execute`, cached by
   content), and turns each widget into a still picture of its first state (:mod:`~cnnbook.course.book.stills`);
2. stages one Sphinx project per edition: the README as the front page, the notebooks in the lecture's order
   as the table of contents, the claims ledger as a page, the lab guide (and, in Korean, the glossary), each
   notebook opening with how to run it in JupyterLab (and a launch link through nbgitpuller when a hub is
   given); links between these files are rewritten to the pages, links to other files of the repository to
   its web address (``--repo-url``) or to plain text;
3. builds each with Sphinx, MyST-NB and the Sphinx Book Theme (``conf.py`` beside this file): English in
   ``OUTDIR``, Korean in ``OUTDIR/ko``, a language switch on every page, Hangul drawn in the book's own
   face (a WOFF2 subset of NanumGothic per edition, :mod:`~cnnbook.course.book.fonts`), every figure
   described in words (:mod:`~cnnbook.course.book.figures`) and linked to its full-size picture, search
   included, nothing loaded from the network; the menus work on a phone (``_static/cnnbook-book.js``).

The book is built in a temporary folder beside ``OUTDIR`` and moved into place at the end, so a failed build
leaves an earlier book as it was.
"""
from cnnbook.course.book.build import (
                                       BOOK_TOOLS,
                                       EDITIONS,
                                       FONT_PLACES,
                                       Book,
                                       build_book,
                                       find_font,
                                       hub_link,
                                       missing_tools,
                                       stage,
)

__all__ = ["BOOK_TOOLS", "EDITIONS", "FONT_PLACES", "Book", "build_book", "find_font", "hub_link", "missing_tools",
           "stage"]
