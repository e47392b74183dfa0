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

import functools
import hashlib
import io
import os

import numpy as np
import platformdirs

from cnnbook import backend
from cnnbook.course.language import N_, tr
from cnnbook.data.download import download_verified
from cnnbook.data.idx import DataError, a_kind, file_kind, load_verified, not_a_file_error, read_bytes
from cnnbook.data.workbook import CLONE, in_clone, restore_hint, workbook_dir

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
            raise ValueError(tr("class {label} is not a Fashion-MNIST class; the classes are {classes}",
                                label=repr(label), classes=", ".join(map(repr, FASHION_MNIST_CLASSES))))
        return tr(label)
    try:
        index = int(label)
    except (TypeError, ValueError):
        raise ValueError(tr("label={label}: give a class index 0-9 or a name from FASHION_MNIST_CLASSES",
                            label=repr(label))) from None
    if index != label or not 0 <= index < len(FASHION_MNIST_CLASSES):
        raise ValueError(tr("label={label}: a Fashion-MNIST class index is an integer 0-9", label=repr(label)))
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
    """How to get a good copy of the official file ``name`` (called only when a message is made)."""
    return tr("Delete it and get a good copy: load_fashion_mnist(full=True) downloads {name}.gz into "
              "{download_dir}, `apt install dataset-fashion-mnist` installs it into {debian_dir}, or fetch "
              "{mirror}{name}.gz by hand.", name=name, download_dir=DOWNLOAD_DIR, debian_dir=DEBIAN_DIR,
              mirror=MIRRORS[0])


def _folder(path: str, if_missing, otherwise) -> str:
    """``path`` when it is an existing folder; else a :class:`DataError` saying what it is and what to do:
    the message ``if_missing()`` when nothing is there, else ``otherwise(a_kind)`` (``a_kind``: "a file", ...)."""
    kind = file_kind(path)
    if kind == "folder":
        return path
    if kind == "missing":
        raise DataError(if_missing())
    raise DataError(otherwise(a_kind(kind)))


def _env_dir() -> str | None:
    """``$CNNBOOK_DATA`` when it is set; a :class:`DataError` when it names no folder."""
    value = os.environ.get(ENV_VAR)
    if not value:
        return None
    return _folder(value,
                   lambda: tr("${env}={value} does not exist: create that folder (`mkdir -p {path}`), point {env} "
                              "at the folder that holds the Fashion-MNIST files, or unset it",
                              env=ENV_VAR, value=repr(value), path=value),
                   lambda kind: tr("${env}={value} is {a_kind}, not a folder: point {env} at the folder that holds "
                                   "the Fashion-MNIST files, or unset it", env=ENV_VAR, value=repr(value), a_kind=kind))


def _check_split(split) -> str:
    if split not in ("train", "test"):
        raise ValueError(tr("split={split}; choose 'train' (60,000 images, 12,000 in the subset) "
                            "or 'test' (10,000 images, 2,000 in the subset)", split=repr(split)))
    return split


def _search_dirs(root) -> list[str]:
    if root is not None:
        path = os.fspath(root)
        return [_folder(path,
                        lambda: tr("root={value} does not exist: create it first (`mkdir -p {path}`) to download "
                                   "into it, or pass the folder that holds the official files",
                                   value=repr(path), path=path),
                        lambda kind: tr("root={value} is {a_kind}, not a folder: pass the folder that holds "
                                        "(or is to receive) the official files", value=repr(path), a_kind=kind))]
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
                raise not_a_file_error(path, tr("Then load again: the official file is looked for in {folders}, "
                                                "and downloaded when missing.", folders=", ".join(dirs)))
    return None


def locate_fashion_mnist(root=None) -> dict:
    """Where each official file would be read from: ``{file name: path or None}`` (``None``: it would be downloaded).

    Looks in ``root`` if given, else in ``$CNNBOOK_DATA``, ``data/`` (and :data:`DOWNLOAD_DIR`) and Debian's
    folder; checks no content. Raises :class:`DataError` when ``root`` or ``$CNNBOOK_DATA`` names no folder,
    or something other than a file sits under an official file's name.
    """
    dirs = _search_dirs(root)
    return {name: _find(name, dirs) for name, _, _ in OFFICIAL.values()}


def _cached(path: str, sha256: str, shape: tuple, hint) -> np.ndarray:
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _cache:
        _cache[key] = load_verified(path, sha256, shape, hint=hint)
    return _cache[key]


def _official_uint8(split: str, kind: str, root=None, download=True, mirrors=None, progress=True):
    """The verified official array (host uint8) for ``split`` and ``kind`` (``"images"`` or ``"labels"``)."""
    name, sha256, shape = OFFICIAL[(split, kind)]
    hint = functools.partial(_hint, name)  # made only when a message needs it
    dirs = _search_dirs(root)
    path = _find(name, dirs)
    if path is None:
        if not download:
            raise DataError(tr("{name}(.gz) is missing: looked in {folders}. Pass download=True, "
                               "or put the official file into one of those folders.",
                               name=name, folders=", ".join(dirs)))
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
    """How to get a good copy of the subset file ``path`` (called only when a message is made)."""
    if os.path.dirname(path) != DATA_DIR:
        return tr("It was found through ${env}: put a good copy there (the bundled one is {bundled}), or remove it "
                  "to use the bundled one.", env=ENV_VAR, bundled=os.path.join(DATA_DIR, SUBSET_FILE))
    if in_clone():
        return tr("It is part of the repository: restore it with `git checkout -- data/` (in {clone}) or rebuild it "
                  "with `python tools/make_fashion_subset.py`.", clone=CLONE)
    return restore_hint("data")


def _subset_uint8(split: str):
    path = subset_path()
    hint = functools.partial(_subset_hint, path)  # made only when a message needs it
    kind = file_kind(path)
    if kind == "missing":
        raise DataError(tr("{path} is missing. {hint}", path=path, hint=hint()))
    if kind != "file":
        raise not_a_file_error(path, hint)
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _cache:
        raw = read_bytes(path, hint=hint)
        digest = hashlib.sha256(raw).hexdigest()
        if digest != SUBSET_SHA256:
            raise DataError(tr("{path} has been altered: its SHA-256 is {digest}, expected {sha256}. {hint}",
                               path=path, digest=digest, sha256=SUBSET_SHA256, hint=hint()))
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
            raise ValueError(tr("root={root} is only used with full=True (the subset is shipped in "
                                "{data_dir}); pass full=True or drop root", root=repr(root), data_dir=DATA_DIR))
        images, labels = _subset_uint8(split)
    X = images.reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255)  # (N, 1, 28, 28)
    y = labels.astype(np.int64)
    return backend.to_device(X), backend.to_device(y)
