"""Transformer parts over token sequences ``(N, T, D)``: the MLP block and multi-head self-attention, each
with its backward pass next to its forward pass. The layers they are built from (``TokenLinear``,
``LayerNorm``, ``GELU``) are in :mod:`cnnbook.nn`.

``N`` images, ``T`` tokens per image (patches, plus a class token), ``D`` features per token,
``H`` heads of ``Dh = D / H`` features each. The modules follow :mod:`cnnbook.nn`'s protocol:
``module(x)``, ``module.backward(dout) -> dx`` (adding parameter gradients to ``p.grad``),
``module.parameters()``. Weights are drawn from a host ``numpy.random.Generator`` (``rng``) and
moved to the default backend, so one seed gives one model on NumPy and CuPy.
"""
from __future__ import annotations

import math

import numpy as np

from cnnbook import backend
from cnnbook.backend import as_generator
from cnnbook.course.language import tr
from cnnbook.layers.checks import whole_number
from cnnbook.nn import GELU, Module, ReLU, TokenLinear

ACTIVATIONS = ("gelu", "relu")


def make_activation(name: str) -> Module:
    """``"gelu"`` -> :class:`~cnnbook.nn.GELU`, ``"relu"`` -> :class:`~cnnbook.nn.ReLU`."""
    if name == "gelu":
        return GELU()
    if name == "relu":
        return ReLU()
    raise ValueError(tr("activation={name}; choose one of {choices}", name=repr(name), choices=", ".join(ACTIVATIONS)))


class MLP(Module):
    """The transformer's per-token MLP: ``TokenLinear(D, hidden) -> GELU/ReLU -> TokenLinear(hidden, D)``."""

    def __init__(self, dim, hidden, activation="gelu", *, rng=None, dtype=np.float32):
        rng = as_generator(rng)
        self.fc1 = TokenLinear(dim, hidden, rng=rng, dtype=dtype)
        self.act = make_activation(activation)
        self.fc2 = TokenLinear(hidden, dim, rng=rng, dtype=dtype)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))

    def backward(self, dout):
        return self.fc1.backward(self.act.backward(self.fc2.backward(dout)))


def softmax(scores, axis=-1):
    """Numerically stable softmax along ``axis`` (the max is subtracted first)."""
    xp = backend.get_array_module(scores)
    e = xp.exp(scores - scores.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class MultiHeadSelfAttention(Module):
    """Multi-head self-attention over ``(N, T, D)`` tokens: every token attends to every token.

    ``q, k, v = x @ W_qkv`` split into ``H`` heads of ``Dh = D / H`` features, then per head
    ``A = softmax(q k^T / sqrt(Dh))`` ``(N, H, T, T)`` (row ``i``: how token ``i`` spreads its
    attention over all tokens; rows sum to 1), ``ctx = A v``, heads concatenated and mixed by ``W_o``.
    The weights of the latest forward pass stay in ``attn_`` ``(N, H, T, T)`` for plots.
    """

    def __init__(self, dim, num_heads, *, rng=None, dtype=np.float32):
        self.dim = whole_number(dim, "dim", minimum=1)
        self.num_heads = whole_number(num_heads, "num_heads", minimum=1)
        if self.dim % self.num_heads:
            raise ValueError(tr("dim={dim} is not divisible by num_heads={num_heads}; each head gets dim / num_heads "
                                "features (try num_heads in {divisors})", dim=dim, num_heads=num_heads,
                                divisors=[h for h in range(1, dim + 1) if dim % h == 0]))
        rng = as_generator(rng)
        self.qkv = TokenLinear(dim, 3 * dim, rng=rng, dtype=dtype)
        self.proj = TokenLinear(dim, dim, rng=rng, dtype=dtype)
        self.attn_ = None

    def forward(self, x):
        N, T, D = x.shape if getattr(x, "ndim", 0) == 3 else (None, None, None)
        qkv = self.qkv(x)  # (N, T, 3D); checks x
        H, Dh = self.num_heads, self.dim // self.num_heads
        q, k, v = qkv.reshape(N, T, 3, H, Dh).transpose(2, 0, 3, 1, 4)  # each (N, H, T, Dh)
        scale = 1.0 / math.sqrt(Dh)  # keeps the scores' spread independent of Dh
        attn = softmax((q @ k.transpose(0, 1, 3, 2)) * scale)  # (N, H, T, T)
        ctx = (attn @ v).transpose(0, 2, 1, 3).reshape(N, T, D)  # (N, T, H*Dh)
        self.attn_ = attn
        self._cache = (q, k, v, attn, scale)
        return self.proj(ctx)

    def backward(self, dout):
        q, k, v, attn, scale = self._cached()
        N, H, T, Dh = q.shape
        xp = backend.get_array_module(dout, q)
        dctx = self.proj.backward(dout).reshape(N, T, H, Dh).transpose(0, 2, 1, 3)  # (N, H, T, Dh)
        dattn = dctx @ v.transpose(0, 1, 3, 2)  # (N, H, T, T)
        dv = attn.transpose(0, 1, 3, 2) @ dctx  # (N, H, T, Dh)
        # softmax backward, row by row: dS = A * (dA - sum_j dA_j A_j)
        dscores = attn * (dattn - (dattn * attn).sum(axis=-1, keepdims=True)) * scale
        dq = dscores @ k  # (N, H, T, Dh)
        dk = dscores.transpose(0, 1, 3, 2) @ q
        dqkv = xp.stack([dq, dk, dv]).transpose(1, 3, 0, 2, 4).reshape(N, T, 3 * H * Dh)  # (N, T, 3D)
        return self.qkv.backward(dqkv)

    def extra_repr(self):
        return f"{self.dim}, num_heads={self.num_heads}"
