"""What each figure of a notebook shows, in words: the alt text of its picture on the book's page.

The book runs every notebook with a preamble (:data:`cnnbook.course.book.execute.PREAMBLE`) that records a
matplotlib figure's titles in its PNG output's metadata (``cnnbook``: ``title``, ``panels``). A figure's
alt text is its title, with its panels' titles where they say something; a figure without titles is named
by the heading of the section it sits in. :func:`describe_figures` maps each PNG (by the SHA-256 of its
bytes, the name MyST-NB gives its file) to ``{"alt": ..., "width": ...}``; the book's Sphinx configuration
sets the picture's alt text from it, and its width in pixels, so that Sphinx links the picture to its file
(open at full size).
"""
from __future__ import annotations

import base64
import hashlib
import os
import re

FIGURES = "_cnnbook_figures.json"
"""The file, in a staged edition's source folder, that ``conf.py`` reads."""

WORDS = {
    "en": {"figure": "Figure: {text}", "section": "Figure in the section “{heading}”",
           "panels": "{title} (panels: {panels})", "still": "The widget's first picture: {heading}",
           "more": ", and {n} more"},
    "ko": {"figure": "그림: {text}", "section": "그림 — 절 “{heading}”",
           "panels": "{title} (패널: {panels})", "still": "위젯의 첫 그림 — {heading}",
           "more": " 외 {n}개"},
}
MAX_PANELS = 6
MAX_CHARS = 240
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def plain(text: str) -> str:
    """``text`` (Markdown or matplotlib mathtext) as words a screen reader can read."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [words](link) -> words
    for tex, sign in (("\\times", " × "), ("\\rightarrow", " → "), ("\\to", " → "), ("\\approx", " ≈ "),
                      ("\\leq", " ≤ "), ("\\geq", " ≥ "), ("\\cdot", " · "), ("\\ ", " ")):
        text = text.replace(tex, sign)
    text = re.sub(r"\\[a-zA-Z]+", "", text)
    text = re.sub(r"[`*_$]|<[^>]+>", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _says_something(title: str) -> bool:
    """A panel title that is more than a shape or a number (``(1, 28, 28)``, ``3``)."""
    return bool(re.search(r"[^\W\d_]", re.sub(r"\(\s*\d+(?:\s*,\s*\d+)*\s*\)", "", title)))


def alt_text(meta: dict | None, heading: str, lang: str) -> str:
    """The alt text of a figure with metadata ``meta`` (``title``, ``panels``) under section ``heading``."""
    if lang not in WORDS:
        raise ValueError(f"lang={lang!r}: the book's editions are 'en' and 'ko'")
    words = WORDS[lang]
    meta = meta or {}
    title = plain(meta.get("title") or "")
    panels = [plain(p) for p in meta.get("panels") or [] if _says_something(plain(p))]
    shown = ", ".join(panels[:MAX_PANELS])
    if len(panels) > MAX_PANELS:
        shown += words["more"].format(n=len(panels) - MAX_PANELS)
    if title and shown:
        text = words["panels"].format(title=title, panels=shown)
    else:
        text = title or shown
    if not text:
        return words["section"].format(heading=plain(heading)) if heading else words["figure"].format(text="")
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS - 1].rstrip(" ,;") + "…"
    return words["figure"].format(text=text)


def still_alt(heading: str, lang: str) -> str:
    """The alt text of a widget's picture, shown as its first state, under section ``heading``."""
    return WORDS.get(lang, WORDS["en"])["still"].format(heading=plain(heading))


def headings(nb) -> list[str]:
    """For each cell of ``nb``, the last heading at or above it ('' before the first)."""
    current, out = "", []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = _HEADING.findall(cell.source)
            if found:
                current = found[-1]
        out.append(current)
    return out


def png_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` in pixels of PNG ``data`` (from its header), or None when it is not a PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def describe_figures(nb, lang: str) -> dict:
    """``{sha256 of the picture's bytes: {"alt": text, "width": pixels}}`` for every PNG output of ``nb``, and
    for every SVG output (a drawing such as 04's output-size picture, named by its section; no width)."""
    found = {}
    for cell, heading in zip(nb.cells, headings(nb)):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/svg+xml" in data:  # MyST-NB names the file by the text's bytes, os.linesep between lines
                svg = "".join(data["image/svg+xml"])
                svg_bytes = os.linesep.join(svg.splitlines()).encode("utf-8")
                found[hashlib.sha256(svg_bytes).hexdigest()] = {"alt": alt_text(None, heading, lang), "width": None}
            if "image/png" not in data:
                continue
            png = base64.b64decode("".join(data["image/png"]))
            meta = (out.get("metadata", {}).get("image/png") or {}).get("cnnbook") or out.get("metadata", {}).get(
                "cnnbook")
            size = png_size(png)
            found[hashlib.sha256(png).hexdigest()] = {"alt": alt_text(meta, heading, lang),
                                                      "width": size[0] if size else None}
    return found
