"""Layers over token sequences ``(N, T, D)``, as a transformer uses them: a linear map applied to every
token and layer norm (see :mod:`cnnbook.nn`; the attention itself is in :mod:`cnnbook.models.attention`).

``N`` images (or sequences), ``T`` tokens each, ``D`` features per token. Parameters are drawn on the host
from ``rng`` and moved to the default backend, as everywhere in :mod:`cnnbook.nn`.
"""
from __future__ import annotations

import math

import numpy as np

from cnnbook import layers
from cnnbook.course.language import tr
from cnnbook.layers.checks import number, whole_number
from cnnbook.nn.base import Module, full_parameter, normal_parameter, zeros_parameter


def check_tokens(module: Module, x, dim: int, dtype) -> None:
    """``TypeError``/``ValueError`` unless ``x`` is a ``(N, T, dim)`` array of ``dtype``."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(tr("{module} got a {kind}; pass an array of shape {shape}", module=repr(module),
                           kind=type(x).__name__, shape=f"(N, T, {dim})"))
    if x.ndim != 3 or x.shape[2] != dim:
        raise ValueError(tr("{module} expects tokens of shape (N, T, {dim}), got {shape}", module=repr(module),
                            dim=dim, shape=tuple(x.shape)))
    if x.dtype != dtype:
        raise TypeError(tr("{module} got {dtype} input but its weights are {weights}; use x.astype({weights}) or "
                           "model.to(dtype=x.dtype)", module=repr(module), dtype=x.dtype, weights=dtype))


class TokenLinear(Module):
    """The same linear map applied to every token: ``(N, T, D)`` to ``(N, T, M)``; weight ``(D, M)``, bias ``(M,)``.

    Runs :func:`cnnbook.layers.linear_forward` on the ``N * T`` tokens as one batch.
    """

    def __init__(self, in_features, out_features, *, std=None, rng=None, dtype=np.float32):
        self.in_features = whole_number(in_features, "in_features", minimum=1)
        self.out_features = whole_number(out_features, "out_features", minimum=1)
        # The default keeps the tokens' scale near 1.
        std = math.sqrt(1.0 / self.in_features) if std is None else number(std, "std", above=0)
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
            raise ValueError(tr("eps={value} must be > 0 (it keeps the division finite)", value=repr(eps)))
        self.eps = float(eps)
        self.gamma = full_parameter((self.dim,), 1.0, dtype)
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
