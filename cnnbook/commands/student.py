"""``python -m cnnbook student OUTDIR [--lang en|ko]``: write the student edition of every notebook into OUTDIR.

``--lang ko`` writes the Korean edition (from ``notebooks/ko/``), whose checks give their hints in Korean;
without ``--lang``, the edition of the language in use (``$CNNBOOK_LANG``, else the edition whose folder the
command runs in, else English: :func:`cnnbook.course.language.get_language`).

Solutions become ``NotImplementedError`` stubs naming the exercise, hidden tests are removed and outputs
cleared (see :mod:`cnnbook.course.student`). Exit status 0 when written, 1 with a reason on stderr otherwise.
"""
from __future__ import annotations

import sys

from cnnbook.commands.cli import add_lang_argument
from cnnbook.course.language import get_language


def add_arguments(parser) -> None:
    parser.add_argument("outdir", metavar="OUTDIR", help="folder for the student notebooks (created if missing; "
                                                         "must not be inside the source notebooks folder)")
    parser.add_argument("--force", action="store_true", help="overwrite student notebooks already in OUTDIR")
    parser.add_argument("--source", metavar="DIR", default=None,
                        help="folder of the source notebooks (default: the repository's notebooks/, "
                             "or notebooks/ko/ with --lang ko)")
    add_lang_argument(parser)


def run(args) -> int:
    import nbformat  # imported here, so that other commands start without it

    from cnnbook.course.student import write_student_edition
    try:
        lang = args.lang or get_language()
        written = write_student_edition(args.outdir, source=args.source, force=args.force, lang=lang)
    except (ValueError, OSError, nbformat.ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path, names in written:
        exercises = f"{len(names)} exercise(s): {', '.join(names)}" if names else "no exercises"
        print(f"{path.name}: {exercises}")
    total = sum(len(names) for _, names in written)
    edition = " Korean" if lang == "ko" else ""
    print(f"wrote {len(written)}{edition} student notebooks with {total} exercises to {written[0][0].parent}")
    return 0
