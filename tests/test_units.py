"""Receptive-field crops, maximally activating patches and the linear-explainability measure
(cnnbook.models.measures), and their plots (cnnbook.viz.units)."""
import matplotlib
import numpy as np
import pytest

from cnnbook.layers import conv2d_forward, receptive_field
from cnnbook.models.measures import crop_fields, field_geometry, linear_explained, top_patches
from cnnbook.viz.units import colour_filter_image, show_colour_filters, show_top_patches

matplotlib.use("Agg")


def test_field_geometry_matches_receptive_field_and_the_conv():
    layers = [(3, 1, 1), (2, 2, 0), (3, 1, 1)]
    size, jump, offset = field_geometry(layers)
    assert (size, jump, offset) == (8, 2, -3)
    assert size == receptive_field([(k, s) for k, s, _ in layers])
    # a conv unit's pre-activation is its filter dotted with the crop field_geometry points at
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 2, 11, 11))
    w, b = rng.normal(size=(4, 2, 5, 5)), rng.normal(size=4)
    out, _ = conv2d_forward(X, w, b, stride=2, padding=1)         # (3, 4, 5, 5)
    size, jump, offset = field_geometry([(5, 2, 1)])
    n, i, j = np.array([0, 1, 2, 2]), np.array([0, 4, 1, 3]), np.array([0, 2, 4, 0])
    crops = crop_fields(X, n, i, j, size, jump, offset)           # (4, 2, 5, 5)
    assert np.allclose(np.einsum("ncij,fcij->nf", crops, w) + b, out[n, :, i, j])
    with pytest.raises(ValueError, match="kernel_size, stride, padding"):
        field_geometry([(3, 1)])


def test_top_patches_finds_the_planted_pattern():
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 0.2, size=(20, 1, 12, 12))
    X[7, 0, 4:7, 5:8] = 1                                         # a bright 3x3 square in image 7
    w = np.ones((1, 1, 3, 3))
    out, _ = conv2d_forward(X, w, np.zeros(1), padding=1)
    patches, values, idx = top_patches(X, out[:, 0], *field_geometry([(3, 1, 1)]), k=3)
    assert idx[0] == 7 and np.allclose(patches[0, 0], 1) and values[0] == pytest.approx(9)
    assert patches.shape == (3, 1, 3, 3) and values[0] >= values[1] >= values[2]
    with pytest.raises(ValueError, match="k="):
        top_patches(X, out[:, 0], 3, 1, -1, k=0)


def test_linear_explained_separates_linear_from_nonlinear_units():
    rng = np.random.default_rng(2)
    P = rng.normal(size=(2000, 9))
    v = rng.normal(size=9)
    assert linear_explained(P, P @ v + 1) == pytest.approx(1)
    assert linear_explained(P, np.maximum(P @ v, 0)) > 0.6        # one ReLU: still mostly linear
    assert linear_explained(P, (P @ v) ** 2) < 0.1                # an even function: no linear template
    with pytest.raises(ValueError, match="one response per patch"):
        linear_explained(P, P[:10, 0])


def test_colour_filter_image_scale_and_figures():
    w = np.zeros((2, 3, 5, 5))
    w[0, 0] = 1.0                                                 # pure red at the limit
    img = colour_filter_image(w, limit=1.0)
    assert img.shape == (2, 5, 5, 3) and np.allclose(img[1], 0.5) and np.allclose(img[0, ..., 0], 1)
    with pytest.raises(ValueError, match="limit"):
        colour_filter_image(w, limit=0)
    fig = show_colour_filters(w, limit=2.0, title="t")
    assert fig.axes[-1].get_ylabel().startswith("weight")         # the key
    fig = show_top_patches(np.random.default_rng(0).uniform(size=(2, 3, 1, 8, 8)), np.ones((2, 3)),
                           unit_names=["a", "b"])
    assert len([ax for ax in fig.axes if ax.images]) == 2 * 3 and fig.axes[-1].get_ylabel() == "pixel intensity"
    with pytest.raises(ValueError, match="values"):
        show_top_patches(np.zeros((2, 3, 1, 8, 8)), np.ones((3, 2)))


def test_linear_explained_many_units_at_once_matches_one_by_one():
    rng = np.random.default_rng(3)
    P = rng.normal(size=(600, 1, 3, 3))
    R = np.stack([np.maximum(P.reshape(600, -1) @ rng.normal(size=9), 0) for _ in range(4)], axis=1)  # (600, 4)
    together = linear_explained(P, R, seed=1)
    assert together.shape == (4,)
    assert np.allclose(together, [linear_explained(P, R[:, u], seed=1) for u in range(4)])
    R[:, 2] = 0
    with pytest.raises(ValueError, match=r"unit\(s\) \[2\]"):
        linear_explained(P, R)
