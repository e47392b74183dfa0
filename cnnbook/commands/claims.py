"""``python -m cnnbook claims [--json]``: the lecture notes' claims, audited (:mod:`cnnbook.course.claims`).

The table shows each claim's id, the notebook that checks it, its verdict and the claim in English;
``--json`` prints a JSON list of objects with the keys ``id, notes, claim, notebook, measured, verdict``.
"""
from __future__ import annotations

import json
import textwrap

from cnnbook.course.claims import CLAIMS, verdict_counts


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="a JSON list of {id, notes, claim, notebook, measured, verdict} instead of a table")


def table() -> str:
    """The ledger as a plain-text table, with the verdict counts at the end."""
    lines = [f"{'id':<4} {'notebook':<9} {'source':<10} {'verdict':<20} claim", "-" * 100]
    for c in CLAIMS:
        wrapped = textwrap.wrap(c.claim, 54) or [""]
        lines.append(f"{c.id:<4} {c.notebook[:2]:<9} {c.source:<10} {c.verdict:<20} {wrapped[0]}")
        lines += [" " * 47 + rest for rest in wrapped[1:]]
    counts = verdict_counts()
    lines.append("-" * 100)
    lines.append(f"{len(CLAIMS)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items()))
    return "\n".join(lines)


def run(args) -> int:
    if args.json:
        print(json.dumps([c.as_dict() for c in CLAIMS], ensure_ascii=False, indent=1))
    else:
        print(table())
    return 0
