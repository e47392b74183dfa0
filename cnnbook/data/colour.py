"""A small colour image set, made offline: square patches cut from scikit-image's bundled colour photos.

Fashion-MNIST is grey, so a first layer trained on it has no colour to contrast. This set is the
workbook's colour data: each class is one source photo of ``skimage.data`` (all six ship inside
scikit-image's wheel, nothing is downloaded), and each example a ``P x P`` RGB patch cut from it.

How it is made (deterministic: the same arguments give the same arrays, bit for bit):

1. Each photo of :data:`COLOUR_SOURCES` is read as float32 in [0, 1] and resized (anti-aliased) so that
   its shorter side has ``side`` pixels (default 128), aspect ratio kept.
2. The photo's columns are split once: the left ``1 - test_fraction`` for training patches, the rest for
   test patches, so no test patch overlaps a training patch (they still come from the same photo: the
   task is "which photo is this patch from", a texture and colour task).
3. ``per_class`` top-left corners are drawn uniformly inside the split's region with
   ``numpy.random.default_rng(seed + 1000 * split_index + class_index)``, and the patches cut there.

Returns channels first, ``(N, 3, P, P)``, class by class (shuffle before training), on the default backend.
"""
from __future__ import annotations

import functools

import numpy as np

from cnnbook import backend
from cnnbook.course.language import tr
from cnnbook.layers.checks import number, whole_number

COLOUR_SOURCES = (
    # (skimage.data function, what it shows)
    ("astronaut", "astronaut Eileen Collins in front of a flag (512x512)"),
    ("chelsea", "Chelsea the cat (300x451)"),
    ("coffee", "a cup of coffee on a table (400x600)"),
    ("rocket", "a rocket on its launch pad under blue sky (427x640)"),
    ("hubble_deep_field", "the Hubble Deep Field: galaxies on black (872x1000)"),
    ("immunohistochemistry", "stained tissue under a microscope (512x512)"),
)
"""The classes, in label order: ``skimage.data`` function names (all bundled, all RGB) and descriptions."""

COLOUR_CLASSES = tuple(name for name, _ in COLOUR_SOURCES)
"""Class names, index = label."""

_SPLITS = ("train", "test")


@functools.lru_cache(maxsize=8)
def _photo(name: str, side: int) -> np.ndarray:
    """One source photo, ``(H, W, 3)`` float32 in [0, 1], shorter side ``side`` (host, cached: read-only)."""
    import skimage.data
    from skimage.transform import resize
    img = getattr(skimage.data, name)()[..., :3].astype(np.float32) / np.float32(255)  # (H, W, 3)
    h, w = img.shape[:2]
    shape = (side, max(side, round(w * side / h))) if h <= w else (max(side, round(h * side / w)), side)
    out = np.clip(resize(img, shape + (3,), anti_aliasing=True, preserve_range=True), 0, 1).astype(np.float32)
    out.setflags(write=False)
    return out


def load_colour_patches(split: str = "train", per_class: int = 500, patch_size: int = 16, side: int = 128,
                        test_fraction: float = 0.25, seed: int = 0):
    """Patches of the colour photos of :data:`COLOUR_SOURCES`, labelled by photo (see the module docstring).

    Args:
        split: ``"train"`` (the left part of each photo) or ``"test"`` (the right ``test_fraction``).
        per_class: patches per photo (int >= 1).
        patch_size: ``P``, the patches' side in pixels (>= 2, at most the region's width).
        side: the photos' shorter side after resizing, in pixels.
        test_fraction: share of each photo's columns kept for test patches (between 0.05 and 0.95).
        seed: where the patches are cut (an int).

    Returns ``X`` float32 ``(6 * per_class, 3, P, P)`` in [0, 1] and ``y`` int64 ``(6 * per_class,)``, the
    class index (:data:`COLOUR_CLASSES`), stored class by class; on the default backend.
    """
    if split not in _SPLITS:
        raise ValueError(tr("split={split}; choose 'train' or 'test'", split=repr(split)))
    per_class = whole_number(per_class, "per_class", minimum=1)
    P = whole_number(patch_size, "patch_size", minimum=2)
    side = whole_number(side, "side", minimum=8)
    seed = whole_number(seed, "seed", minimum=0)
    test_fraction = number(test_fraction, "test_fraction", minimum=0.05, maximum=0.95)
    s = _SPLITS.index(split)
    X = np.empty((len(COLOUR_SOURCES) * per_class, 3, P, P), dtype=np.float32)
    for k, (name, _) in enumerate(COLOUR_SOURCES):
        img = _photo(name, side)
        H, W = img.shape[:2]
        cut = int(round(W * (1 - test_fraction)))
        lo, hi = (0, cut) if s == 0 else (cut, W)             # the split's columns
        if hi - lo < P or H < P:
            raise ValueError(tr("patch_size={patch_size} does not fit the {split} part of {name} ({height} x "
                                "{width} pixels at side={side}); use a smaller patch_size, a larger side or another "
                                "test_fraction", patch_size=P, split=split, name=repr(name), height=H, width=hi - lo,
                                side=side))
        rng = np.random.default_rng(seed + 1000 * s + k)
        rows = rng.integers(0, H - P + 1, size=per_class)
        cols = rng.integers(lo, hi - P + 1, size=per_class)
        for i, (r, c) in enumerate(zip(rows, cols)):
            X[k * per_class + i] = img[r:r + P, c:c + P].transpose(2, 0, 1)  # (3, P, P)
    y = np.repeat(np.arange(len(COLOUR_SOURCES), dtype=np.int64), per_class)
    return backend.to_device(X), backend.to_device(y)
