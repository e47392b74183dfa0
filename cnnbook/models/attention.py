"""Transformer parts over token sequences ``(N, T, D)``: token-wise linear layer, layer norm, GELU,
the MLP block and multi-head self-attention, each with its backward pass next to its forward pass.

``N`` images, ``T`` tokens per image (patches, plus a class token), ``D`` features per token,
``H`` heads of ``Dh = D / H`` features each. The modules follow :mod:`cnnbook.nn`'s protocol:
``module(x)``, ``module.backward(dout) -> dx`` (adding parameter gradients to ``p.grad``),
``module.parameters()``. Weights are drawn from a host ``numpy.random.Generator`` (``rng``) and
moved to the default backend, so one seed gives one model on NumPy and CuPy.
"""
from __future__ import annotations

import math

import numpy as np

from cnnbook import backend, layers
from cnnbook.backend import as_generator
from cnnbook.layers.checks import whole_number
from cnnbook.nn import Module, Parameter

ACTIVATIONS = ("gelu", "relu")


def normal_parameter(shape, std: float, rng, dtype) -> Parameter:
    """A :class:`Parameter` of ``N(0, std**2)`` entries drawn on the host, on the default backend."""
    host = as_generator(rng).normal(0.0, std, size=shape).astype(dtype)
    return Parameter(backend.to_device(host, backend.default_xp()))


def zeros_parameter(shape, dtype, value: float = 0.0) -> Parameter:
    """A :class:`Parameter` filled with ``value`` on the default backend."""
    return Parameter(backend.default_xp().full(shape, value, dtype=dtype))


def check_tokens(module: Module, x, dim: int, dtype) -> None:
    """``TypeError``/``ValueError`` unless ``x`` is a ``(N, T, dim)`` array of ``dtype``."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{module!r} got a {type(x).__name__}; pass an array of shape (N, T, {dim})")
    if x.ndim != 3 or x.shape[2] != dim:
        raise ValueError(f"{module!r} expects tokens of shape (N, T, {dim}), got {tuple(x.shape)}")
    if x.dtype != dtype:
        raise TypeError(f"{module!r} got {x.dtype} input but its weights are {dtype}; "
                        f"use x.astype({dtype}) or model.to(dtype=x.dtype)")


class TokenLinear(Module):
    """The same linear map applied to every token: ``(N, T, D)`` to ``(N, T, M)``; weight ``(D, M)``, bias ``(M,)``.

    Runs :func:`cnnbook.layers.linear_forward` on the ``N * T`` tokens as one batch.
    """

    def __init__(self, in_features, out_features, *, std=None, rng=None, dtype=np.float32):
        self.in_features = whole_number(in_features, "in_features", minimum=1)
        self.out_features = whole_number(out_features, "out_features", minimum=1)
        std = math.sqrt(1.0 / self.in_features) if std is None else std  # keeps token scale ~1
        self.weight = normal_parameter((self.in_features, self.out_features), std, rng, dtype)
        self.bias = zeros_parameter((self.out_features,), dtype)

    def forward(self, x):
        check_tokens(self, x, self.in_features, self.weight.data.dtype)
        N, T, D = x.shape
        out, cache = layers.linear_forward(x.reshape(N * T, D), self.weight.data, self.bias.data)
        self._cache = (cache, (N, T))
        return out.reshape(N, T, self.out_features)  # (N, T, M)

    def backward(self, dout):
        cache, (N, T) = self._cached()
        dx, dw, db = layers.linear_backward(dout.reshape(N * T, self.out_features), cache)
        self.weight.grad += dw
        self.bias.grad += db
        return dx.reshape(N, T, self.in_features)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}"


class LayerNorm(Module):
    """Normalise each token over its ``D`` features, then scale and shift: ``gamma * xhat + beta``.

    ``xhat = (x - mean) / sqrt(var + eps)`` with mean and (biased) variance over the last axis;
    unlike batch norm, nothing depends on the other images in the batch. gamma, beta: ``(D,)``.
    """

    def __init__(self, dim, eps=1e-5, *, dtype=np.float32):
        self.dim = whole_number(dim, "dim", minimum=1)
        if not eps > 0:
            raise ValueError(f"eps={eps!r} must be > 0 (it keeps the division finite)")
        self.eps = float(eps)
        self.gamma = zeros_parameter((self.dim,), dtype, 1.0)
        self.beta = zeros_parameter((self.dim,), dtype)

    def forward(self, x):
        check_tokens(self, x, self.dim, self.gamma.data.dtype)
        mu = x.mean(axis=-1, keepdims=True)  # (N, T, 1)
        inv_std = 1.0 / (((x - mu) ** 2).mean(axis=-1, keepdims=True) + self.eps) ** 0.5  # (N, T, 1)
        xhat = (x - mu) * inv_std
        self._cache = (xhat, inv_std)
        return self.gamma.data * xhat + self.beta.data

    def backward(self, dout):
        xhat, inv_std = self._cached()
        self.gamma.grad += (dout * xhat).sum(axis=(0, 1))
        self.beta.grad += dout.sum(axis=(0, 1))
        dxhat = dout * self.gamma.data
        # the mean and variance depend on every feature, hence the two correction terms
        return inv_std * (dxhat - dxhat.mean(axis=-1, keepdims=True)
                          - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))

    def extra_repr(self):
        return f"{self.dim}, eps={self.eps:g}"


class GELU(Module):
    """``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, the smooth ReLU of BERT and ViT (tanh form)."""

    _C = math.sqrt(2.0 / math.pi)

    def forward(self, x):
        xp = backend.get_array_module(x)
        t = xp.tanh(self._C * x * (1.0 + 0.044715 * x * x))  # x*x: cheaper than x**3
        self._cache = (x, t)
        return 0.5 * x * (1.0 + t)

    def backward(self, dout):
        x, t = self._cached()
        dt = (1.0 - t * t) * self._C * (1.0 + 3 * 0.044715 * x * x)
        return dout * (0.5 * (1.0 + t) + 0.5 * x * dt)


class TokenReLU(Module):
    """ReLU on tokens of any shape (:func:`cnnbook.layers.relu_forward`)."""

    def forward(self, x):
        out, self._cache = layers.relu_forward(x)
        return out

    def backward(self, dout):
        return layers.relu_backward(dout, self._cached())


def make_activation(name: str) -> Module:
    """``"gelu"`` -> :class:`GELU`, ``"relu"`` -> a ReLU module."""
    if name == "gelu":
        return GELU()
    if name == "relu":
        return TokenReLU()
    raise ValueError(f"activation={name!r}; choose one of {', '.join(ACTIVATIONS)}")


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
            raise ValueError(f"dim={dim} is not divisible by num_heads={num_heads}; each head gets dim / num_heads "
                             f"features (try num_heads in {[h for h in range(1, dim + 1) if dim % h == 0]})")
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
