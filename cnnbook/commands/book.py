"""``python -m cnnbook book OUTDIR``: the workbook as a static web book, English in OUTDIR, Korean in OUTDIR/ko.

``--lang en`` builds the English book alone; the English pages are the book's root, so there is no Korean
book without them (``--lang ko`` is refused: leave ``--lang`` out for both).

Every notebook runs in a fresh kernel (``--jobs`` at a time; results cached by content in ``--cache``, by
default the user cache folder), widgets become still pictures, and Sphinx with MyST-NB and the Sphinx Book
Theme writes the pages. The book reads offline: open ``OUTDIR/index.html``. See :mod:`cnnbook.course.book`.
"""
from __future__ import annotations

import sys
import time

from cnnbook.commands.cli import add_lang_argument, positive_int


def add_arguments(parser) -> None:
    parser.add_argument("outdir", metavar="OUTDIR", help="folder for the book (created; an earlier book there "
                                                         "is replaced)")
    add_lang_argument(parser, "both editions, English and Korean in ko/; en: English alone")
    parser.add_argument("--jobs", type=positive_int, default=2, help="notebooks run at a time (default 2)")
    parser.add_argument("--cache", metavar="DIR", default=None,
                        help="folder of executed notebooks reused while nothing changed (default: the user "
                             "cache folder, cnnbook/book)")
    parser.add_argument("--no-cache", action="store_true", help="run every notebook again, keep nothing")
    parser.add_argument("--hub-url", metavar="URL", default=None,
                        help="a JupyterHub for launch links (nbgitpuller), with --repo-url")
    parser.add_argument("--repo-url", metavar="URL", default=None,
                        help="the repository's web address: repository files link there; with --hub-url, "
                             "the repository the hub clones")
    parser.add_argument("--font", metavar="FILE", default=None,
                        help="the Hangul font the book's face is cut from (default: Debian's fonts-nanum "
                             "NanumGothic.ttf)")
    parser.add_argument("--source-maps", action="store_true",
                        help="keep the themes' source maps (.map files, for debugging their scripts)")
    parser.add_argument("--force", action="store_true", help="replace OUTDIR even if it is not a book")


def run(args) -> int:
    if args.lang == "ko":
        print("error: argument --lang: the book's root is English, so there is no Korean book alone; leave "
              "--lang out for English and Korean (ko/), or give --lang en for English alone", file=sys.stderr)
        return 2
    from cnnbook.course.book import build_book
    from cnnbook.course.book.execute import NotebookFailed
    cache = None
    if not args.no_cache:
        if args.cache:
            cache = args.cache
        else:
            import platformdirs
            cache = f"{platformdirs.user_cache_dir('cnnbook')}/book"
    started = time.monotonic()
    try:
        book = build_book(args.outdir, langs=("en",) if args.lang == "en" else ("en", "ko"), jobs=args.jobs,
                          cache=cache, hub_url=args.hub_url, repo_url=args.repo_url, font=args.font,
                          force=args.force, source_maps=args.source_maps, log=lambda line: print(line, flush=True))
    except (ValueError, OSError, NotebookFailed, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for lang, pages in book.pages.items():
        print(f"{lang}: {len(pages)} pages, {len(book.notebooks[lang])} notebooks, "
              f"{sum(book.stills[lang].values())} widget stills")
    print(f"wrote the book to {book.outdir} in {time.monotonic() - started:.0f} s: open {book.outdir / 'index.html'}")
    return 0
