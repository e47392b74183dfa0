"""The one language setting: English (``"en"``) or Korean (``"ko"``) for what the course says in words.

The exercise checks' hints and the claims ledger write their messages through :func:`tr`::

    raise ExerciseError(tr("{call} returned None: does your function end with `return {what}`?",
                           call=call_text, what=what))

``tr`` looks the English template up in the Korean catalog, the PO files in ``cnnbook/course/locale/ko/``
(gettext's format, one file per part: ``exercises.po``, ``claims.po``; read with ``polib``, so translators can
use any PO editor), and fills in the fields. A template the
catalog lacks comes back in English. The check logic is written once; only the words change.

Which language: :func:`set_language` when called; else ``$CNNBOOK_LANG`` (``en`` or ``ko``); else Korean when
the kernel runs in a Korean edition (the current folder is called ``ko``, as ``notebooks/ko/`` and the Korean
working copy are, or holds the marker file :data:`MARKER` that ``python -m cnnbook student --lang ko`` writes);
else English. The notebooks' code cells are the same in both editions, so the folder decides, not the code.
"""
from __future__ import annotations

import functools
import os
import string
from pathlib import Path

LANGUAGES = ("en", "ko")
"""The languages the course speaks: English and Korean."""

ENV = "CNNBOOK_LANG"
"""The environment variable that chooses the language when :func:`set_language` was not called."""

MARKER = ".cnnbook-language"
"""A file in a notebook folder whose text (``ko``) says which edition the folder holds."""

CATALOG_DIR = Path(__file__).resolve().parent / "locale"

_chosen: str | None = None


def _check(lang, where: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"{where}={lang!r}: choose one of {', '.join(map(repr, LANGUAGES))}")
    return lang


def set_language(lang: str | None) -> None:
    """Speak ``lang`` (``"en"`` or ``"ko"``) from now on; ``None`` goes back to the automatic choice."""
    global _chosen
    _chosen = None if lang is None else _check(lang, "lang")


def get_language() -> str:
    """The language in use now (see the module's description for how it is chosen)."""
    if _chosen is not None:
        return _chosen
    env = os.environ.get(ENV, "").strip()
    if env:
        return _check(env, f"${ENV}")
    return edition_of(Path.cwd())


def edition_of(folder: Path) -> str:
    """``"ko"`` when ``folder`` holds a Korean edition (named ``ko``, or with the :data:`MARKER` file), else
    ``"en"``."""
    folder = Path(folder)
    if folder.name == "ko":
        return "ko"
    try:
        text = (folder / MARKER).read_text(encoding="utf-8").strip()
    except OSError:
        return "en"
    return text if text in LANGUAGES else "en"


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """``{English template: translation}`` for ``lang`` (empty for English), from ``locale/<lang>/*.po``."""
    _check(lang, "lang")
    if lang == "en":
        return {}
    import polib  # imported here, so that English needs no catalog

    return {entry.msgid: entry.msgstr
            for path in sorted((CATALOG_DIR / lang).glob("*.po")) for entry in polib.pofile(str(path))
            if entry.msgstr and not entry.obsolete and "fuzzy" not in entry.flags}


def fields(template: str) -> set[str]:
    """The ``{names}`` a template fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def tr(template: str, **values) -> str:
    """``template`` in the language in use, with ``{name}`` fields filled from ``values`` (``str.format``)."""
    text = catalog(get_language()).get(template, template)
    return text.format(**values)


def N_(template: str) -> str:
    """``template`` unchanged: marks a text kept in a table or constant for the catalog; ``tr(text)`` shows it.

    gettext's convention: the translation is looked up when the text is shown, in the language in use then,
    not when the module is imported.
    """
    return template
