"""What a check does besides checking: an exercise not done yet lets the lesson go on; a wrong answer shows the
learner's code, not the check's.

**Not done yet.** The student edition's stub raises ``NotImplementedError("Your turn: ...")`` (the Korean edition's
``"직접 해 보기: ..."``, :mod:`cnnbook.course.stubs`; nbgrader's own release: ``NotImplementedError()``), and a
prediction not made yet is ``...`` or ``None``. For such an answer the check does not raise: it writes a note to
**stderr** saying, in the learner's language, that the exercise is not done yet and how to get help, and returns what
the rest of the lesson should use. So JupyterLab's Run All and ``jupyter nbconvert --execute`` go on to the end, while
nbgrader still gives the check cell no points: its autograder counts a test cell with an error *or any stderr output* as
failed (``nbgrader.utils.determine_grade``).

**What a check returns.** A function check returns the function the lesson should use from then on: the
learner's once it passes, the package's reference (:mod:`cnnbook.course.exercises.references`) while it is not
done yet. A notebook whose later cells call the function rebinds the name::

    softmax_loss = check_softmax_loss(softmax_loss)

A prediction check returns the prediction (``None`` while it is not made). A wrong answer raises
:class:`~cnnbook.course.exercises._common.ExerciseError` as before, so the lesson stops there, with its hint.

**The traceback.** The checks' modules hold the expected answers, so IPython (JupyterLab, nbclient, nbgrader's
feedback) shows an ``ExerciseError`` without their frames: :func:`render_traceback` keeps the learner's cell, the
learner's own functions (where their code crashed) and the message.
"""
from __future__ import annotations

import functools
import sys
import traceback
import types
from pathlib import Path

from cnnbook.course.language import tr
from cnnbook.course.stubs import PREFIXES

CHECKS_DIR = Path(__file__).resolve().parent
"""The folder of the checks' modules: frames there are hidden from a learner's traceback."""


def is_stub(exc: NotImplementedError) -> bool:
    """Whether ``exc`` is a stub's: the student edition's ``Your turn: ...`` (in any edition's language,
    :data:`cnnbook.course.stubs.PREFIXES`) or nbgrader's bare one."""
    message = str(exc).strip()
    return not message or message.startswith(PREFIXES)


def not_done(exercise: str, prediction: str | None = None) -> None:
    """Write the "not done yet" note of ``exercise`` to stderr (``prediction``: the variable of a prediction)."""
    if prediction:
        note = tr("not done yet: {variable} is not set. Write down your prediction (any reasonable guess; the point "
                  "is to commit to one before the measurement) and run the two cells again. Or skip it for now: "
                  "run on, the lesson goes on without it.", variable=prediction)
    else:
        note = tr("not done yet: {exercise} is still the stub that raises NotImplementedError. Skip it for now if "
                  "you like: run on, and the rest of the lesson uses cnnbook's reference in place of yours. Stuck? "
                  "Read the exercise's instructions and hints again, or print our solution with:\n"
                  "    from cnnbook.course.solutions import show_solution\n"
                  "    show_solution(\"{exercise}\")", exercise=exercise)
    sys.stdout.flush()  # keep the note after what the check printed before
    print(note, file=sys.stderr, flush=True)


def function_check(check, exercise: str, reference):
    """``check`` (``check(fn, ...) -> True``, raising for a wrong ``fn``) as the notebook calls it: returning ``fn``
    when right, and noting "not done yet" and returning ``reference`` for a stub. ``exercise`` is the name
    ``show_solution`` takes."""
    @functools.wraps(check)
    def checked(fn, *args, **kwargs):
        try:
            check(fn, *args, **kwargs)
        except NotImplementedError as exc:
            if not is_stub(exc):
                raise
            not_done(exercise)
            return reference
        return fn

    checked.__doc__ = (check.__doc__ or "") + (
        "\n\nReturns ``fn`` when it passes; while ``fn`` is the stub, notes on stderr that the exercise is not done "
        "yet and returns the package's reference instead, so the lesson goes on.")
    return checked


def prediction_check(check, variable: str):
    """``check`` (``check(predicted, measured) -> True``) noting "not done yet" for a prediction not made (``...``
    or ``None``) and returning ``None`` then, else the prediction."""
    @functools.wraps(check)
    def checked(predicted, measured):
        if predicted is None or predicted is Ellipsis:
            not_done(variable, prediction=variable)
            return None
        check(predicted, measured)
        return predicted

    checked.__doc__ = (check.__doc__ or "") + (
        f"\n\nReturns the prediction; while ``{variable}`` is ``...`` (the stub) or ``None``, notes on stderr that "
        "it is not done yet and returns ``None``, so the lesson goes on.")
    return checked


# ---- the traceback a learner sees ------------------------------------------------------------------------
def _is_check_frame(tb) -> bool:
    try:
        return Path(tb.tb_frame.f_code.co_filename).resolve().parent == CHECKS_DIR
    except (OSError, ValueError):
        return False


def _is_ipython_frame(tb) -> bool:
    return tb.tb_frame.f_globals.get("__name__", "").startswith(("IPython.", "ipykernel."))


def without_check_frames(tb):
    """A copy of traceback ``tb`` without the frames of the checks' modules and of IPython's machinery."""
    kept = []
    while tb is not None:
        if not (_is_check_frame(tb) or _is_ipython_frame(tb)):
            kept.append(tb)
        tb = tb.tb_next
    trimmed = None
    for entry in reversed(kept):
        trimmed = types.TracebackType(trimmed, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return trimmed


def render_traceback(error: BaseException) -> list[str]:
    """IPython's display of ``error`` and the exceptions chained to it, without the checks' frames.

    IPython calls an exception's ``_render_traceback_`` to show it; :class:`ExerciseError` hands over to this.
    """
    seen, exc = set(), error
    while exc is not None and id(exc) not in seen:  # the learner's own exception (the cause) too
        seen.add(id(exc))
        exc.__traceback__ = without_check_frames(exc.__traceback__)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    try:
        from IPython import get_ipython
        shell = get_ipython()
        if shell is not None:
            return shell.InteractiveTB.structured_traceback(type(error), error, error.__traceback__, tb_offset=0)
    except Exception:  # never lose the message because the display failed
        pass
    return traceback.format_exception(type(error), error, error.__traceback__)
