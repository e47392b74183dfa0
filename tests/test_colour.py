"""The colour patch set (cnnbook.data.colour) and the colour-filter measures of cnnbook.models.measures."""
import numpy as np
import pytest

from cnnbook import backend
from cnnbook.data.colour import COLOUR_CLASSES, load_colour_patches
from cnnbook.models.measures import channel_correlations, colour_opponent_share, orientation_strength


def test_patches_shape_range_labels_and_determinism():
    X, y = load_colour_patches("train", per_class=20, patch_size=12, seed=3)
    X, y = backend.to_numpy(X), backend.to_numpy(y)
    assert X.shape == (6 * 20, 3, 12, 12) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() >= 0 and X.max() <= 1
    assert np.array_equal(np.bincount(y), [20] * len(COLOUR_CLASSES))
    X2, _ = load_colour_patches("train", per_class=20, patch_size=12, seed=3)
    X3, _ = load_colour_patches("train", per_class=20, patch_size=12, seed=4)
    assert np.array_equal(X, backend.to_numpy(X2)) and not np.array_equal(X, backend.to_numpy(X3))
    # colour, not grey: the channels differ
    assert np.abs(X[:, 0] - X[:, 1]).mean() > 0.01


def test_train_and_test_patches_come_from_disjoint_columns():
    from cnnbook.data.colour import _photo
    img = _photo("astronaut", 128)                              # (128, 128, 3)
    Xtr, _ = load_colour_patches("train", per_class=30, patch_size=8)
    Xte, _ = load_colour_patches("test", per_class=30, patch_size=8)
    Xtr, Xte = backend.to_numpy(Xtr)[:30], backend.to_numpy(Xte)[:30]   # class 0: astronaut
    windows = np.lib.stride_tricks.sliding_window_view(img, (8, 8), axis=(0, 1))  # (121, 121, 3, 8, 8)
    cut = 96                                                    # 128 * (1 - 0.25)
    for patches, lo, hi in [(Xtr, 0, cut - 8), (Xte, cut, 128 - 8)]:
        for p in patches[:5]:
            rows, cols = np.nonzero((windows == p).all(axis=(2, 3, 4)))
            assert rows.size and lo <= cols.min() and cols.max() <= hi


@pytest.mark.parametrize("kwargs", [dict(split="val"), dict(per_class=0), dict(patch_size=200),
                                    dict(test_fraction=1.5), dict(seed=-1)])
def test_bad_arguments_are_named(kwargs):
    with pytest.raises(ValueError) as err:
        load_colour_patches(**kwargs)
    assert str(next(iter(kwargs.values()))) in str(err.value)


def test_colour_opponent_share_tells_opponent_from_grey_and_random():
    k = np.ones((5, 5))
    grey = np.stack([k, k, k])[None]                             # (1, 3, 5, 5): all channels agree
    red_green = np.stack([k, -k, 0 * k])[None]                   # red against green
    assert colour_opponent_share(grey) == 0 and colour_opponent_share(red_green) == 1
    assert np.allclose(channel_correlations(grey), 1)
    assert channel_correlations(red_green)[0, 0] == pytest.approx(-1)
    random = np.random.default_rng(0).normal(size=(2000, 3, 5, 5))
    assert colour_opponent_share(random) < 0.05
    with pytest.raises(ValueError, match="3 channels"):
        channel_correlations(np.zeros((2, 1, 5, 5)))
    with pytest.raises(ValueError, match="threshold"):
        colour_opponent_share(grey, threshold=0.5)


def test_orientation_strength_edges_against_noise():
    edge = np.zeros((3, 7, 7))
    edge[:, :, 4:] = 1                                           # a vertical edge
    diagonal = np.tile(np.add.outer(np.arange(7), np.arange(7)).astype(float), (3, 1, 1))  # a ramp at 45 degrees
    blob = np.tile(np.exp(-np.add.outer((np.arange(7) - 3) ** 2, (np.arange(7) - 3) ** 2) / 4.0), (3, 1, 1))
    strength = orientation_strength(np.stack([edge, diagonal, blob, 0 * blob]))
    assert strength[0] == pytest.approx(1) and strength[1] == pytest.approx(1)
    assert strength[2] < 0.05 and strength[3] == 0               # a round blob and a constant: no orientation
    noise = orientation_strength(np.random.default_rng(1).normal(size=(500, 3, 5, 5)))
    assert 0.1 < noise.mean() < 0.4
