"""The synthetic textured-shapes generator."""
import numpy as np
import pytest

from cnnbook import backend
from cnnbook.data.shapes import SHAPES, TEXTURES, make_shapes


def host(*arrays):
    return [backend.to_numpy(a) for a in arrays]


def test_shapes_dtype_range_device_and_labels(xp):
    X, s, t = make_shapes(50, rng=0, size=28)
    assert all(backend.get_array_module(a) is xp for a in (X, s, t))
    X, s, t = host(X, s, t)
    assert X.shape == (50, 1, 28, 28) and X.dtype == np.float32 and s.dtype == t.dtype == np.int64
    assert X.min() == 0.0 and X.max() <= 1.0 and X.max() > 0.9
    assert set(s) == set(range(len(SHAPES))) and set(t) == set(range(len(TEXTURES)))


def test_seeded_determinism():
    a = host(*make_shapes(20, rng=3, shift=3, scale=(0.7, 1.2), angle=(0, 360)))
    b = host(*make_shapes(20, rng=np.random.default_rng(3), shift=3, scale=(0.7, 1.2), angle=(0, 360)))
    c = host(*make_shapes(20, rng=4, shift=3, scale=(0.7, 1.2), angle=(0, 360)))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_labels_given_by_name_label_or_array():
    X, s, t = host(*make_shapes(4, 0, shape="circle", texture=np.array([0, 1, 2, 3])))
    assert list(s) == [1] * 4 and list(t) == [0, 1, 2, 3]
    _, s, t = host(*make_shapes(3, 0, shape=2, texture="noise"))
    assert list(s) == [2, 2, 2] and list(t) == [4, 4, 4]


def test_silhouettes_differ_by_shape_and_area_is_similar():
    X, _, _ = host(*make_shapes(4, 0, shape=np.arange(4), texture="solid"))
    areas = X.sum(axis=(1, 2, 3))
    assert areas.max() / areas.min() < 1.5  # no shape is recognisable by its brightness alone
    for i in range(4):
        for j in range(i):
            assert np.abs(X[i] - X[j]).sum() > 20


def test_solid_is_uniform_and_textures_vary_inside():
    X, _, t = host(*make_shapes(5, 0, shape="square", texture=np.arange(5)))
    inner = X[:, 0, 12:20, 12:20]  # well inside the square (half side 0.8 * 0.3 * 32 = 7.7 pixels)
    assert np.allclose(inner[0], 1.0)
    for k in range(1, 5):
        assert np.allclose(np.unique(inner[k]), [0.35, 1.0]), TEXTURES[k]


def test_shift_scale_and_rotation_act_as_asked():
    base, _, _ = host(*make_shapes(1, 0, shape="square", texture="solid"))
    moved, _, _ = host(*make_shapes(1, 0, shape="square", texture="solid", shift=np.array([[0.0, 4.0]])))
    assert np.allclose(moved[0, 0, :, 4:], base[0, 0, :, :-4])  # moved 4 pixels right
    big, _, _ = host(*make_shapes(1, 0, shape="square", texture="solid", scale=1.5))
    assert big.sum() / base.sum() == pytest.approx(1.5 ** 2, rel=0.05)
    turned, _, _ = host(*make_shapes(1, 0, shape="square", texture="solid", angle=90.0))
    assert np.allclose(turned, base, atol=1e-6)  # a square is symmetric under 90 degrees
    tilted, _, _ = host(*make_shapes(1, 0, shape="square", texture="solid", angle=45.0))
    assert np.abs(tilted - base).sum() > 20
    tri, _, _ = host(*make_shapes(1, 0, shape="triangle", texture="solid"))
    flipped, _, _ = host(*make_shapes(1, 0, shape="triangle", texture="solid", angle=180.0))
    assert np.allclose(flipped[0, 0], tri[0, 0, ::-1, ::-1], atol=1e-6)


def test_ranges_are_respected():
    X, _, _ = host(*make_shapes(30, 0, shape="circle", texture="solid", scale=(0.5, 0.6)))
    radius = np.sqrt(X.sum(axis=(1, 2, 3)) / np.pi)  # pixels
    assert np.all((radius > 0.9 * 0.5 * 0.3 * 32 * 0.9) & (radius < 1.05 * 0.6 * 0.3 * 32 * 0.9))


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=-1), "n=-1"),
    (dict(size=4), "size=4"),
    (dict(shape="hexagon"), "unknown shape 'hexagon'"),
    (dict(texture=np.array([0, 9])), "texture must be"),
    (dict(scale=(2.0, 1.0)), "low > high"),
    (dict(scale=-1.0), "scale must be positive"),
    (dict(shift=np.zeros((2, 3))), r"shift must be .* shape \(2, 2\)"),
    (dict(rng=None), "rng is required"),
])
def test_bad_arguments(kwargs, message):
    args = dict(n=2, rng=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        make_shapes(**args)


def test_shape_names_speak_the_learners_language():
    import numpy as np

    from cnnbook.course import language
    from cnnbook.data.shapes import SHAPES, shape_name, shape_names
    try:
        language.set_language("en")
        assert shape_names() == SHAPES and shape_name(np.int64(2)) == "triangle"
        language.set_language("ko")
        assert shape_names() == ("사각형", "원", "삼각형", "십자")
    finally:
        language.set_language(None)
    for bad in (4, -1, 1.5, "square", None):
        with pytest.raises(ValueError, match="shape label is an integer 0-3"):
            shape_name(bad)
