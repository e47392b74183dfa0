"""cnnbook.models.attention and cnnbook.models.vit (with the token layers of cnnbook.nn they use and the attention
distances of cnnbook.models.measures): gradients, attention weights, patch-shuffle invariance, errors."""
import numpy as np
import pytest

from cnnbook import backend
from cnnbook.data.images import shuffle_patches
from cnnbook.gradcheck import eval_numerical_gradient
from cnnbook.models import reference_cnn
from cnnbook.models.attention import MLP, MultiHeadSelfAttention, make_activation
from cnnbook.models.measures import attention_distance, attention_distances, patch_distances
from cnnbook.models.vit import ClassToken, PatchEmbedding, PositionEmbedding, TinyViT, TokenPool, TransformerBlock
from cnnbook.nn import GELU, LayerNorm, ReLU, TokenLinear

F64 = np.float64


def tiny_vit(**kw):
    """A float64 ViT on 1x4x4 images: 2x2 patches, 4 tokens (+1), D = 4."""
    args = dict(image_size=4, in_channels=1, patch_size=2, dim=4, depth=1, num_heads=2, mlp_ratio=1,
                num_classes=3, seed=0, dtype=F64)
    args.update(kw)
    return TinyViT(**args)


# (module factory, input shape); inputs are drawn away from 0 so that ReLU's kink is not straddled
MODULES = {
    "token_linear": (lambda: TokenLinear(3, 4, rng=0, dtype=F64), (2, 3, 3)),
    "layer_norm": (lambda: LayerNorm(5, dtype=F64), (2, 3, 5)),
    "gelu": (lambda: GELU(), (2, 3, 4)),
    "relu": (lambda: ReLU(), (2, 3, 4)),
    "mlp_gelu": (lambda: MLP(4, 6, "gelu", rng=0, dtype=F64), (2, 3, 4)),
    "mlp_relu": (lambda: MLP(4, 6, "relu", rng=0, dtype=F64), (2, 3, 4)),
    "attention": (lambda: MultiHeadSelfAttention(4, 2, rng=0, dtype=F64), (2, 3, 4)),
    "patch_embedding": (lambda: PatchEmbedding(2, 3, 2, rng=0, dtype=F64), (2, 2, 4, 6)),
    "class_token": (lambda: ClassToken(4, rng=0, dtype=F64), (2, 3, 4)),
    "position_embedding": (lambda: PositionEmbedding(3, 4, rng=0, dtype=F64), (2, 3, 4)),
    "block": (lambda: TransformerBlock(4, 2, mlp_ratio=1.5, rng=0, dtype=F64), (2, 3, 4)),
    "pool_cls": (lambda: TokenPool("cls"), (2, 3, 4)),
    "pool_mean": (lambda: TokenPool("mean"), (2, 3, 4)),
    "vit_cls_pos": (lambda: tiny_vit(), (2, 1, 4, 4)),
    "vit_mean_nopos_relu": (lambda: tiny_vit(pool="mean", pos_embed=False, activation="relu"), (2, 1, 4, 4)),
}


def grad_error(analytic, numeric) -> float:
    """``rel_error``, except that entries far below the array's largest are compared against that scale.

    Some gradients are exactly zero (the key bias: adding one vector to every key shifts a row of
    scores by a constant, which softmax ignores), where centred differences leave ~1e-11 of noise.
    """
    a, b = backend.to_numpy(analytic), backend.to_numpy(numeric)
    floor = max(1e-8, 1e-4 * float(np.abs(b).max(initial=0.0)))
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b)), initial=0.0))


def _away_from_zero(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 1.5, size=shape)


@pytest.mark.parametrize("name", list(MODULES))
def test_backward_matches_numerical_gradients(name, xp):
    make, shape = MODULES[name]
    module = make()
    x = backend.to_device(_away_from_zero(shape, 1), xp)
    out = module(x)
    assert backend.get_array_module(out) is xp and out.dtype == F64
    dout = backend.to_device(np.random.default_rng(2).normal(size=out.shape), xp)
    module.zero_grad()
    dx = module.backward(dout)
    assert backend.get_array_module(dx) is xp and dx.shape == x.shape
    loss = lambda _: float((module(x) * dout).sum())  # noqa: E731  (d loss / d out = dout)
    assert grad_error(dx, eval_numerical_gradient(loss, x)) < 1e-6
    for pname, p in module.named_parameters():
        assert backend.get_array_module(p.grad) is xp
        assert grad_error(p.grad, eval_numerical_gradient(loss, p.data)) < 1e-6, pname


def test_attention_weights_are_kept_and_rows_sum_to_one(xp):
    attn = MultiHeadSelfAttention(8, 4, rng=0, dtype=F64)
    x = backend.to_device(np.random.default_rng(0).normal(size=(3, 5, 8)), xp)
    out = attn(x)
    assert out.shape == (3, 5, 8)
    a = backend.to_numpy(attn.attn_)
    assert a.shape == (3, 4, 5, 5) and (a >= 0).all()
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, atol=1e-12)
    first = a.copy()
    attn(x[:1] * 3.0)  # a later forward replaces the weights, never appends
    assert attn.attn_.shape == (1, 4, 5, 5) and not np.allclose(backend.to_numpy(attn.attn_), first[:1])


@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_without_position_embeddings_shuffling_patches_changes_nothing(pool, xp):
    model = tiny_vit(image_size=8, patch_size=2, dim=8, depth=2, pool=pool, pos_embed=False)
    X = backend.to_device(np.random.default_rng(0).random((3, 1, 8, 8)), xp)
    perm = np.random.default_rng(1).permutation(16)
    shuffled = shuffle_patches(X, 2, perm=perm)
    assert not np.allclose(backend.to_numpy(shuffled), backend.to_numpy(X))
    np.testing.assert_allclose(backend.to_numpy(model(shuffled)), backend.to_numpy(model(X)), rtol=0, atol=1e-12)
    with_pos = tiny_vit(image_size=8, patch_size=2, dim=8, depth=2, pool=pool, pos_embed=True)
    assert np.abs(backend.to_numpy(with_pos(shuffled)) - backend.to_numpy(with_pos(X))).max() > 1e-4


def test_shuffle_patches_moves_whole_patches(xp):
    X = backend.to_device(np.arange(2 * 2 * 4 * 6, dtype=F64).reshape(2, 2, 4, 6), xp)  # 2x3 grid of 2x2 patches
    perm = np.array([5, 0, 1, 2, 3, 4])
    out = backend.to_numpy(shuffle_patches(X, 2, perm=perm))
    host = backend.to_numpy(X)
    np.testing.assert_array_equal(out[:, :, 0:2, 0:2], host[:, :, 2:4, 4:6])  # place 0 holds patch 5
    np.testing.assert_array_equal(out[:, :, 0:2, 2:4], host[:, :, 0:2, 0:2])  # place 1 holds patch 0
    back = shuffle_patches(backend.to_device(out, xp), 2, perm=np.argsort(perm))
    np.testing.assert_array_equal(backend.to_numpy(back), host)


def test_tiny_vit_shapes_and_size_like_the_reference_cnn(xp):
    model = TinyViT(seed=0)
    assert abs(model.num_parameters() - reference_cnn().num_parameters()) < 0.1 * reference_cnn().num_parameters()
    X = backend.to_device(np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32), xp)
    scores = model(X)
    assert scores.shape == (2, 10) and scores.dtype == np.float32 and backend.get_array_module(scores) is xp
    assert model.patch_embed(X).shape == (2, 16, 32)
    assert [a.shape for a in model.attention_maps()] == [(2, 4, 17, 17)] * 2
    d = attention_distances(model)
    assert d.shape == (2, 4) and (d > 0).all() and (d < 28 * np.sqrt(2)).all()
    same = TinyViT(seed=0)
    np.testing.assert_array_equal(backend.to_numpy(same(X)), backend.to_numpy(scores))  # one seed, one model


def test_attention_distance_on_known_patterns():
    dist = patch_distances(2, 3)  # 2x2 grid of 3-pixel patches: neighbours 3 px apart, diagonals 3*sqrt(2)
    np.testing.assert_allclose(dist[0], [0, 3, 3, 3 * np.sqrt(2)])
    eye = np.eye(4)[None, None]  # every patch attends to itself only
    np.testing.assert_allclose(attention_distance(eye, 2, 3), [0.0])
    uniform = np.full((1, 2, 4, 4), 0.25)
    np.testing.assert_allclose(attention_distance(uniform, 2, 3), [(6 + 3 * np.sqrt(2)) / 4] * 2)
    with_cls = np.zeros((1, 1, 5, 5))
    with_cls[..., 0] = 0.5  # half the attention on the class token is left out and the rest renormalised
    with_cls[..., 1:] = 0.5 / 4
    np.testing.assert_allclose(attention_distance(with_cls, 2, 3, num_prefix_tokens=1),
                               attention_distance(uniform[:, :1], 2, 3))


@pytest.mark.parametrize("make, error, words", [
    (lambda: MultiHeadSelfAttention(6, 4), ValueError, "num_heads=4"),
    (lambda: TinyViT(image_size=28, patch_size=5), ValueError, "patch_size=5"),
    (lambda: TinyViT(pool="max"), ValueError, "pool='max'"),
    (lambda: make_activation("tanh"), ValueError, "activation='tanh'"),
    (lambda: LayerNorm(4, eps=0), ValueError, "eps=0"),
    (lambda: TinyViT()(np.zeros((2, 3, 28, 28), np.float32)), ValueError, "(2, 3, 28, 28)"),
    (lambda: TinyViT()(np.zeros((2, 1, 28, 28))), TypeError, "float64"),
    (lambda: TinyViT().patch_embed(np.zeros((1, 1, 30, 28), np.float32)), ValueError, "patch_size=7"),
    (lambda: LayerNorm(4)(np.zeros((2, 3, 5), np.float32)), ValueError, "(2, 3, 5)"),
    (lambda: PositionEmbedding(3, 4)(np.zeros((1, 5, 4), np.float32)), ValueError, "5"),
    (lambda: MultiHeadSelfAttention(4, 2).backward(np.zeros((1, 2, 4))), RuntimeError, "before forward"),
    (lambda: TinyViT().attention_maps(), RuntimeError, "run model(x) first"),
    (lambda: shuffle_patches(np.zeros((1, 1, 4, 4)), 2, perm=[0, 1, 2, 2]), ValueError, "permutation of range(4)"),
    (lambda: attention_distance(np.ones((1, 1, 4, 4)), 3, 2), ValueError, "(1, 1, 4, 4)"),
    (lambda: MultiHeadSelfAttention(4, 2)([[1.0, 2.0]]), TypeError, "list"),
])
def test_bad_input_raises_errors_that_name_it(make, error, words):
    with pytest.raises(error) as info:
        make()
    assert words in str(info.value)


def test_attention_plots_draw_with_labels_and_reject_bad_shapes(xp):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cnnbook.viz.attention import (
        plot_accuracy_vs_data,
        plot_attention_distance,
        plot_cross_validation,
        show_attention_maps,
        show_filter_rows,
    )
    model = TinyViT(seed=0)
    X = backend.to_device(np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32), xp)
    model(X)
    try:
        fig = plot_attention_distance(attention_distances(model), {"CNN reach": [1.5, 2.0, 4.0]})
        assert fig.axes[0].get_ylabel() == "distance (pixels)" and fig.axes[0].get_title()
        fig = show_attention_maps(X[0], [a[0] for a in model.attention_maps()], grid_size=4)
        assert len(fig.axes) == 2 * 5 + 1  # and one colour bar: one scale for every head
        fig = plot_accuracy_vs_data([100, 1000], {"CNN": [0.5, 0.7]})
        assert "training images" in fig.axes[0].get_xlabel()
        fig = plot_cross_validation(np.full((2, 3, 4), 0.5), [1e-3, 1e-2], [4, 8, 16], "lr", "filters")
        assert fig.axes[0].get_xlabel() == "filters"
        fig = show_filter_rows({"step 0": model.patch_embed.weight.data[:3], "step 1": np.zeros((2, 1, 7, 7))})
        assert len(fig.axes) == 2 * 3 + 1 and fig.axes[0].get_ylabel() == "step 0"  # + the colour bar
        with pytest.raises(ValueError, match="single-channel"):
            show_filter_rows({"rgb": np.zeros((2, 3, 5, 5))})
        with pytest.raises(ValueError, match="T = 17"):
            show_attention_maps(X[0], [np.ones((4, 5, 5))], grid_size=4)
        with pytest.raises(ValueError, match="2 data sizes"):
            plot_accuracy_vs_data([100, 1000], {"CNN": [0.5]})
        with pytest.raises(ValueError, match=r"\(2, 3, k\)"):
            plot_cross_validation(np.ones((3, 2, 4)), [1, 2], [1, 2, 3], "a", "b")
    finally:
        plt.close("all")
