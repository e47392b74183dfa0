"""Modules: layers with parameters and a cache, stacked into models (named as in PyTorch).

Each module wraps a forward/backward pair of :mod:`cnnbook.layers`::

    model = Sequential(Conv2d(1, 16, 3, padding=1, rng=0), ReLU(), MaxPool2d(2),
                       Flatten(), Linear(16 * 14 * 14, 10, rng=1))
    scores = model(X)                       # (N, 1, 28, 28) -> (N, 10)
    loss, dscores = softmax_cross_entropy(scores, y)
    model.zero_grad()
    dx = model.backward(dscores)            # (N, 1, 28, 28); fills every p.grad
    for p in model.parameters(): ...        # Parameter objects: p.data, p.grad

The interface every module offers
---------------------------------
``module(x)``
    runs ``forward(x)`` and keeps what backward needs in ``self._cache`` (overwritten on every
    call, never appended to: backward always belongs to the latest forward).
``module.backward(dout) -> dx``
    ``dout`` has the shape of the latest output, ``dx`` that of the latest input. Parameter
    gradients are **added** to ``p.grad`` (as in PyTorch), so call ``zero_grad()`` (or the
    optimizer's) before each backward pass.
``parameters()`` / ``named_parameters()``
    the :class:`Parameter` objects of the module and its children, in definition order, each once;
    names look like ``"0.weight"`` (``Sequential`` children are numbered).
``train()`` / ``eval()``
    set ``module.training`` on the module and all children (no layer here behaves differently
    yet, but dropout or batch norm written later can read the flag).
``zero_grad()``, ``state_dict()`` / ``load_state_dict(state)``, ``save(path)`` / ``load(path)``
    (``.npz`` files, see :mod:`cnnbook.serialize`), ``to(dtype=None, backend=None)``.

Writing a new module
--------------------
Subclass :class:`Module`, store :class:`Parameter`, :class:`Module` or lists of modules as
attributes in ``__init__`` (they are found automatically; no registration call), and define
``forward(x)`` and ``backward(dout)``::

    class Scale(Module):
        def __init__(self, value):
            self.value = value
        def forward(self, x):
            return x * self.value
        def backward(self, dout):
            return dout * self.value

Initialisation and backends
---------------------------
Weights use He (Kaiming) normal initialisation, ``std = sqrt(2 / fan_in)``, unless ``weight_scale``
gives the standard deviation (CS231n's name; the models use a small one for the last layer so that
the initial loss is close to ``ln(num_classes)``). Biases start at zero.
The random numbers come from a host ``numpy.random.Generator`` (``rng``: an int seed, a Generator,
or ``None`` for fresh entropy) and go to the default backend (:func:`cnnbook.backend.default_xp`),
so the same seed gives the same model on NumPy and CuPy. Parameters are float32 unless ``dtype`` says
otherwise; ``model.to(dtype=np.float64)`` converts a whole model for gradient checks.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from cnnbook import backend, layers


def as_generator(rng) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``rng``: an int seed, a Generator, or ``None`` (fresh entropy)."""
    if rng is None or isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng={rng!r} is neither an int seed, a numpy.random.Generator nor None; "
                    "pass e.g. rng=0 or rng=numpy.random.default_rng(0)")


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer")
    return int(value)


def _nonneg_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < 0:
        raise ValueError(f"{name}={value!r} must be a non-negative integer")
    return int(value)


def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return _positive_int(value[0], name), _positive_int(value[1], name)
    k = _positive_int(value, name)
    return k, k


class Parameter:
    """A learnable array ``data`` and its gradient ``grad`` (same shape, dtype and backend)."""

    def __init__(self, data):
        xp = backend.get_array_module(data)
        self.data = data
        self.grad = xp.zeros(data.shape, dtype=data.dtype)

    @property
    def shape(self) -> tuple:
        return tuple(self.data.shape)

    @property
    def size(self) -> int:
        return int(self.data.size)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.data.dtype})"


def _init_parameter(shape, fan_in: int, rng, dtype, weight_scale=None) -> Parameter:
    """Normal weights (std ``weight_scale``, default He's ``sqrt(2 / fan_in)``) drawn on the host,
    then moved to the default backend."""
    if weight_scale is None:
        std = math.sqrt(2.0 / fan_in)
    elif isinstance(weight_scale, numbers.Real) and not isinstance(weight_scale, bool) and weight_scale > 0:
        std = float(weight_scale)
    else:
        raise ValueError(f"weight_scale={weight_scale!r} must be a positive number (the weights' standard "
                         "deviation) or None for He initialisation")
    host = as_generator(rng).normal(0.0, std, size=shape).astype(dtype)
    return Parameter(backend.to_device(host, backend.default_xp()))


def _zeros_parameter(shape, dtype) -> Parameter:
    return Parameter(backend.default_xp().zeros(shape, dtype=dtype))


class Module:
    """Base class: ``__call__`` runs ``forward``; subclasses define ``forward`` and ``backward``."""

    training = True
    _cache = None

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} must define backward(dout)")

    def _cached(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward: "
                               "run model(x) first, then model.backward(dout)")
        return self._cache

    # -- the tree of modules and parameters -------------------------------------------------
    def named_children(self):
        """``(name, module)`` pairs of direct sub-modules: attributes, and lists/tuples of modules."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def modules(self):
        """This module and all modules below it, depth first."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def named_parameters(self, prefix: str = ""):
        """``(name, Parameter)`` pairs, e.g. ``("0.weight", p)``; a shared parameter appears once."""
        seen = set()
        for name, p in self._named_parameters(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _named_parameters(self, prefix):
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child._named_parameters(f"{prefix}{name}.")

    def parameters(self) -> list[Parameter]:
        """The module's :class:`Parameter` objects (``.data``, ``.grad``), children included."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many learnable numbers the module holds."""
        return sum(p.size for p in self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter gradient to zero (backward adds to them)."""
        for p in self.parameters():
            p.grad[...] = 0

    def train(self, mode: bool = True):
        """Set ``training`` on this module and its children; returns ``self``."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self):
        """``train(False)``; returns ``self``."""
        return self.train(False)

    def to(self, dtype=None, backend_name=None):
        """Convert every parameter (and gradient) to ``dtype`` and/or a backend; returns ``self``.

        ``backend_name`` is ``"numpy"``, ``"cupy"`` or an array module. Caches are dropped.
        """
        if backend_name is None:
            xp = None
        elif isinstance(backend_name, str):
            if backend_name not in ("numpy", "cupy"):
                raise ValueError(f"backend_name={backend_name!r}; choose 'numpy' or 'cupy'")
            xp = np if backend_name == "numpy" else __import__("cupy")
        else:
            xp = backend_name
        for m in self.modules():
            m._cache = None
        for p in self.parameters():
            target = backend.get_array_module(p.data) if xp is None else xp
            data = backend.to_device(p.data, target)
            p.data = data.astype(dtype) if dtype is not None else data
            p.grad = target.zeros(p.data.shape, dtype=p.data.dtype)
        return self

    # -- saving -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{name: host numpy array}``, copies of every parameter's data."""
        return {name: backend.to_numpy(p.data).copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state) -> None:
        """Copy arrays from ``state`` into the parameters (same names and shapes, else ``ValueError``)."""
        from cnnbook.serialize import load_state_dict
        load_state_dict(self, state)

    def save(self, path) -> None:
        """Write the parameters to an ``.npz`` file (atomically)."""
        from cnnbook.serialize import save
        save(self, path)

    def load(self, path):
        """Read parameters written by :meth:`save`; returns ``self``."""
        from cnnbook.serialize import load
        load(self, path)
        return self

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


def _check_float_input(module: Module, x, weight, expect: str) -> None:
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{module!r} got a {type(x).__name__}; pass an array {expect}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{module!r} got {x.dtype} input but its weights are {weight.dtype}; "
                        f"use X.astype({weight.dtype}) or model.to(dtype=X.dtype)")


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in CS231n and PyTorch) over ``(N, C, H, W)`` images.

    weight ``(F, C, KH, KW)``, bias ``(F,)``; output ``(N, F, Ho, Wo)`` with
    ``Ho = (H - KH + 2 * padding) / stride + 1`` (same for ``Wo``).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, *,
                 rng=None, dtype=np.float32, weight_scale=None):
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _positive_int(stride, "stride")
        self.padding = _nonneg_int(padding, "padding")
        kh, kw = self.kernel_size
        self.weight = _init_parameter((self.out_channels, self.in_channels, kh, kw),
                                      self.in_channels * kh * kw, rng, dtype, weight_scale)
        self.bias = _zeros_parameter((self.out_channels,), dtype)

    def forward(self, x):
        _check_float_input(self, x, self.weight.data, f"of shape (N, {self.in_channels}, H, W)")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r} expects input of shape (N, {self.in_channels}, H, W), got "
                             f"{tuple(x.shape)}; set in_channels to the channels of the layer before")
        out, self._cache = layers.conv2d_forward(x, self.weight.data, self.bias.data,
                                                 stride=self.stride, padding=self.padding)
        return out

    def backward(self, dout):
        dx, dw, db = layers.conv2d_backward(dout, self._cached())
        self.weight.grad += dw
        self.bias.grad += db
        return dx

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
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        self.weight = _init_parameter((self.in_features, self.out_features), self.in_features, rng, dtype,
                                      weight_scale)
        self.bias = _zeros_parameter((self.out_features,), dtype)

    def forward(self, x):
        _check_float_input(self, x, self.weight.data, f"of shape (N, {self.in_features})")
        d = math.prod(x.shape[1:]) if x.ndim >= 2 else None
        if d != self.in_features:
            raise ValueError(f"{self!r} expects {self.in_features} features per example, got input of "
                             f"shape {tuple(x.shape)} ({d} features); set in_features={d}")
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


class MaxPool2d(Module):
    """Max over ``kernel_size x kernel_size`` windows; ``stride=None`` means ``stride=kernel_size``."""

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = _positive_int(kernel_size, "kernel_size")
        self.stride = None if stride is None else _positive_int(stride, "stride")

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
        if x.ndim != 4:
            raise ValueError(f"GlobalAvgPool2d expects (N, C, H, W), got shape {tuple(x.shape)}")
        self._cache = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        n, c, h, w = self._cached()
        xp = backend.get_array_module(dout)
        return xp.broadcast_to((dout / (h * w))[:, :, None, None], (n, c, h, w)).copy()


class Flatten(Module):
    """``(N, ...)`` to ``(N, D)``."""

    def forward(self, x):
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self._cached())


class Sequential(Module):
    """Modules applied one after another; backward runs them in reverse. Indexable: ``model[0]``."""

    def __init__(self, *modules):
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential argument {i} is a {type(m).__name__}, not a Module; "
                                "pass layers like Conv2d(...), ReLU(), not classes or functions")
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

    def __getitem__(self, i):
        return Sequential(*self.layers[i]) if isinstance(i, slice) else self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)


class Summary:
    """The table :func:`summary` returns: ``rows`` of ``(name, layer, output_shape, num_params)``."""

    def __init__(self, rows, input_shape, total_params):
        self.rows = rows
        self.input_shape = input_shape
        self.total_params = total_params

    def __repr__(self):
        head = ("layer", "output shape", "parameters")
        text = lambda shape: "(" + ", ".join(map(str, shape)) + ")"  # noqa: E731  (N, 8, 14, 14)
        body = [(f"{name}: {layer}", text(shape), f"{n:,}") for name, layer, shape, n in self.rows]
        body.insert(0, ("input", text(self.input_shape), ""))
        w = [max(len(r[i]) for r in body + [head]) for i in range(3)]
        fmt = lambda r: f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:>{w[2]}}"  # noqa: E731
        rule = "-" * (sum(w) + 4)
        return "\n".join([fmt(head), rule, *map(fmt, body), rule,
                          f"total parameters: {self.total_params:,}"])


def summary(model: Module, input_shape) -> Summary:
    """Each layer's output shape and parameter count for one input of shape ``input_shape`` (no N).

    Runs one forward pass on zeros (on the model's backend and dtype); the layers of a
    :class:`Sequential` get one row each, any other module one row in all.
    ``print(summary(model, (1, 28, 28)))`` shows the table; ``.total_params`` the total.
    """
    shape = tuple(int(s) for s in input_shape)
    params = model.parameters()
    xp = backend.get_array_module(params[0].data) if params else backend.default_xp()
    dtype = params[0].data.dtype if params else np.float32
    x = xp.zeros((1,) + shape, dtype=dtype)
    rows = []
    steps = list(model.named_children()) if isinstance(model, Sequential) else [("0", model)]
    for name, layer in steps:
        x = layer(x)
        rows.append((name, repr(layer).split("\n")[0].rstrip("("), ("N",) + tuple(x.shape[1:]),
                     layer.num_parameters()))
    return Summary(rows, ("N",) + shape, model.num_parameters())
