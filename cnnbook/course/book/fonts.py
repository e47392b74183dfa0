"""The book's own Hangul face: a WOFF2 subset of NanumGothic with just the Hangul an edition shows.

Browsers refuse NanumGothic.ttf as Debian ships it (Chromium's font sanitizer: "TSI3: zero-length table",
an empty table of the font editor's hinting sources), and it weighs 4.7 MB. :func:`subset_font` keeps the
glyphs of the characters an edition's pages show (:func:`hangul_in`), drops hinting and the editor's
tables, and writes WOFF2 (fontTools, with brotli). The style sheet declares the face with
:data:`UNICODE_RANGE`, so a browser fetches it only for a page that shows Hangul, and Latin text keeps the
theme's fonts.
"""
from __future__ import annotations

import re
from pathlib import Path

FAMILY = "cnnbook-Hangul"
FILE = "cnnbook-hangul.woff2"
# Hangul Jamo, CJK symbols and punctuation, compatibility Jamo, Jamo extended A, syllables, Jamo extended B,
# and the full-width forms Korean text uses
RANGES = ((0x1100, 0x11FF), (0x3000, 0x303F), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7A3),
          (0xD7B0, 0xD7FF), (0xFF01, 0xFF60))
UNICODE_RANGE = ", ".join(f"U+{lo:04X}-{hi:04X}" for lo, hi in RANGES)
_IN_RANGE = re.compile("[" + "".join(f"\\u{lo:04x}-\\u{hi:04x}" for lo, hi in RANGES) + "]")
EDITOR_TABLES = ("TSI0", "TSI1", "TSI2", "TSI3", "TSI5", "TSIB", "TSIC", "TSID", "TSIJ", "TSIP", "TSIS", "TSIV")


def hangul_in(texts) -> str:
    """The characters of :data:`RANGES` that occur in ``texts`` (strings), sorted, each once."""
    found = set()
    for text in texts:
        found.update(_IN_RANGE.findall(text))
    return "".join(sorted(found))


def subset_font(font: Path, chars: str, out: Path) -> int:
    """Write the glyphs of ``chars`` from ``font`` to ``out`` as WOFF2; return its size in bytes.

    Raises ``ValueError`` when ``chars`` is empty or the font has none of them (no face to serve).
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    if not chars:
        raise ValueError(f"no characters to keep from {font}: nothing to subset")
    options = subset.Options()
    options.flavor = "woff2"
    options.hinting = False
    options.desubroutinize = True
    options.drop_tables = [*options.drop_tables, *EDITOR_TABLES, "DSIG"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]  # the names and the licence pointer (ID 0 copyright); no more
    ttf = TTFont(font, lazy=False)
    cmap = ttf.getBestCmap()
    if not any(ord(c) in cmap for c in chars):
        raise ValueError(f"{font} has none of the {len(chars)} characters to keep: not a Hangul font?")
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(ttf)
    out.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(ttf, str(out), options)
    return out.stat().st_size


def empty_tables(path: Path) -> list[str]:
    """The tables of the font at ``path`` that are zero bytes long (browsers reject such a font)."""
    from fontTools.ttLib import TTFont
    font = TTFont(path, lazy=True)
    return [tag for tag in font.reader.keys() if len(font.reader[tag]) == 0]
