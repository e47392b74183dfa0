"""The layers: most wrap a forward/backward pair of :mod:`cnnbook.layers`; the few without one (GELU, the global
average pool, Flatten) have theirs here, backward next to forward (see :mod:`cnnbook.nn`)."""
from __future__ import annotations

import math

import numpy as np

from cnnbook import backend, layers
from cnnbook.course.language import tr
from cnnbook.layers import checks
from cnnbook.layers.checks import pair, whole_number
from cnnbook.nn.base import Module, check_float_input, init_parameter, zeros_parameter


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in CS231n and PyTorch) over ``(N, C, H, W)`` images.

    weight ``(F, C, KH, KW)``, bias ``(F,)``; output ``(N, F, Ho, Wo)`` with
    ``Ho = (H - KH + 2 * padding) / stride + 1`` (same for ``Wo``).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, *,
                 rng=None, dtype=np.float32, weight_scale=None):
        self.in_channels = whole_number(in_channels, "in_channels", minimum=1)
        self.out_channels = whole_number(out_channels, "out_channels", minimum=1)
        self.kernel_size = pair(kernel_size, "kernel_size", minimum=1)
        self.stride = whole_number(stride, "stride", minimum=1)
        self.padding = whole_number(padding, "padding", minimum=0)
        kh, kw = self.kernel_size
        self.weight = init_parameter((self.out_channels, self.in_channels, kh, kw),
                                     self.in_channels * kh * kw, rng, dtype, weight_scale)
        self.bias = zeros_parameter((self.out_channels,), dtype)

    def forward(self, x):
        check_float_input(self, x, self.weight.data, f"(N, {self.in_channels}, H, W)")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(tr("{module} expects input of shape (N, {C}, H, W), got {shape}; set in_channels to "
                                "the channels of the layer before", module=repr(self), C=self.in_channels,
                                shape=tuple(x.shape)))
        out, self._cache = layers.conv2d_forward(x, self.weight.data, self.bias.data,
                                                 stride=self.stride, padding=self.padding)
        return out

    def backward(self, dout):
        dx, dw, db = layers.conv2d_backward(dout, self._cached())
        self.weight.grad += dw
        self.bias.grad += db
        return dx

    def backward_params(self, dout):
        # dx skipped: about half the backward pass of a network's first convolution (benchmarks/README.md)
        _, dw, db = layers.conv2d_backward(dout, self._cached(), input_grad=False)
        self.weight.grad += dw
        self.bias.grad += db

    def extra_repr(self):
        kh, kw = self.kernel_size
        k = kh if kh == kw else self.kernel_size
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={k}, stride={self.stride}, "
                f"padding={self.padding}")


class Linear(Module):
    """Fully connected layer: ``(N, D)`` (or ``(N, ...)`` flattened) to ``(N, M)``.

    weight ``(D, M)`` (CS231n's layout, so ``out = x @ w + b``), bias ``(M,)``.
    """

    def __init__(self, in_features, out_features, *, rng=None, dtype=np.float32, weight_scale=None):
        self.in_features = whole_number(in_features, "in_features", minimum=1)
        self.out_features = whole_number(out_features, "out_features", minimum=1)
        self.weight = init_parameter((self.in_features, self.out_features), self.in_features, rng, dtype,
                                     weight_scale)
        self.bias = zeros_parameter((self.out_features,), dtype)

    def forward(self, x):
        check_float_input(self, x, self.weight.data, f"(N, {self.in_features})")
        if x.ndim < 2:
            raise ValueError(tr("{module} expects a batch (N, {D}) or (N, ...), got shape {shape}; for one example "
                                "use x[None]", module=repr(self), D=self.in_features, shape=tuple(x.shape)))
        d = math.prod(x.shape[1:])
        if d != self.in_features:
            raise ValueError(tr("{module} expects {D} features per example, got input of shape {shape} ({d} "
                                "features); set in_features={d}", module=repr(self), D=self.in_features,
                                shape=tuple(x.shape), d=d))
        out, self._cache = layers.linear_forward(x, self.weight.data, self.bias.data)
        return out

    def backward(self, dout):
        dx, dw, db = layers.linear_backward(dout, self._cached())
        self.weight.grad += dw
        self.bias.grad += db
        return dx

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}"


class ReLU(Module):
    """``max(0, x)``, elementwise."""

    def forward(self, x):
        out, self._cache = layers.relu_forward(x)
        return out

    def backward(self, dout):
        return layers.relu_backward(dout, self._cached())


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


class MaxPool2d(Module):
    """Max over ``kernel_size x kernel_size`` windows; ``stride=None`` means ``stride=kernel_size``."""

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = whole_number(kernel_size, "kernel_size", minimum=1)
        self.stride = None if stride is None else whole_number(stride, "stride", minimum=1)

    def forward(self, x):
        out, self._cache = layers.max_pool2d_forward(x, kernel_size=self.kernel_size, stride=self.stride)
        return out

    def backward(self, dout):
        return layers.max_pool2d_backward(dout, self._cached())

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}"


class AvgPool2d(MaxPool2d):
    """Mean over ``kernel_size x kernel_size`` windows; ``stride=None`` means ``stride=kernel_size``."""

    def forward(self, x):
        out, self._cache = layers.avg_pool2d_forward(x, kernel_size=self.kernel_size, stride=self.stride)
        return out

    def backward(self, dout):
        return layers.avg_pool2d_backward(dout, self._cached())


class GlobalAvgPool2d(Module):
    """Mean over all positions: ``(N, C, H, W)`` to ``(N, C)``."""

    def forward(self, x):
        checks.array(x, "x", ("N", "C", "H", "W"), floating=False)  # H=0 or W=0 would average nothing
        out = x.mean(axis=(2, 3))
        self._cache = (x.shape, out.dtype)
        return out

    def backward(self, dout):
        (n, c, h, w), dtype = self._cached()
        dout = checks.upstream_gradient(dout, (n, c), dtype, "GlobalAvgPool2d.forward")
        xp = backend.get_array_module(dout)
        return xp.broadcast_to((dout / (h * w))[:, :, None, None], (n, c, h, w)).copy()


class Flatten(Module):
    """``(N, ...)`` to ``(N, D)``."""

    def forward(self, x):
        if getattr(x, "ndim", 0) < 1:
            raise ValueError(tr("Flatten expects a batch (N, ...), got {kind} of shape {shape}; for one example use "
                                "x[None]", kind=type(x).__name__, shape=getattr(x, "shape", None)))
        self._cache = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))  # (N, D); -1 cannot be inferred when N = 0

    def backward(self, dout):
        shape = self._cached()
        dout = checks.upstream_gradient(dout, (shape[0], math.prod(shape[1:])), getattr(dout, "dtype", None),
                                         "Flatten.forward")
        return dout.reshape(shape)


class Sequential(Module):
    """Modules applied one after another; backward runs them in reverse. Indexable: ``model[0]``."""

    def __init__(self, *modules):
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(tr("Sequential argument {i} is a {kind}, not a Module; pass layers like Conv2d(...), "
                                   "ReLU(), not classes or functions", i=i, kind=type(m).__name__))
        self.layers = list(modules)

    def named_children(self):
        for i, m in enumerate(self.layers):
            yield str(i), m

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x

    def backward(self, dout):
        for m in reversed(self.layers):
            dout = m.backward(dout)
        return dout

    def backward_params(self, dout):
        """:meth:`backward` without the gradient for the model's input, which training never uses: the layers
        before the first one with parameters do not run, and that one runs its ``backward_params`` (a first
        convolution skips about half its backward pass). ``fit`` trains this way. Returns ``None``."""
        first = next((k for k, m in enumerate(self.layers) if m.parameters()), None)
        if first is None:  # nothing to learn
            return
        for m in reversed(self.layers[first + 1:]):
            dout = m.backward(dout)
        self.layers[first].backward_params(dout)

    def __getitem__(self, i):
        return Sequential(*self.layers[i]) if isinstance(i, slice) else self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)
