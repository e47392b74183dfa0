"""The message catalogs' templates, found in the code: ``python -m cnnbook translations catalog``.

A template is the English text the code passes to :func:`cnnbook.course.language.tr` as a string literal,
``tr("{call} returned None ...", call=text)``, or marks with ``N_("...")`` to translate later (a text kept in
a table). :func:`templates` finds them all by reading the package's source (``cnnbook/**/*.py``, with
:mod:`ast`, so adjacent literals count as the one string Python makes of them).

Which PO file holds which templates is written down in :data:`LITERAL_SOURCES` (the ``tr``/``N_`` literals of
some source folders) and :data:`TEMPLATE_FUNCTIONS` (a function that lists a part's templates, for texts that are
data rather than literals, such as the claims ledger's). :func:`update` brings the declared PO files of a
language in step: it adds every template they lack (untranslated, for a translator to fill in), marks entries
no longer used as obsolete (``#~``, kept for reuse; delete them once done), and reports the counts. A PO file
declared in neither table is read, counted and left as it is.
"""
from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

from cnnbook.course.language import CATALOG_DIR, LANGUAGES

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""``cnnbook/``: the source searched for templates."""

KEYWORDS = ("tr", "N_")
"""The functions whose first argument, a string literal, is a template."""

LITERAL_SOURCES = {"data.po": ("data",),
                   "exercises.po": ("course/exercises", "models/torch_port.py"),
                   "explorers.po": ("explore.py", "widgets.py", "viz"),
                   "messages.po": ("layers", "commands/doctor.py", "nn", "optim.py", "backend.py"),
                   "training.po": ("train.py", "models/attention.py", "models/blocks.py", "models/local.py",
                                   "models/measures.py", "models/reference.py", "models/vit.py", "models/__init__.py"),
                   "workbook.po": ("gradcheck.py", "serialize.py", "course/learner.py", "course/solutions.py",
                                   "commands/lab.py")}
"""PO file -> the folders (or files) under ``cnnbook/`` whose ``tr``/``N_`` literals it holds."""

TEMPLATE_FUNCTIONS: dict[str, str] = {}
"""PO file -> ``"module:function"`` returning its templates (an iterable of strings), for a part whose texts
are data, not literals; e.g. ``{"claims.po": "cnnbook.course.claims:catalog_templates"}``."""

HEADER = {"Project-Id-Version": "cnnbook", "MIME-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8",
          "Content-Transfer-Encoding": "8bit"}


@dataclass(frozen=True)
class Template:
    """One use of a template: its text and where it is (``path`` relative to the repository, 1-based ``line``)."""
    text: str
    path: str
    line: int


def templates(package_dir: Path = PACKAGE_DIR) -> list[Template]:
    """Every ``tr("...")`` and ``N_("...")`` literal in the package, in file and line order."""
    found = []
    for path in sorted(Path(package_dir).rglob("*.py")):
        found += templates_in(path, root=Path(package_dir).parent)
    return found


def templates_in(path: Path, root: Path = PACKAGE_DIR.parent) -> list[Template]:
    """The template literals of one source file."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    where = Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    found = [Template(node.args[0].value, where, node.lineno) for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS
             and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]
    return sorted(found, key=lambda t: t.line)


def _under(template: Template, sources) -> bool:
    return any(template.path == f"cnnbook/{s}" or template.path.startswith(f"cnnbook/{s}/") for s in sources)


def domain_templates(name: str, found: list[Template] | None = None) -> dict[str, list[str]]:
    """``{template: [source files]}`` that PO file ``name`` should hold, in order of first use."""
    if name in LITERAL_SOURCES:
        wanted: dict[str, list[str]] = {}
        for t in templates() if found is None else found:
            if _under(t, LITERAL_SOURCES[name]):
                paths = wanted.setdefault(t.text, [])
                if t.path not in paths:
                    paths.append(t.path)
        return wanted
    if name in TEMPLATE_FUNCTIONS:
        module, function = TEMPLATE_FUNCTIONS[name].split(":")
        return {text: [] for text in getattr(importlib.import_module(module), function)()}
    raise ValueError(f"{name!r} is not a managed catalog; the managed ones are "
                     f"{', '.join(sorted({*LITERAL_SOURCES, *TEMPLATE_FUNCTIONS}))}")


def unassigned(found: list[Template] | None = None) -> list[Template]:
    """Template literals in files that no PO file of :data:`LITERAL_SOURCES` covers (they stay in English)."""
    return [t for t in (templates() if found is None else found)
            if not any(_under(t, sources) for sources in LITERAL_SOURCES.values())]


@dataclass
class Counts:
    """What a PO file holds after :func:`update`."""
    name: str
    messages: int
    untranslated: int
    obsolete: int
    added: int = 0
    retired: int = 0
    managed: bool = True

    def __str__(self) -> str:
        text = f"{self.name}: {self.messages} messages, {self.untranslated} untranslated, {self.obsolete} obsolete"
        if self.added or self.retired:
            text += f" ({self.added} added, {self.retired} newly obsolete)"
        return text + ("" if self.managed else " (not managed here: its templates are not declared in catalog.py)")


def update(lang: str, write: bool = True) -> list[Counts]:
    """Bring ``locale/<lang>/*.po`` in step with the code (see the module's description); one count per file."""
    import polib

    if lang not in LANGUAGES or lang == "en":
        raise ValueError(f"lang={lang!r}: choose one of {', '.join(repr(code) for code in LANGUAGES if code != 'en')} "
                         "(English is the templates themselves)")
    folder = CATALOG_DIR / lang
    managed = {*LITERAL_SOURCES, *TEMPLATE_FUNCTIONS}
    names = sorted(managed | {p.name for p in folder.glob("*.po")})
    found = templates()
    counts = []
    for name in names:
        path = folder / name
        po = polib.pofile(str(path)) if path.exists() else _new_catalog(lang, name)
        added = retired = 0
        if name in managed:
            wanted = domain_templates(name, found)
            entries = {e.msgid: e for e in po}
            for text, paths in wanted.items():
                entry = entries.get(text)
                if entry is None:
                    po.append(polib.POEntry(msgid=text, msgstr="", occurrences=[(p, "") for p in paths]))
                    added += 1
                    continue
                if entry.obsolete:
                    entry.obsolete = False
                entry.occurrences = [(p, "") for p in paths]
            for entry in po:
                if entry.msgid not in wanted and not entry.obsolete:
                    entry.obsolete = True
                    retired += 1
            if write:
                path.parent.mkdir(parents=True, exist_ok=True)
                po.save(str(path))
        active = [e for e in po if not e.obsolete]
        counts.append(Counts(name, len(active), sum(not e.translated() for e in active),
                             sum(e.obsolete for e in po), added, retired, name in managed))
    return counts


def _new_catalog(lang: str, name: str):
    import polib

    po = polib.POFile()
    po.header = (f"Messages of cnnbook ({name}).\nmsgid: the English template exactly as the code passes it to "
                 "cnnbook.course.language.tr;\nmsgstr: the translation, with the same {fields}.")
    po.metadata = {**HEADER, "Language": lang}
    return po


__all__ = ["Template", "templates", "templates_in", "domain_templates", "unassigned", "update", "Counts",
           "LITERAL_SOURCES", "TEMPLATE_FUNCTIONS", "KEYWORDS"]
