"""The claims ledger (cnnbook.course.claims): every quote is in the lecture notes, every claim is checked in its
notebook, check_claim asserts what it prints, and `python -m cnnbook claims` prints the ledger.

The lecture notes are not in the repository (they are someone else's post; the ledger quotes them briefly): the
quote test reads them from the file that ``$CNNBOOK_LECTURE_NOTES`` names, and skips, saying so, where it is unset.
"""
import json
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from cnnbook.__main__ import main
from cnnbook.course.claims import (
    CLAIMS,
    JSON_KEYS,
    NOTES_ENV,
    NOTES_SOURCE,
    SOURCES,
    VERDICTS,
    check_claim,
    evidence_counts,
    get_claim,
    note_claim,
    verdict_counts,
)

REPO = Path(__file__).resolve().parents[1]


def notebook_code(name):
    nb = nbformat.read(REPO / "notebooks" / name, as_version=4)
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")


def test_ledger_is_well_formed_and_covers_every_section():
    assert len(CLAIMS) >= 35
    ids = [c.id for c in CLAIMS]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"C\d\d", i) for i in ids)
    assert all(c.verdict in VERDICTS and c.source in SOURCES for c in CLAIMS)
    assert {c.section for c in CLAIMS} == {1, 2, 3, 4, 5}
    assert all((REPO / "notebooks" / c.notebook).is_file() for c in CLAIMS)
    assert all(c.notes and c.claim and c.measured for c in CLAIMS)
    assert sum(verdict_counts().values()) == len(CLAIMS)
    # section 4's transformer comparison and limits are not credited to the lecture
    assert all(c.source == "note-taker" for c in CLAIMS if c.notebook.startswith(("10-", "11-")))


def test_every_quote_is_verbatim_in_the_lecture_notes():
    where = os.environ.get(NOTES_ENV)
    if not where:
        pytest.skip(f"the lecture notes are not in the repository: set {NOTES_ENV} to a copy of their full text "
                    f"({NOTES_SOURCE['title']}, {NOTES_SOURCE['author']}) to check every quote against them")
    notes = Path(where)
    if not notes.is_file():  # named but missing: an error, so a CI run that provides them cannot skip silently
        pytest.fail(f"{NOTES_ENV}={where!r} names no file: point it at the notes' text file")
    text = notes.read_text(encoding="utf-8")
    missing = [c.id for c in CLAIMS if c.notes not in text]
    assert not missing, f"quotes not found verbatim in the notes: {missing}"


def test_quotes_are_short_and_attributed():
    """Each quote is a phrase or a sentence (at most 120 characters), and the README names and links the notes."""
    long = [(c.id, len(c.notes)) for c in CLAIMS if len(c.notes) > 120]
    assert not long, f"quote a phrase, not a paragraph: {long}"
    assert NOTES_SOURCE["author"] and NOTES_SOURCE["url"].startswith("https://")
    for readme in ("README.md", "README.ko.md"):
        text = (REPO / readme).read_text(encoding="utf-8")
        assert NOTES_SOURCE["title"] in text and NOTES_SOURCE["url"] in text, f"{readme} must name and link the notes"


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_every_claim_is_checked_in_its_notebook(claim):
    code = notebook_code(claim.notebook)
    call = "note_claim" if claim.verdict == "not testable here" else "check_claim"
    assert re.search(rf'\b{call}\(\s*"{claim.id}"', code), \
        f'{claim.notebook} must call {call}("{claim.id}", ...) where it measures the claim'


def test_check_claim_asserts_and_prints(capsys):
    assert check_claim("C45", np.float64(0.7071), above=0.5) is None  # nothing for a notebook cell to echo
    out = capsys.readouterr().out
    assert out.splitlines() == [f"C45 the notes say: {get_claim('C45').claim}",
                                "    measured 0.7071 (> 0.5), so this claim of the notes does not hold."]
    with pytest.raises(AssertionError, match="C45.*not > 0.9"):
        check_claim("C45", 0.7071, above=0.9)
    with pytest.raises(AssertionError, match="not > 0 and < 1"):
        check_claim("C07", 2.0, above=0, below=1)


@pytest.mark.parametrize("call, error, words", [
    (lambda: check_claim("C99", 1.0, above=0), ValueError, "unknown claim id 'C99'"),
    (lambda: check_claim("C07", 1.0), ValueError, "needs a threshold"),
    (lambda: check_claim("C07", "big", below=1), TypeError, "measured='big' is not a number"),
    (lambda: check_claim("C07", float("nan"), below=1), TypeError, "measured=nan must be a finite number"),
    (lambda: check_claim("C15", 1.0, above=0), ValueError, "note_claim"),
    (lambda: note_claim("C07"), ValueError, "check_claim"),
])
def test_check_claim_refuses_bad_calls(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_a_claim_line_says_the_claim_the_measurement_and_the_caveat_in_short_lines(claim, capsys):
    if claim.verdict == "not testable here":
        return
    check_claim(claim.id, 1.0, above=0.5)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{claim.id} the notes say: {claim.claim}"
    ending = {"holds": "holds.", "holds with a caveat": "holds, with a caveat:", "does not hold": "does not hold."}
    evidence = {"measured": "measured 1 (> 0.5)",
                "illustrated": "an illustration, not a measurement: 1 (> 0.5) by construction"}[claim.evidence]
    assert lines[1] == f"    {evidence}, so this claim of the notes {ending[claim.verdict]}"
    if claim.verdict == "holds with a caveat":  # the caveat itself, not a pointer to it
        assert len(lines) == 3 and 10 < len(lines[2].strip()) < 200 and lines[2].strip() in claim.measured
    else:
        assert len(lines) == 2


def test_note_claim_prints_why(capsys):
    assert note_claim("C15") is None
    assert capsys.readouterr().out.startswith(f"C15 not testable here: {get_claim('C15').claim}")


def test_command_prints_table_and_json(capsys):
    assert main(["claims"]) == 0
    table = capsys.readouterr().out
    assert all(c.id in table for c in CLAIMS) and f"{len(CLAIMS)} claims:" in table
    assert main(["claims", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [tuple(r) for r in rows] == [JSON_KEYS] * len(CLAIMS)
    assert [r["id"] for r in rows] == [c.id for c in CLAIMS]
    assert all(r["verdict"] in VERDICTS for r in rows)


@pytest.mark.parametrize("readme", ["README.md", "README.ko.md"])
def test_readme_summary_matches_the_ledger(readme):
    """The README states the ledger's counts, in the ledger's order, however it words them: all claims, each
    verdict (in VERDICTS order), the claims checked, measured and only illustrated; and it names those that fail."""
    text = (REPO / readme).read_text(encoding="utf-8")
    verdicts, evidence = verdict_counts(), evidence_counts()
    counts = [len(CLAIMS), *verdicts.values(), sum(evidence.values()), *evidence.values()]
    stated = " ".join(re.findall(r"\d+", re.sub(r"\]\([^)]*\)", "]", text)))  # the numbers, not those in links
    assert f" {' '.join(map(str, counts))} " in f" {stated} ", \
        f"{readme}'s Claims section should state these counts in this order: {counts}"
    failing = [c.id for c in CLAIMS if c.verdict == "does not hold"]
    assert all(i in text for i in failing)


def test_an_illustrated_claim_says_it_is_no_measurement():
    from dataclasses import replace

    from cnnbook.course.claims import EVIDENCE, claim_lines, evidence_counts
    assert {c.evidence for c in CLAIMS} <= set(EVIDENCE)
    shown = replace(get_claim("C07"), evidence="illustrated")
    assert claim_lines(shown, "1e-06", "< 0.0001").splitlines()[1] == \
        "    an illustration, not a measurement: 1e-06 (< 0.0001) by construction, so this claim of the notes holds."
    counts = evidence_counts()
    assert sum(counts.values()) == sum(c.verdict != "not testable here" for c in CLAIMS)
