"""Sample photos (offline), the LFW faces, and the image transforms."""
import socket

import numpy as np
import pytest

from cnnbook import backend
from cnnbook.data.images import SAMPLE_IMAGES, load_faces, load_image, shuffle_patches, transform_images


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access in a test that must work offline")
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("name", sorted(SAMPLE_IMAGES))
def test_sample_images_load_offline(no_network, name):
    img = backend.to_numpy(load_image(name))
    assert img.dtype == np.float32 and img.ndim in (2, 3) and min(img.shape[:2]) >= 256
    assert 0.0 <= img.min() and img.max() <= 1.0 and img.std() > 0.05
    assert (img.ndim == 3) == ("colour" in SAMPLE_IMAGES[name][1])


def test_gray_size_and_device(xp):
    img = load_image("chelsea", gray=True, size=64)
    assert backend.get_array_module(img) is xp
    assert img.shape == (64, 96) and img.dtype == np.float32
    assert load_image("astronaut", size=(32, 40)).shape == (32, 40, 3)
    with pytest.raises(ValueError, match="unknown sample image 'lena'.*chelsea"):
        load_image("lena")
    with pytest.raises(ValueError, match="size=0"):
        load_image("camera", size=0)


def test_faces(no_network, xp):
    X, y = load_faces()
    assert backend.get_array_module(X) is xp
    X, y = backend.to_numpy(X), backend.to_numpy(y)
    assert X.shape == (200, 1, 25, 25) and X.dtype == np.float32 and y.dtype == np.int64
    assert list(np.bincount(y)) == [100, 100] and y[0] == 1 and y[-1] == 0
    assert 0 <= X.min() and X.max() <= 1
    assert load_faces(size=24)[0].shape == (200, 1, 24, 24)


def test_transform_rotates_counter_clockwise_and_keeps_backend(xp):
    img = np.zeros((1, 1, 28, 28), np.float32)
    img[0, 0, 4:10, 13:15] = 1  # a vertical bar above the centre
    out = transform_images(xp.asarray(img), angle=90)
    assert backend.get_array_module(out) is xp and out.dtype == np.float32 and out.shape == img.shape
    ys, xs = np.nonzero(backend.to_numpy(out)[0, 0] > 0.5)
    assert xs.max() < 11 and 12 <= ys.min() and ys.max() <= 15  # now a horizontal bar left of the centre


def test_transform_scale_shift_and_per_image():
    img = np.zeros((2, 1, 20, 20), np.float32)
    img[:, 0, 8:12, 8:12] = 1
    twice = transform_images(img, scale=2.0, order=0)
    assert twice[0].sum() == pytest.approx(4 * img[0].sum())
    moved = transform_images(img, shift=np.array([[0, 0], [2, -3]]), order=0)
    assert np.array_equal(moved[0], img[0]) and np.array_equal(moved[1, 0, 10:14, 5:9], np.ones((4, 4)))
    both = transform_images(img, angle=np.array([0.0, 180.0]))
    assert np.allclose(both[0], img[0], atol=1e-6) and np.allclose(both[1], img[1], atol=1e-5)
    with pytest.raises(ValueError, match=r"angle must be .* shape \(2,\)"):
        transform_images(img, angle=np.zeros(3))
    with pytest.raises(ValueError, match="scale must be positive"):
        transform_images(img, scale=0)


def test_shuffle_patches_permutes_tiles(xp):
    X = np.arange(2 * 3 * 8 * 8, dtype=np.float32).reshape(2, 3, 8, 8)
    out = shuffle_patches(xp.asarray(X), 4, rng=0)
    assert backend.get_array_module(out) is xp
    out = backend.to_numpy(out)
    tiles = lambda a: sorted(a[:, i:i + 4, j:j + 4].tobytes() for i in (0, 4) for j in (0, 4))  # noqa: E731
    for n in range(2):
        assert tiles(out[n]) == tiles(X[n])  # the same tiles, every channel moved together
    assert not np.array_equal(out, X)
    assert np.array_equal(out, backend.to_numpy(shuffle_patches(X, 4, rng=0)))
    with pytest.raises(ValueError, match=r"patch_size=3 .* H=8 and W=8; try one of \[1, 2, 4, 8\]"):
        shuffle_patches(X, 3, rng=0)
    with pytest.raises(ValueError, match="one of rng .* and perm .*; got neither"):
        shuffle_patches(X, 4, rng=None)
    with pytest.raises(ValueError, match="got both"):
        shuffle_patches(X, 4, rng=0, perm=[0, 1, 2, 3])
    with pytest.raises(TypeError, match=r"pass the permutation as perm=\.\.\."):
        shuffle_patches(X, 4, [3, 2, 1, 0])  # a permutation passed where the seed goes


def test_shuffle_patches_with_perm_gives_every_image_the_same_order(xp):
    X = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)  # a 2x2 grid of 2x2 tiles per image
    out = backend.to_numpy(shuffle_patches(xp.asarray(X), 2, perm=[3, 0, 1, 2]))
    for n in range(2):
        assert np.array_equal(out[n, :, :2, :2], X[n, :, 2:, 2:])  # place 0 holds tile 3
        assert np.array_equal(out[n, :, :2, 2:], X[n, :, :2, :2])  # place 1 holds tile 0
