"""The shipped Fashion-MNIST subset, the full data when present, and minibatch iteration."""
import os
import shutil

import numpy as np
import pytest

from cnnbook import backend
from cnnbook.course.language import set_language
from cnnbook.data import (
    FASHION_MNIST_CLASSES,
    DataError,
    class_name,
    class_names,
    fashion,
    load_fashion_mnist,
    locate_fashion_mnist,
)
from cnnbook.train import iterate_minibatches

HAVE_FULL = all(p is not None for p in locate_fashion_mnist().values())


@pytest.mark.parametrize("split, per_class", [("train", 1200), ("test", 200)])
def test_subset_shape_dtype_range_balance(xp, split, per_class):
    X, y = load_fashion_mnist(split)
    assert backend.get_array_module(X) is xp and backend.get_array_module(y) is xp
    X, y = backend.to_numpy(X), backend.to_numpy(y)
    assert X.shape == (10 * per_class, 1, 28, 28) and X.dtype == np.float32
    assert y.shape == (10 * per_class,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.all(np.bincount(y, minlength=10) == per_class)
    assert 0.2 < X.mean() < 0.4  # Fashion-MNIST's mean intensity is about 0.29


def test_subset_is_deterministic_and_returns_fresh_arrays():
    X1, y1 = load_fashion_mnist("train")
    X1[0] = 7.0  # must not leak into the next load (the parsed file is cached)
    X2, y2 = load_fashion_mnist("train")
    X3, y3 = load_fashion_mnist("train")
    assert X2.max() == 1.0
    assert np.array_equal(X2, X3) and np.array_equal(y1, y2)


def test_bad_split_and_root_without_full():
    with pytest.raises(ValueError, match="split='validation'.*'train'.*'test'"):
        load_fashion_mnist("validation")
    with pytest.raises(ValueError, match="root=.*full=True"):
        load_fashion_mnist("train", root="/somewhere")


def test_altered_or_missing_subset_is_reported(tmp_path, monkeypatch):
    src = os.path.join(fashion.DATA_DIR, fashion.SUBSET_FILE)
    copy = tmp_path / fashion.SUBSET_FILE
    shutil.copyfile(src, copy)
    raw = bytearray(copy.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    copy.write_bytes(bytes(raw))
    monkeypatch.setattr(fashion, "DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=r"fashion-mnist-subset\.npz has been altered.*expected ea90bc1e"):
        load_fashion_mnist("test")
    copy.unlink()
    with pytest.raises(DataError, match=r"fashion-mnist-subset\.npz is missing.*make_fashion_subset"):
        load_fashion_mnist("test")


def test_class_names():
    assert len(FASHION_MNIST_CLASSES) == 10
    assert FASHION_MNIST_CLASSES[0] == "T-shirt/top" and FASHION_MNIST_CLASSES[9] == "Ankle boot"


@pytest.mark.parametrize("lang, trouser, boot", [("en", "Trouser", "Ankle boot"), ("ko", "바지", "앵클 부츠")])
def test_class_name_speaks_the_language_in_use(lang, trouser, boot):
    """The names shown are the edition's; lookups by the dataset's English name keep working in both."""
    set_language(lang)
    try:
        assert class_name(1) == class_name(np.int64(1)) == class_name("Trouser") == trouser
        assert class_name(9) == boot and class_names()[9] == boot and len(class_names()) == 10
        assert FASHION_MNIST_CLASSES.index("Trouser") == 1                 # the English names stay the keys
        assert (class_names() == FASHION_MNIST_CLASSES) == (lang == "en")
        assert len(set(class_names())) == 10
    finally:
        set_language(None)


@pytest.mark.parametrize("bad", [10, -1, 1.5, "Hat", "trouser", None])
def test_class_name_refuses_what_is_not_a_class(bad):
    with pytest.raises(ValueError, match="Fashion-MNIST|label="):
        class_name(bad)


@pytest.mark.skipif(not HAVE_FULL, reason="the official Fashion-MNIST files are not installed "
                                          "(apt install dataset-fashion-mnist)")
def test_full_data_and_subset_provenance(xp):
    Xtr, ytr = load_fashion_mnist("train", full=True, download=False)
    assert backend.get_array_module(Xtr) is xp
    Xtr, ytr = backend.to_numpy(Xtr), backend.to_numpy(ytr)
    assert Xtr.shape == (60000, 1, 28, 28) and Xtr.dtype == np.float32 and ytr.dtype == np.int64
    assert np.all(np.bincount(ytr) == 6000)
    assert ytr[0] == 9  # the first training image is an ankle boot
    Xte, yte = load_fashion_mnist("test", full=True, download=False)
    assert Xte.shape == (10000, 1, 28, 28) and np.all(np.bincount(backend.to_numpy(yte)) == 1000)
    # The shipped subset is exactly the official images at the recorded indices.
    with np.load(os.path.join(fashion.DATA_DIR, fashion.SUBSET_FILE), allow_pickle=False) as npz:
        index = npz["index_train"]
    Xs, ys = load_fashion_mnist("train")
    assert np.array_equal(backend.to_numpy(Xs), Xtr[index]) and np.array_equal(backend.to_numpy(ys), ytr[index])


def test_minibatches_cover_the_data_once_on_the_device(xp):
    X = xp.asarray(np.arange(10 * 3, dtype=np.float32).reshape(10, 3))
    y = xp.asarray(np.arange(10))
    batches = list(iterate_minibatches(X, y, 4, rng=0))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    for Xb, yb in batches:
        assert backend.get_array_module(Xb) is xp and backend.get_array_module(yb) is xp
        assert np.array_equal(backend.to_numpy(Xb)[:, 0], 3 * backend.to_numpy(yb))  # pairs stay together
    seen = np.concatenate([backend.to_numpy(yb) for _, yb in batches])
    assert sorted(seen) == list(range(10)) and not np.array_equal(seen, np.arange(10))


def test_minibatches_are_seeded_and_change_per_epoch():
    X, y = np.arange(100.0)[:, None], np.arange(100)

    def order(rng):
        return np.concatenate([yb for _, yb in iterate_minibatches(X, y, 32, rng=rng)])

    assert np.array_equal(order(5), order(5))
    assert np.array_equal(order(np.random.default_rng(5)), order(5))
    rng = np.random.default_rng(5)
    assert not np.array_equal(order(rng), order(rng))  # a Generator moves on: new order each epoch
    plain = [yb for _, yb in iterate_minibatches(X, y, 32, shuffle=False)]
    assert np.array_equal(np.concatenate(plain), y)
    assert [len(b) for _, b in iterate_minibatches(X, y, 32, rng=0, drop_last=True)] == [32, 32, 32]
    assert [b for _, b in iterate_minibatches(X, None, 60, shuffle=False)] == [None, None]


def test_minibatch_bad_input():
    X, y = np.zeros((5, 2)), np.zeros(4)
    with pytest.raises(ValueError, match="X has 5 examples but y has 4"):
        next(iterate_minibatches(X, y, 2, rng=0))
    with pytest.raises(ValueError, match="batch_size=0"):
        next(iterate_minibatches(X, None, 0, rng=0))
    with pytest.raises(ValueError, match="batch_size=2.5"):
        next(iterate_minibatches(X, None, 2.5, rng=0))
    with pytest.raises(ValueError, match="needs rng"):
        next(iterate_minibatches(X, None, 2))
