"""A check, run in a browser page, that Hangul is drawn with a real font and not as the boxes of missing glyphs.

Two different Hangul syllables drawn in the page's own font differ, and neither is the box a missing glyph is
drawn as (that of an unassigned code point): true only where a Hangul font is installed or bundled. Used by
the browser tests of the Korean notebooks and of the web book: ``page.evaluate(HANGUL_RENDERS, font_family)``.
"""

HANGUL_RENDERS = """(family) => {
    const canvas = document.createElement('canvas');
    canvas.width = 64; canvas.height = 64;
    const ctx = canvas.getContext('2d');
    const draw = (text) => {
        ctx.clearRect(0, 0, 64, 64);
        ctx.font = `40px ${family}`;
        ctx.fillText(text, 4, 48);
        return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(',');
    };
    const han = draw('한'), guk = draw('국'), none = draw('\\u{10FFFD}');
    return han !== guk && han !== none && guk !== none;
}"""
