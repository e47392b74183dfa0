"""Diagrams of two architectures: a vision transformer's pipeline (notebook 10) and an Inception block (notebook 12).

Both draw what the text describes from arrays the notebook computes, so every picture shows real numbers of the
model at hand. Import explicitly: ``from cnnbook.viz.diagrams import show_vit_pipeline, draw_branching_block``.
"""
from __future__ import annotations

import numpy as np

from cnnbook.course.language import tr
from cnnbook.viz.figure import MAX_WIDTH, host, pyplot


def patch_strip(image, patch_size: int, rows: int = 1, gap: int = 1, band: int = 0) -> np.ndarray:
    """The patches of one image ``(C, H, W)`` or ``(H, W)``, in token order (row by row), side by side in ``rows`` rows.

    Returns a grey (channel-mean) picture ``(rows * (band + P), n * (P + gap) - gap)`` with ``n = T / rows`` patches
    per row: patch ``t`` sits in row ``t // n`` under a blank band ``band`` pixels high (room for a label), from
    column ``(t % n) * (P + gap)``. Bands and gaps are NaN, so that ``imshow`` leaves them blank. ``ValueError``
    when ``P`` does not tile the image or ``rows`` does not divide the number of patches.
    """
    img = np.asarray(host(image), dtype=float)
    img = img.mean(axis=0) if img.ndim == 3 else img
    if img.ndim != 2:
        raise ValueError(tr("image must be (C, H, W) or (H, W), got shape {shape}", shape=np.shape(host(image))))
    P = int(patch_size)
    H, W = img.shape
    if P < 1 or H % P or W % P:
        raise ValueError(tr("patch_size={patch_size!r} must be a positive divisor of the image's {H}x{W}",
                            patch_size=patch_size, H=H, W=W))
    patches = img.reshape(H // P, P, W // P, P).transpose(0, 2, 1, 3).reshape(-1, P, P)  # (T, P, P)
    if rows < 1 or len(patches) % rows:
        raise ValueError(tr("rows={rows!r} must divide the {n} patches", rows=rows, n=len(patches)))
    n = len(patches) // rows
    strip = np.full((rows * (band + P), n * (P + gap) - gap), np.nan)
    for t, patch in enumerate(patches):
        r, c = divmod(t, n)
        strip[r * (band + P) + band:(r + 1) * (band + P), c * (P + gap):c * (P + gap) + P] = patch
    return strip


def show_vit_pipeline(image, tokens, attention, probabilities, patch_size: int, class_names=None, title=None):
    """A ViT's pipeline for one image, in four panels, left to right.

    image : ``(C, H, W)`` the input; it is shown cut into ``patch_size`` patches, and the patches in token order.
    tokens : ``(T + 1, D)`` the tokens entering the first block (class token first, then one per patch).
    attention : ``(T + 1, T + 1)`` one head's attention matrix in the first block (row = query, sums to 1).
    probabilities : ``(classes,)`` the softmax of the class token's final scores.
    """
    img = np.asarray(host(image), dtype=float)
    grey = img.mean(axis=0) if img.ndim == 3 else img
    tok = np.asarray(host(tokens), dtype=float)
    att = np.asarray(host(attention), dtype=float)
    prob = np.asarray(host(probabilities), dtype=float).reshape(-1)
    T = (grey.shape[0] // patch_size) * (grey.shape[1] // patch_size) if patch_size > 0 else 0
    rows = 2 if T % 2 == 0 and T >= 8 else 1
    band = 4
    strip = patch_strip(img, patch_size, rows=rows, band=band)
    if tok.ndim != 2 or tok.shape[0] != T + 1 or att.shape != (T + 1, T + 1):
        raise ValueError(tr("{T} patches need tokens (T + 1, D) = ({T1}, D) and attention ({T1}, {T1}); "
                            "got tokens {tokens} and attention {attention}", T=T, T1=T + 1, tokens=tok.shape,
                            attention=att.shape))
    plt = pyplot()
    fig = plt.figure(figsize=(MAX_WIDTH, 5.4), layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 1.5])
    ax_img = fig.add_subplot(grid[0, 0])
    ax_img.imshow(grey, cmap="gray")
    H, W = grey.shape
    for k in range(patch_size, H, patch_size):
        ax_img.axhline(k - 0.5, color="tab:orange", lw=1.2)
    for k in range(patch_size, W, patch_size):
        ax_img.axvline(k - 0.5, color="tab:orange", lw=1.2)
    ax_img.set_title(tr("1. the image ({H} x {W}) cut into\n{rows} x {cols} patches of {patch} x {patch} px",
                        H=H, W=W, rows=H // patch_size, cols=W // patch_size, patch=patch_size), fontsize=9)
    ax_img.set_xlabel(tr("column (pixels)"), fontsize=8)
    ax_img.set_ylabel(tr("row (pixels)"), fontsize=8)
    ax_seq = fig.add_subplot(grid[0, 1:])
    low, high = float(np.nanmin(strip)), float(np.nanmax(strip))
    ax_seq.imshow(np.where(np.isnan(strip), high, strip), cmap="gray", vmin=low, vmax=max(high, low + 1e-12),
                  aspect="equal")                               # bands and gaps drawn white
    n = T // rows
    for t in range(T):
        r, c = divmod(t, n)
        ax_seq.text(c * (patch_size + 1) + (patch_size - 1) / 2, r * (band + patch_size) + band / 2 - 0.5, str(t + 1),
                    ha="center", va="center", fontsize=7)
    ax_seq.set_xticks([])
    ax_seq.set_yticks([])
    ax_seq.set_xlabel(tr("patch number = token position (row by row)"), fontsize=8)
    ax_seq.set_title(tr("2. the patches in order: a sequence of {T} 'words' (the class token is put in front next)",
                        T=T), fontsize=9)
    labels = ["cls"] + [str(t) for t in range(1, T + 1)]
    ax_tok = fig.add_subplot(grid[1, 0])
    limit = float(np.abs(tok).max()) or 1.0
    im = ax_tok.imshow(tok.T, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax_tok.set_xticks(np.arange(0, T + 1, 4), labels[::4], fontsize=7)
    ax_tok.set_xlabel(tr("token (cls = class token)"), fontsize=8)
    ax_tok.set_ylabel(tr("feature (D = {D})", D=tok.shape[1]), fontsize=8)
    ax_tok.set_title(tr("3. tokens: each patch through one\nshared linear map, plus its position"), fontsize=9)
    fig.colorbar(im, ax=ax_tok, shrink=0.8).ax.tick_params(labelsize=7)
    ax_att = fig.add_subplot(grid[1, 1])
    im = ax_att.imshow(att, cmap="viridis", vmin=0)
    ax_att.set_xticks(np.arange(0, T + 1, 4), labels[::4], fontsize=7)
    ax_att.set_yticks(np.arange(0, T + 1, 4), labels[::4], fontsize=7)
    ax_att.set_xlabel(tr("key token (attended to)"), fontsize=8)
    ax_att.set_ylabel(tr("query token"), fontsize=8)
    ax_att.set_title(tr("4. self-attention (block 1, one head):\nevery row spreads over all tokens"), fontsize=9)
    fig.colorbar(im, ax=ax_att, shrink=0.8, label=tr("attention weight")).ax.tick_params(labelsize=7)
    ax_out = fig.add_subplot(grid[1, 2])
    names = list(class_names) if class_names is not None else [str(k) for k in range(prob.size)]
    ax_out.barh(np.arange(prob.size), prob, color="tab:blue")
    ax_out.set_yticks(np.arange(prob.size), names, fontsize=7)
    ax_out.invert_yaxis()
    ax_out.set_xlim(0, 1)
    ax_out.set_xlabel(tr("probability"), fontsize=8)
    ax_out.set_title(tr("5. after the blocks, the class token\ngoes to a linear classifier"), fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def draw_branching_block(input_label: str, branches, output_label: str, title=None):
    """A block whose branches read the same input and whose outputs are concatenated (an Inception module).

    branches : a list of ``(steps, output_label)``: ``steps`` a list of layer names run in order (e.g.
    ``["3x3 max pool", "1x1 conv, 4 filters"]``), ``output_label`` the branch's output (e.g. its shape). A step
    that names a convolution ("conv", or the word in the language in use) is drawn blue, any other orange.
    """
    conv_word = tr("conv")
    branches = list(branches)
    if not branches:
        raise ValueError(tr("branches is empty: pass at least one (steps, output_label) pair"))
    plt = pyplot()
    n = len(branches)
    depth = max(len(steps) for steps, _ in branches)
    fig, ax = plt.subplots(figsize=(min(MAX_WIDTH, 2.4 * n + 0.6), 1.9 + 0.65 * (depth + 1)),
                           layout="constrained")
    ax.set_axis_off()
    width = 2.4 * n
    rows = depth + 3  # input, the branches' steps, their outputs, the concatenation
    ax.set_xlim(0, width)
    ax.set_ylim(0, rows)

    def box(x, y, text, colour):
        ax.text(x, y, text, ha="center", va="center", fontsize=8, wrap=False,
                bbox=dict(boxstyle="round,pad=0.35", facecolor=colour, edgecolor="black", linewidth=0.8))

    def arrow(x0, y0, x1, y1):
        ax.annotate("", xy=(x1, y1 + 0.28), xytext=(x0, y0 - 0.28),
                    arrowprops=dict(arrowstyle="->", color="black", linewidth=0.8))

    top, bottom = rows - 0.5, 0.5
    box(width / 2, top, input_label, "#eeeeee")
    for b, (steps, out_label) in enumerate(branches):
        x = 2.4 * (b + 0.5)
        y = top
        for k, step in enumerate(steps):
            arrow(width / 2 if k == 0 else x, y, x, top - 1 - k)
            y = top - 1 - k
            box(x, y, step, "#cfe3f7" if "conv" in step or conv_word in step else "#f7e3c6")
        arrow(x, y, x, top - 1 - depth)
        box(x, top - 1 - depth, out_label, "#ffffff")
        arrow(x, top - 1 - depth, width / 2, bottom)
    box(width / 2, bottom, output_label, "#d9f0d3")
    if title:
        ax.set_title(title, fontsize=10)
    return fig
