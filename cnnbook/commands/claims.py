"""``python -m cnnbook claims [--json] [--lang en|ko]``: the lecture notes' claims, audited.

The claims and their verdicts live in :mod:`cnnbook.course.claims`.
The table shows each claim's id, the notebook that checks it, its source, its verdict, whether the notebook
measures it or only illustrates it, and the claim; ``--json`` prints a JSON list of objects with the keys
``id, notes, claim, notebook, measured, verdict, evidence``.
``--lang ko`` gives the claims, what is measured and (in the table) the verdicts in Korean; in the JSON the keys
and the ``verdict`` values stay the same in every language (one of ``cnnbook.course.claims.VERDICTS``);
the default is the language in use (:func:`cnnbook.course.language.get_language`).
"""
from __future__ import annotations

import json
import textwrap
import unicodedata

from cnnbook.commands.cli import add_lang_argument
from cnnbook.course.claims import CLAIMS, MESSAGES, UNTESTABLE, evidence_counts, ledger_text, verdict_counts
from cnnbook.course.language import get_language


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="a JSON list of {id, notes, claim, notebook, measured, verdict} instead of a table")
    add_lang_argument(parser)


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, columns: int) -> str:
    return text + " " * max(columns - _width(text), 0)


def _wrap(text: str, columns: int) -> list[str]:
    """``text`` in lines of at most ``columns`` terminal columns, broken at spaces (a longer word stays whole)."""
    lines, line = [], ""
    for word in text.split():
        if line and _width(line) + 1 + _width(word) > columns:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines


def table(lang: str = "en") -> str:
    """The ledger as a plain-text table in ``lang``, with the verdict counts at the end."""
    def say(key, **values):
        return ledger_text(MESSAGES[key], lang).format(**values)

    header = ("id", say("notebook"), say("source"), say("verdict"), say("evidence"))
    rows = [(c.id, c.notebook[:2], ledger_text(c.source, lang), ledger_text(c.verdict, lang),
             "" if c.verdict == UNTESTABLE else ledger_text(c.evidence, lang)) for c in CLAIMS]
    widths = (4, 9, 10, 20, 12) if lang == "en" else [max(map(_width, column)) for column in zip(header, *rows)]
    indent = " " * (sum(widths) + len(widths))
    lines = [" ".join(map(_pad, header, widths)) + " " + say("claim"), "-" * 100]
    for c, cells in zip(CLAIMS, rows):
        wrapped = (textwrap.wrap(c.claim, 54) if lang == "en" else _wrap(ledger_text(c.claim, lang), 54)) or [""]
        lines.append(" ".join(map(_pad, cells, widths)) + " " + wrapped[0])
        lines += [indent + rest for rest in wrapped[1:]]
    counts = ", ".join(say("count", n=n, verdict=ledger_text(v, lang)) for v, n in verdict_counts().items())
    lines.append("-" * 100)
    lines.append(say("summary", n=len(CLAIMS), counts=counts))
    lines.append(say("evidence_summary", **evidence_counts()))
    return "\n".join(lines)


def run(args) -> int:
    lang = args.lang or get_language()
    if args.json:
        print(json.dumps([c.as_dict(lang) for c in CLAIMS], ensure_ascii=False, indent=1))
    else:
        print(table(lang))
    return 0
