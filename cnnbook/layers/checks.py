"""Input checks for the whole package: bad input fails here, early, with a message that names the value and the fix.

The number checks return the cleaned value or raise:

* :class:`WrongKindError` for a value of the wrong kind: a float where a whole number belongs (``stride=1.5``),
  a string for a rate (``lr="0.1"``), ``True`` for a count. ``bool`` is an ``int`` to Python, but
  ``stride=True`` is a bug, not a stride of 1, so no check here takes it for a number.
* ``ValueError`` for a value of the right kind that is out of range (``stride=0``, ``momentum=1.0``).

The array checks raise ``TypeError`` (not an array, wrong dtype) or ``ValueError`` (wrong shape). NumPy's
integers and floats count as whole numbers and numbers; a NumPy ``bool_`` does not. Use these rather than a
hand-written ``isinstance(v, bool)`` test (``tests/test_checks.py`` looks for one). The messages speak the
learner's language through :func:`cnnbook.course.language.tr` (a core service: it imports only the standard
library), and only when something is wrong, so the layers' hot path never looks a message up.

Numbers: :func:`whole_number`, :func:`pair`, :func:`number`, and the tests they use, :func:`is_whole_number` and
:func:`is_number`. Arrays given to the layers: :func:`array`, :func:`same_dtype`, :func:`upstream_gradient`,
:func:`forward_cache`.
"""
from __future__ import annotations

import math
import numbers

from cnnbook.backend import get_array_module
from cnnbook.course.language import tr


class WrongKindError(TypeError, ValueError):
    """A value of the wrong kind for an argument, e.g. ``stride=1.5``.

    Both a ``TypeError`` (it is the wrong kind) and a ``ValueError`` (it is a bad value for the argument), as
    NumPy's ``AxisError`` is both a ``ValueError`` and an ``IndexError``: code may catch either, and a caller
    that checks for bad arguments with ``except ValueError`` catches this one too."""


# ---------------------------------------------------------------- numbers
def is_whole_number(value) -> bool:
    """True for a Python or NumPy integer; False for a bool, for a float (even ``3.0``) and for anything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value) -> bool:
    """True for a Python or NumPy real number (NaN and infinities included); False for a bool and anything else."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def whole_number(value, name: str, minimum: int | None = None) -> int:
    """``value`` as a Python ``int``.

    ``name`` is the argument as the caller wrote it (``"stride"``, ``"layers[0] stride"``). Raises
    :class:`WrongKindError` for anything but a whole number, ``ValueError`` below ``minimum``. The hint suggests
    whole numbers near the value given, never ``int(1.5)``, which would hide that 1.5 becomes 1.
    """
    if not is_whole_number(value):
        raise WrongKindError(tr("{name}={value} is not a whole number ({kind}); pass a whole number such as "
                                "{examples}", name=name, value=_shown(value), kind=type(value).__name__,
                                examples=_examples(value, name, minimum)))
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(tr("{name}={value} must be >= {minimum}", name=name, value=value, minimum=minimum))
    return value


def pair(value, name: str, minimum: int | None = None) -> tuple[int, int]:
    """A whole number ``k`` as ``(k, k)``, or a ``(height, width)`` tuple or list of two as a tuple of ints.

    Each number is checked as :func:`whole_number` does; a wrong item is named ``name[0]`` (height) or
    ``name[1]`` (width).
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(tr("{name}={value} has {length} entries; pass a whole number or a (height, width) pair",
                                name=name, value=_shown(tuple(value)), length=len(value)))
        return whole_number(value[0], f"{name}[0]", minimum), whole_number(value[1], f"{name}[1]", minimum)
    if not is_whole_number(value):
        raise WrongKindError(tr("{name}={value} is neither a whole number nor a (height, width) pair ({kind}); "
                                "pass a whole number such as {examples}, or a pair of them",
                                name=name, value=_shown(value), kind=type(value).__name__,
                                examples=_examples(value, name, minimum)))
    k = whole_number(value, name, minimum)
    return k, k


def number(value, name: str, *, minimum=None, maximum=None, above=None, below=None) -> float:
    """``value`` as a finite Python ``float``, within the bounds given.

    ``minimum``/``maximum`` are inclusive (``value >= minimum``), ``above``/``below`` exclusive
    (``value > above``): ``number(lr, "lr", above=0)``, ``number(momentum, "momentum", minimum=0, below=1)``.
    Raises :class:`WrongKindError` for anything but a real number, and for NaN and the infinities;
    ``ValueError`` outside the bounds.
    """
    if not is_number(value):
        raise WrongKindError(tr("{name}={value} is not a number ({kind}); pass an int or a float",
                                name=name, value=_shown(value), kind=type(value).__name__))
    if not math.isfinite(value):
        raise WrongKindError(tr("{name}={value} must be a finite number, not NaN or infinity",
                                name=name, value=_shown(value)))
    if ((minimum is not None and value < minimum) or (maximum is not None and value > maximum)
            or (above is not None and value <= above) or (below is not None and value >= below)):
        low = f"{minimum} <= " if minimum is not None else f"{above} < " if above is not None else ""
        high = f" <= {maximum}" if maximum is not None else f" < {below}" if below is not None else ""
        raise ValueError(tr("{name}={value} is out of range; pass a value with {condition}",
                            name=name, value=_shown(value), condition=f"{low}{name}{high}"))
    return float(value)


def _shown(value) -> str:
    """``repr(value)`` cut to a line, a NumPy scalar shown as the Python number it holds (``1.5``)."""
    if isinstance(value, numbers.Number) and hasattr(value, "item"):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _examples(value, name: str, minimum: int | None) -> str:
    """Whole numbers to suggest for a wrong ``value``: both neighbours of 1.5 (1 and 2), 3 for 3.0 or '3', else
    ``minimum`` (at least 1); as ``name=1`` when ``name`` is an argument name."""
    near = []
    if is_number(value) and math.isfinite(value):
        near = sorted({math.floor(value), math.ceil(value)})
    elif isinstance(value, str) and value.strip().lstrip("+-").isdecimal():
        near = [int(value)]
    near = [n for n in near if minimum is None or n >= minimum] or [1 if minimum is None else max(minimum, 1)]
    return tr(" or ").join(f"{name}={n}" if name.isidentifier() else str(n) for n in near)


# ---------------------------------------------------------------- arrays
def array(a, name: str, layout, *, ndim: int | None = None, min_ndim: int | None = None, floating: bool = True):
    """``a`` itself, checked to be an array (NumPy or CuPy) of the expected shape, and floating-point if ``floating``.

    ``layout`` is either the names of ``a``'s axes, ``("N", "C", "H", "W")``: then ``a`` has exactly these
    axes, and none is empty but the batch ``N`` (no examples is a batch; an image of width 0 is nothing to
    compute with); or the shape in words, with ``ndim`` (exactly) or ``min_ndim`` (at least) the number of
    axes: a text marked ``N_("(N, D) or (N, ...)")`` by the caller and translated here, or a function that
    returns the words, called only when the check fails.
    """
    get_array_module(a)  # TypeError for lists, tensors and other non-arrays
    if a is None or not hasattr(a, "ndim"):
        raise TypeError(tr("{name} must be an array of shape {layout}, got {kind}",
                           name=name, layout=_layout(layout), kind=type(a).__name__))
    if isinstance(layout, tuple):
        ndim = len(layout)
    if a.ndim != ndim if ndim is not None else a.ndim < min_ndim:
        want = tr("{n}-D", n=ndim) if ndim is not None else tr("at least {n}-D", n=min_ndim)
        raise ValueError(tr("{name} must be {want} with shape {layout}, got shape {shape} ({ndim}-D)",
                            name=name, want=want, layout=_layout(layout), shape=tuple(a.shape), ndim=a.ndim))
    if isinstance(layout, tuple) and 0 in a.shape:
        empty = [f"{axis}=0" for axis, n in zip(layout, a.shape) if n == 0 and axis != "N"]
        if empty:
            raise ValueError(tr("{name} has shape {shape} {layout}, so {empty}: nothing to compute with; "
                                "an empty batch (N=0) is the only empty axis the layers accept",
                                name=name, shape=tuple(a.shape), layout=_layout(layout), empty=", ".join(empty)))
    if floating and a.dtype.kind != "f":
        raise TypeError(tr("{name} has dtype {dtype}; the layers need floating-point arrays, "
                           "e.g. {name}.astype('float32') (or 'float64' for gradient checks)",
                           name=name, dtype=a.dtype))
    return a


def _layout(layout) -> str:
    """The expected shape as a learner reads it: ``(N, C, H, W)``, ``(M,)``, or the words of :func:`array`."""
    if isinstance(layout, tuple):
        return "(" + ", ".join(layout) + ("," if len(layout) == 1 else "") + ")"
    return layout() if callable(layout) else tr(layout)  # a layout has no {fields}: tr only translates it


def same_dtype(**arrays) -> None:
    """``TypeError`` when the arrays given by keyword do not all share one dtype (``None`` is left out)."""
    dtypes = {name: a.dtype for name, a in arrays.items() if a is not None}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(tr("{name} is {dtype}", name=name, dtype=dt) for name, dt in dtypes.items())
        first = next(iter(dtypes))
        raise TypeError(tr("arrays of different dtypes ({listed}); layers keep the dtype they are given, "
                           "so convert to one first, e.g. w.astype({first}.dtype)", listed=listed, first=first))


def upstream_gradient(dout, shape: tuple, dtype, what: str):
    """``dout`` checked against the forward output's ``shape`` and cast to the forward ``dtype``.

    ``what`` names the forward function (``"conv2d_forward"``) in the message."""
    array(dout, "dout", lambda: tr("{shape} (the shape of {what}'s output)", shape=shape, what=what),
          ndim=len(shape))
    if tuple(dout.shape) != tuple(shape):
        raise ValueError(tr("dout has shape {shape} but {what}'s output had shape {expected}; "
                            "pass the upstream gradient of that output, with the same cache",
                            shape=tuple(dout.shape), what=what, expected=tuple(shape)))
    # A gradient has the dtype of the value it is the gradient of.
    return dout.astype(dtype, copy=False)


def forward_cache(cache, length: int, what: str) -> tuple:
    """``cache`` checked to be the ``length``-tuple that the forward function ``what`` returned."""
    if not isinstance(cache, tuple) or len(cache) != length:
        raise TypeError(tr("cache must be the tuple returned by {what} (a {length}-tuple), got {kind}",
                           what=what, length=length, kind=type(cache).__name__))
    return cache
