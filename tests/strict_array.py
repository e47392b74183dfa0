"""A stand-in for CuPy that runs on the CPU, so CI without a GPU still proves the package is backend-generic.

``StrictArray`` behaves like a CuPy array in the ways that break NumPy-only code:

* mixing it with a plain ``numpy.ndarray`` in a ufunc or NumPy function raises ``TypeError``
  (CuPy: "Unsupported type <class 'numpy.ndarray'>");
* its array module, found through ``__array_namespace__``, is :data:`strict_xp`, whose creation
  functions (``zeros``, ``asarray``, ``arange``...) return ``StrictArray`` again, as ``cupy.zeros`` does;
* ``numpy.asarray(a)`` gives a host copy only through the explicit ``a.get()``; ``cnnbook.backend.to_numpy``
  knows that.

Code that builds an array with ``np.zeros`` instead of ``xp.zeros``, or calls a NumPy-only helper on a
device array, fails here the way it would on a GPU.
"""
from __future__ import annotations

import types

import numpy as np


def _has_plain_ndarray(objs) -> bool:
    for o in objs:
        if type(o) is np.ndarray:
            return True
        if isinstance(o, (list, tuple)) and _has_plain_ndarray(o):
            return True
    return False


class StrictArray(np.ndarray):
    """An ndarray that refuses to meet plain NumPy arrays, like a CuPy array."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if _has_plain_ndarray(inputs) or _has_plain_ndarray(kwargs.get("out", ())):
            raise TypeError(f"StrictArray (a stand-in for a CuPy array) met a numpy.ndarray in "
                            f"{ufunc.__name__}.{method}: create arrays with xp = get_array_module(...)")
        args = [i.view(np.ndarray) if isinstance(i, StrictArray) else i for i in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, StrictArray) else o for o in kwargs["out"])
        result = getattr(ufunc, method)(*args, **kwargs)
        return _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        if _has_plain_ndarray(args) or _has_plain_ndarray(tuple(kwargs.values())):
            raise TypeError(f"StrictArray (a stand-in for a CuPy array) met a numpy.ndarray in "
                            f"numpy.{func.__name__}: create arrays with xp = get_array_module(...)")
        # Run NumPy's implementation on plain views (some, like zeros_like, build plain arrays inside),
        # then hand back StrictArrays, as CuPy's functions return CuPy arrays.
        return _wrap(func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))

    def __array_namespace__(self, api_version=None):
        return strict_xp

    def get(self) -> np.ndarray:
        """The explicit device-to-host copy (CuPy's ``ndarray.get``)."""
        return np.array(self.view(np.ndarray))


def _unwrap(obj):
    if isinstance(obj, StrictArray):
        return obj.view(np.ndarray)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o) for o in obj)
    return obj


def _wrap(result):
    if type(result) is np.ndarray:
        return result.view(StrictArray)
    if isinstance(result, tuple) and hasattr(result, "_fields"):  # namedtuple results (e.g. linalg.svd)
        return type(result)(*(_wrap(r) for r in result))
    if isinstance(result, (tuple, list)):
        return type(result)(_wrap(r) for r in result)
    return result


class _StrictNamespace(types.SimpleNamespace):
    """``numpy`` seen through a lens that turns every array it returns into a ``StrictArray``."""

    def __init__(self, module, name):
        super().__init__()
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "__name__", name)

    def __getattr__(self, attr):
        value = getattr(self._module, attr)
        if isinstance(value, types.ModuleType):
            return _StrictNamespace(value, f"{self.__name__}.{attr}")
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)) or (
                callable(value) and type(value).__name__ == "_ArrayFunctionDispatcher"):
            def wrapped(*args, **kwargs):
                return _wrap(value(*args, **kwargs))
            wrapped.__name__ = attr
            return wrapped
        return value  # dtypes, ufuncs (they dispatch through __array_ufunc__), constants

    def __repr__(self):
        return f"<strict stand-in for {self._module.__name__}>"


strict_xp = _StrictNamespace(np, "strict_numpy")


def strict(a) -> StrictArray:
    """A ``StrictArray`` copy of ``a`` (the stand-in for ``cupy.asarray``)."""
    return np.array(a).view(StrictArray)
