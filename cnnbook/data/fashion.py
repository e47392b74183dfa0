"""Fashion-MNIST, offline first.

Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, Zalando Research, MIT licence): 28x28 grey
images of clothing in 10 classes, 60,000 for training and 10,000 for testing.

* ``load_fashion_mnist(split)`` reads the class-balanced subset shipped in ``data/``
  (1,200 training and 200 test images per class; a regular install carries a copy inside the
  package, see :mod:`cnnbook.data.workbook`), or the copy in ``$CNNBOOK_DATA`` when that folder
  holds one: it works offline, always.
* ``load_fashion_mnist(split, full=True)`` reads the official files from ``root`` if given,
  else from ``$CNNBOOK_DATA``, ``data/`` (in a regular install: the user's cache folder,
  :data:`DOWNLOAD_DIR`), Debian's ``/usr/share/datasets/fashion-mnist``, and last downloads them
  into :data:`DOWNLOAD_DIR` (or into ``root``) from :data:`MIRRORS`; a mirror that makes no real
  progress is abandoned (see :mod:`cnnbook.data.download`).

``root`` and ``$CNNBOOK_DATA`` must name existing folders; anything else is an error that says so
(nothing is created).

Every file is checked before use (IDX header and SHA-256 of its content); a missing, truncated
or altered file raises :class:`DataError` (a ``ValueError``) that names it. Parsed arrays are
kept in memory per process, so loading again is cheap.
"""
from __future__ import annotations

import hashlib
import io
import os

import numpy as np
import platformdirs

from cnnbook import backend
from cnnbook.course.language import N_, tr
from cnnbook.data.download import download_verified
from cnnbook.data.idx import DataError, file_kind, load_verified, not_a_file_error, read_bytes
from cnnbook.data.workbook import in_clone, restore_hint, workbook_dir

__all__ = ["FASHION_MNIST_CLASSES", "MIRRORS", "DataError", "class_name", "class_names", "load_fashion_mnist",
           "locate_fashion_mnist", "subset_path"]

FASHION_MNIST_CLASSES = (N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
                         N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot"))
"""Class names of Fashion-MNIST, indexed by label 0-9: the dataset's English names, for lookups by name
(``FASHION_MNIST_CLASSES.index("Trouser")``); :func:`class_name` gives the name to show."""


def class_name(label) -> str:
    """The name of Fashion-MNIST class ``label`` in the learner's language (see :mod:`cnnbook.course.language`).

    ``label`` is a class index 0-9 (a Python or NumPy integer) or an English name from
    :data:`FASHION_MNIST_CLASSES`; ``class_name(1)`` and ``class_name("Trouser")`` are ``"Trouser"`` in the
    English edition and ``"바지"`` in the Korean one.
    """
    if isinstance(label, str):
        if label not in FASHION_MNIST_CLASSES:
            raise ValueError(f"class {label!r} is not a Fashion-MNIST class; the classes are "
                             f"{', '.join(map(repr, FASHION_MNIST_CLASSES))}")
        return tr(label)
    try:
        index = int(label)
    except (TypeError, ValueError):
        raise ValueError(f"label={label!r}: give a class index 0-9 or a name from FASHION_MNIST_CLASSES") from None
    if index != label or not 0 <= index < len(FASHION_MNIST_CLASSES):
        raise ValueError(f"label={label!r}: a Fashion-MNIST class index is an integer 0-9")
    return tr(FASHION_MNIST_CLASSES[index])


def class_names() -> tuple[str, ...]:
    """The ten class names in the learner's language, indexed by label 0-9 (for a figure's ``class_names``)."""
    return tuple(class_name(k) for k in range(len(FASHION_MNIST_CLASSES)))

MIRRORS = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
]
"""Base URLs of the official gzipped files, tried in order (tests point this at a local server)."""

DATA_DIR = str(workbook_dir("data"))
"""The folder of the bundled subset: the clone's ``data/``, or its copy inside an installed package."""
DOWNLOAD_DIR = DATA_DIR if in_clone() else platformdirs.user_cache_dir("cnnbook", appauthor=False)
"""Where ``full=True`` downloads the official files without ``root``: ``data/`` in a clone, else the user's cache."""
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
ENV_VAR = "CNNBOOK_DATA"

SUBSET_FILE = "fashion-mnist-subset.npz"
SUBSET_SHA256 = "ea90bc1e203f47e01d5f6da563b65cc65bf1ef31959f4e920aa747f64c0b8737"
SUBSET_PER_CLASS = {"train": 1200, "test": 200}

# (file name without .gz, SHA-256 of the uncompressed content, shape); hashes of the official files.
OFFICIAL = {
    ("train", "images"): ("train-images-idx3-ubyte",
                          "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", (60000, 28, 28)),
    ("train", "labels"): ("train-labels-idx1-ubyte",
                          "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", (60000,)),
    ("test", "images"): ("t10k-images-idx3-ubyte",
                         "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", (10000, 28, 28)),
    ("test", "labels"): ("t10k-labels-idx1-ubyte",
                         "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", (10000,)),
}

_cache: dict = {}  # (path, size, mtime) -> verified host uint8 array


def _hint(name: str) -> str:
    return (f"Delete it and get a good copy: load_fashion_mnist(full=True) downloads {name}.gz into "
            f"{DOWNLOAD_DIR}, `apt install dataset-fashion-mnist` installs it into {DEBIAN_DIR}, or fetch "
            f"{MIRRORS[0]}{name}.gz by hand.")


def _folder(path: str, what: str, if_missing: str, otherwise: str) -> str:
    """``path`` when it is an existing folder; else a :class:`DataError` saying what it is and what to do."""
    kind = file_kind(path)
    if kind == "folder":
        return path
    if kind == "missing":
        raise DataError(f"{what} does not exist: {if_missing}")
    raise DataError(f"{what} is a {kind}, not a folder: {otherwise}")


def _env_dir() -> str | None:
    """``$CNNBOOK_DATA`` when it is set; a :class:`DataError` when it names no folder."""
    value = os.environ.get(ENV_VAR)
    if not value:
        return None
    fix = f"point {ENV_VAR} at the folder that holds the Fashion-MNIST files, or unset it"
    return _folder(value, f"${ENV_VAR}={value!r}", f"create that folder (`mkdir -p {value}`), {fix}", fix)


def _check_split(split) -> str:
    if split not in ("train", "test"):
        raise ValueError(f"split={split!r}; choose 'train' (60,000 images, 12,000 in the subset) "
                         f"or 'test' (10,000 images, 2,000 in the subset)")
    return split


def _search_dirs(root) -> list[str]:
    if root is not None:
        path = os.fspath(root)
        return [_folder(path, f"root={path!r}", f"create it first (`mkdir -p {path}`) to download into it, "
                                                 f"or pass the folder that holds the official files",
                        "pass the folder that holds (or is to receive) the official files")]
    env = _env_dir()
    dirs = ([env] if env else []) + [DATA_DIR, DOWNLOAD_DIR, DEBIAN_DIR]
    return list(dict.fromkeys(dirs))  # DOWNLOAD_DIR is DATA_DIR in a clone


def _find(name: str, dirs) -> str | None:
    """The first ``name`` or ``name.gz`` in ``dirs``; a :class:`DataError` when the first thing found there
    is not a regular file (a folder, a FIFO, a broken link), which would otherwise be skipped or block."""
    for folder in dirs:
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            kind = file_kind(path)
            if kind == "file":
                return path
            if kind != "missing":
                raise not_a_file_error(path, f"Then load again: the official file is looked for in "
                                             f"{', '.join(dirs)}, and downloaded when missing.")
    return None


def locate_fashion_mnist(root=None) -> dict:
    """Where each official file would be read from: ``{file name: path or None}`` (``None``: it would be downloaded).

    Looks in ``root`` if given, else in ``$CNNBOOK_DATA``, ``data/`` (and :data:`DOWNLOAD_DIR`) and Debian's
    folder; checks no content. Raises :class:`DataError` when ``root`` or ``$CNNBOOK_DATA`` names no folder,
    or something other than a file sits under an official file's name.
    """
    dirs = _search_dirs(root)
    return {name: _find(name, dirs) for name, _, _ in OFFICIAL.values()}


def _cached(path: str, sha256: str, shape: tuple, hint: str) -> np.ndarray:
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _cache:
        _cache[key] = load_verified(path, sha256, shape, hint=hint)
    return _cache[key]


def _official_uint8(split: str, kind: str, root=None, download=True, mirrors=None, progress=True):
    """The verified official array (host uint8) for ``split`` and ``kind`` (``"images"`` or ``"labels"``)."""
    name, sha256, shape = OFFICIAL[(split, kind)]
    hint = _hint(name)
    dirs = _search_dirs(root)
    path = _find(name, dirs)
    if path is None:
        if not download:
            raise DataError(f"{name}(.gz) is missing: looked in {', '.join(dirs)}. Pass download=True, "
                            f"or put the official file into one of those folders.")
        folder = dirs[0] if root is not None else DOWNLOAD_DIR
        path = download_verified(name + ".gz", folder, MIRRORS if mirrors is None else mirrors,
                                 verify=lambda p: load_verified(p, sha256, shape, hint=hint), progress=progress,
                                 create=root is None)
    return _cached(path, sha256, shape, hint)


def subset_path() -> str:
    """The subset file :func:`load_fashion_mnist` reads: the one in ``$CNNBOOK_DATA`` when that folder holds
    one, else the bundled one in :data:`DATA_DIR` (checks no content)."""
    env = _env_dir()
    if env is not None:
        candidate = os.path.join(env, SUBSET_FILE)
        if file_kind(candidate) != "missing":
            return candidate
    return os.path.join(DATA_DIR, SUBSET_FILE)


def _subset_hint(path: str) -> str:
    if os.path.dirname(path) != DATA_DIR:
        return (f"It was found through ${ENV_VAR}: put a good copy there (the bundled one is "
                f"{os.path.join(DATA_DIR, SUBSET_FILE)}), or remove it to use the bundled one.")
    hint = restore_hint("data")
    return hint[:-1] + " or rebuild it with `python tools/make_fashion_subset.py`." if in_clone() else hint


def _subset_uint8(split: str):
    path = subset_path()
    hint = _subset_hint(path)
    kind = file_kind(path)
    if kind == "missing":
        raise DataError(f"{path} is missing. {hint}")
    if kind != "file":
        raise not_a_file_error(path, hint)
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _cache:
        raw = read_bytes(path, hint=hint)
        digest = hashlib.sha256(raw).hexdigest()
        if digest != SUBSET_SHA256:
            raise DataError(f"{path} has been altered: its SHA-256 is {digest}, expected {SUBSET_SHA256}. {hint}")
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            _cache[key] = {k: npz[k] for k in npz.files}
    arrays = _cache[key]
    return arrays[f"x_{split}"], arrays[f"y_{split}"]


def load_fashion_mnist(split="train", full=False, root=None, *, download=True, mirrors=None, progress=True):
    """Fashion-MNIST images and labels, on the default backend.

    Parameters
    ----------
    split : ``"train"`` or ``"test"``.
    full : ``False`` (default) reads the class-balanced subset shipped in ``data/`` (12,000 training,
        2,000 test images; offline, always). ``True`` reads the official 60,000 / 10,000 images.
    root : an existing folder holding the official files (``train-images-idx3-ubyte.gz`` ..., gzipped or
        not); only with ``full=True``. Missing files are downloaded into it when ``download`` is true.
    download : whether missing official files may be downloaded (from ``mirrors``, default :data:`MIRRORS`).
    progress : show a progress bar while downloading.

    Returns
    -------
    X : float32 ``(N, 1, 28, 28)``, pixel intensities in [0, 1] (0 is the black background).
    y : int64 ``(N,)``, class indices 0-9 (names in :data:`FASHION_MNIST_CLASSES`).

    Raises :class:`DataError` (a ``ValueError``) naming the file when one is missing, truncated, altered,
    unreadable or not a file, when ``root`` or ``$CNNBOOK_DATA`` names no folder, and when no mirror
    delivers (naming each URL and why).
    """
    split = _check_split(split)
    if full:
        images = _official_uint8(split, "images", root, download, mirrors, progress)
        labels = _official_uint8(split, "labels", root, download, mirrors, progress)
    else:
        if root is not None:
            raise ValueError(f"root={root!r} is only used with full=True (the subset is shipped in "
                             f"{DATA_DIR}); pass full=True or drop root")
        images, labels = _subset_uint8(split)
    X = images.reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255)  # (N, 1, 28, 28)
    y = labels.astype(np.int64)
    return backend.to_device(X), backend.to_device(y)
