"""A tiny vision transformer (ViT, Dosovitskiy et al. 2021) for 1x28x28 images, with backward passes.

The image is cut into ``P x P`` patches; each patch becomes a token (a strided convolution, so a
linear map of its pixels); a class token and learned position embeddings may be added; pre-norm
transformer blocks let every token attend to every other token from the first layer on::

    x (N, C, H, W) -> PatchEmbedding -> (N, T, D), T = (H / P) * (W / P)
      -> [ClassToken] -> (N, T + 1, D) -> [PositionEmbedding]
      -> TransformerBlock x depth:  x = x + MHSA(LN(x));  x = x + MLP(LN(x))
      -> LayerNorm -> TokenPool ("cls": the class token; "mean": mean over tokens) -> (N, D)
      -> Linear -> scores (N, num_classes)

Without position embeddings nothing tells the model where a patch came from: shuffling the patches
(:func:`cnnbook.data.images.shuffle_patches`) leaves the scores unchanged.
:func:`cnnbook.models.measures.attention_distances` measures how far, in pixels, each layer's heads look.
Modules follow :mod:`cnnbook.nn`'s protocol.
"""
from __future__ import annotations

import math

import numpy as np

from cnnbook import backend, layers
from cnnbook.backend import as_generator
from cnnbook.course.language import tr
from cnnbook.layers.checks import whole_number
from cnnbook.models.attention import MLP, MultiHeadSelfAttention
from cnnbook.nn import LayerNorm, Linear, Module
from cnnbook.nn.base import check_float_input, normal_parameter, zeros_parameter
from cnnbook.nn.tokens import check_tokens

POOLS = ("cls", "mean")


class PatchEmbedding(Module):
    """Non-overlapping ``P x P`` patches to ``D``-dimensional tokens: a convolution with kernel = stride = P.

    weight ``(D, C, P, P)``, bias ``(D,)``. ``(N, C, H, W)`` to ``(N, T, D)`` with
    ``T = (H / P) * (W / P)`` tokens in row-major order of the ``(H / P, W / P)`` patch grid.
    """

    def __init__(self, in_channels, dim, patch_size, *, rng=None, dtype=np.float32):
        self.in_channels = whole_number(in_channels, "in_channels", minimum=1)
        self.dim = whole_number(dim, "dim", minimum=1)
        self.patch_size = whole_number(patch_size, "patch_size", minimum=1)
        fan_in = self.in_channels * self.patch_size ** 2
        self.weight = normal_parameter((self.dim, self.in_channels, self.patch_size, self.patch_size),
                                       math.sqrt(1.0 / fan_in), rng, dtype)
        self.bias = zeros_parameter((self.dim,), dtype)

    def forward(self, x):
        check_float_input(self, x, self.weight.data, f"(N, {self.in_channels}, H, W)")
        P = self.patch_size
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2] % P or x.shape[3] % P:
            raise ValueError(tr("{layer} expects images (N, {channels}, H, W) with H and W multiples of "
                                "patch_size={patch_size}, got shape {shape}", layer=repr(self),
                                channels=self.in_channels, patch_size=P, shape=tuple(x.shape)))
        out, cache = layers.conv2d_forward(x, self.weight.data, self.bias.data, stride=P)  # (N, D, Gh, Gw)
        N, D, Gh, Gw = out.shape
        self._cache = (cache, (Gh, Gw))
        return out.reshape(N, D, Gh * Gw).transpose(0, 2, 1)  # (N, T, D)

    def backward(self, dout):
        cache, (Gh, Gw) = self._cached()
        N = dout.shape[0]
        dx, dw, db = layers.conv2d_backward(dout.transpose(0, 2, 1).reshape(N, self.dim, Gh, Gw), cache)
        self.weight.grad += dw
        self.bias.grad += db
        return dx

    def extra_repr(self):
        return f"{self.in_channels}, {self.dim}, patch_size={self.patch_size}"


class ClassToken(Module):
    """Prepend one learned token ``(1, 1, D)`` to every sequence: ``(N, T, D)`` to ``(N, T + 1, D)``."""

    def __init__(self, dim, *, rng=None, dtype=np.float32):
        self.dim = whole_number(dim, "dim", minimum=1)
        self.token = normal_parameter((1, 1, self.dim), 0.02, rng, dtype)

    def forward(self, x):
        check_tokens(self, x, self.dim, self.token.data.dtype)
        xp = backend.get_array_module(x, self.token.data)
        self._cache = True
        cls = xp.broadcast_to(self.token.data, (x.shape[0], 1, self.dim))
        return xp.concatenate([cls, x], axis=1)

    def backward(self, dout):
        self._cached()
        self.token.grad += dout[:, :1].sum(axis=0, keepdims=True)
        return dout[:, 1:]


class PositionEmbedding(Module):
    """Add a learned vector per token position: ``x + pos`` with pos ``(1, T, D)``."""

    def __init__(self, num_tokens, dim, *, rng=None, dtype=np.float32):
        self.num_tokens = whole_number(num_tokens, "num_tokens", minimum=1)
        self.dim = whole_number(dim, "dim", minimum=1)
        self.pos = normal_parameter((1, self.num_tokens, self.dim), 0.02, rng, dtype)

    def forward(self, x):
        check_tokens(self, x, self.dim, self.pos.data.dtype)
        if x.shape[1] != self.num_tokens:
            raise ValueError(tr("{layer} has embeddings for {tokens} tokens but got {got} (input shape {shape})",
                                layer=repr(self), tokens=self.num_tokens, got=x.shape[1], shape=tuple(x.shape)))
        self._cache = True
        return x + self.pos.data

    def backward(self, dout):
        self._cached()
        self.pos.grad += dout.sum(axis=0, keepdims=True)
        return dout

    def extra_repr(self):
        return f"{self.num_tokens}, {self.dim}"


class TransformerBlock(Module):
    """Pre-norm block: ``x = x + MHSA(LN(x))``, then ``x = x + MLP(LN(x))``; ``(N, T, D)`` to ``(N, T, D)``.

    The residual paths pass gradients straight through, so backward adds the branch's gradient to ``dout``.
    """

    def __init__(self, dim, num_heads, mlp_ratio=2, activation="gelu", *, rng=None, dtype=np.float32):
        rng = as_generator(rng)
        self.norm1 = LayerNorm(dim, dtype=dtype)
        self.attn = MultiHeadSelfAttention(dim, num_heads, rng=rng, dtype=dtype)
        self.norm2 = LayerNorm(dim, dtype=dtype)
        self.mlp = MLP(dim, whole_number(round(mlp_ratio * dim), "round(mlp_ratio * dim)", minimum=1), activation,
                       rng=rng, dtype=dtype)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))

    def backward(self, dout):
        dout = dout + self.norm2.backward(self.mlp.backward(dout))
        return dout + self.norm1.backward(self.attn.backward(dout))


class TokenPool(Module):
    """``(N, T, D)`` to ``(N, D)``: the class token (``"cls"``, token 0) or the mean over tokens (``"mean"``)."""

    def __init__(self, mode="cls"):
        if mode not in POOLS:
            raise ValueError(tr("pool={pool}; choose one of {choices}", pool=repr(mode), choices=", ".join(POOLS)))
        self.mode = mode

    def forward(self, x):
        if getattr(x, "ndim", 0) != 3:
            raise ValueError(tr("TokenPool expects tokens (N, T, D), got shape {shape}",
                                shape=getattr(x, "shape", type(x))))
        self._cache = x.shape
        return x[:, 0] if self.mode == "cls" else x.mean(axis=1)

    def backward(self, dout):
        N, T, D = self._cached()
        xp = backend.get_array_module(dout)
        if self.mode == "cls":
            dx = xp.zeros((N, T, D), dtype=dout.dtype)
            dx[:, 0] = dout
            return dx
        return xp.broadcast_to((dout / T)[:, None, :], (N, T, D)).copy()

    def extra_repr(self):
        return repr(self.mode)


class TinyViT(Module):
    """A small vision transformer; scores ``(N, num_classes)`` from images ``(N, C, H, W)``.

    With the defaults (28x28 grey images, 7x7 patches: a 4x4 grid of 16 tokens and a class token,
    D = 32, two blocks of 4 heads) it has 19,658 parameters, like :func:`cnnbook.models.reference_cnn`
    (20,490). ``patch_size=4`` (a 7x7 grid) has as many parameters and costs about 3 times more.
    ``pos_embed=False`` drops the position embeddings (the model then ignores where patches are);
    ``pool`` is ``"cls"`` (a class token) or ``"mean"`` (mean over patch tokens).
    """

    def __init__(self, image_size=28, in_channels=1, patch_size=7, dim=32, depth=2, num_heads=4, mlp_ratio=2,
                 num_classes=10, *, pos_embed=True, pool="cls", activation="gelu", seed=0, dtype=np.float32):
        image_size = whole_number(image_size, "image_size", minimum=1)
        patch_size = whole_number(patch_size, "patch_size", minimum=1)
        if image_size % patch_size:
            raise ValueError(tr("image_size={image_size} is not a multiple of patch_size={patch_size}; "
                                "try patch_size in {sizes}", image_size=image_size, patch_size=patch_size,
                                sizes=[p for p in range(1, image_size + 1) if image_size % p == 0]))
        if pool not in POOLS:
            raise ValueError(tr("pool={pool}; choose one of {choices}", pool=repr(pool), choices=", ".join(POOLS)))
        rng = as_generator(seed)
        self.grid_size = image_size // patch_size
        self.patch_size = patch_size
        self.num_prefix_tokens = 1 if pool == "cls" else 0
        num_tokens = self.grid_size ** 2 + self.num_prefix_tokens
        self.patch_embed = PatchEmbedding(in_channels, dim, patch_size, rng=rng, dtype=dtype)
        self.cls_token = ClassToken(dim, rng=rng, dtype=dtype) if pool == "cls" else None
        self.pos_embed = PositionEmbedding(num_tokens, dim, rng=rng, dtype=dtype) if pos_embed else None
        self.blocks = [TransformerBlock(dim, num_heads, mlp_ratio, activation, rng=rng, dtype=dtype)
                       for _ in range(whole_number(depth, "depth", minimum=1))]
        self.norm = LayerNorm(dim, dtype=dtype)
        self.pool = TokenPool(pool)
        self.head = Linear(dim, whole_number(num_classes, "num_classes", minimum=1), rng=rng, dtype=dtype)

    def _stages(self):
        stages = [self.patch_embed, self.cls_token, self.pos_embed, *self.blocks, self.norm, self.pool, self.head]
        return [m for m in stages if m is not None]

    def forward(self, x):
        for m in self._stages():
            x = m(x)
        return x

    def backward(self, dout):
        for m in reversed(self._stages()):
            dout = m.backward(dout)
        return dout

    def attention_maps(self) -> list:
        """The attention weights of the latest forward pass, one ``(N, H, T, T)`` array per block."""
        maps = [b.attn.attn_ for b in self.blocks]
        if any(a is None for a in maps):
            raise RuntimeError(tr("no attention weights yet: run model(x) first"))
        return maps
