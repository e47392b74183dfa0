"""Build data/fashion-mnist-subset.npz, the class-balanced Fashion-MNIST subset shipped with cnnbook.

    python tools/make_fashion_subset.py [--root FOLDER] [--out data/fashion-mnist-subset.npz]

Reads the official files the way ``load_fashion_mnist(full=True)`` does (``--root``, else
``$CNNBOOK_DATA``, ``data/``, ``/usr/share/datasets/fashion-mnist``, else a verified download),
draws 1,200 training and 200 test images per class with ``numpy.random.default_rng(20170825)``
(kept in the official order), and writes them as uint8 with the official indices:

    x_train (12000, 28, 28) uint8   y_train (12000,) uint8   index_train (12000,) int32
    x_test   (2000, 28, 28) uint8   y_test   (2000,) uint8   index_test   (2000,) int32

The zip entries get a fixed timestamp, so the output is byte-for-byte reproducible (same zlib);
the script prints its SHA-256, which ``cnnbook/data/fashion.py`` (SUBSET_SHA256) and data/README.md record.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cnnbook.data import fashion as data  # noqa: E402

SEED = 20170825  # the day Fashion-MNIST was published on arXiv


def balanced_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``per_class`` examples of each class, drawn without replacement."""
    chosen = [rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)
              for c in range(len(data.FASHION_MNIST_CLASSES))]
    return np.sort(np.concatenate(chosen)).astype(np.int32)


def write_npz(path: str, arrays: dict) -> None:
    """``numpy.savez_compressed`` with fixed zip timestamps (reproducible bytes), written atomically."""
    tmp = path + ".part"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(2017, 8, 25, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue(), compresslevel=9)
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="folder with the official files")
    parser.add_argument("--out", default=os.path.join(data.DATA_DIR, data.SUBSET_FILE))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(SEED)
    arrays = {}
    for split in ("train", "test"):
        images = data._official_uint8(split, "images", args.root)
        labels = data._official_uint8(split, "labels", args.root)
        index = balanced_indices(labels, data.SUBSET_PER_CLASS[split], rng)
        arrays[f"x_{split}"] = images[index]
        arrays[f"y_{split}"] = labels[index]
        arrays[f"index_{split}"] = index
    write_npz(args.out, arrays)
    with open(args.out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes, SHA-256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
