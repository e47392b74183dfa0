"""Input checks shared by the layers: bad input fails here, early, with a message that names the values.

Nothing in this module computes; each helper returns the cleaned value or raises
``TypeError`` (wrong kind of thing) / ``ValueError`` (right kind, wrong value).
"""
from __future__ import annotations

import numbers
import re

from cnnbook.backend import get_array_module


def as_int(value, name: str, minimum: int | None = None) -> int:
    """``value`` as a Python int; ``TypeError`` for floats, bools and non-numbers, ``ValueError`` below ``minimum``."""
    # bool is an Integral, but stride=True is a bug, not a stride of 1.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__}); "
                        f"pass a whole number, e.g. {name}=int({value!r})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_pair(value, name: str, minimum: int | None = None) -> tuple[int, int]:
    """An int or a ``(height, width)`` pair of ints, as ``(height, width)``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {tuple(value)!r}")
        return (as_int(value[0], f"{name}[0] (height)", minimum),
                as_int(value[1], f"{name}[1] (width)", minimum))
    v = as_int(value, name, minimum)
    return v, v


def check_array(a, name: str, ndim: int | tuple, layout: str, floating: bool = True):
    """Check that ``a`` is an array (NumPy or CuPy) of ``ndim`` dimensions (``layout`` names them)."""
    get_array_module(a)  # TypeError for lists, tensors and other non-arrays
    if a is None or not hasattr(a, "ndim"):
        raise TypeError(f"{name} must be an array of shape {layout}, got {type(a).__name__}")
    ndims = ndim if isinstance(ndim, tuple) else (ndim,)
    if a.ndim not in ndims:
        contiguous = len(ndims) > 2 and list(ndims) == list(range(ndims[0], ndims[-1] + 1))
        want = f"at least {ndims[0]}-D" if contiguous else " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {want} with shape {layout}, got shape {tuple(a.shape)} ({a.ndim}-D)")
    # A layout of axis names, e.g. "(N, C, H, W)": every axis but the batch N must be non-empty. The layout is
    # parsed only when an axis is empty, so the layers' hot path pays one tuple scan, not two regexes.
    if 0 in a.shape and re.fullmatch(r"\(\s*[A-Za-z]\w*(\s*,\s*[A-Za-z]\w*)*\s*,?\s*\)", layout):
        axes = re.findall(r"[A-Za-z]\w*", layout)
        empty = [f"{axis}=0" for axis, n in zip(axes, a.shape) if n == 0 and axis != "N"]
        if len(axes) == a.ndim and empty:
            raise ValueError(f"{name} has shape {tuple(a.shape)} {layout}, so {', '.join(empty)}: nothing to "
                             f"compute with; an empty batch (N=0) is the only empty axis the layers accept")
    if floating and a.dtype.kind != "f":
        raise TypeError(f"{name} has dtype {a.dtype}; the layers need floating-point arrays, "
                        f"e.g. {name}.astype('float32') (or 'float64' for gradient checks)")
    return a


def check_same_dtype(**arrays) -> None:
    """``TypeError`` when the arrays given by keyword do not all share one dtype."""
    dtypes = {name: a.dtype for name, a in arrays.items() if a is not None}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name} is {dt}" for name, dt in dtypes.items())
        first = next(iter(dtypes))
        raise TypeError(f"arrays of different dtypes ({listed}); layers keep the dtype they are given, "
                        f"so convert to one first, e.g. w.astype({first}.dtype)")


def check_dout(dout, shape: tuple, dtype, what: str):
    """``dout`` checked against the forward output's ``shape`` and cast to the forward ``dtype``."""
    check_array(dout, "dout", len(shape), f"{shape} (the shape of {what}'s output)")
    if tuple(dout.shape) != tuple(shape):
        raise ValueError(f"dout has shape {tuple(dout.shape)} but {what}'s output had shape {tuple(shape)}; "
                         "pass the upstream gradient of that output, with the same cache")
    # A gradient has the dtype of the value it is the gradient of.
    return dout.astype(dtype, copy=False)


def check_cache(cache, length: int, what: str) -> tuple:
    if not isinstance(cache, tuple) or len(cache) != length:
        raise TypeError(f"cache must be the tuple returned by {what} (a {length}-tuple), "
                        f"got {type(cache).__name__}")
    return cache
