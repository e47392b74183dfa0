"""``Parameter`` and ``Module``, the base of every layer and model (see :mod:`cnnbook.nn`)."""
from __future__ import annotations

import math

import numpy as np

from cnnbook import backend
from cnnbook.backend import as_generator
from cnnbook.course.language import tr
from cnnbook.layers import checks


def _float_dtype(dtype, name: str = "dtype"):
    """``dtype`` as a NumPy floating-point dtype; ``TypeError`` for integers, bools, complex, strings."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(tr("{name}={value} is not a dtype; pass numpy.float32 (or numpy.float64 for gradient "
                           "checks)", name=name, value=repr(dtype))) from None
    if dt.kind != "f":
        raise TypeError(tr("{name}={value} is not a floating-point dtype: learnable weights need fractions "
                           "(integer weights would all be 0); pass numpy.float32 (or numpy.float64)",
                           name=name, value=dt))
    return dt


class Parameter:
    """A learnable array ``data`` and its gradient ``grad`` (same shape, dtype and backend)."""

    def __init__(self, data):
        xp = backend.get_array_module(data)
        _float_dtype(data.dtype, "Parameter dtype")
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


def normal_parameter(shape, std: float, rng, dtype) -> Parameter:
    """A :class:`Parameter` of ``N(0, std**2)`` entries drawn on the host from ``rng`` (an int seed, a
    ``numpy.random.Generator`` or ``None``), then moved to the default backend: one seed, one model on NumPy
    and CuPy."""
    dtype = _float_dtype(dtype)
    host = as_generator(rng).normal(0.0, std, size=shape).astype(dtype)
    return Parameter(backend.to_device(host, backend.default_xp()))


def init_parameter(shape, fan_in: int, rng, dtype, weight_scale=None) -> Parameter:
    """Normal weights of standard deviation ``weight_scale``, by default He's ``sqrt(2 / fan_in)``
    (:func:`normal_parameter`)."""
    if weight_scale is None:
        std = math.sqrt(2.0 / fan_in)
    else:
        std = checks.number(weight_scale, "weight_scale", above=0)
    return normal_parameter(shape, std, rng, dtype)


def full_parameter(shape, value: float, dtype) -> Parameter:
    """A :class:`Parameter` filled with ``value`` on the default backend (a layer norm's scale starts at 1)."""
    return Parameter(backend.default_xp().full(shape, value, dtype=_float_dtype(dtype)))


def zeros_parameter(shape, dtype) -> Parameter:
    """A :class:`Parameter` of zeros on the default backend (biases start there)."""
    return full_parameter(shape, 0.0, dtype)


class Module:
    """Base class: ``__call__`` runs ``forward``; subclasses define ``forward`` and ``backward``."""

    training = True
    _cache = None

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        raise NotImplementedError(tr("{cls} must define forward(x)", cls=type(self).__name__))

    def backward(self, dout):
        raise NotImplementedError(tr("{cls} must define backward(dout)", cls=type(self).__name__))

    def backward_params(self, dout) -> None:
        """Add the parameters' gradients for ``dout`` to ``p.grad``, as :meth:`backward` does, where the gradient
        for the input is not wanted (a network's first layer: training never uses it). Returns ``None``. Here it
        runs :meth:`backward` and drops ``dx``; a module that can skip computing ``dx`` overrides it."""
        self.backward(dout)

    def _cached(self):
        if self._cache is None:
            raise RuntimeError(tr("{cls}.backward was called before forward: run model(x) first, then "
                                  "model.backward(dout)", cls=type(self).__name__))
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
                raise ValueError(tr("backend_name={value}; choose 'numpy' or 'cupy'", value=repr(backend_name)))
            xp = np if backend_name == "numpy" else __import__("cupy")
        else:
            xp = backend_name
        if dtype is not None:
            dtype = _float_dtype(dtype)
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


def check_float_input(module: Module, x, weight, shape: str) -> None:
    """``TypeError`` unless ``x`` is an array of ``weight``'s dtype; ``shape`` is the one the module wants, e.g.
    ``"(N, 3, H, W)"``."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(tr("{module} got a {kind}; pass an array of shape {shape}",
                           module=repr(module), kind=type(x).__name__, shape=shape))
    if x.dtype != weight.dtype:
        raise TypeError(tr("{module} got {dtype} input but its weights are {weights}; use X.astype({weights}) or "
                           "model.to(dtype=X.dtype)", module=repr(module), dtype=x.dtype, weights=weight.dtype))
