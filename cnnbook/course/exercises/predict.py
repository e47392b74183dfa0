"""Predict, then measure (notebooks 09-11): the learner writes a prediction in code, the notebook measures it.

A prediction is a number (``predicted_drop = 0.2``) or a choice (``predicted_cue = "shape"``), written in a
solution cell *before* the cell that measures it. :func:`check_prediction` then compares the two and prints how
far off the prediction was and, in words, why the measurement came out as it did. A wrong prediction is what
the exercise is for, so it never fails: the check fails (an :class:`ExerciseError`, with a hint) only for a
prediction that is missing (``None``, ``...``) or malformed (a string where a number is asked, a fraction of 3,
a choice that is not one of the options).

Each task is a :class:`Prediction` in :data:`PREDICTIONS`; each has its own check function
(``check_shift_drop_prediction(predicted_drop, measured_drop)``), so that nbgrader gives each its own grade id.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from cnnbook import backend
from cnnbook.course.exercises._common import ExerciseError, short
from cnnbook.course.language import N_, tr


@dataclass(frozen=True)
class Prediction:
    """One predict-then-measure task.

    ``variable``: the name the learner assigns (``predicted_drop``); ``question``: what is predicted.
    A number: ``low``/``high`` the range a well-formed answer lies in, ``unit`` its wording, ``close`` the
    distance counted as a good prediction, ``why`` the explanation, ``if_high``/``if_low`` what to add when the
    prediction was above/below the measurement, ``chance`` (an accuracy) the level of random guessing.
    A choice: ``options`` (lower-case strings), ``why`` the explanation,
    ``if_wrong`` ``{predicted option: what that expectation misses}``.
    The texts are English, marked with ``N_`` for the catalog; the checks show them through ``tr``.
    """
    name: str
    variable: str
    question: str
    why: str
    options: tuple = ()
    low: float = 0.0
    high: float = 1.0
    unit: str = ""
    close: float = 0.05
    if_high: str = ""
    if_low: str = ""
    if_wrong: dict = field(default_factory=dict)
    chance: float | None = None

    @property
    def kind(self) -> str:
        return "choice" if self.options else "number"


PREDICTIONS = {p.name: p for p in [
    Prediction(
        "shift_drop", "predicted_drop",
        N_("the fraction of its centred accuracy the global-pooling CNN loses on test images shifted by 1 to 3 pixels"),
        unit=N_("a fraction of the centred accuracy (0 = nothing lost, 1 = all of it)"), close=0.05,
        why=N_("every conv layer is equivariant, so a shifted garment gives shifted feature maps, and global average "
               "pooling forgets where they are; what is lost comes from the two 2 x 2 max pools (a shift by an odd "
               "number of pixels changes what they keep, section 2) and from the part of the garment the shift "
               "pushes out of the image"),
        if_high=N_("you expected more loss than a network that never saw a shifted image shows: equivariance plus "
                   "global pooling gives most of the invariance for free"),
        if_low=N_("you expected less loss: the pooling stages alias odd shifts, and the network was trained only on "
                  "centred images, so it is nearly, not exactly, invariant")),
    Prediction(
        "nopos_shuffle", "predicted_changes",
        N_("whether the ViT without position embeddings changes any answer when the 7x7 patches are shuffled"),
        options=("yes", "no"),
        why=N_("without position embeddings nothing in the ViT knows where a token came from: attention compares "
               "every token with every other, the MLP acts on each token alone, and the class token collects them "
               "by weights that move with the tokens; shuffling the patches permutes the tokens and leaves the "
               "class token's output the same, up to float32 rounding"),
        if_wrong={"yes": N_("shuffling destroys the image for a viewer, but the model without position embeddings "
                            "sees a set of tokens, not a grid: the same set in another order gives the same output")}),
    Prediction(
        "shuffle_most_hurt", "predicted_most_hurt",
        N_("which model loses the most accuracy when the 7x7 patches are shuffled"),
        options=("cnn", "vit", "vit without position embeddings"),
        why=N_("the CNN's final fully connected layer reads each feature at a fixed place of the grid, and its 3x3 "
               "filters meet new edges at every patch border, so shuffling breaks what it learned twice over; the "
               "ViT with position embeddings sees each 7x7 patch intact and uses positions only as far as it "
               "learned to; the ViT without them cannot tell the orders apart at all"),
        if_wrong={"vit": N_("the ViT does learn positions, but its 7x7 patches stay whole inside and attention can "
                            "still match them; the CNN's last layer is tied to where every feature sits"),
                  "vit without position embeddings": N_("with no position embeddings the ViT is exactly invariant to "
                                                        "the order of its patches: it loses nothing")}),
    Prediction(
        "cue_followed", "predicted_cue",
        N_("which cue the small-receptive-field CNN follows on cue-conflict images (shape of one class, texture of "
           "another)"),
        options=("shape", "texture", "neither"),
        why=N_("each unit of the last conv layer sees a window smaller than a whole shape, and global pooling "
               "averages the units: the network can recognise a texture in "
               "any small window, but a whole outline never fits in one; in training both cues were right, and the "
               "local one was the easier to learn"),
        if_wrong={"shape": N_("people answer by shape, but this network's units never see a whole outline, and in "
                              "training the texture was just as right and easier to detect locally"),
                  "neither": N_("the network does pick one cue consistently: a texture fills every small window, and "
                                "it learned to read it")}),
    Prediction(
        "rotation_90", "predicted_accuracy_90",
        N_("the test accuracy of the CNN trained on upright images, on test images turned by 90 degrees"),
        unit=N_("an accuracy (a fraction between 0 and 1; chance is 0.1)"), close=0.1,
        why=N_("a convolution shares its filters across positions, not orientations: the filters learned on upright "
               "clothes meet edges turned by 90 degrees, and the fully connected layer expects the parts of a garment "
               "at upright positions"),
        if_high=N_("you expected the CNN to cope with rotation better than it does: nothing in its layers ties a "
                   "filter to its rotated copies, and it never saw a rotated garment"),
        if_low=N_("it keeps more on turned images than you expected"), chance=0.1),
]}


def _missing(value) -> bool:
    return value is None or value is Ellipsis


def _as_number(value, p: Prediction, role: str) -> float:
    """A host float from ``value`` (a Python, NumPy or device scalar); ``ExerciseError`` naming ``role`` if not."""
    where = p.variable if role == "prediction" else tr("the measured value")
    unit = tr(p.unit)
    if isinstance(value, (bool, np.bool_)):
        raise ExerciseError(tr("{where} is {value!r}, a yes/no; {question} is a number: {unit}",
                               where=where, value=value, question=tr(p.question), unit=unit))
    if isinstance(value, str):
        raise ExerciseError(tr("{where} is the string {value!r}; write the number itself without quotes, e.g. "
                               "{variable} = 0.2 ({unit})", where=where, value=value, variable=p.variable, unit=unit))
    if isinstance(value, (list, tuple, dict, set)):
        raise ExerciseError(tr("{where} is a {kind} {value}; write one number, e.g. {variable} = 0.2 ({unit})",
                               where=where, kind=type(value).__name__, value=short(value, 50), variable=p.variable,
                               unit=unit))
    if not isinstance(value, numbers.Real):
        try:
            host = backend.to_numpy(value)
        except Exception:
            host = None
        if host is None or host.size != 1 or host.dtype.kind not in "iuf":
            raise ExerciseError(tr("{where} is a {kind} {value}; write one number, e.g. {variable} = 0.2 ({unit})",
                                   where=where, kind=type(value).__name__, value=short(value, 50),
                                   variable=p.variable, unit=unit))
        value = host.reshape(())
    number = float(value)
    if not math.isfinite(number):
        raise ExerciseError(tr("{where} is {number}; write a finite number ({unit})",
                               where=where, number=number, unit=unit))
    return number


def _check_number(p: Prediction, predicted, measured) -> str:
    guess = _as_number(predicted, p, "prediction")
    if not p.low <= guess <= p.high:
        hint = (tr("; did you mean {fraction:g} ({percent:g} %)?", fraction=guess / 100, percent=guess)
                if p.high == 1.0 and 1 < guess <= 100 else "")
        raise ExerciseError(tr("{variable} = {guess:g} is outside [{low:g}, {high:g}]: it is {unit}{hint}",
                               variable=p.variable, guess=guess, low=p.low, high=p.high, unit=tr(p.unit), hint=hint))
    value = _as_number(measured, p, "measurement")
    off = guess - value
    verdict = "close" if abs(off) <= p.close else ("too high" if off > 0 else "too low")
    verdict_text = {"close": tr("close"), "too high": tr("too high"), "too low": tr("too low")}[verdict]
    lines = [tr("prediction {guess:.3g}, measured {value:.3g}: off by {off:.3g} ({verdict}; within {close:g} "
                "counts as close)", guess=guess, value=value, off=abs(off), verdict=verdict_text, close=p.close)]
    if verdict == "too high" and p.if_high:
        lines.append(tr(p.if_high))
    elif verdict == "too low" and p.if_low:
        lines.append(tr(p.if_low))
    lines.append(tr("why: {why}", why=tr(p.why)))
    if p.chance is not None and value < p.chance / 2:
        lines.append(tr("the measurement is well below chance ({chance:g}): the answers are not random guesses, "
                        "the images are systematically taken for other classes", chance=p.chance))
    elif p.chance is not None:
        lines.append(tr("the measurement is {ratio:.3g} times chance ({chance:g})",
                        ratio=value / p.chance, chance=p.chance))
    return "\n".join(lines)


def _as_choice(value, p: Prediction, role: str) -> str:
    where = p.variable if role == "prediction" else tr("the measured value")
    options = tr(" or ").join(repr(o) for o in p.options)
    if p.options == ("yes", "no") and isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if not isinstance(value, str):
        raise ExerciseError(tr("{where} is {kind} {value}; write one of {options} (a string in quotes)",
                               where=where, kind=type(value).__name__, value=short(value, 50), options=options))
    choice = " ".join(value.strip().lower().split())
    if choice not in p.options:
        raise ExerciseError(tr("{where} is {value!r}, which is not one of the options: write one of {options}",
                               where=where, value=value, options=options))
    return choice


def _check_choice(p: Prediction, predicted, measured) -> str:
    guess = _as_choice(predicted, p, "prediction")
    value = _as_choice(measured, p, "measurement")
    if guess == value:
        lines = [tr("prediction {guess!r}, measured {value!r}: right", guess=guess, value=value)]
    else:
        lines = [tr("prediction {guess!r}, measured {value!r}: not this time", guess=guess, value=value)]
        if guess in p.if_wrong:
            lines.append(tr(p.if_wrong[guess]))
    lines.append(tr("why: {why}", why=tr(p.why)))
    return "\n".join(lines)


def check_prediction(name: str, predicted, measured) -> bool:
    """Compare the learner's prediction ``predicted`` for task ``name`` with the notebook's ``measured`` value.

    Prints how far off the prediction was and why the measurement came out so, and returns ``True``, however
    wrong the prediction. Raises :class:`ExerciseError` (with a hint) for a missing or malformed prediction, and
    ``ValueError`` for an unknown ``name``.
    """
    if name not in PREDICTIONS:
        raise ValueError(tr("no prediction task named {name!r}; the tasks are {tasks}",
                            name=name, tasks=", ".join(sorted(PREDICTIONS))))
    p = PREDICTIONS[name]
    if _missing(predicted):
        example = f"{p.variable} = 0.2" if p.kind == "number" else f"{p.variable} = {p.options[0]!r}"
        raise ExerciseError(tr("{variable} is {predicted!r}: write down your prediction first ({question}), "
                               "e.g. {example}; any reasonable guess passes, the point is to commit to one "
                               "before the measurement",
                               variable=p.variable, predicted=predicted, question=tr(p.question), example=example))
    try:  # the measurement comes from the notebook, not the learner: a bad one is the notebook's bug
        (_as_number if p.kind == "number" else _as_choice)(measured, p, "measurement")
    except ExerciseError as exc:
        raise ValueError(f"check_prediction({name!r}, ...): {exc}") from None
    report = _check_number(p, predicted, measured) if p.kind == "number" else _check_choice(p, predicted, measured)
    print(f"{name}: {report}")
    return True


def check_shift_drop_prediction(predicted_drop, measured_drop) -> bool:
    """09: the accuracy the global-pooling CNN loses on shifts of 1-3 pixels (a fraction of its centred accuracy)."""
    return check_prediction("shift_drop", predicted_drop, measured_drop)


def check_nopos_shuffle_prediction(predicted_changes, measured_changes) -> bool:
    """10: ``"yes"``/``"no"``: does the ViT without position embeddings change an answer on shuffled patches?"""
    return check_prediction("nopos_shuffle", predicted_changes, measured_changes)


def check_shuffle_most_hurt_prediction(predicted_most_hurt, measured_most_hurt) -> bool:
    """10: which of ``"cnn"``, ``"vit"``, ``"vit without position embeddings"`` loses most to shuffled patches."""
    return check_prediction("shuffle_most_hurt", predicted_most_hurt, measured_most_hurt)


def check_cue_prediction(predicted_cue, measured_cue) -> bool:
    """11: ``"shape"``, ``"texture"`` or ``"neither"``: the cue the small CNN follows on cue-conflict images."""
    return check_prediction("cue_followed", predicted_cue, measured_cue)


def check_rotation_prediction(predicted_accuracy_90, measured_accuracy_90) -> bool:
    """11: the upright-trained CNN's test accuracy on images turned by 90 degrees."""
    return check_prediction("rotation_90", predicted_accuracy_90, measured_accuracy_90)


__all__ = ["PREDICTIONS", "Prediction", "check_prediction", "check_shift_drop_prediction",
           "check_nopos_shuffle_prediction", "check_shuffle_most_hurt_prediction", "check_cue_prediction",
           "check_rotation_prediction"]
