"""Measurements of models: of learned filters and units (notebooks 08 and 12) and of where a vision
transformer's heads look (notebook 10, :func:`attention_distances`); one definition each."""
from __future__ import annotations

import numpy as np

from cnnbook.backend import to_numpy
from cnnbook.course.language import tr
from cnnbook.layers.checks import whole_number


def neighbour_correlation(w) -> float:
    """Pearson correlation between each filter weight and its right and its lower neighbour.

    ``w`` is ``(F, C, KH, KW)`` (NumPy or CuPy). The pairs ``(w[..., i, j], w[..., i, j + 1])`` and
    ``(w[..., i, j], w[..., i + 1, j])`` of every filter and channel are pooled and correlated once, with
    the mean over all pairs (not each filter's own mean) removed. Independent random weights give about 0;
    smooth filters (blobs, ramps, edges wider than a pixel), whose neighbours are alike, give values near 1;
    a checkerboard gives -1.
    """
    w = np.asarray(to_numpy(w), dtype=np.float64)
    if w.ndim != 4 or w.shape[2] < 2 or w.shape[3] < 2:
        raise ValueError(tr("w has shape {shape}; expected (F, C, KH, KW) filters with KH, KW >= 2", shape=w.shape))
    first = np.concatenate([w[..., :, :-1].ravel(), w[..., :-1, :].ravel()])
    second = np.concatenate([w[..., :, 1:].ravel(), w[..., 1:, :].ravel()])
    if first.std() == 0 or second.std() == 0:
        raise ValueError(tr("w is constant along its neighbours, so their correlation is undefined; "
                            "pass filters whose weights vary"))
    return float(np.corrcoef(first, second)[0, 1])


def _filters(w, name="w", channels=None) -> np.ndarray:
    w = np.asarray(to_numpy(w), dtype=np.float64)
    if w.ndim != 4 or w.shape[2] < 2 or w.shape[3] < 2 or (channels is not None and w.shape[1] != channels):
        if channels:
            raise ValueError(tr("{name} has shape {shape}; expected (F, C, KH, KW) filters with {channels} channels "
                                "and KH, KW >= 2", name=name, shape=w.shape, channels=channels))
        raise ValueError(tr("{name} has shape {shape}; expected (F, C, KH, KW) filters with C channels and KH, KW >= 2",
                            name=name, shape=w.shape))
    return w


def channel_correlations(w) -> np.ndarray:
    """Agreement between every pair of a filter's colour channels, position by position: their cosine.

    ``w`` is ``(F, 3, KH, KW)``. For channels ``a`` and ``b`` (each ``KH * KW`` weights, not centred, so a
    uniform red-against-green blob counts), ``sum(a * b) / (|a| |b|)``. Returns ``(F, 3)``: the pairs
    (R, G), (R, B), (G, B). Near +1: the channels have the same pattern and sign (a grey, luminance filter);
    near -1: where one channel weighs positively the other weighs negatively (colour-opponent, e.g. red
    against green). Independent random weights give about 0 (spread ``1 / sqrt(KH * KW)``). An all-zero
    channel gets 0.
    """
    w = _filters(w, channels=3)
    flat = w.reshape(w.shape[0], 3, -1)                          # (F, 3, KH*KW)
    norm = np.linalg.norm(flat, axis=2)                           # (F, 3)
    out = np.zeros((w.shape[0], 3))
    for p, (a, b) in enumerate([(0, 1), (0, 2), (1, 2)]):
        denom = norm[:, a] * norm[:, b]
        num = (flat[:, a] * flat[:, b]).sum(axis=1)
        out[:, p] = np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)
    return out


def colour_opponent_share(w, threshold: float = -0.5) -> float:
    """Share of RGB filters ``(F, 3, KH, KW)`` that are colour-opponent: some pair of their channels
    disagrees in sign, position by position: their cosine (:func:`channel_correlations`) is below
    ``threshold`` (default -0.5). Independent random 5x5 weights give a few per cent."""
    if not -1 < threshold < 0:
        raise ValueError(tr("threshold={threshold}; pass a cosine between -1 and 0 (e.g. -0.5)",
                            threshold=repr(threshold)))
    return float((channel_correlations(w).min(axis=1) < threshold).mean())


def orientation_strength(w) -> np.ndarray:
    """How strongly oriented each filter's grey component is: the coherence of its gradient structure tensor.

    ``w`` is ``(F, C, KH, KW)``; the grey component is the mean over channels ``(KH, KW)``. Its gradients
    ``(g_r, g_c)`` (``numpy.gradient``, in weight units per pixel) summed over the filter give the structure
    tensor ``J = sum [[g_r^2, g_r g_c], [g_r g_c, g_c^2]]``, with eigenvalues ``l1 >= l2``; the coherence
    ``(l1 - l2) / (l1 + l2)`` is 1 for a straight edge or bar (every gradient along one direction) and near
    0 when the gradients point every way. Returns ``(F,)`` in [0, 1]; a constant filter gets 0.
    """
    grey = _filters(w).mean(axis=1)                                # (F, KH, KW)
    g_r, g_c = np.gradient(grey, axis=(1, 2))
    j_rr, j_cc, j_rc = (g_r ** 2).sum((1, 2)), (g_c ** 2).sum((1, 2)), (g_r * g_c).sum((1, 2))
    trace = j_rr + j_cc
    gap = np.sqrt((j_rr - j_cc) ** 2 + 4 * j_rc ** 2)              # l1 - l2
    return np.divide(gap, trace, out=np.zeros_like(trace), where=trace > 0)


def field_geometry(layers):
    """Where a unit of the last layer looks: ``(size, jump, offset)`` in input pixels.

    ``layers``: ``(kernel_size, stride, padding)`` triples, first layer first (convolutions and pools alike).
    Unit ``i`` (along one side) of the last layer sees input pixels ``offset + jump * i`` to
    ``offset + jump * i + size - 1``; ``size`` is :func:`cnnbook.layers.receptive_field` of the pairs.
    """
    size, jump, offset = 1, 1, 0
    for i, layer in enumerate(layers):
        if len(layer) != 3:
            raise ValueError(tr("layers[{index}]={layer}; pass (kernel_size, stride, padding) triples",
                                index=i, layer=repr(layer)))
        k = whole_number(layer[0], f"layers[{i}] kernel_size", minimum=1)
        s = whole_number(layer[1], f"layers[{i}] stride", minimum=1)
        p = whole_number(layer[2], f"layers[{i}] padding", minimum=0)
        offset -= p * jump
        size += (k - 1) * jump
        jump *= s
    return size, jump, offset


def top_patches(images, activations, size, jump, offset, k=8):
    """The ``k`` input patches that most activate one unit, one per image, cropped to its receptive field.

    ``images``: ``(N, C, H, W)``; ``activations``: ``(N, Ho, Wo)``, the unit's map on each image; ``size``,
    ``jump``, ``offset``: its field (:func:`field_geometry`). Each image contributes its strongest position;
    the ``k`` strongest images are kept. Pixels of the field outside the image (padding) are 0.
    Returns ``(patches (k, C, size, size), values (k,), image indices (k,))``, host NumPy, strongest first.
    """
    X, A = np.asarray(to_numpy(images)), np.asarray(to_numpy(activations))
    if X.ndim != 4 or A.ndim != 3 or A.shape[0] != X.shape[0]:
        raise ValueError(tr("images {images} and activations {activations}: expected (N, C, H, W) and (N, Ho, Wo)",
                            images=X.shape, activations=A.shape))
    if not 1 <= k <= X.shape[0]:
        raise ValueError(tr("k={k}; pass 1 <= k <= {count} (the number of images)", k=repr(k), count=X.shape[0]))
    N, C, H, W = X.shape
    flat = A.reshape(N, -1)
    best = flat.argmax(axis=1)                                    # strongest position per image
    values = flat[np.arange(N), best]
    chosen = np.argsort(-values, kind="stable")[:k]
    rows, cols = np.divmod(best[chosen], A.shape[2])
    return crop_fields(X, chosen, rows, cols, size, jump, offset), values[chosen], chosen


def crop_fields(images, n, i, j, size, jump, offset):
    """The receptive fields of units at positions ``(i, j)`` of images ``n`` (equal-length int arrays):
    ``(len(n), C, size, size)`` host crops of ``images`` ``(N, C, H, W)``, 0 where a field leaves the image."""
    X = np.asarray(to_numpy(images))
    n, i, j = (np.asarray(to_numpy(a), dtype=np.int64).ravel() for a in (n, i, j))
    if X.ndim != 4 or not n.shape == i.shape == j.shape:
        raise ValueError(tr("images {images}, positions {n}, {i}, {j}: expected (N, C, H, W) and three index arrays "
                            "of one length", images=X.shape, n=n.shape, i=i.shape, j=j.shape))
    pad = max(0, -offset) + size
    padded = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    r = offset + jump * i + pad                                  # top-left corner in the padded image
    c = offset + jump * j + pad
    d = np.arange(size)
    return padded[n[:, None, None, None], np.arange(X.shape[1])[None, :, None, None],
                  (r[:, None] + d)[:, None, :, None], (c[:, None] + d)[:, None, None, :]]  # (len(n), C, S, S)


def linear_explained(patches, responses, seed=0):
    """How much of a unit's response a linear function of its input patch explains, on held-out patches.

    ``patches``: ``(n, ...)`` the unit's receptive-field crops; ``responses``: ``(n,)`` its outputs there, or
    ``(n, U)`` for ``U`` units that share these fields (one least-squares solve for all). A least-squares fit
    ``response ~ patch . v + c`` on a random half (seeded) is scored on the other half:
    ``1 - residual variance / response variance`` (R^2, at most 1; 0 or below: no better than the mean).
    Returns a float, or ``(U,)`` for ``(n, U)`` responses. A first-layer unit, ``relu(w . patch + b)``, is
    nearly linear; a unit that combines several nonlinear features responds to more complex patterns and a
    linear template explains less of it.
    """
    P = np.asarray(to_numpy(patches), dtype=np.float64).reshape(len(patches), -1)
    r = np.asarray(to_numpy(responses), dtype=np.float64)
    single = r.ndim == 1
    r = r.reshape(r.shape[0], -1) if r.ndim in (1, 2) else r
    if r.ndim != 2 or r.shape[0] != P.shape[0] or P.shape[0] < 2 * (P.shape[1] + 2):
        raise ValueError(tr("{patches} patches of {values} values and responses of shape {shape}: pass one response "
                            "per patch, (n,) or (n, U), and at least {least} patches", patches=P.shape[0],
                            values=P.shape[1], shape=np.shape(responses), least=2 * (P.shape[1] + 2)))
    order = np.random.default_rng(seed).permutation(P.shape[0])
    fit_idx, test_idx = order[: P.shape[0] // 2], order[P.shape[0] // 2:]
    design = np.hstack([P, np.ones((P.shape[0], 1))])           # (n, D + 1)
    coef, *_ = np.linalg.lstsq(design[fit_idx], r[fit_idx], rcond=None)   # (D + 1, U)
    resid = r[test_idx] - design[test_idx] @ coef
    var = r[test_idx].var(axis=0)
    if np.any(var == 0):
        raise ValueError(tr("the responses of unit(s) {units} are constant on the held-out patches; pass units that "
                            "vary there", units=np.flatnonzero(var == 0).tolist()))
    score = 1 - resid.var(axis=0) / var
    return float(score[0]) if single else score


# ---- where a vision transformer looks (notebook 10) ------------------------------------------------
def patch_distances(grid_size: int, patch_size: int) -> np.ndarray:
    """``(T, T)`` Euclidean distances in pixels between the centres of the patches of a ``grid x grid`` grid."""
    g = whole_number(grid_size, "grid_size", minimum=1)
    rows, cols = np.divmod(np.arange(g * g), g)
    centres = np.stack([rows, cols], axis=1) * float(whole_number(patch_size, "patch_size", minimum=1))  # (T, 2)
    return np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=-1))


def attention_distance(attn, grid_size: int, patch_size: int, num_prefix_tokens: int = 0) -> np.ndarray:
    """Mean attention distance per head, in pixels: ``(H,)`` host float64.

    For each query patch, the distance to every key patch weighted by the attention it pays them,
    averaged over queries and images (Dosovitskiy et al., Fig. 7). ``attn`` is ``(N, H, T, T)``;
    the first ``num_prefix_tokens`` tokens (a class token) are left out and the remaining weights
    of each row renormalised to sum to 1.
    """
    a = to_numpy(attn).astype(np.float64)
    p = int(num_prefix_tokens)
    T = whole_number(grid_size, "grid_size", minimum=1) ** 2
    if a.ndim != 4 or a.shape[2] != a.shape[3] or a.shape[2] != T + p:
        raise ValueError(tr("attn must be (N, H, T, T) with T = grid_size**2 + num_prefix_tokens = {tokens}, "
                            "got shape {shape}", tokens=T + p, shape=a.shape))
    a = a[:, :, p:, p:]
    a = a / a.sum(axis=-1, keepdims=True)
    dist = patch_distances(grid_size, patch_size)  # (T, T)
    return (a * dist).sum(axis=-1).mean(axis=(0, 2))  # (H,)


def attention_distances(model) -> np.ndarray:
    """``(depth, H)`` mean attention distances in pixels, per block and head, of a
    :class:`~cnnbook.models.vit.TinyViT`'s latest forward pass."""
    return np.stack([attention_distance(a, model.grid_size, model.patch_size, model.num_prefix_tokens)
                     for a in model.attention_maps()])
