"""What every exercise check shares: run the learner's function, then explain a wrong answer in words.

A check builds its hidden cases on the host from a fixed seed, moves them to the default backend
(:func:`device`), calls the learner's function through :func:`call` and compares with
:func:`compare_array`. A comparison takes *mistakes*: ``(expected_if_wrong, hint)`` pairs, each the
answer a plausible wrong implementation would give (computed with the package's reference functions)
and what to tell the learner when theirs matches it. ``expected_if_wrong`` may be a shape tuple when
only the shape of the mistake is known.

Every text a learner reads goes through :func:`cnnbook.course.language.tr`, an English template with named
fields, so the Korean edition shows the same hints in Korean (``cnnbook/course/locale/ko/exercises.po``).
A text kept in a table and shown later is marked with :func:`cnnbook.course.language.N_` where it is written,
and passed to ``tr`` where it is shown.
"""
from __future__ import annotations

import zlib

import numpy as np

from cnnbook import backend
from cnnbook.course.language import tr
from cnnbook.layers.checks import is_number, is_whole_number


class ExerciseError(AssertionError):
    """A learner's answer is wrong; the message says what is wrong and the likely cause."""

    def _render_traceback_(self):
        """How IPython shows it: the learner's code and the message, not the check's frames (the checks' modules
        hold the expected answers); see :func:`cnnbook.course.exercises._flow.render_traceback`."""
        from cnnbook.course.exercises._flow import render_traceback
        return render_traceback(self)


def rng_for(name: str) -> np.random.Generator:
    """The host generator of one check's hidden cases: fixed, but different for every check."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def device(a):
    """A copy of host array ``a`` on the default backend, so learners on CuPy are checked on CuPy.

    Always a copy: the host original must stay as it was, to tell whether the learner changed the input.
    """
    return backend.to_device(np.array(a, copy=True), backend.default_xp())


def require_callable(fn, check_name: str, what: str) -> None:
    if not callable(fn):
        raise TypeError(tr("{check} takes your function {what}, not {kind} {value!r}; "
                           "pass the function itself, without calling it: {check}({name})",
                           check=check_name, what=what, kind=type(fn).__name__, value=fn,
                           name=what.split("(")[0]))


def shape_text(a) -> str:
    return str(tuple(np.shape(a)))


def describe_call(name: str, *args, **kwargs) -> str:
    """``conv(x (2, 3, 5, 7), w (4, 3, 3, 3), stride=2)``: a call as the learner can read it."""
    parts = []
    for value in args:
        parts.append(_describe_value(value))
    parts += [f"{key}={value!r}" for key, value in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _describe_value(value) -> str:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        label, array = value
        return f"{label} {shape_text(array)}" if hasattr(array, "shape") else f"{label}={array!r}"
    return repr(value)


def call(fn, call_text: str, *args, **kwargs):
    """``fn(*args, **kwargs)``; any exception but ``NotImplementedError`` becomes an ``ExerciseError``.

    ``NotImplementedError`` (the student edition's stub) propagates unchanged: the exported check notes the
    exercise as not done yet (:mod:`cnnbook.course.exercises._flow`).
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except ExerciseError:
        raise
    except Exception as exc:
        raise ExerciseError(tr("{call} raised {error}: {message}\n"
                               "The traceback above shows the line in your function where it happened.",
                               call=call_text, error=type(exc).__name__, message=exc)) from exc


def module_name(xp) -> str:
    name = getattr(xp, "__name__", repr(xp))
    return {"strict_numpy": "cupy-like"}.get(name, name.split(".")[0])


def require_array(out, call_text: str, what: str, like):
    """Check that ``out`` is an array of ``like``'s backend; return it."""
    if out is None:
        raise ExerciseError(tr("{call} returned None: does your function end with `return {what}`? "
                               "(Changing an array in place and returning nothing is not enough.)",
                               call=call_text, what=what))
    if isinstance(out, (tuple, list)) and len(out) and hasattr(out[0], "shape"):
        raise ExerciseError(tr("{call} returned a {kind} of {count} items; return only {what}, one array",
                               call=call_text, kind=type(out).__name__, count=len(out), what=what))
    if not hasattr(out, "shape") or not hasattr(out, "dtype") or isinstance(out, np.generic):
        raise ExerciseError(tr("{call} returned {kind} {value}; {what} should be an array: build it with "
                               "xp.zeros(...) where xp = cnnbook.backend.get_array_module(x)",
                               call=call_text, kind=type(out).__name__, value=short(out), what=what))
    xp_in, xp_out = backend.get_array_module(like), _module_of(out)
    if xp_out is not xp_in:
        raise ExerciseError(tr("{call} returned a {got} array for {given} input: create arrays with the input's "
                               "module, xp = cnnbook.backend.get_array_module(x), then xp.zeros(...), "
                               "not np.zeros(...)", call=call_text, got=module_name(xp_out), given=module_name(xp_in)))
    return out


def _module_of(a):
    try:
        return backend.get_array_module(a)
    except TypeError:
        return type(a)


def short(value, limit: int = 60) -> str:
    """``repr(value)``, cut to fewer than ``limit`` characters (ending in ``...``) for a one-line message."""
    text = repr(value)
    return text if len(text) < limit else text[:limit - 3] + "..."


def require_unchanged(before_host: np.ndarray, after, call_text: str, label: str) -> None:
    """Fail when the learner's function changed its input array ``label`` in place."""
    if not np.array_equal(before_host, backend.to_numpy(after), equal_nan=True):
        raise ExerciseError(tr("{call} changed its input {label} in place: work on a copy ({label}.copy()) "
                               "or build a new array, so the caller's {label} stays as it was",
                               call=call_text, label=label))


def close(a, b, rtol: float = 1e-5) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    # Absolute tolerance relative to the largest value, so float32 arithmetic passes near zero too.
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return bool(np.allclose(a, b, rtol=rtol, atol=rtol * scale))


def compare_array(out, expected, call_text: str, what: str, mistakes=(), factor_hints=None,
                  fallback: str = "") -> None:
    """Raise an ``ExerciseError`` saying how ``out`` differs from ``expected``, or return when they agree.

    ``mistakes``: ``(answer_of_a_mistake, hint)`` pairs; an answer may be a shape tuple.
    ``factor_hints``: ``{factor: hint}`` for answers off by a constant factor (e.g. ``{N: "divide by N"}``).
    ``fallback``: the likely cause to add when the values are wrong in no recognised way.
    A floating ``expected`` also sets the dtype: the contract's functions keep the dtype they are given.
    ``what`` and the hints come translated (``tr(...)`` where they are written).
    """
    got, want = backend.to_numpy(out), backend.to_numpy(expected)
    mistakes = [(m if isinstance(m, tuple) else backend.to_numpy(m), hint) for m, hint in mistakes]
    if got.shape != want.shape:
        for mistake, hint in mistakes:
            if (mistake if isinstance(mistake, tuple) else mistake.shape) == got.shape:
                raise ExerciseError(tr("{call}: {what} has shape {got}, expected {want}: {hint}",
                                       call=call_text, what=what, got=got.shape, want=want.shape, hint=hint))
        raise ExerciseError(tr("{call}: {what} has shape {got}, expected {want}",
                               call=call_text, what=what, got=got.shape, want=want.shape))
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(want)):
        raise ExerciseError(tr("{call}: {what} contains nan or inf where the right answer is finite; "
                               "look for a division by zero or an overflowing exp", call=call_text, what=what))
    wrong_dtype = want.dtype.kind == "f" and got.dtype != want.dtype
    dtype_error = ExerciseError(tr("{call}: {what} has dtype {got}, expected {want}, the dtype of the input: "
                                   "functions keep the dtype they are given, so create new arrays with dtype=x.dtype "
                                   "(x being the input) and do not convert the result", call=call_text, what=what,
                                   got=got.dtype, want=want.dtype))
    if close(got, want):
        if wrong_dtype:
            raise dtype_error
        return
    for mistake, hint in mistakes:
        if not isinstance(mistake, tuple) and close(got, mistake):
            raise ExerciseError(tr("{call}: {what} has the right shape {shape} but wrong values: {hint}",
                                   call=call_text, what=what, shape=want.shape, hint=hint))
    if wrong_dtype:  # a float16 result differs in the 4th digit: say it is the dtype, not the arithmetic
        raise dtype_error
    factor = _constant_factor(got, want)
    if factor is not None:
        hint = next((h for f, h in (factor_hints or {}).items() if np.isclose(factor, f, rtol=1e-4)), None)
        if hint:
            raise ExerciseError(tr("{call}: {what} is {factor:.4g} times the right values: {hint}",
                                   call=call_text, what=what, factor=factor, hint=hint))
        raise ExerciseError(tr("{call}: {what} is {factor:.4g} times the right values; look for a missing or "
                               "extra constant factor", call=call_text, what=what, factor=factor))
    difference = _first_difference(got, want)
    if fallback:
        raise ExerciseError(tr("{call}: {what} has the right shape {shape} but wrong values: {difference}. "
                               "{fallback}", call=call_text, what=what, shape=want.shape, difference=difference,
                               fallback=fallback))
    raise ExerciseError(tr("{call}: {what} has the right shape {shape} but wrong values: {difference}",
                           call=call_text, what=what, shape=want.shape, difference=difference))


def _constant_factor(got: np.ndarray, want: np.ndarray):
    denom = float(np.sum(want * want))
    if denom == 0.0:
        return None
    factor = float(np.sum(got * want)) / denom
    if abs(factor) < 1e-12 or np.isclose(factor, 1.0, rtol=1e-6):
        return None
    return factor if close(got, factor * want) else None


def _first_difference(got: np.ndarray, want: np.ndarray) -> str:
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    bad = ~np.isclose(got, want, rtol=1e-5, atol=1e-5 * scale)
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return tr("{count} of {size} entries differ; the first at index {index}: got {got:.6g}, expected {want:.6g}",
              count=int(bad.sum()), size=bad.size, index=index, got=got[index], want=want[index])


def require_count(value, text: str, what: str) -> int:
    """``value``, the answer of call ``text``, as an int; ``ExerciseError`` naming ``what`` (a count) otherwise."""
    if value is None:
        raise ExerciseError(tr("{call} returned None; does your function end with `return ...`?", call=text))
    if not is_whole_number(value):
        if is_number(value) and float(value).is_integer():
            raise ExerciseError(tr("{call} returned {value!r} (a {kind}); {what} is a count, return an int: "
                                   "use // for the division, or int(...)",
                                   call=text, value=value, kind=type(value).__name__, what=what))
        raise ExerciseError(tr("{call} returned {value!r} (a {kind}); {what} is a whole number, return an int",
                               call=text, value=value, kind=type(value).__name__, what=what))
    return int(value)


def explain(results, mistakes, default_hint: str) -> None:
    """Raise for the first wrong ``(text, got, want, args)`` result, with the hint of the mistake that
    reproduces *every* answer the learner gave (one case alone is often ambiguous)."""
    wrong = [r for r in results if r[1] != r[2]]
    if not wrong:
        return
    hint = next((h for formula, h in mistakes if all(formula(*args) == got for _, got, _, args in results)),
                default_hint)
    text, got, want, _ = wrong[0]
    raise ExerciseError(tr("{call} returned {got}, expected {want}: {hint}", call=text, got=got, want=want,
                           hint=hint))


def passed(name: str, cases) -> bool:
    """Print the success line naming what was tested (``cases``: their descriptions, translated); return True."""
    print(tr("correct: {name} passed {count} hidden test cases ({cases})",
             name=name, count=len(cases), cases="; ".join(cases)))
    return True
