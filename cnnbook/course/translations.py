"""The Korean edition (``notebooks/ko/``) kept in step with the English notebooks (``notebooks/``).

A Korean notebook has the English notebook's cells, in the same order, with the same cell ids. Its code
cells are the English code cells with only the text they show translated: string literals (figure titles,
printed labels, messages) and comments may differ, the code may not. :func:`same_code` proves it by comparing
the two cells' syntax trees with every string literal masked (an f-string's placeholders must stay, in any
order, since Korean word order differs); the metadata, nbgrader's included, is identical. So both editions
compute the same things. Its Markdown cells are translations, and each records which version of its English
cell it translates, in its metadata::

    "cnnbook": {"translates": "3f2a9c0b1d4e5f60"}

the first 16 hex digits of the SHA-256 of the English cell's source (:func:`version`). When someone edits
the English text, the recorded version no longer matches and the translation is *stale*; a Markdown cell
whose ``translates`` is ``null`` has not been translated yet.

:func:`problems` lists everything out of step in one notebook (the test suite asserts there is nothing);
:func:`sync` copies the English code cells over and adds or drops cells to follow the English structure,
never touching a translation; :func:`export_text` and :func:`import_text` move the Markdown cells through a
plain text file a translator can edit, ``import_text`` recording the English version each translation now
follows. ``python -m cnnbook translations`` is the command for all of these.
"""
from __future__ import annotations

import ast
import copy
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from cnnbook.course.student import default_source
from cnnbook.serialize import write_atomic

LANGUAGES = ("ko",)
"""The translated editions, each a subfolder of ``notebooks/``."""

_CELL_MARK = re.compile(r"^<!-- cell (?P<id>[A-Za-z0-9_-]+)(?: (?P<state>.*?))? -->$")


def english_dir() -> Path:
    """The English notebooks (:func:`cnnbook.course.student.default_source`)."""
    return default_source("en")


def edition_dir(lang: str) -> Path:
    """The folder of one translated edition, ``notebooks/<lang>/`` (inside :func:`english_dir`)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: the translated editions are {', '.join(map(repr, LANGUAGES))}")
    return english_dir() / lang


def notebook_names() -> list[str]:
    """The English notebooks' file names, in reading order."""
    return sorted(p.name for p in english_dir().glob("[0-9][0-9]-*.ipynb"))


def version(source: str) -> str:
    """The version of an English cell's text: 16 hex digits of the SHA-256 of its source."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


class _MaskText(ast.NodeTransformer):
    """Replaces every string literal by one placeholder, and an f-string by its sorted placeholders."""

    def visit_Constant(self, node):
        return ast.Constant("<text>") if isinstance(node.value, str) else node

    def visit_JoinedStr(self, node):
        fields = sorted(ast.dump(self.visit(v.value)) for v in node.values if isinstance(v, ast.FormattedValue))
        return ast.Constant("<f-string " + " | ".join(fields) + ">")


def code_shape(source: str) -> str | None:
    """The syntax of ``source`` with its text masked (see :func:`same_code`); None when it is not plain Python
    (an IPython magic, say), which then has to match exactly."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    return ast.dump(_MaskText().visit(tree))


def same_code(english: str, translated: str) -> bool:
    """Whether two code cells differ only in the text they show: string literals and comments."""
    if english == translated:
        return True
    shape = code_shape(english)
    return shape is not None and shape == code_shape(translated)


def translates(cell) -> str | None:
    """The English version a Korean Markdown cell translates, or None when it is not translated yet."""
    return cell.get("metadata", {}).get("cnnbook", {}).get("translates")


def _first_line(cell) -> str:
    line = next((s for s in cell.source.splitlines() if s.strip()), "")
    return line if len(line) <= 70 else line[:67] + "..."


@dataclass(frozen=True)
class Problem:
    """One thing out of step: ``kind`` is one of ``structure, code, untranslated, stale, missing``."""

    notebook: str
    kind: str
    cell: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.notebook} cell {self.cell}" if self.cell else self.notebook
        return f"{where}: {self.kind}: {self.detail}"


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def problems(name: str, lang: str = "ko") -> list[Problem]:
    """Everything in which ``notebooks/<lang>/<name>`` is out of step with ``notebooks/<name>``."""
    en_path, tr_path = english_dir() / name, edition_dir(lang) / name
    if not tr_path.is_file():
        return [Problem(name, "missing", "", f"{tr_path} does not exist; "
                        f"python -m cnnbook translations sync --lang {lang} creates it")]
    en, tr = _read(en_path), _read(tr_path)
    en_ids = [c.get("id") for c in en.cells]
    tr_ids = [c.get("id") for c in tr.cells]
    if en_ids != tr_ids or [c.cell_type for c in en.cells] != [c.cell_type for c in tr.cells]:
        return [Problem(name, "structure", "", _structure_difference(en, tr)
                        + f"; python -m cnnbook translations sync --lang {lang} fixes the structure")]
    found = []
    for en_cell, tr_cell in zip(en.cells, tr.cells):
        cid = en_cell.get("id")
        if en_cell.cell_type == "code":
            if not same_code(en_cell.source, tr_cell.source):
                found.append(Problem(name, "code", cid, "the code differs from the English beyond its strings "
                                     f"and comments ({_first_line(en_cell)!r}); sync copies the English over"))
            elif en_cell.metadata != tr_cell.metadata:
                found.append(Problem(name, "code", cid, "the code cell's metadata differs from the English "
                                     f"({_first_line(en_cell)!r}); sync copies it over"))
        elif en_cell.cell_type == "markdown":
            recorded = translates(tr_cell)
            if recorded is None:
                found.append(Problem(name, "untranslated", cid, _first_line(en_cell)))
            elif recorded != version(en_cell.source):
                found.append(Problem(name, "stale", cid, f"translates English version {recorded}, the English "
                                     f"cell is now {version(en_cell.source)} ({_first_line(en_cell)!r})"))
            elif en_cell.metadata.get("nbgrader") != tr_cell.metadata.get("nbgrader"):
                found.append(Problem(name, "code", cid, "the Markdown cell's nbgrader metadata differs"))
    return found


def _structure_difference(en, tr) -> str:
    for i, (a, b) in enumerate(zip(en.cells, tr.cells)):
        if a.get("id") != b.get("id") or a.cell_type != b.cell_type:
            return (f"cell {i} is {a.cell_type} {a.get('id')} in English but {b.cell_type} {b.get('id')} here")
    return f"{len(en.cells)} cells in English, {len(tr.cells)} here"


def _translated_cell(en_cell, old=None):
    """The Korean cell for ``en_cell``: code copied, keeping ``old``'s translated strings where its code is still
    the same (:func:`same_code`); Markdown kept from ``old`` or marked untranslated."""
    if en_cell.cell_type != "markdown":
        cell = copy.deepcopy(en_cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if old is not None and old.cell_type == "code" and same_code(en_cell.source, old.source):
                cell.source = old.source
        return cell
    if old is not None and old.cell_type == "markdown":
        cell = copy.deepcopy(old)
    else:
        cell = copy.deepcopy(en_cell)
        cell.metadata.setdefault("cnnbook", {})["translates"] = None
    nbgrader = en_cell.metadata.get("nbgrader")
    if nbgrader is None:
        cell.metadata.pop("nbgrader", None)
    else:
        cell.metadata["nbgrader"] = copy.deepcopy(nbgrader)
    return cell


def sync(name: str, lang: str = "ko") -> list[str]:
    """Bring ``notebooks/<lang>/<name>`` to the English structure; return what changed, one line each.

    Code cells are copied from the English; an English cell the edition lacks is added (Markdown as
    untranslated English text); a cell the English no longer has is dropped. Translations are kept as they
    are, stale or not: only a translator can update them. The file is replaced in one step.
    """
    en_path, tr_path = english_dir() / name, edition_dir(lang) / name
    en = _read(en_path)
    old = _read(tr_path) if tr_path.is_file() else None
    old_cells = {c.get("id"): c for c in old.cells} if old else {}
    new = copy.deepcopy(en)
    new.cells = [_translated_cell(c, old_cells.get(c.get("id"))) for c in en.cells]
    new.metadata = copy.deepcopy(old.metadata if old else en.metadata)
    new.metadata.setdefault("cnnbook", {})["language"] = lang
    changes = []
    if old is None:
        changes.append(f"{name}: created from the English ({len(new.cells)} cells)")
    else:
        en_ids = {c.get("id") for c in en.cells}
        for c in en.cells:
            cid, before = c.get("id"), old_cells.get(c.get("id"))
            if before is None:
                changes.append(f"{name} cell {cid}: added ({c.cell_type}: {_first_line(c)!r})")
            elif c.cell_type == "code" and not same_code(c.source, before.source):
                lost = " (its Korean strings are gone: translate them again)" if _has_text(before.source) else ""
                changes.append(f"{name} cell {cid}: code copied from the English{lost}")
            elif c.cell_type == "code" and before.metadata != c.metadata:
                changes.append(f"{name} cell {cid}: code cell metadata copied from the English")
        changes += [f"{name} cell {cid}: dropped (no longer in the English)" for cid in old_cells if cid not in en_ids]
        if [c.get("id") for c in old.cells if c.get("id") in en_ids] != [c.get("id") for c in en.cells
                                                                           if c.get("id") in old_cells]:
            changes.append(f"{name}: cells reordered as in the English")
    if changes:
        write_notebook(new, tr_path)
    return changes


def _has_text(source: str) -> bool:
    """Whether a code cell shows Hangul (so a copy from the English loses a translation)."""
    return re.search("[\uac00-\ud7a3]", source) is not None


def write_notebook(nb, path: Path) -> None:
    """Validate ``nb`` and write it to ``path`` in one step (:func:`cnnbook.serialize.write_atomic`)."""
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb)
    write_atomic(path, (text if text.endswith("\n") else text + "\n").encode("utf-8"))


def export_text(name: str, lang: str = "ko", only_pending: bool = False) -> str:
    """The Markdown cells of ``notebooks/<lang>/<name>`` as one text file for a translator.

    Each cell starts with a line ``<!-- cell ID STATE -->`` (STATE: ``translated``, ``stale`` or
    ``untranslated``); for a stale or untranslated cell the current English text follows as a comment-free
    block to translate. ``only_pending``: only the stale and untranslated cells.
    """
    en, tr = _read(english_dir() / name), _read(edition_dir(lang) / name)
    en_cells = {c.get("id"): c for c in en.cells}
    blocks = []
    for cell in tr.cells:
        if cell.cell_type != "markdown":
            continue
        en_cell = en_cells.get(cell.get("id"))
        recorded = translates(cell)
        if recorded is None:
            state, text = "untranslated", en_cell.source if en_cell else cell.source
        elif en_cell is not None and recorded != version(en_cell.source):
            state, text = "stale", cell.source + "\n\n<!-- English now:\n" + en_cell.source + "\n-->"
        else:
            state, text = "translated", cell.source
        if only_pending and state == "translated":
            continue
        blocks.append(f"<!-- cell {cell.get('id')} {state} -->\n{text.rstrip()}\n")
    return "\n".join(blocks)


def import_text(name: str, text: str, lang: str = "ko") -> list[str]:
    """Put the translated blocks of ``text`` (the :func:`export_text` format) into ``notebooks/<lang>/<name>``.

    Each block replaces its cell's source and records the English cell's current version. Every block is
    checked before anything is written: an unknown id, a code cell's id, an empty block or one still holding
    the ``<!-- English now:`` comment is refused, naming the cell, and the notebook stays as it was.
    Returns the ids written.
    """
    path = edition_dir(lang) / name
    tr, en = _read(path), _read(english_dir() / name)
    en_cells = {c.get("id"): c for c in en.cells}
    tr_cells = {c.get("id"): c for c in tr.cells}
    blocks = _parse_blocks(text)
    for cid, body in blocks:
        if cid not in tr_cells or cid not in en_cells:
            raise ValueError(f"{name}: no cell {cid!r} in both editions (the ids come from "
                             f"python -m cnnbook translations export {name})")
        if tr_cells[cid].cell_type != "markdown":
            raise ValueError(f"{name} cell {cid} is a {tr_cells[cid].cell_type} cell: code is copied from the "
                             "English by sync, not translated")
        if not body.strip():
            raise ValueError(f"{name} cell {cid}: the translation is empty")
        if "<!-- English now:" in body:
            raise ValueError(f"{name} cell {cid}: remove the '<!-- English now: ... -->' comment "
                             "once the translation follows it")
    for cid, body in blocks:
        cell = tr_cells[cid]
        cell.source = body
        cell.metadata.setdefault("cnnbook", {})["translates"] = version(en_cells[cid].source)
    if blocks:
        write_notebook(tr, path)
    return [cid for cid, _ in blocks]


def _parse_blocks(text: str) -> list[tuple[str, str]]:
    blocks, current, lines = [], None, []
    for line in text.splitlines():
        match = _CELL_MARK.match(line.strip())
        if match:
            if current is not None:
                blocks.append((current, "\n".join(lines).strip("\n")))
            current, lines = match["id"], []
        elif current is not None:
            lines.append(line)
        elif line.strip():
            raise ValueError(f"text before the first '<!-- cell ID -->' line: {line[:60]!r}")
    if current is not None:
        blocks.append((current, "\n".join(lines).strip("\n")))
    seen = set()
    for cid, _ in blocks:
        if cid in seen:
            raise ValueError(f"cell {cid} appears twice")
        seen.add(cid)
    return blocks
