"""Input checks shared by the layers: bad input fails here, early, with a message that names the values.

Nothing in this module computes; each helper returns the cleaned value or raises
``TypeError`` (wrong kind of thing) / ``ValueError`` (right kind, wrong value). The messages speak the
learner's language through :func:`cnnbook.course.language.tr` (a core service: it imports only the standard
library), and only when something is wrong, so the layers' hot path never looks a message up.
"""
from __future__ import annotations

import numbers
import re

from cnnbook.backend import get_array_module
from cnnbook.course.language import tr


def as_int(value, name: str, minimum: int | None = None) -> int:
    """``value`` as a Python int; ``TypeError`` for floats, bools and non-numbers, ``ValueError`` below ``minimum``."""
    # bool is an Integral, but stride=True is a bug, not a stride of 1.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(tr("{name} must be an integer, got {value!r} ({kind}); "
                           "pass a whole number, e.g. {name}=int({value!r})",
                           name=name, value=value, kind=type(value).__name__))
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(tr("{name} must be >= {minimum}, got {value}", name=name, minimum=minimum, value=value))
    return value


def as_pair(value, name: str, minimum: int | None = None) -> tuple[int, int]:
    """An int or a ``(height, width)`` pair of ints, as ``(height, width)``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(tr("{name} must be an int or a (height, width) pair, got {value!r}",
                                name=name, value=tuple(value)))
        return _pair_item(value, 0, name, minimum), _pair_item(value, 1, name, minimum)
    v = as_int(value, name, minimum)
    return v, v


def _pair_item(pair, index: int, name: str, minimum: int | None) -> int:
    """``pair[index]`` as an int; the item's name (``name[0] (height)``) is put into words only when it is wrong."""
    value = pair[index]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (minimum is not None
                                                                               and value < minimum):
        item = (tr("{name}[0] (height)", name=name) if index == 0 else tr("{name}[1] (width)", name=name))
        as_int(value, item, minimum)  # raises, naming the item
    return int(value)


def check_array(a, name: str, ndim: int | tuple, layout, floating: bool = True):
    """Check that ``a`` is an array (NumPy or CuPy) of ``ndim`` dimensions (``layout`` names them).

    ``layout``: the expected shape in words, ``"(N, C, H, W)"``; a text with English words in it is marked
    ``N_("(N, D) or (N, ...)")`` by the caller and translated here, or given as a function that returns the
    words, called only when the check fails."""
    get_array_module(a)  # TypeError for lists, tensors and other non-arrays
    if a is None or not hasattr(a, "ndim"):
        raise TypeError(tr("{name} must be an array of shape {layout}, got {kind}",
                           name=name, layout=_layout(layout), kind=type(a).__name__))
    ndims = ndim if isinstance(ndim, tuple) else (ndim,)
    if a.ndim not in ndims:
        contiguous = len(ndims) > 2 and list(ndims) == list(range(ndims[0], ndims[-1] + 1))
        want = (tr("at least {n}-D", n=ndims[0]) if contiguous
                else tr(" or ").join(tr("{n}-D", n=d) for d in ndims))
        raise ValueError(tr("{name} must be {want} with shape {layout}, got shape {shape} ({ndim}-D)",
                            name=name, want=want, layout=_layout(layout), shape=tuple(a.shape), ndim=a.ndim))
    # A layout of axis names, e.g. "(N, C, H, W)": every axis but the batch N must be non-empty. The layout is
    # parsed only when an axis is empty, so the layers' hot path pays one tuple scan, not two regexes.
    if 0 in a.shape and isinstance(layout, str) and re.fullmatch(
            r"\(\s*[A-Za-z]\w*(\s*,\s*[A-Za-z]\w*)*\s*,?\s*\)", layout):
        axes = re.findall(r"[A-Za-z]\w*", layout)
        empty = [f"{axis}=0" for axis, n in zip(axes, a.shape) if n == 0 and axis != "N"]
        if len(axes) == a.ndim and empty:
            raise ValueError(tr("{name} has shape {shape} {layout}, so {empty}: nothing to compute with; "
                                "an empty batch (N=0) is the only empty axis the layers accept",
                                name=name, shape=tuple(a.shape), layout=layout, empty=", ".join(empty)))
    if floating and a.dtype.kind != "f":
        raise TypeError(tr("{name} has dtype {dtype}; the layers need floating-point arrays, "
                           "e.g. {name}.astype('float32') (or 'float64' for gradient checks)",
                           name=name, dtype=a.dtype))
    return a


def _layout(layout) -> str:
    """The expected shape in the learner's language (see :func:`check_array`)."""
    return layout() if callable(layout) else tr(layout)  # a layout has no {fields}: tr only translates it


def check_same_dtype(**arrays) -> None:
    """``TypeError`` when the arrays given by keyword do not all share one dtype."""
    dtypes = {name: a.dtype for name, a in arrays.items() if a is not None}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(tr("{name} is {dtype}", name=name, dtype=dt) for name, dt in dtypes.items())
        first = next(iter(dtypes))
        raise TypeError(tr("arrays of different dtypes ({listed}); layers keep the dtype they are given, "
                           "so convert to one first, e.g. w.astype({first}.dtype)", listed=listed, first=first))


def check_dout(dout, shape: tuple, dtype, what: str):
    """``dout`` checked against the forward output's ``shape`` and cast to the forward ``dtype``."""
    check_array(dout, "dout", len(shape),
                lambda: tr("{shape} (the shape of {what}'s output)", shape=shape, what=what))
    if tuple(dout.shape) != tuple(shape):
        raise ValueError(tr("dout has shape {shape} but {what}'s output had shape {expected}; "
                            "pass the upstream gradient of that output, with the same cache",
                            shape=tuple(dout.shape), what=what, expected=tuple(shape)))
    # A gradient has the dtype of the value it is the gradient of.
    return dout.astype(dtype, copy=False)


def check_cache(cache, length: int, what: str) -> tuple:
    if not isinstance(cache, tuple) or len(cache) != length:
        raise TypeError(tr("cache must be the tuple returned by {what} (a {length}-tuple), got {kind}",
                           what=what, length=length, kind=type(cache).__name__))
    return cache
