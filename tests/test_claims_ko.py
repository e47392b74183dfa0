"""The claims ledger in Korean: claims.po holds a Korean text for exactly the ledger's English texts, the checks
print and raise in the language in use, `python -m cnnbook claims --lang ko` shows the Korean ledger, and
the two READMEs link each other (their claims summaries: tests/test_claims.py)."""
import json
import re
import string
from pathlib import Path

import polib
import pytest

from cnnbook.__main__ import main
from cnnbook.course import language
from cnnbook.course.claims import (
    CLAIMS,
    JSON_KEYS,
    MESSAGES,
    SOURCES,
    VERDICTS,
    check_claim,
    evidence_counts,
    get_claim,
    ledger_text,
    ledger_texts,
    note_claim,
    verdict_counts,
)

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "cnnbook" / "course" / "locale" / "ko" / "claims.po"
GLOSSARY = REPO / "notebooks" / "ko" / "glossary.md"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(autouse=True)
def automatic_language(monkeypatch):
    """Each test starts from the automatic choice with no $CNNBOOK_LANG (English here), and leaves it so."""
    monkeypatch.delenv(language.ENV, raising=False)
    language.set_language(None)
    yield
    language.set_language(None)


def entries():
    return [e for e in polib.pofile(str(CATALOG)) if not e.obsolete]


def fields(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_ledger_text_has_a_korean_text_and_nothing_else_is_there():
    found = {e.msgid: e for e in entries()}
    wanted = ledger_texts()
    assert set(wanted) >= {t for c in CLAIMS for t in (c.claim, c.measured)} | set(VERDICTS) | set(SOURCES)
    missing = [t for t in wanted if t not in found or not found[t].msgstr.strip()]
    assert not missing, f"claims.po lacks the Korean of {len(missing)} ledger texts, e.g. {missing[:3]}"
    stale = [t for t in found if t not in wanted]
    assert not stale, f"claims.po translates texts the ledger no longer has (update their msgid): {stale[:3]}"
    assert not [e.msgid for e in entries() if "fuzzy" in e.flags], "fuzzy entries are not used: review them"
    untranslated = [t for t in wanted if not HANGUL.search(found[t].msgstr) and t not in MESSAGES.values()]
    assert not untranslated, f"Korean texts without Hangul: {untranslated[:3]}"


def test_korean_messages_fill_in_the_same_fields():
    for template in MESSAGES.values():
        assert fields(ledger_text(template, "ko")) == fields(template), template


def test_korean_keeps_ids_numbers_and_code():
    """Every number, claim id and code name of an English text is in its Korean text."""
    token = re.compile(r"C\d\d|\d+(?:[.,]\d+)*(?:e-\d+)?|\b\w+\(|\w+\.\w+(?:\.\w+)*")
    korean_units = {"C36": {"14", "300"}}  # "14-300 million" reads 1,400만-3억 in Korean
    for c in CLAIMS:
        for text in (c.claim, c.measured):
            korean = ledger_text(text, "ko")
            lost = [t for t in token.findall(text) if t not in korean and t not in korean_units.get(c.id, ())]
            assert not lost, f"{c.id}: the Korean text lacks {lost}: {korean}"


def glossary():
    """``[(korean, [avoided, ...]), ...]`` from the glossary's table (columns English, 한국어, first use, avoided)."""
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("English", "") and not set(cells[0]) <= set("-"):
            rows.append((cells[1], [a.strip() for a in cells[3].split(",") if a.strip()]))
    return rows


@pytest.mark.parametrize("where", ["claims.po", "README.ko.md"])
def test_korean_uses_the_glossary(where):
    """No expression the glossary avoids, outside a quote ('...' or "..."), as tests/test_translations.py checks
    the notebooks."""
    if where == "claims.po":
        texts = [e.msgstr for e in entries()]
    else:
        texts = [(REPO / where).read_text(encoding="utf-8")]
    terms = glossary()
    assert len(terms) > 50
    for text in texts:
        text = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "", text)
        for korean, avoided in terms:
            rest = text.replace(korean, "")
            used = [word for word in avoided if word in rest]
            assert not used, f"{where}: {used} in {text[:60]!r}; the glossary's term is {korean!r}"


def test_check_claim_speaks_korean_with_the_same_numbers(capsys):
    language.set_language("ko")
    check_claim("C45", 0.7071, above=0.5)
    out = capsys.readouterr().out
    said, measured = out.splitlines()
    assert said == f"C45 노트의 주장: {ledger_text(get_claim('C45').claim, 'ko')}"
    assert measured == "    측정값 0.7071 (> 0.5): 노트의 이 주장은 성립하지 않습니다."
    check_claim("C01", 0.81, above=0.78)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].endswith("주의할 점이 있습니다:") and lines[2].strip() == get_claim("C01").caveat("ko")
    assert lines[2].strip().startswith("보여 주는 문제는 하나뿐")  # the caveat itself, in Korean
    with pytest.raises(AssertionError, match=r"C45.*0\.7071.*> 0\.9") as failed:
        check_claim("C45", 0.7071, above=0.9)
    assert HANGUL.search(str(failed.value)) and "measured" not in str(failed.value)
    with pytest.raises(AssertionError, match="> 0, < 1"):
        check_claim("C07", 2.0, above=0, below=1)
    note_claim("C15")
    out = capsys.readouterr().out
    assert out.startswith(f"C15 {ledger_text('not testable here', 'ko')}: ") and HANGUL.search(out)
    for call in (lambda: check_claim("C99", 1.0, above=0), lambda: check_claim("C07", 1.0),
                 lambda: check_claim("C15", 1.0, above=0), lambda: note_claim("C07"),
                 lambda: check_claim("C07", "big", below=1)):
        with pytest.raises((ValueError, TypeError)) as error:
            call()
        assert HANGUL.search(str(error.value)), str(error.value)


def test_english_is_unchanged(capsys):
    language.set_language("en")
    check_claim("C45", 0.7071, above=0.5)
    assert capsys.readouterr().out == (f"C45 the notes say: {get_claim('C45').claim}\n"
                                       "    measured 0.7071 (> 0.5), so this claim of the notes does not hold.\n")
    with pytest.raises(AssertionError, match=r"^C07 \(holds in the ledger\): measured 2, which is not > 0 and < 1\. "):
        check_claim("C07", 2.0, above=0, below=1)
    assert main(["claims"]) == 0
    table = capsys.readouterr().out
    assert not HANGUL.search(table)
    counts = verdict_counts()
    summary, evidence = table.rstrip().splitlines()[-2:]
    assert summary == f"{len(CLAIMS)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items())
    assert evidence == "checked by a measurement: {measured}; shown by an illustration only: {illustrated}".format(
        **evidence_counts())
    assert main(["claims", "--lang", "en"]) == 0 and capsys.readouterr().out == table
    assert main(["claims", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [c.as_dict() for c in CLAIMS]


def test_command_shows_the_korean_ledger(capsys):
    assert main(["claims", "--lang", "ko"]) == 0
    table = capsys.readouterr().out
    assert HANGUL.search(table) and all(c.id in table for c in CLAIMS)
    assert f"주장 {len(CLAIMS)}개" in table and ledger_text("holds with a caveat", "ko") in table
    assert main(["claims", "--json", "--lang", "ko"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [tuple(r) for r in rows] == [JSON_KEYS] * len(CLAIMS)
    assert [r["id"] for r in rows] == [c.id for c in CLAIMS]
    assert [r["notebook"] for r in rows] == [c.notebook for c in CLAIMS]
    assert all(HANGUL.search(r["claim"]) and HANGUL.search(r["measured"]) for r in rows)
    assert {r["verdict"] for r in rows} <= set(VERDICTS)  # machine-readable in every language (CONTRACT.md)


def test_command_follows_the_language_in_use(capsys, monkeypatch):
    monkeypatch.setenv(language.ENV, "ko")
    assert main(["claims"]) == 0
    assert f"주장 {len(CLAIMS)}개" in capsys.readouterr().out
    language.set_language("en")
    assert main(["claims"]) == 0
    assert f"{len(CLAIMS)} claims:" in capsys.readouterr().out


def test_each_readme_links_the_other_at_its_top():
    """Each README links the other edition at its top (both claims summaries: tests/test_claims.py)."""
    for readme, other in (("README.md", "README.ko.md"), ("README.ko.md", "README.md")):
        top = (REPO / readme).read_text(encoding="utf-8").splitlines()[:5]
        assert any(f"]({other})" in line for line in top), f"{readme} should link {other} in its first lines"
        assert (REPO / other).is_file()
