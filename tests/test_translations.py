"""The Korean edition (notebooks/ko/) stays in step with the English, and its terms follow the glossary.

* Every notebook has a Korean edition with the same cells in the same order, code cells the same apart from the
  text they show (strings, comments), and every Markdown cell a translation of the English cell's current version
  (``cnnbook.translates``): an edit to the English text fails here, naming the cell, until the translation is
  updated.
* ``notebooks/ko/glossary.md`` gives one Korean term per English term: a term from its "do not use" column
  (a second translation of the same thing) anywhere in the Korean prose fails, outside verbatim quotes of the
  lecture notes; each term appears with its English in the notebook where it is first used; the key-terms
  tables of both editions use the glossary's Korean.
* The translations command: status fails on a changed English cell and names it, sync copies code and
  follows the structure without touching a translation, export/import round-trips and refuses bad input
  leaving the notebook as it was.
"""
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from cnnbook.__main__ import main
from cnnbook.course import translations as tr

REPO = Path(__file__).resolve().parents[1]
EN_DIR, KO_DIR = REPO / "notebooks", REPO / "notebooks" / "ko"
NAMES = tr.notebook_names()
HANGUL = re.compile("[\uac00-\ud7a3]")
QUOTED = re.compile(r'"[^"\n]*"|“[^”]*”|‘[^’]*’')


def glossary():
    """``[(english, korean, first_used, [avoid, ...]), ...]`` from the glossary's table."""
    rows = []
    for line in (KO_DIR / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("English", "") or set(cells[0]) <= set("-"):
            continue
        avoid = [a.strip() for a in cells[3].split(",") if a.strip()]
        rows.append((cells[0], cells[1], cells[2], avoid))
    return rows


GLOSSARY = glossary()


def prose(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]


def key_term_rows(path: Path):
    """The rows of a notebook's key-terms table (the Markdown table whose header names English and 한국어)."""
    for source in prose(path):
        lines = source.splitlines()
        for i, line in enumerate(lines):
            header = [c.strip() for c in line.strip().strip("|").split("|")]
            if "English" in header and "한국어" in header and line.lstrip().startswith("|"):
                en_col, ko_col = header.index("English"), header.index("한국어")
                for row in lines[i + 2:]:
                    if not row.lstrip().startswith("|"):
                        break
                    cells = [c.strip() for c in row.strip().strip("|").split("|")]
                    if len(cells) == len(header):
                        yield cells[en_col], cells[ko_col]
                return


def test_the_glossary_gives_one_korean_term_per_english_term():
    assert len(GLOSSARY) >= 80
    english = [row[0].lower() for row in GLOSSARY]
    assert len(english) == len(set(english)), "an English term is listed twice"
    korean = {row[1] for row in GLOSSARY}
    for en, _ko, first, avoid in GLOSSARY:
        assert re.fullmatch(r"\d\d", first), f"{en}: first use {first!r} is not a notebook number"
        clash = [a for a in avoid if a in korean]
        assert not clash, f"{en}: {clash} is avoided here but is the glossary's term for something else"


def test_every_notebook_has_a_korean_edition():
    assert NAMES and sorted(p.name for p in KO_DIR.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_korean_edition_is_in_step_with_the_english(name):
    found = tr.problems(name, "ko")
    assert not found, "\n".join(map(str, found[:20])) + (f"\n... {len(found)} in all" if len(found) > 20 else "")


@pytest.mark.parametrize("name", NAMES)
def test_the_korean_prose_is_korean(name):
    """No English sentence left: every Markdown cell holds Hangul, and most prose letters are Hangul."""
    for source in prose(KO_DIR / name):
        text = re.sub(r"`[^`]*`|\$[^$]*\$|\([^)]*\)|\[[^\]]*\]\([^)]*\)", "", source)
        if re.search("[A-Za-z]{3,}", text) and len(text.strip()) > 20:
            assert HANGUL.search(source), f"{name}: a Markdown cell without Hangul: {source[:80]!r}"
    share = hangul_share(KO_DIR / name)
    assert share > 0.5, f"{name}: only {share:.1%} of the prose's letters are Hangul"


def hangul_share(path: Path) -> float:
    """Hangul syllables over all letters (Hangul + Latin) of the prose, code spans and math excluded."""
    text = re.sub(r"`[^`]*`|\$[^$]*\$|<[^>]*>|\]\([^)]*\)", "", "\n".join(prose(path)))
    hangul, latin = len(HANGUL.findall(text)), len(re.findall("[A-Za-z]", text))
    return hangul / max(1, hangul + latin)


@pytest.mark.parametrize("name", NAMES)
def test_no_term_is_translated_two_ways(name):
    text = QUOTED.sub("", "\n".join(prose(KO_DIR / name)))
    for en, ko, _, avoid in GLOSSARY:
        rest = text.replace(ko, "")
        for variant in avoid:
            where = rest.find(variant)
            assert where < 0, (f"{name}: {variant!r} for {en!r}; the glossary's term is {ko!r} "
                               f"(context: {rest[max(0, where - 30):where + 30]!r})")


@pytest.mark.parametrize("en,ko,first", [(en, ko, first) for en, ko, first, _ in GLOSSARY],
                         ids=[row[0] for row in GLOSSARY])
def test_each_term_comes_with_its_english_where_it_is_first_used(en, ko, first):
    """In the notebook where a term first appears, it appears with its English on the same line."""
    path = next(KO_DIR.glob(f"{first}-*.ipynb"))
    lines = [line for source in prose(path) for line in source.splitlines()]
    pattern = re.compile(re.escape(ko) + r".{0,60}?" + re.escape(en), re.IGNORECASE)
    assert any(pattern.search(line) for line in lines), (
        f"{path.name}: the glossary says {ko} ({en}) is first used here, but no line gives {ko!r} with {en!r} "
        f"after it, e.g. {ko}({en})")


@pytest.mark.parametrize("edition", ["en", "ko"])
@pytest.mark.parametrize("name", NAMES)
def test_key_term_tables_use_the_glossary(name, edition):
    path = (EN_DIR if edition == "en" else KO_DIR) / name
    by_english = {en.lower(): ko for en, ko, _, _ in GLOSSARY}
    rows = list(key_term_rows(path))
    assert rows, f"{path}: no key-terms table with English and 한국어 columns"
    for english, korean in rows:
        for part in re.split(r"\s*/\s*", re.sub(r"\s*\([^)]*\)", "", english)):
            want = by_english.get(part.lower())
            if want is not None:
                assert want in korean, \
                    f"{path}: key term {part!r} is {korean!r} in the table; the glossary says {want!r}"


def test_the_hangul_share_of_each_edition_is_reported(capsys):
    """The numbers the closing note of issue 21 gives, printed by the suite (-s shows them)."""
    shares = {name[:2]: (hangul_share(EN_DIR / name), hangul_share(KO_DIR / name)) for name in NAMES}
    with capsys.disabled():
        print("\nHangul share of the prose (English edition, Korean edition): "
              + ", ".join(f"{k} {a:.3f}/{b:.3f}" for k, (a, b) in shares.items()))
    assert all(b > a for a, b in shares.values())


# ---- the translations command on a copy ---------------------------------------------------------------
@pytest.fixture
def copy_of_editions(tmp_path, monkeypatch):
    """The English 03 and its Korean edition in a temporary notebooks/ folder the module works on."""
    en = tmp_path / "notebooks"
    (en / "ko").mkdir(parents=True)
    name = "03-convolution.ipynb"
    shutil.copy(EN_DIR / name, en / name)
    monkeypatch.setattr(tr, "english_dir", lambda: en)
    tr.sync(name)  # a fresh Korean edition: code copied, Markdown untranslated
    text = tr.export_text(name)
    tr.import_text(name, re.sub(r"(<!-- cell \S+ )untranslated( -->\n)", r"\1translated\2번역 ", text))
    assert tr.problems(name) == []
    return en, name


def _set_cell(path, index, source):
    nb = nbformat.read(path, as_version=4)
    nb.cells[index].source = source
    nbformat.write(nb, path)
    return nb.cells[index].get("id")


def _first(nb_path, kind):
    return next(i for i, c in enumerate(nbformat.read(nb_path, as_version=4).cells) if c.cell_type == kind)


def test_an_edit_to_the_english_text_makes_its_translation_stale_and_names_the_cell(copy_of_editions, capsys):
    en, name = copy_of_editions
    index = _first(en / name, "markdown")
    cid = _set_cell(en / name, index, "# 03 · Convolution, edited")
    found = tr.problems(name)
    assert [(p.kind, p.cell) for p in found] == [("stale", cid)]
    assert main(["translations", "status", "03"]) == 1
    out = capsys.readouterr().out
    assert f"cell {cid}: stale" in out and "1 cells out of step" in out
    tr.import_text(name, f"<!-- cell {cid} translated -->\n# 03 · 합성곱, 고침")  # the translator catches up
    assert tr.problems(name) == []
    assert main(["translations", "status", "03"]) == 0


def test_a_changed_code_cell_is_found_and_sync_copies_it_back_keeping_every_translation(copy_of_editions):
    en, name = copy_of_editions
    ko_path = en / "ko" / name
    index = _first(ko_path, "code")
    before = nbformat.read(ko_path, as_version=4)
    cid = _set_cell(ko_path, index, "print('changed only in Korean')")
    assert [(p.kind, p.cell) for p in tr.problems(name)] == [("code", cid)]
    assert tr.sync(name) == [f"{name} cell {cid}: code copied from the English"]
    after = nbformat.read(ko_path, as_version=4)
    assert [c.source for c in after.cells] == [c.source for c in before.cells]
    assert tr.problems(name) == []


def test_sync_follows_an_added_and_a_removed_english_cell(copy_of_editions):
    en, name = copy_of_editions
    nb = nbformat.read(en / name, as_version=4)
    removed = nb.cells.pop(1).get("id")
    added = nbformat.v4.new_markdown_cell("A new paragraph.")
    nb.cells.insert(2, added)
    nbformat.write(nb, en / name)
    assert [p.kind for p in tr.problems(name)] == ["structure"]
    changes = tr.sync(name)
    assert any(f"cell {added.id}: added" in line for line in changes)
    assert any(f"cell {removed}: dropped" in line for line in changes)
    assert [(p.kind, p.cell) for p in tr.problems(name)] == [("untranslated", added.id)]


@pytest.mark.parametrize("block,message", [
    ("<!-- cell nosuchcell translated -->\n안녕", "no cell 'nosuchcell'"),
    ("<!-- cell CODE translated -->\nx = 1", "code is copied from the English"),
    ("<!-- cell MD translated -->\n   ", "the translation is empty"),
    ("<!-- cell MD stale -->\n새 번역\n<!-- English now:\nold\n-->", "remove the '<!-- English now"),
    ("stray text\n<!-- cell MD translated -->\n번역", "text before the first"),
])
def test_import_refuses_bad_text_and_leaves_the_notebook_as_it_was(copy_of_editions, block, message):
    en, name = copy_of_editions
    ko_path = en / "ko" / name
    cells = nbformat.read(ko_path, as_version=4).cells
    block = block.replace("CODE", cells[_first(ko_path, "code")].id)
    block = block.replace("MD", cells[_first(ko_path, "markdown")].id)
    other = [c.id for c in cells if c.cell_type == "markdown"][1]
    good = f"<!-- cell {other} translated -->\n바뀌면 안 됨\n"  # a good block first: nothing is written either
    before = ko_path.read_bytes()
    with pytest.raises(ValueError, match=re.escape(message)):
        tr.import_text(name, good + block if "stray" not in block else block)
    assert ko_path.read_bytes() == before


def test_export_then_import_changes_nothing(copy_of_editions):
    en, name = copy_of_editions
    ko_path = en / "ko" / name
    before = nbformat.read(ko_path, as_version=4)
    tr.import_text(name, tr.export_text(name))
    assert nbformat.read(ko_path, as_version=4) == before


def test_the_command_names_an_unknown_notebook_and_edition(capsys):
    assert main(["translations", "status", "99"]) == 1
    assert "no single notebook called '99'" in capsys.readouterr().err
    assert main(["translations", "status", "--lang", "en"]) == 1  # English is the source, not a translation
    assert "lang='en': the translated editions are 'ko'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["translations", "status", "--lang", "fr"])
    assert stop.value.code == 2 and "invalid choice: 'fr' (choose from 'en', 'ko')" in capsys.readouterr().err


def test_each_action_is_a_subcommand_and_the_bare_command_is_status(capsys):
    assert main(["translations"]) == 0 and f"{len(NAMES)} notebooks checked" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(["translations", "export"])
    assert stop.value.code == 2 and "required: NAME" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["translations", "status", "--pending"])  # an option of export only
    assert stop.value.code == 2 and "unrecognized arguments: --pending" in capsys.readouterr().err


@pytest.mark.parametrize("name", NAMES)
def test_the_korean_notebook_has_the_shape_of_a_lesson(name):
    """NOTEBOOKS.md's shape, in Korean: title, learning goals first, key terms, summary, what's next."""
    cells = nbformat.read(KO_DIR / name, as_version=4).cells
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert cells[0].cell_type == "markdown" and cells[0].source.lstrip().startswith("# ")
    assert HANGUL.search(cells[0].source.splitlines()[0]), f"{name}: the title is not Korean"
    for heading in ("학습 목표", "핵심 용어", "요약", "다음으로"):
        assert heading in text, f"{name}: no {heading!r}"
    first_goals = next(i for i, c in enumerate(cells) if "학습 목표" in c.source)
    assert first_goals <= 2, f"{name}: 학습 목표 (learning goals) come first"


def test_written_notebooks_get_the_mode_of_a_new_file(copy_of_editions):
    """Written through a temporary file, but not left private as mkstemp makes it (umask 022: 0644)."""
    import os
    import stat
    en, name = copy_of_editions
    previous = os.umask(0o022)
    try:
        tr.import_text(name, tr.export_text(name))
    finally:
        os.umask(previous)
    assert stat.S_IMODE((en / "ko" / name).stat().st_mode) == 0o644


@pytest.mark.parametrize("english, korean, same", [
    ('fig = show(x, title="One image per class")', 'fig = show(x, title="클래스마다 이미지 하나")', True),
    ('print(f"{n} images of class {c}")', 'print(f"클래스 {c}의 이미지 {n}개")', True),  # placeholders reordered
    ('x = f(1)  # (N, C, H, W)', 'x = f(1)  # (N, C, H, W) 모양', True),  # comments
    ('fig = show(x, title="One")', 'fig = show(x, title="하나", size=3)', False),  # an argument added
    ('print(f"{n} images")', 'print(f"{m}개의 이미지")', False),  # another value shown
    ('y = g(x, mode="same")', 'y = g(x, 2)', False),
    ('%matplotlib inline\nx = 1', '%matplotlib inline\nx = 1', True),  # not Python: must match exactly
    ('%matplotlib inline\nx = "a"', '%matplotlib inline\nx = "가"', False),
])
def test_code_cells_may_differ_only_in_the_text_they_show(english, korean, same):
    assert tr.same_code(english, korean) is same


def test_translated_strings_pass_status_survive_sync_and_a_code_change_is_named(copy_of_editions):
    en, name = copy_of_editions
    ko_path = en / "ko" / name
    nb = nbformat.read(ko_path, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and 'print("backend:"' in c.source)
    korean = nb.cells[index].source.replace('print("backend:"', 'print("사용 중인 백엔드:"')
    cid = _set_cell(ko_path, index, korean)
    assert tr.problems(name) == []  # only the text differs
    assert tr.sync(name) == []  # and sync keeps the translation
    assert nbformat.read(ko_path, as_version=4).cells[index].source == korean
    _set_cell(ko_path, index, korean + "\nrng = None")  # the code drifted
    assert [(p.kind, p.cell) for p in tr.problems(name)] == [("code", cid)]
    assert "beyond its strings and comments" in tr.problems(name)[0].detail
    assert tr.sync(name) == [f"{name} cell {cid}: code copied from the English (its Korean strings are gone: "
                             "translate them again)"]
    assert tr.problems(name) == []


# ---- the Korean code cells show Korean (tests/korean_strings.py) -------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_the_korean_code_cells_show_no_english_but_the_allowed(name):
    """Titles, labels, printed lines and messages in a Korean code cell are Korean; the English left is
    :data:`korean_strings.ALLOWED` (argument values and keys with a space in them), each with its reason."""
    import korean_strings
    left = korean_strings.unexpected(KO_DIR / name)
    assert not left, (f"{name}: English a learner sees in the code cells; translate it, or if it is an API "
                      f"value or a key, add it to tests/korean_strings.py's ALLOWED with the reason: {left}")
    listed = set(korean_strings.english_literals(KO_DIR / name))
    stale = [text for text in korean_strings.ALLOWED.get(name, {}) if text not in listed]
    assert not stale, f"{name}: ALLOWED in tests/korean_strings.py lists what the notebook no longer has: {stale}"


def test_the_heuristic_finds_english_text_and_leaves_names_values_and_korean_alone():
    import korean_strings
    source = '''def f(x):
    """A docstring is read in the code, like a comment."""
    return x

fig = show(X_train, title="One training image per class", mode="same", cmap="gray")
print(f"test accuracy: {acc:.3f}", "X_train:", "훈련 세트 X_train:", f"{name:12s}", "C08", "ReLU 없음")
'''
    found = [t for t in korean_strings.literals(source) if korean_strings.looks_english(t)]
    assert found == ["One training image per class", "test accuracy: "]
