"""``python -m cnnbook translations``: keep the Korean edition (``notebooks/ko/``) in step with the English.

Each action is a subcommand with its own ``--help``; ``translations`` alone is ``translations status``.

* ``status`` (the default) lists every stale or untranslated Markdown cell and every code cell that differs,
  notebook by notebook; exit status 1 when anything is out of step.
* ``sync`` copies the English code cells over and follows the English cell structure (a new notebook or cell
  is added with its English text, marked untranslated); translations are never touched.
* ``export NAME`` prints a notebook's Markdown cells as text for a translator (``--pending``: only the stale
  and untranslated ones); ``import NAME FILE`` puts the edited text back and records, for each cell, the
  version of the English cell it now translates.
* ``catalog`` brings the message catalogs (``cnnbook/course/locale/<lang>/*.po``) in step with the code: every
  ``tr("...")`` template is added (untranslated) where missing and an unused one is marked obsolete; prints the
  counts of each file (:mod:`cnnbook.course.catalog`).

See :mod:`cnnbook.course.translations`.
"""
from __future__ import annotations

import sys
from pathlib import Path

from cnnbook.commands.cli import add_lang_argument

ACTIONS = {
    "status": "list the cells out of step (exit status 1 when any is); the default action",
    "sync": "copy the English code cells and cell structure over, keeping every translation",
    "export": "print a notebook's Markdown cells as text for a translator",
    "import": "put a translator's edited text back into the notebook",
    "catalog": "bring the message catalogs (cnnbook/course/locale/<lang>/*.po) in step with the code",
}


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", help=", ".join(ACTIONS) + " (default: status)")
    for action, text in ACTIONS.items():
        sub = actions.add_parser(action, help=text, description=text)
        if action in ("status", "sync"):
            sub.add_argument("name", nargs="?", metavar="NAME",
                             help="a notebook, e.g. 03-convolution.ipynb or 03 (default: every notebook)")
        elif action in ("export", "import"):
            sub.add_argument("name", metavar="NAME", help="a notebook, e.g. 03-convolution.ipynb or 03")
        if action == "export":
            sub.add_argument("--pending", action="store_true", help="only the stale and untranslated cells")
        elif action == "import":
            sub.add_argument("file", metavar="FILE", help="the edited text ('-' for stdin)")
        add_lang_argument(sub, "ko, the translated edition")
    parser.set_defaults(action="status", name=None, lang=None)


def _names(arg, all_names) -> list[str]:
    if arg is None:
        return all_names
    matches = [n for n in all_names if n == arg or n.startswith(arg.rstrip("-") + "-") or n == arg + ".ipynb"]
    if len(matches) != 1:
        raise ValueError(f"no single notebook called {arg!r}; the notebooks are {', '.join(all_names)}")
    return matches


def run(args) -> int:
    from cnnbook.course import translations as tr
    lang = args.lang or "ko"
    try:
        if args.action == "catalog":
            return _catalog(lang)
        tr.edition_dir(lang)
        names = _names(args.name, tr.notebook_names())
        if args.action == "status":
            found = [p for name in names for p in tr.problems(name, lang)]
            for problem in found:
                print(problem)
            print(f"{len(names)} notebooks checked: " + (f"{len(found)} cells out of step" if found
                                                          else "the edition is in step with the English"))
            return 1 if found else 0
        if args.action == "sync":
            changes = [line for name in names for line in tr.sync(name, lang)]
            print("\n".join(changes) if changes else "nothing to sync: the structure and code match")
            return 0
        if args.action == "export":
            sys.stdout.write(tr.export_text(names[0], lang, only_pending=args.pending))
            return 0
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        written = tr.import_text(names[0], text, lang)
        print(f"{names[0]}: {len(written)} translated cells written")
        return 0
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _catalog(lang: str) -> int:
    from cnnbook.course import catalog
    for counts in catalog.update(lang):
        print(counts)
    for t in catalog.unassigned():
        print(f"{t.path}:{t.line}: a tr() template in no catalog (add its folder to catalog.LITERAL_SOURCES)")
    return 0
