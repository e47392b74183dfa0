"""Synthetic shapes filled with textures: a seeded data set for equivariance, rotation/scale and
texture-versus-shape experiments.

Each image is ``(1, size, size)``, a black background (0) with one shape on it. The shape's outline
gives its **shape label** (:data:`SHAPES`); the pattern that fills it gives its **texture label**
(:data:`TEXTURES`). The two are chosen independently, so a data set can make them agree (train) or
conflict (test), as in Geirhos et al. (2019), "ImageNet-trained CNNs are biased towards texture".

Shapes can be moved (``shift``, pixels), scaled (``scale``, 1 = radius 0.3 * size) and rotated
(``angle``, degrees counter-clockwise). Textures are drawn in image coordinates with a period of
4 pixels and a random phase per image; inside the shape intensities are 0.35 or 1, so the outline
is always visible. Everything random comes from the ``rng`` given.
"""
from __future__ import annotations

import numpy as np

from cnnbook import backend
from cnnbook.course.language import N_, tr
from cnnbook.layers.checks import is_number, whole_number

SHAPES = (N_("square"), N_("circle"), N_("triangle"), N_("cross"))
"""Shape names, indexed by shape label (English; :func:`shape_name` gives them in the learner's language)."""

TEXTURES = ("solid", "stripes", "checker", "dots", "noise")
"""Texture names, indexed by texture label."""

def shape_name(label) -> str:
    """The name of shape ``label`` (an index 0-3, a Python or NumPy integer) in the learner's language."""
    try:
        index = int(label)
    except (TypeError, ValueError):
        raise ValueError(tr("label={label}: a shape label is an integer 0-{last}", label=repr(label),
                            last=len(SHAPES) - 1)) from None
    if index != label or not 0 <= index < len(SHAPES):
        raise ValueError(tr("label={label}: a shape label is an integer 0-{last}", label=repr(label),
                            last=len(SHAPES) - 1))
    return tr(SHAPES[index])


def shape_names() -> tuple[str, ...]:
    """The four shape names in the learner's language, indexed by shape label (for a figure's ``class_names``)."""
    return tuple(shape_name(k) for k in range(len(SHAPES)))


_LOW, _HIGH = 0.35, 1.0  # the two intensities inside a shape
_PERIOD = 4  # texture period, pixels
_SUPERSAMPLE = 2  # outlines are drawn on a 2x finer grid and averaged (anti-aliasing)


def _labels(value, n: int, names: tuple, what: str, rng) -> np.ndarray:
    if value is None:
        return rng.integers(0, len(names), size=n)
    if isinstance(value, str):
        if value not in names:
            raise ValueError(tr("unknown {what} {value}; choose one of {names}", what=what, value=repr(value),
                                names=", ".join(names)))
        return np.full(n, names.index(value))
    arr = np.asarray(backend.to_numpy(value))
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= len(names):
        raise ValueError(tr("{what} must be None (random), a name, a label in 0..{last}, or {n} such "
                            "labels; got {value:.80}", what=what, last=len(names) - 1, n=n, value=repr(value)))
    return arr.astype(np.int64)


def _param(value, n: int, what: str, rng) -> np.ndarray:
    """A number (fixed), a tuple ``(low, high)`` (uniform per image) or an ``(n,)`` array (explicit)."""
    if is_number(value):
        return np.full(n, float(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(is_number(v) for v in value):
        low, high = map(float, value)
        if low > high:
            raise ValueError(tr("{what}={value}: low > high; pass (low, high) with low <= high", what=what,
                                value=repr(value)))
        return rng.uniform(low, high, size=n)
    arr = np.asarray(backend.to_numpy(value), dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(tr("{what} must be a number, a (low, high) range or an array of shape ({n},); "
                            "got {value:.80}", what=what, n=n, value=repr(value)))
    return arr


def _inside(name: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether points ``(u, v)`` (shape coordinates, radius about 1, v up) lie inside shape ``name``."""
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8
    if name == "circle":
        return u ** 2 + v ** 2 <= 0.9 ** 2
    if name == "triangle":  # upward, circumradius 1.3: three half-planes, outward normals at -90, 30, 150 deg
        a = np.deg2rad([-90, 30, 150])
        return np.all([u * np.cos(t) + v * np.sin(t) <= 0.65 for t in a], axis=0)
    if name == "cross":
        return ((np.abs(u) <= 0.33) & (np.abs(v) <= 1.0)) | ((np.abs(v) <= 0.33) & (np.abs(u) <= 1.0))
    raise ValueError(tr("unknown shape {name}; choose one of {names}", name=repr(name), names=", ".join(SHAPES)))


def _masks(shape_labels, scales, angles, shifts, size: int, chunk: int = 64) -> np.ndarray:
    """``(N, size, size)`` anti-aliased silhouettes in [0, 1]; drawn ``chunk`` images at a time (memory)."""
    n = shape_labels.shape[0]
    fine = size * _SUPERSAMPLE
    t = (np.arange(fine) + 0.5) / _SUPERSAMPLE - size / 2  # pixel-centre coordinates, origin at the centre
    out = np.zeros((n, size, size))
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        radius = 0.3 * size * scales[sl, None, None]  # (B, 1, 1)
        x = t[None, None, :] - shifts[sl, 1, None, None]  # (B, 1, fine), right
        y = -(t[None, :, None] - shifts[sl, 0, None, None])  # (B, fine, 1), up
        cos, sin = np.cos(angles[sl])[:, None, None], np.sin(angles[sl])[:, None, None]
        u = (cos * x + sin * y) / radius  # (B, fine, fine): the point rotated back by -angle, in shape units
        v = (-sin * x + cos * y) / radius
        labels = shape_labels[sl]
        for k, name in enumerate(SHAPES):
            idx = np.flatnonzero(labels == k)
            if idx.size:
                inside = _inside(name, u[idx], v[idx])  # (b, fine, fine)
                out[start + idx] = inside.reshape(-1, size, _SUPERSAMPLE, size, _SUPERSAMPLE).mean(axis=(2, 4))
    return out


def _tiles() -> dict:
    """One period (``_PERIOD`` x ``_PERIOD``, bool: bright or not) of each periodic texture."""
    y, x = np.mgrid[0:_PERIOD, 0:_PERIOD]
    half = _PERIOD // 2
    dist2 = np.minimum(x, _PERIOD - x) ** 2 + np.minimum(y, _PERIOD - y) ** 2
    return {"solid": np.ones((_PERIOD, _PERIOD), bool), "stripes": x // half == 0,
            "checker": (x // half + y // half) % 2 == 0, "dots": dist2 <= 1}


def _texture(texture: np.ndarray, size: int, rng) -> np.ndarray:
    """``(N, size, size)`` fill patterns, values ``_LOW`` or ``_HIGH``, random phase per image."""
    n = texture.shape[0]
    phase = rng.integers(0, _PERIOD, size=(n, 2))  # (N, 2): (dy, dx) of the pattern
    rows = (np.arange(size)[None, :] + phase[:, :1]) % _PERIOD  # (N, size)
    cols = (np.arange(size)[None, :] + phase[:, 1:]) % _PERIOD  # (N, size)
    on = np.zeros((n, size, size), bool)
    tiles = _tiles()
    for k, name in enumerate(TEXTURES):
        idx = np.flatnonzero(texture == k)
        if name == "noise":
            on[idx] = rng.random((idx.size, size, size)) < 0.5
        else:
            on[idx] = tiles[name][rows[idx, :, None], cols[idx, None, :]]
    return np.where(on, _HIGH, _LOW)


def make_shapes(n: int, rng, size: int = 32, *, shape=None, texture=None, shift=0.0, scale=1.0, angle=0.0):
    """``n`` textured shapes: ``(X, shape_labels, texture_labels)``.

    Parameters
    ----------
    n : number of images.
    rng : int seed or ``numpy.random.Generator`` (required): the only source of randomness.
    size : side length in pixels (at least 8).
    shape, texture : ``None`` (uniform random), a name (``"circle"``, ``"stripes"``...), a label, or an
        ``(n,)`` array of labels (indices into :data:`SHAPES` / :data:`TEXTURES`).
    shift : maximum displacement in pixels (each image's ``(dy, dx)`` uniform in ``[-shift, shift]``),
        or an ``(n, 2)`` array of explicit ``(dy, dx)``.
    scale, angle : a number (every image), a tuple ``(low, high)`` (uniform per image) or an ``(n,)``
        array. ``scale`` 1 means a radius of 0.3 * size; ``angle`` is in degrees, counter-clockwise.

    Returns
    -------
    X : float32 ``(n, 1, size, size)`` in [0, 1], on the default backend.
    shape_labels, texture_labels : int64 ``(n,)``, on the default backend.
    """
    n, size = whole_number(n, "n", minimum=0), whole_number(size, "size", minimum=8)
    if rng is None:
        raise ValueError(tr("rng is required: pass an int seed or numpy.random.default_rng(seed)"))
    rng = np.random.default_rng(rng)
    shape_labels = _labels(shape, n, SHAPES, "shape", rng)
    texture_labels = _labels(texture, n, TEXTURES, "texture", rng)
    scales = _param(scale, n, "scale", rng)
    angles = np.deg2rad(_param(angle, n, "angle", rng))
    if is_number(shift):
        shifts = rng.uniform(-abs(shift), abs(shift), size=(n, 2)) if shift else np.zeros((n, 2))
    else:
        shifts = np.asarray(backend.to_numpy(shift), dtype=np.float64)
        if shifts.shape != (n, 2):
            raise ValueError(tr("shift must be a number (max pixels) or an array of shape ({n}, 2); got {value:.80}",
                                n=n, value=repr(shift)))
    if np.any(scales <= 0):
        raise ValueError(tr("scale must be positive; got {values}", values=scales[scales <= 0][:5]))

    mask = _masks(shape_labels, scales, angles, shifts, size)
    X = (mask * _texture(texture_labels, size, rng)).astype(np.float32)[:, None]  # (N, 1, size, size)
    return backend.to_device(X), backend.to_device(shape_labels), backend.to_device(texture_labels)
