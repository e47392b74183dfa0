"""Sample photos, the LFW face / non-face set, and geometric changes to batches of images.

The photos come from scikit-image's bundled data (``skimage.data``): scikit-image 0.26 ships every
one used here inside its wheel, so nothing is downloaded. Pixel values are float32 in [0, 1].

* :func:`load_image` one photo (a cat, an astronaut, a camera man, brick / grass / gravel textures...)
* :func:`load_faces` 100 faces and 100 non-faces (25x25 crops of Labeled Faces in the Wild)
* :func:`transform_images` rotate, scale and shift a batch ``(N, C, H, W)`` (scikit-image's ``warp``)
* :func:`shuffle_patches` cut each image into square tiles and permute them, a random order per image or
  one order for all (local texture kept, global shape destroyed)

Results go to the default backend (loaders) or stay on the input's backend (transforms); the work is
done on the host, where scikit-image runs.
"""
from __future__ import annotations

import numpy as np

from cnnbook import backend
from cnnbook.course.language import tr
from cnnbook.layers.checks import is_whole_number, pair, whole_number

SAMPLE_IMAGES = {
    # name: (skimage.data function, what it shows)
    "chelsea": ("chelsea", "Chelsea the cat, colour, 300x451"),
    "astronaut": ("astronaut", "astronaut Eileen Collins, colour, 512x512"),
    "camera": ("camera", "a man with a camera, grey, 512x512"),
    "brick": ("brick", "brick wall texture, grey, 512x512"),
    "grass": ("grass", "grass texture, grey, 512x512"),
    "gravel": ("gravel", "gravel texture, grey, 512x512"),
    "coffee": ("coffee", "a cup of coffee, colour, 400x600"),
    "coins": ("coins", "Greek coins, grey, 303x384"),
    "moon": ("moon", "the surface of the moon, grey, 512x512"),
    "rocket": ("rocket", "a rocket on the launch pad, colour, 427x640"),
}
"""Names accepted by :func:`load_image`, each with the ``skimage.data`` function and a description."""


def _check_name(name) -> str:
    if name not in SAMPLE_IMAGES:
        raise ValueError(tr("unknown sample image {name}; choose one of {names}", name=repr(name),
                            names=", ".join(sorted(SAMPLE_IMAGES))))
    return name


def _resize(img: np.ndarray, size) -> np.ndarray:
    from skimage.transform import resize
    if is_whole_number(size):  # the shorter side, aspect ratio kept
        side = whole_number(size, "size", minimum=1)
        h, w = img.shape[:2]
        shape = (side, max(1, round(w * side / h))) if h <= w else (max(1, round(h * side / w)), side)
    else:
        shape = pair(size, "size", minimum=1)
    return resize(img, shape + img.shape[2:], anti_aliasing=True, preserve_range=True)


def load_image(name: str, gray: bool = False, size=None):
    """One of scikit-image's sample photos as float32 in [0, 1], on the default backend.

    ``name``: a key of :data:`SAMPLE_IMAGES` (``"chelsea"``, ``"astronaut"``, ``"camera"``, ``"brick"``,
    ``"grass"``, ``"gravel"``, ...). Returns ``(H, W, 3)`` for a colour photo and ``(H, W)`` for a grey one;
    ``gray=True`` turns colour into grey (luminance). ``size``: an int resizes so that the shorter side
    has ``size`` pixels (aspect ratio kept), a pair ``(H, W)`` resizes to exactly that.
    """
    import skimage.data
    from skimage.color import rgb2gray
    img = getattr(skimage.data, SAMPLE_IMAGES[_check_name(name)][0])()
    img = img.astype(np.float32) / np.float32(255)  # (H, W) or (H, W, 3)
    if gray and img.ndim == 3:
        img = rgb2gray(img)
    if size is not None:
        img = _resize(img, size)
    return backend.to_device(np.clip(img, 0, 1).astype(np.float32))


def load_faces(size=None):
    """Labeled Faces in the Wild, scikit-image's ``lfw_subset``: 100 faces and 100 non-faces.

    Returns ``X`` float32 ``(200, 1, 25, 25)`` in [0, 1] (grey, or ``(200, 1, size, size)`` with an int
    ``size``) and ``y`` int64 ``(200,)``: 1 for a face, 0 for a non-face (background crops from the same
    photos). The first 100 are the faces. On the default backend.
    """
    import skimage.data
    faces = skimage.data.lfw_subset().astype(np.float32)  # (200, 25, 25), already in [0, 1]
    if size is not None:
        size = whole_number(size, "size", minimum=1)
        faces = np.stack([_resize(f, (size, size)) for f in faces])
    X = np.clip(faces, 0, 1).astype(np.float32)[:, None]  # (200, 1, S, S)
    y = np.repeat(np.array([1, 0], dtype=np.int64), 100)
    return backend.to_device(X), backend.to_device(y)


def _per_image(value, N: int, name: str) -> np.ndarray:
    arr = np.asarray(backend.to_numpy(value), dtype=np.float64)
    if arr.ndim == 0:
        return np.full(N, float(arr))
    if arr.shape != (N,) or not np.all(np.isfinite(arr)):
        raise ValueError(tr("{name} must be one finite number or one per image, shape ({n},); got shape {shape}",
                            name=name, n=N, shape=arr.shape))
    return arr


def transform_images(X, angle=0.0, scale=1.0, shift=(0.0, 0.0), order=1):
    """Rotate, scale and shift every image about its centre; the output keeps the input's size.

    ``X``: ``(N, C, H, W)``, NumPy or CuPy (the warp runs on the host; the result goes back to ``X``'s
    backend, same dtype). ``angle``: degrees, counter-clockwise as seen on screen. ``scale``: size factor
    (2 doubles the object, 0.5 halves it). ``shift``: ``(dy, dx)`` pixels, down and right. Each may be
    one number or one per image (``(N,)``; ``shift`` then ``(N, 2)``). Pixels that come from outside
    the image are 0. ``order``: interpolation (0 nearest, 1 bilinear, 3 bicubic).
    """
    from skimage.transform import SimilarityTransform, warp
    if not hasattr(X, "ndim") or X.ndim != 4:
        raise ValueError(tr("expected images of shape (N, C, H, W), got {got}",
                            got=getattr(X, "shape", type(X).__name__)))
    xp = backend.get_array_module(X)
    host = backend.to_numpy(X)
    N, C, H, W = host.shape
    angles = _per_image(angle, N, "angle")
    scales = _per_image(scale, N, "scale")
    if np.any(scales <= 0):
        raise ValueError(tr("scale must be positive; got {values}", values=scales[scales <= 0][:5]))
    shifts = np.asarray(backend.to_numpy(shift), dtype=np.float64)
    shifts = np.broadcast_to(shifts, (N, 2)) if shifts.shape in ((2,), (N, 2)) else None
    if shifts is None:
        raise ValueError(tr("shift must be (dy, dx) or one pair per image, shape ({n}, 2); got {shape}",
                            n=N, shape=np.shape(shift)))
    center = np.array([(W - 1) / 2, (H - 1) / 2])  # (x, y): warp works in (column, row)
    out = np.empty_like(host)
    stack = host.transpose(0, 2, 3, 1)  # (N, H, W, C): warp treats the last axis as channels
    for n in range(N):
        # warp wants the inverse map, output pixel -> input pixel (as skimage.transform.rotate builds it).
        inverse = (SimilarityTransform(translation=-center - shifts[n, ::-1])
                   + SimilarityTransform(scale=1 / scales[n], rotation=np.deg2rad(angles[n]))
                   + SimilarityTransform(translation=center))
        warped = warp(stack[n], inverse, order=order, mode="constant", cval=0.0, preserve_range=True)
        out[n] = warped.transpose(2, 0, 1)
    return backend.to_device(out, xp)


def shuffle_patches(X, patch_size: int, rng=None, *, perm=None):
    """Cut each image into ``patch_size`` x ``patch_size`` tiles and put the tiles in another order.

    ``X``: ``(N, C, H, W)`` with ``H`` and ``W`` multiples of ``patch_size`` ``P``; the ``T = (H / P) * (W / P)``
    tiles are numbered row by row. Pass exactly one of

    * ``rng`` (an int seed or ``numpy.random.Generator``): every image gets its own random order, drawn on the host;
    * ``perm`` (a permutation of ``range(T)``): every image gets this order, tile ``perm[t]`` moving to place ``t``
      (what a vision transformer without position embeddings cannot tell apart, notebook 10).

    What lies inside a tile (local texture, edges shorter than a tile) survives; the arrangement of the tiles
    (global shape, where the parts of an object sit) does not. Returns a new array on ``X``'s backend.
    """
    if not hasattr(X, "ndim") or X.ndim != 4:
        raise ValueError(tr("expected images of shape (N, C, H, W), got {got}",
                            got=getattr(X, "shape", type(X).__name__)))
    if (rng is None) == (perm is None):
        if rng is not None:
            raise ValueError(tr("shuffle_patches takes one of rng (an int seed or numpy.random.default_rng(seed): a "
                                "random order per image) and perm (one order for every image); got both"))
        raise ValueError(tr("shuffle_patches takes one of rng (an int seed or numpy.random.default_rng(seed): a "
                            "random order per image) and perm (one order for every image); got neither"))
    if perm is None and not (is_whole_number(rng) or isinstance(rng, np.random.Generator)):
        raise TypeError(tr("rng={rng} is neither an int seed nor a numpy.random.Generator; to give every image "
                           "the same order, pass the permutation as perm=...", rng=repr(rng)))
    N, C, H, W = X.shape
    patch_size = whole_number(patch_size, "patch_size", minimum=1)
    if H % patch_size or W % patch_size:
        divisors = [p for p in range(1, min(H, W) + 1) if H % p == 0 and W % p == 0]
        raise ValueError(tr("patch_size={patch_size} must divide H={height} and W={width}; try one of {divisors}",
                            patch_size=patch_size, height=H, width=W, divisors=divisors))
    xp = backend.get_array_module(X)
    gh, gw = H // patch_size, W // patch_size
    tiles = X.reshape(N, C, gh, patch_size, gw, patch_size).transpose(0, 2, 4, 1, 3, 5)  # (N, gh, gw, C, p, p)
    tiles = tiles.reshape(N, gh * gw, C, patch_size, patch_size)
    if perm is None:
        order = np.argsort(backend.as_generator(rng).random((N, gh * gw)), axis=1)  # host (N, T): one per image
        rows = backend.to_device(np.arange(N)[:, None], xp)
        tiles = tiles[rows, backend.to_device(order, xp)]  # (N, T, C, p, p)
    else:
        perm = np.asarray(backend.to_numpy(perm))
        if perm.shape != (gh * gw,) or not np.array_equal(np.sort(perm), np.arange(gh * gw)):
            raise ValueError(tr("perm must be a permutation of range({tiles}) (the {rows}x{columns} tiles), got {perm}",
                                tiles=gh * gw, rows=gh, columns=gw, perm=repr(perm)))
        tiles = tiles[:, backend.to_device(perm, xp)]  # (N, T, C, p, p)
    out = tiles.reshape(N, gh, gw, C, patch_size, patch_size).transpose(0, 3, 1, 4, 2, 5)  # (N, C, gh, p, gw, p)
    return xp.ascontiguousarray(out.reshape(N, C, H, W))
